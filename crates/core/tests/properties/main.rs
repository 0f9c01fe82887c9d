//! Property tests over random command sequences: a few members, 2-4 stores, amounts in cents,
//! times that mostly move forward (sometimes across bonus and point expiries, sometimes back),
//! and a mix of all seven command types, refunds naming earlier consumptions (partial, full,
//! too much, unknown).
//!
//! For every command: a rejection has exactly the reason an independent oracle predicts and
//! records nothing; an accepted command's events fold, balances move by exactly the figures the
//! events record, every split adds up, no lot is ever empty or negative, expiries come first.
//! For every sequence: a replay of the log equals the live state, deciding the same commands
//! again gives byte-identical events, and deciding only the accepted ones gives the same log.
//! Under the built-in policy, every outcome is also the test kit's reference model's (`model.rs`).

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use memberledger_core::events::{BalanceRefunded, Recharged};
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use memberledger_core::{
    canonical_json, decide, event_id, split_bonus, Action, Command, Context, Decimal, Decision,
    Event, EventBody, LotKind, MemberState, Money, Policy, Rejection, Timestamp, Uuid,
};
use proptest::prelude::*;
use serde_json::json;

const NAMES: Uuid = Uuid::from_u128(0x2b7e_1516_28ae_4d2a_8f1e_9c3b_5d7a_0e41);
const MEMBERS: usize = 3;
/// The fourth name is not a tier of the policy.
const TIER_NAMES: [&str; 4] = ["standard", "silver", "gold", "platinum"];

fn policy(
    order: &str,
    rounding: &str,
    claw_back: bool,
    bonus_days: Option<u32>,
    points_days: Option<u32>,
) -> Policy {
    let json = json!({
        "rounding": rounding,
        "spend_order": order,
        "tiers": [
            {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
            {"name": "silver", "discount": "0.95", "points_per_yuan": "1.5",
             "upgrade": {"single_recharge": "2000.00", "recharged_within_365d": "5000.00"}},
            {"name": "gold", "discount": "0.875", "points_per_yuan": "2",
             "upgrade": {"single_recharge": "5000.00", "recharged_within_365d": "10000.00"}}
        ],
        "recharge_bonus": [
            {"min": "500.00", "bonus": "50.00"},
            {"min": "1000.00", "bonus": "150.00"},
            {"min": "2000.00", "bonus_rate": "0.125", "tiers": ["silver", "gold"]},
            {"min": "3000.00", "bonus_rate": "0.0333"}
        ],
        "bonus_expiry_days": bonus_days,
        "points_expiry_days": points_days,
        "refund": {"claw_back_used_bonus": claw_back}
    });
    Policy::from_json(&json.to_string()).expect("test policy is valid")
}

fn policies() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(vec!["proportional", "principal_first", "bonus_first"]),
        prop::sample::select(vec!["half_up", "half_even", "down", "up"]),
        any::<bool>(),
        prop::option::weighted(0.8, Just(30u32)),
        prop::option::weighted(0.8, Just(45u32)),
    )
        .prop_map(|(o, r, c, b, p)| policy(o, r, c, b, p))
}

// ---------------------------------------------------------------------------------------------
// Generated operations, turned into commands against the state as it is when they run.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Op {
    Enroll {
        m: usize,
        tier: Option<usize>,
    },
    Recharge {
        m: usize,
        s: usize,
        cents: i64,
    },
    Grant {
        m: usize,
        s: usize,
        cents: i64,
        expires_in: Option<i64>,
    },
    Consume {
        m: usize,
        s: usize,
        cents: i64,
    },
    /// `pick` chooses a consumption still open (one in ten: any accepted consume, maybe
    /// closed; one in ten: an id never used for a consume); `permille` of what is left
    /// (above 1000 asks too much), or everything when `None`.
    Refund {
        m: usize,
        s: usize,
        pick: usize,
        permille: Option<i64>,
    },
    RefundBalance {
        m: usize,
        s: usize,
    },
    ChangeTier {
        m: usize,
        tier: usize,
    },
}

