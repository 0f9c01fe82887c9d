//! Recharge-bonus rules that would match one recharge equally: refused, never first-listed-wins.
//!
//! Two rules tie when they have the same `min` and their scopes overlap: today a scope is the
//! rule's tiers (absent: every tier). A later scope (a date window, a cohort) narrows the
//! overlap the same way: two rules tie only when every scope of theirs overlaps.

use std::collections::BTreeMap;

use super::BonusRule;
use crate::error::Rejection;
use crate::money::Money;

/// Refuses two rules with the same `min` whose scopes overlap.
pub(super) fn check_bonus_rules_distinct(rules: &[BonusRule]) -> Result<(), Rejection> {
    let mut by_min: BTreeMap<Money, Vec<usize>> = BTreeMap::new();
    for (i, r) in rules.iter().enumerate() {
        by_min.entry(r.min).or_default().push(i);
    }
    for same in by_min.values() {
        for (k, &i) in same.iter().enumerate() {
            for &j in &same[k + 1..] {
                if tiers_overlap(&rules[i], &rules[j]) {
                    return Err(Rejection::InvalidPolicy(format!(
                        "recharge_bonus[{i}] and recharge_bonus[{j}] both apply from {} to the same tiers: which one a recharge gets would depend on their order",
                        rules[i].min
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether some tier is in both rules' scopes (a rule without tiers covers every tier).
fn tiers_overlap(a: &BonusRule, b: &BonusRule) -> bool {
    match (&a.tiers, &b.tiers) {
        (Some(x), Some(y)) => x.iter().any(|t| y.contains(t)),
        _ => true,
    }
}
