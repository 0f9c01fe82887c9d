//! Faults of the medium and of the files: a torn tail (a crash mid-append) is removed, damage
//! before it is `Corrupt`, a failed write or sync records nothing; never a panic, never a
//! quietly shorter ledger.

use std::path::{Path, PathBuf};

use memberledger_store::{EventStore, StoreError};
use memberledger_store_file::{Fault, FileStore};

mod common;
use common::enroll;

/// Appends enrolments `from..=to`, `per` a batch.
fn append(store: &FileStore, from: u32, to: u32, per: u32) {
    for start in (from..=to).step_by(per as usize) {
        let batch = (start..(start + per).min(to + 1)).map(enroll).collect();
        assert!(store.append(batch).unwrap().iter().all(Result::is_ok));
    }
}

fn segment(path: &Path, n: u32) -> PathBuf {
    path.join(format!("segment-{n:08}"))
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

fn corrupt_why(r: Result<FileStore, StoreError>) -> String {
    match r {
        Err(StoreError::Corrupt { why, .. }) => why,
        Err(other) => panic!("expected corrupt, got {other:?}"),
        Ok(s) => panic!("opened with head {:?}", s.head().unwrap()),
    }
}

#[test]
fn a_torn_last_append_is_removed_at_every_byte_it_can_be_cut_at() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 3, 1);
    let acknowledged = len(&segment(&path, 0));
    append(&store, 4, 4, 1);
    drop(store);
    let whole = std::fs::read(segment(&path, 0)).unwrap();
    let expected = FileStore::open(&path).unwrap().read_raw(1, 10).unwrap();
    assert_eq!(expected.len(), 4);
    let start = usize::try_from(acknowledged).unwrap();
    for cut in start..whole.len() {
        std::fs::write(segment(&path, 0), &whole[..cut]).unwrap();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.head().unwrap().position, 3, "cut at {cut}");
        let torn = u64::try_from(cut - start).unwrap();
        assert_eq!(
            store.torn_tail(),
            (torn > 0).then_some(torn),
            "cut at {cut}"
        );
        assert_eq!(
            store.read_raw(1, 10).unwrap(),
            expected[..3],
            "cut at {cut}"
        );
        drop(store);
        assert_eq!(len(&segment(&path, 0)), acknowledged, "cut at {cut}");
    }
    // Appending goes on where the acknowledged log ends, and reads back whole.
    let store = FileStore::open(&path).unwrap();
    append(&store, 4, 4, 1);
    drop(store);
    assert_eq!(
        FileStore::open(&path).unwrap().read_raw(1, 10).unwrap(),
        expected
    );
}

#[test]
fn a_last_append_whose_pages_were_lost_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 3, 1);
    let acknowledged = usize::try_from(len(&segment(&path, 0))).unwrap();
    append(&store, 4, 4, 1);
    drop(store);
    // The file grew but the data never reached the disk: zeros where the frame should be.
    let mut bytes = std::fs::read(segment(&path, 0)).unwrap();
    bytes[acknowledged..].fill(0);
    std::fs::write(segment(&path, 0), &bytes).unwrap();
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 3);
}

/// A store at `path` with five commands in one append, then one append long enough for
/// several frames: the length of the first, and the segment's bytes.
fn with_a_long_append(path: &Path) -> (usize, Vec<u8>) {
    let store = FileStore::create(path).unwrap();
    append(&store, 1, 5, 5);
    let acknowledged = usize::try_from(len(&segment(path, 0))).unwrap();
    append(&store, 6, 400, 395);
    drop(store);
    let bytes = std::fs::read(segment(path, 0)).unwrap();
    assert!(
        bytes.len() - acknowledged > 2 * 64 * 1024,
        "one append, several frames"
    );
    (acknowledged, bytes)
}

#[test]
fn an_unfinished_append_of_several_frames_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let (acknowledged, bytes) = with_a_long_append(&path);
    // Cut after the first frame (64 KiB of records and its header): whole frames, no last one.
    for cut in [acknowledged + 70 * 1024, bytes.len() - 1] {
        std::fs::write(segment(&path, 0), &bytes[..cut]).unwrap();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.head().unwrap().position, 5, "cut at {cut}");
    }
}

/// The frames of a segment's bytes from byte `from` on, by their headers: each frame's offset
/// and length, header included.
fn frames(bytes: &[u8], from: usize) -> Vec<(usize, usize)> {
    let mut at = from;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        let len = 16
            + usize::try_from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())).unwrap();
        out.push((at, len));
        at += len;
    }
    out
}

