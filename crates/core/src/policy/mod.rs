//! The policy: the chain's rules, a JSON file validated on load.

mod builder;
mod campaign;
mod cohort;
mod commission;
mod earning;
pub(crate) mod founding;
pub(crate) mod history;
mod notices;
mod overlap;
mod prepaid;
mod tiers;

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use builder::PolicyBuilder;
pub use campaign::COHORTS_MAX;
pub use cohort::cohort_of;
pub use commission::{CommissionPolicy, CommissionRates, COMMISSION_RATE_MAX};
pub use earning::{PointsEarnedOn, LATE_WINDOW_HOURS_MAX};
pub use notices::{NoticePolicy, NOTICE_DAYS_MAX};
pub(crate) use prepaid::pro_rata_within_a_cent;
pub use prepaid::{
    pro_rata_refund, Entity, EntityKind, PrepaidPolicy, RefundFormula, Threshold,
    DEFAULT_DEPOSIT_RATIO, DEFAULT_ENTITY_ID,
};
pub(crate) use tiers::tier_rule_born_at_3;
pub use tiers::{Retain, TIER_WINDOW_DAYS_DEFAULT, TIER_WINDOW_DAYS_MAX};

use crate::error::Rejection;
use crate::id::validate_id;
use crate::money::{Money, Rounding, AMOUNT_MAX};
use crate::time::Timestamp;

/// How a consumption is split between principal and bonus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SpendOrder {
    /// Principal until it runs out, then bonus.
    PrincipalFirst,
    /// Bonus until it runs out, then principal.
    BonusFirst,
    /// In proportion to the balances held: `bonus = round(charged × B / (P + B))`.
    #[default]
    Proportional,
}

/// A named tier, from lowest to highest in the policy's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Tier {
    /// The tier's name, an id (`[A-Za-z0-9_.-]`).
    pub name: String,
    /// Price multiplier in (0, 1], e.g. `"0.90"`.
    pub discount: Decimal,
    /// Points earned per unit of principal spent.
    pub points_per_yuan: Decimal,
    /// When a member is upgraded into this tier (after a recharge or a visit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// What keeps a member in this tier at a tier review (born at schema 3; absent: a review
    /// never lowers a member from it). Left out of the canonical bytes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retain: Option<Retain>,
}

/// Upgrade conditions of a tier; any one is enough.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Upgrade {
    /// One recharge of at least this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_recharge: Option<Money>,
    /// Principal recharged in the 365 days up to this recharge, less principal refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recharged_within_365d: Option<Money>,
    /// What the member's visits were charged (card and outside it, less consumption refunds)
    /// within the last `window_days` days, at least this (born at schema 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spent_within: Option<Money>,
    /// Visits (`consume`) within the last `window_days` days, at least this many (born at
    /// schema 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_within: Option<u32>,
    /// The window of `spent_within` and `visits_within`, in days
    /// (1-[`TIER_WINDOW_DAYS_MAX`]; absent: [`TIER_WINDOW_DAYS_DEFAULT`]; born at schema 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

/// A recharge-bonus rule: recharging at least `min` gives a fixed `bonus` or a `bonus_rate`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BonusRule {
    /// The smallest recharge the rule applies to.
    pub min: Money,
    /// A fixed bonus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<Money>,
    /// A bonus proportional to the amount, rounded by the policy's rounding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_rate: Option<Decimal>,
    /// Tiers the rule is limited to (all tiers when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<String>>,
    /// The rule applies to recharges at or after this time (always when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// The rule applies to recharges before this time (always when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// With `cohort`: members are split into this many cohorts by `cohort_of` (2 to 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohorts: Option<u32>,
    /// With `cohorts`: the one cohort (below `cohorts`) the rule is limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<u32>,
}

/// What a frozen card may still do. Spending (consumptions, points) is always refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FreezePolicy {
    /// Recharges are accepted while frozen.
    #[serde(default = "yes")]
    pub allow_recharge: bool,
    /// Refunds (of a consumption, of the balance) are accepted while frozen.
    #[serde(default = "yes")]
    pub allow_refunds: bool,
}

