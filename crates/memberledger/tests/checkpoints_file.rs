//! Verified checkpoints, on the append-only file store: the same cases as on sled, and the
//! index snapshot `verify` reads the log through and holds to it.

use std::path::{Path, PathBuf};

use memberledger::Ledger;

const KIND: memberledger::StoreKind = memberledger::StoreKind::File;

#[path = "checkpoint_cases/cases.rs"]
mod cases;

/// The latest index snapshot of the file store in `path`.
fn latest_snapshot(path: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(path.join("index"))
        .expect("an index directory")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.pop().expect("an index snapshot")
}

/// The position of the index snapshot `file` (named `cp-` and its position).
fn snapshot_position(file: &Path) -> u64 {
    let name = file.file_name().unwrap().to_str().unwrap();
    name.trim_start_matches("cp-").parse().unwrap()
}

/// Rewrites the latest index snapshot with `change` made to its bytes, closed by a CRC-32 made
/// anew: a snapshot that lies, which no checksum tells.
fn forge(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let file = latest_snapshot(path);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() - 4);
    change(&mut bytes);
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    std::fs::write(&file, bytes).unwrap();
}

/// A copy of the ledger in `from` at `to`, its index snapshots left out (a verify of it scans
/// the whole log, as every verify did before it read the log through a snapshot).
fn copy_without_snapshots(from: &Path, to: &Path) {
    copy_ledger(from, to, false);
}

/// A copy of the ledger in `from` at `to`, with its index snapshots when `snapshots`.
fn copy_ledger(from: &Path, to: &Path, snapshots: bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            if snapshots || entry.file_name() != "index" {
                copy_ledger(&source, &target, snapshots);
            }
        } else {
            std::fs::copy(&source, &target).unwrap();
        }
    }
}

/// A recorded year with checkpoints (and index snapshots) every 100 events, and the report
/// of a verify that scans its whole log.
fn year(dir: &Path) -> (PathBuf, memberledger::VerifyReport) {
    let path = dir.join("ledger");
    cases::record_year(&path, 11, 400, 100);
    let scanned = dir.join("scanned");
    std::fs::create_dir_all(&scanned).unwrap();
    copy_without_snapshots(&path, &scanned);
    let (_, report) = Ledger::open_verified(&scanned).unwrap();
    assert!(report.ok(), "{:?}", report.problem);
    (path, report)
}

#[test]
fn verify_through_the_index_snapshot_reports_what_a_full_scan_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (path, scanned) = year(dir.path());
    let (ledger, report) = Ledger::open_verified(&path).unwrap();
    assert_eq!(report, scanned);
    assert_eq!(ledger.head().unwrap().position, scanned.events);
}

/// A change made to a snapshot's bytes.
type Forgery = fn(&mut Vec<u8>);

/// A little-endian `u64` in `b` at `at`, as a `usize`.
fn usize_at(b: &[u8], at: usize) -> usize {
    usize::try_from(u64::from_le_bytes(b[at..at + 8].try_into().unwrap())).unwrap()
}

/// Where a snapshot's command entries begin (32 bytes each: id, first position, stream,
/// count), how many there are, and the head position: after `MLIDX1`, the frames, the head
/// and each stream (its id, last position, version and deltas, each length first).
fn commands_of(b: &[u8]) -> (usize, usize, u64) {
    let index = 14 + 24 * usize_at(b, 6);
    let mut at = index + 8 + 32;
    let streams = usize_at(b, at);
    at += 8;
    for _ in 0..streams {
        at += 8 + usize_at(b, at) + 16;
        at += 8 + usize_at(b, at);
    }
    (at + 8, usize_at(b, at), usize_at(b, index) as u64)
}

