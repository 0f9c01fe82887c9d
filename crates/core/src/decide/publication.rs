//! Policy publication: a new version, in force from the command's time, and the founding
//! record of the policy a ledger was created with.

use super::envelope;
use crate::command::Command;
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::events::PolicyPublished;
use crate::policy::founding::is_founding_command;
use crate::policy::history::PolicyHistory;
use crate::policy::Policy;
use crate::time::Timestamp;

/// Decides a `publish_policy`. The new version takes effect at the command's time, which
/// must be after every event already recorded (`latest_at`), so no recorded command was
/// decided under a policy that was not yet in force for it.
pub(super) fn decide_publication(
    history: &PolicyHistory,
    cmd: &Command,
    policy: &Policy,
    latest_at: Option<Timestamp>,
) -> Result<Vec<Event>, Rejection> {
    if is_founding_command(cmd) {
        return decide_founding(history, cmd, policy);
    }
    if let Some(t) = latest_at.filter(|t| cmd.at <= *t) {
        return Err(Rejection::OutOfOrder(format!(
            "a policy cannot take effect at {}: the ledger already holds events at {t}; publish it for a later time",
            cmd.at
        )));
    }
    let current = history.current();
    if policy.currency != current.policy.currency {
        return Err(Rejection::InvalidPolicy(format!(
            "a ledger keeps one currency: {} cannot become {}",
            current.policy.currency, policy.currency
        )));
    }
    if current.effective_at.is_some_and(|t| cmd.at <= t) {
        return Err(Rejection::OutOfOrder(format!(
            "policy version {} takes effect at {}; a new one must take effect later",
            current.version,
            current.effective_at.expect("checked")
        )));
    }
    // Members hold the tiers of the version replaced: each must stay defined (adding
    // tiers is fine), or they would be charged by no tier and could not be moved back.
    let missing: Vec<&str> = current
        .policy
        .tiers
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| policy.tier(name).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(Rejection::InvalidPolicy(format!(
            "the new policy drops the tier{} {} of version {}, which members may hold; keep every tier (new ones may be added)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            current.version
        )));
    }
    let version = current.version.checked_add(1).ok_or_else(|| {
        Rejection::LimitExceeded(format!(
            "policy version {} is the last a ledger can record",
            current.version
        ))
    })?;
    Ok(vec![envelope(
        cmd,
        (0, history.stream_version() + 1),
        version,
        EventBody::PolicyPublished(PolicyPublished {
            policy: serde_json::to_value(policy).expect("policy serialises"),
            version,
        }),
    )])
}

/// Decides the founding record: recorded once, and only of the founding policy.
fn decide_founding(
    history: &PolicyHistory,
    cmd: &Command,
    policy: &Policy,
) -> Result<Vec<Event>, Rejection> {
    if history.founding_in_chain() {
        return Err(Rejection::OutOfOrder(
            "the founding policy is already recorded in the chain".into(),
        ));
    }
    if *policy != *history.versions()[0].policy {
        return Err(Rejection::InvalidPolicy(
            "a founding record must hold the ledger's founding policy".into(),
        ));
    }
    Ok(vec![envelope(
        cmd,
        (0, history.stream_version() + 1),
        1,
        EventBody::PolicyPublished(PolicyPublished {
            policy: serde_json::to_value(policy).expect("policy serialises"),
            version: 1,
        }),
    )])
}
