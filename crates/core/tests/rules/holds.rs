//! Holds (docs/RULES.md, holds): authorize, capture, void, expiry; held money is not
//! available; nothing is booked until a capture, which books as a consumption.

use super::*;

#[test]
fn a_hold_makes_money_unavailable_until_captured_or_voided() {
    let mut s = given(PLAIN, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.when(r#"{"id":"h1","type":"authorize","amount":"80.00","at":"2026-01-01T10:00:00Z"}"#)
        .then_events(json!([{"type":"hold_authorized","amount":"80.00","hold":uuid("h1").to_string(),"expires_at":"2026-01-08T10:00:00Z"}]));
    s.then_view(json!({"principal":"100.00","held":"80.00","available":"20.00"}));
    s.when(r#"{"type":"consume","amount":"30.00"}"#)
        .then_rejected("insufficient_balance");
    s.when(r#"{"type":"authorize","amount":"30.00"}"#)
        .then_rejected("insufficient_balance");
    s.when(r#"{"type":"refund_balance"}"#)
        .then_rejected("holds_open");
    s.when(r#"{"type":"adjust","balance":"principal","direction":"debit","amount":"30.00","reason":"x","operator":"E1"}"#)
        .then_rejected("insufficient_balance");
    s.when(r#"{"type":"void","hold":"h1"}"#)
        .then_events(json!([{"type":"hold_voided","amount":"80.00"}]));
    s.then_view(json!({"principal":"100.00","held":"0.00","available":"100.00","holds":[]}));
    s.when(r#"{"type":"void","hold":"h1"}"#)
        .then_rejected("unknown_hold");
}

#[test]
fn a_capture_charges_the_final_price_splits_it_now_and_releases_the_rest() {
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    s.and(&[r#"{"id":"h1","type":"authorize","amount":"300.00"}"#]);
    // Above the hold: refused.
    s.when(r#"{"type":"capture","hold":"h1","amount":"300.01"}"#)
        .then_rejected("capture_exceeds_hold");
    // The same figures a consumption of 230.00 records (proportional: 1000 / 150).
    s.when(r#"{"id":"cap","type":"capture","hold":"h1","amount":"230.00","staff":"E9","service":"facial"}"#)
        .then_events(json!([
            {"type":"hold_captured","amount":"300.00","captured":"230.00","released":"70.00"},
            {"type":"consumed","price":"230.00","charged":"230.00","principal":"200.00","bonus":"30.00","staff":"E9","service":"facial"}]));
    s.then_view(json!({"principal":"800.00","bonus":"120.00","held":"0.00","available":"920.00"}));
    // Refunded like any consumption, by the capture's id.
    s.when(r#"{"type":"refund_consumption","consumption":"cap"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"230.00"}]));
    s.when(r#"{"type":"capture","hold":"h1","amount":"1.00"}"#)
        .then_rejected("unknown_hold");
}

#[test]
fn a_capture_is_at_the_tier_discount() {
    let mut s = given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"gold"}"#,
            r#"{"type":"recharge","amount":"1000.00"}"#,
        ],
    );
    s.and(&[r#"{"id":"h1","type":"authorize","amount":"90.00"}"#]);
    s.when(r#"{"type":"capture","hold":"h1","amount":"100.00"}"#)
        .then_events(json!([
            {"type":"hold_captured","captured":"90.00","released":"0.00"},
            {"type":"consumed","price":"100.00","charged":"90.00"}]));
}

#[test]
fn an_expired_hold_is_released_whole_in_the_sweep() {
    let mut s = given(PLAIN, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.and(&[r#"{"id":"h1","type":"authorize","amount":"60.00","at":"2026-02-01T10:00:00Z","expires_at":"2026-02-02T10:00:00Z"}"#]);
    s.when(r#"{"type":"expire","at":"2026-02-02T09:59:59Z"}"#)
        .then_rejected("invalid_command");
    s.when(r#"{"type":"expire","at":"2026-02-02T10:00:00Z"}"#)
        .then_events(
            json!([{"type":"hold_expired","amount":"60.00","expires_at":"2026-02-02T10:00:00Z"}]),
        );
    s.then_view(json!({"available":"100.00","held":"0.00"}));
    s.when(r#"{"type":"capture","hold":"h1","amount":"10.00"}"#)
        .then_rejected("unknown_hold");
}

#[test]
fn a_frozen_member_cannot_authorize_or_capture_but_may_void() {
    let mut s = given(PLAIN, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.and(&[
        r#"{"id":"h1","type":"authorize","amount":"60.00"}"#,
        r#"{"type":"freeze"}"#,
    ]);
    s.when(r#"{"type":"authorize","amount":"1.00"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"capture","hold":"h1","amount":"1.00"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"void","hold":"h1"}"#)
        .then_events(json!([{"type":"hold_voided"}]));
}

#[test]
fn an_authorization_must_expire_after_its_time() {
    let line = r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","member":"M1","store":"S1","type":"authorize","amount":"1.00","at":"2026-02-01T10:00:00Z","expires_at":"2026-02-01T10:00:00Z"}"#;
    assert_eq!(
        Command::from_json(line).unwrap_err().code(),
        "invalid_command"
    );
}
