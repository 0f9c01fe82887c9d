//! The checkpoint cases, run on the store `super::KIND` names (tests/checkpoints.rs: sled;
//! tests/checkpoints_file.rs: the file store).

use std::path::{Path, PathBuf};

use memberledger::{Clock, Ledger, LedgerOptions};
use memberledger_testkit::year::{year_policy, Shape, Year};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Records `commands` commands of a small year on a new ledger (of `super::KIND`) in `path`, with a
/// checkpoint every `every` events, and closes it (a last checkpoint).
pub(super) fn record_year(path: &Path, seed: u64, commands: u64, every: u64) {
    let shape = Shape {
        stores: 4,
        members: 40,
        commands,
        days: 365,
        ..Shape::default()
    };
    let options = LedgerOptions::default().with_store_kind(super::KIND);
    let ledger = Ledger::create_with(path, year_policy(), &options)
        .expect("a new ledger")
        .with_checkpoint_every(Some(every));
    assert_eq!(memberledger::StoreKind::at(path), super::KIND);
    let mut year = Year::new(seed, shape);
    ledger.set_clock(Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {})
        .expect("the year records");
    ledger.close();
}

fn checkpoint_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(path.join("checkpoints"))
        .expect("a checkpoints directory")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none())
        .collect();
    files.sort();
    files
}

const HEADER: usize = 84;

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Opening from the latest checkpoint (and the tail after it) gives the projections a
    /// replay from genesis gives (verify compares them, and every checkpoint with the replay
    /// at its position), and the ledger goes on recording from there.
    #[test]
    fn opening_from_a_checkpoint_equals_a_replay_from_genesis(
        seed in 0u64..1_000,
        commands in 150u64..600,
        every in 40u64..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger");
        record_year(&path, seed, commands, every);
        prop_assert!(!checkpoint_files(&path).is_empty());
        let ledger = Ledger::open_existing(&path).unwrap();
        prop_assert!(ledger.open_notes().is_empty(), "{:?}", ledger.open_notes());
        let report = ledger.verify().unwrap();
        prop_assert!(report.ok(), "{:?}", report.problem);
        drop(ledger);
        let (_, fresh) = Ledger::open_verified(&path).unwrap();
        prop_assert_eq!(&report, &fresh);
    }
}

#[test]
fn a_checkpoint_is_written_every_n_events_and_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 3, 400, 100);
    let files = checkpoint_files(&path);
    assert_eq!(files.len(), memberledger::store::CHECKPOINTS_KEPT);
    let ledger = Ledger::open_existing(&path).unwrap();
    let head = ledger.head().unwrap().position;
    let last = files
        .last()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        last,
        format!("cp-{head:020}"),
        "the close wrote one at the head"
    );
    assert_eq!(ledger.checkpoint().unwrap(), Some(head));
}

#[test]
fn checkpoints_are_at_least_two_events_a_member_apart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let options = LedgerOptions::default().with_store_kind(super::KIND);
    let ledger = Ledger::create_with(&path, year_policy(), &options)
        .unwrap()
        .with_checkpoint_every(Some(10));
    ledger.set_clock(Clock::fixed("2026-12-31T00:00:00Z".parse().unwrap()));
    let command = |i: u32, body: &str| {
        memberledger::Command::from_json(&format!(
            r#"{{"id":"00000000-0000-4000-8000-{i:012}","at":"2026-03-01T10:00:00Z",{body}}}"#
        ))
        .unwrap()
    };
    // 50 members, one event each: 51 events, never twice the members since the last
    // checkpoint, though 10 were asked for.
    for i in 0..50 {
        let body = format!(r#""type":"enroll","member":"M{i}","store":"S1""#);
        ledger.execute(&command(i, &body)).unwrap();
    }
    assert!(!path.join("checkpoints").exists() || checkpoint_files(&path).is_empty());
    // Recharges of one member until the log passes 110 events: one checkpoint, once the
    // log reaches 100 events (twice the 50 members).
    let mut i = 50;
    while ledger.head().unwrap().position < 110 {
        let body = r#""type":"recharge","member":"M0","store":"S1","amount":"10.00""#;
        ledger.execute(&command(i, body)).unwrap();
        i += 1;
    }
    // Checkpoints due during commits are written behind them: the drop waits for the write
    // (and, unlike a close, writes none of its own).
    drop(ledger);
    let positions: Vec<u64> = checkpoint_files(&path)
        .iter()
        .map(|p| {
            p.file_name().unwrap().to_string_lossy()[3..]
                .parse()
                .unwrap()
        })
        .collect();
    assert!(
        positions.len() == 1 && (100..110).contains(&positions[0]),
        "{positions:?}"
    );
}

