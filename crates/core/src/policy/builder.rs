//! A checked builder of policies: start from the built-in policy, change what differs, and
//! `build()` checks it as the JSON form is checked.

use rust_decimal::Decimal;

use super::{BonusRule, PackageRefundTo, Policy, Retain, SpendOrder, Tier, Upgrade};
use crate::error::Rejection;
use crate::money::{Money, Rounding};
use crate::time::Timestamp;

/// A policy being built. Starts from [`Policy::builtin`]; [`build`](Self::build) checks it
/// with [`Policy::validate`], the rules [`Policy::from_json`] applies.
///
/// ```
/// use memberledger_core::{BonusRule, Money, Policy, Tier};
/// let m = |s: &str| s.parse::<Money>().unwrap();
/// let policy = Policy::builder()
///     .tiers(vec![
///         Tier::new("standard", "1.00".parse().unwrap(), "1".parse().unwrap()),
///         Tier::new("gold", "0.90".parse().unwrap(), "2".parse().unwrap())
///             .upgrade_on_single_recharge(m("5000.00")),
///     ])
///     .recharge_bonus(vec![BonusRule::fixed(m("1000.00"), m("100.00"))])
///     .bonus_expiry_days(Some(365))
///     .build()
///     .unwrap();
/// assert_eq!(policy.tiers.len(), 2);
/// // Checked as the JSON form is: no tiers is refused.
/// assert!(Policy::builder().tiers(vec![]).build().is_err());
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct PolicyBuilder {
    policy: Policy,
}

impl Policy {
    /// A builder starting from the built-in policy.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder {
            policy: Policy::builtin(),
        }
    }
}

impl PolicyBuilder {
    /// The ledger's currency (an ISO 4217 code).
    pub fn currency(mut self, code: &str) -> Self {
        code.clone_into(&mut self.policy.currency);
        self
    }

    /// How figures round to the cent.
    pub fn rounding(mut self, rounding: Rounding) -> Self {
        self.policy.rounding = rounding;
        self
    }

    /// How a consumption splits between principal and bonus.
    pub fn spend_order(mut self, order: SpendOrder) -> Self {
        self.policy.spend_order = order;
        self
    }

    /// The tiers, lowest first (replacing the built-in ones: replace the recharge-bonus rules
    /// too if they name tiers).
    pub fn tiers(mut self, tiers: Vec<Tier>) -> Self {
        self.policy.tiers = tiers;
        self
    }

    /// The recharge-bonus rules (replacing the built-in ladder).
    pub fn recharge_bonus(mut self, rules: Vec<BonusRule>) -> Self {
        self.policy.recharge_bonus = rules;
        self
    }

    /// Days a bonus lives (`None`: never expires).
    pub fn bonus_expiry_days(mut self, days: Option<u32>) -> Self {
        self.policy.bonus_expiry_days = days;
        self
    }

    /// Days points live (`None`: never expire).
    pub fn points_expiry_days(mut self, days: Option<u32>) -> Self {
        self.policy.points_expiry_days = days;
        self
    }

    /// Whether a balance refund deducts the bonus already spent from the payout.
    pub fn claw_back_used_bonus(mut self, yes: bool) -> Self {
        self.policy.refund.claw_back_used_bonus = yes;
        self
    }

    /// What a frozen card may still do: recharge, be refunded.
    pub fn while_frozen(mut self, allow_recharge: bool, allow_refunds: bool) -> Self {
        self.policy.freeze.allow_recharge = allow_recharge;
        self.policy.freeze.allow_refunds = allow_refunds;
        self
    }

    /// Where a refunded package's unredeemed value goes.
    pub fn package_refund_to(mut self, to: PackageRefundTo) -> Self {
        self.policy.packages.refund_to = to;
        self
    }

    /// Commission rates (提成), or `None` for no commission.
    pub fn commission(mut self, commission: Option<super::CommissionPolicy>) -> Self {
        self.policy.commission = commission;
        self
    }

    /// Days ahead of an expiry a member is told of it, or `None` for no notices.
    pub fn notices(mut self, notices: Option<super::NoticePolicy>) -> Self {
        self.policy.notices = notices;
        self
    }

    /// How card numbers are recorded, or `None` for in clear (the section left out).
    pub fn cards(mut self, cards: Option<crate::cards::CardPolicy>) -> Self {
        self.policy.cards = cards;
        self
    }

