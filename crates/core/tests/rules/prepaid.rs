//! The prepaid-card rules of the policy (docs/RULES.md, prepaid cards): the stored-value cap,
//! the shortest expiry, the balance-refund formulas, and a correction's reference.

use super::*;
use memberledger_core::canonical_json;

/// SPEND with a ¥5,000 cap (a named card's, by the 2011 State Council opinion) and a minimum
/// life of 90 days for bonus and packages.
fn capped() -> String {
    with(
        SPEND,
        json!({"prepaid":{"stored_value_cap":"5000.00","min_expiry_days":90}}),
    )
}

#[test]
fn a_recharge_that_would_pass_the_cap_is_refused_naming_cap_and_figure() {
    // 4000 + 150 bonus held; 1000 more would make 5150 + 150 = 5300 > 5000.
    let mut s = given(
        &capped(),
        &[ENROLL, r#"{"type":"recharge","amount":"4000.00"}"#],
    );
    let cmd = s.command(r#"{"type":"recharge","amount":"1000.00"}"#);
    let e = s.decide(&cmd).unwrap_err();
    assert_eq!(e.code(), "stored_value_cap_exceeded");
    assert!(
        e.to_string().contains("5000.00") && e.to_string().contains("5300.00"),
        "{e}"
    );
    // Up to the cap is fine: 700 → 4700 + 150 = 4850 ≤ 5000 (700 earns no bonus in SPEND).
    s.when(r#"{"type":"recharge","amount":"700.00"}"#)
        .then_events(json!([{"type":"recharged","amount":"700.00"}]));
}

#[test]
fn a_bonus_grant_that_would_pass_the_cap_is_refused() {
    let mut s = given(
        &capped(),
        &[ENROLL, r#"{"type":"recharge","amount":"4000.00"}"#],
    );
    s.when(r#"{"type":"grant_bonus","amount":"850.01","reason":"campaign"}"#)
        .then_rejected("stored_value_cap_exceeded");
    s.when(r#"{"type":"grant_bonus","amount":"850.00","reason":"campaign"}"#)
        .then_events(json!([{"type":"bonus_granted","amount":"850.00"}]));
}

#[test]
fn a_bonus_or_package_expiring_sooner_than_the_minimum_is_refused() {
    // Given at 2026-01-01T09:01Z; 90 days later is 2026-04-01T09:01Z.
    let mut s = given(
        &capped(),
        &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#],
    );
    s.when(r#"{"type":"grant_bonus","amount":"10.00","reason":"x","expires_at":"2026-03-01T00:00:00Z"}"#)
        .then_rejected("expiry_too_short");
    s.when(r#"{"type":"purchase_package","service":"massage","sessions":2,"amount":"50.00","paid_from":"cash","expires_at":"2026-02-01T00:00:00Z"}"#)
        .then_rejected("expiry_too_short");
    s.when(r#"{"type":"grant_bonus","amount":"10.00","reason":"x","expires_at":"2026-06-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"bonus_granted","expires_at":"2026-06-01T00:00:00Z"}]));
}

#[test]
fn a_policy_whose_bonus_expiry_is_shorter_than_the_minimum_is_invalid() {
    let json = with(
        EXPIRY,
        json!({"bonus_expiry_days": 30, "prepaid": {"min_expiry_days": 90}}),
    );
    let e = Policy::from_json(&json).unwrap_err();
    assert_eq!(e.code(), "invalid_policy");
    assert!(e.to_string().contains("min_expiry_days"), "{e}");
}

#[test]
fn principal_never_expires_no_policy_field_can_make_it() {
    let json = with(SPEND, json!({"principal_expiry_days": 365}));
    assert_eq!(
        Policy::from_json(&json).unwrap_err().code(),
        "invalid_policy"
    );
}

#[test]
fn entities_that_share_a_store_are_refused() {
    let json = with(
        SPEND,
        json!({"prepaid":{"entities":[
            {"id":"E1","name":"Brand Co.","kind":"brand","deposit_ratio":"0.40","stores":["S1","S2"]},
            {"id":"E2","name":"Group Co.","kind":"group","deposit_ratio":"0.30","stores":["S2"]}]}}),
    );
    let e = Policy::from_json(&json).unwrap_err();
    assert_eq!(e.code(), "invalid_policy");
    assert!(e.to_string().contains("\"S2\""), "{e}");
}

/// P 1000 + B 150 (SPEND), then principal-first spending of 900: P 100, B 150 left.
fn spent_principal_first(formula: &str) -> Spec {
    let policy = with(
        SPEND,
        json!({"spend_order":"principal_first","refund":{"formula":formula}}),
    );
    given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"type":"consume","amount":"900.00"}"#,
        ],
    )
}

#[test]
fn pro_rata_refunds_the_paid_share_of_what_is_left_within_the_principal() {
    // remaining 250 × paid 1000 ÷ (1000 + 150) = 217.391… → 217.39, above the 100 of
    // principal held: the payout is the principal, 100.
    let mut s = spent_principal_first("pro_rata");
    s.when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","principal":"100.00","payout":"100.00","clawback":"0.00",
            "bonus_forfeited":"150.00",
            "formula":{"name":"pro_rata","paid":"1000.00","bonus_granted":"150.00","remaining":"250.00","result":"217.39"}}]));
}

#[test]
fn pro_rata_under_proportional_spending_keeps_back_the_bonus_share() {
    // Proportional spending of 575 leaves P 500, B 75: 575 × 1000 / 1150 = 500.00 → payout 500.
    let policy = with(SPEND, json!({"refund":{"formula":"pro_rata"}}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"type":"consume","amount":"575.00"}"#,
        ],
    );
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","principal":"500.00","payout":"500.00",
            "formula":{"name":"pro_rata","remaining":"575.00","result":"500.00"}}]),
    );
}

