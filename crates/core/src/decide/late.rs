//! Late commands from offline terminals: a member's command older than the member's last
//! event is accepted within the policy's `late_window_hours`, taking effect at the member's
//! current point (balances never rewrite history) and keeping its own time as `occurred_at`.

use chrono::Duration;

use crate::command::Command;
use crate::error::Rejection;
use crate::member::MemberState;
use crate::policy::Policy;
use crate::time::Timestamp;

/// `None` for a command in order; for a late one within the window, the command as it takes
/// effect (at the member's last event's time) and its own time. Beyond the window, or with
/// no window, a late command is `out_of_order`.
pub(super) fn late_command(
    cmd: &Command,
    state: &MemberState,
    policy: &Policy,
) -> Result<Option<(Command, Timestamp)>, Rejection> {
    if cmd.at >= state.last_at {
        return Ok(None);
    }
    let within = policy.late_window_hours.is_some_and(|h| {
        cmd.at
            .as_datetime()
            .checked_add_signed(Duration::hours(i64::from(h)))
            .is_some_and(|limit| limit >= state.last_at.as_datetime())
    });
    if !within {
        let window = policy
            .late_window_hours
            .map_or(String::from("the policy accepts no late commands"), |h| {
                format!("beyond the policy's late window of {h} hours")
            });
        return Err(Rejection::OutOfOrder(format!(
            "command time {} is before member {}'s last event at {} ({window})",
            cmd.at, cmd.member, state.last_at
        )));
    }
    let mut shifted = cmd.clone();
    shifted.at = state.last_at;
    Ok(Some((shifted, cmd.at)))
}
