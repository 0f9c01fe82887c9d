//! Tier upgrades, `change_tier`, and time order (docs/RULES.md, tiers).

use super::*;

#[test]
fn a_single_recharge_upgrades_to_the_highest_qualifying_tier() {
    // 5000 meets both silver's (2000) and gold's (5000) single_recharge: gold, in one step.
    given(TIERS, &[ENROLL])
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"5000.00"},
            {"type":"tier_changed","from":"standard","to":"gold","reason":"upgrade:single_recharge"}]));
}

#[test]
fn a_single_recharge_just_below_the_threshold_does_not_upgrade() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"1999.99"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.when(r#"{"type":"recharge","amount":"2000.00"}"#).then_events(json!([
        {"type":"recharged"},
        {"type":"tier_changed","from":"standard","to":"silver","reason":"upgrade:single_recharge"}]));
    // Already silver: another 2000 does not record a change.
    s.when(r#"{"type":"recharge","amount":"2000.00"}"#)
        .then_events(json!([{"type":"recharged"}]));
}

const THREE_RECHARGES_BEFORE: &[&str] = &[
    r#"{"type":"enroll","at":"2025-01-01T00:00:00Z"}"#,
    r#"{"type":"recharge","amount":"1800.00","at":"2025-01-10T10:00:00Z"}"#,
    r#"{"type":"recharge","amount":"1800.00","at":"2025-06-01T10:00:00Z"}"#,
];

#[test]
fn recharged_within_365d_counts_recharges_in_the_window_including_this_one() {
    // 1800 + 1800 + 1800 = 5400 ≥ 5000 while the first is still inside (at − 365 d, at].
    given(TIERS, THREE_RECHARGES_BEFORE)
        .when(r#"{"type":"recharge","amount":"1800.00","at":"2026-01-10T09:59:59Z"}"#)
        .then_events(json!([
            {"type":"recharged"},
            {"type":"tier_changed","from":"standard","to":"silver","reason":"upgrade:recharged_within_365d"}]));
}

#[test]
fn recharged_within_365d_excludes_a_recharge_exactly_365_days_before() {
    // 2025-01-10T10:00 is exactly 365 days before 2026-01-10T10:00: outside, 3600 < 5000.
    let mut s = given(TIERS, THREE_RECHARGES_BEFORE);
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2026-01-10T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    assert_eq!(s.member("M1").tier, "standard");
    assert_eq!(
        s.member("M1")
            .recharged_within_365d("2026-01-10T10:00:00Z".parse().expect("time")),
        money("3600.00")
    );
}

#[test]
fn recharged_within_365d_is_less_principal_removed_by_balance_refunds() {
    // 1800 + 1800 − 3600 (paid out) + 1800 = 1800 < 5000: no upgrade.
    let mut s = given(TIERS, THREE_RECHARGES_BEFORE);
    s.and(&[r#"{"type":"refund_balance","at":"2025-07-01T10:00:00Z"}"#]);
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-01T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    // 1800 × 4 − 3600 = 3600 < 5000; then 1800 × 5 − 3600 = 5400 ≥ 5000.
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-02T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.when(r#"{"type":"recharge","amount":"1800.00","at":"2025-08-03T10:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"},
            {"type":"tier_changed","to":"silver","reason":"upgrade:recharged_within_365d"}]));
}

#[test]
fn tiers_are_never_downgraded_automatically() {
    let mut s = given(
        TIERS,
        &[ENROLL, r#"{"type":"recharge","amount":"5000.00"}"#],
    );
    s.then_view(json!({"tier":"gold"}));
    s.and(&[r#"{"type":"refund_balance"}"#]);
    s.when(r#"{"type":"recharge","amount":"10.00","at":"2028-01-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"recharged"}]));
    s.then_view(json!({"tier":"gold"}));
    // A manually assigned higher tier is kept too.
    given(TIERS, &[r#"{"type":"enroll","tier":"gold"}"#])
        .when(r#"{"type":"recharge","amount":"2000.00"}"#)
        .then_events(json!([{"type":"recharged"}]));
}

#[test]
fn change_tier_records_the_manual_change_with_its_reason() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"change_tier","tier":"gold","reason":"vip"}"#)
        .then_events(json!([{"type":"tier_changed","from":"standard","to":"gold","reason":"vip"}]));
    // Downward by hand is allowed; without a reason it says manual.
    s.when(r#"{"type":"change_tier","tier":"silver"}"#)
        .then_events(
            json!([{"type":"tier_changed","from":"gold","to":"silver","reason":"manual"}]),
        );
    s.then_view(json!({"tier":"silver"}));
}

#[test]
fn change_tier_to_an_undefined_tier_is_unknown_tier() {
    let mut s = given(TIERS, &[ENROLL]);
    s.when(r#"{"type":"change_tier","tier":"platinum"}"#)
        .then_rejected("unknown_tier");
    s.then_view(json!({"tier":"standard","version":1}));
}

// ---------------------------------------------------------------------------------------------
// Time order
// ---------------------------------------------------------------------------------------------

#[test]
fn a_command_older_than_the_members_last_event_is_out_of_order() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.00","at":"2026-03-01T09:59:59Z"}"#)
        .then_rejected("out_of_order");
    s.when(r#"{"type":"recharge","amount":"10.00","at":"2026-02-01T00:00:00Z"}"#)
        .then_rejected("out_of_order");
    // Another member has its own clock.
    s.when(r#"{"type":"enroll","member":"M2","at":"2026-02-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"member_enrolled"}]));
}

#[test]
fn a_command_at_the_same_time_as_the_last_event_is_accepted() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.00","at":"2026-03-01T10:00:00Z"}"#)
        .then_events(json!([{"type":"consumed","charged":"10.00"}]));
    s.then_view(json!({"version":4}));
}
