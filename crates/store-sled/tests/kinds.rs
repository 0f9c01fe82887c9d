//! The sled store answers "a ledger already exists", "no ledger here" and "locked by another
//! process" with their own error kinds, and says whether a ledger lives at a path without the
//! caller knowing sled's file names.

use memberledger_store::{EventStore, StoreError};
use memberledger_store_sled::SledStore;

fn ledger_at(path: &std::path::Path) {
    let store = SledStore::create(path).unwrap();
    store.set_meta("policy", b"{}").unwrap();
}

#[test]
fn exists_says_whether_a_ledger_lives_at_a_path_without_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    assert!(!SledStore::exists(&path));
    assert!(!path.exists(), "asking created something");
    ledger_at(&path);
    assert!(SledStore::exists(&path));
}

#[test]
fn create_over_a_ledger_is_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    match SledStore::create(&path) {
        Err(StoreError::AlreadyExists { location }) => {
            assert_eq!(location, path.display().to_string());
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn create_over_a_ledger_open_elsewhere_is_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let _held = SledStore::open(&path).unwrap();
    assert!(matches!(
        SledStore::create(&path),
        Err(StoreError::AlreadyExists { .. })
    ));
}

#[test]
fn open_existing_where_there_is_none_is_no_ledger_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nothing");
    match SledStore::open_existing(&path) {
        Err(StoreError::NoLedger { location }) => {
            assert_eq!(location, path.display().to_string());
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert!(!path.exists());
    let opened = SledStore::open_existing(dir.path());
    assert!(matches!(opened, Err(StoreError::NoLedger { .. })));
}

#[test]
fn open_existing_over_files_without_a_ledger_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interrupted");
    // An interrupted create: sled's files and the anchor, no setting, no event.
    drop(SledStore::open(&path).unwrap());
    assert!(SledStore::exists(&path));
    assert!(matches!(
        SledStore::open_existing(&path),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        SledStore::create(&path),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn open_existing_opens_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let store = SledStore::open_existing(&path).unwrap();
    assert_eq!(store.meta("policy").unwrap().as_deref(), Some(&b"{}"[..]));
}

#[test]
fn a_ledger_held_by_another_handle_is_locked_and_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let _held = SledStore::open(&path).unwrap();
    let err = SledStore::open(&path).map(|_| ()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("open in another process"), "{err}");
}