impl Default for FreezePolicy {
    fn default() -> Self {
        FreezePolicy {
            allow_recharge: true,
            allow_refunds: true,
        }
    }
}

/// What a balance refund (退卡) does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RefundPolicy {
    /// Deduct the bonus already spent from the principal paid out.
    #[serde(default = "yes")]
    pub claw_back_used_bonus: bool,
    /// The refund formula; when absent, `claw_back_used_bonus` chooses between claw-back and
    /// none (left out of the canonical bytes when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<RefundFormula>,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        RefundPolicy {
            claw_back_used_bonus: true,
            formula: None,
        }
    }
}

impl RefundPolicy {
    /// The formula in force: `formula` when given, else claw-back or none by the flag.
    pub fn formula(&self) -> RefundFormula {
        match (self.formula, self.claw_back_used_bonus) {
            (Some(f), _) => f,
            (None, true) => RefundFormula::ClawBackUsedBonus,
            (None, false) => RefundFormula::None,
        }
    }
}

/// Where the unredeemed value of a refunded package goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PackageRefundTo {
    /// The way it was paid: cash for a package bought with cash, the balance for one bought
    /// from the balance.
    #[default]
    Original,
    /// Always cash (the bonus share of a package bought from the balance is forfeited).
    Cash,
    /// Always the stored balance (principal and bonus shares back as new lots).
    Balance,
}

/// Package (次卡/疗程卡) rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PackagePolicy {
    /// Where a refunded package's unredeemed value goes.
    #[serde(default)]
    pub refund_to: PackageRefundTo,
}

fn yes() -> bool {
    true
}

fn cny() -> String {
    "CNY".to_owned()
}

/// The chain's rules. Decoded from JSON with unknown fields rejected, then
/// [`validate`](Policy::validate)d; use [`Policy::from_json`] to do both.
///
/// ```
/// use memberledger_core::Policy;
/// let p = Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#).unwrap();
/// assert_eq!(p.currency, "CNY");
/// assert!(Policy::from_json(r#"{"tiers":[]}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Policy {
    /// ISO 4217 code of the ledger's one currency.
    #[serde(default = "cny")]
    pub currency: String,
    /// How figures are rounded to the cent.
    #[serde(default)]
    pub rounding: Rounding,
    /// How consumptions split between principal and bonus.
    #[serde(default)]
    pub spend_order: SpendOrder,
    /// Tiers, lowest first. At least one.
    pub tiers: Vec<Tier>,
    /// Recharge-bonus rules.
    #[serde(default)]
    pub recharge_bonus: Vec<BonusRule>,
    /// Days a bonus lives; `null` or absent: never expires.
    #[serde(default)]
    pub bonus_expiry_days: Option<u32>,
    /// Days points live; `null` or absent: never expire.
    #[serde(default)]
    pub points_expiry_days: Option<u32>,
    /// Balance-refund rules.
    #[serde(default)]
    pub refund: RefundPolicy,
    /// What a frozen card may still do.
    #[serde(default)]
    pub freeze: FreezePolicy,
    /// Package rules.
    #[serde(default)]
    pub packages: PackagePolicy,
    /// Which parts of a visit's payment earn points; absent: principal alone. Left out of the
    /// canonical bytes when absent, like `commission`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points_earned_on: Option<PointsEarnedOn>,
    /// Hours within which a command older than its member's last event (from a terminal that
    /// was offline) is still accepted, taking effect at the member's current point; absent:
    /// such a command is `out_of_order`. At most [`LATE_WINDOW_HOURS_MAX`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_window_hours: Option<u32>,
    /// Commission rates (提成); absent: no commission. Left out of the canonical bytes when
    /// absent, so a policy without it keeps the bytes (and founding id) it always had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commission: Option<CommissionPolicy>,
    /// Prepaid-card rules (entities, cap, minimum expiry, thresholds); left out of the
    /// canonical bytes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepaid: Option<PrepaidPolicy>,
    /// Days ahead of an expiry a member is told of it (derived notices, never events);
    /// absent: no notices. Left out of the canonical bytes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notices: Option<NoticePolicy>,
    /// How card numbers are recorded (`{"store": "hash"}`: only as keyed hashes); absent:
    /// in clear. Left out of the canonical bytes when absent, like `commission`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cards: Option<crate::cards::CardPolicy>,
}

