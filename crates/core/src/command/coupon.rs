//! The coupon commands' fields: what an `issue_coupon` offers, their wire form (read and
//! written) and their checks.

use rust_decimal::Decimal;
use uuid::Uuid;

use super::validate::{positive, uuid_set};
use super::wire::{invalid, Wire};
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

/// Reads an amount field of a coupon command.
fn money(field: &str, s: Option<String>) -> Result<Option<Money>, Rejection> {
    s.map(|s| {
        s.parse::<Money>()
            .map_err(|e| Rejection::InvalidAmount(format!("{field}: {e}")))
    })
    .transpose()
}

/// The fields of an `issue_coupon`: `reason` and `expires_at`, and the offer: `service` (a
/// free session), `percent` with `cap`, `threshold` with `amount`, or `amount` alone.
fn read_issue_coupon(w: &mut Wire) -> Result<Action, Rejection> {
    let need = |f: Option<String>, name: &str| {
        f.ok_or_else(|| invalid(format!("`issue_coupon` needs the field `{name}`")))
    };
    let (amount, cap, threshold) = (
        money("amount", w.amount.take())?,
        money("cap", w.cap.take())?,
        money("threshold", w.threshold.take())?,
    );
    let percent = w.percent.take();
    let offer = match (w.service.take(), percent, amount, cap, threshold) {
        (Some(service), None, None, None, None) => CouponOffer::Session { service },
        (None, Some(p), None, Some(cap), None) => CouponOffer::Percent {
            percent: p
                .parse()
                .map_err(|_| invalid(format!("percent {p:?} is not a number")))?,
            cap,
        },
        (None, None, Some(amount), None, Some(threshold)) => {
            CouponOffer::Threshold { threshold, amount }
        }
        (None, None, Some(amount), None, None) => CouponOffer::Amount(amount),
        _ => {
            return Err(invalid(
                "`issue_coupon` offers one of: `amount`; `percent` with `cap`; `threshold` with `amount`; `service` (a free session)".into(),
            ))
        }
    };
    Ok(Action::IssueCoupon {
        offer,
        reason: need(w.reason.take(), "reason")?,
        expires_at: need(w.expires_at.take(), "expires_at")?.parse()?,
    })
}

/// The fields of an `issue_coupon` or a `grant_package`.
pub(super) fn read_coupon_action(kind: &str, w: &mut Wire) -> Result<Action, Rejection> {
    if kind == "grant_package" {
        read_grant_package(w)
    } else {
        read_issue_coupon(w)
    }
}

/// The fields of a `grant_package`: `service`, `sessions`, `reason`, optional `expires_at`.
fn read_grant_package(w: &mut Wire) -> Result<Action, Rejection> {
    let need = |f: Option<String>, name: &str| {
        f.ok_or_else(|| invalid(format!("`grant_package` needs the field `{name}`")))
    };
    Ok(Action::GrantPackage {
        service: need(w.service.take(), "service")?,
        sessions: w
            .sessions
            .take()
            .ok_or_else(|| invalid("`grant_package` needs the field `sessions`".into()))?,
        expires_at: w.expires_at.take().map(|s| s.parse()).transpose()?,
        reason: need(w.reason.take(), "reason")?,
    })
}

/// Writes the fields of the coupon commands into the wire form.
pub(super) fn put_coupon_action(action: &Action, w: &mut Wire) {
    match action {
        Action::IssueCoupon {
            offer,
            reason,
            expires_at,
        } => {
            match offer {
                CouponOffer::Amount(a) => w.amount = Some(a.to_string()),
                CouponOffer::Percent { percent, cap } => {
                    w.percent = Some(percent.normalize().to_string());
                    w.cap = Some(cap.to_string());
                }
                CouponOffer::Threshold { threshold, amount } => {
                    w.threshold = Some(threshold.to_string());
                    w.amount = Some(amount.to_string());
                }
                CouponOffer::Session { service } => w.service = Some(service.clone()),
            }
            w.reason = Some(reason.clone());
            w.expires_at = Some(expires_at.to_string());
        }
        Action::GrantPackage {
            service,
            sessions,
            expires_at,
            reason,
        } => {
            w.service = Some(service.clone());
            w.sessions = Some(*sessions);
            w.expires_at = expires_at.map(|t| t.to_string());
            w.reason = Some(reason.clone());
        }
        _ => {}
    }
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
