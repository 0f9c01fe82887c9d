//! Settlement: a store pays another what it owes it (all, or a part), decided against the
//! stores' clearing.

use super::envelope;
use crate::books::clearing::Clearing;
use crate::command::{Action, Command};
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::events::Settled;
use crate::money::Money;

/// Decides a `settle`: the command's store pays `to` all it owes it, or the amount given, which
/// may not exceed it. The event names the policy version in force.
pub(super) fn decide_settlement(
    clearing: &Clearing,
    cmd: &Command,
    policy_version: u32,
) -> Result<Vec<Event>, Rejection> {
    let Action::Settle { to, amount } = &cmd.action else {
        return Err(Rejection::InvalidCommand(format!(
            "{} is not a settlement",
            cmd.action.type_name()
        )));
    };
    if *to == cmd.store {
        return Err(Rejection::InvalidCommand(
            "a store cannot settle with itself".into(),
        ));
    }
    if clearing.last_at.is_some_and(|t| cmd.at < t) {
        return Err(Rejection::OutOfOrder(format!(
            "command time {} is before the last settlement at {}",
            cmd.at,
            clearing.last_at.expect("checked")
        )));
    }
    if let Some(t) = clearing
        .last_movement(&cmd.store, to)
        .filter(|t| cmd.at < *t)
    {
        return Err(Rejection::OutOfOrder(format!(
            "a settlement between stores {} and {to} cannot be dated {}: their last inter-store movement is at {t}, and a settlement dated before the debt it pays would show more settled than owed as of that date; date it at or after {t}",
            cmd.store, cmd.at
        )));
    }
    let owed = clearing.net(&cmd.store, to);
    if owed == 0 {
        return Err(Rejection::SettlementExceedsOwed(format!(
            "store {} owes store {to} nothing: there is nothing to settle",
            cmd.store
        )));
    }
    let amount = match *amount {
        Some(a) if i128::from(a.cents()) > owed => {
            return Err(Rejection::SettlementExceedsOwed(format!(
                "store {} owes store {to} {}; it cannot settle {a}",
                cmd.store,
                clearing.outstanding(&cmd.store, to)
            )))
        }
        Some(a) => a,
        None => Money::from_cents(
            i64::try_from(owed)
                .ok()
                .filter(|c| crate::bounds::money_recordable(*c))
                .ok_or_else(|| {
                    Rejection::LimitExceeded(format!(
                        "store {} owes store {to} more than one settlement may record ({}); settle it in parts by giving an amount",
                        cmd.store,
                        crate::bounds::RECORDED_MAX
                    ))
                })?,
        ),
    };
    let version = clearing.version.checked_add(1).ok_or_else(|| {
        Rejection::LimitExceeded("the settlements stream is at its last version".into())
    })?;
    Ok(vec![envelope(
        cmd,
        (0, version),
        policy_version,
        EventBody::Settled(Settled {
            amount,
            creditor: to.clone(),
        }),
    )])
}