    /// The policy, checked as [`Policy::from_json`] checks one.
    pub fn build(self) -> Result<Policy, Rejection> {
        self.policy.validate()?;
        Ok(self.policy)
    }
}

impl Tier {
    /// A tier with its discount (a price multiplier in (0, 1]) and points earned per unit of
    /// principal spent, without an upgrade condition. Checked when the policy is built.
    pub fn new(name: &str, discount: Decimal, points_per_yuan: Decimal) -> Tier {
        Tier {
            name: name.to_owned(),
            discount,
            points_per_yuan,
            upgrade: None,
            retain: None,
        }
    }

    /// Members are upgraded into it by one recharge of at least `amount`.
    pub fn upgrade_on_single_recharge(mut self, amount: Money) -> Tier {
        self.upgrade
            .get_or_insert_with(Upgrade::default)
            .single_recharge = Some(amount);
        self
    }

    /// Members are upgraded into it once they recharged at least `amount` within 365 days.
    pub fn upgrade_on_recharged_within_365d(mut self, amount: Money) -> Tier {
        self.upgrade
            .get_or_insert_with(Upgrade::default)
            .recharged_within_365d = Some(amount);
        self
    }

    /// Members are upgraded into it once their visits were charged at least `amount` within
    /// `window_days` days (see [`Upgrade::spent_within`]).
    pub fn upgrade_on_spent_within(mut self, amount: Money, window_days: u32) -> Tier {
        let u = self.upgrade.get_or_insert_with(Upgrade::default);
        u.spent_within = Some(amount);
        u.window_days = Some(window_days);
        self
    }

    /// Members are upgraded into it once they visited at least `visits` times within
    /// `window_days` days.
    pub fn upgrade_on_visits_within(mut self, visits: u32, window_days: u32) -> Tier {
        let u = self.upgrade.get_or_insert_with(Upgrade::default);
        u.visits_within = Some(visits);
        u.window_days = Some(window_days);
        self
    }

    /// A tier review keeps members in it while `retain` holds (see [`Retain`]).
    pub fn retain(mut self, retain: Retain) -> Tier {
        self.retain = Some(retain);
        self
    }
}

impl Retain {
    /// A retain rule over `window_days` days with no condition yet (add one with the
    /// `with_*` methods; a rule with none is refused when the policy is built).
    pub fn over_days(window_days: u32) -> Retain {
        Retain {
            window_days: Some(window_days),
            ..Retain::default()
        }
    }

    /// Kept while the visits were charged at least `amount` within the window.
    pub fn with_spent(mut self, amount: Money) -> Retain {
        self.spent_within = Some(amount);
        self
    }

    /// Kept while the member visited at least `visits` times within the window.
    pub fn with_visits(mut self, visits: u32) -> Retain {
        self.visits_within = Some(visits);
        self
    }

    /// Kept while the principal recharged within the window is at least `amount`.
    pub fn with_recharged(mut self, amount: Money) -> Retain {
        self.recharged_within = Some(amount);
        self
    }
}

impl BonusRule {
    /// Recharging at least `min` gives a fixed `bonus`.
    pub fn fixed(min: Money, bonus: Money) -> BonusRule {
        BonusRule {
            min,
            bonus: Some(bonus),
            bonus_rate: None,
            tiers: None,
            from: None,
            until: None,
            cohorts: None,
            cohort: None,
        }
    }

    /// Recharging at least `min` gives `rate` × the amount.
    pub fn rate(min: Money, rate: Decimal) -> BonusRule {
        BonusRule {
            min,
            bonus: None,
            bonus_rate: Some(rate),
            tiers: None,
            from: None,
            until: None,
            cohorts: None,
            cohort: None,
        }
    }

    /// Limits the rule to the named tiers.
    pub fn for_tiers(mut self, tiers: &[&str]) -> BonusRule {
        self.tiers = Some(tiers.iter().map(|t| (*t).to_owned()).collect());
        self
    }

    /// Limits the rule to recharges in `[from, until)` (either end open when `None`).
    pub fn between(mut self, from: Option<Timestamp>, until: Option<Timestamp>) -> BonusRule {
        self.from = from;
        self.until = until;
        self
    }

    /// Limits the rule to members in cohort `cohort` of `cohorts` (see `cohort_of`).
    pub fn for_cohort(mut self, cohorts: u32, cohort: u32) -> BonusRule {
        self.cohorts = Some(cohorts);
        self.cohort = Some(cohort);
        self
    }
}
