//! Recharge-bonus rules that would match one recharge equally: refused, never first-listed-wins.
//!
//! Two rules tie when they have the same `min` and their scopes overlap: today a scope is the
//! rule's tiers (absent: every tier), its date window (absent ends: open) and its cohort
//! (absent: every member). Two rules tie only when every scope of theirs overlaps: an A/B pair
//! in cohorts 0 and 1 of the same split, or two windows one after the other, never tie.

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
                if scopes_overlap(&rules[i], &rules[j]) {
                    return Err(Rejection::InvalidPolicy(format!(
                        "recharge_bonus[{i}] and recharge_bonus[{j}] both apply from {} to the same tiers, dates and cohort: which one a recharge gets would depend on their order",
                        rules[i].min
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether some recharge could fall in both rules' tiers, windows and cohorts.
fn scopes_overlap(a: &BonusRule, b: &BonusRule) -> bool {
    tiers_overlap(a, b) && windows_overlap(a, b) && cohorts_overlap(a, b)
}

/// Whether the windows `[from, until)` share an instant (an absent end is open).
fn windows_overlap(a: &BonusRule, b: &BonusRule) -> bool {
    let starts = a.from.max(b.from);
    let ends = match (a.until, b.until) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    match (starts, ends) {
        (Some(s), Some(e)) => s < e,
        _ => true,
    }
}

/// Whether some member could be in both cohorts: only two different cohorts of the same split
/// are disjoint (splits of different sizes share members).
fn cohorts_overlap(a: &BonusRule, b: &BonusRule) -> bool {
    match ((a.cohorts, a.cohort), (b.cohorts, b.cohort)) {
        ((Some(n), Some(k)), (Some(m), Some(j))) => n != m || k == j,
        _ => true,
    }
}

/// Whether some tier is in both rules' scopes (a rule without tiers covers every tier).
fn tiers_overlap(a: &BonusRule, b: &BonusRule) -> bool {
    match (&a.tiers, &b.tiers) {
        (Some(x), Some(y)) => x.iter().any(|t| y.contains(t)),
        _ => true,
    }
}
