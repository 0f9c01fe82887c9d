//! Property tests of packages, points and the books over random command sequences: one member,
//! recharges, consumptions, package purchases (cash or balance, with or without expiry),
//! sessions redeemed at random stores, package refunds, point redemptions and clock jumps
//! across expiries, under random spend orders, roundings and refund destinations.
//!
//! For every sequence: no package holds negative sessions or value; each package's revenue,
//! refund and expiry add up exactly to its price (and its principal and bonus shares to what
//! paid for it); points never go negative; every event's entry balances and the member's
//! liabilities in the books equal the projection; a replay of the events equals the live state,
//! and the state serialized compact, uncopied, is the bytes of a copy made compact.

use memberledger_core::events::{
    PackageExpired, PackagePurchased, PackageRefunded, SessionRedeemed,
};
use std::collections::BTreeMap;

use memberledger_core::{
    decide, postings, Account, Command, Context, Decision, Event, EventBody, MemberState, Money,
    PackageStatus, Policy, Timestamp, Uuid,
};
use proptest::prelude::*;

mod common;
use serde_json::json;

const NAMES: Uuid = Uuid::from_u128(0x9a3c_51d0_7e2b_4c19_b6f4_21a8_d3e5_7c60);

#[derive(Clone, Debug)]
enum Op {
    Recharge(i64),
    Consume(i64),
    Buy {
        cents: i64,
        sessions: u32,
        balance: bool,
        expires_days: Option<i64>,
    },
    Redeem {
        pick: usize,
        store: usize,
    },
    Refund {
        pick: usize,
    },
    RedeemPoints(u64),
    Wait(i64),
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..=500_000).prop_map(Op::Recharge),
        2 => (1i64..=50_000).prop_map(Op::Consume),
        3 => (1i64..=300_000, 1u32..=12, any::<bool>(), prop::option::weighted(0.3, 1i64..=90))
            .prop_map(|(cents, sessions, balance, expires_days)| Op::Buy {
                cents: cents.max(i64::from(sessions)),
                sessions,
                balance,
                expires_days,
            }),
        6 => (any::<usize>(), 0usize..3).prop_map(|(pick, store)| Op::Redeem { pick, store }),
        1 => any::<usize>().prop_map(|pick| Op::Refund { pick }),
        1 => (1u64..=2_000).prop_map(Op::RedeemPoints),
        2 => (1i64..=40).prop_map(Op::Wait),
    ]
}

fn policy(order: &str, rounding: &str, refund_to: &str) -> Policy {
    Policy::from_json(
        &json!({
            "rounding": rounding, "spend_order": order,
            "tiers": [{"name": "standard", "discount": "0.95", "points_per_yuan": "1"}],
            "recharge_bonus": [{"min": "500.00", "bonus_rate": "0.15"}],
            "bonus_expiry_days": 60, "points_expiry_days": 45,
            "packages": {"refund_to": refund_to}
        })
        .to_string(),
    )
    .expect("test policy is valid")
}

