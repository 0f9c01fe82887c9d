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

use memberledger_core::events::{
    BalanceRefunded, BonusExpired, BonusGranted, Consumed, ConsumptionRefunded, MemberEnrolled,
    PointsExpired, Recharged, TierChanged,
};
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

// ---------------------------------------------------------------------------------------------
// The rejection oracle: what §3 says a command is refused for, computed from the state alone.
// ---------------------------------------------------------------------------------------------

fn due(expires_at: Option<Timestamp>, at: Timestamp) -> bool {
    expires_at.is_some_and(|e| e <= at)
}

fn expected_rejection(
    state: Option<&MemberState>,
    cmd: &Command,
    policy: &Policy,
) -> Option<&'static str> {
    let Some(s) = state else {
        return match &cmd.action {
            Action::Enroll { tier: Some(t) } if policy.tier(t).is_none() => Some("unknown_tier"),
            Action::Enroll { .. } => None,
            _ => Some("member_not_found"),
        };
    };
    if let Action::Enroll { .. } = cmd.action {
        return Some("member_exists");
    }
    if cmd.at < s.last_at {
        return Some("out_of_order");
    }
    let live_bonus = s
        .bonus_lots()
        .iter()
        .filter(|l| !due(l.expires_at, cmd.at))
        .fold(Money::ZERO, |a, l| a.plus(l.remaining));
    let principal = s.principal();
    match &cmd.action {
        Action::Recharge { .. } => None,
        Action::GrantBonus { expires_at, .. } => expires_at
            .is_some_and(|e| e <= cmd.at)
            .then_some("invalid_command"),
        Action::Consume { amount, .. } => {
            let discount = policy
                .tier(&s.tier)
                .expect("member tiers are policy tiers")
                .discount;
            let charged = Money::round(amount.as_decimal() * discount, policy.rounding);
            if charged.is_zero() {
                Some("invalid_amount")
            } else if charged > principal.plus(live_bonus) {
                Some("insufficient_balance")
            } else {
                None
            }
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => match s.consumptions().get(consumption) {
            None => Some("unknown_consumption"),
            Some(r) if amount.is_some_and(|a| a > r.charged.minus(r.refunded)) => {
                Some("refund_exceeds_original")
            }
            Some(_) => None,
        },
        Action::RefundBalance => {
            (principal.is_zero() && live_bonus.is_zero()).then_some("insufficient_balance")
        }
        Action::ChangeTier { tier, .. } => {
            if policy.tier(tier).is_none() {
                Some("unknown_tier")
            } else {
                // The tier already held: nothing to change (issue 11, item 15).
                (s.tier == tier.as_str()).then_some("invalid_command")
            }
        }
        _ => panic!("no such command is generated"),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks of an accepted command.
// ---------------------------------------------------------------------------------------------

fn sum(amounts: impl IntoIterator<Item = Money>) -> Money {
    amounts.into_iter().fold(Money::ZERO, Money::plus)
}

/// Every open lot holds something; no balance is negative.
fn check_lots(s: &MemberState) {
    for l in s.principal_lots().iter().chain(&s.bonus_lots()) {
        assert!(
            l.remaining.is_positive(),
            "lot {} holds {}",
            l.lot,
            l.remaining
        );
    }
    for l in &s.point_lots() {
        assert!(l.remaining > 0, "point lot {} is empty", l.lot);
    }
    assert!(
        !s.principal().is_negative() && !s.bonus().is_negative() && !s.bonus_spent.is_negative()
    );
    assert!(
        s.principal_lots().windows(2).all(|w| w[0].lot < w[1].lot),
        "principal lots in lot order"
    );
    assert!(s.bonus_lots().iter().all(|l| l.kind == LotKind::Bonus));
    assert!(s
        .principal_lots()
        .iter()
        .all(|l| l.kind == LotKind::Principal && l.expires_at.is_none()));
}

/// Folds the events one by one, checking each against the state it lands on, and returns the
/// member after the command.
fn check_accepted(
    before: Option<&MemberState>,
    cmd: &Command,
    events: &[Event],
    policy: &Policy,
    history: &[(Timestamp, i64)],
) -> MemberState {
    assert!(!events.is_empty(), "an accepted command records something");
    let v0 = before.map_or(0, |s| s.version);
    let mut cur: Option<MemberState> = before.cloned();
    let mut pre_main: Option<Option<MemberState>> = None;
    let mut main = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let index = u32::try_from(i).expect("few events");
        assert_eq!(e.id, event_id(cmd.id, index));
        assert_eq!(
            (e.command, e.index, e.version),
            (cmd.id, index, v0 + u64::from(index) + 1)
        );
        assert_eq!(
            (&e.member, e.at, &e.store),
            (&cmd.member, cmd.at, &cmd.store)
        );
        let prev = cur.clone();
        match &mut cur {
            None => cur = Some(MemberState::enrolled(e).expect("the first event enrolls")),
            Some(s) => s
                .apply(e)
                .unwrap_or_else(|err| panic!("decided event does not fold: {err}")),
        }
        let now = cur.as_ref().expect("enrolled");
        check_lots(now);
        let expiry = matches!(
            e.body,
            EventBody::BonusExpired { .. } | EventBody::PointsExpired { .. }
        );
        if expiry {
            assert!(
                pre_main.is_none(),
                "expiries are recorded before the command's own events"
            );
        } else {
            if pre_main.is_none() {
                pre_main = Some(prev.clone());
            }
            main.push(e);
        }
        if let Some(prev) = &prev {
            check_event(prev, now, e, cmd.at, policy);
        } else {
            assert!(matches!(e.body, EventBody::MemberEnrolled { .. }));
        }
    }
    let pre = pre_main.expect("a command records its own event");
    if let Some(pre) = &pre {
        // After the expiries, nothing due is left.
        assert!(
            pre.bonus_lots().iter().all(|l| !due(l.expires_at, cmd.at)),
            "a due bonus lot did not expire"
        );
        assert!(
            pre.point_lots().iter().all(|l| !due(l.expires_at, cmd.at)),
            "a due point lot did not expire"
        );
    }
    let after = cur.expect("enrolled");
    check_command(pre.as_ref(), &after, cmd, &main, policy, history);
    after
}

/// What one event does to the balances, exactly as its figures say.
fn check_event(prev: &MemberState, now: &MemberState, e: &Event, at: Timestamp, policy: &Policy) {
    let (p0, b0, n0) = (prev.principal(), prev.bonus(), prev.points());
    let (p1, b1, n1) = (now.principal(), now.bonus(), now.points());
    match &e.body {
        EventBody::MemberEnrolled { .. } => panic!("member_enrolled on an enrolled member"),
        EventBody::Recharged(Recharged { amount, lot, .. }) => {
            assert!(amount.is_positive());
            assert_eq!((p1, b1, n1), (p0.plus(*amount), b0, n0));
            let l = now.principal_lots().pop().expect("the new lot");
            assert_eq!(
                (l.lot, l.remaining, &l.origin_store),
                (*lot, *amount, &e.store)
            );
        }
        EventBody::BonusGranted(BonusGranted {
            amount,
            lot,
            expires_at,
            ..
        }) => {
            assert!(amount.is_positive());
            assert!(
                expires_at.is_none_or(|x| x > at),
                "a bonus granted already expired"
            );
            assert_eq!((p1, b1, n1), (p0, b0.plus(*amount), n0));
            let l = now
                .bonus_lots()
                .into_iter()
                .find(|l| l.lot == *lot)
                .expect("the new lot");
            assert_eq!(
                (l.remaining, &l.origin_store, l.expires_at),
                (*amount, &e.store, *expires_at)
            );
        }
        EventBody::Consumed(Consumed {
            charged,
            principal,
            bonus,
            draws,
            points_earned,
            ..
        }) => {
            assert_eq!(
                principal.plus(*bonus),
                *charged,
                "principal + bonus = charged"
            );
            let drawn = |k: LotKind| sum(draws.iter().filter(|d| d.kind == k).map(|d| d.amount));
            assert_eq!(
                drawn(LotKind::Principal),
                *principal,
                "principal draws add up"
            );
            assert_eq!(drawn(LotKind::Bonus), *bonus, "bonus draws add up");
            for d in draws {
                assert!(d.amount.is_positive());
                let lots = if d.kind == LotKind::Principal {
                    &prev.principal_lots()
                } else {
                    &prev.bonus_lots()
                };
                let l = lots
                    .iter()
                    .find(|l| l.lot == d.lot)
                    .expect("a drawn lot was open");
                assert!(
                    l.remaining >= d.amount
                        && l.origin_store == d.origin_store
                        && l.expires_at == d.expires_at
                );
            }
            assert_eq!(
                (p1, b1, n1),
                (p0.minus(*principal), b0.minus(*bonus), n0 + points_earned)
            );
            assert_eq!(now.bonus_spent, prev.bonus_spent.plus(*bonus));
        }
        EventBody::ConsumptionRefunded(ConsumptionRefunded {
            amount,
            principal,
            bonus,
            restored,
            points_reversed,
            points_forgiven,
            ..
        }) => {
            assert!(amount.is_positive());
            assert_eq!(
                principal.plus(*bonus),
                *amount,
                "principal + bonus = amount"
            );
            let part = |k: LotKind| sum(restored.iter().filter(|r| r.kind == k).map(|r| r.amount));
            assert_eq!(
                part(LotKind::Principal),
                *principal,
                "principal restores add up"
            );
            assert_eq!(part(LotKind::Bonus), *bonus, "bonus restores add up");
            for r in restored {
                assert!(r.amount.is_positive());
                assert_eq!(
                    r.forfeited,
                    due(r.expires_at, at),
                    "forfeited exactly when the lot has expired"
                );
            }
            let credited = sum(restored
                .iter()
                .filter(|r| r.kind == LotKind::Bonus && !r.forfeited)
                .map(|r| r.amount));
            let taken: u64 = points_reversed.iter().map(|p| p.points).sum();
            assert!(points_reversed.iter().all(|p| p.points > 0));
            assert_eq!(
                (p1, b1, n1 + taken),
                (p0.plus(*principal), b0.plus(credited), n0)
            );
            if *points_forgiven > 0 {
                assert_eq!(
                    n1, 0,
                    "points are forgiven only when the member has none left"
                );
            }
            assert_eq!(now.bonus_spent, prev.bonus_spent.minus(*bonus));
        }
        EventBody::BalanceRefunded(BalanceRefunded {
            principal,
            bonus_forfeited,
            bonus_spent,
            clawback,
            payout,
            draws,
        }) => {
            assert_eq!(
                (*principal, *bonus_forfeited, *bonus_spent),
                (p0, b0, prev.bonus_spent)
            );
            assert_eq!(
                payout.plus(*clawback),
                *principal,
                "payout + clawback = principal"
            );
            let want = if policy.refund.claw_back_used_bonus {
                p0.minus(prev.bonus_spent).max(Money::ZERO)
            } else {
                p0
            };
            assert_eq!(
                *payout, want,
                "payout = max(0, P − bonus spent) with claw-back, else P"
            );
            assert_eq!(
                draws.len(),
                prev.principal_lots().len() + prev.bonus_lots().len()
            );
            assert_eq!((p1, b1, n1), (Money::ZERO, Money::ZERO, n0));
            assert!(
                now.principal_lots().is_empty()
                    && now.bonus_lots().is_empty()
                    && now.consumptions().is_empty()
            );
            assert!(now.bonus_spent.is_zero());
        }
        EventBody::TierChanged(TierChanged { from, to, .. }) => {
            assert_eq!(
                (from.as_str(), to.as_str()),
                (prev.tier.as_str(), now.tier.as_str())
            );
            assert!(policy.tier(to).is_some());
            assert_eq!((p1, b1, n1), (p0, b0, n0));
        }
        EventBody::BonusExpired(BonusExpired {
            amount,
            expires_at,
            lot,
            ..
        }) => {
            assert!(*expires_at <= at);
            assert_eq!((p1, b1, n1), (p0, b0.minus(*amount), n0));
            assert!(now.bonus_lots().iter().all(|l| l.lot != *lot));
        }
        EventBody::PointsExpired(PointsExpired {
            points, expires_at, ..
        }) => {
            assert!(*expires_at <= at && *points > 0);
            assert_eq!((p1, b1, n1 + points), (p0, b0, n0));
        }
        other => panic!("unexpected event {other:?}"),
    }
}

/// The command's own events (after expiries) are the ones §3 lists, with the figures it gives.
fn check_command(
    pre: Option<&MemberState>,
    after: &MemberState,
    cmd: &Command,
    main: &[&Event],
    policy: &Policy,
    history: &[(Timestamp, i64)],
) {
    let bodies: Vec<&EventBody> = main.iter().map(|e| &e.body).collect();
    let Some(pre) = pre else {
        let Action::Enroll { tier } = &cmd.action else {
            panic!("only enroll starts a member")
        };
        let want = tier.clone().unwrap_or_else(|| policy.tiers[0].name.clone());
        assert!(
            matches!(bodies.as_slice(), [EventBody::MemberEnrolled(MemberEnrolled { tier, home_store })] if *tier == want && *home_store == cmd.store)
        );
        return;
    };
    match &cmd.action {
        Action::Recharge { amount, .. } => {
            let [EventBody::Recharged(Recharged { amount: a, .. }), rest @ ..] = bodies.as_slice()
            else {
                panic!("recharge records recharged first: {bodies:?}")
            };
            assert_eq!(a, amount);
            let mut rest = rest.iter();
            let mut next = rest.next();
            if let Some((i, rule)) = policy.bonus_rule(&pre.tier, *amount) {
                let want = match (rule.bonus, rule.bonus_rate) {
                    (Some(b), _) => b,
                    (None, Some(rate)) => Money::round(amount.as_decimal() * rate, policy.rounding),
                    (None, None) => unreachable!("validated policy"),
                };
                let Some(EventBody::BonusGranted(BonusGranted {
                    amount: b,
                    rule: r,
                    reason,
                    expires_at,
                    ..
                })) = next
                else {
                    panic!("a recharge bonus is due: {bodies:?}")
                };
                assert_eq!(
                    (*b, *r, reason.as_str()),
                    (want, Some(u32::try_from(i).expect("rule")), "recharge")
                );
                assert_eq!(
                    *expires_at,
                    policy.bonus_expiry_days.map(|d| cmd.at.plus_days(d))
                );
                next = rest.next();
            }
            let from = policy.tier_index(&pre.tier).expect("policy tier");
            let single = |t: usize| {
                policy.tiers[t]
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.single_recharge)
                    .is_some_and(|x| *amount >= x)
            };
            // Recharged in (at − 365 days, at], this one included, less balance-refund payouts
            // in that window; never below zero. Modelled from the history, not the state.
            let window_start = cmd.at.as_datetime() - Duration::days(365);
            let cents: i64 = history
                .iter()
                .filter(|(t, _)| t.as_datetime() > window_start && *t <= cmd.at)
                .map(|(_, c)| *c)
                .sum::<i64>()
                + amount.cents();
            let window = Money::from_cents(cents.max(0));
            assert_eq!(
                after.recharged_within_365d(cmd.at),
                window,
                "the 365-day window"
            );
            let by_window = |t: usize| {
                policy.tiers[t]
                    .upgrade
                    .as_ref()
                    .and_then(|u| u.recharged_within_365d)
                    .is_some_and(|x| window >= x)
            };
            let highest = (from + 1..policy.tiers.len())
                .rev()
                .find(|&t| single(t) || by_window(t));
            match (next, highest) {
                (None, None) => {}
                (
                    Some(EventBody::TierChanged(TierChanged {
                        from: f,
                        to,
                        reason,
                    })),
                    Some(t),
                ) => {
                    assert_eq!(
                        (f.as_str(), to.as_str()),
                        (pre.tier.as_str(), policy.tiers[t].name.as_str())
                    );
                    let want = if single(t) {
                        "upgrade:single_recharge"
                    } else {
                        "upgrade:recharged_within_365d"
                    };
                    assert_eq!(reason, want);
                    assert!(rest.next().is_none());
                }
                (got, want) => panic!("tier upgrade: got {got:?}, expected tier {want:?}"),
            }
            // Never downgraded.
            assert!(policy.tier_index(&after.tier) >= policy.tier_index(&pre.tier));
        }
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => {
            let want = expires_at.or_else(|| policy.bonus_expiry_days.map(|d| cmd.at.plus_days(d)));
            assert!(
                matches!(bodies.as_slice(), [EventBody::BonusGranted(BonusGranted { amount: a, reason: r, rule: None, expires_at: x, .. })]
                if a == amount && r == reason && *x == want)
            );
        }
        Action::Consume { amount, .. } => {
            let [EventBody::Consumed(Consumed {
                tier,
                price,
                discount,
                charged,
                principal,
                bonus,
                draws,
                points_earned,
                points_lot,
                points_expires_at,
                ..
            })] = bodies.as_slice()
            else {
                panic!("consume records consumed: {bodies:?}")
            };
            let t = policy.tier(&pre.tier).expect("policy tier");
            assert_eq!(
                (tier.as_str(), price, discount),
                (pre.tier.as_str(), amount, &t.discount)
            );
            assert_eq!(
                *charged,
                Money::round(amount.as_decimal() * t.discount, policy.rounding)
            );
            assert_eq!(
                *bonus,
                split_bonus(*charged, pre.principal(), pre.bonus(), policy)
            );
            let points = (principal.as_decimal() * t.points_per_yuan).floor();
            assert_eq!(
                Decimal::from(*points_earned),
                points,
                "points = floor(principal × points_per_yuan)"
            );
            assert_eq!(points_lot.is_some(), *points_earned > 0);
            assert_eq!(
                *points_expires_at,
                points_lot
                    .and(policy.points_expiry_days)
                    .map(|d| cmd.at.plus_days(d))
            );
            // The draws are principal lots first-in first-out, then bonus lots earliest expiry
            // first, first-in first-out among equals, lots without expiry last.
            let mut plots = pre.principal_lots();
            plots.sort_by_key(|l| l.lot);
            let mut blots = pre.bonus_lots();
            blots.sort_by(|a, b| match (a.expires_at, b.expires_at) {
                (Some(x), Some(y)) => x.cmp(&y).then(a.lot.cmp(&b.lot)),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.lot.cmp(&b.lot),
            });
            let mut want = Vec::new();
            for (lots, mut left) in [(plots, *principal), (blots, *bonus)] {
                for l in lots {
                    if left.is_zero() {
                        break;
                    }
                    let take = l.remaining.min(left);
                    left = left.minus(take);
                    want.push((l.lot, l.kind, take));
                }
            }
            let got: Vec<_> = draws.iter().map(|d| (d.lot, d.kind, d.amount)).collect();
            assert_eq!(got, want, "draw order");
            assert!(after.consumptions().contains_key(&cmd.id));
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => {
            let [EventBody::ConsumptionRefunded(ConsumptionRefunded {
                consumption: c,
                amount: a,
                principal,
                bonus,
                restored,
                points_reversed,
                points_forgiven,
                ..
            })] = bodies.as_slice()
            else {
                panic!("refund records consumption_refunded: {bodies:?}")
            };
            let rec = pre.consumptions().get(consumption).expect("refundable");
            let left = rec.charged.minus(rec.refunded);
            assert_eq!((c, *a), (consumption, amount.unwrap_or(left)));
            let principal_left = rec.principal.minus(rec.principal_restored);
            let bonus_left = rec.bonus.minus(rec.bonus_restored);
            let low = a.minus(principal_left).max(Money::ZERO);
            let high = bonus_left.min(*a);
            assert!(
                low <= *bonus && *bonus <= high,
                "bonus restored {bonus} within [{low}, {high}]"
            );
            let proportional = Money::round(
                a.as_decimal() * rec.bonus.as_decimal() / rec.charged.as_decimal(),
                policy.rounding,
            );
            assert_eq!(
                *bonus,
                proportional.max(low).min(high),
                "bonus = round(amount × bonus part / charged), clamped"
            );
            assert!(*principal <= principal_left);
            // Restored: principal lots then bonus lots, each last-drawn first, each draw given
            // back in full before the next.
            let mut want = Vec::new();
            for (kind, mut left) in [(LotKind::Principal, *principal), (LotKind::Bonus, *bonus)] {
                for d in rec.draws.iter().rev().filter(|d| d.draw.kind == kind) {
                    let give = d.draw.amount.minus(d.restored).min(left);
                    if give.is_positive() {
                        left = left.minus(give);
                        want.push((d.draw.lot, kind, give));
                    }
                }
            }
            let got: Vec<_> = restored.iter().map(|r| (r.lot, r.kind, r.amount)).collect();
            assert_eq!(got, want, "restore order");
            // Points: so far = floor(earned × principal restored so far / principal part); all
            // of it once the consumption is refunded in full.
            let taken: u64 = points_reversed.iter().map(|p| p.points).sum();
            let accounted = rec.points_reversed + taken + points_forgiven;
            let complete = rec.refunded.plus(*a) == rec.charged;
            let target = if complete {
                rec.points_earned
            } else if rec.principal.is_zero() {
                0
            } else {
                let restored_so_far = rec.principal_restored.plus(*principal);
                u64::try_from(
                    i128::from(rec.points_earned) * i128::from(restored_so_far.cents())
                        / i128::from(rec.principal.cents()),
                )
                .expect("points")
            };
            assert_eq!(
                accounted,
                target.max(rec.points_reversed),
                "points reversed so far"
            );
            assert!(accounted <= rec.points_earned);
            assert_eq!(after.consumptions().contains_key(consumption), !complete);
        }
        Action::RefundBalance => {
            assert!(matches!(
                bodies.as_slice(),
                [EventBody::BalanceRefunded { .. }]
            ));
        }
        Action::ChangeTier { tier, reason } => {
            let want = reason.clone().unwrap_or_else(|| "manual".into());
            assert!(
                matches!(bodies.as_slice(), [EventBody::TierChanged(TierChanged { from, to, reason: r })]
                if *from == pre.tier && to == tier && *r == want)
            );
        }
        other => panic!("unexpected command {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Whole-sequence checks.
// ---------------------------------------------------------------------------------------------

type Outcomes = Vec<(Command, Result<Vec<Event>, Rejection>)>;

/// The log: every accepted command's events, in order, as canonical JSON at its position.
fn log(outcomes: &Outcomes) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
        .enumerate()
        .map(|(i, e)| canonical_json(u64::try_from(i).expect("position") + 1, e))
        .collect()
}

/// Folds a log from scratch, member by member (without the consumption records when `light`).
fn replay_with(outcomes: &Outcomes, light: bool) -> BTreeMap<String, MemberState> {
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    for e in outcomes
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .flatten()
    {
        match states.get_mut(e.member.as_str()) {
            Some(s) => s.apply(e).expect("the log replays"),
            None => {
                let s = MemberState::enrolled(e).expect("enrolled first");
                let s = if light {
                    s.without_consumption_records()
                } else {
                    s
                };
                states.insert(e.member.to_string(), s);
            }
        }
    }
    states
}

fn replay(outcomes: &Outcomes) -> BTreeMap<String, MemberState> {
    replay_with(outcomes, false)
}

/// Decides the given commands from scratch, as they are (no re-generation).
fn redecide<'a>(commands: impl IntoIterator<Item = &'a Command>, policy: &Policy) -> Outcomes {
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    let mut out = Vec::new();
    for cmd in commands {
        let result = decide(
            &Context::founding(policy).with_member(states.get(cmd.member.as_str())),
            cmd,
        )
        .map(Decision::into_events);
        if let Ok(events) = &result {
            for e in events {
                match states.get_mut(e.member.as_str()) {
                    Some(s) => s.apply(e).expect("fold"),
                    None => {
                        states.insert(
                            e.member.to_string(),
                            MemberState::enrolled(e).expect("enrolled"),
                        );
                    }
                }
            }
        }
        out.push((cmd.clone(), result));
    }
    out
}

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
