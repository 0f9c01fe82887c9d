//! The coupon commands' fields: what an `issue_coupon` offers and their checks (their wire
//! form is read and written in `wire/coupons.rs`).

use rust_decimal::Decimal;
use uuid::Uuid;

use super::validate::{positive, uuid_set};
use super::wire::invalid;
use super::{validate_text, Action, SESSIONS_MAX};
use crate::error::Rejection;
use crate::money::Money;
use crate::time::Timestamp;

/// What an `issue_coupon` offers: money off a visit, or a free session of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CouponOffer {
    /// A fixed amount off (`amount`).
    Amount(Money),
    /// A percentage off (`percent`, above 0 and below 100, two decimals at most), at most
    /// `cap`.
    Percent {
        /// The percentage, e.g. 20 for 20 % off.
        percent: Decimal,
        /// The most it takes off.
        cap: Money,
    },
    /// 满减: `amount` off a charge of at least `threshold`.
    Threshold {
        /// The least charge it applies to.
        threshold: Money,
        /// The money off.
        amount: Money,
    },
    /// A free session of `service`: granted at once as a package of one session at price
    /// zero (`package_granted`), redeemed with `redeem_session`.
    Session {
        /// The service.
        service: String,
    },
}

/// Checks an `issue_coupon`: positive amounts within the maximum, a percentage above 0 and
/// below 100 with two decimals at most, a reason and service of free text, an expiry after
/// the command's time.
fn validate_issue(
    offer: &CouponOffer,
    reason: &str,
    expires_at: Timestamp,
    at: Timestamp,
) -> Result<(), Rejection> {
    match offer {
        CouponOffer::Amount(a) => positive(*a)?,
        CouponOffer::Percent { percent, cap } => {
            if *percent <= Decimal::ZERO || *percent >= Decimal::ONE_HUNDRED || percent.scale() > 2
            {
                return Err(invalid(format!(
                    "percent {percent} must be above 0 and below 100, with two decimals at most"
                )));
            }
            positive(*cap)?;
        }
        CouponOffer::Threshold { threshold, amount } => {
            positive(*threshold)?;
            positive(*amount)?;
        }
        CouponOffer::Session { service } => validate_text("service", service)?,
    }
    validate_text("reason", reason)?;
    after(expires_at, at)
}

/// Checks a `grant_package`: 1 to [`SESSIONS_MAX`] sessions, free text, an expiry after the
/// command's time.
fn validate_grant(
    (service, sessions, reason): (&str, u32, &str),
    expires_at: Option<Timestamp>,
    at: Timestamp,
) -> Result<(), Rejection> {
    if sessions == 0 || sessions > SESSIONS_MAX {
        return Err(Rejection::InvalidAmount(format!(
            "sessions must be 1-{SESSIONS_MAX}, not {sessions}"
        )));
    }
    validate_text("service", service)?;
    validate_text("reason", reason)?;
    expires_at.map_or(Ok(()), |e| after(e, at))
}

/// The checks of a coupon command; `None` for any other action.
pub(super) fn validate_coupon_action(
    action: &Action,
    at: Timestamp,
) -> Option<Result<(), Rejection>> {
    Some(match action {
        Action::IssueCoupon {
            offer,
            reason,
            expires_at,
        } => validate_issue(offer, reason, *expires_at, at),
        Action::GrantPackage {
            service,
            sessions,
            expires_at,
            reason,
        } => validate_grant((service, *sessions, reason), *expires_at, at),
        _ => return None,
    })
}

/// A consumption's coupon: a non-nil id.
pub(super) fn validate_coupon_id(coupon: Option<Uuid>) -> Result<(), Rejection> {
    coupon.map_or(Ok(()), |c| uuid_set("coupon", c))
}

fn after(expires_at: Timestamp, at: Timestamp) -> Result<(), Rejection> {
    if expires_at <= at {
        return Err(invalid(format!(
            "expires_at {expires_at} must be after the command's time {at}"
        )));
    }
    Ok(())
}
