//! `memberledger init`: creates a new ledger.

use std::path::Path;

use memberledger::Policy;

use crate::{emit_done, Db, Fail};

/// The policy in a file, or the built-in one.
pub(crate) fn read_policy(policy: Option<&Path>) -> Result<Policy, Fail> {
    match policy {
        None => Ok(Policy::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Fail::usage(format!("cannot read {}: {e}", p.display())))?;
            Policy::from_json(&text).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))
        }
    }
}

/// Creates a ledger at `db` under the policy in a file, or the built-in one.
pub(crate) fn run(db: &Db, policy: Option<&Path>) -> Result<u8, Fail> {
    db.create(read_policy(policy)?)?;
    let done = format!("created a ledger at {}", db.describe());
    emit_done(&format!("{done}\n"), &done)
}
