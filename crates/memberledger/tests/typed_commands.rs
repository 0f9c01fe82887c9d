//! Issue 11 item 14: a command built as a struct literal is checked exactly as its wire form
//! is (`Command::validate`, which `from_json` ends with), by `execute` and `execute_batch`,
//! whichever way it was built; and its stream must match its action.

use memberledger::{Action, Command, Ledger, MemberId, Money, StoreId, Timestamp, Uuid};

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn at() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

fn typed(n: u128, member: MemberId, action: Action) -> Command {
    // A command cannot be written as a literal: a well-formed one is built, then its fields
    // are set as a caller could, to whatever `execute` must check.
    let mut c = Command::build(id(1), at(), "S1")
        .member("M1")
        .expire()
        .unwrap();
    c.id = id(n);
    c.member = member;
    c.store = StoreId::new("S1").unwrap();
    c.action = action;
    c
}

fn m1() -> MemberId {
    MemberId::new("M1").unwrap()
}

fn enrolled() -> Ledger {
    let ledger = Ledger::in_memory();
    let enroll = typed(1, m1(), Action::Enroll { tier: None });
    ledger.execute(&enroll).unwrap();
    ledger
}

/// Each defect of the report, built as a struct literal, with the code the wire form gives.
fn defects() -> Vec<(Command, &'static str)> {
    let recharge = |n, cents| {
        typed(
            n,
            m1(),
            Action::Recharge {
                amount: Money::from_cents(cents),
                staff: None,
            },
        )
    };
    let mut nil = recharge(10, 1000);
    nil.id = Uuid::nil();
    vec![
        (recharge(11, -5000), "invalid_amount"),
        (recharge(12, 0), "invalid_amount"),
        (recharge(13, 10_000_000_000), "invalid_amount"),
        (nil, "invalid_command"),
        (
            typed(
                14,
                m1(),
                Action::RedeemPoints {
                    points: 0,
                    reason: None,
                    given: None,
                },
            ),
            "invalid_amount",
        ),
        (
            typed(
                15,
                m1(),
                Action::Consume {
                    amount: Money::from_cents(100),
                    staff: None,
                    service: Some(format!("{}\n", "x".repeat(300))),
                    external: None,
                    coupon: None,
                },
            ),
            "invalid_command",
        ),
    ]
}

#[test]
fn a_typed_command_is_checked_like_its_wire_form() {
    let ledger = enrolled();
    let head = ledger.head().unwrap();
    for (cmd, code) in defects() {
        let e = ledger.execute(&cmd).unwrap_err();
        assert_eq!(e.code(), code, "{cmd:?}: {e}");
        // The wire form of the same command is refused with the same code.
        let wire = Command::from_json(&cmd.to_json()).unwrap_err();
        assert_eq!(wire.code(), code, "{}: {wire}", cmd.to_json());
        // And in a batch.
        let batch = ledger.execute_batch(std::slice::from_ref(&cmd));
        assert_eq!(batch[0].as_ref().unwrap_err().code(), code);
    }
    assert_eq!(ledger.head().unwrap(), head, "nothing recorded");
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_typed_command_names_the_stream_of_its_action() {
    let ledger = enrolled();
    let head = ledger.head().unwrap();
    let stores = MemberId::decode_str("@stores").unwrap();
    let policy = MemberId::decode_str("@policy").unwrap();
    let cases = [
        // A member command on a stream that is not a member's: refused, not a panic.
        (
            typed(20, stores.clone(), Action::Enroll { tier: None }),
            "invalid_id",
        ),
        (
            typed(
                21,
                policy,
                Action::Recharge {
                    amount: Money::from_cents(100),
                    staff: None,
                },
            ),
            "invalid_id",
        ),
        // A settlement sent with a member: refused at once, not retried into a conflict.
        (
            typed(
                22,
                m1(),
                Action::Settle {
                    to: StoreId::new("S2").unwrap(),
                    amount: None,
                },
            ),
            "invalid_command",
        ),
        (
            typed(
                23,
                m1(),
                Action::PublishPolicy {
                    policy: Box::new(memberledger::Policy::builtin()),
                },
            ),
            "invalid_command",
        ),
    ];
    for (cmd, code) in cases {
        let e = ledger.execute(&cmd).unwrap_err();
        assert_eq!(e.code(), code, "{cmd:?}: {e}");
    }
    assert_eq!(ledger.head().unwrap(), head, "nothing recorded");
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_large_batch_checks_each_typed_command_first_as_a_small_one_does() {
    // 64 commands or more with no cross-member command are decided member by member: the
    // command's own form is still checked before its id is looked up.
    let ledger = enrolled();
    let head = ledger.head().unwrap();
    let (defective, codes): (Vec<Command>, Vec<&str>) = defects().into_iter().unzip();
    let mut batch = defective.clone();
    // The first defect again, this time with an id already recorded (the enrollment's):
    // still its form's code, not a replay or an idempotency conflict.
    let mut reused = defective[0].clone();
    reused.id = id(1);
    batch.push(reused);
    let mut wants: Vec<&str> = codes.clone();
    wants.push(codes[0]);
    // More of the defects with ids of their own (all but the nil id, which is the defect).
    let padding: Vec<(Command, &str)> = defects()
        .into_iter()
        .filter(|(c, _)| !c.id.is_nil())
        .collect();
    while batch.len() < 80 {
        let (mut again, code) = padding[batch.len() % padding.len()].clone();
        again.id = id(1000 + u128::try_from(batch.len()).unwrap());
        batch.push(again);
        wants.push(code);
    }
    let results = ledger.execute_batch(&batch);
    for (i, (r, want)) in results.iter().zip(&wants).enumerate() {
        assert_eq!(r.as_ref().unwrap_err().code(), *want, "#{i}");
    }
    assert_eq!(ledger.head().unwrap(), head, "nothing recorded");
}
