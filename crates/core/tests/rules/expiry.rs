//! Expiry recorded before a command (docs/RULES.md, expiry).

use super::*;

#[test]
fn a_bonus_lot_expires_when_the_command_time_reaches_its_expires_at() {
    // Recharge at 03-01 10:00 → bonus lot 2 expires 30 days later, 03-31 10:00.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","store":"S2","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"consume","amount":"300.00","at":"2026-03-02T10:00:00Z"}"#,
        ],
    );
    s.then_view(json!({"principal":"739.13","bonus":"110.87","points":260}));
    // One second before: nothing expires.
    s.when(r#"{"type":"recharge","amount":"1.00","at":"2026-03-31T09:59:59Z"}"#)
        .then_events(json!([{"type":"recharged","lot":4}]));
    // At exactly expires_at the rest of the lot expires first, then the command.
    s.when(r#"{"type":"recharge","amount":"1.00","at":"2026-03-31T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"110.87","origin_store":"S2","expires_at":"2026-03-31T10:00:00Z"},
            {"type":"recharged","amount":"1.00","lot":5}]));
    s.then_view(json!({"principal":"741.13","bonus":"0.00","points":260}));
}

#[test]
fn expired_bonus_cannot_be_spent() {
    let policy = with(EXPIRY, json!({"spend_order":"bonus_first"}));
    given(&policy, &[ENROLL, r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#])
        .when(r#"{"type":"consume","amount":"100.00","at":"2026-04-15T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"150.00"},
            {"type":"consumed","principal":"100.00","bonus":"0.00","draws":[{"lot":1,"kind":"principal","amount":"100.00"}]}]));
}

#[test]
fn points_expire_at_their_expires_at_after_bonus_and_before_the_command() {
    // Points earned 03-02 10:00 expire 60 days later, 05-01 10:00; the bonus expired 03-31.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"300.00","at":"2026-03-02T10:00:00Z"}"#)
        .then_events(json!([{"type":"consumed","points_earned":260,"points_lot":3,"points_expires_at":"2026-05-01T10:00:00Z"}]));
    s.when(r#"{"type":"grant_bonus","amount":"5.00","reason":"x","at":"2026-05-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"110.87","expires_at":"2026-03-31T10:00:00Z"},
            {"type":"points_expired","lot":3,"points":260,"expires_at":"2026-05-01T10:00:00Z"},
            {"type":"bonus_granted","lot":4,"amount":"5.00","expires_at":"2026-05-31T10:00:00Z"}]));
    s.then_view(json!({"points":0,"bonus":"5.00","point_lots":[]}));
}
