//! A forger's log: an event changed or added and the log written again around it (its
//! canonical bytes, its hash and every hash after it made anew), so that nothing but the fold
//! of the member's consumption records can tell. `verify` folds those records only for the
//! members whose fold reads them (a refund, a command consuming twice); these are the failures
//! that must still be found, at their positions, in the words a replay with every member's
//! records gives.

use memberledger::domain::{Event, EventBody, RecordedEvent};
use memberledger::store::{Append, EventStore, MemoryStore};
use memberledger::{Command, Ledger};
use memberledger_core::event_id;

fn run(ledger: &Ledger, n: u128, at: &str, rest: &str) {
    let id = uuid::Uuid::from_u128(0x7200_0000_0000_4000_8000_0000_0000_0000 | n);
    let line = format!(r#"{{"id":"{id}","at":"2026-03-{at}Z",{rest}}}"#);
    ledger.execute(&Command::from_json(&line).unwrap()).unwrap();
}

/// Two members who recharge and consume; M1 refunds part of a consumption, then consumes
/// again. Returns the ledger and its log.
fn story() -> (Ledger, Vec<RecordedEvent>) {
    let ledger = Ledger::in_memory();
    let mut n = 0;
    for m in ["M1", "M2"] {
        for (at, rest) in [
            ("01T10:00:00", r#""type":"enroll""#.to_owned()),
            (
                "01T11:00:00",
                r#""type":"recharge","amount":"500.00""#.to_owned(),
            ),
            (
                "02T11:00:00",
                r#""type":"consume","amount":"120.00""#.to_owned(),
            ),
        ] {
            n += 1;
            run(
                &ledger,
                n,
                at,
                &format!(r#""member":"{m}","store":"S1",{rest}"#),
            );
        }
    }
    let consumption = uuid::Uuid::from_u128(0x7200_0000_0000_4000_8000_0000_0000_0000 | 3);
    run(
        &ledger,
        10,
        "03T10:00:00",
        &format!(
            r#""member":"M1","store":"S1","type":"refund_consumption","consumption":"{consumption}","amount":"20.00""#
        ),
    );
    run(
        &ledger,
        11,
        "04T10:00:00",
        r#""member":"M1","store":"S1","type":"consume","amount":"10.00""#,
    );
    let log = ledger.events(1, 100).map(Result::unwrap).collect();
    (ledger, log)
}

/// A store holding `log`, each command's events (which `forge` may change) appended as the
/// ledger appended them: the store hashes the chain anew over the changed bytes.
fn store_of(
    ledger: &Ledger,
    log: &[RecordedEvent],
    forge: impl Fn(&mut Vec<Event>),
) -> MemoryStore {
    let store = MemoryStore::new();
    store
        .set_meta("policy", ledger.founding_policy().to_json().as_bytes())
        .unwrap();
    let mut commands: Vec<Vec<Event>> = Vec::new();
    for rec in log {
        match commands.last_mut() {
            Some(c) if c[0].command == rec.event.command => c.push(rec.event.clone()),
            _ => commands.push(vec![rec.event.clone()]),
        }
    }
    for mut events in commands {
        forge(&mut events);
        let first = &events[0];
        let append = Append {
            command: first.command,
            digest: [7; 32],
            member: first.member.clone(),
            expected_version: first.version - 1,
            events,
        };
        store.append(vec![append]).unwrap().pop().unwrap().unwrap();
    }
    store
}

#[test]
fn the_untouched_log_verifies_through_a_store_written_again() {
    let (ledger, log) = story();
    let copy = Ledger::with_store(Box::new(store_of(&ledger, &log, |_| {})), None).unwrap();
    let report = copy.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problem);
    assert_eq!(report.head, ledger.verify().unwrap().head);
}

#[test]
fn a_refund_of_a_consumption_never_made_is_found_at_its_position() {
    let (ledger, log) = story();
    let never = uuid::Uuid::from_u128(0x7200_0000_0000_4000_8000_0000_0000_0999);
    let store = store_of(&ledger, &log, |events| {
        for e in events {
            if let EventBody::ConsumptionRefunded(r) = &mut e.body {
                r.consumption = never;
            }
        }
    });
    // The ledger opens: its cached members keep no records, and the refund adds up.
    let forged = Ledger::with_store(Box::new(store), None).unwrap();
    let report = forged.verify().unwrap();
    let refund = log
        .iter()
        .find(|r| matches!(r.event.body, EventBody::ConsumptionRefunded(_)))
        .unwrap();
    let problem = report.problem.expect("the forged refund is found");
    assert_eq!(problem.position, refund.position);
    assert!(
        problem.what.contains("no refundable consumption"),
        "{}",
        problem.what
    );
}

#[test]
fn a_command_that_records_its_consumption_twice_is_found_at_the_second() {
    let (ledger, log) = story();
    // M2's consumption is its last event: the copy folds without records, every later event
    // being another member's.
    let consumed = log
        .iter()
        .rfind(|r| {
            r.event.member.as_str() == "M2" && matches!(r.event.body, EventBody::Consumed(_))
        })
        .unwrap();
    let command = consumed.event.command;
    let store = store_of(&ledger, &log, |events| {
        if events[0].command == command {
            let mut again = events[0].clone();
            again.index += 1;
            again.version += 1;
            again.id = event_id(command, again.index);
            if let EventBody::Consumed(c) = &mut again.body {
                // No second points lot, which the fold without records would refuse too.
                c.points_lot = None;
                c.points_earned = 0;
                c.points_expires_at = None;
            }
            events.insert(1, again);
        }
    });
    let forged = Ledger::with_store(Box::new(store), None).unwrap();
    let problem = forged
        .verify()
        .unwrap()
        .problem
        .expect("the second record is found");
    assert_eq!(problem.position, consumed.position + 1);
    assert!(
        problem.what.contains("the consumption is recorded twice"),
        "{}",
        problem.what
    );
}
