//! Bonus ladders compared by cohort: what each rule of each policy version drew, and what
//! became of the stored value it created.

use std::collections::{BTreeMap, BTreeSet};

use memberledger::domain::{cohort_of, Decimal};
use memberledger::MemberId;
use serde::Serialize;

use super::turnover::ratio;
use crate::{CampaignStats, Projections};

/// The most cohorts a report splits members into.
pub const COHORTS_MAX: u32 = 1000;

/// One rule of one policy version, for one cohort of members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CampaignRow {
    /// The policy version in force at the recharges.
    pub policy: u32,
    /// The index of the bonus rule matched in that version's `recharge_bonus` (`None`: the
    /// recharges earned no bonus).
    pub rule: Option<u32>,
    /// The cohort: `cohort_of(member, cohorts)`.
    pub cohort: u32,
    /// Members who recharged under the rule.
    pub members: u64,
    /// Recharges, cash, bonus and what their lots became.
    #[serde(flatten)]
    pub figures: CampaignStats,
    /// Stored value created (liability): cash plus bonus.
    #[serde(serialize_with = "crate::cents::ser")]
    pub liability_created: i128,
    /// Still held in their lots.
    #[serde(serialize_with = "crate::cents::ser")]
    pub outstanding: i128,
    /// `consumed ÷ liability created`, four decimals (`None` when nothing was created).
    pub turnover: Option<Decimal>,
    /// `breakage ÷ bonus`, four decimals: the share of the bonus never used (`None`: no bonus).
    pub breakage_rate: Option<Decimal>,
}

/// The campaigns report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Campaigns {
    /// Members are split into this many cohorts.
    pub cohorts: u32,
    /// By policy version, rule (no bonus first), then cohort.
    pub rows: Vec<CampaignRow>,
}

/// Recharges by the policy version in force, the bonus rule matched and the member's cohort
/// among `cohorts` (at least 1, at most [`COHORTS_MAX`]): recharges drawn, cash, bonus given,
/// liability created, what was consumed from their lots, refunded, broken, and the turnover
/// and breakage rates.
#[must_use]
pub fn campaigns(p: &Projections, cohorts: u32) -> Campaigns {
    let cohorts = cohorts.clamp(1, COHORTS_MAX);
    type Bucket = (CampaignStats, BTreeSet<MemberId>);
    let mut buckets: BTreeMap<(u32, Option<u32>, u32), Bucket> = BTreeMap::new();
    for ((policy, rule, member), stats) in p.campaigns() {
        let key = (*policy, *rule, cohort_of(member, cohorts));
        let (sum, members) = buckets.entry(key).or_default();
        sum.add(stats);
        if stats.recharges > 0 {
            members.insert(member.clone());
        }
    }
    let rows = buckets
        .into_iter()
        .map(|((policy, rule, cohort), (figures, members))| CampaignRow {
            policy,
            rule,
            cohort,
            members: u64::try_from(members.len()).unwrap_or(u64::MAX),
            liability_created: figures.created(),
            outstanding: figures.outstanding(),
            turnover: ratio(figures.consumed, figures.created()),
            breakage_rate: ratio(figures.breakage, figures.bonus),
            figures,
        })
        .collect();
    Campaigns { cohorts, rows }
}