#[derive(Clone, Debug)]
struct Step {
    /// Seconds the clock moves forward.
    dt: i64,
    /// This command is dated an hour before the clock (the clock does not go back).
    back: bool,
    op: Op,
}

const DAY: i64 = 86_400;

fn ops() -> impl Strategy<Value = Op> {
    // M0 and M1 are enrolled at the start; M2 only by a generated enroll, so it gets fewer.
    let m = prop_oneof![3 => Just(0usize), 3 => Just(1usize), 1 => Just(MEMBERS - 1)];
    let s = 0..4usize;
    let recharge_cents = prop_oneof![
        3 => 1i64..=300_000,
        1 => prop::sample::select(vec![50_000i64, 100_000, 200_000, 300_000, 500_000, 1_000_000]),
    ];
    prop_oneof![
        1 => (m.clone(), prop::option::of(0..4usize)).prop_map(|(m, tier)| Op::Enroll { m, tier }),
        4 => (m.clone(), s.clone(), recharge_cents).prop_map(|(m, s, cents)| Op::Recharge { m, s, cents }),
        2 => (
            m.clone(),
            s.clone(),
            1i64..=30_000,
            prop::option::of(prop::sample::select(vec![-60i64, 0, 3_600, DAY, 20 * DAY, 60 * DAY])),
        )
            .prop_map(|(m, s, cents, expires_in)| Op::Grant { m, s, cents, expires_in }),
        6 => (m.clone(), s.clone(), prop_oneof![3 => 1i64..=30_000, 1 => 1i64..=200_000])
            .prop_map(|(m, s, cents)| Op::Consume { m, s, cents }),
        4 => (m.clone(), s.clone(), any::<usize>(), prop::option::weighted(0.6, 1i64..=1_100))
            .prop_map(|(m, s, pick, permille)| Op::Refund { m, s, pick, permille }),
        1 => (m.clone(), s.clone()).prop_map(|(m, s)| Op::RefundBalance { m, s }),
        1 => (m, 0..4usize).prop_map(|(m, tier)| Op::ChangeTier { m, tier }),
    ]
}

fn steps(max: usize) -> impl Strategy<Value = Vec<Step>> {
    let dt = prop_oneof![
        3 => Just(0i64),
        6 => 1i64..3_600,
        3 => 3_600i64..DAY,
        2 => DAY..10 * DAY,
        1 => 29 * DAY..32 * DAY,
        1 => 40 * DAY..200 * DAY,
    ];
    prop::collection::vec(
        (dt, prop::bool::weighted(0.05), ops()).prop_map(|(dt, back, op)| Step { dt, back, op }),
        1..max,
    )
}

fn member(m: usize) -> String {
    format!("M{m}")
}

