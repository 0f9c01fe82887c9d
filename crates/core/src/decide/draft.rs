//! A command being decided: a working copy of the member with the events so far folded on,
//! and the checks every recorded event passes.

use super::*;
use crate::error::Rejection;
use crate::event::EventBody;
use crate::events::*;

/// A command being decided: a working copy of the state with the events so far folded on.
pub(super) struct Draft<'a> {
    pub(super) cmd: &'a Command,
    /// A late command's own time (its `cmd` then carries the member's current point).
    pub(super) occurred_at: Option<Timestamp>,
    pub(super) policy_version: u32,
    pub(super) state: MemberState,
    pub(super) events: Vec<Event>,
    /// The card directory, when the caller gave one (linking checks it).
    pub(super) cards: Option<&'a crate::cards::CardDirectory>,
    /// The ledger's card key, for a policy that records cards as hashes.
    pub(super) card_key: Option<&'a [u8]>,
    /// The card the command names, in its recorded form, once checked.
    pub(super) card: Option<String>,
}

impl Draft<'_> {
    /// Records an event and folds it onto the working state, so later rules of the same
    /// command see its effect (a recharge's tier upgrade sees the recharge).
    ///
    /// Refused with `limit_exceeded`, recording nothing, when the event or the member's running
    /// totals after it would pass what an event may record (`crate::bounds`), or the member's
    /// lot numbers or stream version would run out.
    pub(super) fn record(&mut self, body: EventBody) -> Result<(), Rejection> {
        let limit = Rejection::LimitExceeded;
        self.check_room(&body)?;
        let member = &self.cmd.member;
        let version = self
            .state
            .version
            .checked_add(1)
            .ok_or_else(|| limit(format!("member {member}'s stream is at its last version")))?;
        let index = u32::try_from(self.events.len())
            .map_err(|_| limit("a command records too many events".into()))?;
        let mut event = envelope(self.cmd, (index, version), self.policy_version, body);
        event.occurred_at = self.occurred_at;
        let before = self.state.totals();
        if let Err(e) = self.state.apply(&event) {
            panic!("decide produced an event that does not fold: {e}");
        }
        self.state
            .totals()
            .check_growth(&before, member.as_str())
            .map_err(limit)?;
        // Assertions in pairs: the entry balances here, before it is written, and `verify`
        // checks it again after it is read back.
        if let Err(e) = crate::books::check_balanced(&crate::books::postings(&event)) {
            panic!("decide produced an unbalanced event: {e}");
        }
        self.events.push(event);
        Ok(())
    }

    /// What an event needs before it folds: its figures within the bounds, a lot number to
    /// open (at most two per event: a package refunded to the balance), and room in the
    /// member's table of origin stores for a lot from a new store.
    pub(super) fn check_room(&self, body: &EventBody) -> Result<(), Rejection> {
        let limit = Rejection::LimitExceeded;
        let member = &self.cmd.member;
        crate::bounds::check_event(body)
            .map_err(|why| limit(format!("{}: {why}", body.type_name())))?;
        if self.state.next_lot > u32::MAX - 2 {
            return Err(limit(format!(
                "member {member} has used every lot number (the last is {})",
                u32::MAX
            )));
        }
        let origin = match body {
            EventBody::PackageRefunded(PackageRefunded { origin_store, .. }) => Some(origin_store),
            EventBody::Recharged { .. }
            | EventBody::BonusGranted { .. }
            | EventBody::Adjusted { .. } => Some(&self.cmd.store),
            _ => None,
        };
        if origin.is_some_and(|s| !self.state.can_hold_lots_from(s)) {
            return Err(limit(format!(
                "member {member} already holds lots from {} stores besides its home store, the most a member's lots may come from",
                u16::MAX
            )));
        }
        Ok(())
    }

    pub(super) fn next_lot(&self) -> u32 {
        self.state.next_lot
    }
}
