//! Faults of sled's own files and of the anchor beside them: each is reported (`Corrupt`
//! naming the file, or a position), never a panic, never a quietly shorter ledger; an
//! unfinished snapshot is cleared; a ledger that cannot be written opens for reading.

use std::path::Path;

use memberledger_core::{decide, Command, Context, Decision, Policy};
use memberledger_store::{Append, EventStore, StoreError};
use memberledger_store_sled::SledStore;

fn enroll(n: u32) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{n}","store":"S1"}}"#
    ))
    .unwrap()
}

/// A store in `path` with `n` enrolments, appended `per` at a time.
fn ledger(path: &Path, n: u32, per: u32) {
    let policy = Policy::builtin();
    let store = SledStore::open(path).unwrap();
    for start in (1..=n).step_by(per as usize) {
        let batch = (start..(start + per).min(n + 1))
            .map(|i| {
                let c = enroll(i);
                Append {
                    command: c.id,
                    digest: c.digest(),
                    member: c.member.clone(),
                    expected_version: 0,
                    events: decide(&Context::founding(&policy).with_member(None), &c)
                        .map(Decision::into_events)
                        .unwrap(),
                }
            })
            .collect();
        assert!(store.append(batch).unwrap().iter().all(Result::is_ok));
    }
}

fn corrupt_why(r: Result<SledStore, StoreError>) -> String {
    match r {
        Err(StoreError::Corrupt { why, .. }) => why,
        Err(other) => panic!("expected corrupt, got {other:?}"),
        Ok(s) => panic!("opened with head {:?}", s.head().unwrap()),
    }
}

#[test]
fn an_unfinished_snapshot_is_removed_before_sled_opens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 50, 10);
    // What a full disk leaves: an empty snapshot sled did not finish, sorting after the real one.
    let unfinished = path.join("snap.00000000FFFFFFFF.generating");
    std::fs::write(&unfinished, b"").unwrap();
    let store = SledStore::open(&path).expect("opens over an unfinished snapshot");
    assert_eq!(store.head().unwrap().position, 50);
    assert!(!unfinished.exists());
}

#[test]
fn a_torn_unacknowledged_tail_is_removed_not_reported_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 30, 10);
    // What a write that failed on a full disk can leave: part of its batch, past the
    // acknowledged head, with a gap before it.
    {
        let db = sled::open(&path).unwrap();
        let (_, first) = db.scan_prefix([b'e']).next().unwrap().unwrap();
        let mut key = vec![b'e'];
        key.extend_from_slice(&45u64.to_be_bytes());
        db.insert(key, first).unwrap();
        db.flush().unwrap();
    }
    let store = SledStore::open(&path).expect("the torn tail is dropped");
    assert_eq!(store.head().unwrap().position, 30);
    // Appending goes on where the acknowledged log ends, and reads back whole.
    drop(store);
    ledger_more(&path, 31, 40);
    let store = SledStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 40);
    assert_eq!(store.read_raw(1, 100).unwrap().len(), 40);
}

/// Appends enrolments `from..=to` to the store in `path`.
fn ledger_more(path: &Path, from: u32, to: u32) {
    let policy = Policy::builtin();
    let store = SledStore::open(path).unwrap();
    let batch = (from..=to)
        .map(|i| {
            let c = enroll(i);
            Append {
                command: c.id,
                digest: c.digest(),
                member: c.member.clone(),
                expected_version: 0,
                events: decide(&Context::founding(&policy).with_member(None), &c)
                    .map(Decision::into_events)
                    .unwrap(),
            }
        })
        .collect();
    assert!(store.append(batch).unwrap().iter().all(Result::is_ok));
}

#[test]
fn a_deleted_or_emptied_head_anchor_is_corrupt_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 30, 10);
    let anchor = path.join("memberledger.head");
    let line = std::fs::read(&anchor).unwrap();
    std::fs::remove_file(&anchor).unwrap();
    let why = corrupt_why(SledStore::open(&path));
    assert!(why.contains("memberledger.head is missing"), "{why}");
    // Never rewritten with whatever head the log has now.
    assert!(!anchor.exists());
    std::fs::write(&anchor, b"").unwrap();
    let why = corrupt_why(SledStore::open(&path));
    assert!(why.contains("memberledger.head is empty"), "{why}");
    std::fs::write(&anchor, line).unwrap();
    assert_eq!(SledStore::open(&path).unwrap().head().unwrap().position, 30);
}

