//! Commission (提成): what staff earn on what they sell and serve, as rates of the amounts.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::Rejection;
use crate::money::{Money, Rounding};

/// The largest commission rate accepted (100%).
pub const COMMISSION_RATE_MAX: Decimal = Decimal::ONE;

/// Commission rates, each a fraction of the amount (`"0.05"` is 5%); a rate left out is zero.
///
/// Staff earn the recharge rate on the cash they take for recharges, the package rate on the
/// price of the packages they sell, and the service rate on the revenue of the services they
/// deliver (card consumptions and package sessions, less consumption refunds). `tiers` sets
/// other rates for a sale to a member of that tier (the member's tier when the sale was
/// made); a rate a tier leaves out is the general one ([`CommissionPolicy::rates`]).
///
/// ```
/// use memberledger_core::{CommissionPolicy, Policy};
/// let p = Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
///   "commission":{"recharge":"0.02","service":"0.10"}}"#).unwrap();
/// let c: &CommissionPolicy = p.commission.as_ref().unwrap();
/// assert_eq!(c.package, None);
/// assert!(Policy::from_json(r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
///   "commission":{"service":"1.5"}}"#).is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CommissionPolicy {
    /// Rate on the cash taken for recharges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recharge: Option<Decimal>,
    /// Rate on the price of packages sold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Decimal>,
    /// Rate on the revenue of services delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Decimal>,
    /// Rates by the tier of the member a sale was made to (tier names of the policy).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tiers: BTreeMap<String, CommissionRates>,
}

/// The three rates of one tier (a rate left out is the policy's general rate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CommissionRates {
    /// Rate on the cash taken for recharges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recharge: Option<Decimal>,
    /// Rate on the price of packages sold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Decimal>,
    /// Rate on the revenue of services delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Decimal>,
}

impl CommissionRates {
    /// Rates for recharges, packages and services.
    #[must_use]
    pub fn new(
        recharge: Option<Decimal>,
        package: Option<Decimal>,
        service: Option<Decimal>,
    ) -> CommissionRates {
        CommissionRates {
            recharge,
            package,
            service,
        }
    }
}

impl CommissionPolicy {
    /// Rates for recharges, packages and services.
    pub fn new(
        recharge: Option<Decimal>,
        package: Option<Decimal>,
        service: Option<Decimal>,
    ) -> CommissionPolicy {
        CommissionPolicy {
            recharge,
            package,
            service,
            tiers: BTreeMap::new(),
        }
    }

    /// The same rates with other rates for a sale to a member of `tier`.
    #[must_use]
    pub fn with_tier(mut self, tier: &str, rates: CommissionRates) -> CommissionPolicy {
        self.tiers.insert(tier.to_owned(), rates);
        self
    }

    /// The rates of a sale to a member of `tier` (`None`: unknown): the tier's own where it
    /// sets one, else the general rate.
    ///
    /// ```
    /// use memberledger_core::{CommissionPolicy, CommissionRates, Decimal};
    /// let c = CommissionPolicy::new(Some(Decimal::new(2, 2)), None, Some(Decimal::new(1, 1)))
    ///     .with_tier("gold", CommissionRates::new(None, None, Some(Decimal::new(15, 2))));
    /// assert_eq!(c.rates(Some("gold")).service, Some(Decimal::new(15, 2)));
    /// assert_eq!(c.rates(Some("gold")).recharge, Some(Decimal::new(2, 2)));
    /// assert_eq!(c.rates(None).service, Some(Decimal::new(1, 1)));
    /// ```
    #[must_use]
    pub fn rates(&self, tier: Option<&str>) -> CommissionRates {
        let own = tier.and_then(|t| self.tiers.get(t));
        CommissionRates {
            recharge: own.and_then(|r| r.recharge).or(self.recharge),
            package: own.and_then(|r| r.package).or(self.package),
            service: own.and_then(|r| r.service).or(self.service),
        }
    }

    /// Checks every rate is in [0, 1] with at most 4 decimals.
    pub fn validate(&self) -> Result<(), Rejection> {
        let own = [(String::new(), self.rates(None))];
        let tiers = self
            .tiers
            .iter()
            .map(|(t, r)| (format!("tiers.{t}."), r.clone()));
        for (prefix, rates) in own.into_iter().chain(tiers) {
            for (what, rate) in [
                ("recharge", rates.recharge),
                ("package", rates.package),
                ("service", rates.service),
            ] {
                if rate
                    .is_some_and(|r| r < Decimal::ZERO || r > COMMISSION_RATE_MAX || r.scale() > 4)
                {
                    return Err(Rejection::InvalidPolicy(format!(
                        "commission.{prefix}{what} must be a rate in [0, 1] with at most 4 decimals, like \"0.05\""
                    )));
                }
            }
        }
        Ok(())
    }

    /// `round(amount × rate)`, zero when the rate is absent; `None` on overflow.
    pub fn apply(rate: Option<Decimal>, amount: Money, rounding: Rounding) -> Option<Money> {
        match rate {
            None => Some(Money::ZERO),
            Some(r) => amount.checked_times(r, rounding),
        }
    }
}