#[test]
fn an_index_snapshot_that_does_not_match_the_log_is_verifys_problem() {
    // A command's count one more (one that ends before the head); a stream's version one more
    // (what a writable open would take as the member's version); a command moved to another
    // member's stream.
    let forgeries: [(&str, Forgery); 3] = [
        ("count", |b| {
            let (entries, n, head) = commands_of(b);
            let at = (0..n)
                .map(|i| entries + 32 * i)
                .find(|&at| {
                    let first = u64::from_le_bytes(b[at + 16..at + 24].try_into().unwrap());
                    let count = u32::from_le_bytes(b[at + 28..at + 32].try_into().unwrap());
                    first + u64::from(count) <= head
                })
                .unwrap();
            let count = u32::from_le_bytes(b[at + 28..at + 32].try_into().unwrap());
            b[at + 28..at + 32].copy_from_slice(&(count + 1).to_le_bytes());
        }),
        ("version", |b| {
            // MLIDX1, the frames, the head and the stream count; then the first stream's id
            // (its length first) and last position.
            let id_len_at = 14 + 24 * usize_at(b, 6) + 8 + 32 + 8;
            let at = id_len_at + 8 + usize_at(b, id_len_at) + 8;
            let version = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
            b[at..at + 8].copy_from_slice(&(version + 1).to_le_bytes());
        }),
        ("member", |b| {
            let streams = usize_at(b, 14 + 24 * usize_at(b, 6) + 8 + 32);
            let at = b.len() - 8;
            let member = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
            let other = (member + 1) % u32::try_from(streams).unwrap();
            b[at..at + 4].copy_from_slice(&other.to_le_bytes());
        }),
    ];
    for (what, change) in forgeries {
        let dir = tempfile::tempdir().unwrap();
        let (path, scanned) = year(dir.path());
        let at = snapshot_position(&latest_snapshot(&path));
        forge(&path, change);
        let (ledger, report) = Ledger::open_verified(&path).unwrap();
        let problem = report.problem.clone().expect(what);
        assert_eq!(problem.position, at, "{what}: {problem:?}");
        assert!(
            problem.what.starts_with(&format!(
                "the index snapshot at position {at} does not match the log"
            )),
            "{what}: {problem:?}"
        );
        // Everything else is what a full scan reports, and the ledger is the log's.
        assert_eq!(
            (report.events, &report.head),
            (scanned.events, &scanned.head)
        );
        assert_eq!(report.principal, scanned.principal, "{what}");
        assert_eq!(ledger.head().unwrap().position, scanned.events);
    }
}

/// One recorded year for every case of a property test, and its report from a full scan.
fn shared_year() -> &'static (tempfile::TempDir, PathBuf, memberledger::VerifyReport) {
    static YEAR: std::sync::OnceLock<(tempfile::TempDir, PathBuf, memberledger::VerifyReport)> =
        std::sync::OnceLock::new();
    YEAR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (path, report) = year(dir.path());
        (dir, path, report)
    })
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    /// Any byte of the latest index snapshot changed, its CRC made anew: `verify` reports what
    /// a full scan of the log reports, or names the snapshot as its problem (when it would be
    /// trusted by an open and does not match the log), and never fails otherwise.
    #[test]
    fn any_byte_of_a_snapshot_forged_is_passed_over_or_named_by_verify(
        pick in proptest::prelude::any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let (_keep, path, scanned) = shared_year();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("ledger");
        copy_ledger(path, &copy, true);
        let at = snapshot_position(&latest_snapshot(&copy));
        forge(&copy, |b| {
            let i = pick.index(b.len());
            b[i] ^= flip;
        });
        let (ledger, report) = Ledger::open_verified(&copy).unwrap();
        proptest::prop_assert_eq!(ledger.head().unwrap().position, scanned.events);
        match &report.problem {
            None => proptest::prop_assert_eq!(&report, scanned),
            Some(problem) => {
                proptest::prop_assert_eq!(problem.position, at);
                proptest::prop_assert!(
                    problem.what.starts_with("the index snapshot at position"),
                    "{:?}", problem
                );
                proptest::prop_assert_eq!((report.events, &report.head), (scanned.events, &scanned.head));
            }
        }
    }
}

#[test]
fn a_damaged_log_fails_verify_as_a_full_scan_finds_it() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = year(dir.path());
    // A byte of an event's JSON changed in the middle of the first segment, before the
    // snapshot: the same failure, in the same words, with the snapshot and without it.
    let segment = path.join("segment-00000000");
    let mut bytes = std::fs::read(&segment).unwrap();
    let at = bytes.len() / 2;
    let quote = at + bytes[at..].iter().position(|&b| b == b'"').unwrap() + 1;
    bytes[quote] ^= 0x01;
    std::fs::write(&segment, bytes).unwrap();
    let scanned = dir.path().join("damaged");
    std::fs::create_dir_all(&scanned).unwrap();
    copy_without_snapshots(&path, &scanned);
    let through = Ledger::open_verified(&path).map(|(_, r)| r);
    let full = Ledger::open_verified(&scanned).map(|(_, r)| r);
    assert_eq!(format!("{through:?}"), format!("{full:?}"));
    assert!(through.map_or(true, |r| !r.ok()));
}