/// Turns the steps into commands as they run (refunds need the consumptions made so far) and
/// decides them, checking every outcome. Returns each command with its outcome.
fn run(
    policy: &Policy,
    stores: usize,
    steps: &[Step],
) -> (Outcomes, BTreeMap<String, MemberState>) {
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    let mut consumes: BTreeMap<usize, Vec<Uuid>> = BTreeMap::new();
    // Per member: principal recharged (+) and paid out by balance refunds (−), in cents.
    let mut history: BTreeMap<String, Vec<(Timestamp, i64)>> = BTreeMap::new();
    let mut clock: DateTime<Utc> = "2026-01-01T08:00:00Z"
        .parse::<Timestamp>()
        .expect("time")
        .as_datetime();
    let mut out = Vec::new();
    // Two members are enrolled first, so most commands have someone to act on; the third
    // only by a generated enroll.
    let opening = [
        Step {
            dt: 0,
            back: false,
            op: Op::Enroll { m: 0, tier: None },
        },
        Step {
            dt: 0,
            back: false,
            op: Op::Enroll {
                m: 1,
                tier: Some(1),
            },
        },
    ];
    for (i, step) in opening.iter().chain(steps).enumerate() {
        clock += Duration::seconds(step.dt);
        let at = if step.back {
            clock - Duration::hours(1)
        } else {
            clock
        };
        let at = Timestamp::from_datetime(at).expect("time in range");
        let cmd = command(i, at, &step.op, stores, &states, &consumes);
        let before = states.get(cmd.member.as_str()).cloned();
        let expected = expected_rejection(before.as_ref(), &cmd, policy);
        let result = decide(
            &Context::founding(policy).with_member(before.as_ref()),
            &cmd,
        )
        .map(Decision::into_events);
        match &result {
            Ok(events) => {
                assert_eq!(
                    expected,
                    None,
                    "{} accepted; the oracle expected a rejection",
                    cmd.to_json()
                );
                let past = history.entry(cmd.member.to_string()).or_default();
                let after = check_accepted(before.as_ref(), &cmd, events, policy, past);
                for e in events {
                    match &e.body {
                        EventBody::Recharged(Recharged { amount, .. }) => {
                            past.push((e.at, amount.cents()))
                        }
                        EventBody::BalanceRefunded(BalanceRefunded { principal, .. }) => {
                            past.push((e.at, -principal.cents()));
                        }
                        _ => {}
                    }
                }
                states.insert(cmd.member.to_string(), after);
            }
            Err(e) => {
                assert_eq!(Some(e.code()), expected, "{}: {e}", cmd.to_json());
                // Nothing moved: the member is exactly as before.
                assert_eq!(states.get(cmd.member.as_str()), before.as_ref());
            }
        }
        if let (Op::Consume { m, .. }, Ok(_)) = (&step.op, &result) {
            consumes.entry(*m).or_default().push(cmd.id);
        }
        out.push((cmd, result));
    }
    (out, states)
}

fn command(
    i: usize,
    at: Timestamp,
    op: &Op,
    stores: usize,
    states: &BTreeMap<String, MemberState>,
    consumes: &BTreeMap<usize, Vec<Uuid>>,
) -> Command {
    let id = Uuid::new_v5(&NAMES, format!("command-{i}").as_bytes());
    let store = |s: usize| format!("S{}", s % stores);
    let amount = |c: i64| Money::from_cents(c).to_string();
    let mut v = match op {
        Op::Enroll { m, tier } => json!({"type":"enroll","member":member(*m),"store":store(*m),
            "tier": tier.map(|t| TIER_NAMES[t])}),
        Op::Recharge { m, s, cents } => {
            json!({"type":"recharge","member":member(*m),"store":store(*s),
            "amount":amount(*cents),"staff":"E1"})
        }
        Op::Grant {
            m,
            s,
            cents,
            expires_in,
        } => json!({"type":"grant_bonus","member":member(*m),
        "store":store(*s),"amount":amount(*cents),"reason":"campaign",
        "expires_at": expires_in.map(|d| {
            Timestamp::from_datetime(at.as_datetime() + Duration::seconds(d)).expect("time").to_string()
        })}),
        Op::Consume { m, s, cents } => {
            json!({"type":"consume","member":member(*m),"store":store(*s),
            "amount":amount(*cents),"service":"facial"})
        }
        Op::Refund {
            m,
            s,
            pick,
            permille,
        } => {
            let made = consumes.get(m).map(Vec::as_slice).unwrap_or_default();
            let open: Vec<Uuid> = states
                .get(&member(*m))
                .map(|st| st.consumptions().keys().copied().collect())
                .unwrap_or_default();
            let ids = if pick % 10 == 1 || open.is_empty() {
                made
            } else {
                &open
            };
            let consumption = if ids.is_empty() || pick % 10 == 0 {
                Uuid::new_v5(&NAMES, b"never consumed")
            } else {
                ids[pick / 10 % ids.len()]
            };
            let left = states
                .get(&member(*m))
                .and_then(|st| st.consumptions().get(&consumption))
                .map_or(10_000, |r| r.charged.minus(r.refunded).cents());
            json!({"type":"refund_consumption","member":member(*m),"store":store(*s),
                "consumption":consumption.to_string(),
                "amount": permille.map(|p| amount((left * p / 1000).max(1)))})
        }
        Op::RefundBalance { m, s } => {
            json!({"type":"refund_balance","member":member(*m),"store":store(*s)})
        }
        Op::ChangeTier { m, tier } => json!({"type":"change_tier","member":member(*m),"store":"S0",
            "tier":TIER_NAMES[*tier]}),
    };
    let o = v.as_object_mut().expect("object");
    o.retain(|_, v| !v.is_null());
    o.insert("id".into(), id.to_string().into());
    o.insert("at".into(), at.to_string().into());
    Command::from_json(&v.to_string()).expect("generated command parses")
}

