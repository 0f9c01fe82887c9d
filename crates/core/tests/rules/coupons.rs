//! Coupons and free sessions (docs/RULES.md, coupons): issued without booking, redeemed by a
//! visit on the charge at the tier's discount and never beyond it, one a visit; refused when
//! unknown, expired, used or not applicable; given back by a refund in full; free sessions as
//! packages of price zero.

use super::*;

const ISSUE_20_OFF: &str = r#"{"id":"c1","type":"issue_coupon","amount":"20.00","reason":"新人礼券","expires_at":"2026-02-01T00:00:00Z"}"#;

#[test]
fn issuing_a_coupon_books_nothing_and_shows_it_open() {
    let mut s = given(PLAIN, &[ENROLL]);
    s.when(ISSUE_20_OFF).then_events(json!([{
        "type":"coupon_issued","coupon":uuid("c1").to_string(),"kind":"amount","amount":"20.00",
        "cap":null,"percent":null,"threshold":null,"reason":"新人礼券",
        "expires_at":"2026-02-01T00:00:00Z"}]));
    s.then_view(
        json!({"principal":"0.00","coupons":[{"coupon":uuid("c1").to_string(),"used_by":null}]}),
    );
}

#[test]
fn a_fixed_coupon_takes_its_amount_off_the_tier_discounted_charge() {
    let mut s = given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"gold"}"#,
            r#"{"type":"recharge","amount":"500.00"}"#,
            ISSUE_20_OFF,
        ],
    );
    // 100.00 at gold's 0.90 is 90.00; the coupon takes 20.00 off; the card pays 70.00.
    s.when(r#"{"id":"v1","type":"consume","amount":"100.00","coupon":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","price":"100.00","charged":"70.00","principal":"70.00",
            "coupon":{"coupon":uuid("c1").to_string(),"discount":"20.00"}}]),
        );
    s.then_view(json!({"principal":"430.00"}));
    assert!(s.member("M1").unused_coupons().is_empty());
}

#[test]
fn a_coupon_worth_more_than_the_charge_discounts_the_whole_charge_only() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"id":"c1","type":"issue_coupon","amount":"50.00","reason":"体验券","expires_at":"2026-02-01T00:00:00Z"}"#,
        ],
    );
    s.when(r#"{"id":"v1","type":"consume","amount":"30.00","coupon":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"0.00","principal":"0.00","bonus":"0.00",
            "draws":[],"points_earned":0,"coupon":{"discount":"30.00"}}]),
        );
}

#[test]
fn a_percent_coupon_is_capped() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"issue_coupon","percent":"20","cap":"30.00","reason":"8折","expires_at":"2026-02-01T00:00:00Z"}"#,
            r#"{"id":"p2","type":"issue_coupon","percent":"20","cap":"30.00","reason":"8折","expires_at":"2026-02-01T00:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"100.00","coupon":"p1"}"#)
        .then_events(json!([{"type":"consumed","charged":"80.00","coupon":{"discount":"20.00"}}]));
    // 20 % of 300.00 is 60.00, above the cap.
    s.when(r#"{"type":"consume","amount":"300.00","coupon":"p2"}"#)
        .then_events(json!([{"type":"consumed","charged":"270.00","coupon":{"discount":"30.00"}}]));
}

#[test]
fn a_threshold_coupon_applies_only_when_the_charge_reaches_it() {
    let mut s = given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"gold"}"#,
            r#"{"type":"recharge","amount":"500.00"}"#,
            r#"{"id":"t1","type":"issue_coupon","threshold":"100.00","amount":"20.00","reason":"满100减20","expires_at":"2026-02-01T00:00:00Z"}"#,
        ],
    );
    // 110.00 at 0.90 is 99.00: below the threshold.
    s.when(r#"{"type":"consume","amount":"110.00","coupon":"t1"}"#)
        .then_rejected("coupon_not_applicable");
    s.when(r#"{"type":"consume","amount":"112.00","coupon":"t1"}"#)
        .then_events(json!([{"type":"consumed","charged":"80.80","coupon":{"discount":"20.00"}}]));
}

#[test]
fn a_coupon_is_refused_when_unknown_expired_used_or_another_members() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"500.00"}"#,
            r#"{"member":"M2","type":"enroll"}"#,
            r#"{"id":"other","member":"M2","type":"issue_coupon","amount":"5.00","reason":"x","expires_at":"2026-02-01T00:00:00Z"}"#,
            ISSUE_20_OFF,
            r#"{"id":"short","type":"issue_coupon","amount":"5.00","reason":"x","expires_at":"2026-01-01T09:30:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"50.00","coupon":"nope"}"#)
        .then_rejected("unknown_coupon");
    s.when(r#"{"type":"consume","amount":"50.00","coupon":"other"}"#)
        .then_rejected("unknown_coupon");
    s.when(r#"{"type":"consume","amount":"50.00","coupon":"short","at":"2026-01-01T10:00:00Z"}"#)
        .then_rejected("coupon_expired");
    s.when(r#"{"type":"consume","amount":"50.00","coupon":"c1"}"#)
        .then_accepted();
    s.when(r#"{"type":"consume","amount":"50.00","coupon":"c1"}"#)
        .then_rejected("coupon_used");
}

#[test]
fn a_refund_in_full_gives_the_coupon_back_and_a_partial_one_keeps_it_used() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"500.00"}"#,
            ISSUE_20_OFF,
        ],
    );
    s.and(&[r#"{"id":"v1","type":"consume","amount":"100.00","coupon":"c1"}"#]);
    s.when(r#"{"type":"refund_consumption","consumption":"v1","amount":"30.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"30.00","principal":"30.00"}]));
    assert!(
        s.member("M1").unused_coupons().is_empty(),
        "a partial refund keeps it used"
    );
    // The refund that completes the visit returns the coupon and reverses its discount.
    s.when(r#"{"type":"refund_consumption","consumption":"v1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"50.00",
            "coupon":{"coupon":uuid("c1").to_string(),"discount":"20.00","restored":true}}]));
    s.then_view(json!({"principal":"500.00","coupons":[{"coupon":uuid("c1").to_string()}]}));
    s.when(r#"{"type":"consume","amount":"100.00","coupon":"c1"}"#)
        .then_events(json!([{"type":"consumed","charged":"80.00"}]));
}

