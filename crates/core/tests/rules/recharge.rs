//! Recharge's bonus ladder and `grant_bonus` (docs/RULES.md, bonus).

use super::*;

#[test]
fn recharge_below_the_lowest_rule_gets_no_bonus() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"499.99","staff":"E7"}"#)
        .then_events(json!([{"type":"recharged","amount":"499.99","lot":1,"staff":"E7"}]));
}

#[test]
fn recharge_at_exactly_a_rules_min_gets_that_rule() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"500.00","at":"2026-03-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"500.00","lot":1,"staff":null},
            {"type":"bonus_granted","amount":"50.00","lot":2,"rule":0,"reason":"recharge",
             "expires_at":"2027-03-01T10:00:00Z"}
        ]));
}

#[test]
fn recharge_bonus_takes_the_highest_min_not_above_the_amount_without_stacking() {
    // 2999.99 qualifies for the 500 and the 1000 rules: only the 1000 rule applies (150, not 200).
    let mut s = given(BONUS_LADDER, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"2999.99"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"2999.99","lot":1},
            {"type":"bonus_granted","amount":"150.00","lot":2,"rule":1}
        ]));
    s.then_view(json!({"principal":"2999.99","bonus":"150.00"}));
}

#[test]
fn recharge_bonus_rate_is_rounded_half_up() {
    // 3000.04 × 0.125 = 375.005 → 375.01 half up.
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"3000.04"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"3000.04"},
            {"type":"bonus_granted","amount":"375.01","rule":2}
        ]));
}

#[test]
fn recharge_bonus_rate_is_rounded_half_even_when_the_policy_says_so() {
    // 3000.04 × 0.125 = 375.005 → 375.00 half even (0 is the even neighbour).
    let policy = with(BONUS_LADDER, json!({"rounding":"half_even"}));
    given(&policy, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"3000.04"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"3000.04"},
            {"type":"bonus_granted","amount":"375.00","rule":2}
        ]));
}

#[test]
fn tier_restricted_bonus_rule_applies_only_to_its_tier() {
    // Standard: 5000 falls to the 3000 rate rule, 5000 × 0.125 = 625.
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"625.00","rule":2}]),
        );
    // Gold: the gold-only 5000 rule, 5000 × 0.30 = 1500.
    given(BONUS_LADDER, &[r#"{"type":"enroll","tier":"gold"}"#])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"1500.00","rule":3}]),
        );
}

#[test]
fn recharge_bonus_uses_the_tier_held_before_the_recharge() {
    // The 5000 recharge upgrades standard → gold, but the bonus is the standard one (150);
    // the next 5000 recharge, as gold, gets the gold-only 30% rule (1500) and no tier change.
    let mut s = given(BONUS_AND_UPGRADE, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00","lot":1},
            {"type":"bonus_granted","amount":"150.00","lot":2,"rule":0,"expires_at":null},
            {"type":"tier_changed","from":"standard","to":"gold","reason":"upgrade:single_recharge"}
        ]));
    s.when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00","lot":3},
            {"type":"bonus_granted","amount":"1500.00","lot":4,"rule":1}
        ]));
    s.then_view(json!({"tier":"gold","principal":"10000.00","bonus":"1650.00"}));
}

#[test]
fn recharge_bonus_rules_with_equal_min_for_the_same_tiers_are_an_invalid_policy() {
    // Never first-listed-wins (issue 14, item 7): which rule applies may not hang on order.
    for rules in [
        json!([{"min":"100.00","bonus":"7.00"},{"min":"100.00","bonus":"9.00"}]),
        json!([{"min":"100.00","bonus":"7.00","tiers":["standard"]},{"min":"100.00","bonus":"9.00"}]),
        json!([{"min":"100.00","bonus":"7.00","tiers":["standard","gold"]},{"min":"100.00","bonus_rate":"0.1","tiers":["gold"]}]),
    ] {
        let policy = with(BONUS_LADDER, json!({ "recharge_bonus": rules }));
        let e = memberledger_core::Policy::from_json(&policy).unwrap_err();
        assert_eq!(e.code(), "invalid_policy", "{rules}");
        assert!(e.to_string().contains("same tiers"), "{e}");
    }
}

#[test]
fn recharge_bonus_rules_with_equal_min_for_other_tiers_each_apply_to_their_own() {
    let policy = with(
        BONUS_LADDER,
        json!({"recharge_bonus":[{"min":"100.00","bonus":"7.00","tiers":["standard"]},{"min":"100.00","bonus":"9.00","tiers":["gold"]}]}),
    );
    given(&policy, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"recharged"}, {"type":"bonus_granted","amount":"7.00","rule":0}]),
        );
}

// ---------------------------------------------------------------------------------------------
// grant_bonus
// ---------------------------------------------------------------------------------------------

#[test]
fn grant_bonus_records_the_reason_and_the_given_expiry() {
    let mut s = given(BONUS_LADDER, &[ENROLL]);
    s.when(r#"{"type":"grant_bonus","amount":"50.00","reason":"birthday","expires_at":"2026-12-31T23:59:59Z"}"#)
        .then_events(json!([{"type":"bonus_granted","amount":"50.00","lot":1,"reason":"birthday",
            "rule":null,"expires_at":"2026-12-31T23:59:59Z"}]));
    s.then_view(json!({"principal":"0.00","bonus":"50.00",
        "lots":[{"kind":"bonus","lot":1,"origin_store":"S1","remaining":"50.00","expires_at":"2026-12-31T23:59:59Z"}]}));
}

#[test]
fn grant_bonus_without_expiry_uses_the_policys_bonus_expiry_days() {
    given(BONUS_LADDER, &[ENROLL])
        .when(r#"{"type":"grant_bonus","amount":"20.00","reason":"campaign","at":"2026-02-01T12:00:00Z"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":"2027-02-01T12:00:00Z"}]));
    given(PLAIN, &[ENROLL])
        .when(r#"{"type":"grant_bonus","amount":"20.00","reason":"campaign"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":null}]));
}

#[test]
fn grant_bonus_rejects_an_expiry_at_or_before_the_command_time() {
    let mut s = given(PLAIN, &[ENROLL]);
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-05-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-04-30T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"grant_bonus","amount":"20.00","reason":"x","at":"2026-05-01T00:00:00Z","expires_at":"2026-05-01T00:00:01Z"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":"2026-05-01T00:00:01Z"}]));
}
