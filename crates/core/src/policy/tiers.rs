//! Tier rules on spending and visits: the windowed upgrade conditions, the retain rule a tier
//! review checks, and what a review and an upgrade decide for a member (docs/RULES.md §10).
//!
//! Spending and visits are counted by UTC calendar day: the window of `window_days` days
//! ending at a time `T` is the days `(day(T) − window_days, day(T)]`, so the member's projection
//! keeps one entry a day (merged), never more than [`TIER_WINDOW_DAYS_MAX`] days old.

use serde::{Deserialize, Serialize};

use super::{Policy, Tier, Upgrade};
use crate::error::Rejection;
use crate::member::MemberState;
use crate::money::{Money, AMOUNT_MAX};
use crate::time::Timestamp;

/// The window of a spending or visit rule when `window_days` is absent.
pub const TIER_WINDOW_DAYS_DEFAULT: u32 = 365;

/// The longest window a tier rule may name, in days (two years). The member projection keeps
/// spending and visits this long, so the bound is also its memory's.
pub const TIER_WINDOW_DAYS_MAX: u32 = 730;

/// The longest window of a retain rule naming `recharged_within`: the recharge window the
/// projection keeps is a year long.
const RECHARGE_WINDOW_DAYS_MAX: u32 = 365;

/// What keeps a member in a tier at a tier review; any one condition is enough (born at
/// schema 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Retain {
    /// What the member's visits were charged within the window, at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_within: Option<Money>,
    /// Visits within the window, at least this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_within: Option<u32>,
    /// Principal recharged less principal removed by balance refunds within the window, at
    /// least this (the window then at most 365 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recharged_within: Option<Money>,
    /// The window, in days (1-[`TIER_WINDOW_DAYS_MAX`]; absent: [`TIER_WINDOW_DAYS_DEFAULT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

impl Upgrade {
    /// The window of `spent_within` and `visits_within`, in days.
    pub fn window(&self) -> u32 {
        self.window_days.unwrap_or(TIER_WINDOW_DAYS_DEFAULT)
    }

    /// Whether the upgrade names a spending or visit condition (born at schema 3).
    pub fn on_visits(&self) -> bool {
        self.spent_within.is_some() || self.visits_within.is_some()
    }

    /// The visit condition that holds for `state` at `at` (spending first), as its reason.
    fn holds_on_visits(&self, state: &MemberState, at: Timestamp) -> Option<&'static str> {
        let days = self.window();
        if self
            .spent_within
            .is_some_and(|x| state.spent_within(at, days) >= x)
        {
            Some("upgrade:spent_within")
        } else if self
            .visits_within
            .is_some_and(|x| state.visits_within(at, days) >= u64::from(x))
        {
            Some("upgrade:visits_within")
        } else {
            None
        }
    }
}

impl Retain {
    /// The window, in days.
    pub fn window(&self) -> u32 {
        self.window_days.unwrap_or(TIER_WINDOW_DAYS_DEFAULT)
    }

    /// Whether a condition holds for `state` over the window ending at `at`.
    pub fn holds(&self, state: &MemberState, at: Timestamp) -> bool {
        let days = self.window();
        self.spent_within
            .is_some_and(|x| state.spent_within(at, days) >= x)
            || self
                .visits_within
                .is_some_and(|x| state.visits_within(at, days) >= u64::from(x))
            || self
                .recharged_within
                .is_some_and(|x| state.recharged_within(at, days) >= x)
    }
}

/// Refuses a tier whose upgrade or retain rule names no condition, a window out of range, a
/// zero visit count or an amount out of range.
pub(super) fn check_tier_rules(t: &Tier) -> Result<(), Rejection> {
    let bad = |m: String| Err(Rejection::InvalidPolicy(format!("tier {:?}: {m}", t.name)));
    let window_ok = |w: Option<u32>| w.is_none_or(|d| (1..=TIER_WINDOW_DAYS_MAX).contains(&d));
    let amount_ok = |m: Option<Money>| m.is_none_or(|m| m.is_positive() && m <= AMOUNT_MAX);
    if let Some(u) = &t.upgrade {
        if u.single_recharge.is_none() && u.recharged_within_365d.is_none() && !u.on_visits() {
            return bad("upgrade names no condition".into());
        }
        if u.window_days.is_some() && !u.on_visits() {
            return bad("upgrade.window_days needs spent_within or visits_within".into());
        }
        if !window_ok(u.window_days) || u.visits_within == Some(0) || !amount_ok(u.spent_within) {
            return bad(format!(
                "upgrade: window_days must be 1-{TIER_WINDOW_DAYS_MAX}, visits_within above 0, spent_within in (0, {AMOUNT_MAX}]"
            ));
        }
    }
    if let Some(r) = &t.retain {
        let names_one =
            r.spent_within.is_some() || r.visits_within.is_some() || r.recharged_within.is_some();
        if !names_one {
            return bad("retain names no condition".into());
        }
        if !window_ok(r.window_days)
            || r.visits_within == Some(0)
            || !amount_ok(r.spent_within)
            || !amount_ok(r.recharged_within)
        {
            return bad(format!(
                "retain: window_days must be 1-{TIER_WINDOW_DAYS_MAX}, visits_within above 0, amounts in (0, {AMOUNT_MAX}]"
            ));
        }
        if r.recharged_within.is_some() && r.window() > RECHARGE_WINDOW_DAYS_MAX {
            return bad(format!(
                "retain: recharged_within is counted over at most {RECHARGE_WINDOW_DAYS_MAX} days"
            ));
        }
    }
    Ok(())
}

