//! Commission (提成): what staff earn on what they sell and serve, as rates of the amounts.

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
/// deliver (card consumptions and package sessions, less consumption refunds).
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
        }
    }

    /// Checks every rate is in [0, 1] with at most 4 decimals.
    pub fn validate(&self) -> Result<(), Rejection> {
        for (what, rate) in [
            ("recharge", self.recharge),
            ("package", self.package),
            ("service", self.service),
        ] {
            if rate.is_some_and(|r| r < Decimal::ZERO || r > COMMISSION_RATE_MAX || r.scale() > 4) {
                return Err(Rejection::InvalidPolicy(format!(
                    "commission.{what} must be a rate in [0, 1] with at most 4 decimals, like \"0.05\""
                )));
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
