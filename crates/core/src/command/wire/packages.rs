//! The wire fields of the package commands: `purchase_package`, `redeem_session` and
//! `refund_package`.

use super::money::{put_external, read_external};
use super::{invalid, need, parse_amount, parse_uuid, staff, time, Wire};
use crate::command::Action;
use crate::error::Rejection;

/// Reads a package command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    Ok(Some(match kind {
        "purchase_package" => read_purchase(w)?,
        "redeem_session" => Action::RedeemSession {
            package: parse_uuid("package", &need(kind, w.package.take(), "package")?)?,
            staff: staff(w.staff.take())?,
        },
        "refund_package" => Action::RefundPackage {
            package: parse_uuid("package", &need(kind, w.package.take(), "package")?)?,
            reason: w.reason.take(),
        },
        _ => return Ok(None),
    }))
}

/// The fields of a `purchase_package`.
fn read_purchase(w: &mut Wire) -> Result<Action, Rejection> {
    let sessions = w
        .sessions
        .take()
        .ok_or_else(|| invalid("`purchase_package` needs the field `sessions`".into()))?;
    let amount = parse_amount(&need("purchase_package", w.amount.take(), "amount")?)?;
    Ok(Action::PurchasePackage {
        amount,
        paid_from: w.paid_from.take().ok_or_else(|| {
            invalid("`purchase_package` needs the field `paid_from` (cash or balance)".into())
        })?,
        service: need("purchase_package", w.service.take(), "service")?,
        sessions,
        expires_at: time(w.expires_at.take())?,
        staff: staff(w.staff.take())?,
        external: read_external(w)?,
    })
}

/// Writes a package command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::PurchasePackage {
            amount,
            paid_from,
            service,
            sessions,
            expires_at,
            staff,
            external,
        } => {
            put_external(external.as_ref(), w);
            w.amount = Some(amount.to_string());
            w.paid_from = Some(*paid_from);
            w.service = Some(service.clone());
            w.sessions = Some(*sessions);
            w.expires_at = expires_at.map(|t| t.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::RedeemSession { package, staff } => {
            w.package = Some(package.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::RefundPackage { package, reason } => {
            w.package = Some(package.to_string());
            w.reason = reason.clone();
        }
        _ => {}
    }
}