impl Policy {
    /// Whether any tier names a rule born at schema 3 (a spending or visit upgrade, a retain
    /// rule).
    pub fn has_visit_tier_rules(&self) -> bool {
        self.tiers
            .iter()
            .any(|t| t.retain.is_some() || t.upgrade.as_ref().is_some_and(Upgrade::on_visits))
    }

    /// The upgrade `state` earns at `at`: the highest tier above the one held whose condition
    /// holds, with its reason. After a recharge of `recharge`, every condition is weighed
    /// (`single_recharge`, `recharged_within_365d`, then spending and visits); after a visit
    /// (`recharge` `None`), spending and visits alone.
    pub fn upgrade_target(
        &self,
        state: &MemberState,
        at: Timestamp,
        recharge: Option<Money>,
    ) -> Option<(&Tier, &'static str)> {
        // A tier the policy no longer lists counts as the lowest.
        let current = self.tier_index(&state.tier).unwrap_or(0);
        self.tiers.iter().skip(current + 1).rev().find_map(|t| {
            let u = t.upgrade.as_ref()?;
            let on_recharge = recharge.and_then(|amount| {
                if u.single_recharge.is_some_and(|x| amount >= x) {
                    Some("upgrade:single_recharge")
                } else if u
                    .recharged_within_365d
                    .is_some_and(|x| state.recharged_within_365d(at) >= x)
                {
                    Some("upgrade:recharged_within_365d")
                } else {
                    None
                }
            });
            on_recharge
                .or_else(|| u.holds_on_visits(state, at))
                .map(|reason| (t, reason))
        })
    }

    /// What a tier review as of `at` does to `state`: `None` keeps the tier held, `Some(tier)`
    /// lowers the member to it. A tier without `retain` (or no longer listed) is kept; so is a
    /// tier reached on one of the window's days (grace), and one whose retain condition
    /// holds. Otherwise the member goes to the highest lower tier whose retain or windowed
    /// upgrade condition holds, or the lowest tier.
    pub fn review_target(&self, state: &MemberState, at: Timestamp) -> Option<&Tier> {
        let held = self.tier_index(&state.tier).filter(|&i| i > 0)?;
        let retain = self.tiers[held].retain.as_ref()?;
        let window_start = at.day().saturating_sub(retain.window());
        if state.tier_since_day() > window_start || retain.holds(state, at) {
            return None;
        }
        let lower = self.tiers[1..held].iter().rev().find(|t| {
            t.retain.as_ref().is_some_and(|r| r.holds(state, at))
                || t.upgrade
                    .as_ref()
                    .is_some_and(|u| windowed_upgrade_holds(u, state, at))
        });
        Some(lower.unwrap_or(&self.tiers[0]))
    }
}

/// Whether an upgrade's window conditions hold (`single_recharge` is a recharge's, not a
/// window's, and is not weighed by a review).
fn windowed_upgrade_holds(u: &Upgrade, state: &MemberState, at: Timestamp) -> bool {
    u.recharged_within_365d
        .is_some_and(|x| state.recharged_within_365d(at) >= x)
        || u.holds_on_visits(state, at).is_some()
}

/// The first tier-rule field born at schema 3 a published policy (as recorded) names, if any:
/// a `policy_published` of schema 1 or 2 holding one is refused, like any field born later
/// than its event.
pub(crate) fn tier_rule_born_at_3(policy: &serde_json::Value) -> Option<&'static str> {
    let tiers = policy.get("tiers")?.as_array()?;
    tiers.iter().find_map(|t| {
        if t.get("retain").is_some() {
            return Some("tiers.retain");
        }
        let u = t.get("upgrade")?;
        ["spent_within", "visits_within", "window_days"]
            .into_iter()
            .find(|f| u.get(f).is_some())
            .map(|f| match f {
                "spent_within" => "tiers.upgrade.spent_within",
                "visits_within" => "tiers.upgrade.visits_within",
                _ => "tiers.upgrade.window_days",
            })
    })
}
