//! The wire fields of the coupon commands: `issue_coupon` (its offer read from `amount`,
//! `percent` with `cap`, `threshold` with `amount`, or `service`) and `grant_package`.

use super::{invalid, Wire};
use crate::command::{Action, CouponOffer};
use crate::error::Rejection;
use crate::money::Money;

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

/// Reads a coupon command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    match kind {
        "issue_coupon" => read_issue_coupon(w).map(Some),
        "grant_package" => read_grant_package(w).map(Some),
        _ => Ok(None),
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

/// Writes a coupon command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
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
