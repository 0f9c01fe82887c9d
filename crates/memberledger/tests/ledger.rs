//! The facade: idempotency, batches, concurrency, durability across reopen, verify.
// Without the `sled` feature only the tests of a ledger in memory run.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use std::sync::Arc;

use memberledger::{Command, Error, Ledger, MemberId, Timestamp, Uuid};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x8b0e_4f2a_0000_4000_8000_0000_0000_0000 | n)
}

fn cmd(n: u128, at: &str, member: &str, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-{at}Z","member":"{member}","store":"S1",{rest}}}"#,
        id(n)
    ))
    .unwrap()
}

fn enroll(n: u128, member: &str) -> Command {
    cmd(n, "01T10:00:00", member, r#""type":"enroll""#)
}

fn recharge(n: u128, member: &str, amount: &str) -> Command {
    cmd(
        n,
        "01T11:00:00",
        member,
        &format!(r#""type":"recharge","amount":"{amount}""#),
    )
}

fn m(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

#[test]
fn idempotent_retry_returns_the_original_receipt_and_records_nothing() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    let first = l.execute(&recharge(2, "M1", "1000.00")).unwrap();
    let head = l.head().unwrap();
    let again = l.execute(&recharge(2, "M1", "1000.00")).unwrap();
    assert!(!first.replayed);
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    assert_eq!(l.head().unwrap(), head);
    assert_eq!(l.member(&m("M1")).unwrap().principal.to_string(), "1000.00");
}

#[test]
fn same_id_with_different_content_is_an_idempotency_conflict() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    l.execute(&recharge(2, "M1", "1000.00")).unwrap();
    let head = l.head().unwrap();
    let e = l.execute(&recharge(2, "M1", "999.00")).unwrap_err();
    assert_eq!(e.code(), "idempotency_conflict");
    assert_eq!(l.head().unwrap(), head);
}

#[test]
fn rejected_commands_record_nothing_and_may_be_retried() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    let consume = cmd(
        2,
        "02T10:00:00",
        "M1",
        r#""type":"consume","amount":"50.00""#,
    );
    assert_eq!(
        l.execute(&consume).unwrap_err().code(),
        "insufficient_balance"
    );
    // The founding policy's record (position 1) and the enrollment.
    assert_eq!(l.head().unwrap().position, 2);
    let r = cmd(
        4,
        "02T11:00:00",
        "M1",
        r#""type":"recharge","amount":"100.00""#,
    );
    l.execute(&r).unwrap();
    // Older than the member's last event (03-02T11): out of order, nothing recorded.
    assert_eq!(
        l.execute(&recharge(3, "M1", "100.00")).unwrap_err().code(),
        "out_of_order"
    );
    assert_eq!(l.head().unwrap().position, 3);
    // The rejected command was not recorded, so its id is still free.
    assert!(
        !l.execute(&cmd(
            2,
            "02T12:00:00",
            "M1",
            r#""type":"consume","amount":"50.00""#
        ))
        .unwrap()
        .replayed
    );
}

#[test]
fn a_batch_runs_each_command_on_its_own_and_in_order() {
    let l = Ledger::in_memory();
    let batch = vec![
        enroll(1, "M1"),
        recharge(2, "M1", "1000.00"),
        recharge(2, "M1", "1000.00"), // the same command again: replayed
        recharge(2, "M1", "5.00"),    // the same id, other content: conflict
        cmd(
            3,
            "01T12:00:00",
            "M1",
            r#""type":"consume","amount":"99999.00""#,
        ), // too much
        cmd(
            4,
            "01T12:00:00",
            "M1",
            r#""type":"consume","amount":"100.00""#,
        ),
        enroll(5, "M1"), // exists
    ];
    let out = l.execute_batch(&batch);
    assert!(out[0].is_ok() && out[1].is_ok());
    assert!(out[2].as_ref().unwrap().replayed);
    assert_eq!(
        out[2].as_ref().unwrap().events,
        out[1].as_ref().unwrap().events
    );
    assert_eq!(out[3].as_ref().unwrap_err().code(), "idempotency_conflict");
    assert_eq!(out[4].as_ref().unwrap_err().code(), "insufficient_balance");
    assert!(out[5].is_ok());
    assert_eq!(out[6].as_ref().unwrap_err().code(), "member_exists");
    assert!(l.verify().unwrap().ok());
    // A later single retry of a batched command is a replay too.
    assert!(l.execute(&batch[5]).unwrap().replayed);
}

