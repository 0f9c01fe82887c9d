//! Dormant stored value (沉淀资金): balances members have not touched for a long time, by
//! the store that holds them.

use std::collections::BTreeMap;

use memberledger::{StoreId, Timestamp};
use serde::Serialize;

use super::days_between;
use crate::Projections;

/// One store's dormant stored value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DormantStore {
    /// The store that holds the value (took the cash or granted the credit).
    pub store: StoreId,
    /// Dormant members holding value here.
    pub members: u64,
    /// The value they hold here.
    #[serde(serialize_with = "crate::cents::ser")]
    pub dormant: i128,
    /// All stored value held here.
    #[serde(serialize_with = "crate::cents::ser")]
    pub held: i128,
    /// `dormant ÷ held` in basis points (0 when nothing is held).
    pub share_bp: i128,
}

/// The dormant report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dormant {
    /// The time it speaks of.
    pub now: Timestamp,
    /// Days without activity that make a balance dormant.
    pub days: u32,
    /// Members with dormant value.
    pub members: u64,
    /// Dormant value in all.
    #[serde(serialize_with = "crate::cents::ser")]
    pub dormant: i128,
    /// Stored value held in all.
    #[serde(serialize_with = "crate::cents::ser")]
    pub held: i128,
    /// By store, by store id.
    pub stores: Vec<DormantStore>,
    /// The most whole days any member holding stored value has gone without activity (0 when
    /// none holds any): how far the line is from catching someone.
    pub longest_idle_days: u64,
}

/// Stored value of members whose last activity (enrollment, recharge, service, purchase or
/// refund) is at least `days` before `now`, by the store that holds it.
#[must_use]
pub fn dormant(p: &Projections, now: Timestamp, days: u32) -> Dormant {
    let mut stores: BTreeMap<StoreId, DormantStore> = BTreeMap::new();
    let mut members = 0;
    let mut longest_idle_days = 0;
    for m in p.members().values() {
        let idle_days = m.last_active.map_or(0, |t| days_between(t, now));
        if !m.held.is_empty() {
            longest_idle_days = longest_idle_days.max(idle_days);
        }
        let idle = m.last_active.is_some() && idle_days >= u64::from(days);
        let mut counted = false;
        for (store, &cents) in &m.held {
            let s = stores.entry(store.clone()).or_insert_with(|| DormantStore {
                store: store.clone(),
                members: 0,
                dormant: 0,
                held: 0,
                share_bp: 0,
            });
            s.held += cents;
            if idle && cents != 0 {
                s.dormant += cents;
                s.members += 1;
                counted = true;
            }
        }
        members += u64::from(counted);
    }
    let stores: Vec<DormantStore> = stores
        .into_values()
        .map(|mut s| {
            s.share_bp = if s.held > 0 {
                s.dormant * 10_000 / s.held
            } else {
                0
            };
            s
        })
        .collect();
    Dormant {
        now,
        days,
        members,
        dormant: stores.iter().map(|s| s.dormant).sum(),
        held: stores.iter().map(|s| s.held).sum(),
        stores,
        longest_idle_days,
    }
}
