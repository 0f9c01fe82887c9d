//! Cards and holds, as docs/RULES.md says: a card belongs to one member at a time; a lost or
//! replaced card is refused; held money is not available; a capture charges at most what is
//! held, as a consumption at the tier's discount, and releases the rest.

use std::collections::BTreeMap;
use std::sync::Arc;

use memberledger::Uuid;

use super::super::member::{CardState, Held, Member};
use super::super::policy::{half_up, DAY, TIERS};
use super::super::spec::Kind;
use super::Draft;

/// Days a hold lives when `authorize` gives no expiry.
const HOLD_DAYS: i64 = 7;

impl Draft<'_> {
    /// The card commands: the card's standing first, then the change.
    pub(crate) fn card(
        &mut self,
        members: &BTreeMap<String, Arc<Member>>,
    ) -> Result<(), &'static str> {
        let me = self.spec.member.clone().unwrap_or_default();
        let in_use = |card: &str, w: &Member| {
            w.cards.contains_key(card)
                || members
                    .iter()
                    .any(|(id, m)| *id != me && m.cards.contains_key(card))
        };
        match &self.spec.kind {
            Kind::LinkCard { card } => {
                if in_use(card, &self.w) {
                    return Err("card_in_use");
                }
                self.w.cards.insert(card.clone(), CardState::Active);
            }
            Kind::ReportLost { card } => {
                self.standing(card)?;
                self.w.cards.insert(card.clone(), CardState::Lost);
            }
            Kind::ReplaceCard { card, new_card } => {
                match self.w.cards.get(card) {
                    None => return Err("card_not_linked"),
                    Some(CardState::Replaced) => return Err("card_replaced"),
                    Some(_) => {}
                }
                if in_use(new_card, &self.w) {
                    return Err("card_in_use");
                }
                self.w.cards.insert(card.clone(), CardState::Replaced);
                self.w.cards.insert(new_card.clone(), CardState::Active);
            }
            Kind::UnlinkCard { card } => {
                self.w.cards.remove(card).ok_or("card_not_linked")?;
            }
            _ => return Err("invalid_command"),
        }
        Ok(())
    }

    /// An active card of the member, or why it is refused.
    fn standing(&self, card: &str) -> Result<(), &'static str> {
        match self.w.cards.get(card) {
            None => Err("card_not_linked"),
            Some(CardState::Lost) => Err("card_lost"),
            Some(CardState::Replaced) => Err("card_replaced"),
            Some(CardState::Active) => Ok(()),
        }
    }

    pub(crate) fn authorize(
        &mut self,
        cents: i64,
        expires: Option<i64>,
    ) -> Result<(), &'static str> {
        if expires.is_some_and(|e| e <= self.at()) {
            return Err("invalid_command");
        }
        if cents > self.w.available() {
            return Err("insufficient_balance");
        }
        let expires = expires.unwrap_or(self.at() + HOLD_DAYS * DAY);
        self.w.holds.insert(self.spec.id, Held { cents, expires });
        Ok(())
    }

    /// A capture: the hold closes (one event), then a consumption at list price `cents`.
    pub(crate) fn capture(&mut self, hold: Uuid, cents: i64, seq: u64) -> Result<(), &'static str> {
        let held = self.w.holds.get(&hold).ok_or("unknown_hold")?.cents;
        let charged = half_up(
            i128::from(cents) * i128::from(TIERS[self.w.tier].discount),
            100,
        );
        if charged == 0 {
            return Err("invalid_amount");
        }
        if charged > held {
            return Err("capture_exceeds_hold");
        }
        self.w.holds.remove(&hold);
        self.events += 1;
        self.consume(cents, seq)
    }

    pub(crate) fn void(&mut self, hold: Uuid) -> Result<(), &'static str> {
        self.w.holds.remove(&hold).ok_or("unknown_hold")?;
        Ok(())
    }
}
