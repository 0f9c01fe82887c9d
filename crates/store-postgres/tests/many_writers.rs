//! Several stores (as several processes would) append to one ledger at once: a writer that
//! decided on a stale member gets a conflict, reads what the others appended from its last
//! known position and decides again; the chain stays one chain, nothing lost or doubled.
//! Needs `MEMBERLEDGER_PG_URL` (see tests/common).

mod common;

use std::sync::Arc;

use memberledger_core::MemberId;
use memberledger_store::conformance::{append_at, check_log, cmd_id, enroll, recharge};
use memberledger_store::{AppendConflict, EventStore};
use memberledger_store_postgres::PgStore;

/// Two stores on one new ledger, and a guard that drops its schema.
fn two_stores() -> Option<(PgStore, PgStore, Dropper)> {
    let url = common::url()?;
    let schema = common::fresh_schema("many");
    let a = PgStore::create(&url, &schema).unwrap();
    let b = PgStore::open_existing(&url, &schema).unwrap();
    Some((a, b, Dropper { url, schema }))
}

struct Dropper {
    url: String,
    schema: String,
}

impl Drop for Dropper {
    fn drop(&mut self) {
        common::drop_schema(&self.url, &self.schema);
    }
}

#[test]
fn a_stale_writer_gets_a_conflict_and_catches_up_from_its_last_position() {
    let Some((a, b, _drop)) = two_stores() else {
        return;
    };
    a.append(vec![enroll(&a, 1, "M1")])
        .unwrap()
        .remove(0)
        .unwrap();
    let last_known = b.head().unwrap().position;
    let stale = recharge(&b, 3, "M1");
    a.append(vec![recharge(&a, 2, "M1")])
        .unwrap()
        .remove(0)
        .unwrap();
    let refused = b.append(vec![stale]).unwrap().remove(0).unwrap_err();
    assert!(
        matches!(
            refused,
            AppendConflict::Version {
                expected: 1,
                actual: 3,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_eq!(
        b.command(cmd_id(3)).unwrap(),
        None,
        "the stale command recorded nothing"
    );
    // What the other writer appended, from the last known position on.
    let missed = b.read_raw(last_known + 1, 100).unwrap();
    let missed: Vec<_> = missed.iter().map(|r| r.decode().unwrap()).collect();
    assert_eq!(missed.len(), 2);
    assert!(missed.iter().all(|e| e.event.command == cmd_id(2)));
    // Decided again on what is there now, the same command is recorded once.
    b.append(vec![recharge(&b, 3, "M1")])
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(check_log(&a), 5);
    assert_eq!(a.head().unwrap(), b.head().unwrap());
}

#[test]
fn the_same_command_from_two_writers_is_recorded_once() {
    let Some((a, b, _drop)) = two_stores() else {
        return;
    };
    let (a, b) = (Arc::new(a), Arc::new(b));
    // Both writers decide the command before either appends (on the empty stream, as two
    // processes given the same command at once would); only the appends race.
    let both: Vec<_> = [Arc::clone(&a), Arc::clone(&b)]
        .into_iter()
        .map(|s| (enroll(&*s, 7, "M7"), s))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|(append, s)| std::thread::spawn(move || s.append(vec![append]).unwrap()))
        .collect();
    let results: Vec<_> = both.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(results
        .iter()
        .any(|r| *r == Err(AppendConflict::Duplicate(cmd_id(7)))));
    assert_eq!(check_log(&*a), 1);
}

/// Appends command `n` for `member`, deciding again after each conflict: the conflicts met and
/// the events recorded.
fn append_retrying(store: &PgStore, n: u64, member: &str) -> (u32, u64) {
    let mut conflicts = 0;
    loop {
        let append = append_at(
            store,
            n,
            "2026-03-01T11:00:00Z",
            member,
            r#""type":"recharge","amount":"1000.00""#,
        );
        match store.append(vec![append]).unwrap().remove(0) {
            Ok(events) => return (conflicts, u64::try_from(events.len()).unwrap()),
            Err(AppendConflict::Version { .. }) => conflicts += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
}

#[test]
fn concurrent_writers_on_shared_members_never_fork_the_chain() {
    let Some((a, b, _drop)) = two_stores() else {
        return;
    };
    const MEMBERS: u64 = 3;
    const PER_THREAD: u64 = 30;
    for m in 0..MEMBERS {
        a.append(vec![enroll(&a, 1 + m, &format!("S{m}"))])
            .unwrap()
            .remove(0)
            .unwrap();
    }
    let stores = [Arc::new(a), Arc::new(b)];
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = Arc::clone(&stores[usize::try_from(t % 2).unwrap()]);
            std::thread::spawn(move || {
                (0..PER_THREAD)
                    .map(|i| {
                        let n = 100 + t * 1000 + i;
                        append_retrying(&store, n, &format!("S{}", (t + i) % MEMBERS))
                    })
                    .fold((0, 0), |(c, e), (c2, e2)| (c + c2, e + e2))
            })
        })
        .collect();
    let (conflicts, appended) = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .fold((0, 0), |(c, e), (c2, e2)| (c + c2, e + e2));
    eprintln!("conflicts met and retried: {conflicts}");
    // One chain holding every acknowledged event once (each enrolment is one event).
    let events = check_log(&*stores[1]);
    assert_eq!(events, MEMBERS + appended);
    for t in 0..4u64 {
        for i in 0..PER_THREAD {
            assert!(stores[0]
                .command(cmd_id(100 + t * 1000 + i))
                .unwrap()
                .is_some());
        }
    }
    let versions: u64 = (0..MEMBERS)
        .map(|m| {
            let member = MemberId::new(format!("S{m}")).unwrap();
            stores[0].member_version(&member).unwrap()
        })
        .sum();
    assert_eq!(versions, events);
}
