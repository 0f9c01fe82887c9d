//! Inter-store clearing: what each store owes each other store, folded from the postings of
//! every event, and the `settle` command decided against it.

use std::collections::BTreeMap;

use crate::books::{Account, Posting};
use crate::command::{Action, Command};
use crate::decide::envelope;
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::id::StoreId;
use crate::money::Money;
use crate::state::FoldError;
use crate::time::Timestamp;

/// What stores owe each other, and the settlements stream's position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clearing {
    /// Events in the settlements stream.
    pub version: u64,
    /// The time of the last settlement.
    pub last_at: Option<Timestamp>,
    /// Outstanding cents by (debtor, creditor).
    owed: BTreeMap<(StoreId, StoreId), i64>,
}

impl Clearing {
    /// Folds an event's postings: any inter-store posting moves what one store owes another.
    pub fn fold_postings(&mut self, postings: &[Posting]) {
        for p in postings {
            if let Account::InterStorePayable { debtor, creditor } = &p.account {
                let k = (debtor.clone(), creditor.clone());
                let v = self.owed.entry(k.clone()).or_default();
                *v -= p.cents;
                if *v == 0 {
                    self.owed.remove(&k);
                }
            }
        }
    }

    /// Folds an event of the settlements stream (its postings are folded separately, like
    /// every event's).
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        let bad = |why: String| FoldError {
            member: event.member.to_string(),
            version: event.version,
            event_type: event.body.type_name(),
            why,
        };
        if !matches!(event.body, EventBody::Settled { .. }) || event.member.is_member() {
            return Err(bad(
                "only settlements belong to the settlements stream".into()
            ));
        }
        if event.version != self.version + 1 {
            return Err(bad(format!("expected version {}", self.version + 1)));
        }
        if self.last_at.is_some_and(|t| event.at < t) {
            return Err(bad("time goes back".into()));
        }
        self.version = event.version;
        self.last_at = Some(event.at);
        Ok(())
    }

    /// What `debtor` owes `creditor` now, net of what `creditor` owes `debtor`.
    pub fn outstanding(&self, debtor: &StoreId, creditor: &StoreId) -> Money {
        let raw =
            |d: &StoreId, c: &StoreId| self.owed.get(&(d.clone(), c.clone())).copied().unwrap_or(0);
        Money::from_cents((raw(debtor, creditor) - raw(creditor, debtor)).max(0))
    }

    /// Every pair of stores where one owes the other on the net: (debtor, creditor, amount).
    pub fn debts(&self) -> Vec<(StoreId, StoreId, Money)> {
        self.owed
            .keys()
            .filter_map(|(d, c)| {
                let net = self.outstanding(d, c);
                net.is_positive().then(|| (d.clone(), c.clone(), net))
            })
            .collect()
    }
}

/// Decides a `settle`: the command's store pays `to` all it owes it, or the amount given, which
/// may not exceed it. The event names the policy version in force.
pub fn decide_settlement(
    clearing: &Clearing,
    cmd: &Command,
    policy_version: u32,
) -> Result<Vec<Event>, Rejection> {
    let Action::Settle { to, amount } = &cmd.action else {
        return Err(Rejection::InvalidCommand(format!(
            "{} is not a settlement",
            cmd.action.type_name()
        )));
    };
    if *to == cmd.store {
        return Err(Rejection::InvalidCommand(
            "a store cannot settle with itself".into(),
        ));
    }
    if clearing.last_at.is_some_and(|t| cmd.at < t) {
        return Err(Rejection::OutOfOrder(format!(
            "command time {} is before the last settlement at {}",
            cmd.at,
            clearing.last_at.expect("checked")
        )));
    }
    let owed = clearing.outstanding(&cmd.store, to);
    let amount = amount.unwrap_or(owed);
    if amount > owed || amount.is_zero() {
        return Err(Rejection::SettlementExceedsOwed(format!(
            "store {} owes store {to} {owed}; it cannot settle {amount}",
            cmd.store
        )));
    }
    Ok(vec![envelope(
        cmd,
        (0, clearing.version + 1),
        policy_version,
        EventBody::Settled {
            amount,
            creditor: to.clone(),
        },
    )])
}
