//! Property tests of tiers by spending and visits and of the tier review, over random command
//! sequences of one member: recharges, visits paid from the card or in cash, refunds in full
//! or in part, changes of tier by hand, tier reviews, and clock jumps of minutes to months.
//!
//! For every sequence: an upgrade never lowers a tier and a review never raises one; a review
//! that changed a tier, asked again as of the same time, records nothing; the window sums the
//! member projection keeps equal a recomputation from the member's events; a replay of the
//! events equals the live state, and its copy without the consumption records equals the state
//! with them dropped (and serialized compact, uncopied, is that copy's bytes).

use memberledger_core::{
    decide, Command, Context, Decision, Event, EventBody, MemberState, Policy, Timestamp, Uuid,
    REVIEW_DOWNGRADE,
};
use proptest::prelude::*;

mod common;

const NAMES: Uuid = Uuid::from_u128(0x71e2_5b0a_4c3d_4e6f_8a1b_2c3d_4e5f_6071);

/// Four tiers: silver on visits, gold on spending, diamond on a recharge; retain rules on all
/// three, over windows of a week to a year.
const POLICY: &str = r#"{"tiers":[
  {"name":"standard","discount":"1.00","points_per_yuan":"1"},
  {"name":"silver","discount":"0.95","points_per_yuan":"1",
   "upgrade":{"visits_within":3,"window_days":7},"retain":{"visits_within":2,"window_days":30}},
  {"name":"gold","discount":"0.90","points_per_yuan":"1",
   "upgrade":{"spent_within":"800.00","window_days":30},
   "retain":{"spent_within":"300.00","visits_within":6,"window_days":60}},
  {"name":"diamond","discount":"0.85","points_per_yuan":"1",
   "upgrade":{"single_recharge":"3000.00","spent_within":"5000.00"},
   "retain":{"recharged_within":"1000.00","window_days":365}}],
  "bonus_expiry_days":null,"points_expiry_days":null}"#;

const TIERS: [&str; 4] = ["standard", "silver", "gold", "diamond"];

#[derive(Clone, Debug)]
enum Op {
    Recharge(i64),
    Visit { cents: i64, cash: bool },
    Refund { pick: usize, part: Option<i64> },
    ChangeTier(usize),
    Review,
    Wait(u32),
    Minutes(u32),
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..=400_000).prop_map(Op::Recharge),
        8 => (1i64..=60_000, any::<bool>()).prop_map(|(cents, cash)| Op::Visit { cents, cash }),
        2 => (any::<usize>(), prop::option::of(1i64..=20_000))
            .prop_map(|(pick, part)| Op::Refund { pick, part }),
        1 => (0usize..4).prop_map(Op::ChangeTier),
        3 => Just(Op::Review),
        2 => (1u32..=120).prop_map(Op::Wait),
        3 => (1u32..=2_000).prop_map(Op::Minutes),
    ]
}

fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

