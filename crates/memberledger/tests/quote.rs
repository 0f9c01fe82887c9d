//! Quotes: a dry run returns exactly what executing records (the same event bytes, positions
//! and hashes, the same member after, the same refusal), and records nothing.

use memberledger::{Clock, Command, Ledger, Receipt};
use memberledger_testkit::year::{Shape, Year};
use memberledger_testkit::{steady, Rng};

/// Quotes `c`, checks the head did not move, executes it, and checks the quote was the
/// receipt to the byte. Returns the receipt.
fn quote_then_execute(ledger: &Ledger, c: &Command) -> Option<Receipt> {
    let head = ledger.head().unwrap();
    let quote = ledger.quote(c);
    assert_eq!(ledger.head().unwrap(), head, "a quote records nothing");
    let executed = ledger.execute(c);
    match (quote, executed) {
        (Ok(q), Ok(r)) => {
            assert_eq!(q.recorded, r.replayed);
            let bytes = |es: &[memberledger::domain::RecordedEvent]| -> Vec<String> {
                es.iter().map(|e| e.to_export_json()).collect()
            };
            assert_eq!(bytes(&q.events), bytes(&r.events), "command {}", c.id);
            if c.member.is_member() {
                assert_eq!(q.member, ledger.member(&c.member));
            }
            Some(r)
        }
        (Err(q), Err(e)) => {
            assert_eq!(q.code(), e.code(), "command {}", c.id);
            None
        }
        (q, e) => panic!("quote {q:?} but execute {e:?} for {}", c.id),
    }
}

#[test]
fn quote_equals_what_executing_records_for_steady_streams() {
    let mut rng = Rng::new(15);
    for _ in 0..6 {
        let ledger = Ledger::in_memory();
        ledger.set_clock(Clock::unbounded());
        let seed = rng.next_u64();
        let members = rng.between(2, 20);
        for c in steady::workload(300, members, 3, seed) {
            quote_then_execute(&ledger, &c);
        }
        assert!(ledger.verify().unwrap().ok());
    }
}

#[test]
fn quote_equals_what_executing_records_for_a_year_of_commands() {
    let shape = Shape {
        stores: 4,
        members: 60,
        commands: 3_000,
        days: 365,
        ..Shape::default()
    };
    for seed in [1, 2] {
        let mut year = Year::new(seed, shape);
        let ledger = Ledger::in_memory();
        ledger.set_clock(Clock::unbounded());
        for i in 0..shape.commands {
            let c = year.command(i);
            if let Some(r) = quote_then_execute(&ledger, &c) {
                year.learn(&c, &r, &ledger);
            }
            // Every few commands, a repeat: quoted as recorded, the same events.
            if i % 97 == 0 {
                let again = ledger.quote(&c);
                if let Ok(q) = again {
                    assert!(q.recorded);
                }
            }
        }
        assert!(ledger.verify().unwrap().ok());
    }
}

#[test]
fn quote_batch_equals_what_execute_batch_records() {
    let ledger = Ledger::in_memory();
    ledger.set_clock(Clock::unbounded());
    let commands = steady::workload(400, 30, 4, 7);
    let (first, second) = commands.split_at(150);
    ledger.execute_batch(first);
    let head = ledger.head().unwrap();
    // Repeats inside the batch too: the same id twice is one append.
    let mut batch = second.to_vec();
    batch.push(second[3].clone());
    let quotes = ledger.quote_batch(&batch);
    assert_eq!(ledger.head().unwrap(), head);
    let receipts = ledger.execute_batch(&batch);
    for (q, r) in quotes.iter().zip(&receipts) {
        match (q, r) {
            (Ok(q), Ok(r)) => {
                assert_eq!(q.events, r.events);
                assert_eq!(q.recorded, r.replayed);
            }
            (Err(q), Err(e)) => assert_eq!(q.code(), e.code()),
            (q, e) => panic!("quote {q:?} but execute {e:?}"),
        }
    }
}

#[test]
fn quote_of_a_recorded_command_id_says_it_is_recorded() {
    let ledger = Ledger::in_memory();
    let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#).unwrap();
    let receipt = ledger.execute(&enroll).unwrap();
    let quote = ledger.quote(&enroll).unwrap();
    assert!(quote.recorded);
    assert_eq!(quote.events, receipt.events);
    assert_eq!(quote.to_json()["replayed"], true);
    assert_eq!(quote.to_json()["dry_run"], true);
    // The same id with other content is refused, as executing it would be.
    let other = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M2","store":"S1"}"#).unwrap();
    assert_eq!(
        ledger.quote(&other).unwrap_err().code(),
        "idempotency_conflict"
    );
}

#[test]
fn quote_of_a_refused_command_gives_the_refusal_and_records_nothing() {
    let ledger = Ledger::in_memory();
    let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#).unwrap();
    ledger.execute(&enroll).unwrap();
    let head = ledger.head().unwrap();
    let spend = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T11:00:00Z","type":"consume","member":"M1","store":"S1","amount":"10.00"}"#).unwrap();
    let e = ledger.quote(&spend).unwrap_err();
    assert_eq!(e.code(), "insufficient_balance");
    assert_eq!(ledger.head().unwrap(), head);
    assert!(ledger.command_record(spend.id).unwrap().is_none());
}
