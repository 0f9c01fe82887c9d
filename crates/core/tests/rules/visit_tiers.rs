//! Tiers by spending and visits, and the tier review (docs/RULES.md §10).

use super::*;

/// Upgrades on visits (silver) and spending (gold) over 30 days, kept by retain rules over 90
/// days; diamond has no retain rule, so no review lowers it.
const VISIT_TIERS: &str = r#"{
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "silver", "discount": "1.00", "points_per_yuan": "1",
     "upgrade": {"visits_within": 3, "window_days": 30},
     "retain": {"visits_within": 2, "window_days": 90}},
    {"name": "gold", "discount": "1.00", "points_per_yuan": "1",
     "upgrade": {"spent_within": "1000.00", "window_days": 30},
     "retain": {"spent_within": "500.00", "window_days": 90}},
    {"name": "diamond", "discount": "1.00", "points_per_yuan": "1",
     "upgrade": {"single_recharge": "50000.00"}}
  ],
  "bonus_expiry_days": null, "points_expiry_days": null
}"#;

/// A visit paid in cash outside the card, at a time.
fn cash_visit(amount: &str, at: &str) -> String {
    format!(
        r#"{{"type":"consume","amount":"{amount}","method":"cash","external":"all","at":"{at}"}}"#
    )
}

const ENROLLED: &[&str] = &[r#"{"type":"enroll","at":"2026-01-01T09:00:00Z"}"#];

#[test]
fn visits_within_upgrades_after_the_visit_that_reaches_the_count() {
    let mut s = given(VISIT_TIERS, ENROLLED);
    s.and(&[
        &cash_visit("10.00", "2026-01-05T10:00:00Z"),
        &cash_visit("10.00", "2026-01-06T10:00:00Z"),
    ]);
    s.then_view(json!({"tier":"standard"}));
    s.when(&cash_visit("10.00", "2026-01-07T10:00:00Z"))
        .then_events(json!([
            {"type":"consumed","charged":"10.00"},
            {"type":"tier_changed","from":"standard","to":"silver","reason":"upgrade:visits_within"}]));
}

#[test]
fn spent_within_counts_card_and_external_parts_and_upgrades_in_one_step() {
    // 400.00 from the card and 800.00 in cash: 1200.00 ≥ 1000.00, gold past silver.
    let mut s = given(
        VISIT_TIERS,
        &[
            ENROLLED[0],
            r#"{"type":"recharge","amount":"400.00","at":"2026-01-02T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"1200.00","method":"cash","at":"2026-01-03T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"consumed","charged":"1200.00","external":{"amount":"800.00","method":"cash"}},
            {"type":"tier_changed","from":"standard","to":"gold","reason":"upgrade:spent_within"}]));
}

#[test]
fn spent_within_is_net_of_consumption_refunds() {
    let mut s = given(VISIT_TIERS, ENROLLED);
    s.and(&[
        r#"{"id":"c1","type":"consume","amount":"600.00","method":"cash","external":"all","at":"2026-01-05T10:00:00Z"}"#,
        r#"{"type":"refund_consumption","consumption":"c1","at":"2026-01-06T10:00:00Z"}"#,
    ]);
    // 600 − 600 + 500 = 500 < 1000.
    s.when(&cash_visit("500.00", "2026-01-07T10:00:00Z"))
        .then_events(json!([{"type":"consumed"}]));
    let at: Timestamp = "2026-01-07T10:00:00Z".parse().expect("time");
    assert_eq!(s.member("M1").spent_within(at, 30), money("500.00"));
    // Refunds do not take visits back: two visits counted.
    assert_eq!(s.member("M1").visits_within(at, 30), 2);
    s.when(&cash_visit("500.00", "2026-01-08T10:00:00Z"))
        .then_events(json!([{"type":"consumed"},
            {"type":"tier_changed","to":"gold","reason":"upgrade:spent_within"}]));
}

#[test]
fn the_spending_window_counts_whole_utc_days_and_excludes_the_day_window_days_before() {
    let mut s = given(VISIT_TIERS, ENROLLED);
    // Day D−30 (2026-01-01) is outside a 30-day window ending on D (2026-01-31); D−29 is in.
    s.and(&[
        &cash_visit("10.00", "2026-01-01T23:59:59Z"),
        &cash_visit("10.00", "2026-01-02T00:00:00Z"),
    ]);
    s.when(&cash_visit("10.00", "2026-01-31T23:00:00Z"))
        .then_events(json!([{"type":"consumed"}]));
    s.when(&cash_visit("10.00", "2026-01-31T23:30:00Z"))
        .then_events(json!([{"type":"consumed"},
            {"type":"tier_changed","to":"silver","reason":"upgrade:visits_within"}]));
    // Two visits on one day are one entry of the window.
    let days = s.member("M1").spending_window();
    assert_eq!(days.len(), 3);
    assert_eq!((days[2].visits, days[2].cents), (2, 2000));
}

#[test]
fn an_upgrade_on_visits_never_applies_under_a_policy_without_such_rules() {
    // The built-in policy's tiers upgrade on recharges alone: visits record what they did.
    given(&Policy::builtin().to_json(), ENROLLED)
        .when(&cash_visit("99999.00", "2026-01-02T10:00:00Z"))
        .then_events(json!([{"type":"consumed"}]));
}

