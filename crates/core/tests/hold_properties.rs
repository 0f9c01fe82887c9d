//! Property tests of holds over random command sequences: one member, recharges,
//! consumptions, authorizations, captures at random prices, voids, balance debits and clock
//! jumps across hold expiries, under random spend orders and discounts.
//!
//! For every sequence: the available balance is never negative and the balance always covers
//! what is held (no bonus expires here, so nothing but a command moves the balance); a capture
//! charges at most what its hold held; a void or an expiry gives back exactly what was held;
//! authorizations, voids and expiries book nothing; a replay of the events equals the live
//! state.

use memberledger_core::events::{HoldCaptured, HoldExpired, HoldVoided};

use memberledger_core::{
    decide, postings, Command, Context, Decision, Event, EventBody, MemberState, Policy, Timestamp,
    Uuid,
};
use proptest::prelude::*;

mod common;
use serde_json::json;

const NAMES: Uuid = Uuid::from_u128(0x51c0_77aa_2e14_4b3d_8c90_aa01_b2c3_d4e5);

#[derive(Clone, Debug)]
enum Op {
    Recharge(i64),
    Consume(i64),
    Authorize { cents: i64, days: Option<i64> },
    Capture { pick: usize, cents: i64 },
    Void { pick: usize },
    Debit(i64),
    Wait(i64),
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..=200_000).prop_map(Op::Recharge),
        2 => (1i64..=50_000).prop_map(Op::Consume),
        4 => (1i64..=80_000, prop::option::of(1i64..=5))
            .prop_map(|(cents, days)| Op::Authorize { cents, days }),
        3 => (any::<usize>(), 1i64..=90_000).prop_map(|(pick, cents)| Op::Capture { pick, cents }),
        2 => any::<usize>().prop_map(|pick| Op::Void { pick }),
        1 => (1i64..=30_000).prop_map(Op::Debit),
        2 => (1i64..=4).prop_map(Op::Wait),
    ]
}

fn policy(order: &str, discount: &str) -> Policy {
    Policy::from_json(
        &json!({
            "spend_order": order,
            "tiers": [{"name": "standard", "discount": discount, "points_per_yuan": "1"}],
            "recharge_bonus": [{"min": "500.00", "bonus_rate": "0.15"}],
            "bonus_expiry_days": null, "points_expiry_days": null
        })
        .to_string(),
    )
    .expect("test policy is valid")
}

fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// The command line of an op at time `at`, with the holds authorized so far.
fn line(op: &Op, n: usize, at: Timestamp, holds: &[Uuid]) -> Option<String> {
    let id = Uuid::new_v5(&NAMES, n.to_string().as_bytes());
    let head = format!(r#""id":"{id}","at":"{at}","member":"M1","store":"S1""#);
    let pick = |p: usize| (!holds.is_empty()).then(|| holds[p % holds.len()]);
    let body = match op {
        Op::Recharge(c) => format!(r#""type":"recharge","amount":"{}""#, cents(*c)),
        Op::Consume(c) => format!(r#""type":"consume","amount":"{}""#, cents(*c)),
        Op::Authorize { cents: c, days } => match days {
            Some(d) => format!(
                r#""type":"authorize","amount":"{}","expires_at":"{}""#,
                cents(*c),
                at.plus_days(u32::try_from(*d).unwrap())
            ),
            None => format!(r#""type":"authorize","amount":"{}""#, cents(*c)),
        },
        Op::Capture { pick: p, cents: c } => format!(
            r#""type":"capture","hold":"{}","amount":"{}""#,
            pick(*p)?,
            cents(*c)
        ),
        Op::Void { pick: p } => format!(r#""type":"void","hold":"{}""#, pick(*p)?),
        Op::Debit(c) => format!(
            r#""type":"adjust","balance":"principal","direction":"debit","amount":"{}","reason":"x","operator":"E1""#,
            cents(*c)
        ),
        Op::Wait(_) => r#""type":"expire""#.to_owned(),
    };
    Some(format!("{{{head},{body}}}"))
}

/// Every invariant of one accepted command, given the state before and after it.
fn check(before: &MemberState, after: &MemberState, events: &[Event]) {
    assert!(after.available().cents() >= 0);
    assert!(
        after.principal().plus(after.bonus()) >= after.held(),
        "balance covers holds"
    );
    let mut released = 0i64;
    for e in events {
        match &e.body {
            EventBody::HoldCaptured(HoldCaptured {
                amount,
                captured,
                released: r,
                ..
            }) => {
                assert!(captured <= amount, "capture ≤ hold");
                assert_eq!(captured.plus(*r), *amount);
            }
            EventBody::HoldVoided(HoldVoided { amount, .. })
            | EventBody::HoldExpired(HoldExpired { amount, .. }) => {
                released += amount.cents();
            }
            EventBody::HoldAuthorized(_) => {}
            _ => continue,
        }
        assert!(
            postings(e).is_empty(),
            "{} books nothing",
            e.body.type_name()
        );
    }
    // A void or an expiry alone gives back exactly what was held.
    let only_releases = events
        .iter()
        .all(|e| matches!(e.body, EventBody::HoldVoided(_) | EventBody::HoldExpired(_)));
    if only_releases && !events.is_empty() {
        assert_eq!(
            after.available().cents(),
            before.available().cents() + released
        );
        assert_eq!(after.held().cents(), before.held().cents() - released);
        assert_eq!(after.principal(), before.principal());
        assert_eq!(after.bonus(), before.bonus());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn holds_never_let_available_go_negative_and_release_exactly(
        order in prop::sample::select(vec!["principal_first", "bonus_first", "proportional"]),
        discount in prop::sample::select(vec!["1.00", "0.90", "0.85"]),
        script in prop::collection::vec(ops(), 1..60),
    ) {
        let policy = policy(order, discount);
        let mut at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let enroll = Command::from_json(&format!(
            r#"{{"id":"{}","at":"{at}","member":"M1","store":"S1","type":"enroll"}}"#,
            Uuid::new_v5(&NAMES, b"enroll")
        )).unwrap();
        let mut log = decide(&Context::founding(&policy), &enroll).unwrap().events;
        let mut state = MemberState::replay(&log).unwrap().unwrap();
        let mut holds = Vec::new();
        for (n, op) in script.iter().enumerate() {
            at = match op {
                Op::Wait(d) => at.plus_days(u32::try_from(*d).unwrap()),
                _ => Timestamp::from_datetime(at.as_datetime() + chrono::Duration::minutes(1)).unwrap(),
            };
            let Some(line) = line(op, n, at, &holds) else { continue };
            let cmd = Command::from_json(&line).unwrap();
            match decide(&Context::founding(&policy).with_member(Some(&state)), &cmd) {
                Ok(Decision { events, member, .. }) => {
                    let after = member.unwrap();
                    check(&state, &after, &events);
                    if let Op::Authorize { .. } = op {
                        holds.push(cmd.id);
                    }
                    log.extend(events);
                    state = after;
                }
                Err(r) => prop_assert!(matches!(
                    r.code(),
                    "insufficient_balance" | "unknown_hold" | "capture_exceeds_hold"
                        | "invalid_command"
                ), "{line}: {r}"),
            }
        }
        prop_assert_eq!(MemberState::replay(&log).unwrap().unwrap(), state.clone());
        // Serialized compact where it lies, it is the bytes of the copy made compact.
        common::assert_compact_is_the_copy(&state);
    }
}
