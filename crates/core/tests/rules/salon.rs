//! How salons charge (issue 14): mixed and external payment, points on what was paid, what a
//! points redemption gave, and late commands from offline terminals (docs/RULES.md §12, §13,
//! §17 and §24).

use memberledger_core::{canonical_json, postings, EventBody};

use super::*;

/// Principal first, a point a yuan, no bonus, nothing expires: every figure is plain.
const CASH: &str = r#"{
  "rounding": "half_up", "spend_order": "principal_first",
  "tiers": [{"name": "standard", "discount": "1.00", "points_per_yuan": "1"}],
  "recharge_bonus": [],
  "bonus_expiry_days": null, "points_expiry_days": null
}"#;

const FUNDED: &[&str] = &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#];

/// The accounts an event posts to, by name, with signed cents.
fn posted(e: &Event) -> Vec<(String, i64)> {
    postings(e)
        .into_iter()
        .map(|p| (p.account.to_string(), p.cents))
        .collect()
}

#[test]
fn consume_with_a_method_pays_what_the_card_cannot_cover_outside_it() {
    let mut s = given(CASH, FUNDED);
    let events = s
        .when(r#"{"type":"consume","amount":"300.00","method":"wechat","id":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"300.00","principal":"100.00",
            "bonus":"0.00","external":{"amount":"200.00","method":"wechat"},"points_earned":100}]),
        );
    s.then_view(json!({"principal":"0.00","points":100}));
    let mut books = posted(&events[0]);
    books.sort();
    assert_eq!(
        books,
        vec![
            ("Assets:Receivable:wechat:S1".to_owned(), 20_000),
            ("Income:Services:S1".to_owned(), -30_000),
            ("Liabilities:Principal:M1".to_owned(), 10_000),
        ]
    );
}

#[test]
fn consume_with_a_method_the_card_covers_records_no_external_part() {
    let events = given(CASH, FUNDED)
        .when(r#"{"type":"consume","amount":"30.00","method":"cash"}"#)
        .then_events(json!([{"type":"consumed","charged":"30.00","principal":"30.00"}]));
    assert!(!canonical_json(3, &events[0]).contains("external"));
}

#[test]
fn consume_wholly_external_needs_no_card_money() {
    let mut s = given(CASH, &[ENROLL]);
    let events = s
        .when(r#"{"type":"consume","amount":"88.00","method":"cash","external":"all","service":"haircut"}"#)
        .then_events(json!([{"type":"consumed","charged":"88.00","principal":"0.00","bonus":"0.00",
            "draws":[],"external":{"amount":"88.00","method":"cash"},"points_earned":0}]));
    let mut books = posted(&events[0]);
    books.sort();
    assert_eq!(
        books,
        vec![
            ("Assets:Cash:S1".to_owned(), 8_800),
            ("Income:Services:S1".to_owned(), -8_800)
        ]
    );
}

#[test]
fn consume_with_a_fixed_external_amount_pays_the_rest_from_the_card() {
    given(CASH, FUNDED)
        .when(r#"{"type":"consume","amount":"80.00","method":"alipay","external":"30.00"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"80.00","principal":"50.00",
            "external":{"amount":"30.00","method":"alipay"}}]),
        );
}

