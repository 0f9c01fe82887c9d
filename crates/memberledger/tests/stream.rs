//! A stream of batches ([`Ledger::execute_stream`]): the next batch is decided while the one
//! before is written, against the projections that one leaves, and the results are those of
//! `execute_batch` on each batch in turn: on the file store (whose appends take long enough for
//! the two to overlap), across a policy publication that changes what the batches after it
//! are given, with ids repeated from the batch before, stopping when the answer says so, and
//! answering each batch before waiting for the next; an answer that panics ends the stream.
#![cfg(feature = "sled")]

use memberledger::{Command, Ledger, LedgerOptions, Policy, StoreKind};

/// Recharging 1000.00 gives 150.00 bonus.
const FOUNDING: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
  "recharge_bonus":[{"min":"1000.00","bonus":"150.00"}],"bonus_expiry_days":null}"#;
/// Recharging 1000.00 gives 300.00 bonus, and points double.
const DOUBLE: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"}],
  "recharge_bonus":[{"min":"1000.00","bonus":"300.00"}],"bonus_expiry_days":null}"#;

/// The `n`-th command, on day `day` (at a minute of its own: a publication must come after
/// every event before it).
fn cmd(n: u32, day: u32, rest: &str) -> Command {
    let (hour, minute) = (8 + (n % 100) / 60, (n % 100) % 60);
    let line = format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-{day:02}T{hour:02}:{minute:02}:00Z",{rest}}}"#
    );
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Batches of 100 commands over 40 members: enrolments, then recharges and consumptions day
/// after day (some consumptions refused: a balance too small), a policy publication in the
/// middle of the fourth batch, and in the sixth a command repeated from the fifth (an
/// idempotent retry).
fn batches() -> Vec<Vec<Command>> {
    let mut all = Vec::new();
    for n in 0..600u32 {
        let (member, day) = (n % 40, 1 + n / 100);
        let rest = match n {
            0..=39 => format!(r#""type":"enroll","member":"M{member}","store":"S1""#),
            350 => format!(r#""type":"publish_policy","store":"HQ","policy":{DOUBLE}"#),
            _ if n % 3 == 0 => {
                format!(r#""type":"consume","member":"M{member}","store":"S2","amount":"12.50""#)
            }
            _ => format!(
                r#""type":"recharge","member":"M{member}","store":"S{}","amount":"1000.00""#,
                n % 5
            ),
        };
        all.push(cmd(n + 1, day, &rest));
    }
    all.insert(520, all[480].clone());
    all.chunks(100).map(<[Command]>::to_vec).collect()
}

fn file_ledger(dir: &tempfile::TempDir, name: &str) -> Ledger {
    let options = LedgerOptions::default().with_store_kind(StoreKind::File);
    let ledger = Ledger::create_with(
        dir.path().join(name),
        Policy::from_json(FOUNDING).unwrap(),
        &options,
    )
    .unwrap();
    ledger.set_clock(memberledger::Clock::unbounded());
    ledger
}

type Answer = Result<(bool, Vec<memberledger::domain::RecordedEvent>), memberledger::Error>;

fn answers(results: Vec<Result<memberledger::Receipt, memberledger::Error>>) -> Vec<Answer> {
    results
        .into_iter()
        .map(|r| r.map(|r| (r.replayed, r.events)))
        .collect()
}

#[test]
fn a_stream_on_the_file_store_answers_as_its_batches_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (file_ledger(&dir, "a"), file_ledger(&dir, "b"));
    let mut expected = Vec::new();
    for batch in batches() {
        expected.extend(answers(a.execute_batch(&batch)));
    }
    let mut pending = batches().into_iter();
    let mut streamed = Vec::new();
    b.execute_stream(
        |_| pending.next(),
        |_, results| {
            streamed.extend(answers(results));
            true
        },
    );
    assert_eq!(streamed.len(), 601);
    assert_eq!(streamed, expected);
    assert_eq!(b.head().unwrap(), a.head().unwrap());
    // The policy published in the fourth batch gave the later recharges 300.00 of bonus.
    let events_of = |i: usize| match &streamed[i] {
        Ok((false, events)) => events
            .iter()
            .map(|e| e.to_export_json())
            .collect::<String>(),
        other => panic!("{other:?}"),
    };
    assert!(
        events_of(401).contains(r#""amount":"300.00""#),
        "{}",
        events_of(401)
    );
    assert!(
        events_of(301).contains(r#""amount":"150.00""#),
        "{}",
        events_of(301)
    );
    assert!(
        matches!(&streamed[520], Ok((true, _))),
        "the retry is a replay"
    );
    let report = b.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problem);
}

#[test]
fn a_stream_stops_when_its_answer_says_so_and_records_no_batch_after() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = file_ledger(&dir, "ledger");
    let mut pending = batches().into_iter();
    let (mut answered, mut events) = (0, 0u64);
    ledger.execute_stream(
        |_| pending.next(),
        |_, results| {
            events += results
                .iter()
                .flatten()
                .map(|r| r.events.len() as u64)
                .sum::<u64>();
            answered += 1;
            answered < 2
        },
    );
    assert_eq!(answered, 2);
    // The third batch was planned while the second was answered, and the fourth was at hand
    // (prepared ahead), but neither was written: the log holds the founding policy's record
    // and the first two batches' events.
    assert_eq!(ledger.head().unwrap().position, 1 + events);
    assert_eq!(
        pending.len(),
        batches().len() - 4,
        "the two batches answered, the one planned and the one at hand were asked for, nothing after"
    );
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_stream_answers_every_batch_before_it_waits_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = file_ledger(&dir, "ledger");
    let mut pending = batches().into_iter();
    let (given, answered) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    ledger.execute_stream(
        |wait| {
            // Nothing is ever at hand: a caller that reads each answer before it sends more
            // (an interactive `apply`) must get it before the stream waits.
            if !wait {
                return None;
            }
            assert_eq!(answered.get(), given.get(), "a batch left unanswered");
            given.set(given.get() + 1);
            pending.next()
        },
        |batch, results| {
            assert_eq!(results.len(), batch.len());
            answered.set(answered.get() + 1);
            true
        },
    );
    assert_eq!(answered.get(), batches().len());
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_stream_whose_answer_panics_ends_with_the_panic_and_writes_nothing_after() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = file_ledger(&dir, "ledger");
    let mut pending = batches().into_iter();
    let mut answered = 0;
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ledger.execute_stream(
            |_| pending.next(),
            |_, _| {
                answered += 1;
                assert!(answered < 2, "the answer to the second batch panics");
                true
            },
        );
    }));
    // The panic comes back to the caller (no wait for an answer that will never come), and
    // the batch planned beside that answer was not written: the log holds the first two
    // batches, as the same two batches leave another ledger.
    assert!(run.is_err());
    let two = file_ledger(&dir, "two");
    for batch in batches().into_iter().take(2) {
        two.execute_batch(&batch);
    }
    assert_eq!(ledger.head().unwrap(), two.head().unwrap());
    assert!(ledger.verify().unwrap().ok());
}