/// The refusal of a policy that is not a JSON object (an array, a string, a number).
fn not_an_object() -> Rejection {
    Rejection::InvalidPolicy(
        r#"a policy must be a JSON object, like {"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#
            .into(),
    )
}

/// The largest expiry accepted, in days (100 years).
pub const EXPIRY_DAYS_MAX: u32 = 36_500;

impl Policy {
    /// Decodes and validates a policy.
    pub fn from_json(json: &str) -> Result<Policy, Rejection> {
        let p: Policy =
            serde_json::from_str(json).map_err(|e| match json.trim_start().chars().next() {
                Some('{') | None => Rejection::InvalidPolicy(format!("policy is not valid: {e}")),
                Some(_) => not_an_object(),
            })?;
        p.validate()?;
        Ok(p)
    }

    /// Decodes and validates a policy given as a JSON value (a command's `policy` field).
    pub fn from_value(value: serde_json::Value) -> Result<Policy, Rejection> {
        if !value.is_object() {
            return Err(not_an_object());
        }
        let p: Policy = serde_json::from_value(value)
            .map_err(|e| Rejection::InvalidPolicy(format!("policy is not valid: {e}")))?;
        p.validate()?;
        Ok(p)
    }

    /// The built-in default: four tiers, a ladder of recharge bonuses, bonus for a year,
    /// points for two, claw-back of spent bonus on a balance refund.
    pub fn builtin() -> Policy {
        Policy::from_json(DEFAULT_POLICY_JSON).expect("the built-in policy is valid")
    }

