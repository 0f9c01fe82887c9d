//! Inter-store clearing: what each store owes each other store, folded from the postings of
//! every event, and the `settle` command decided against it.

use std::collections::BTreeMap;

use crate::books::{Account, Posting};
use crate::event::{Event, EventBody};
use crate::id::StoreId;
use crate::member::FoldError;
use crate::money::Money;
use crate::time::Timestamp;

/// What stores owe each other, and the settlements stream's position.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    pub(crate) fn net(&self, debtor: &StoreId, creditor: &StoreId) -> i128 {
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
