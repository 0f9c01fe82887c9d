//! The conformance suite: what every [`EventStore`] must do. A store crate runs it with
//! [`conformance_tests!`](crate::conformance_tests), which makes one `#[test]` per case.
//!
//! ```text
//! memberledger_store::conformance_tests!(MyHarness::new());
//! ```

use std::io::Read;
use std::sync::Arc;

use memberledger_core::{
    chain_hash, decide, Command, Context, Decision, Event, MemberId, MemberState, Policy, Uuid,
    GENESIS_HASH,
};

use crate::{for_each_raw, Append, AppendConflict, EventStore, StoreError};

/// Makes stores for the suite.
pub trait Harness {
    /// The store under test.
    type Store: EventStore + 'static;
    /// A new, empty store.
    fn fresh(&self) -> Self::Store;
    /// Closes the store and opens it again from its medium (as a new process would). A store
    /// without a medium returns it as it is.
    fn reopen(&self, store: Self::Store) -> Self::Store;
}

/// The suite's command id number `n`.
pub fn cmd_id(n: u64) -> Uuid {
    Uuid::from_u128(0x6f1c_2a48_3d6b_4f7e_9a51_0000_0000_0000 | u128::from(n))
}

/// Decides command `n` (`json_rest`: its type and fields) for a member at the store's current
/// state, as a writer does (reads the member's events from the store, folds them, decides), and
/// returns the append. Deciding again after a conflict re-reads what other writers appended.
pub fn append_for(store: &dyn EventStore, n: u64, member: &str, json_rest: &str) -> Append {
    let at = format!("2026-03-01T10:{:02}:00Z", n % 60);
    append_at(store, n, &at, member, json_rest)
}

/// [`append_for`] at a given time (RFC 3339): writers racing on one member give their commands
/// one time, so that any order they land in is a valid one.
pub fn append_at(
    store: &dyn EventStore,
    n: u64,
    at: &str,
    member: &str,
    json_rest: &str,
) -> Append {
    let line = format!(
        r#"{{"id":"{}","at":"{at}","member":"{member}","store":"S1",{json_rest}}}"#,
        cmd_id(n),
    );
    let cmd = Command::from_json(&line).expect("suite commands are valid");
    let member = MemberId::new(member).expect("valid");
    let events = store.member_events(&member).expect("read");
    let state = MemberState::replay(events.iter().map(|e| &e.event)).expect("folds");
    let evs: Vec<Event> = decide(
        &Context::founding(&Policy::builtin()).with_member(state.as_ref()),
        &cmd,
    )
    .map(Decision::into_events)
    .expect("decides");
    Append {
        command: cmd.id,
        digest: cmd.digest(),
        member,
        expected_version: u64::try_from(events.len()).expect("a short stream"),
        events: evs,
    }
}