#[test]
fn a_visit_the_coupon_paid_whole_is_refunded_by_giving_the_coupon_back() {
    let mut s = given(PLAIN, &[ENROLL, ISSUE_20_OFF]);
    s.and(&[r#"{"id":"v1","type":"consume","amount":"15.00","coupon":"c1"}"#]);
    s.when(r#"{"type":"refund_consumption","consumption":"v1"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","amount":"0.00","restored":[],
            "coupon":{"discount":"15.00","restored":true}}]),
        );
    s.when(r#"{"type":"refund_consumption","consumption":"v1"}"#)
        .then_rejected("refund_exceeds_original");
}

#[test]
fn an_expired_coupon_is_not_given_back_by_a_refund() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"500.00"}"#,
            r#"{"id":"c1","type":"issue_coupon","amount":"20.00","reason":"x","expires_at":"2026-01-02T00:00:00Z"}"#,
            r#"{"id":"v1","type":"consume","amount":"100.00","coupon":"c1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_consumption","consumption":"v1","at":"2026-01-03T00:00:00Z"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"80.00",
            "coupon":{"discount":"20.00","restored":false}}]));
    assert!(s.member("M1").unused_coupons().is_empty());
}

#[test]
fn a_coupon_command_is_checked_when_parsed() {
    let mut s = given(PLAIN, &[ENROLL]);
    let bad = [
        r#"{"type":"issue_coupon","percent":"20","reason":"x","expires_at":"2026-02-01T00:00:00Z"}"#,
        r#"{"type":"issue_coupon","amount":"5.00","percent":"20","cap":"5.00","reason":"x","expires_at":"2026-02-01T00:00:00Z"}"#,
        r#"{"type":"issue_coupon","percent":"100","cap":"5.00","reason":"x","expires_at":"2026-02-01T00:00:00Z"}"#,
        r#"{"type":"issue_coupon","amount":"5.00","reason":"x"}"#,
        r#"{"type":"issue_coupon","amount":"5.00","reason":"x","expires_at":"2025-02-01T00:00:00Z"}"#,
        r#"{"type":"grant_package","service":"护理","sessions":0,"reason":"x"}"#,
    ];
    for line in bad {
        let v: Value = serde_json::from_str(line).expect("json");
        let mut o = v.as_object().expect("object").clone();
        o.insert("id".into(), uuid("bad").to_string().into());
        o.insert("member".into(), "M1".into());
        o.insert("store".into(), "S1".into());
        o.insert("at".into(), "2026-01-01T10:00:00Z".into());
        let e = Command::from_json(&Value::Object(o).to_string()).expect_err(line);
        assert!(
            ["invalid_command", "invalid_amount"].contains(&e.code()),
            "{line}: {e}"
        );
    }
    s.when(ISSUE_20_OFF).then_accepted();
}

#[test]
fn a_free_session_is_a_package_of_price_zero_redeemed_without_revenue() {
    let mut s = given(PLAIN, &[ENROLL]);
    s.when(r#"{"id":"g1","type":"grant_package","service":"小气泡护理","sessions":2,"reason":"消费满3次赠送"}"#)
        .then_events(json!([{"type":"package_granted","package":uuid("g1").to_string(),
            "service":"小气泡护理","sessions":2,"expires_at":null,"reason":"消费满3次赠送"}]));
    s.then_view(json!({"package_value":"0.00","packages":[{"price":"0.00","sessions_left":2,"status":"open"}]}));
    s.when(r#"{"type":"redeem_session","package":"g1"}"#)
        .then_events(
            json!([{"type":"session_redeemed","amount":"0.00","session":1,"sessions_left":1}]),
        );
    s.when(r#"{"id":"s1","type":"issue_coupon","service":"体验护理","reason":"体验券","expires_at":"2026-02-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"package_granted","package":uuid("s1").to_string(),
            "sessions":1,"expires_at":"2026-02-01T00:00:00Z"}]));
    s.when(r#"{"type":"redeem_session","package":"s1"}"#)
        .then_events(json!([{"type":"session_redeemed","amount":"0.00","sessions_left":0}]));
}

#[test]
fn coupons_book_promotion_expense_and_full_revenue() {
    use memberledger_core::{check_balanced, postings};
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"500.00"}"#,
            ISSUE_20_OFF,
        ],
    );
    s.when(ISSUE_20_OFF).then_rejected("idempotency_conflict");
    let visit = s
        .when(r#"{"id":"v1","type":"consume","amount":"100.00","coupon":"c1"}"#)
        .then_accepted();
    let p = postings(&visit[0]);
    check_balanced(&p).expect("balanced");
    let line = |name: &str| {
        p.iter()
            .find(|x| x.account.to_string() == name)
            .map(|x| x.cents)
    };
    assert_eq!(line("Expenses:Promotion:S1"), Some(2000));
    assert_eq!(line("Income:Services:S1"), Some(-10000));
    let back = s
        .when(r#"{"type":"refund_consumption","consumption":"v1"}"#)
        .then_accepted();
    let p = postings(&back[0]);
    check_balanced(&p).expect("balanced");
    assert_eq!(
        p.iter().map(|x| x.cents).filter(|c| *c > 0).sum::<i64>(),
        10000
    );
}