#[test]
fn oversized_batches_are_refused_whole() {
    let l = Ledger::in_memory();
    let batch: Vec<Command> = (0..=memberledger::BATCH_MAX as u128)
        .map(|i| enroll(i + 1, &format!("M{i}")))
        .collect();
    let out = l.execute_batch(&batch);
    assert!(out
        .iter()
        .all(|r| r.as_ref().is_err_and(|e| e.code() == "invalid_command")));
    // Nothing but the founding policy's record.
    assert_eq!(l.head().unwrap().position, 1);
}

#[test]
fn many_threads_on_one_member_lose_no_update() {
    let l = Arc::new(Ledger::in_memory());
    l.execute(&enroll(1, "M1")).unwrap();
    let threads: Vec<_> = (0..8u128)
        .map(|t| {
            let l = Arc::clone(&l);
            std::thread::spawn(move || {
                for i in 0..50u128 {
                    let n = 1000 + t * 100 + i;
                    // Same time for all: never out of order, whatever the interleaving.
                    let c = cmd(
                        n,
                        "05T10:00:00",
                        "M1",
                        r#""type":"grant_bonus","amount":"1.00","reason":"t""#,
                    );
                    l.execute(&c).unwrap();
                    // And a retry from the same thread is a replay.
                    assert!(l.execute(&c).unwrap().replayed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let v = l.member(&m("M1")).unwrap();
    assert_eq!(v.bonus.to_string(), "400.00");
    assert_eq!(v.version, 401);
    assert!(l.verify().unwrap().ok());
}

#[cfg(feature = "sled")]
#[test]
fn a_sled_ledger_reopens_to_the_same_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let (view, head) = {
        let l = Ledger::open(&path).unwrap();
        l.execute(&enroll(1, "M1")).unwrap();
        l.execute(&recharge(2, "M1", "1000.00")).unwrap();
        l.execute(&cmd(
            3,
            "02T10:00:00",
            "M1",
            r#""type":"consume","amount":"300.00""#,
        ))
        .unwrap();
        (l.member_state(&m("M1")).unwrap(), l.head().unwrap())
    };
    let l = Ledger::open_existing(&path).unwrap();
    assert_eq!(l.member_state(&m("M1")).unwrap(), view);
    assert_eq!(l.head().unwrap(), head);
    assert!(l.verify().unwrap().ok());
    // Idempotency survives the reopen.
    assert!(l.execute(&recharge(2, "M1", "1000.00")).unwrap().replayed);
}

#[cfg(feature = "sled")]
#[test]
fn open_verified_replays_once_and_reports_what_verify_reports() {
    // More events than one replay page, so the pipelined pages meet.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    {
        let l = Ledger::open(&path).unwrap();
        let mut commands: Vec<Command> = (0..50).map(|i| enroll(i, &format!("M{i}"))).collect();
        commands.extend(
            (50..9_050).map(|i| recharge(i, &format!("M{}", i % 50), &format!("{}.05", i % 7 + 1))),
        );
        for chunk in commands.chunks(1_000) {
            for r in l.execute_batch(chunk) {
                r.unwrap();
            }
        }
    }
    let expected = Ledger::open_existing(&path).unwrap().verify().unwrap();
    assert!(expected.ok(), "{expected:?}");
    assert!(expected.events > 9_000);
    let (l, report) = Ledger::open_verified(&path).unwrap();
    assert_eq!(report, expected);
    assert_eq!(l.verify().unwrap(), expected);
    drop(l);
    let e = Ledger::open_verified(dir.path().join("nothing")).unwrap_err();
    assert_eq!(e.code(), "no_ledger");
}

#[cfg(feature = "sled")]
#[test]
fn open_existing_refuses_a_missing_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let e = Ledger::open_existing(dir.path().join("nothing")).unwrap_err();
    assert_eq!(e.code(), "no_ledger");
    assert!(!dir.path().join("nothing").exists(), "nothing was created");
}

#[cfg(feature = "sled")]
#[test]
fn create_refuses_an_existing_ledger_and_open_keeps_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let policy = memberledger::Policy::from_json(
        r#"{"currency":"HKD","tiers":[{"name":"basic","discount":"1.00","points_per_yuan":"0"}]}"#,
    )
    .unwrap();
    drop(Ledger::create(&path, policy.clone()).unwrap());
    assert_eq!(
        Ledger::create(&path, policy.clone()).unwrap_err().code(),
        "already_exists"
    );
    assert_eq!(*Ledger::open(&path).unwrap().policy(), policy);
}

#[cfg(feature = "sled")]
#[test]
fn a_second_open_of_the_same_sled_ledger_is_refused_while_the_first_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let _first = Ledger::open(&path).unwrap();
    let e = Ledger::open(&path).unwrap_err();
    assert_eq!(e.code(), "locked", "{e}");
    assert!(e.is_retryable(), "{e}");
}

#[test]
fn member_as_of_folds_only_events_up_to_the_time() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    l.execute(&recharge(2, "M1", "1000.00")).unwrap();
    l.execute(&cmd(
        3,
        "10T10:00:00",
        "M1",
        r#""type":"consume","amount":"100.00""#,
    ))
    .unwrap();
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let before = l
        .member_as_of(&m("M1"), at("2026-03-05T00:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(before.principal.to_string(), "1000.00");
    assert_eq!(before.version, 3);
    let now = l
        .member_as_of(&m("M1"), at("2026-03-10T10:00:00Z"))
        .unwrap()
        .unwrap();
    assert_eq!(now, l.member(&m("M1")).unwrap());
    assert_eq!(
        l.member_as_of(&m("M1"), at("2026-02-01T00:00:00Z"))
            .unwrap(),
        None
    );
}

#[cfg(feature = "sled")]
#[test]
fn tampering_with_a_stored_event_is_found_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    {
        let l = Ledger::open(&path).unwrap();
        l.execute(&enroll(1, "M1")).unwrap();
        l.execute(&recharge(2, "M1", "1000.00")).unwrap();
        l.execute(&cmd(
            3,
            "02T10:00:00",
            "M1",
            r#""type":"consume","amount":"300.00""#,
        ))
        .unwrap();
    }
    // Change "300.00" to "900.00" inside the stored bytes of the consumption (position 5,
    // after the founding policy's record).
    {
        let db = raw_sled(&path);
        let key = [&[b'e'][..], &5u64.to_be_bytes()].concat();
        let mut v = db.get(&key).unwrap().unwrap().to_vec();
        let needle = b"\"price\":\"300.00\"";
        let at = v
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("the price is stored");
        v[at + 9] = b'9';
        db.insert(&key, v).unwrap();
        db.flush().unwrap();
    }
    match Ledger::open(&path).unwrap_err() {
        Error::Corrupt { position, .. } => assert_eq!(position, 5),
        other => panic!("expected corrupt, got {other}"),
    }
}

#[test]
fn the_ledger_is_send_and_sync() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Ledger>();
    shareable::<Error>();
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
fn stores_settle_what_they_owe_and_no_more() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    l.execute(&recharge(2, "M1", "1000.00")).unwrap();
    // Spent at S2 from principal collected at S1: S1 owes S2 the principal part, 260.87.
    let spend = Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-02T10:00:00Z","member":"M1","store":"S2","type":"consume","amount":"300.00"}}"#,
        id(3)
    ))
    .unwrap();
    l.execute(&spend).unwrap();
    let s = |x: &str| memberledger::StoreId::new(x).unwrap();
    assert_eq!(
        l.clearing().outstanding(&s("S1"), &s("S2")).to_string(),
        "260.87"
    );
    assert_eq!(
        l.clearing().outstanding(&s("S2"), &s("S1")).to_string(),
        "0.00"
    );

    let settle = |n: u128, at: &str, from: &str, rest: &str| {
        Command::from_json(&format!(
            r#"{{"id":"{}","at":"2026-03-{at}Z","type":"settle","store":"{from}",{rest}}}"#,
            id(n)
        ))
    };
    let too_much = settle(4, "03T10:00:00", "S1", r#""to":"S2","amount":"300.00""#).unwrap();
    assert_eq!(
        l.execute(&too_much).unwrap_err().code(),
        "settlement_exceeds_owed"
    );
    let part = settle(5, "03T10:00:00", "S1", r#""to":"S2","amount":"200.00""#).unwrap();
    let r = l.execute(&part).unwrap();
    assert_eq!(r.events[0].event.body.type_name(), "settled");
    assert!(
        !r.events[0].event.member.is_member(),
        "recorded in the settlements stream"
    );
    assert_eq!(
        l.clearing().outstanding(&s("S1"), &s("S2")).to_string(),
        "60.87"
    );
    let rest = settle(6, "04T10:00:00", "S1", r#""to":"S2""#).unwrap();
    l.execute(&rest).unwrap();
    assert_eq!(
        l.clearing().outstanding(&s("S1"), &s("S2")).to_string(),
        "0.00"
    );
    let nothing = settle(7, "05T10:00:00", "S1", r#""to":"S2""#).unwrap();
    assert_eq!(
        l.execute(&nothing).unwrap_err().code(),
        "settlement_exceeds_owed"
    );
    let earlier = settle(8, "01T10:00:00", "S2", r#""to":"S1""#).unwrap();
    assert_eq!(l.execute(&earlier).unwrap_err().code(), "out_of_order");
    let itself = settle(9, "06T10:00:00", "S1", r#""to":"S1""#).unwrap();
    assert_eq!(l.execute(&itself).unwrap_err().code(), "invalid_command");
    // A settlement names no member.
    let with_member = Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-06T10:00:00Z","type":"settle","member":"M1","store":"S1","to":"S2"}}"#,
        id(10)
    ));
    assert_eq!(with_member.unwrap_err().code(), "invalid_command");
    assert!(l.member_ids().iter().all(|m| m.is_member()));
    assert!(l.verify().unwrap().ok());
    // A refund of the consumption reverses what is owed: now S2 owes S1 back.
    let refund = Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-07T10:00:00Z","member":"M1","store":"S2","type":"refund_consumption","consumption":"{}"}}"#,
        id(11),
        id(3)
    ))
    .unwrap();
    l.execute(&refund).unwrap();
    assert_eq!(
        l.clearing().outstanding(&s("S2"), &s("S1")).to_string(),
        "260.87"
    );
    assert!(l.verify().unwrap().ok());
}

#[test]
fn the_expiry_sweep_records_what_is_due_once() {
    let l = Ledger::in_memory();
    l.execute(&enroll(1, "M1")).unwrap();
    l.execute(&enroll(2, "M2")).unwrap();
    l.execute(&cmd(
        3,
        "01T12:00:00",
        "M1",
        r#""type":"grant_bonus","amount":"30.00","reason":"w","expires_at":"2026-03-10T00:00:00Z""#,
    ))
    .unwrap();
    l.execute(&cmd(
        4,
        "01T12:00:00",
        "M2",
        r#""type":"grant_bonus","amount":"40.00","reason":"w","expires_at":"2026-04-10T00:00:00Z""#,
    ))
    .unwrap();
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let swept = l.expire_due(at("2026-03-15T00:00:00Z"));
    assert_eq!(swept.len(), 1, "only M1 is due");
    let r = swept[0].as_ref().unwrap();
    assert_eq!(r.events[0].event.member, m("M1"));
    assert_eq!(l.member(&m("M1")).unwrap().bonus.to_string(), "0.00");
    assert_eq!(l.member(&m("M2")).unwrap().bonus.to_string(), "40.00");
    // The same sweep again finds nothing due; a later one takes M2.
    assert!(l.expire_due(at("2026-03-15T00:00:00Z")).is_empty());
    assert_eq!(l.expire_due(at("2026-05-01T00:00:00Z")).len(), 1);
    assert!(l.verify().unwrap().ok());
}
