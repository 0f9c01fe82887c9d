//! `policy`: arbitrary bytes as a policy file (docs/RULES.md §5).
//!
//! Checks: `Policy::from_json` never panics; a valid policy round-trips through its canonical
//! JSON (`to_json`) to an equal policy; and deciding a fixed script of commands under it
//! (enroll, recharges small and large, a consumption, a partial and a full refund, a tier
//! change to every tier, a balance refund) never panics and folds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use memberledger_core::{check_balanced, decide, postings, Command, Context, MemberState, Policy};

/// The fixed script. `{tier}` is replaced with each tier of the policy in turn.
const SCRIPT: &[&str] = &[
    r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E7"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00","staff":"E9","service":"facial"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-03T09:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000003","amount":"100.00"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-04T09:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"99999999.99"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000006","at":"2026-03-05T09:00:00Z","type":"consume","member":"M1","store":"S3","amount":"0.01"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000007","at":"2026-03-06T09:00:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"50.00","reason":"birthday"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000008","at":"2026-03-07T09:00:00Z","type":"consume","member":"M1","store":"S2","amount":"12345.67"}"#,
    r#"{"id":"00000000-0000-4000-8000-000000000009","at":"2027-06-07T09:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000003"}"#,
    r#"{"id":"00000000-0000-4000-8000-00000000000a","at":"2027-06-08T09:00:00Z","type":"recharge","member":"M1","store":"S2","amount":"0.01"}"#,
];

const REFUND_BALANCE: &str = r#"{"id":"00000000-0000-4000-8000-0000000000ff","at":"2030-01-01T00:00:00Z","type":"refund_balance","member":"M1","store":"S3"}"#;

fn step(state: &mut Option<MemberState>, line: &str, policy: &Policy) {
    let cmd = Command::from_json(line).expect("the script's lines parse");
    // Business rejections are fine (a tiny discount may charge nothing, a rule may not
    // apply); a panic is not.
    let ctx = Context::founding(policy).with_member(state.as_ref());
    if let Ok(decision) = decide(&ctx, &cmd) {
        let (events, next) = (
            decision.events,
            decision.member.expect("a member's command"),
        );
        // The state returned is the fold of the events: check it by folding them again.
        let mut folded = state.clone();
        for e in &events {
            check_balanced(&postings(e)).expect("a decided event balances");
            MemberState::fold_onto(&mut folded, e).expect("a decided event folds");
        }
        assert_eq!(
            folded.as_ref(),
            Some(&next),
            "the decision's state differs from the fold"
        );
        *state = Some(next);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::from_json(json) else {
        return;
    };
    let canonical = policy.to_json();
    let again = Policy::from_json(&canonical)
        .unwrap_or_else(|e| panic!("canonical policy {canonical} does not load: {e}"));
    assert_eq!(policy, again, "policy changed by a round trip: {canonical}");
    assert_eq!(
        canonical,
        again.to_json(),
        "canonical policy JSON is not a fixed point"
    );

    let mut state = None;
    for line in SCRIPT {
        step(&mut state, line, &policy);
    }
    for (i, tier) in policy.tiers.iter().enumerate().take(8) {
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8001-{i:012x}","at":"2028-01-01T00:00:00Z","type":"change_tier","member":"M1","store":"S1","tier":"{}"}}"#,
            tier.name
        );
        step(&mut state, &line, &policy);
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8002-{i:012x}","at":"2028-01-01T00:00:00Z","type":"consume","member":"M1","store":"S2","amount":"777.77"}}"#
        );
        step(&mut state, &line, &policy);
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8003-{i:012x}","at":"2028-01-01T00:00:00Z","type":"recharge","member":"M1","store":"S2","amount":"20000.00"}}"#
        );
        step(&mut state, &line, &policy);
    }
    step(&mut state, REFUND_BALANCE, &policy);
});
