//! Inter-store clearing: what each store owes each other store, folded from the postings of
//! every event, and the `settle` command decided against it.

use std::collections::BTreeMap;

use crate::books::{Account, Posting};
use crate::command::{Action, Command};
use crate::decide::envelope;
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::events::*;
use crate::id::StoreId;
use crate::member::FoldError;
use crate::money::Money;
use crate::time::Timestamp;

/// What stores owe each other, and the settlements stream's position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clearing {
    /// Events in the settlements stream.
    pub version: u64,
    /// The time of the last settlement.
    pub last_at: Option<Timestamp>,
    /// Outstanding cents by (debtor, creditor), in `i128`: any number of members' figures,
    /// each within the recorded bound, sum without overflow.
    owed: BTreeMap<(StoreId, StoreId), i128>,
    /// The time of the latest inter-store movement between two stores (the pair in order).
    moved_at: BTreeMap<(StoreId, StoreId), Timestamp>,
}

impl Clearing {
    /// Folds the postings of an event at `at`: any inter-store posting moves what one store
    /// owes another, and is the pair's latest movement if none is later.
    pub fn fold_postings(&mut self, at: Timestamp, postings: &[Posting]) {
        for p in postings {
            if let Account::InterStorePayable { debtor, creditor } = &p.account {
                let k = (debtor.clone(), creditor.clone());
                let v = self.owed.entry(k.clone()).or_default();
                *v -= i128::from(p.cents);
                if *v == 0 {
                    self.owed.remove(&k);
                }
                let pair = if debtor <= creditor {
                    k
                } else {
                    (creditor.clone(), debtor.clone())
                };
                let latest = self.moved_at.entry(pair).or_insert(at);
                *latest = (*latest).max(at);
            }
        }
    }

    /// The time of the latest inter-store movement between two stores, either way.
    pub fn last_movement(&self, a: &StoreId, b: &StoreId) -> Option<Timestamp> {
        let pair = if a <= b {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        self.moved_at.get(&pair).copied()
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

    /// What `debtor` owes `creditor` now, net of what `creditor` owes `debtor` (saturating at
    /// `i64::MAX` cents, far beyond anything one settlement may record).
    pub fn outstanding(&self, debtor: &StoreId, creditor: &StoreId) -> Money {
        let net = self.net(debtor, creditor);
        Money::from_cents(i64::try_from(net).unwrap_or(i64::MAX))
    }

    /// [`outstanding`](Self::outstanding) in exact cents.
    fn net(&self, debtor: &StoreId, creditor: &StoreId) -> i128 {
        let raw =
            |d: &StoreId, c: &StoreId| self.owed.get(&(d.clone(), c.clone())).copied().unwrap_or(0);
        (raw(debtor, creditor) - raw(creditor, debtor)).max(0)
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
    cmd.validate()?;
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
    if let Some(t) = clearing
        .last_movement(&cmd.store, to)
        .filter(|t| cmd.at < *t)
    {
        return Err(Rejection::OutOfOrder(format!(
            "a settlement between stores {} and {to} cannot be dated {}: their last inter-store movement is at {t}, and a settlement dated before the debt it pays would show more settled than owed as of that date; date it at or after {t}",
            cmd.store, cmd.at
        )));
    }
    let owed = clearing.net(&cmd.store, to);
    if owed == 0 {
        return Err(Rejection::SettlementExceedsOwed(format!(
            "store {} owes store {to} nothing: there is nothing to settle",
            cmd.store
        )));
    }
    let amount = match *amount {
        Some(a) if i128::from(a.cents()) > owed => {
            return Err(Rejection::SettlementExceedsOwed(format!(
                "store {} owes store {to} {}; it cannot settle {a}",
                cmd.store,
                clearing.outstanding(&cmd.store, to)
            )))
        }
        Some(a) => a,
        None => Money::from_cents(
            i64::try_from(owed)
                .ok()
                .filter(|c| crate::bounds::money_recordable(*c))
                .ok_or_else(|| {
                    Rejection::LimitExceeded(format!(
                        "store {} owes store {to} more than one settlement may record ({}); settle it in parts by giving an amount",
                        cmd.store,
                        crate::bounds::RECORDED_MAX
                    ))
                })?,
        ),
    };
    let version = clearing.version.checked_add(1).ok_or_else(|| {
        Rejection::LimitExceeded("the settlements stream is at its last version".into())
    })?;
    Ok(vec![envelope(
        cmd,
        (0, version),
        policy_version,
        EventBody::Settled(Settled {
            amount,
            creditor: to.clone(),
        }),
    )])
}
