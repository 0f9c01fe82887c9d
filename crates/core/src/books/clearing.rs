//! Inter-store clearing: what each store owes each other store, folded from the postings of
//! every event, and the `settle` command decided against it.

use std::collections::{hash_map, BTreeMap, HashMap};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    #[serde(serialize_with = "sorted", deserialize_with = "unsorted")]
    owed: Pairs<i128>,
    /// The time of the latest inter-store movement between two stores (the pair in order).
    #[serde(serialize_with = "sorted", deserialize_with = "unsorted")]
    moved_at: Pairs<Timestamp>,
}

/// A figure for each pair of stores, found by hashing: the clearing folds an event's
/// inter-store postings into it in order, one lookup a posting, where an ordered map compared
/// store ids a dozen times a lookup (a chain of 50 stores has 2,450 pairs). Encoded in the
/// pairs' order, as an ordered map is, so its bytes do not depend on the hashing.
type Pairs<V> = HashMap<(StoreId, StoreId), V, ahash::RandomState>;

/// Encodes `pairs` as a map in the order of its keys.
fn sorted<V: Serialize, S: Serializer>(pairs: &Pairs<V>, s: S) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<_> = pairs.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    s.collect_map(entries)
}

/// Decodes what [`sorted`] encodes (any order is taken).
fn unsorted<'de, V: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Pairs<V>, D::Error> {
    BTreeMap::<(StoreId, StoreId), V>::deserialize(d).map(|m| m.into_iter().collect())
}

impl Clearing {
    /// Folds the postings of an event at `at`: any inter-store posting moves what one store
    /// owes another, and is the pair's latest movement if none is later.
    pub fn fold_postings(&mut self, at: Timestamp, postings: &[Posting]) {
        for p in postings {
            if let Account::InterStorePayable { debtor, creditor } = &p.account {
                let cents = i128::from(p.cents);
                match self.owed.entry((debtor.clone(), creditor.clone())) {
                    hash_map::Entry::Occupied(mut owed) => {
                        *owed.get_mut() -= cents;
                        if *owed.get() == 0 {
                            owed.remove();
                        }
                    }
                    hash_map::Entry::Vacant(owed) => {
                        if cents != 0 {
                            owed.insert(-cents);
                        }
                    }
                }
                let pair = if debtor <= creditor {
                    (debtor.clone(), creditor.clone())
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
        let mut debts: Vec<_> = self
            .owed
            .keys()
            .filter_map(|(d, c)| {
                let net = self.outstanding(d, c);
                net.is_positive().then(|| (d.clone(), c.clone(), net))
            })
            .collect();
        debts.sort_unstable_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        debts
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The clearing as it was kept before its pairs were hashed: ordered maps, folded the
    /// same way. Its encoding is what every checkpoint written so far holds.
    #[derive(Default, serde::Serialize)]
    struct Ordered {
        version: u64,
        last_at: Option<Timestamp>,
        owed: BTreeMap<(StoreId, StoreId), i128>,
        moved_at: BTreeMap<(StoreId, StoreId), Timestamp>,
    }

    impl Ordered {
        fn fold(&mut self, at: Timestamp, debtor: &StoreId, creditor: &StoreId, cents: i64) {
            let k = (debtor.clone(), creditor.clone());
            let v = self.owed.entry(k.clone()).or_default();
            *v -= i128::from(cents);
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

    fn cbor(value: &impl Serialize) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).unwrap();
        bytes
    }

    proptest! {
        /// Folded from the same postings, the hashed clearing encodes to the ordered maps'
        /// bytes (whatever its hashing's order), decodes back to itself, and answers debts
        /// and latest movements as they do.
        #[test]
        fn hashed_pairs_encode_and_answer_as_ordered_maps_do(
            postings in prop::collection::vec((0u8..5, 0u8..5, -500i64..500, 0u32..100_000), 0..80)
        ) {
            let store = |n: u8| StoreId::new(format!("S{n}")).unwrap();
            let base: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
            let (mut hashed, mut again, mut ordered) =
                (Clearing::default(), Clearing::default(), Ordered::default());
            for &(d, c, cents, minute) in &postings {
                let at = Timestamp::from_datetime(
                    base.as_datetime() + chrono::Duration::minutes(i64::from(minute)),
                )
                .unwrap();
                let (debtor, creditor) = (store(d), store(c));
                let posting = Posting {
                    account: Account::InterStorePayable {
                        debtor: debtor.clone(),
                        creditor: creditor.clone(),
                    },
                    cents,
                };
                hashed.fold_postings(at, std::slice::from_ref(&posting));
                again.fold_postings(at, std::slice::from_ref(&posting));
                ordered.fold(at, &debtor, &creditor, cents);
            }
            let bytes = cbor(&hashed);
            prop_assert_eq!(&bytes, &cbor(&ordered));
            prop_assert_eq!(&bytes, &cbor(&again));
            let decoded: Clearing = ciborium::from_reader(&bytes[..]).unwrap();
            prop_assert_eq!(&decoded, &hashed);
            let expected: Vec<_> = ordered
                .owed
                .keys()
                .filter_map(|(d, c)| {
                    let net = ordered.owed.get(&(d.clone(), c.clone())).copied().unwrap_or(0)
                        - ordered.owed.get(&(c.clone(), d.clone())).copied().unwrap_or(0);
                    (net > 0).then(|| {
                        (d.clone(), c.clone(), Money::from_cents(i64::try_from(net).unwrap()))
                    })
                })
                .collect();
            prop_assert_eq!(hashed.debts(), expected);
            for a in 0..5 {
                for b in 0..5 {
                    let pair = if a <= b { (store(a), store(b)) } else { (store(b), store(a)) };
                    prop_assert_eq!(
                        hashed.last_movement(&store(a), &store(b)),
                        ordered.moved_at.get(&pair).copied()
                    );
                }
            }
        }
    }
}
