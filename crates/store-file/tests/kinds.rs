//! The file store answers "a ledger already exists", "no ledger here" and "locked by another
//! process" with their own error kinds, and says whether a ledger lives at a path without the
//! caller knowing the store's file names; a read-only open takes no lock and writes nothing.

use memberledger_store::{EventStore, StoreError};
use memberledger_store_file::FileStore;

fn ledger_at(path: &std::path::Path) {
    let store = FileStore::create(path).unwrap();
    store.set_meta("policy", b"{}").unwrap();
}

#[test]
fn exists_says_whether_a_ledger_lives_at_a_path_without_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    assert!(!FileStore::exists(&path));
    assert!(!path.exists(), "asking created something");
    ledger_at(&path);
    assert!(FileStore::exists(&path));
}

#[test]
fn create_over_a_ledger_is_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    match FileStore::create(&path) {
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
    let _held = FileStore::open(&path).unwrap();
    assert!(matches!(
        FileStore::create(&path),
        Err(StoreError::AlreadyExists { .. })
    ));
}

#[test]
fn open_existing_where_there_is_none_is_no_ledger_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nothing");
    match FileStore::open_existing(&path) {
        Err(StoreError::NoLedger { location }) => {
            assert_eq!(location, path.display().to_string());
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert!(!path.exists());
    let opened = FileStore::open_existing(dir.path());
    assert!(matches!(opened, Err(StoreError::NoLedger { .. })));
}

#[test]
fn open_existing_over_files_without_a_ledger_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interrupted");
    // An interrupted create: FORMAT and a segment, no setting, no event.
    drop(FileStore::open(&path).unwrap());
    assert!(FileStore::exists(&path));
    assert!(matches!(
        FileStore::open_existing(&path),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        FileStore::create(&path),
        Err(StoreError::Corrupt { .. })
    ));
}

#[test]
fn open_existing_opens_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let store = FileStore::open_existing(&path).unwrap();
    assert_eq!(store.meta("policy").unwrap().as_deref(), Some(&b"{}"[..]));
}

#[test]
fn a_ledger_held_by_another_handle_is_locked_and_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let _held = FileStore::open(&path).unwrap();
    let err = FileStore::open(&path).map(|_| ()).unwrap_err();
    assert!(matches!(err, StoreError::Locked { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("open in another process"), "{err}");
}

#[test]
fn a_read_only_open_takes_no_lock_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let held = FileStore::open(&path).unwrap();
    let reader = FileStore::open_read_only(&path).unwrap();
    assert!(reader.is_read_only());
    assert_eq!(reader.meta("policy").unwrap().as_deref(), Some(&b"{}"[..]));
    let err = reader.set_meta("policy", b"[]").unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    assert!(!reader.keeps_checkpoints());
    drop(held);
    assert!(matches!(
        FileStore::open_read_only(dir.path().join("none")),
        Err(StoreError::NoLedger { .. })
    ));
}

#[test]
fn a_format_file_naming_another_format_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    std::fs::write(path.join("FORMAT"), "file-log 99\n").unwrap();
    let err = FileStore::open(&path).map(|_| ()).unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { why, .. } if why.contains("unknown format")),
        "{err:?}"
    );
}

#[test]
fn settings_survive_a_reopen_and_a_missing_one_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    ledger_at(&path);
    let store = FileStore::open(&path).unwrap();
    store.set_meta("odd key/with ü", b"v1").unwrap();
    store.set_meta("odd key/with ü", b"v2").unwrap();
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(
        store.meta("odd key/with ü").unwrap().as_deref(),
        Some(&b"v2"[..])
    );
    assert_eq!(store.meta("absent").unwrap(), None);
}

#[test]
fn a_file_store_is_never_created_over_a_sled_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("conf"), b"segment_size: 524288\n").unwrap();
    std::fs::write(path.join("db"), b"sled's log").unwrap();
    for opened in [FileStore::open(&path), FileStore::create(&path)] {
        assert!(
            matches!(opened, Err(StoreError::AlreadyExists { .. })),
            "{:?}",
            opened.map(|_| ())
        );
    }
    assert!(!path.join("FORMAT").exists(), "nothing was written");
}
