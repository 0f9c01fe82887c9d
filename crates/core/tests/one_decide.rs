//! The one `decide` (docs/RULES.md, policy versions): every command, a member's, a
//! settlement or a publication, is decided by it, and its events name the policy version in
//! force at the command's time.

use memberledger_core::{decide, Command, Context, MemberState, Policy, PolicyHistory};

fn cmd(n: u32, at: &str, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-{at}Z",{rest}}}"#
    ))
    .unwrap()
}

#[test]
fn decide_stamps_the_policy_version_in_force_after_a_publication() {
    let mut history = PolicyHistory::new(Policy::builtin());
    let enroll = cmd(
        1,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M1","store":"S1""#,
    );
    let d = decide(&Context::new(&history), &enroll).unwrap();
    assert_eq!(d.events[0].policy, 1);
    let state = d.member.unwrap();

    let policy = Policy::builtin().to_json();
    let publish = cmd(
        2,
        "04-01T00:00:00",
        &format!(r#""type":"publish_policy","store":"HQ","policy":{policy}"#),
    );
    let ctx = Context::new(&history).with_latest_at(Some(state.last_at));
    let published = decide(&ctx, &publish).unwrap();
    assert_eq!(published.events[0].policy, 2);
    assert!(published.member.is_none());
    history.apply(&published.events[0]).unwrap();

    // Before the publication's time, version 1 is in force; from it on, version 2.
    let before = cmd(
        3,
        "03-31T23:59:59",
        r#""type":"recharge","member":"M1","store":"S1","amount":"100.00""#,
    );
    let ctx = Context::new(&history).with_member(Some(&state));
    assert!(decide(&ctx, &before)
        .unwrap()
        .events
        .iter()
        .all(|e| e.policy == 1));
    let after = cmd(
        4,
        "04-02T10:00:00",
        r#""type":"recharge","member":"M1","store":"S1","amount":"100.00""#,
    );
    let d = decide(&ctx, &after).unwrap();
    assert!(d.events.iter().all(|e| e.policy == 2));
    // The decision's state is the fold of its events.
    let mut folded = state.clone();
    for e in &d.events {
        folded.apply(e).unwrap();
    }
    assert_eq!(d.member, Some(folded));
}

#[test]
fn a_settlement_is_decided_by_the_one_decide_under_the_version_in_force() {
    let mut history = PolicyHistory::new(Policy::builtin());
    let policy = Policy::builtin().to_json();
    let publish = cmd(
        1,
        "02-01T00:00:00",
        &format!(r#""type":"publish_policy","store":"HQ","policy":{policy}"#),
    );
    let published = decide(&Context::new(&history), &publish).unwrap();
    history.apply(&published.events[0]).unwrap();
    // Without a clearing, nothing is owed.
    let settle = cmd(
        2,
        "03-01T00:00:00",
        r#""type":"settle","store":"S1","to":"S2""#,
    );
    let e = decide(&Context::new(&history), &settle).unwrap_err();
    assert_eq!(e.code(), "settlement_exceeds_owed");
}

#[test]
fn fold_next_starts_a_member_then_extends_it() {
    let policy = Policy::builtin();
    let enroll = cmd(
        1,
        "03-01T10:00:00",
        r#""type":"enroll","member":"M1","store":"S1""#,
    );
    let recharge = cmd(
        2,
        "03-01T10:05:00",
        r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
    );
    let first = decide(&Context::founding(&policy), &enroll).unwrap();
    let second = decide(
        &Context::founding(&policy).with_member(first.member.as_ref()),
        &recharge,
    )
    .unwrap();
    let log: Vec<_> = first.events.iter().chain(&second.events).collect();
    // The first event starts the member; every later one extends it in place.
    let mut state = MemberState::fold_next(None, log[0]).unwrap();
    assert!(state.is_some());
    for e in &log[1..] {
        assert_eq!(MemberState::fold_next(state.as_mut(), e).unwrap(), None);
    }
    assert_eq!(state, second.member);
    assert_eq!(
        MemberState::replay(log.iter().copied()).unwrap(),
        second.member
    );
    // A later event cannot start a member.
    assert!(MemberState::fold_next(None, log[1]).is_err());
}
