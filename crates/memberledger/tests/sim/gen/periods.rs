//! Closed periods: now and then headquarters closes the periods through a recent time (after
//! a filing), sometimes through one already closed; and now and then a command comes dated
//! at or before the close (a terminal that was offline, a correction of a filed quarter),
//! which must be refused (`period_closed`) and record nothing, whatever it is.

use super::super::driver::{Sim, EPOCH};
use super::super::model::{Bal, Kind, Spec, DAY};

impl Sim {
    /// A close (1 % of single commands) or, once a period is closed, a command dated in it
    /// (5 %); otherwise nothing.
    pub(super) fn gen_period(&mut self) -> Option<Spec> {
        let at = self.clock;
        let closed = self.model.closed_through;
        if self.rng.chance(10) {
            let after = closed.map_or(EPOCH, |t| t + 1);
            let through = if closed.is_some() && self.rng.chance(100) {
                closed.unwrap_or(at) // already closed: refused
            } else if after <= at {
                self.rng.range(after.max(at - 40 * DAY), at)
            } else {
                return None;
            };
            return Some(Spec {
                id: self.new_id(),
                at,
                member: None,
                store: "HQ".to_owned(),
                kind: Kind::ClosePeriod { through },
            });
        }
        let t = closed?;
        if !self.rng.chance(50) {
            return None;
        }
        let late = self.rng.range((t - 30 * DAY).max(EPOCH), t);
        let member = self.members[self.rng.index(self.members.len())].clone();
        let store = self.store();
        let kind = match self.rng.below(4) {
            0 => Kind::Recharge {
                cents: self.rng.range(1, 200_000),
                staff: None,
            },
            1 => Kind::Consume {
                cents: self.rng.range(1, 50_000),
                staff: None,
                service: None,
                external: None,
            },
            2 => Kind::Adjust {
                balance: Bal::Principal,
                credit: self.rng.chance(500),
                qty: self.rng.range(1, 10_000),
                reason: "correction of a filed quarter".to_owned(),
                operator: "HQ1".to_owned(),
            },
            _ => Kind::Enroll { tier: None },
        };
        Some(Spec {
            id: self.new_id(),
            at: late,
            member: Some(member),
            store,
            kind,
        })
    }
}