/// Gold reached on 2026-01-03 by spending.
fn a_gold_member() -> Spec {
    let mut s = given(VISIT_TIERS, ENROLLED);
    s.and(&[&cash_visit("1000.00", "2026-01-03T10:00:00Z")]);
    s.then_view(json!({"tier":"gold"}));
    s
}

#[test]
fn a_review_keeps_a_member_whose_retain_condition_holds() {
    let mut s = a_gold_member();
    s.and(&[&cash_visit("500.00", "2026-04-01T10:00:00Z")]);
    s.when(r#"{"type":"review_tier","at":"2026-05-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.then_view(json!({"tier":"gold"}));
}

#[test]
fn a_review_gives_grace_to_a_tier_reached_within_the_window() {
    // Gold since 2026-01-03: the 90-day window ending 2026-04-02 still holds that day.
    let mut s = a_gold_member();
    s.when(r#"{"type":"review_tier","at":"2026-04-02T23:59:59Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"review_tier","at":"2026-04-03T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"tier_changed","from":"gold","to":"standard","reason":"review:downgrade"}]));
}

#[test]
fn a_review_lowers_to_the_highest_lower_tier_whose_condition_holds() {
    // Two visits of 10.00 in the 90 days: silver's retain holds, gold's (500.00) does not.
    let mut s = a_gold_member();
    s.and(&[
        &cash_visit("10.00", "2026-05-01T10:00:00Z"),
        &cash_visit("10.00", "2026-05-02T10:00:00Z"),
    ]);
    s.when(r#"{"type":"review_tier","at":"2026-06-01T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"tier_changed","from":"gold","to":"silver","reason":"review:downgrade"}]));
    // Silver since today: a review the same day keeps it.
    s.when(r#"{"type":"review_tier","at":"2026-06-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
}

#[test]
fn a_tier_without_retain_is_never_lowered_by_a_review() {
    let mut s = given(
        VISIT_TIERS,
        &[
            ENROLLED[0],
            r#"{"type":"change_tier","tier":"diamond","at":"2026-01-02T00:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"review_tier","at":"2029-01-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
    s.then_view(json!({"tier":"diamond"}));
}

#[test]
fn a_review_of_a_member_never_enrolled_is_member_not_found() {
    given(VISIT_TIERS, &[])
        .when(r#"{"type":"review_tier","at":"2026-06-01T00:00:00Z"}"#)
        .then_rejected("member_not_found");
}

#[test]
fn a_review_of_a_frozen_member_still_lowers_it() {
    let mut s = a_gold_member();
    s.and(&[r#"{"type":"freeze","at":"2026-01-04T00:00:00Z"}"#]);
    s.when(r#"{"type":"review_tier","at":"2026-07-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"tier_changed","to":"standard","reason":"review:downgrade"}]));
}

#[test]
fn tier_rules_out_of_range_are_invalid_policy() {
    let tier = |extra: &str| {
        format!(
            r#"{{"tiers":[{{"name":"a","discount":"1","points_per_yuan":"1"}},{{"name":"b","discount":"1","points_per_yuan":"1",{extra}}}]}}"#
        )
    };
    for (extra, needle) in [
        (r#""upgrade":{"visits_within":0}"#, "visits_within above 0"),
        (
            r#""upgrade":{"visits_within":1,"window_days":0}"#,
            "window_days must be",
        ),
        (
            r#""upgrade":{"spent_within":"1.00","window_days":731}"#,
            "window_days must be",
        ),
        (
            r#""upgrade":{"single_recharge":"1.00","window_days":30}"#,
            "needs spent_within",
        ),
        (
            r#""retain":{"window_days":30}"#,
            "retain names no condition",
        ),
        (
            r#""retain":{"recharged_within":"1.00","window_days":366}"#,
            "at most 365 days",
        ),
        (r#""retain":{"spent_within":"0.00"}"#, "amounts in"),
    ] {
        let e = Policy::from_json(&tier(extra)).unwrap_err();
        assert_eq!(e.code(), "invalid_policy");
        assert!(e.to_string().contains(needle), "{e} lacks {needle}");
    }
    let lowest = r#"{"tiers":[{"name":"a","discount":"1","points_per_yuan":"1","retain":{"visits_within":1}}]}"#;
    assert!(Policy::from_json(lowest)
        .unwrap_err()
        .to_string()
        .contains("lowest tier cannot have a retain rule"));
}

#[test]
fn a_policy_without_the_new_tier_rules_keeps_its_canonical_bytes() {
    let json = Policy::builtin().to_json();
    for field in ["retain", "spent_within", "visits_within", "window_days"] {
        assert!(!json.contains(field), "{json} names {field}");
    }
    let p = Policy::from_json(VISIT_TIERS).expect("policy");
    assert!(p
        .to_json()
        .contains(r#""retain":{"visits_within":2,"window_days":90}"#));
    assert_eq!(Policy::from_json(&p.to_json()).expect("round trip"), p);
}
