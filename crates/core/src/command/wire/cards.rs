//! The wire fields of the card commands: `link_card`, `report_lost`, `replace_card` and
//! `unlink_card` (the card itself is the command's common `card` field).

use super::{need, Wire};
use crate::command::Action;
use crate::error::Rejection;

/// Reads a card command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    Ok(Some(match kind {
        "link_card" => Action::LinkCard,
        "report_lost" => Action::ReportLost {
            reason: w.reason.take(),
        },
        "replace_card" => Action::ReplaceCard {
            new_card: need(kind, w.new_card.take(), "new_card")?,
        },
        "unlink_card" => Action::UnlinkCard,
        _ => return Ok(None),
    }))
}

/// Writes a card command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::ReportLost { reason } => w.reason = reason.clone(),
        Action::ReplaceCard { new_card } => w.new_card = Some(new_card.clone()),
        _ => {}
    }
}
