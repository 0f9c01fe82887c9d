//! Telling a ledger held by another holder from other storage failures, so callers can
//! report it as such (`locked`) without reading this crate's messages themselves.

use memberledger_store::StoreError;

/// The words every "held elsewhere" failure of this store carries: sled's lock on its data
/// file is held by another process, or by another handle in this process (each open takes
/// its own lock, so a second open of a ledger still open here is refused the same way).
pub(crate) const HELD_ELSEWHERE: &str = "open in another process";

/// Whether `e` is this store refusing to open a ledger because another holder has it open
/// (see [`SledStore::open`](crate::SledStore::open)): retrying once that holder closes it
/// can succeed.
pub fn is_held_elsewhere(e: &StoreError) -> bool {
    matches!(e, StoreError::Storage(why) if why.contains(HELD_ELSEWHERE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lock_held_elsewhere_is_held_elsewhere() {
        let held = StoreError::Storage(format!("the ledger at /x is {HELD_ELSEWHERE}"));
        assert!(is_held_elsewhere(&held));
        assert!(!is_held_elsewhere(&StoreError::Storage("disk full".into())));
        assert!(!is_held_elsewhere(&StoreError::Corrupt {
            position: 1,
            why: HELD_ELSEWHERE.into()
        }));
    }
}