    /// Checks every rule; the first problem is the error.
    pub fn validate(&self) -> Result<(), Rejection> {
        let bad = |m: String| Err(Rejection::InvalidPolicy(m));
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return bad(format!(
                "currency {:?} must be a three-letter ISO code like CNY",
                self.currency
            ));
        }
        if self.tiers.is_empty() {
            return bad("the policy needs at least one tier".into());
        }
        if self.tiers.len() > 64 {
            return bad("the policy may have at most 64 tiers".into());
        }
        let mut names = HashSet::new();
        for t in &self.tiers {
            validate_id("tier", &t.name).or_else(|e| bad(e.to_string()))?;
            if !names.insert(t.name.as_str()) {
                return bad(format!("tier {:?} is listed twice", t.name));
            }
            if t.discount <= Decimal::ZERO || t.discount > Decimal::ONE || t.discount.scale() > 4 {
                return bad(format!(
                    "tier {:?}: discount {} must be in (0, 1] with at most 4 decimals",
                    t.name, t.discount
                ));
            }
            if t.points_per_yuan < Decimal::ZERO
                || t.points_per_yuan > Decimal::ONE_HUNDRED
                || t.points_per_yuan.scale() > 4
            {
                return bad(format!(
                    "tier {:?}: points_per_yuan {} must be in [0, 100] with at most 4 decimals",
                    t.name, t.points_per_yuan
                ));
            }
            tiers::check_tier_rules(t)?;
        }
        if self.tiers[0].upgrade.is_some() {
            return bad("the lowest tier cannot have an upgrade condition".into());
        }
        if self.tiers[0].retain.is_some() {
            return bad(
                "the lowest tier cannot have a retain rule: no review lowers a member from it"
                    .into(),
            );
        }
        if self.recharge_bonus.len() > 256 {
            return bad("the policy may have at most 256 recharge-bonus rules".into());
        }
        for (i, r) in self.recharge_bonus.iter().enumerate() {
            if !r.min.is_positive() {
                return bad(format!("recharge_bonus[{i}]: min must be above zero"));
            }
            // A fixed bonus is credited by one command, so it is bounded like one: a bonus
            // beyond every amount a ledger handles would overflow its books on the first
            // recharge it applies to (fuzz/corpus/policy/huge_bonus.json).
            if r.bonus.is_some_and(|b| b > AMOUNT_MAX) {
                return bad(format!(
                    "recharge_bonus[{i}]: bonus must be at most {AMOUNT_MAX}"
                ));
            }
            match (r.bonus, r.bonus_rate) {
                (Some(b), None) if b.is_positive() => {}
                (None, Some(rate))
                    if rate > Decimal::ZERO && rate <= Decimal::TEN && rate.scale() <= 4 => {}
                _ => {
                    return bad(format!(
                        "recharge_bonus[{i}]: give exactly one of a positive bonus or a bonus_rate in (0, 10]"
                    ))
                }
            }
            for t in r.tiers.iter().flatten() {
                if !names.contains(t.as_str()) {
                    return bad(format!("recharge_bonus[{i}]: unknown tier {t:?}"));
                }
            }
            campaign::check_scope(i, r)?;
        }
        overlap::check_bonus_rules_distinct(&self.recharge_bonus)?;
        earning::check_late_window(self.late_window_hours)?;
        self.validate_expiries_and_commission()
    }

    /// The expiry days and the commission rates.
    fn validate_expiries_and_commission(&self) -> Result<(), Rejection> {
        for (what, days) in [
            ("bonus_expiry_days", self.bonus_expiry_days),
            ("points_expiry_days", self.points_expiry_days),
        ] {
            if days.is_some_and(|d| d == 0 || d > EXPIRY_DAYS_MAX) {
                return Err(Rejection::InvalidPolicy(format!(
                    "{what} must be 1-{EXPIRY_DAYS_MAX} or null"
                )));
            }
        }
        if let Some(p) = &self.prepaid {
            p.validate(self.bonus_expiry_days)?;
        }
        if let Some(n) = &self.notices {
            n.validate()?;
        }
        let Some(c) = &self.commission else {
            return Ok(());
        };
        c.validate()?;
        match c.tiers.keys().find(|t| self.tier_index(t).is_none()) {
            Some(t) => Err(Rejection::InvalidPolicy(format!(
                "commission.tiers names tier {t:?}, which the policy does not define"
            ))),
            None => Ok(()),
        }
    }

    /// The tier's index in the list, if defined.
    pub fn tier_index(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.name == name)
    }

    /// The tier by name.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The policy as canonical JSON (sorted keys, no spaces).
    pub fn to_json(&self) -> String {
        let v = serde_json::to_value(self).expect("policy serialises");
        v.to_string()
    }
}

