//! 流失预警: members who have not come for a while, or soon will not have.

use memberledger::{MemberId, StoreId, Timestamp};
use serde::Serialize;

use super::days_between;
use crate::Projections;

/// Where a member stands against the churn line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChurnStatus {
    /// Away at least the idle days: past the line.
    Churned,
    /// Away at least the idle days less the warning days: nearing it.
    AtRisk,
}

/// One member past or nearing the churn line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChurnRow {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: Option<StoreId>,
    /// The last service delivered, if any.
    pub last_visit: Option<Timestamp>,
    /// The last visit, or the enrollment of a member never served: what the idle days count
    /// from.
    pub since: Timestamp,
    /// Whole days since then.
    pub idle_days: u64,
    /// Past or nearing the line.
    pub status: ChurnStatus,
    /// Stored value the member holds (what the chain owes them).
    #[serde(serialize_with = "crate::cents::ser")]
    pub balance: i128,
    /// What they have spent over their lifetime.
    #[serde(serialize_with = "crate::cents::ser")]
    pub lifetime_spend: i128,
}

/// The churn report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Churn {
    /// The time it speaks of.
    pub now: Timestamp,
    /// Days away that make a member churned.
    pub idle_days: u32,
    /// How many days before the line a member is warned of.
    pub warn_days: u32,
    /// Members churned.
    pub churned: u64,
    /// Members at risk.
    pub at_risk: u64,
    /// Stored value held by the members listed.
    #[serde(serialize_with = "crate::cents::ser")]
    pub balance: i128,
    /// The members, longest away first (then by id).
    pub rows: Vec<ChurnRow>,
}

/// Members whose last visit (or enrollment, if never served) is at least `idle_days` before
/// `now` (churned) or at least `idle_days − warn_days` (at risk).
#[must_use]
pub fn churn(p: &Projections, now: Timestamp, idle_days: u32, warn_days: u32) -> Churn {
    let warn_from = u64::from(idle_days.saturating_sub(warn_days));
    let mut rows: Vec<ChurnRow> = p
        .members()
        .iter()
        .filter_map(|(id, m)| {
            let since = m.last_visit.or(m.enrolled_at)?;
            let idle = days_between(since, now);
            let status = if idle >= u64::from(idle_days) {
                ChurnStatus::Churned
            } else if idle >= warn_from {
                ChurnStatus::AtRisk
            } else {
                return None;
            };
            Some(ChurnRow {
                member: id.clone(),
                home_store: m.home_store.clone(),
                last_visit: m.last_visit,
                since,
                idle_days: idle,
                status,
                balance: m.held_total(),
                lifetime_spend: m.spent,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.idle_days.cmp(&a.idle_days).then(a.member.cmp(&b.member)));
    let count =
        |s| u64::try_from(rows.iter().filter(|r| r.status == s).count()).unwrap_or(u64::MAX);
    Churn {
        now,
        idle_days,
        warn_days,
        churned: count(ChurnStatus::Churned),
        at_risk: count(ChurnStatus::AtRisk),
        balance: rows.iter().map(|r| r.balance).sum(),
        rows,
    }
}
