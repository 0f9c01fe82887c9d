//! The built-in policy (DEFAULT_POLICY_JSON) as the model reads it: whole cents and seconds.

/// A day in seconds.
pub const DAY: i64 = 86_400;
/// `bonus_expiry_days`: a bonus lot expires this long after it is granted.
pub const BONUS_EXPIRY: i64 = 365 * DAY;
/// `points_expiry_days`: a point lot expires this long after it is earned.
pub const POINTS_EXPIRY: i64 = 730 * DAY;
/// The upgrade window: recharges within this long before a recharge count toward a tier.
pub const UPGRADE_WINDOW: i64 = 365 * DAY;

/// DEFAULT_POLICY_JSON's `freeze`: a frozen card may still be recharged (and sold a package for
/// cash). Spending is always refused.
pub const FREEZE_ALLOWS_RECHARGE: bool = true;
/// DEFAULT_POLICY_JSON's `freeze`: a frozen card may still be refunded.
pub const FREEZE_ALLOWS_REFUNDS: bool = true;

/// Where a refunded package's value goes (`packages.refund_to`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundTo {
    /// The way it was paid.
    Original,
    /// Always in cash.
    Cash,
    /// Always to the balance.
    Balance,
}

/// DEFAULT_POLICY_JSON's `packages.refund_to`.
pub const PACKAGE_REFUND_TO: RefundTo = RefundTo::Original;

/// A tier of the built-in policy.
pub struct TierDef {
    /// The tier's name.
    pub name: &'static str,
    /// The discount in hundredths (`0.95` → 95).
    pub discount: i64,
    /// Points per yuan in tenths (`1.5` → 15).
    pub points_x10: i64,
    /// Upgrade conditions in cents: one recharge of at least, or within 365 days at least.
    pub single: i64,
    /// Recharged within the upgrade window at least (cents).
    pub within: i64,
}

/// DEFAULT_POLICY_JSON's tiers, lowest first.
pub const TIERS: [TierDef; 4] = [
    TierDef {
        name: "standard",
        discount: 100,
        points_x10: 10,
        single: i64::MAX,
        within: i64::MAX,
    },
    TierDef {
        name: "silver",
        discount: 95,
        points_x10: 10,
        single: 200_000,
        within: 500_000,
    },
    TierDef {
        name: "gold",
        discount: 90,
        points_x10: 15,
        single: 500_000,
        within: 1_000_000,
    },
    TierDef {
        name: "diamond",
        discount: 85,
        points_x10: 20,
        single: 2_000_000,
        within: 3_000_000,
    },
];

/// The recharge-bonus ladder: (min, fixed bonus, rate in percent, gold and diamond only).
pub(crate) const LADDER: [(i64, i64, i64, bool); 5] = [
    (50_000, 5_000, 0, false),
    (100_000, 15_000, 0, false),
    (300_000, 50_000, 0, false),
    (500_000, 100_000, 0, false),
    (1_000_000, 0, 25, true),
];

/// The index in [`TIERS`] of the tier called `name`.
pub fn tier_index(name: &str) -> Option<usize> {
    TIERS.iter().position(|t| t.name == name)
}

/// `num / den` rounded half up (`num >= 0`, `den > 0`).
pub(crate) fn half_up(num: i128, den: i128) -> i64 {
    assert!(num >= 0 && den > 0);
    let q = num / den;
    let r = num % den;
    i64::try_from(q + i128::from(2 * r >= den)).expect("cents fit")
}

/// A tier's rules on spending and visits (docs/RULES.md §10), in cents and days: what the
/// simulation adds to the built-in policy when [`Model::visit_tiers`](super::Model) is set.
pub struct VisitRule {
    /// Upgrade when the visits of the last `.1` days were charged at least `.0` cents.
    pub spent: Option<(i64, i64)>,
    /// Upgrade after at least `.0` visits within the last `.1` days.
    pub visits: Option<(u64, i64)>,
    /// Kept at a review while spending within `retain_days` is at least this.
    pub retain_spent: Option<i64>,
    /// Kept at a review while visits within `retain_days` are at least this.
    pub retain_visits: Option<u64>,
    /// Kept at a review while principal recharged within `retain_days` is at least this.
    pub retain_recharged: Option<i64>,
    /// The retain rule's window (0: the tier has no retain rule).
    pub retain_days: i64,
}

/// The visit rules of each tier of [`TIERS`], in the same order.
pub const VISIT_RULES: [VisitRule; 4] = [
    VisitRule {
        spent: None,
        visits: None,
        retain_spent: None,
        retain_visits: None,
        retain_recharged: None,
        retain_days: 0,
    },
    VisitRule {
        spent: None,
        visits: Some((4, 60)),
        retain_spent: None,
        retain_visits: Some(2),
        retain_recharged: None,
        retain_days: 180,
    },
    VisitRule {
        spent: Some((300_000, 180)),
        visits: None,
        retain_spent: Some(100_000),
        retain_visits: None,
        retain_recharged: None,
        retain_days: 180,
    },
    VisitRule {
        spent: Some((2_000_000, 365)),
        visits: None,
        retain_spent: None,
        retain_visits: None,
        retain_recharged: Some(1_000_000),
        retain_days: 365,
    },
];

/// [`VISIT_RULES`] as the policy's JSON writes them: each tier's `upgrade` fields to add and
/// its `retain` rule (`None` for the lowest tier).
pub const VISIT_RULES_JSON: [(&str, Option<&str>); 4] = [
    ("{}", None),
    (
        r#"{"visits_within":4,"window_days":60}"#,
        Some(r#"{"visits_within":2,"window_days":180}"#),
    ),
    (
        r#"{"spent_within":"3000.00","window_days":180}"#,
        Some(r#"{"spent_within":"1000.00","window_days":180}"#),
    ),
    (
        r#"{"spent_within":"20000.00"}"#,
        Some(r#"{"recharged_within":"10000.00","window_days":365}"#),
    ),
];
