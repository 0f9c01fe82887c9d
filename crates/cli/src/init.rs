//! `memberledger init`: creates a new ledger.

use std::path::Path;

use memberledger::{Policy, StoreKind};

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

/// Creates a ledger at `db` under the policy in a file, or the built-in one; in a directory,
/// in the store `store` names (`sled` or `file`).
pub(crate) fn run(db: &Db, policy: Option<&Path>, store: &str) -> Result<u8, Fail> {
    let kind = StoreKind::parse(store)
        .ok_or_else(|| Fail::usage(format!("unknown store {store:?} (sled or file)")))?;
    db.create(read_policy(policy)?, kind)?;
    let done = format!("created a ledger at {}", db.describe());
    emit_done(&format!("{done}\n"), &done)
}
