//! Holds: money authorized for a store before a service, captured after it (at the final
//! price, split by the spend order then) or voided, and released when it lapses. Held money
//! is not available: consumptions, package purchases from the balance, debits and other holds
//! see only `principal + bonus - held`. Nothing is booked until a capture, whose `consumed`
//! event books exactly what a consumption books.

use uuid::Uuid;

use super::draft::Draft;
use crate::command::{Action, HOLD_EXPIRY_DAYS};
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;
use crate::id::StaffId;
use crate::member::Hold;
use crate::money::Money;
use crate::policy::Policy;
use crate::time::Timestamp;

impl Draft<'_> {
    /// Refuses spending `amount` beyond what is available (the balance less open holds).
    pub(super) fn check_available(&self, amount: Money, what: &str) -> Result<(), Rejection> {
        let available = self.state.available();
        if amount > available {
            return Err(Rejection::InsufficientBalance(format!(
                "{what} {amount} exceeds the available balance {available} (principal {}, bonus {}, held {})",
                self.state.principal(),
                self.state.bonus(),
                self.state.held()
            )));
        }
        Ok(())
    }

    /// The hold commands.
    pub(super) fn hold_action(&mut self, policy: &Policy) -> Result<(), Rejection> {
        match &self.cmd.action {
            Action::Authorize { amount, expires_at } => self.authorize(*amount, *expires_at),
            Action::Capture {
                hold,
                amount,
                staff,
                service,
            } => self.capture(*hold, *amount, (staff.as_ref(), service.as_ref()), policy),
            Action::Void { hold, reason } => self.void(*hold, reason.as_deref()),
            _ => Err(Rejection::InvalidCommand(format!(
                "{} is not a hold command",
                self.cmd.action.type_name()
            ))),
        }
    }

    pub(super) fn authorize(
        &mut self,
        amount: Money,
        expires_at: Option<Timestamp>,
    ) -> Result<(), Rejection> {
        // A late command (an offline terminal's) takes effect at the member's current point:
        // a hold that would lapse by then holds nothing.
        if let Some(e) = expires_at.filter(|e| *e <= self.cmd.at) {
            return Err(Rejection::InvalidCommand(format!(
                "the hold would expire at {e}, not after the time it takes effect ({})",
                self.cmd.at
            )));
        }
        self.check_available(amount, "hold")?;
        let expires_at = expires_at.unwrap_or_else(|| self.cmd.at.plus_days(HOLD_EXPIRY_DAYS));
        self.record(EventBody::HoldAuthorized(HoldAuthorized {
            amount,
            expires_at,
            hold: self.cmd.id,
        }))
    }

    /// The open hold a capture or void names (`unknown_hold` otherwise: never authorized,
    /// already captured, voided or expired, or another member's).
    fn open_hold(&self, hold: Uuid) -> Result<Hold, Rejection> {
        self.state.hold(hold).cloned().ok_or_else(|| {
            Rejection::UnknownHold(format!(
                "member {} has no open hold {hold} (never authorized, or captured, voided or expired)",
                self.cmd.member
            ))
        })
    }

    /// A capture: the hold is closed (`hold_captured`), then the charge is decided and
    /// recorded exactly as a consumption at the same price (`consumed`, known by this
    /// command's id, refundable like any consumption).
    pub(super) fn capture(
        &mut self,
        hold: Uuid,
        price: Money,
        (staff, service): (Option<&StaffId>, Option<&String>),
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let h = self.open_hold(hold)?;
        let charged = self.charge_of(price, policy)?;
        if charged > h.amount {
            return Err(Rejection::CaptureExceedsHold(format!(
                "the charge {charged} (price {price} at the tier's discount) exceeds hold {hold}'s {}",
                h.amount
            )));
        }
        self.record(EventBody::HoldCaptured(HoldCaptured {
            amount: h.amount,
            captured: charged,
            hold,
            released: h.amount.minus(charged),
        }))?;
        self.consume(price, (staff, service), (None, None), policy)
    }

    pub(super) fn void(&mut self, hold: Uuid, reason: Option<&str>) -> Result<(), Rejection> {
        let h = self.open_hold(hold)?;
        self.record(EventBody::HoldVoided(HoldVoided {
            amount: h.amount,
            hold,
            reason: reason.map(str::to_owned),
        }))
    }

    /// Every hold whose expiry is at or before the command's time lapses (part of the
    /// expiries every member command records first).
    pub(super) fn expire_holds(&mut self) -> Result<(), Rejection> {
        let at = self.cmd.at;
        let due: Vec<Hold> = self
            .state
            .holds()
            .into_iter()
            .filter(|h| h.expires_at <= at)
            .collect();
        for h in due {
            self.record(EventBody::HoldExpired(HoldExpired {
                amount: h.amount,
                expires_at: h.expires_at,
                hold: h.hold,
            }))?;
        }
        Ok(())
    }

    /// A balance refund pays out everything: refused while holds are open.
    pub(super) fn no_open_holds(&self) -> Result<(), Rejection> {
        let held = self.state.held();
        if held.is_positive() {
            return Err(Rejection::HoldsOpen(format!(
                "member {} has {held} held by open holds: capture or void them first",
                self.cmd.member
            )));
        }
        Ok(())
    }
}