/// [`append_for`] an enrolment.
pub fn enroll(store: &dyn EventStore, n: u64, member: &str) -> Append {
    append_for(store, n, member, r#""type":"enroll""#)
}

/// [`append_for`] a recharge of 1000.00.
pub fn recharge(store: &dyn EventStore, n: u64, member: &str) -> Append {
    append_for(store, n, member, r#""type":"recharge","amount":"1000.00""#)
}

fn one(
    store: &dyn EventStore,
    a: Append,
) -> Result<Vec<memberledger_core::RecordedEvent>, AppendConflict> {
    store.append(vec![a]).expect("storage works").remove(0)
}

/// Checks the whole log: contiguous positions, chain, decodes, canonical bytes.
pub fn check_log(store: &dyn EventStore) -> u64 {
    let mut prev = GENESIS_HASH;
    let mut n = 0;
    for_each_raw(store, 7, |raw| {
        n += 1;
        assert_eq!(raw.position, n, "positions are contiguous from 1");
        assert_eq!(raw.hash, chain_hash(&prev, &raw.json), "chain at {n}");
        let rec = raw.decode().expect("decodes");
        assert_eq!(
            memberledger_core::canonical_json(rec.position, &rec.event).as_bytes(),
            raw.json.as_slice(),
            "stored bytes are canonical"
        );
        prev = raw.hash;
        Ok(())
    })
    .expect("reads");
    let head = store.head().expect("head");
    assert_eq!(head.position, n);
    assert_eq!(head.hash, prev);
    n
}

/// A new store is empty.
pub fn empty_store_has_genesis_head<H: Harness>(h: &H) {
    let s = h.fresh();
    let head = s.head().unwrap();
    assert_eq!(head.position, 0);
    assert_eq!(head.hash, GENESIS_HASH);
    assert!(s.read_raw(1, 10).unwrap().is_empty());
    assert_eq!(s.command(cmd_id(1)).unwrap(), None);
    assert_eq!(s.member_version(&MemberId::new("M1").unwrap()).unwrap(), 0);
}

/// Appends get contiguous positions and a chain from the genesis hash.
pub fn append_assigns_positions_and_chain<H: Harness>(h: &H) {
    let s = h.fresh();
    let r1 = one(&s, enroll(&s, 1, "M1")).unwrap();
    let r2 = one(&s, recharge(&s, 2, "M1")).unwrap();
    assert_eq!(r1[0].position, 1);
    assert_eq!(
        r2.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![2, 3]
    );
    assert_eq!(r2[0].event.version, 2);
    assert_eq!(check_log(&s), 3);
    let rec = s.command(cmd_id(2)).unwrap().unwrap();
    assert_eq!((rec.first_position, rec.count), (2, 2));
    let m = MemberId::new("M1").unwrap();
    assert_eq!(s.member_positions(&m).unwrap(), vec![1, 2, 3]);
    assert_eq!(s.member_version(&m).unwrap(), 3);
    let events = s.member_events(&m).unwrap();
    assert_eq!(
        events.iter().map(|e| e.event.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(events[1], r2[0]);
}

/// A stale expected version is refused and records nothing.
pub fn stale_version_is_refused<H: Harness>(h: &H) {
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    let stale = recharge(&s, 2, "M1");
    one(&s, recharge(&s, 3, "M1")).unwrap();
    let head = s.head().unwrap();
    let err = one(&s, stale).unwrap_err();
    assert!(
        matches!(
            err,
            AppendConflict::Version {
                expected: 1,
                actual: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.head().unwrap(), head);
    assert_eq!(s.command(cmd_id(2)).unwrap(), None);
}

/// A command id is recorded once.
pub fn duplicate_command_is_refused<H: Harness>(h: &H) {
    let s = h.fresh();
    let a = enroll(&s, 1, "M1");
    one(&s, a.clone()).unwrap();
    let head = s.head().unwrap();
    assert_eq!(
        one(&s, a).unwrap_err(),
        AppendConflict::Duplicate(cmd_id(1))
    );
    assert_eq!(s.head().unwrap(), head);
}

/// In a batch each command stands alone: a conflict refuses only itself, later commands of
/// the same member see the earlier ones.
pub fn batch_items_are_independent<H: Harness>(h: &H) {
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    let r2 = recharge(&s, 2, "M1");
    let mut r3 = recharge(&s, 3, "M1");
    // r3 is decided after r2 within the same batch: it expects version 3.
    for e in &mut r3.events {
        e.version += 2;
    }
    r3.expected_version = 3;
    let stale = recharge(&s, 4, "M1"); // expects version 1: conflicts once r2 is in
    let e2 = enroll(&s, 5, "M2");
    let out = s.append(vec![r2, stale, r3, e2.clone(), e2]).unwrap();
    assert!(out[0].is_ok());
    assert!(matches!(out[1], Err(AppendConflict::Version { .. })));
    assert!(out[2].is_ok(), "{:?}", out[2]);
    assert!(out[3].is_ok());
    assert_eq!(out[4], Err(AppendConflict::Duplicate(cmd_id(5))));
    assert_eq!(check_log(&s), 6);
    assert_eq!(s.member_version(&MemberId::new("M1").unwrap()).unwrap(), 5);
}

/// A malformed append (a caller's bug) is an `InvalidAppend` error of the call and records
/// nothing: events of another member, no events, versions that do not follow the expected one.
pub fn malformed_append_is_an_error<H: Harness>(h: &H) {
    let s = h.fresh();
    let invalid = |r| matches!(r, Err(StoreError::InvalidAppend(_)));
    let mut a = enroll(&s, 1, "M1");
    a.member = MemberId::new("M2").unwrap();
    assert!(invalid(s.append(vec![a])));
    let mut b = enroll(&s, 2, "M1");
    b.events.clear();
    assert!(invalid(s.append(vec![b])));
    let mut c = enroll(&s, 3, "M1");
    c.events[0].version = 2;
    assert!(invalid(s.append(vec![c])));
    assert_eq!(s.head().unwrap().position, 0);
    assert_eq!(s.command(cmd_id(3)).unwrap(), None);
}

/// Pages of `read_raw` cover the log exactly, and `read_raw_into` reads what it reads.
pub fn read_raw_pages<H: Harness>(h: &H) {
    let s = h.fresh();
    for i in 0..10 {
        one(&s, enroll(&s, i + 1, &format!("M{i}"))).unwrap();
    }
    assert_eq!(
        s.read_raw(4, 3)
            .unwrap()
            .iter()
            .map(|r| r.position)
            .collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    assert_eq!(s.read_raw(9, 100).unwrap().len(), 2);
    assert!(s.read_raw(11, 100).unwrap().is_empty());
    // Into a page whose buffers are kept: the same events, whatever the page held before.
    let mut page = crate::RawPage::default();
    for (from, limit) in [(1, 100), (4, 3), (9, 100), (11, 100), (0, 2), (3, 0)] {
        s.read_raw_into(from, limit, &mut page).unwrap();
        let into: Vec<crate::RawEvent> = page.iter().map(|e| e.to_raw_event()).collect();
        assert_eq!(
            into,
            s.read_raw(from, limit).unwrap(),
            "from {from}, limit {limit}"
        );
    }
}

/// A page's command places, asked at once, say what each command's record says, in the
/// order asked, and nothing for a command not recorded.
pub fn command_places_match_the_records<H: Harness>(h: &H) {
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    one(&s, enroll(&s, 2, "M2")).unwrap();
    one(&s, recharge(&s, 3, "M1")).unwrap();
    let ids = [cmd_id(3), cmd_id(9), cmd_id(1), cmd_id(3)];
    let places = s.command_places(&ids).unwrap();
    assert_eq!(places.len(), ids.len());
    for (id, place) in ids.iter().zip(&places) {
        assert_eq!(*place, s.command_place(*id).unwrap(), "command {id}");
    }
    let third = places[0].as_ref().expect("recorded");
    let record = s.command(cmd_id(3)).unwrap().expect("recorded");
    assert_eq!(
        (third.member.as_str(), third.first_position, third.count),
        ("M1", 3, record.count)
    );
    assert_eq!(places[1], None);
    assert!(s.command_places(&[]).unwrap().is_empty());
}

/// A batch's command records, asked at once, say what each command's own record says, in
/// the order asked (a repeated id twice), and nothing for a command not recorded.
pub fn command_records_at_once_match_each<H: Harness>(h: &H) {
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    one(&s, enroll(&s, 2, "M2")).unwrap();
    one(&s, recharge(&s, 3, "M1")).unwrap();
    let ids = [cmd_id(3), cmd_id(9), cmd_id(1), cmd_id(3), cmd_id(2)];
    let records = s.commands(&ids).unwrap();
    assert_eq!(records.len(), ids.len());
    for (id, record) in ids.iter().zip(&records) {
        assert_eq!(*record, s.command(*id).unwrap(), "command {id}");
    }
    let third = records[0].as_ref().expect("recorded");
    assert_eq!(
        (third.command, third.member.as_str(), third.first_position),
        (cmd_id(3), "M1", 3)
    );
    assert_eq!(records[1], None);
    assert!(s.commands(&[]).unwrap().is_empty());
}

/// Settings are kept.
pub fn meta_round_trips<H: Harness>(h: &H) {
    let s = h.fresh();
    assert_eq!(s.meta("policy").unwrap(), None);
    s.set_meta("policy", b"{}").unwrap();
    s.set_meta("policy", b"{\"a\":1}").unwrap();
    let s = h.reopen(s);
    assert_eq!(
        s.meta("policy").unwrap().as_deref(),
        Some(&b"{\"a\":1}"[..])
    );
}

/// A store that keeps checkpoints gives one back whole and as a stream alike, after a reopen
/// too; one that keeps none (or a position without one) gives nothing either way.
pub fn checkpoints_read_whole_and_streamed_alike<H: Harness>(h: &H) {
    let streamed = |s: &H::Store, position: u64| {
        s.checkpoint_reader(position).unwrap().map(|mut r| {
            let mut bytes = Vec::new();
            r.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    let bytes: Vec<u8> = (0..100_000u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let kept = s.write_checkpoint(1, &bytes).unwrap();
    assert_eq!(kept, s.keeps_checkpoints());
    let s = h.reopen(s);
    let expected = kept.then_some(bytes);
    assert_eq!(s.read_checkpoint(1).unwrap(), expected);
    assert_eq!(streamed(&s, 1), expected);
    assert_eq!(s.read_checkpoint(2).unwrap(), None);
    assert_eq!(streamed(&s, 2), None);
}

/// Reopening gives back exactly the same log, indexes and head, and appends continue.
pub fn reopen_keeps_everything<H: Harness>(h: &H) {
    let s = h.fresh();
    one(&s, enroll(&s, 1, "M1")).unwrap();
    one(&s, recharge(&s, 2, "M1")).unwrap();
    one(&s, enroll(&s, 3, "M2")).unwrap();
    let before = (
        s.head().unwrap(),
        s.read_raw(1, 100).unwrap(),
        s.command(cmd_id(2)).unwrap(),
    );
    let s = h.reopen(s);
    let after = (
        s.head().unwrap(),
        s.read_raw(1, 100).unwrap(),
        s.command(cmd_id(2)).unwrap(),
    );
    assert_eq!(before, after);
    assert_eq!(
        s.member_positions(&MemberId::new("M1").unwrap()).unwrap(),
        vec![1, 2, 3]
    );
    one(&s, recharge(&s, 4, "M2")).unwrap();
    assert_eq!(check_log(&s), 6);
    assert_eq!(
        one(&s, enroll(&s, 1, "M9")).unwrap_err(),
        AppendConflict::Duplicate(cmd_id(1))
    );
}

/// Appends from many threads interleave without a gap, a fork or a lost command.
pub fn concurrent_appends_keep_one_chain<H: Harness>(h: &H) {
    let s = Arc::new(h.fresh());
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..25u64 {
                    let n = 1000 + t * 100 + i;
                    let member = format!("T{t}-{i}");
                    one(&*s, enroll(&*s, n, &member)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(check_log(&*s), 100);
}

/// Runs every case of the suite as its own `#[test]`, for a harness expression. With
/// `, when READY` a case runs only when the expression `READY` is true (a store that needs a
/// server: `READY` says whether there is one, or fails the test when one is required).
#[macro_export]
macro_rules! conformance_tests {
    ($harness:expr) => {
        $crate::conformance_tests!($harness, when true);
    };
    ($harness:expr, when $ready:expr) => {
        $crate::conformance_tests!(@cases $ready; $harness;
            empty_store_has_genesis_head,
            append_assigns_positions_and_chain,
            stale_version_is_refused,
            duplicate_command_is_refused,
            batch_items_are_independent,
            malformed_append_is_an_error,
            read_raw_pages,
            command_places_match_the_records,
            command_records_at_once_match_each,
            meta_round_trips,
            checkpoints_read_whole_and_streamed_alike,
            reopen_keeps_everything,
            concurrent_appends_keep_one_chain
        );
    };
    (@cases $ready:expr; $harness:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                if $ready {
                    $crate::conformance::$case(&$harness);
                }
            }
        )*
    };
}
