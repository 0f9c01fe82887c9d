//! Campaigns: bonus rules scoped to a date window and to a cohort of members, so a chain can run
//! two ladders side by side (an A/B test) and compare them in the campaigns report.
//!
//! A rule's window is `[from, until)` on the recharge's time; its cohort is
//! `cohort_of(member, cohorts) == cohort`. A rule without either scope applies to every
//! recharge, as before.

use super::{cohort_of, BonusRule, Policy};
use crate::error::Rejection;
use crate::id::MemberId;
use crate::money::Money;
use crate::time::Timestamp;

/// The most cohorts a rule may split members into.
pub const COHORTS_MAX: u32 = 1000;

impl BonusRule {
    /// Whether the rule is scoped to neither a date window nor a cohort.
    #[must_use]
    pub fn unscoped(&self) -> bool {
        self.from.is_none() && self.until.is_none() && self.cohorts.is_none()
    }

    /// Whether a recharge at `at` by `member` falls in the rule's window and cohort (its tiers
    /// aside).
    #[must_use]
    pub fn applies_to(&self, member: &MemberId, at: Timestamp) -> bool {
        let in_window = self.from.is_none_or(|f| at >= f) && self.until.is_none_or(|u| at < u);
        let in_cohort = match (self.cohorts, self.cohort) {
            (Some(n), Some(k)) => cohort_of(member, n) == k,
            _ => true,
        };
        in_window && in_cohort
    }
}

/// Refuses a rule whose window is empty or whose cohort scope is half given or out of range.
pub(super) fn check_scope(i: usize, r: &BonusRule) -> Result<(), Rejection> {
    let bad = |m: String| {
        Err(Rejection::InvalidPolicy(format!(
            "recharge_bonus[{i}]: {m}"
        )))
    };
    if let (Some(f), Some(u)) = (r.from, r.until) {
        if u <= f {
            return bad(format!("until {u} must be after from {f}"));
        }
    }
    match (r.cohorts, r.cohort) {
        (None, None) => Ok(()),
        (Some(n), Some(k)) if (2..=COHORTS_MAX).contains(&n) && k < n => Ok(()),
        (Some(n), Some(k)) => bad(format!(
            "cohorts {n} must be 2-{COHORTS_MAX} and cohort {k} below it"
        )),
        _ => bad("give both cohorts and cohort, or neither".into()),
    }
}

impl Policy {
    /// The bonus rule that applies to a recharge of `amount` by a member of `tier`, among the
    /// rules scoped to no date window and no cohort: the highest `min` not above the amount (a
    /// valid policy has no two rules that match one recharge equally: see `overlap`). Returns
    /// the rule's index. A recharge itself is matched by [`Policy::bonus_rule_for`], which also
    /// weighs the scoped rules.
    pub fn bonus_rule(&self, tier: &str, amount: Money) -> Option<(usize, &BonusRule)> {
        self.best_rule(tier, amount, BonusRule::unscoped)
    }

    /// The bonus rule that applies to a recharge of `amount` at `at` by `member` of `tier`:
    /// among the rules whose tiers, date window and cohort include it, the highest `min` not
    /// above the amount. Returns the rule's index.
    pub fn bonus_rule_for(
        &self,
        tier: &str,
        amount: Money,
        member: &MemberId,
        at: Timestamp,
    ) -> Option<(usize, &BonusRule)> {
        self.best_rule(tier, amount, |r| r.applies_to(member, at))
    }

    /// The highest-`min` rule for the tier and amount among those `scope` admits.
    fn best_rule(
        &self,
        tier: &str,
        amount: Money,
        scope: impl Fn(&BonusRule) -> bool,
    ) -> Option<(usize, &BonusRule)> {
        let mut best: Option<(usize, &BonusRule)> = None;
        for (i, r) in self.recharge_bonus.iter().enumerate() {
            let tier_ok = r
                .tiers
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t == tier));
            if tier_ok && scope(r) && r.min <= amount && best.is_none_or(|(_, b)| r.min > b.min) {
                best = Some((i, r));
            }
        }
        best
    }
}
