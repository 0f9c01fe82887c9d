//! What each role may do. The only place that reads a role.

use memberledger::{Action, Command, MemberId};

use crate::auth::Role;
use crate::error::ApiError;
use crate::state::Caller;

/// Commands: `hq` any; `store:<id>` only its own store's, and never a policy publication or a
/// period's close.
pub(crate) fn write(caller: &Caller, command: &Command) -> Result<(), ApiError> {
    match &caller.role {
        Role::Hq => Ok(()),
        Role::Store(store) if matches!(command.action, Action::PublishPolicy { .. }) => {
            Err(ApiError::forbidden(format!(
                "a store token (store:{store}) may not publish a policy"
            )))
        }
        // Closing a period fixes the chain's filed figures: headquarters' alone.
        Role::Store(store) if matches!(command.action, Action::ClosePeriod { .. }) => {
            Err(ApiError::forbidden(format!(
                "a store token (store:{store}) may not close a period"
            )))
        }
        Role::Store(store) if *store == command.store => Ok(()),
        Role::Store(store) => Err(ApiError::forbidden(format!(
            "command {} is for store {}: a store:{store} token acts for its own store only",
            command.id, command.store
        ))),
        role => Err(ApiError::forbidden(format!(
            "a {} token never sends commands",
            role_kind(role)
        ))),
    }
}

/// Commands at all (before the body is read): `hq` and stores.
pub(crate) fn send_commands(caller: &Caller) -> Result<(), ApiError> {
    match &caller.role {
        Role::Hq | Role::Store(_) => Ok(()),
        role => Err(ApiError::forbidden(format!(
            "a {} token never sends commands",
            role_kind(role)
        ))),
    }
}

/// A member's view and statement: every role but a member's reads any member; a member's
/// reads its own only.
pub(crate) fn read_member(caller: &Caller, member: &MemberId) -> Result<(), ApiError> {
    match &caller.role {
        Role::Member(own) if own != member => Err(ApiError::forbidden(format!(
            "a member:{own} token reads member {own} only"
        ))),
        _ => Ok(()),
    }
}

/// A member's events: `hq`, stores, auditors.
pub(crate) fn read_events(caller: &Caller) -> Result<(), ApiError> {
    match &caller.role {
        Role::Member(_) => Err(ApiError::forbidden(
            "a member token reads the member's view and statement only",
        )),
        _ => Ok(()),
    }
}

/// Reports, verify, export, metrics: `hq` and auditors.
pub(crate) fn read_books(caller: &Caller) -> Result<(), ApiError> {
    match &caller.role {
        Role::Hq | Role::Auditor => Ok(()),
        role => Err(ApiError::forbidden(format!(
            "reports, verify, export and metrics are for hq and auditor tokens, not a {} token",
            role_kind(role)
        ))),
    }
}

/// The policy in force and its versions: every role but a member's.
pub(crate) fn read_policy(caller: &Caller) -> Result<(), ApiError> {
    read_events(caller)
}

/// Publishing a policy: `hq` only.
pub(crate) fn publish(caller: &Caller) -> Result<(), ApiError> {
    match &caller.role {
        Role::Hq => Ok(()),
        role => Err(ApiError::forbidden(format!(
            "only an hq token publishes a policy, not a {} token",
            role_kind(role)
        ))),
    }
}

fn role_kind(role: &Role) -> &'static str {
    match role {
        Role::Hq => "hq",
        Role::Store(_) => "store",
        Role::Auditor => "auditor",
        Role::Member(_) => "member",
    }
}
