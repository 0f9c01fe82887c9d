//! Index snapshots beside checkpoints: a writable open loads the latest and scans only the
//! frames after it, reading back exactly what a full scan reads; a damaged snapshot, or one
//! that no longer matches the log, is passed over for a full scan; a read-only open never uses
//! one, but an open to verify does, and a snapshot that lies is found when held to the log.

use std::path::Path;

use memberledger_store::{EventStore, RawEvent};
use memberledger_store_file::FileStore;

mod common;
use common::enroll;

fn append(store: &FileStore, from: u32, to: u32) {
    for i in from..=to {
        assert!(store.append(vec![enroll(i)]).unwrap()[0].is_ok());
    }
}

/// A ledger of 30 enrolments over small segments, a checkpoint (and snapshot) at 20, and what
/// it reads back.
fn ledger(path: &Path) -> Vec<RawEvent> {
    let store = FileStore::create(path).unwrap().with_segment_bytes(3_000);
    append(&store, 1, 20);
    assert!(store.write_checkpoint(20, b"the ledger's bytes").unwrap());
    append(&store, 21, 30);
    store.read_raw(1, 100).unwrap()
}

fn snapshot_file(path: &Path) -> std::path::PathBuf {
    path.join("index").join(format!("cp-{:020}", 20))
}

#[test]
fn an_open_loads_the_snapshot_and_scans_only_the_tail_reading_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let all = ledger(&path);
    assert!(snapshot_file(&path).exists());
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.opened_from_snapshot(), Some(20));
    assert_eq!(store.read_raw(1, 100).unwrap(), all);
    for e in &all {
        assert_eq!(
            store.read_positions(&[e.position]).unwrap()[0],
            e.decode().unwrap()
        );
    }
    assert!(store.command(enroll(7).command).unwrap().is_some());
    // Appends go on after the tail; the next open still agrees.
    append(&store, 31, 32);
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 32);
    // verify's read-only open scans everything.
    drop(store);
    assert_eq!(
        FileStore::open_read_only(&path)
            .unwrap()
            .opened_from_snapshot(),
        None
    );
}

#[test]
fn a_damaged_snapshot_is_passed_over_for_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let all = ledger(&path);
    let mut bytes = std::fs::read(snapshot_file(&path)).unwrap();
    for at in [0, bytes.len() / 2, bytes.len() - 1] {
        bytes[at] ^= 0x40;
        std::fs::write(snapshot_file(&path), &bytes).unwrap();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.opened_from_snapshot(), None, "flip at {at}");
        assert_eq!(store.read_raw(1, 100).unwrap(), all);
        bytes[at] ^= 0x40;
    }
}

#[test]
fn a_snapshot_of_another_log_is_passed_over_for_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let all = ledger(&a);
    // Another log of the same length, with other events: its snapshot names frames that do
    // not hold what it says.
    let other = FileStore::create(&b).unwrap().with_segment_bytes(3_000);
    append(&other, 101, 120);
    assert!(other.write_checkpoint(20, b"x").unwrap());
    drop(other);
    std::fs::copy(snapshot_file(&b), snapshot_file(&a)).unwrap();
    let store = FileStore::open(&a).unwrap();
    assert_eq!(store.opened_from_snapshot(), None);
    assert_eq!(store.read_raw(1, 100).unwrap(), all);
}

#[test]
fn no_snapshot_is_written_for_a_checkpoint_behind_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 5);
    assert!(store.write_checkpoint(3, b"old").unwrap());
    drop(store);
    assert!(!path.join("index").join(format!("cp-{:020}", 3)).exists());
    assert_eq!(FileStore::open(&path).unwrap().opened_from_snapshot(), None);
}