#[test]
fn an_empty_new_ledger_has_its_anchor_whole_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    drop(SledStore::open(&path).unwrap());
    let text = std::fs::read_to_string(path.join("memberledger.head")).unwrap();
    assert_eq!(text.len(), 86, "{text:?}");
    assert!(!path.join("memberledger.head.tmp").exists());
    // Even an empty ledger, once anchored, refuses to lose its anchor.
    std::fs::remove_file(path.join("memberledger.head")).unwrap();
    corrupt_why(SledStore::open(&path));
}

#[test]
fn a_cut_data_file_without_its_snapshot_is_corrupt_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    ledger(&base, 4000, 40);
    let size = std::fs::metadata(base.join("db")).unwrap().len();
    for pct in (5..100).step_by(5) {
        let path = dir.path().join(format!("cut{pct}"));
        copy_dir(&base, &path);
        for e in std::fs::read_dir(&path).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("snap.") {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path.join("db"))
            .unwrap();
        f.set_len(size * pct / 100).unwrap();
        drop(f);
        // A panic here fails the test: sled's panics are caught at the store boundary.
        match SledStore::open(&path) {
            Ok(s) => assert_eq!(s.head().unwrap().position, 4000, "{pct} %: a shorter log"),
            Err(StoreError::Corrupt { position, why }) => {
                assert!(
                    position > 0 || why.contains(&path.display().to_string()),
                    "{pct} %: neither a position nor the file: {why}"
                );
                assert!(
                    !why.contains("backtrace") && !why.contains("Inline("),
                    "{why}"
                );
            }
            Err(other) => panic!("{pct} %: {other:?}"),
        }
    }
}

#[test]
fn a_ledger_that_cannot_be_written_opens_for_reading_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 20, 10);
    let Some(_ro) = ReadOnly::make(&path) else {
        eprintln!("skipped: cannot make a directory read-only here");
        return;
    };
    let store = SledStore::open(&path).expect("a read-only ledger opens");
    assert!(store.is_read_only());
    assert_eq!(store.path(), path);
    assert_eq!(store.head().unwrap().position, 20);
    assert_eq!(store.read_raw(1, 100).unwrap().len(), 20);
    let c = enroll(21);
    let refused = store.append(vec![Append {
        command: c.id,
        digest: c.digest(),
        member: c.member.clone(),
        expected_version: 0,
        events: decide(&Context::founding(&Policy::builtin()).with_member(None), &c)
            .map(Decision::into_events)
            .unwrap(),
    }]);
    match refused {
        Err(StoreError::Storage { why, .. }) => assert!(why.contains("read-only"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.set_meta("x", b"y"),
        Err(StoreError::Storage { .. })
    ));
}

/// Makes a directory read-only for this process: a read-only bind mount when running as root
/// (which ignores permission bits), else its permission bits. Undone on drop.
struct ReadOnly {
    path: std::path::PathBuf,
    mounted: bool,
}

