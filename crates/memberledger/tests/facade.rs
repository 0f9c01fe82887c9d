//! The facade's promises to an integrator: distinct error codes for a ledger that is already
//! there, is not there, or is held elsewhere; `close` releasing the lock; `create_or_open`;
//! which errors are worth retrying; the source kept under a storage error; new ids without
//! adding the uuid crate.

use std::error::Error as _;

use memberledger::store::StoreError;
#[cfg(feature = "sled")]
use memberledger::Policy;
use memberledger::{Error, Ledger, Uuid};

#[cfg(feature = "sled")]
fn other_policy() -> Policy {
    Policy::from_json(
        r#"{"currency":"HKD","tiers":[{"name":"basic","discount":"1.00","points_per_yuan":"0"}]}"#,
    )
    .unwrap()
}

#[cfg(feature = "sled")]
#[test]
fn create_over_an_existing_ledger_is_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    Ledger::create(&path, Policy::builtin()).unwrap().close();
    let e = Ledger::create(&path, Policy::builtin()).unwrap_err();
    assert_eq!(e.code(), "already_exists", "{e}");
    assert!(!e.is_retryable());
}

#[cfg(feature = "sled")]
#[test]
fn opening_an_existing_ledger_where_there_is_none_is_no_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let e = Ledger::open_existing(dir.path().join("nothing")).unwrap_err();
    assert_eq!(e.code(), "no_ledger", "{e}");
    assert!(!e.is_retryable());
    let e = Ledger::open_verified(dir.path().join("nothing")).unwrap_err();
    assert_eq!(e.code(), "no_ledger", "{e}");
}

#[cfg(feature = "sled")]
#[test]
fn a_second_open_of_a_ledger_open_in_this_process_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let first = Ledger::open(&path).unwrap();
    let e = Ledger::open_existing(&path).unwrap_err();
    assert_eq!(e.code(), "locked", "{e}");
    assert!(
        e.is_retryable(),
        "a lock is released when its holder closes"
    );
    assert!(e.source().is_some(), "the store's error is kept: {e:?}");
    drop(first);
}

#[cfg(feature = "sled")]
#[test]
fn close_releases_the_lock_so_the_same_process_opens_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let ledger = Ledger::open(&path).unwrap();
    let head = ledger.head().unwrap();
    ledger.close();
    let again = Ledger::open_existing(&path).unwrap();
    assert_eq!(again.head().unwrap(), head);
}

#[cfg(feature = "sled")]
#[test]
fn a_forgotten_arc_clone_keeps_the_ledger_locked_until_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let ledger = std::sync::Arc::new(Ledger::open(&path).unwrap());
    let forgotten = std::sync::Arc::clone(&ledger);
    drop(ledger);
    assert_eq!(Ledger::open_existing(&path).unwrap_err().code(), "locked");
    std::sync::Arc::into_inner(forgotten).unwrap().close();
    assert!(Ledger::open_existing(&path).is_ok());
}

#[cfg(feature = "sled")]
#[test]
fn create_or_open_creates_a_new_ledger_then_opens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let created = Ledger::create_or_open(&path, other_policy()).unwrap();
    assert_eq!(*created.founding_policy(), other_policy());
    let head = created.head().unwrap();
    assert_eq!(head.position, 1, "the founding record only");
    created.close();
    let opened = Ledger::create_or_open(&path, other_policy()).unwrap();
    assert_eq!(opened.head().unwrap(), head, "nothing new recorded");
    assert_eq!(*opened.founding_policy(), other_policy());
}

#[cfg(feature = "sled")]
#[test]
fn create_or_open_refuses_an_existing_ledger_of_another_founding_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    Ledger::create_or_open(&path, other_policy())
        .unwrap()
        .close();
    let e = Ledger::create_or_open(&path, Policy::builtin()).unwrap_err();
    assert_eq!(e.code(), "invalid_policy", "{e}");
}

#[test]
fn only_conflicts_storage_failures_and_locks_are_retryable() {
    let storage = Error::from(StoreError::storage("disk full"));
    assert_eq!(storage.code(), "storage");
    assert!(storage.is_retryable());
    let corrupt = Error::from(StoreError::Corrupt {
        position: 3,
        why: "bad".into(),
    });
    assert_eq!(corrupt.code(), "corrupt");
    assert!(!corrupt.is_retryable());
    let bad_append = Error::from(StoreError::InvalidAppend("no events".into()));
    assert_eq!(bad_append.code(), "invalid_append");
    assert!(!bad_append.is_retryable());
    let rejected = Ledger::in_memory()
        .execute(
            &memberledger::Command::from_json(
                r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"10.00"}"#,
            )
            .unwrap(),
        )
        .unwrap_err();
    assert_eq!(rejected.code(), "member_not_found");
    assert!(!rejected.is_retryable());
}

#[test]
fn a_storage_error_keeps_the_store_error_as_its_source() {
    let e = Error::from(StoreError::storage("disk full"));
    let source = e.source().expect("the store's error");
    assert_eq!(source.to_string(), "disk full");
    assert_eq!(e.to_string(), "disk full", "the message is unchanged");
}

#[test]
fn new_command_ids_need_no_extra_crate() {
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    assert_ne!(a, b);
    assert_eq!(a.get_version_num(), 4);
}