#[test]
fn consume_whose_card_part_exceeds_the_balance_is_still_insufficient_balance() {
    given(CASH, FUNDED)
        .when(r#"{"type":"consume","amount":"300.00","method":"cash","external":"100.00"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn consume_with_an_external_part_above_the_charge_is_invalid_amount() {
    given(CASH, FUNDED)
        .when(r#"{"type":"consume","amount":"10.00","method":"cash","external":"10.01"}"#)
        .then_rejected("invalid_amount");
}

#[test]
fn an_external_part_needs_a_method_named_like_an_account() {
    for (line, code) in [
        (r#""external":"5.00""#, "invalid_command"),
        (r#""method":"WeChat Pay""#, "invalid_command"),
        (r#""method":"""#, "invalid_command"),
        (r#""method":"cash","external":"0.00""#, "invalid_amount"),
        (r#""method":"cash","external":"lots""#, "invalid_amount"),
    ] {
        let json = format!(
            r#"{{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1","type":"consume","amount":"10.00",{line}}}"#
        );
        let e = Command::from_json(&json).unwrap_err();
        assert_eq!(e.code(), code, "{line}: {e}");
    }
}

#[test]
fn a_card_only_consume_is_byte_identical_to_todays() {
    let mut s = given(CASH, FUNDED);
    let events = s
        .when(r#"{"type":"consume","amount":"30.00"}"#)
        .then_accepted();
    let json = canonical_json(3, &events[0]);
    assert!(
        !json.contains("external") && !json.contains("points_on") && !json.contains("occurred_at")
    );
}

#[test]
fn refund_of_a_mixed_consumption_returns_each_part_by_its_own_route() {
    let mut s = given(CASH, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00","method":"wechat","id":"c1"}"#)
        .then_accepted();
    // A third of the charge: round(90 × 200 / 300) = 60 back by wechat, 30 to the card.
    let events = s
        .when(r#"{"type":"refund_consumption","consumption":"c1","amount":"90.00"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","amount":"90.00","principal":"30.00",
            "bonus":"0.00","external":{"amount":"60.00","method":"wechat"},
            "points_reversed":[{"lot":2,"points":30}]}]),
        );
    let mut books = posted(&events[0]);
    books.sort();
    assert_eq!(
        books,
        vec![
            ("Assets:Receivable:wechat:S1".to_owned(), -6_000),
            ("Income:Services:S1".to_owned(), 9_000),
            ("Liabilities:Principal:M1".to_owned(), -3_000),
        ]
    );
    // The rest returns each part exactly: 140 by wechat, 70 to the card, every point.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"210.00","principal":"70.00",
            "external":{"amount":"140.00","method":"wechat"},"points_reversed":[{"lot":2,"points":70}]}]));
    s.then_view(json!({"principal":"100.00","points":0}));
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"1.00"}"#)
        .then_rejected("refund_exceeds_original");
}

#[test]
fn refund_of_a_wholly_external_visit_pays_it_all_back_by_its_method() {
    let mut s = given(CASH, &[ENROLL]);
    s.when(r#"{"type":"consume","amount":"50.00","method":"cash","external":"all","id":"c1"}"#)
        .then_accepted();
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","amount":"50.00","principal":"0.00",
            "bonus":"0.00","restored":[],"external":{"amount":"50.00","method":"cash"}}]),
        );
}

#[test]
fn points_earned_on_principal_and_external_earn_on_a_cash_visit() {
    let policy = with(CASH, json!({"points_earned_on":"principal_and_external"}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"150.00","method":"cash"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"100.00","points_earned":150,
            "points_on":"principal_and_external"}]),
        );
    // Card-only under the same policy: the base is the principal, nothing new is recorded.
    s.when(r#"{"type":"recharge","amount":"10.00"}"#)
        .then_accepted();
    let events = s
        .when(r#"{"type":"consume","amount":"10.00"}"#)
        .then_events(json!([{"type":"consumed","points_earned":10}]));
    assert!(!canonical_json(5, &events[0]).contains("points_on"));
}

#[test]
fn points_earned_on_all_earn_on_bonus_too_and_a_refund_reverses_them_in_proportion() {
    let policy = with(
        CASH,
        json!({"points_earned_on":"all","recharge_bonus":[{"min":"100.00","bonus":"100.00"}],
               "spend_order":"proportional"}),
    );
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00","method":"cash","id":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"100.00","bonus":"100.00",
            "external":{"amount":"100.00","method":"cash"},"points_earned":300,"points_on":"all"}]),
        );
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"150.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","points_reversed":[{"points":150}]}]));
}

