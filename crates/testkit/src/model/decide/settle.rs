//! Settlements between stores: what one store pays another of what it owes.

use super::super::spec::{Kind, Spec};
use super::super::{Change, Model};
use super::Outcome;

impl Model {
    /// A settlement pays what `store` owes `to` (all of it by default), never more, never
    /// dated before the last settlement or the pair's last movement.
    pub(crate) fn settle(&self, spec: &Spec) -> Outcome {
        let Kind::Settle { to, cents } = &spec.kind else {
            return Err("invalid_command");
        };
        if *to == spec.store {
            return Err("invalid_command");
        }
        if self.settled_at.is_some_and(|t| spec.at < t) {
            return Err("out_of_order");
        }
        // Never dated before the pair's last movement (issue 11, item 8).
        let pair = if spec.store < *to {
            (spec.store.clone(), to.clone())
        } else {
            (to.clone(), spec.store.clone())
        };
        if self.moved_at.get(&pair).is_some_and(|t| spec.at < *t) {
            return Err("out_of_order");
        }
        let owed = self.owed(&spec.store, to);
        let amount = cents.unwrap_or(owed);
        if amount == 0 || amount > owed {
            return Err("settlement_exceeds_owed");
        }
        Ok((
            Change {
                member: None,
                debts: vec![(spec.store.clone(), to.clone(), -amount)],
                at: spec.at,
                settled_at: Some(spec.at),
                consumed: false,
                closes: None,
            },
            1,
        ))
    }
}
