//! The wire fields of the stored-value commands: `recharge`, `grant_bonus`, `consume` (with
//! its external part and coupon), `refund_consumption`, `refund_balance`, `expire` and
//! `adjust`.

use super::{invalid, need, parse_amount, parse_uuid, staff, time, Wire};
use crate::command::{Action, Balance, ExternalAmount, ExternalPay};
use crate::error::Rejection;
use crate::id::StaffId;

/// Reads a stored-value command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    // Free text is checked by `validate`.
    Ok(Some(match kind {
        "recharge" => Action::Recharge {
            amount: parse_amount(&need(kind, w.amount.take(), "amount")?)?,
            staff: staff(w.staff.take())?,
        },
        "grant_bonus" => Action::GrantBonus {
            amount: parse_amount(&need(kind, w.amount.take(), "amount")?)?,
            reason: need(kind, w.reason.take(), "reason")?,
            expires_at: time(w.expires_at.take())?,
        },
        "consume" => Action::Consume {
            amount: parse_amount(&need(kind, w.amount.take(), "amount")?)?,
            staff: staff(w.staff.take())?,
            service: w.service.take(),
            external: read_external(w)?,
            coupon: w
                .coupon
                .take()
                .map(|s| parse_uuid("coupon", &s))
                .transpose()?,
        },
        "refund_consumption" => Action::RefundConsumption {
            consumption: parse_uuid(
                "consumption",
                &need(kind, w.consumption.take(), "consumption")?,
            )?,
            amount: w.amount.take().map(|s| parse_amount(&s)).transpose()?,
        },
        "refund_balance" => Action::RefundBalance,
        "expire" => Action::Expire,
        "adjust" => read_adjust(w)?,
        _ => return Ok(None),
    }))
}

/// A payment's external part: `method` (required with `external`), and `external`, an
/// amount or `all`; `method` alone pays what the card cannot cover.
pub(super) fn read_external(w: &mut Wire) -> Result<Option<ExternalPay>, Rejection> {
    let amount = match w.external.take() {
        None => ExternalAmount::Rest,
        Some(s) if s == "all" => ExternalAmount::All,
        Some(s) => ExternalAmount::Fixed(parse_amount(&s)?),
    };
    match w.method.take() {
        Some(method) => Ok(Some(ExternalPay { method, amount })),
        None if amount == ExternalAmount::Rest => Ok(None),
        None => Err(invalid(
            "`external` needs the field `method` (how it was paid: cash, wechat, …)".into(),
        )),
    }
}

/// The fields of an `adjust`.
fn read_adjust(w: &mut Wire) -> Result<Action, Rejection> {
    let balance = w
        .balance
        .take()
        .ok_or_else(|| invalid("`adjust` needs the field `balance`".into()))?;
    let direction = w
        .direction
        .take()
        .ok_or_else(|| invalid("`adjust` needs the field `direction`".into()))?;
    let (amount, points) = if balance == Balance::Points {
        let p = w
            .points
            .take()
            .ok_or_else(|| invalid("a points adjustment needs `points`".into()))?;
        (None, Some(p))
    } else {
        let amount = parse_amount(&need("adjust", w.amount.take(), "amount")?)?;
        (Some(amount), None)
    };
    Ok(Action::Adjust {
        balance,
        direction,
        amount,
        points,
        reason: need("adjust", w.reason.take(), "reason")?,
        operator: StaffId::new(need("adjust", w.operator.take(), "operator")?)?,
        corrects: w
            .corrects
            .take()
            .map(|s| parse_uuid("corrects", &s))
            .transpose()?,
    })
}

/// Writes a stored-value command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::Recharge { amount, staff } => {
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => {
            w.amount = Some(amount.to_string());
            w.reason = Some(reason.clone());
            w.expires_at = expires_at.map(|t| t.to_string());
        }
        Action::Consume {
            amount,
            staff,
            service,
            external,
            coupon,
        } => {
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
            w.service = service.clone();
            w.coupon = coupon.map(|c| c.to_string());
            put_external(external.as_ref(), w);
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => {
            w.consumption = Some(consumption.to_string());
            w.amount = amount.map(|a| a.to_string());
        }
        Action::Adjust {
            balance,
            direction,
            amount,
            points,
            reason,
            operator,
            corrects,
        } => {
            w.corrects = corrects.map(|c| c.to_string());
            w.balance = Some(*balance);
            w.direction = Some(*direction);
            w.amount = amount.map(|a| a.to_string());
            w.points = *points;
            w.reason = Some(reason.clone());
            w.operator = Some(operator.to_string());
        }
        _ => {}
    }
}

/// A payment's external part: its `method`, and `external` unless it is the rest.
pub(super) fn put_external(external: Option<&ExternalPay>, w: &mut Wire) {
    if let Some(x) = external {
        w.method = Some(x.method.clone());
        w.external = match x.amount {
            ExternalAmount::Rest => None,
            ExternalAmount::All => Some("all".into()),
            ExternalAmount::Fixed(m) => Some(m.to_string()),
        };
    }
}