mod checks;
mod model;
mod oracle;
mod replay;

use checks::*;
use model::*;
use oracle::*;
use replay::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_sequences_keep_every_rule_and_replay_identically(
        policy in policies(),
        stores in 2usize..=4,
        script in steps(60),
    ) {
        let (outcomes, live) = run(&policy, stores, &script);
        // Most commands are accepted (the generator is not just producing rejections).
        let accepted = outcomes.iter().filter(|(_, r)| r.is_ok()).count();
        prop_assert!(accepted >= 2);

        // A replay of the log from scratch equals the live state; folded without the
        // consumption records (what a ledger caches), it holds the same balances and lots.
        prop_assert_eq!(replay(&outcomes), live.clone());
        let light: BTreeMap<String, MemberState> = live
            .into_iter()
            .map(|(k, s)| (k, s.without_consumption_records()))
            .collect();
        prop_assert_eq!(replay_with(&outcomes, true), light);

        // Deciding the same commands again gives byte-identical events and the same rejections.
        let again = redecide(outcomes.iter().map(|(c, _)| c), &policy);
        prop_assert_eq!(log(&again), log(&outcomes));
        let codes = |o: &Outcomes| o.iter().map(|(_, r)| r.as_ref().err().map(Rejection::code)).collect::<Vec<_>>();
        prop_assert_eq!(codes(&again), codes(&outcomes));

        // Rejected commands change nothing: without them the log is the same, byte for byte.
        let only_accepted = redecide(outcomes.iter().filter(|(_, r)| r.is_ok()).map(|(c, _)| c), &policy);
        prop_assert!(only_accepted.iter().all(|(_, r)| r.is_ok()));
        prop_assert_eq!(log(&only_accepted), log(&outcomes));
    }

    #[test]
    fn under_the_built_in_policy_every_outcome_is_the_reference_models(
        stores in 2usize..=4,
        script in steps(60),
    ) {
        let policy = Policy::from_json(memberledger_core::DEFAULT_POLICY_JSON).expect("the built-in policy");
        let (outcomes, _) = run(&policy, stores, &script);
        agree_with_model(&outcomes);
    }

    #[test]
    fn proportional_split_stays_within_what_each_balance_can_pay(
        (principal, bonus, charged) in (0i64..=10_000_000, 0i64..=10_000_000)
            .prop_filter("something held", |(p, b)| p + b > 0)
            // A charge in [1, P + B] cents, often all of it.
            .prop_flat_map(|(p, b)| (Just(p), Just(b), prop_oneof![3 => 1..=p + b, 1 => Just(p + b)])),
        rounding in prop::sample::select(vec!["half_up", "half_even", "half_down", "down", "up"]),
    ) {
        let total = principal + bonus;
        let (c, p, b) = (Money::from_cents(charged), Money::from_cents(principal), Money::from_cents(bonus));
        let low = c.minus(p).max(Money::ZERO);
        let high = b.min(c);
        for order in ["proportional", "principal_first", "bonus_first"] {
            let pol = policy(order, rounding, true, None, None);
            let got = split_bonus(c, p, b, &pol);
            prop_assert!(low <= got && got <= high, "{order}: {got} outside [{low}, {high}]");
            match order {
                "principal_first" => prop_assert_eq!(got, low),
                "bonus_first" => prop_assert_eq!(got, high),
                _ => {
                    // Within a cent of charged × B / (P + B).
                    let exact = i128::from(charged) * i128::from(bonus);
                    let diff = (i128::from(got.cents()) * i128::from(total) - exact).abs();
                    prop_assert!(diff < i128::from(total), "{got} is not round({charged} × {bonus} / {total}) cents");
                }
            }
        }
    }
}