/// What the events say happened to one package, summed.
#[derive(Default, Debug, PartialEq, Eq)]
struct Ledgered {
    price: i64,
    paid_principal: i64,
    paid_bonus: i64,
    recognised_principal: i64,
    recognised_bonus: i64,
    sessions: u32,
    sessions_used: u32,
    closed: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn packages_add_up_and_replay_equals_live(
        order in prop::sample::select(vec!["proportional", "principal_first", "bonus_first"]),
        rounding in prop::sample::select(vec!["half_up", "half_even", "down", "up"]),
        refund_to in prop::sample::select(vec!["original", "cash", "balance"]),
        script in prop::collection::vec(ops(), 1..60),
    ) {
        let policy = policy(order, rounding, refund_to);
        let mut clock = "2026-01-01T09:00:00Z".parse::<Timestamp>().expect("time").as_datetime();
        let mut seq = 0u32;
        let mut next_cmd = |clock: &mut chrono::DateTime<chrono::Utc>, body: serde_json::Value| {
            seq += 1;
            *clock += chrono::Duration::minutes(7);
            let mut v = body;
            let o = v.as_object_mut().expect("object");
            o.insert("id".into(), Uuid::new_v5(&NAMES, &seq.to_be_bytes()).to_string().into());
            o.insert("at".into(), Timestamp::from_datetime(*clock).expect("time").to_string().into());
            o.insert("member".into(), "M1".into());
            o.entry("store").or_insert_with(|| "S0".into());
            Command::from_json(&v.to_string()).expect("generated command parses")
        };
        let enroll = next_cmd(&mut clock, json!({"type": "enroll"}));
        let mut log: Vec<Event> = decide(&Context::founding(&policy).with_member(None), &enroll).map(Decision::into_events).expect("enrolls");
        let mut state = MemberState::enrolled(&log[0]).expect("folds");
        let mut bought: Vec<Uuid> = Vec::new();
        for op in &script {
            let money = |c: i64| Money::from_cents(c).to_string();
            let pick = |p: usize| (!bought.is_empty()).then(|| bought[p % bought.len()].to_string());
            let body = match op {
                Op::Wait(days) => {
                    clock += chrono::Duration::days(*days);
                    continue;
                }
                Op::Recharge(c) => json!({"type": "recharge", "amount": money(*c)}),
                Op::Consume(c) => json!({"type": "consume", "amount": money(*c), "store": "S1"}),
                Op::Buy { cents, sessions, balance, expires_days } => {
                    let mut b = json!({"type": "purchase_package", "service": "massage",
                        "sessions": sessions, "amount": money(*cents),
                        "paid_from": if *balance { "balance" } else { "cash" },
                        "store": if *balance { "S2" } else { "S0" }});
                    if let Some(d) = expires_days {
                        let t = Timestamp::from_datetime(clock + chrono::Duration::days(*d)).expect("time");
                        b["expires_at"] = t.to_string().into();
                    }
                    b
                }
                Op::Redeem { pick: p, store } => match pick(*p) {
                    Some(id) => json!({"type": "redeem_session", "package": id, "store": format!("S{store}")}),
                    None => continue,
                },
                Op::Refund { pick: p } => match pick(*p) {
                    Some(id) => json!({"type": "refund_package", "package": id, "store": "S1"}),
                    None => continue,
                },
                Op::RedeemPoints(n) => json!({"type": "redeem_points", "points": n}),
            };
            let cmd = next_cmd(&mut clock, body);
            let Ok(events) = decide(&Context::founding(&policy).with_member(Some(&state)), &cmd).map(Decision::into_events) else { continue };
            for e in &events {
                state.apply(e).expect("decided events fold");
                prop_assert!(memberledger_core::check_balanced(&postings(e)).is_ok());
            }
            if matches!(op, Op::Buy { .. }) {
                bought.push(cmd.id);
            }
            log.extend(events);
            for p in state.packages().values() {
                prop_assert!(p.sessions_left <= p.sessions);
                prop_assert!(!p.principal_left.is_negative() && !p.bonus_left.is_negative());
                prop_assert_eq!(p.status == PackageStatus::Open, p.sessions_left > 0);
            }
        }

        // Each package's events add up to its price, share by share.
        let mut per: BTreeMap<Uuid, Ledgered> = BTreeMap::new();
        for e in &log {
            match &e.body {
                EventBody::PackagePurchased(PackagePurchased { package, price, cash, principal, bonus, sessions, .. }) => {
                    let l = per.entry(*package).or_default();
                    l.price = price.cents();
                    l.paid_principal = cash.cents() + principal.cents();
                    l.paid_bonus = bonus.cents();
                    l.sessions = *sessions;
                }
                EventBody::SessionRedeemed(SessionRedeemed { package, principal, bonus, sessions_left, .. }) => {
                    let l = per.get_mut(package).expect("bought first");
                    prop_assert!(!l.closed, "a session of a closed package");
                    l.recognised_principal += principal.cents();
                    l.recognised_bonus += bonus.cents();
                    l.sessions_used += 1;
                    prop_assert_eq!(l.sessions - l.sessions_used, *sessions_left);
                    l.closed = *sessions_left == 0;
                }
                EventBody::PackageRefunded(PackageRefunded { package, principal, bonus, sessions, .. })
                | EventBody::PackageExpired(PackageExpired { package, principal, bonus, sessions, .. }) => {
                    let l = per.get_mut(package).expect("bought first");
                    prop_assert!(!l.closed);
                    l.recognised_principal += principal.cents();
                    l.recognised_bonus += bonus.cents();
                    l.sessions_used += sessions;
                    l.closed = true;
                }
                _ => {}
            }
        }
        for (id, l) in &per {
            let p = &state.packages()[id];
            let open = p.value_left().cents();
            prop_assert_eq!(l.recognised_principal + l.recognised_bonus + open, l.price);
            prop_assert_eq!(l.recognised_principal + p.principal_left.cents(), l.paid_principal);
            prop_assert_eq!(l.recognised_bonus + p.bonus_left.cents(), l.paid_bonus);
            prop_assert_eq!(l.sessions_used + p.sessions_left, l.sessions);
        }

        // The books hold exactly the projection's liabilities.
        let mut accounts: BTreeMap<Account, i64> = BTreeMap::new();
        for e in &log {
            for p in postings(e) {
                *accounts.entry(p.account).or_default() += p.cents;
            }
        }
        let m = state.member.clone();
        let get = |a: Account| -accounts.get(&a).copied().unwrap_or(0);
        prop_assert_eq!(get(Account::Package(m.clone())), state.package_value().cents());
        prop_assert_eq!(get(Account::Principal(m.clone())), state.principal().cents());
        prop_assert_eq!(get(Account::Bonus(m)), state.bonus().cents());
        prop_assert_eq!(accounts.values().sum::<i64>(), 0);

        // Replay equals live.
        let mut replayed = MemberState::enrolled(&log[0]).expect("folds");
        for e in &log[1..] {
            replayed.apply(e).expect("folds");
        }
        prop_assert_eq!(&replayed, &state);
        // Serialized compact where it lies, it is the bytes of the copy made compact.
        common::assert_compact_is_the_copy(&state);
    }
}

