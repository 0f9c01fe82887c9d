//! 客户价值: members ranked by lifetime value, spend or visits.

use memberledger::domain::StaffId;
use memberledger::{MemberId, StoreId, Timestamp};
use serde::Serialize;

use crate::Projections;

/// What the ranking is by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Net cash brought in: recharges and package cash less cash refunded.
    Ltv,
    /// Spent on services and packages, less refunds.
    Spend,
    /// Services delivered.
    Visits,
}

impl std::str::FromStr for RankBy {
    type Err = String;
    fn from_str(s: &str) -> Result<RankBy, String> {
        match s {
            "ltv" => Ok(RankBy::Ltv),
            "spend" => Ok(RankBy::Spend),
            "visits" => Ok(RankBy::Visits),
            _ => Err(format!("rank by ltv, spend or visits, not {s:?}")),
        }
    }
}

/// One member in the ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberRow {
    /// The member.
    pub member: MemberId,
    /// The store that opened the card.
    pub home_store: Option<StoreId>,
    /// Lifetime value.
    #[serde(serialize_with = "crate::cents::ser")]
    pub ltv: i128,
    /// Spend.
    #[serde(serialize_with = "crate::cents::ser")]
    pub spend: i128,
    /// Visits.
    pub visits: u64,
    /// Spend per visit.
    #[serde(serialize_with = "crate::cents::ser")]
    pub average_ticket: i128,
    /// Stored value held.
    #[serde(serialize_with = "crate::cents::ser")]
    pub balance: i128,
    /// First visit.
    pub first_visit: Option<Timestamp>,
    /// Last visit.
    pub last_visit: Option<Timestamp>,
    /// The service most visited for.
    pub favourite_service: Option<String>,
    /// The staff who served most.
    pub favourite_staff: Option<StaffId>,
}

/// The members report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Members {
    /// What the ranking is by.
    pub by: RankBy,
    /// The top members, highest first (then by id).
    pub rows: Vec<MemberRow>,
}

/// The `top` members by `by`.
#[must_use]
pub fn members(p: &Projections, top: usize, by: RankBy) -> Members {
    let mut rows: Vec<MemberRow> = p
        .members()
        .iter()
        .map(|(id, m)| MemberRow {
            member: id.clone(),
            home_store: m.home_store.clone(),
            ltv: m.ltv(),
            spend: m.spent,
            visits: m.visits,
            average_ticket: m.average_ticket(),
            balance: m.held_total(),
            first_visit: m.first_visit,
            last_visit: m.last_visit,
            favourite_service: m.favourite_service().map(str::to_owned),
            favourite_staff: m.favourite_staff().cloned(),
        })
        .collect();
    let key = |r: &MemberRow| match by {
        RankBy::Ltv => r.ltv,
        RankBy::Spend => r.spend,
        RankBy::Visits => i128::from(r.visits),
    };
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.member.cmp(&b.member)));
    rows.truncate(top);
    Members { by, rows }
}