impl ReadOnly {
    fn make(path: &Path) -> Option<ReadOnly> {
        let root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let sh = |cmd: String| {
            std::process::Command::new("sh")
                .args(["-c", &cmd])
                .status()
                .is_ok_and(|s| s.success())
        };
        let p = path.display();
        let made = if root {
            sh(format!(
                "mount --bind '{p}' '{p}' && mount -o remount,bind,ro '{p}'"
            ))
        } else {
            sh(format!("chmod -R a-w '{p}'"))
        };
        made.then(|| ReadOnly {
            path: path.to_path_buf(),
            mounted: root,
        })
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let p = self.path.display();
        let cmd = if self.mounted {
            format!("umount '{p}'")
        } else {
            format!("chmod -R u+w '{p}'")
        };
        let _ = std::process::Command::new("sh").args(["-c", &cmd]).status();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Fails naming the files under `d` that differ from `before` (added, removed or changed).
fn assert_unchanged(d: &Path, before: &[(std::path::PathBuf, Vec<u8>)], what: &str) {
    let after = files_of(d);
    let mut changed: Vec<&std::path::PathBuf> = before
        .iter()
        .filter(|f| !after.contains(f))
        .chain(after.iter().filter(|f| !before.contains(f)))
        .map(|(p, _)| p)
        .collect();
    changed.dedup();
    assert!(changed.is_empty(), "{what}: {changed:?}");
}

/// Every file under `d` (relative path, bytes).
fn files_of(d: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![d.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(d).unwrap().to_path_buf();
                out.push((rel, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn sled_files_without_a_ledger_are_corrupt_never_a_new_ledger() {
    let dir = tempfile::tempdir().unwrap();
    // What an interrupted create leaves: sled's files, no anchor yet.
    let path = dir.path().join("interrupted");
    drop(sled::open(&path).unwrap());
    let before = files_of(&path);
    let why = corrupt_why(SledStore::open(&path));
    assert!(why.contains("sled's files are here"), "{why}");
    assert!(why.contains("interrupted"), "{why}");
    assert_unchanged(&path, &before, "the open wrote to the directory");
    assert!(!path.join("memberledger.head").exists());
    // A log whose anchor is gone and whose data file is cut or empty.
    let path = dir.path().join("cut");
    ledger(&path, 300, 10);
    std::fs::remove_file(path.join("memberledger.head")).unwrap();
    for e in std::fs::read_dir(&path).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    std::fs::write(path.join("db"), b"").unwrap();
    let before = files_of(&path);
    let why = corrupt_why(SledStore::open(&path));
    assert!(why.contains("hold no ledger"), "{why}");
    corrupt_why(SledStore::open_copy(&path));
    assert_unchanged(&path, &before, "the open wrote to the directory");
    // Absent and empty directories are new ledgers.
    assert_eq!(
        SledStore::open(dir.path().join("absent"))
            .unwrap()
            .head()
            .unwrap()
            .position,
        0
    );
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let store = SledStore::open(dir.path().join("empty")).unwrap();
    assert!(!store.found_existing());
}

#[test]
fn a_copy_opened_for_reading_never_writes_to_the_ledger_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 2000, 40);
    let before = files_of(&path);
    let store = SledStore::open_copy(&path).unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.path(), path);
    assert_eq!(store.head().unwrap().position, 2000);
    assert!(matches!(
        store.set_meta("x", b"y"),
        Err(StoreError::Storage { .. })
    ));
    drop(store);
    assert_unchanged(&path, &before, "the directory changed");
    // Damaged: the snapshot gone and the log cut. A writable open lets sled rewrite it.
    for e in std::fs::read_dir(&path).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let db = std::fs::OpenOptions::new()
        .write(true)
        .open(path.join("db"))
        .unwrap();
    db.set_len(db.metadata().unwrap().len() / 3).unwrap();
    drop(db);
    let before = files_of(&path);
    for _ in 0..2 {
        corrupt_why(SledStore::open_copy(&path));
        assert_unchanged(&path, &before, "reading a copy changed the ledger");
    }
    // Not while another process (here: another handle) holds the ledger.
    let other = dir.path().join("held");
    ledger(&other, 10, 10);
    let held = SledStore::open(&other).unwrap();
    match SledStore::open_copy(&other) {
        Err(e @ StoreError::Locked { .. }) => {
            assert!(e.to_string().contains("open in another process"), "{e}")
        }
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("copied a ledger being written"),
    }
    drop(held);
}

#[test]
fn stale_read_only_copies_of_dead_processes_are_removed() {
    if !Path::new("/proc/self").exists() {
        eprintln!("skipped: processes cannot be looked up here");
        return;
    }
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let tmp = std::env::temp_dir();
    let stale = tmp.join(format!("memberledger-readonly-{dead}-stale-test"));
    let live = tmp.join(format!(
        "memberledger-readonly-{}-live-test",
        std::process::id()
    ));
    for d in [&stale, &live] {
        std::fs::create_dir_all(d.join("blobs")).unwrap();
        std::fs::write(d.join("db"), b"x").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 5, 5);
    let store = SledStore::open_copy(&path).unwrap();
    assert!(!stale.exists(), "a dead process's copy was left");
    assert!(live.exists(), "a live process's copy was removed");
    drop(store);
    std::fs::remove_dir_all(&live).unwrap();
}

#[test]
fn a_writable_open_of_a_cut_log_leaves_its_files_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path, 2000, 40);
    for e in std::fs::read_dir(&path).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("snap.") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    let db = path.join("db");
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    f.set_len(100_000).unwrap();
    drop(f);
    let before = files_of(&path);
    // sled's recovery used to zero the cut log and extend `db`, and the next open deleted
    // the blob files: the open is judged on a copy first.
    for _ in 0..2 {
        corrupt_why(SledStore::open(&path));
        assert_unchanged(&path, &before, "a writable open changed a cut ledger");
    }
    // A data file that ends inside a segment but lost nothing acknowledged (a process killed
    // mid-write) still opens, in place.
    let whole = dir.path().join("whole");
    ledger(&whole, 300, 10);
    let mut bytes = std::fs::read(whole.join("db")).unwrap();
    bytes.extend_from_slice(&[0u8; 1000]);
    std::fs::write(whole.join("db"), bytes).unwrap();
    let store = SledStore::open(&whole).unwrap();
    assert!(!store.is_read_only());
    assert_eq!(store.head().unwrap().position, 300);
}