#[test]
fn points_earned_on_is_principal_when_absent_and_refused_when_unknown() {
    assert!(Policy::from_json(CASH).unwrap().points_earned_on.is_none());
    let e = Policy::from_json(&with(CASH, json!({"points_earned_on":"cash"}))).unwrap_err();
    assert_eq!(e.code(), "invalid_policy");
}

#[test]
fn redeem_points_naming_a_service_books_its_value_as_a_loyalty_expense() {
    let mut s = given(CASH, FUNDED);
    s.when(r#"{"type":"consume","amount":"100.00"}"#)
        .then_accepted();
    let events = s
        .when(r#"{"type":"redeem_points","points":100,"service":"bubble facial","value":"88.00"}"#)
        .then_events(json!([{"type":"points_redeemed","points":100,
            "given":{"item":"bubble facial","kind":"service","value":"88.00"}}]));
    let mut books = posted(&events[0]);
    books.sort();
    assert_eq!(
        books,
        vec![
            ("Expenses:Loyalty:S1".to_owned(), 8_800),
            ("Income:Services:S1".to_owned(), -8_800)
        ]
    );
    // A gift likewise; without a named item nothing is booked, as before.
    s.when(r#"{"type":"recharge","amount":"50.00"}"#)
        .then_accepted();
    s.when(r#"{"type":"consume","amount":"50.00"}"#)
        .then_accepted();
    s.when(r#"{"type":"redeem_points","points":20,"gift":"towel","value":"15.00"}"#)
        .then_events(json!([{"type":"points_redeemed","given":{"kind":"gift","item":"towel"}}]));
    let plain = s
        .when(r#"{"type":"redeem_points","points":10}"#)
        .then_accepted();
    assert!(posted(&plain[0]).is_empty());
}

#[test]
fn redeem_points_names_what_it_gave_together_with_its_value() {
    let mut s = given(CASH, FUNDED);
    s.when(r#"{"type":"consume","amount":"100.00"}"#)
        .then_accepted();
    for line in [
        r#"{"type":"redeem_points","points":1,"service":"facial"}"#,
        r#"{"type":"redeem_points","points":1,"value":"5.00"}"#,
        r#"{"type":"redeem_points","points":1,"service":"facial","gift":"towel","value":"5.00"}"#,
    ] {
        let mut v: Value = serde_json::from_str(line).unwrap();
        v["id"] = "6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10".into();
        v["at"] = "2026-03-01T10:00:00Z".into();
        v["member"] = "M1".into();
        v["store"] = "S1".into();
        let e = Command::from_json(&v.to_string()).unwrap_err();
        assert_eq!(e.code(), "invalid_command", "{line}");
    }
}

#[test]
fn a_late_command_within_the_window_takes_effect_at_the_members_current_point() {
    let policy = with(CASH, json!({"late_window_hours": 72}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"recharge","amount":"50.00","at":"2026-03-05T12:00:00Z"}"#)
        .then_accepted();
    let before = s.member("M1").clone();
    // Sold at 2026-03-03 on a terminal that was offline until now.
    let then = s.when(r#"{"type":"consume","amount":"20.00","at":"2026-03-03T12:00:00Z"}"#);
    let events = then
        .result
        .expect("a late command within the window is accepted");
    let e = &events[0];
    assert_eq!(
        e.at, before.last_at,
        "it takes effect at the member's last event"
    );
    assert_eq!(e.occurred_at, Some("2026-03-03T12:00:00Z".parse().unwrap()));
    assert!(canonical_json(9, e).contains(r#""occurred_at":"2026-03-03T12:00:00Z""#));
    let mut after = before.clone();
    for e in &events {
        after.apply(e).unwrap();
    }
    assert_eq!(after.principal(), before.principal().minus(money("20.00")));
    assert_eq!(after.last_at, before.last_at);
}

#[test]
fn a_late_command_beyond_the_window_or_without_one_is_out_of_order() {
    for (policy, at) in [
        (
            with(CASH, json!({"late_window_hours": 72})),
            "2026-03-02T11:59:59Z",
        ),
        (CASH.to_owned(), "2026-03-05T11:59:59Z"),
    ] {
        let mut s = given(&policy, FUNDED);
        s.when(r#"{"type":"recharge","amount":"50.00","at":"2026-03-05T12:00:00Z"}"#)
            .then_accepted();
        s.when(&format!(
            r#"{{"type":"consume","amount":"20.00","at":"{at}"}}"#
        ))
        .then_rejected("out_of_order");
    }
}

#[test]
fn a_late_window_is_one_hour_to_ninety_days() {
    for hours in [0, 90 * 24 + 1] {
        let e = Policy::from_json(&with(CASH, json!({ "late_window_hours": hours }))).unwrap_err();
        assert_eq!(e.code(), "invalid_policy", "{hours}");
    }
    assert!(Policy::from_json(&with(CASH, json!({"late_window_hours": 2160}))).is_ok());
    // Absent, the policy's canonical bytes are as they were.
    let p = Policy::from_json(CASH).unwrap();
    assert!(!p.to_json().contains("late_window_hours"));
    assert!(!p.to_json().contains("points_earned_on"));
}

#[test]
fn an_event_of_a_late_command_is_refused_when_its_occurred_at_is_not_before_its_at() {
    let policy = with(CASH, json!({"late_window_hours": 72}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"recharge","amount":"50.00","at":"2026-03-05T12:00:00Z"}"#)
        .then_accepted();
    let events = s
        .when(r#"{"type":"consume","amount":"20.00","at":"2026-03-04T12:00:00Z"}"#)
        .result
        .unwrap();
    let mut e = events[0].clone();
    e.occurred_at = Some(e.at);
    let err = memberledger_core::decode_event(canonical_json(9, &e).as_bytes()).unwrap_err();
    assert!(err.contains("not before"), "{err}");
    assert!(matches!(e.body, EventBody::Consumed(_)));
}

#[test]
fn a_visit_paid_partly_outside_pays_from_the_card_only_what_holds_leave_available() {
    let mut s = given(CASH, FUNDED);
    s.and(&[r#"{"id":"h1","type":"authorize","amount":"70.00"}"#]);
    // 100.00 held 70.00: the card pays the 30.00 available, wechat the rest.
    s.when(r#"{"type":"consume","amount":"50.00","method":"wechat"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"50.00","principal":"30.00",
            "external":{"amount":"20.00","method":"wechat"}}]),
        );
    s.then_view(json!({"principal":"70.00","held":"70.00","available":"0.00"}));
    // A fixed external part that leaves the card more than is available is refused.
    s.when(r#"{"type":"consume","amount":"50.00","method":"cash","external":"10.00"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn a_late_authorize_that_would_lapse_before_it_takes_effect_is_refused() {
    let policy = with(CASH, json!({"late_window_hours": 72}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"recharge","amount":"50.00","at":"2026-03-05T12:00:00Z"}"#)
        .then_accepted();
    // Authorized offline on 2026-03-04 for an hour; it reaches the ledger after 2026-03-05.
    s.when(r#"{"type":"authorize","amount":"20.00","at":"2026-03-04T12:00:00Z","expires_at":"2026-03-04T13:00:00Z"}"#)
        .then_rejected("invalid_command");
    // One that is still open at the member's current point holds from there.
    let events = s
        .when(r#"{"type":"authorize","amount":"20.00","at":"2026-03-04T12:00:00Z","expires_at":"2026-03-06T12:00:00Z"}"#)
        .result
        .expect("an authorize still open at the member's point is accepted");
    assert_eq!(events[0].at, "2026-03-05T12:00:00Z".parse().unwrap());
    s.record(&events);
    s.then_view(json!({"held":"20.00","available":"130.00"}));
}
