//! Tampering with a sled ledger on disk: any changed byte, a deleted, swapped or inserted
//! record is found, and named by its first bad position.
#![cfg(feature = "sled")]

use std::path::Path;

use memberledger::{Command, Error, Ledger};

const RECORD_PREFIX: u8 = b'e';

fn key(position: u64) -> Vec<u8> {
    [&[RECORD_PREFIX][..], &position.to_be_bytes()].concat()
}

/// A ledger with records of one, two and three events, and its records as (first position,
/// bytes).
fn build(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let ledger = Ledger::open(path).unwrap();
    let mut n = 0u128;
    let mut run = |member: &str, at: &str, rest: &str| {
        n += 1;
        let line = format!(
            r#"{{"id":"{}","at":"2026-03-{at}Z","member":"{member}","store":"S1",{rest}}}"#,
            uuid::Uuid::from_u128(0x7000_0000_0000_4000_8000_0000_0000_0000 | n)
        );
        ledger.execute(&Command::from_json(&line).unwrap()).unwrap();
    };
    for m in ["M1", "M2"] {
        run(m, "01T10:00:00", r#""type":"enroll""#);
        run(m, "01T11:00:00", r#""type":"recharge","amount":"1000.00""#);
        run(
            m,
            "02T11:00:00",
            r#""type":"consume","amount":"120.00","service":"nails""#,
        );
        run(m, "03T11:00:00", r#""type":"recharge","amount":"5000.00""#);
    }
    drop(ledger);
    let db = raw_sled(path);
    let records: Vec<(u64, Vec<u8>)> = db
        .scan_prefix([RECORD_PREFIX])
        .map(|kv| {
            let (k, v) = kv.unwrap();
            (u64::from_be_bytes(k[1..9].try_into().unwrap()), v.to_vec())
        })
        .collect();
    assert!(
        records.iter().any(|(_, v)| count_events(v) == 3),
        "a record of three events"
    );
    records
}

/// Applies a change to the sled tree and returns the position `open` reports as corrupt.
fn corrupt_position(path: &Path, change: impl FnOnce(&sled::Db)) -> u64 {
    {
        let db = raw_sled(path);
        change(&db);
        db.flush().unwrap();
    }
    match Ledger::open(path) {
        Err(Error::Corrupt { position, .. }) => position,
        Err(other) => panic!("expected corrupt, got {other}"),
        Ok(l) => match l.verify().unwrap().problem {
            Some(p) => p.position,
            None => panic!("the change went unnoticed"),
        },
    }
}

fn fresh(dir: &tempfile::TempDir, name: &str) -> (std::path::PathBuf, Vec<(u64, Vec<u8>)>) {
    let path = dir.path().join(name);
    let records = build(&path);
    (path, records)
}

#[test]
fn a_changed_byte_anywhere_in_any_record_is_found_within_that_record() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "base");
    let copy = dir.path().join("copy");
    let mut checked = 0;
    for (first, bytes) in &records {
        let next = records
            .iter()
            .map(|(p, _)| *p)
            .find(|p| p > first)
            .unwrap_or(u64::MAX);
        // Every 9th byte, and the last one (the checksum).
        for at in (0..bytes.len()).step_by(9).chain([bytes.len() - 1]) {
            let _ = std::fs::remove_dir_all(&copy);
            copy_dir(&path, &copy);
            let mut changed = bytes.clone();
            changed[at] ^= 0x20;
            let pos = corrupt_position(&copy, |db| {
                db.insert(key(*first), changed).unwrap();
            });
            assert!(
                (*first..next).contains(&pos),
                "byte {at} of record {first}: reported {pos}"
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "checked {checked} changes");
}

#[test]
fn a_changed_byte_of_an_event_names_that_exact_position() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "base");
    // A record of three events: change a digit inside the JSON of its third event.
    let (first, bytes) = records.iter().find(|(_, v)| count_events(v) == 3).unwrap();
    let needle = format!("\"position\":{}", first + 2);
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    let mut changed = bytes.clone();
    let brace = changed[..at].iter().rposition(|b| *b == b'{').unwrap();
    changed[brace + 3] ^= 0x01; // inside "at":"…"
    assert_eq!(
        corrupt_position(&path, |db| {
            db.insert(key(*first), changed).unwrap();
        }),
        first + 2
    );
}

#[test]
fn a_deleted_record_is_found_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "base");
    let (first, _) = &records[3];
    assert_eq!(
        corrupt_position(&path, |db| {
            db.remove(key(*first)).unwrap();
        }),
        *first
    );
}

#[test]
fn swapped_records_are_found_at_the_first_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "base");
    let (a, va) = &records[2];
    let (b, vb) = &records[5];
    let pos = corrupt_position(&path, |db| {
        db.insert(key(*a), vb.clone()).unwrap();
        db.insert(key(*b), va.clone()).unwrap();
    });
    assert_eq!(pos, *a);
}

#[test]
fn an_inserted_record_is_found_where_it_was_put() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "end");
    // A copy of an earlier record appended after the last.
    let (last, last_bytes) = records.last().unwrap();
    let end = last + count_events(last_bytes);
    let pos = corrupt_position(&path, |db| {
        db.insert(key(end), records[1].1.clone()).unwrap();
    });
    assert_eq!(pos, end);

    // A record inserted in the middle, with everything after it moved along.
    let (path, records) = fresh(&dir, "middle");
    let (k, _) = &records[4];
    let inserted = records[1].1.clone();
    let shift = count_events(&inserted);
    let pos = corrupt_position(&path, |db| {
        for (p, v) in records.iter().rev().filter(|(p, _)| p >= k) {
            db.remove(key(*p)).unwrap();
            db.insert(key(p + shift), v.clone()).unwrap();
        }
        db.insert(key(*k), inserted).unwrap();
    });
    assert_eq!(pos, *k);
}

/// The event count stored in the header of a key's record (after format, command, digest and
/// member). `build` appends one command at a time, so each key is a chunk of one record: the
/// chunk format byte and the record's length come first.
fn count_events(value: &[u8]) -> u64 {
    assert_eq!(value[0], 2, "a chunk");
    let record = &value[5..];
    let mlen = usize::from(record[49]);
    let at = 50 + mlen;
    u64::from(u32::from_be_bytes(record[at..at + 4].try_into().unwrap()))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Opens the sled tree underneath a ledger, waiting for the ledger's own handle to let go.
fn raw_sled(path: &std::path::Path) -> sled::Db {
    for _ in 0..40 {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    sled::open(path).expect("the ledger's sled tree opens")
}

#[test]
fn a_lost_tail_is_found_by_the_head_anchor() {
    // What sled does to a damaged log: drop everything from the damage on. The records left
    // still chain, so only the head anchor can tell acknowledged events are gone.
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = fresh(&dir, "base");
    let (last, _) = records.last().unwrap();
    match Ledger::open(&path).map(|_| ()) {
        Ok(()) => {}
        Err(e) => panic!("the intact ledger opens: {e}"),
    }
    let db = raw_sled(&path);
    db.remove(key(*last)).unwrap();
    db.flush().unwrap();
    drop(db);
    match Ledger::open(&path) {
        Err(Error::Corrupt { position, why }) => {
            assert_eq!(position, *last);
            assert!(why.contains("acknowledged"), "{why}");
        }
        Err(other) => panic!("expected corrupt, got {other}"),
        Ok(_) => panic!("a lost tail went unnoticed"),
    }
}