#[test]
fn a_damaged_checkpoint_is_ignored_by_open_and_reported_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 5, 300, 100);
    let latest = checkpoint_files(&path).pop().unwrap();
    let mut bytes = std::fs::read(&latest).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x55;
    std::fs::write(&latest, &bytes).unwrap();
    let ledger = Ledger::open_existing(&path).unwrap();
    let notes = ledger.open_notes().join("; ");
    assert!(notes.contains("checksum"), "{notes}");
    let report = ledger.verify().unwrap();
    let problem = report
        .problem
        .expect("verify reports the damaged checkpoint");
    assert!(
        problem.what.contains("checkpoint at position"),
        "{}",
        problem.what
    );
}

#[test]
fn a_checkpoint_of_another_format_version_is_passed_over_by_open_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 11, 300, 100);
    // What a ledger upgraded from a release with an older format holds.
    let latest = checkpoint_files(&path).pop().unwrap();
    let mut bytes = std::fs::read(&latest).unwrap();
    let older = memberledger::CHECKPOINT_VERSION - 1;
    bytes[8..12].copy_from_slice(&older.to_le_bytes());
    std::fs::write(&latest, &bytes).unwrap();
    let ledger = Ledger::open_existing(&path).unwrap();
    let notes = ledger.open_notes().join("; ");
    assert!(
        notes.contains(&format!("format version {older}")),
        "{notes}"
    );
    let report = ledger.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problem);
    drop(ledger);
    let (_, report) = Ledger::open_verified(&path).unwrap();
    assert!(report.ok(), "{:?}", report.problem);
}

#[test]
fn a_forged_checkpoint_with_a_valid_checksum_is_reported_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 7, 400, 100);
    let files = checkpoint_files(&path);
    let (older, latest) = (&files[0], &files[1]);
    // The latest checkpoint's header over the older one's projections, checksum recomputed.
    let old = std::fs::read(older).unwrap();
    let mut forged = std::fs::read(latest).unwrap()[..HEADER].to_vec();
    let payload = &old[HEADER..];
    forged[52..84].copy_from_slice(&Sha256::digest(payload));
    forged.extend_from_slice(payload);
    std::fs::write(latest, &forged).unwrap();
    let (_, report) = Ledger::open_verified(&path).unwrap();
    let problem = report
        .problem
        .expect("verify reports the forged checkpoint");
    assert!(
        problem.what.contains("does not equal the replay"),
        "{}",
        problem.what
    );
}

#[test]
fn a_stale_checkpoint_past_the_log_is_ignored_by_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 9, 200, 1_000);
    let latest = checkpoint_files(&path).pop().unwrap();
    let bytes = std::fs::read(&latest).unwrap();
    // The same bytes filed at a position the log has not reached.
    std::fs::write(
        path.join("checkpoints").join(format!("cp-{:020}", 999_999)),
        bytes,
    )
    .unwrap();
    let ledger = Ledger::open_existing(&path).unwrap();
    let notes = ledger.open_notes().join("; ");
    assert!(notes.contains("stale"), "{notes}");
    assert!(!ledger.member_ids().is_empty());
    assert!(
        ledger.verify().unwrap().problem.is_some(),
        "verify reports the stale checkpoint"
    );
}

#[test]
fn a_crash_while_writing_a_checkpoint_leaves_a_readable_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 11, 300, 100);
    let latest = checkpoint_files(&path).pop().unwrap();
    let bytes = std::fs::read(&latest).unwrap();
    // A write cut short: half a checkpoint in its temporary file, never renamed into place.
    std::fs::write(
        path.join("checkpoints")
            .join(format!("cp-{:020}.tmp", 999_999)),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let ledger = Ledger::open_existing(&path).unwrap();
    assert!(ledger.open_notes().is_empty(), "{:?}", ledger.open_notes());
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_ledger_without_checkpoints_opens_by_a_replay_from_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    record_year(&path, 13, 200, 100);
    std::fs::remove_dir_all(path.join("checkpoints")).unwrap();
    let options = LedgerOptions::default()
        .with_checkpoint_every(None)
        .with_cache_bytes(8 << 20);
    let ledger = Ledger::open_existing_with(&path, &options).unwrap();
    assert!(ledger.verify().unwrap().ok());
    ledger.close();
    assert!(
        !path.join("checkpoints").exists(),
        "no checkpoint when none are asked for"
    );
}