#[test]
fn formula_none_pays_the_principal_and_records_it() {
    let mut s = spent_principal_first("none");
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","payout":"100.00","clawback":"0.00",
            "formula":{"name":"none","result":"100.00"}}]),
    );
}

#[test]
fn claw_back_named_keeps_todays_event_without_a_formula() {
    // bonus spent 0 (principal first): claw-back 0, payout 100; no `formula` recorded.
    let mut s = spent_principal_first("claw_back_used_bonus");
    let events = s
        .when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","payout":"100.00","clawback":"0.00"}]));
    assert!(!canonical_json(1, &events[0]).contains("formula"));
}

#[test]
fn an_adjustment_names_what_it_corrects() {
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"100.00","id":"r1"}"#],
    );
    let events = s
        .when(&format!(
            r#"{{"type":"adjust","balance":"principal","direction":"debit","amount":"10.00","reason":"keyed twice","operator":"E7","corrects":"{}"}}"#,
            uuid("r1")
        ))
        .then_events(json!([{"type":"adjusted","corrects":uuid("r1").to_string()}]));
    assert!(canonical_json(2, &events[0]).contains(r#""corrects":"#));
}

proptest::proptest! {
    /// Pro rata never pays more than was paid in, nor more than is left, for any figures a
    /// member can hold (what is left never exceeds what was credited).
    #[test]
    fn pro_rata_never_exceeds_what_was_paid(
        paid in 0i64..10_000_000_000,
        granted in 0i64..10_000_000_000,
        left_permille in 0i64..=1000,
    ) {
        use memberledger_core::{pro_rata_refund, Rounding};
        let remaining = (paid + granted) * left_permille / 1000;
        for rounding in [Rounding::HalfUp, Rounding::HalfEven, Rounding::Up, Rounding::Down] {
            let r = pro_rata_refund(
                Money::from_cents(paid),
                Money::from_cents(granted),
                Money::from_cents(remaining),
                rounding,
            );
            proptest::prop_assert!(r.cents() <= paid.max(0) || paid + granted == 0);
            proptest::prop_assert!(r.cents() <= remaining && r.cents() >= 0);
        }
    }
}
