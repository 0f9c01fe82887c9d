//! Closed periods: `close_period` closes every period through a time, after which no command
//! may take effect at or before it (`period_closed`); a correction is an adjustment in the
//! open period naming what it corrects.

use super::envelope;
use crate::command::Command;
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::events::PeriodClosed;
use crate::policy::history::PolicyHistory;
use crate::time::Timestamp;

/// Refuses a command that would take effect at or before the end of the closed period.
pub(super) fn check_open(history: &PolicyHistory, cmd: &Command) -> Result<(), Rejection> {
    match history.closed_through() {
        Some(t) if cmd.at <= t => Err(Rejection::PeriodClosed(format!(
            "the period through {t} is closed: a `{}` at {} cannot take effect in it; record a correction in the open period (an `adjust` naming what it `corrects`)",
            cmd.action.type_name(),
            cmd.at
        ))),
        _ => Ok(()),
    }
}

/// Decides a `close_period`: it closes through a time after the previous close (and, as the
/// command's form requires, not after the command's own time).
pub(super) fn decide_close(
    history: &PolicyHistory,
    cmd: &Command,
    through: Timestamp,
    policy_version: u32,
) -> Result<Vec<Event>, Rejection> {
    if let Some(t) = history.closed_through().filter(|t| through <= *t) {
        return Err(Rejection::PeriodClosed(format!(
            "the period through {t} is already closed; close through a later time"
        )));
    }
    Ok(vec![envelope(
        cmd,
        (0, history.stream_version() + 1),
        policy_version,
        EventBody::PeriodClosed(PeriodClosed { through }),
    )])
}
