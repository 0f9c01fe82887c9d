//! Issue 11 item 1 in the core: `decide` refuses (`limit_exceeded`, nothing recorded) before any
//! figure an event records, any running total, lot number or stream version passes what
//! `decode_event` reads back; the two share one bound and one check.

use memberledger_core::events::Adjusted;
use memberledger_core::{
    check_event, decide, decode_event, Account, Clearing, Command, Context, Decision, EventBody,
    MemberState, Policy, Posting, StoreId, POINTS_RECORDED_MAX, RECORDED_MAX,
};

fn cmd(n: u64, rest: &str) -> Command {
    let line = format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","store":"S1",{rest}}}"#
    );
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn enrolled() -> MemberState {
    let policy = Policy::builtin();
    let events = decide(
        &Context::founding(&policy).with_member(None),
        &cmd(1, r#""type":"enroll","member":"M1""#),
    )
    .map(Decision::into_events)
    .unwrap();
    MemberState::enrolled(&events[0]).unwrap()
}

fn limit(state: &MemberState, c: &Command) -> String {
    let e = decide(
        &Context::founding(&Policy::builtin()).with_member(Some(state)),
        c,
    )
    .map(Decision::into_events)
    .unwrap_err();
    assert_eq!(e.code(), "limit_exceeded", "{e}");
    e.to_string()
}

#[test]
fn a_member_whose_lot_numbers_ran_out_is_refused_not_panicked() {
    let mut state = enrolled();
    state.next_lot = u32::MAX - 1;
    let recharge = cmd(2, r#""type":"recharge","member":"M1","amount":"10.00""#);
    assert!(limit(&state, &recharge).contains("lot number"));
}

#[test]
fn a_member_at_its_last_version_is_refused_not_panicked() {
    let mut state = enrolled();
    state.version = u64::MAX;
    let freeze = cmd(2, r#""type":"freeze","member":"M1""#);
    assert!(limit(&state, &freeze).contains("last version"));
}

#[test]
fn points_beyond_the_bound_are_refused_when_decided_and_when_decoded() {
    let mut state = enrolled();
    // A points credit of the most points an event may hold, then ten more.
    let credit = |n, points| {
        cmd(
            n,
            &format!(
                r#""type":"adjust","member":"M1","balance":"points","direction":"credit","points":{points},"reason":"x","operator":"E1""#
            ),
        )
    };
    let mut events = decide(
        &Context::founding(&Policy::builtin()).with_member(Some(&state)),
        &credit(2, 1000),
    )
    .map(Decision::into_events)
    .unwrap();
    // Forge the figure up to the bound (decide takes at most 1e9 points per command).
    if let EventBody::Adjusted(Adjusted { points, .. }) = &mut events[0].body {
        *points = Some(POINTS_RECORDED_MAX - 5);
    }
    assert!(check_event(&events[0].body).is_ok());
    state.apply(&events[0]).unwrap();
    let msg = limit(&state, &credit(3, 10));
    assert!(
        msg.contains("points") && msg.contains(&POINTS_RECORDED_MAX.to_string()),
        "{msg}"
    );
    // The decoder holds an event to the same bound.
    if let EventBody::Adjusted(Adjusted { points, .. }) = &mut events[0].body {
        *points = Some(POINTS_RECORDED_MAX + 1);
    }
    let json = memberledger_core::canonical_json(3, &events[0]);
    assert!(decode_event(json.as_bytes())
        .unwrap_err()
        .contains("points"));
    assert!(check_event(&events[0].body).is_err());
}

#[test]
fn a_settlement_of_more_than_one_event_may_record_is_refused() {
    let (s1, s2) = (StoreId::new("S1").unwrap(), StoreId::new("S2").unwrap());
    let mut clearing = Clearing::default();
    // 100,000 members' principal at the bound, spent across: S1 owes S2 more than i64 holds
    // (the clearing sums in i128, so no overflow), and far more than one figure may record.
    for _ in 0..100_000 {
        clearing.fold_postings(
            "2026-02-01T00:00:00Z".parse().unwrap(),
            &[Posting {
                account: Account::InterStorePayable {
                    debtor: s1.clone(),
                    creditor: s2.clone(),
                },
                cents: -RECORDED_MAX.cents(),
            }],
        );
    }
    assert_eq!(clearing.outstanding(&s1, &s2).cents(), i64::MAX);
    let all = cmd(9, r#""type":"settle","to":"S2""#);
    let policy = Policy::builtin();
    let ctx = Context::founding(&policy).with_clearing(&clearing);
    let e = decide(&ctx, &all).unwrap_err();
    assert_eq!(e.code(), "limit_exceeded", "{e}");
    // In parts, it settles.
    let part = cmd(10, r#""type":"settle","to":"S2","amount":"99999999.99""#);
    assert!(decide(&ctx, &part).is_ok());
}

#[test]
fn a_policy_built_by_hand_with_an_absurd_rate_is_a_refusal_not_a_panic() {
    let mut policy = Policy::builtin();
    for rule in &mut policy.recharge_bonus {
        rule.bonus = None;
        rule.bonus_rate = Some(memberledger_core::Decimal::MAX);
    }
    let state = enrolled();
    let recharge = cmd(
        2,
        r#""type":"recharge","member":"M1","amount":"99999999.99""#,
    );
    let e = decide(
        &Context::founding(&policy).with_member(Some(&state)),
        &recharge,
    )
    .map(Decision::into_events)
    .unwrap_err();
    assert_eq!(e.code(), "limit_exceeded", "{e}");
}