fn body(op: &Op, visits: &[Uuid]) -> Option<String> {
    Some(match op {
        Op::Recharge(c) => format!(r#""type":"recharge","amount":"{}""#, money(*c)),
        Op::Visit { cents, cash } => {
            let method = if *cash { r#","method":"cash""# } else { "" };
            format!(r#""type":"consume","amount":"{}"{method}"#, money(*cents))
        }
        Op::Refund { pick, part } => {
            let v = visits.get(pick % visits.len().max(1))?;
            let amount = part.map_or_else(String::new, |c| format!(r#","amount":"{}""#, money(c)));
            format!(r#""type":"refund_consumption","consumption":"{v}"{amount}"#)
        }
        Op::ChangeTier(t) => format!(r#""type":"change_tier","tier":"{}""#, TIERS[*t]),
        Op::Review => r#""type":"review_tier""#.to_owned(),
        Op::Wait(_) | Op::Minutes(_) => return None,
    })
}

fn command(id: Uuid, at: Timestamp, body: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{id}","at":"{at}","member":"M1","store":"S1",{body}}}"#
    ))
    .expect("a well-formed command")
}

fn index(tier: &str) -> usize {
    TIERS
        .iter()
        .position(|t| *t == tier)
        .expect("a tier of the policy")
}

/// The window sums recomputed from the member's events: visits' charges less refunds on the
/// `days` UTC days ending on `at`'s, never below zero, and the visits counted.
fn recomputed(log: &[Event], at: Timestamp, days: u32) -> (i64, u64) {
    let last = at.day();
    let mut spent = 0i64;
    let mut visits = 0u64;
    for e in log
        .iter()
        .filter(|e| e.at.day() + days > last && e.at.day() <= last)
    {
        match &e.body {
            EventBody::Consumed(b) => {
                spent += b.charged.cents();
                visits += 1;
            }
            EventBody::ConsumptionRefunded(b) => spent -= b.amount.cents(),
            _ => {}
        }
    }
    (spent.max(0), visits)
}

fn check_tier_events(events: &[Event]) {
    for e in events {
        if let EventBody::TierChanged(t) = &e.body {
            let (from, to) = (index(&t.from), index(&t.to));
            if t.reason.starts_with("upgrade:") {
                assert!(to > from, "an upgrade never lowers a tier: {t:?}");
            }
            if t.reason == REVIEW_DOWNGRADE {
                assert!(to < from, "a review never raises a tier: {t:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn upgrades_never_lower_reviews_never_raise_and_the_windows_match_the_events(
        script in prop::collection::vec(ops(), 1..80),
    ) {
        let policy = Policy::from_json(POLICY).unwrap();
        let mut at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let enroll = command(Uuid::new_v5(&NAMES, b"enroll"), at, r#""type":"enroll""#);
        let mut log = decide(&Context::founding(&policy), &enroll).unwrap().events;
        let mut state = MemberState::replay(&log).unwrap().unwrap();
        let mut visits = Vec::new();
        for (n, op) in script.iter().enumerate() {
            at = match op {
                Op::Wait(d) => at.plus_days(*d),
                Op::Minutes(m) => Timestamp::from_datetime(
                    at.as_datetime() + chrono::Duration::minutes(i64::from(*m)),
                ).unwrap(),
                _ => Timestamp::from_datetime(at.as_datetime() + chrono::Duration::seconds(1)).unwrap(),
            };
            let Some(body) = body(op, &visits) else { continue };
            let cmd = command(Uuid::new_v5(&NAMES, n.to_string().as_bytes()), at, &body);
            let ctx = Context::founding(&policy);
            match decide(&ctx.with_member(Some(&state)), &cmd) {
                Ok(Decision { events, member, .. }) => {
                    check_tier_events(&events);
                    if matches!(op, Op::Visit { .. }) {
                        visits.push(cmd.id);
                    }
                    log.extend(events);
                    state = member.unwrap();
                    if matches!(op, Op::Review) {
                        // Asked again as of the same time, the review records nothing.
                        let again = command(Uuid::new_v5(&NAMES, format!("{n}again").as_bytes()), at, &body);
                        let r = decide(&ctx.with_member(Some(&state)), &again);
                        prop_assert_eq!(r.map(|d| d.events.len()).map_err(|e| e.code()), Err("invalid_command"));
                    }
                }
                Err(r) => prop_assert!(matches!(
                    r.code(),
                    "insufficient_balance" | "refund_exceeds_original" | "invalid_command"
                        | "invalid_amount" | "limit_exceeded"
                ), "{body}: {r}"),
            }
            for days in [1, 7, 30, 60, 365, 730] {
                let (spent, n) = recomputed(&log, state.last_at, days);
                prop_assert_eq!(state.spent_within(state.last_at, days).cents(), spent);
                prop_assert_eq!(state.visits_within(state.last_at, days), n);
            }
        }
        prop_assert_eq!(&MemberState::replay(&log).unwrap().unwrap(), &state);
        // The copy without the refundable-consumption records is the state without them.
        prop_assert_eq!(
            state.clone_without_consumption_records(),
            state.clone().without_consumption_records()
        );
        // Serialized compact where it lies, it is the bytes of the copy made compact.
        common::assert_compact_is_the_copy(&state);
    }
}
