//! The wire fields of the hold commands: `authorize`, `capture` and `void`.

use uuid::Uuid;

use super::{need, parse_amount, parse_uuid, staff, time, Wire};
use crate::command::Action;
use crate::error::Rejection;

/// Reads a hold command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    let hold = |w: &mut Wire| -> Result<Uuid, Rejection> {
        parse_uuid("hold", &need(kind, w.hold.take(), "hold")?)
    };
    Ok(Some(match kind {
        "authorize" => Action::Authorize {
            amount: parse_amount(&need(kind, w.amount.take(), "amount")?)?,
            expires_at: time(w.expires_at.take())?,
        },
        "capture" => Action::Capture {
            hold: hold(w)?,
            amount: parse_amount(&need(kind, w.amount.take(), "amount")?)?,
            staff: staff(w.staff.take())?,
            service: w.service.take(),
        },
        "void" => Action::Void {
            hold: hold(w)?,
            reason: w.reason.take(),
        },
        _ => return Ok(None),
    }))
}

/// Writes a hold command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::Authorize { amount, expires_at } => {
            w.amount = Some(amount.to_string());
            w.expires_at = expires_at.map(|t| t.to_string());
        }
        Action::Capture {
            hold,
            amount,
            staff,
            service,
        } => {
            w.hold = Some(hold.to_string());
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
            w.service = service.clone();
        }
        Action::Void { hold, reason } => {
            w.hold = Some(hold.to_string());
            w.reason = reason.clone();
        }
        _ => {}
    }
}