/// The built-in default policy, as JSON.
pub const DEFAULT_POLICY_JSON: &str = r#"{
  "currency": "CNY",
  "rounding": "half_up",
  "spend_order": "proportional",
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "silver", "discount": "0.95", "points_per_yuan": "1",
     "upgrade": {"single_recharge": "2000.00", "recharged_within_365d": "5000.00"}},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5",
     "upgrade": {"single_recharge": "5000.00", "recharged_within_365d": "10000.00"}},
    {"name": "diamond", "discount": "0.85", "points_per_yuan": "2",
     "upgrade": {"single_recharge": "20000.00", "recharged_within_365d": "30000.00"}}
  ],
  "recharge_bonus": [
    {"min": "500.00", "bonus": "50.00"},
    {"min": "1000.00", "bonus": "150.00"},
    {"min": "3000.00", "bonus": "500.00"},
    {"min": "5000.00", "bonus": "1000.00"},
    {"min": "10000.00", "bonus_rate": "0.25", "tiers": ["gold", "diamond"]}
  ],
  "bonus_expiry_days": 365,
  "points_expiry_days": 730,
  "refund": {"claw_back_used_bonus": true},
  "packages": {"refund_to": "original"}
}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_policy_is_valid() {
        let p = Policy::builtin();
        assert_eq!(p.tiers.len(), 4);
        assert_eq!(p.spend_order, SpendOrder::Proportional);
    }

    #[test]
    fn bonus_rule_picks_highest_min_not_above_amount_for_the_tier() {
        let p = Policy::builtin();
        let m = |s: &str| s.parse::<Money>().unwrap();
        assert_eq!(p.bonus_rule("standard", m("499.99")).map(|r| r.0), None);
        assert_eq!(p.bonus_rule("standard", m("1000.00")).map(|r| r.0), Some(1));
        assert_eq!(
            p.bonus_rule("standard", m("20000.00")).map(|r| r.0),
            Some(3)
        );
        assert_eq!(p.bonus_rule("gold", m("20000.00")).map(|r| r.0), Some(4));
    }

    #[test]
    fn commission_absent_leaves_the_canonical_bytes_as_they_were() {
        let p = Policy::builtin();
        assert!(p.commission.is_none());
        assert!(!p.to_json().contains("commission"));
        let bytes = crate::policy_canonical_bytes(&p);
        assert!(!String::from_utf8(bytes).unwrap().contains("commission"));
    }

    #[test]
    fn commission_present_is_in_the_canonical_bytes_and_round_trips() {
        let mut p = Policy::builtin();
        p.commission = Some(CommissionPolicy::new(
            Some(Decimal::new(2, 2)),
            None,
            Some(Decimal::new(1, 1)),
        ));
        let json = p.to_json();
        assert!(
            json.contains(r#""commission":{"recharge":"0.02","service":"0.1"}"#),
            "{json}"
        );
        assert_eq!(Policy::from_json(&json).unwrap(), p);
        assert_ne!(
            crate::policy_canonical_bytes(&p),
            crate::policy_canonical_bytes(&Policy::builtin())
        );
    }

    #[test]
    fn commission_tiers_name_defined_tiers_and_take_valid_rates() {
        let tiers = r#""tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]"#;
        let with = |c: &str| Policy::from_json(&format!(r#"{{{tiers},"commission":{c}}}"#));
        let ok = with(r#"{"service":"0.1","tiers":{"standard":{"service":"0.2"}}}"#).unwrap();
        let c = ok.commission.as_ref().unwrap();
        assert_eq!(c.rates(Some("standard")).service, Some(Decimal::new(2, 1)));
        assert!(ok
            .to_json()
            .contains(r#""tiers":{"standard":{"service":"0.2"}}"#));
        assert!(with(r#"{"tiers":{"gold":{"service":"0.2"}}}"#).is_err());
        assert!(with(r#"{"tiers":{"standard":{"service":"2"}}}"#).is_err());
        assert!(with(r#"{"tiers":{"standard":{"bogus":"0.1"}}}"#).is_err());
    }

    #[test]
    fn commission_rejects_rates_outside_zero_to_one() {
        for rate in ["-0.01", "1.01", "0.00001"] {
            let json = format!(
                r#"{{"tiers":[{{"name":"a","discount":"1","points_per_yuan":"1"}}],"commission":{{"service":"{rate}"}}}}"#
            );
            let e = Policy::from_json(&json).unwrap_err();
            assert!(e.to_string().contains("commission.service"), "{e}");
        }
    }

    #[test]
    fn rejects_inconsistent_policies() {
        for (json, needle) in [
            (r#"{"tiers":[]}"#, "at least one tier"),
            (
                r#"{"tiers":[{"name":"a","discount":"1.1","points_per_yuan":"1"}]}"#,
                "discount",
            ),
            (
                r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1"},{"name":"a","discount":"1","points_per_yuan":"1"}]}"#,
                "twice",
            ),
            (
                r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1"}],"recharge_bonus":[{"min":"1.00"}]}"#,
                "exactly one",
            ),
            (
                r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1"}],"recharge_bonus":[{"min":"1.00","bonus":"1.00","tiers":["zz"]}]}"#,
                "unknown tier",
            ),
            (
                r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1"}],"colour":"red"}"#,
                "unknown field",
            ),
            (
                r#"{"currency":"yuan","tiers":[{"name":"a","discount":"1","points_per_yuan":"1"}]}"#,
                "currency",
            ),
            (
                r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1"}],"recharge_bonus":[{"min":"0.01","bonus":"100000000.00"}]}"#,
                "at most 99999999.99",
            ),
        ] {
            let e = Policy::from_json(json).unwrap_err();
            assert_eq!(e.code(), "invalid_policy");
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
    }
}
