//! The wire fields of the member's own commands: `enroll`, `change_tier`, `review_tier`,
//! `freeze`, `unfreeze` and `open_balance`.

use super::{invalid, need, Wire};
use crate::command::Action;
use crate::error::Rejection;

/// Reads a member command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    // Tier names are checked by `validate` (a tier is named like an id, so a command's every
    // field is bounded and its canonical JSON parses back within the line limit).
    Ok(Some(match kind {
        "enroll" => Action::Enroll {
            tier: w.tier.take(),
        },
        "change_tier" => Action::ChangeTier {
            tier: need(kind, w.tier.take(), "tier")?,
            reason: w.reason.take(),
        },
        "review_tier" => Action::ReviewTier,
        "freeze" => Action::Freeze {
            reason: w.reason.take(),
        },
        "unfreeze" => Action::Unfreeze {
            reason: w.reason.take(),
        },
        "open_balance" => read_opening(w)?,
        _ => return Ok(None),
    }))
}

/// An opening balance: its `opening` (required) and starting `tier`.
fn read_opening(w: &mut Wire) -> Result<Action, Rejection> {
    let opening = w
        .opening
        .take()
        .ok_or_else(|| invalid("`open_balance` needs the field `opening`".into()))?;
    Ok(Action::OpenBalance {
        tier: w.tier.take(),
        opening: Box::new(opening),
    })
}

/// Writes a member command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::Enroll { tier } => w.tier = tier.clone(),
        Action::ChangeTier { tier, reason } => {
            w.tier = Some(tier.clone());
            w.reason = reason.clone();
        }
        Action::Freeze { reason } | Action::Unfreeze { reason } => w.reason = reason.clone(),
        Action::OpenBalance { tier, opening } => {
            w.tier = tier.clone();
            w.opening = Some((**opening).clone());
        }
        _ => {}
    }
}
