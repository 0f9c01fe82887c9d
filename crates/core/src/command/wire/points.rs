//! The wire fields of `redeem_points`: the points, a reason, and what was given for them.

use super::{invalid, parse_amount, Wire};
use crate::command::Action;
use crate::error::Rejection;
use crate::event::{Given, GivenKind};

/// Reads a points command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    if kind != "redeem_points" {
        return Ok(None);
    }
    let points = w
        .points
        .take()
        .ok_or_else(|| invalid("`redeem_points` needs the field `points`".into()))?;
    Ok(Some(Action::RedeemPoints {
        points,
        reason: w.reason.take(),
        given: read_given(w)?,
    }))
}

/// What a points redemption gave: `service` or `gift` (its name) with its `value`.
fn read_given(w: &mut Wire) -> Result<Option<Given>, Rejection> {
    let value = w.value.take().map(|s| parse_amount(&s)).transpose()?;
    let named = match (w.service.take(), w.gift.take()) {
        (Some(item), None) => Some((GivenKind::Service, item)),
        (None, Some(item)) => Some((GivenKind::Gift, item)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(invalid(
                "`redeem_points` gives a `service` or a `gift`, not both".into(),
            ))
        }
    };
    match (named, value) {
        (Some((kind, item)), Some(value)) => Ok(Some(Given { item, kind, value })),
        (None, None) => Ok(None),
        _ => Err(invalid(
            "`redeem_points` names what it gave (`service` or `gift`) together with its `value`"
                .into(),
        )),
    }
}

/// Writes a points command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    if let Action::RedeemPoints {
        points,
        reason,
        given,
    } = action
    {
        w.points = Some(*points);
        w.reason = reason.clone();
        if let Some(g) = given {
            match g.kind {
                GivenKind::Service => w.service = Some(g.item.clone()),
                GivenKind::Gift => w.gift = Some(g.item.clone()),
            }
            w.value = Some(g.value.to_string());
        }
    }
}