/// Runs one command for M1 under `policy`, folding what it records; `None` when refused.
fn step(
    policy: &Policy,
    state: &mut Option<MemberState>,
    line: serde_json::Value,
) -> Option<Vec<Event>> {
    let cmd = Command::from_json(&line.to_string()).expect("generated command parses");
    let events = decide(&Context::founding(policy).with_member(state.as_ref()), &cmd)
        .map(Decision::into_events)
        .ok()?;
    for e in &events {
        MemberState::fold_onto(state, e).expect("decided events fold");
        assert!(memberledger_core::check_balanced(&postings(e)).is_ok());
    }
    Some(events)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A package paid partly outside the card and refunded: each part goes back by its own
    /// route, exactly what was paid when no session was redeemed, and the parts always add up
    /// to the value left.
    #[test]
    fn a_package_refund_returns_each_part_exactly(
        order in prop::sample::select(vec!["proportional", "principal_first", "bonus_first"]),
        rounding in prop::sample::select(vec!["half_up", "half_even", "down", "up"]),
        refund_to in prop::sample::select(vec!["original", "cash", "balance"]),
        recharge in 0i64..=300_000,
        price in 1i64..=300_000,
        sessions in 1u32..=12,
        external in prop_oneof![Just(None), Just(Some(-1i64)), (1i64..=300_000).prop_map(Some)],
        redeemed in 0u32..12,
    ) {
        let policy = policy(order, rounding, refund_to);
        let price = price.max(i64::from(sessions));
        let money = |c: i64| Money::from_cents(c).to_string();
        let line = |n: u32, body: serde_json::Value| {
            let mut v = body;
            v["id"] = Uuid::new_v5(&NAMES, &(1000 + n).to_be_bytes()).to_string().into();
            v["at"] = format!("2026-01-01T10:{n:02}:00Z").into();
            v["member"] = "M1".into();
            v["store"] = "S1".into();
            v
        };
        let mut state = None;
        step(&policy, &mut state, line(0, json!({"type": "enroll"}))).expect("enrolls");
        if recharge > 0 {
            step(&policy, &mut state, line(1, json!({"type": "recharge", "amount": money(recharge)})));
        }
        let mut buy = json!({"type": "purchase_package", "service": "massage", "sessions": sessions,
            "amount": money(price), "paid_from": "balance", "method": "wechat"});
        match external {
            None => {}
            Some(-1) => buy["external"] = "all".into(),
            Some(c) => buy["external"] = money(c).into(),
        }
        let buy_line = line(2, buy);
        let package = buy_line["id"].clone();
        let Some(bought) = step(&policy, &mut state, buy_line) else { return Ok(()) };
        let EventBody::PackagePurchased(p) = &bought[0].body else { panic!("a purchase") };
        let paid = p.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        prop_assert_eq!(p.principal.plus(p.bonus).plus(paid), p.price);
        let redeemed = redeemed.min(sessions - 1);
        for n in 0..redeemed {
            step(&policy, &mut state, line(3 + n, json!({"type": "redeem_session", "package": package})))
                .expect("an open package redeems");
        }
        let refunded = step(&policy, &mut state, line(20, json!({"type": "refund_package", "package": package})))
            .expect("an open package refunds");
        let EventBody::PackageRefunded(r) = &refunded[0].body else { panic!("a refund") };
        let back = r.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        prop_assert_eq!(r.principal.plus(r.bonus).plus(back), r.amount);
        prop_assert!(back <= paid);
        if let Some(x) = &r.external {
            prop_assert_eq!(&x.method, "wechat");
        }
        if redeemed == 0 {
            prop_assert_eq!((back, r.principal, r.bonus), (paid, p.principal, p.bonus));
        }
    }
}
