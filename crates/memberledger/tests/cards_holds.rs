//! Cards and holds through the facade: the card directory kept by the projections and rebuilt
//! on replay (a card belongs to one member across restarts), commands named by a card, holds
//! surviving a restart, and quotes of authorize and capture equal to what executing records.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use memberledger::{Clock, Command, Ledger, MemberId, Policy, Uuid};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x4ca2_d5e1_0000_4000_8000_0000_0000_0000 | n)
}

fn cmd(n: u128, at: &str, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-{at}Z","store":"S1",{rest}}}"#,
        id(n)
    ))
    .unwrap()
}

fn m(s: &str) -> MemberId {
    MemberId::new(s).unwrap()
}

/// Two members, M1 with 1000.00 and card C1, M2 empty.
fn setup(l: &Ledger) {
    for c in [
        cmd(1, "01T10:00:00", r#""member":"M1","type":"enroll""#),
        cmd(2, "01T10:00:00", r#""member":"M2","type":"enroll""#),
        cmd(
            3,
            "01T11:00:00",
            r#""member":"M1","type":"recharge","amount":"1000.00""#,
        ),
        cmd(
            4,
            "01T12:00:00",
            r#""member":"M1","type":"link_card","card":"C1""#,
        ),
    ] {
        l.execute(&c).unwrap();
    }
}

#[test]
fn a_command_named_by_its_card_is_recorded_for_the_cards_member() {
    let l = Ledger::in_memory();
    setup(&l);
    let r = l
        .execute(&cmd(
            5,
            "02T10:00:00",
            r#""card":"C1","type":"consume","amount":"100.00""#,
        ))
        .unwrap();
    assert!(r.events.iter().all(|e| e.event.member == m("M1")));
    assert_eq!(r.events[0].event.body.type_name(), "card_used");
    // 1000.00 and the built-in policy's 150.00 bonus, less 100.00.
    assert_eq!(l.member(&m("M1")).unwrap().available.to_string(), "1050.00");
    // The same command again is the same command: its original receipt.
    let again = l
        .execute(&cmd(
            5,
            "02T10:00:00",
            r#""card":"C1","type":"consume","amount":"100.00""#,
        ))
        .unwrap();
    assert!(again.replayed);
    let e = l
        .execute(&cmd(
            6,
            "02T10:00:00",
            r#""card":"C9","type":"consume","amount":"1.00""#,
        ))
        .unwrap_err();
    assert_eq!(e.code(), "card_not_linked");
    assert_eq!(l.card_owner("C1").unwrap(), Some(m("M1")));
}

#[test]
fn a_card_linked_to_one_member_is_refused_to_another_in_one_batch_too() {
    let l = Ledger::in_memory();
    setup(&l);
    let results = l.execute_batch(&[
        cmd(
            10,
            "02T10:00:00",
            r#""member":"M2","type":"link_card","card":"C2""#,
        ),
        cmd(
            11,
            "02T10:00:00",
            r#""member":"M1","type":"link_card","card":"C2""#,
        ),
        cmd(
            12,
            "02T10:00:00",
            r#""member":"M2","type":"link_card","card":"C1""#,
        ),
    ]);
    assert!(results[0].is_ok());
    assert_eq!(results[1].as_ref().unwrap_err().code(), "card_in_use");
    assert_eq!(results[2].as_ref().unwrap_err().code(), "card_in_use");
}

#[cfg(feature = "sled")]
#[test]
fn cards_and_holds_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    {
        let l = Ledger::open(&path).unwrap();
        l.set_clock(Clock::unbounded());
        setup(&l);
        l.execute(&cmd(
            20,
            "02T10:00:00",
            r#""card":"C1","type":"authorize","amount":"300.00""#,
        ))
        .unwrap();
        l.execute(&cmd(
            21,
            "02T10:05:00",
            r#""member":"M1","type":"report_lost","card":"C1""#,
        ))
        .unwrap();
    }
    let l = Ledger::open_existing(&path).unwrap();
    l.set_clock(Clock::unbounded());
    let v = l.member(&m("M1")).unwrap();
    assert_eq!(
        (v.held.to_string(), v.available.to_string()),
        ("300.00".into(), "850.00".into())
    );
    assert_eq!(v.holds.len(), 1);
    // The directory was rebuilt: the lost card is still M1's, and refused.
    let e = l
        .execute(&cmd(
            22,
            "02T11:00:00",
            r#""member":"M2","type":"link_card","card":"C1""#,
        ))
        .unwrap_err();
    assert_eq!(e.code(), "card_in_use");
    let e = l
        .execute(&cmd(
            23,
            "02T11:00:00",
            r#""card":"C1","type":"consume","amount":"1.00""#,
        ))
        .unwrap_err();
    assert_eq!(e.code(), "card_lost");
    let capture = format!(
        r#""member":"M1","type":"capture","hold":"{}","amount":"250.00""#,
        id(20)
    );
    l.execute(&cmd(24, "02T12:00:00", &capture)).unwrap();
    let v = l.member(&m("M1")).unwrap();
    assert_eq!(
        (v.held.to_string(), v.available.to_string()),
        ("0.00".into(), "900.00".into())
    );
    assert!(l.verify().unwrap().ok());
}

#[test]
fn a_quote_of_authorize_and_capture_equals_what_executing_records() {
    let l = Ledger::in_memory();
    setup(&l);
    let capture = format!(
        r#""member":"M1","type":"capture","hold":"{}","amount":"120.00","service":"cut""#,
        id(30)
    );
    for c in [
        cmd(
            30,
            "02T10:00:00",
            r#""card":"C1","type":"authorize","amount":"150.00""#,
        ),
        cmd(31, "02T10:01:00", &capture),
        cmd(
            32,
            "02T10:02:00",
            r#""member":"M1","type":"authorize","amount":"5000.00""#,
        ),
    ] {
        let head = l.head().unwrap();
        let quote = l.quote(&c);
        assert_eq!(l.head().unwrap(), head, "a quote records nothing");
        match (quote, l.execute(&c)) {
            (Ok(q), Ok(r)) => {
                let bytes = |es: &[memberledger::domain::RecordedEvent]| -> Vec<String> {
                    es.iter().map(|e| e.to_export_json()).collect()
                };
                assert_eq!(bytes(&q.events), bytes(&r.events));
                assert_eq!(q.member, l.member(&m("M1")));
            }
            (Err(q), Err(e)) => assert_eq!(q.code(), e.code()),
            (q, e) => panic!("quote {q:?} but execute {e:?}"),
        }
    }
    assert!(l.verify().unwrap().ok());
}

#[test]
fn a_hashing_policy_needs_the_ledgers_card_key_and_records_no_number() {
    let policy = Policy::from_json(
        r#"{"tiers":[{"name":"std","discount":"1.00","points_per_yuan":"1"}],"cards":{"store":"hash"}}"#,
    )
    .unwrap();
    let l = Ledger::in_memory_with(policy);
    l.execute(&cmd(1, "01T10:00:00", r#""member":"M1","type":"enroll""#))
        .unwrap();
    let link = cmd(
        2,
        "01T11:00:00",
        r#""member":"M1","type":"link_card","card":"6222000011112222""#,
    );
    assert_eq!(l.execute(&link).unwrap_err().code(), "card_key_missing");
    l.set_card_key(Some(b"chain secret".to_vec()));
    let r = l.execute(&link).unwrap();
    let json = r.events[0].to_export_json();
    assert!(
        !json.contains("6222000011112222") && json.contains("sha256:"),
        "{json}"
    );
    assert_eq!(l.card_owner("6222000011112222").unwrap(), Some(m("M1")));
}
