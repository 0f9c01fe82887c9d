//! The founding policy in the chain: the command that records version 1 of a ledger's policy
//! as an event, so every export carries the rules it was decided under.
//!
//! A new ledger records it first (position 1, stream `@policy`); a ledger written before it
//! existed (policy only in the store's settings) records it on its first writable open (the
//! upcast, docs/EVENTS.md). Either way it is the same command, with nothing left to chance:
//!
//! - type `publish_policy` of the complete policy (every default filled in), recorded as a
//!   `policy_published` event of `version` 1: the founding policy;
//! - `at` = [`FOUNDING_AT`], 1970-01-01T00:00:00Z, the earliest time a ledger holds: "in
//!   force from the beginning" (version 1 takes effect before every event, wherever in the log
//!   its record stands);
//! - store [`FOUNDING_STORE`] (`HQ`, the head office that sets the rules; a policy moves no
//!   money, so no store's books see it);
//! - id = UUID v5 in [`FOUNDING_NAMESPACE`] of the policy's canonical bytes (the sorted, compact
//!   JSON that the event's `data.policy` holds). The same policy gives the same id, hence the
//!   same event and the same chain; another policy gives another id; and an auditor recomputes
//!   the id from the event alone.

use uuid::Uuid;

use crate::command::{Action, Command};
use crate::event::{Event, EventBody};
use crate::events::*;
use crate::id::{MemberId, StoreId};
use crate::policy::Policy;
use crate::time::Timestamp;

/// The namespace of founding-policy command ids: `6d656d62-6572-4c65-8467-506f6c696379`
/// (the bytes of `memberLe`, then `\x84g`, then `Policy`).
pub const FOUNDING_NAMESPACE: Uuid = Uuid::from_u128(0x6d65_6d62_6572_4c65_8467_506f_6c69_6379);

/// The time of the founding record: the start of the range of times a ledger holds.
pub const FOUNDING_AT: &str = "1970-01-01T00:00:00Z";

/// The store named by the founding record.
pub const FOUNDING_STORE: &str = "HQ";

/// A policy's canonical bytes: its complete JSON (every default filled in), keys sorted at
/// every level, no whitespace; exactly what a `policy_published` event holds in `data.policy`.
pub fn policy_canonical_bytes(policy: &Policy) -> Vec<u8> {
    let value = serde_json::to_value(policy).expect("a policy serialises");
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// The command id of the founding record of a policy: UUID v5 of its canonical bytes in
/// [`FOUNDING_NAMESPACE`].
pub fn founding_command_id(policy: &Policy) -> Uuid {
    Uuid::new_v5(&FOUNDING_NAMESPACE, &policy_canonical_bytes(policy))
}

/// The time of the founding record, [`FOUNDING_AT`].
pub fn founding_at() -> Timestamp {
    FOUNDING_AT.parse().expect("the founding time parses")
}

/// The command that records `policy` as the founding policy (version 1) in the chain.
///
/// ```
/// use memberledger_core::{decide, founding_command, Context, Policy, PolicyHistory};
/// let policy = Policy::builtin();
/// let history = PolicyHistory::new(policy.clone());
/// let events = decide(&Context::new(&history), &founding_command(&policy)).unwrap().events;
/// assert!(memberledger_core::is_founding_event(&events[0]));
/// assert_eq!(PolicyHistory::from_founding_event(&events[0]).unwrap().current().policy.as_ref(), &policy);
/// ```
pub fn founding_command(policy: &Policy) -> Command {
    Command {
        id: founding_command_id(policy),
        at: founding_at(),
        member: MemberId::policy_stream(),
        store: StoreId::new(FOUNDING_STORE).expect("a valid store id"),
        card: None,
        action: Action::PublishPolicy {
            policy: Box::new(policy.clone()),
        },
    }
}

/// Whether a command is the founding record of its policy (see [`founding_command`]).
pub fn is_founding_command(cmd: &Command) -> bool {
    let Action::PublishPolicy { policy } = &cmd.action else {
        return false;
    };
    cmd.member.is_policy()
        && cmd.at == founding_at()
        && cmd.store.as_str() == FOUNDING_STORE
        && cmd.id == founding_command_id(policy)
}

/// Whether an event records a founding policy: a `policy_published` of version 1 in the
/// policy stream. ([`PolicyHistory::apply`](crate::PolicyHistory::apply) and
/// [`PolicyHistory::from_founding_event`](crate::PolicyHistory::from_founding_event) check
/// the rest: its time, store, command id and policy.)
pub fn is_founding_event(event: &Event) -> bool {
    matches!(
        event.body,
        EventBody::PolicyPublished(PolicyPublished { version: 1, .. })
    ) && event.member.is_policy()
}