#[test]
fn a_checkpoint_written_behind_keeps_the_index_as_of_its_call_and_is_there_for_the_next_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap().with_segment_bytes(3_000);
    append(&store, 1, 20);
    assert!(store
        .write_checkpoint_behind(20, b"behind".to_vec())
        .unwrap());
    // Appends go on while it is written; the snapshot is still the index at 20.
    append(&store, 21, 30);
    assert_eq!(store.checkpoint_positions().unwrap(), vec![20]);
    assert_eq!(
        store.read_checkpoint(20).unwrap().as_deref(),
        Some(&b"behind"[..])
    );
    let all = store.read_raw(1, 100).unwrap();
    assert!(store
        .write_checkpoint_behind(30, b"at the head".to_vec())
        .unwrap());
    // The drop waits for the write in flight: the next open finds both, and starts from
    // the latest snapshot.
    drop(store);
    assert!(snapshot_file(&path).exists());
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.opened_from_snapshot(), Some(30));
    assert_eq!(store.checkpoint_positions().unwrap(), vec![20, 30]);
    assert_eq!(store.read_raw(1, 100).unwrap(), all);
    // A store opened for reading only keeps none, behind or not.
    drop(store);
    let read_only = FileStore::open_read_only(&path).unwrap();
    assert!(!read_only
        .write_checkpoint_behind(30, b"no".to_vec())
        .unwrap());
}

/// Rewrites the snapshot at 20 with `change` made to its bytes, closed by a CRC made anew (a
/// snapshot that lies, which no checksum can tell).
fn forge(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let file = snapshot_file(path);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() - 4);
    change(&mut bytes);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(&file, bytes).unwrap();
}

/// The byte where frame `i`'s offset lies in a snapshot (after `MLIDX1` and the frame count,
/// each frame its first position, offset, segment and length).
fn frame_offset_at(i: usize) -> usize {
    6 + 8 + 24 * i + 8
}

#[test]
fn an_open_to_verify_starts_from_the_snapshot_and_holds_it_to_the_commands_a_replay_met() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let all = ledger(&path);
    let store = FileStore::open_to_verify(&path).unwrap();
    assert_eq!(store.opened_from_snapshot(), Some(20));
    assert!(store.is_read_only());
    assert_eq!(store.read_raw(1, 100).unwrap(), all);
    // 30 commands of one event each: the index and frames are the log's.
    assert_eq!(store.index_snapshot_problem(30), None);
    let (at, why) = store.index_snapshot_problem(29).unwrap();
    assert_eq!(at, 20);
    assert!(why.contains("holds 30 commands, the log 29"), "{why}");
    // A writable open from the same snapshot is never asked: its index grows.
    drop(store);
    let writable = FileStore::open(&path).unwrap();
    assert_eq!(writable.opened_from_snapshot(), Some(20));
    assert_eq!(writable.index_snapshot_problem(29), None);
}

#[test]
fn a_forged_snapshot_whose_frames_skip_bytes_of_the_log_is_passed_over_for_a_full_scan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let all = ledger(&path);
    // The second frame said to start a byte later, or the first at position 2: the log no
    // longer follows through the frames.
    for (at, by) in [(frame_offset_at(1), 1u64), (frame_offset_at(0) - 8, 1)] {
        forge(&path, |b| {
            let was = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            b[at..at + 8].copy_from_slice(&(was + by).to_le_bytes());
        });
        for store in [FileStore::open_to_verify(&path), FileStore::open(&path)] {
            let store = store.unwrap();
            assert_eq!(store.opened_from_snapshot(), None);
            assert_eq!(store.read_raw(1, 100).unwrap(), all);
        }
        forge(&path, |b| {
            let was = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            b[at..at + 8].copy_from_slice(&(was - by).to_le_bytes());
        });
    }
    // The last frame said to lie in the last segment there could be: passed over at once.
    forge(&path, |b| {
        let frames = usize::try_from(u64::from_le_bytes(b[6..14].try_into().unwrap())).unwrap();
        let at = frame_offset_at(frames - 1) + 8;
        b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    });
    let store = FileStore::open_to_verify(&path).unwrap();
    assert_eq!(store.opened_from_snapshot(), None);
    assert_eq!(store.read_raw(1, 100).unwrap(), all);
}

#[test]
fn a_forged_snapshot_whose_command_names_another_member_is_a_problem_when_held_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    ledger(&path);
    // The snapshot ends with its last command's member (the number of its stream, of 20) and
    // count: the command moved to the next member's stream.
    forge(&path, |b| {
        let at = b.len() - 8;
        let member = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        b[at..at + 4].copy_from_slice(&((member + 1) % 20).to_le_bytes());
    });
    let store = FileStore::open_to_verify(&path).unwrap();
    assert_eq!(store.opened_from_snapshot(), Some(20));
    let (_, why) = store.index_snapshot_problem(30).unwrap();
    assert!(why.contains("the stream of member"), "{why}");
}