#[test]
fn a_power_loss_in_either_step_of_a_long_append_leaves_a_torn_tail() {
    // An append of several frames is made durable in two steps: the frames before its last,
    // written and synced; then the last. A power loss may keep any of the unsynced pages of a
    // step and lose others (zeros in their place): every state it can leave opens with the
    // append gone and everything acknowledged before it kept.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let (acknowledged, whole) = with_a_long_append(&path);
    let framed = frames(&whole, acknowledged);
    assert!(framed.len() > 2, "one append, several frames");
    // Only the last frame says the append is finished (bit 0 of the flags).
    let flags = |at: usize| u32::from_le_bytes(whole[at + 4..at + 8].try_into().unwrap());
    assert!(framed
        .iter()
        .map(|&(at, _)| flags(at))
        .eq((0..framed.len()).map(|i| u32::from(i + 1 == framed.len()))));
    let (last, last_len) = *framed.last().unwrap();
    let page = 4096;
    assert!(last_len > page, "the last frame spans pages");
    let lost_pages = |bytes: &mut Vec<u8>, from: usize, to: usize, keep: usize| {
        // Every page of `from..to` but those whose number is a multiple of `keep` lost.
        for (n, start) in (from..to).step_by(page).enumerate() {
            if n % keep != 0 {
                bytes[start..(start + page).min(to)].fill(0);
            }
        }
    };
    // The first step cut short: some pages of the frames before the last kept, the last frame
    // never written (the file not yet grown to it, or grown with nothing in it).
    for keep in [2, 3, 5] {
        for grown in [false, true] {
            let mut bytes = whole.clone();
            lost_pages(&mut bytes, acknowledged, last, keep);
            if grown {
                bytes[last..].fill(0);
            } else {
                bytes.truncate(last);
            }
            std::fs::write(segment(&path, 0), &bytes).unwrap();
            let store = FileStore::open(&path).unwrap();
            assert_eq!(
                store.head().unwrap().position,
                5,
                "keep {keep}, grown {grown}"
            );
            assert!(store.torn_tail().is_some());
            drop(store);
            assert_eq!(
                len(&segment(&path, 0)),
                u64::try_from(acknowledged).unwrap()
            );
        }
    }
    // The second step cut short: every frame before the last durable, some pages of the last
    // lost.
    for keep in [2, 3] {
        let mut bytes = whole.clone();
        lost_pages(&mut bytes, last, whole.len(), keep);
        std::fs::write(segment(&path, 0), &bytes).unwrap();
        let store = FileStore::open(&path).unwrap();
        assert_eq!(store.head().unwrap().position, 5, "last frame, keep {keep}");
    }
}

#[test]
fn a_flipped_byte_in_an_earlier_frame_is_corrupt_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 1, 1);
    let first_frame = usize::try_from(len(&segment(&path, 0))).unwrap();
    append(&store, 2, 3, 1);
    drop(store);
    let whole = std::fs::read(segment(&path, 0)).unwrap();
    for at in 0..first_frame {
        let mut bad = whole.clone();
        bad[at] ^= 0x01;
        std::fs::write(segment(&path, 0), &bad).unwrap();
        let why = corrupt_why(FileStore::open(&path));
        assert!(why.contains("segment-00000000"), "flip at {at}: {why}");
        assert_eq!(whole.len(), bad.len(), "nothing was truncated");
        assert_eq!(len(&segment(&path, 0)), u64::try_from(whole.len()).unwrap());
    }
}

#[test]
fn damage_in_an_earlier_segment_is_corrupt_and_a_missing_segment_is_a_hole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap().with_segment_bytes(2_000);
    append(&store, 1, 20, 1);
    drop(store);
    assert!(segment(&path, 2).exists(), "the log spans segments");
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.read_raw(1, 100).unwrap().len(), 20);
    drop(store);
    // A cut at the end of an earlier segment is damage, not a torn tail.
    let first = std::fs::read(segment(&path, 0)).unwrap();
    std::fs::write(segment(&path, 0), &first[..first.len() - 1]).unwrap();
    corrupt_why(FileStore::open(&path));
    std::fs::write(segment(&path, 0), &first).unwrap();
    std::fs::rename(segment(&path, 1), dir.path().join("away")).unwrap();
    let why = corrupt_why(FileStore::open(&path));
    assert!(why.contains("missing"), "{why}");
}

#[test]
fn a_full_disk_mid_write_records_nothing_and_the_store_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 3, 1);
    let before = len(&segment(&path, 0));
    for fault in [
        Fault::WriteFailsAfter(0),
        Fault::WriteFailsAfter(100),
        Fault::SyncFails,
    ] {
        store.inject_fault(fault);
        let err = store.append(vec![enroll(4)]).unwrap_err();
        assert!(
            matches!(err, StoreError::Storage { .. }),
            "{fault:?}: {err:?}"
        );
        assert!(err.to_string().contains("nothing was recorded"), "{err}");
        assert_eq!(store.head().unwrap().position, 3, "{fault:?}");
        assert_eq!(len(&segment(&path, 0)), before, "{fault:?}");
        assert!(store.command(enroll(4).command).unwrap().is_none());
    }
    // The same command again, once the disk has room: recorded once.
    append(&store, 4, 4, 1);
    drop(store);
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 4);
    assert_eq!(store.torn_tail(), None);
}

#[test]
fn a_crash_between_write_and_sync_keeps_a_whole_append_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 3, 1);
    let acknowledged = len(&segment(&path, 0));
    append(&store, 4, 4, 1);
    drop(store);
    // The process died after its write and before the sync returned: the append was never
    // acknowledged, and the disk holds it whole (kept, as a finished append) or not at all.
    let store = FileStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 4);
    drop(store);
    let bytes = std::fs::read(segment(&path, 0)).unwrap();
    std::fs::write(
        segment(&path, 0),
        &bytes[..usize::try_from(acknowledged).unwrap()],
    )
    .unwrap();
    assert_eq!(FileStore::open(&path).unwrap().head().unwrap().position, 3);
}

#[test]
fn a_read_only_open_ignores_a_torn_tail_and_leaves_it_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l");
    let store = FileStore::create(&path).unwrap();
    append(&store, 1, 3, 1);
    drop(store);
    let mut bytes = std::fs::read(segment(&path, 0)).unwrap();
    bytes.extend_from_slice(&[7, 0, 0]);
    std::fs::write(segment(&path, 0), &bytes).unwrap();
    let reader = FileStore::open_read_only(&path).unwrap();
    assert_eq!(reader.head().unwrap().position, 3);
    assert_eq!(reader.torn_tail(), Some(3));
    drop(reader);
    assert_eq!(std::fs::read(segment(&path, 0)).unwrap(), bytes);
}
