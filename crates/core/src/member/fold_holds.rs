//! A member's holds: money authorized for a store and not yet captured, voided or expired.
//! Held money is not available: `available = principal + bonus - held`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::event::Event;
use crate::events::*;
use crate::id::StoreId;
use crate::money::Money;
use crate::time::Timestamp;

use super::MemberState;

/// An open hold, as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hold {
    /// Its id: the authorize command's id.
    pub hold: Uuid,
    /// Held.
    pub amount: Money,
    /// The store it was authorized for.
    pub store: StoreId,
    /// When it lapses.
    pub expires_at: Timestamp,
}

impl MemberState {
    /// Open holds, by id.
    pub fn holds(&self) -> Vec<Hold> {
        self.rare
            .as_ref()
            .map_or_else(Vec::new, |r| r.holds.values().cloned().collect())
    }

    /// An open hold.
    pub fn hold(&self, hold: Uuid) -> Option<&Hold> {
        self.rare.as_ref().and_then(|r| r.holds.get(&hold))
    }

    /// Money held by open holds (saturating like [`principal`](Self::principal)).
    pub fn held(&self) -> Money {
        let sum: i128 = self.rare.as_ref().map_or(0, |r| {
            r.holds.values().map(|h| i128::from(h.amount.cents())).sum()
        });
        Money::from_cents(i64::try_from(sum).unwrap_or(i64::MAX))
    }

    /// What may be spent: principal + bonus - held, never below zero (a bonus lot may expire
    /// while a hold is open; a capture is then limited by the balance).
    pub fn available(&self) -> Money {
        self.principal()
            .plus(self.bonus())
            .minus(self.held())
            .max(Money::ZERO)
    }

    /// The earliest expiry of an open hold.
    pub(super) fn next_hold_expiry(&self) -> Option<Timestamp> {
        self.rare
            .as_ref()
            .and_then(|r| r.holds.values().map(|h| h.expires_at).min())
    }

    pub(super) fn fold_hold_authorized(
        &mut self,
        event: &Event,
        b: &HoldAuthorized,
    ) -> Result<(), String> {
        if b.hold != event.command || self.hold(b.hold).is_some() {
            return Err(format!("hold {} is not a new hold of this command", b.hold));
        }
        if b.expires_at <= event.at || !b.amount.is_positive() {
            return Err(format!("hold {} holds nothing or expires at once", b.hold));
        }
        self.rare_mut().holds.insert(
            b.hold,
            Hold {
                hold: b.hold,
                amount: b.amount,
                store: event.store.clone(),
                expires_at: b.expires_at,
            },
        );
        Ok(())
    }

    /// Closes an open hold that held `amount`.
    fn close_hold(&mut self, hold: Uuid, amount: Money) -> Result<Hold, String> {
        match self.hold(hold) {
            Some(h) if h.amount == amount => {}
            Some(h) => return Err(format!("hold {hold} holds {}, not {amount}", h.amount)),
            None => return Err(format!("no open hold {hold}")),
        }
        let h = self.rare_mut().holds.remove(&hold).expect("checked above");
        self.tidy_rare();
        Ok(h)
    }

    pub(super) fn fold_hold_captured(&mut self, b: &HoldCaptured) -> Result<(), String> {
        if b.captured.plus(b.released) != b.amount || b.captured > b.amount {
            return Err("captured + released != amount".into());
        }
        self.close_hold(b.hold, b.amount).map(|_| ())
    }

    pub(super) fn fold_hold_voided(&mut self, b: &HoldVoided) -> Result<(), String> {
        self.close_hold(b.hold, b.amount).map(|_| ())
    }

    pub(super) fn fold_hold_expired(
        &mut self,
        event: &Event,
        b: &HoldExpired,
    ) -> Result<(), String> {
        match self.hold(b.hold) {
            Some(h) if h.expires_at == b.expires_at && b.expires_at <= event.at => {}
            _ => return Err(format!("hold {} does not expire as recorded", b.hold)),
        }
        self.close_hold(b.hold, b.amount).map(|_| ())
    }
}
