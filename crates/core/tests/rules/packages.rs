//! Packages (次卡/疗程卡): purchase, redeem, refund, expiry (docs/RULES.md, packages).

use super::*;

const BUY_CASH: &str = r#"{"id":"p1","type":"purchase_package","service":"massage","sessions":3,"amount":"100.00","paid_from":"cash"}"#;

#[test]
fn a_package_bought_in_cash_holds_its_price_and_leaves_the_balance_alone() {
    let mut s = given(SPEND, &[ENROLL]);
    s.when(BUY_CASH).then_events(json!([{
        "type": "package_purchased", "cash": "100.00", "principal": "0.00", "bonus": "0.00",
        "draws": [], "price": "100.00", "sessions": 3, "session_price": "33.33",
        "service": "massage", "package": uuid("p1").to_string(), "expires_at": null
    }]));
    s.then_view(json!({"principal": "0.00", "bonus": "0.00", "package_value": "100.00",
        "packages": [{"sessions_left": 3, "status": "open", "origin_store": "S1", "paid_from": "cash"}]}));
}

#[test]
fn a_package_bought_from_the_balance_splits_by_the_spend_order() {
    // 1000.00 principal and 150.00 bonus; 345.00 proportional: bonus = round(345 × 150 / 1150)
    // = 45.00, principal 300.00 — no tier discount, no points.
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    s.when(r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":5,"amount":"345.00","paid_from":"balance"}"#)
        .then_events(json!([{
            "type": "package_purchased", "cash": "0.00", "principal": "300.00", "bonus": "45.00",
            "price": "345.00", "session_price": "69.00",
            "draws": [
                {"kind": "principal", "lot": 1, "amount": "300.00", "origin_store": "S1"},
                {"kind": "bonus", "lot": 2, "amount": "45.00", "origin_store": "S1"}
            ]
        }]));
    s.then_view(
        json!({"principal": "700.00", "bonus": "105.00", "points": 0, "package_value": "345.00"}),
    );
}

#[test]
fn a_package_dearer_than_the_balance_is_insufficient_balance() {
    let mut s = given(SPEND, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.when(r#"{"type":"purchase_package","service":"facial","sessions":2,"amount":"100.01","paid_from":"balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn sessions_recognise_price_over_n_and_the_last_takes_the_remainder() {
    let mut s = given(SPEND, &[ENROLL, BUY_CASH]);
    for (n, amount, left) in [(1, "33.33", 2), (2, "33.33", 1), (3, "33.34", 0)] {
        s.when(r#"{"type":"redeem_session","package":"p1"}"#)
            .then_events(json!([{
                "type": "session_redeemed", "session": n, "sessions_left": left, "amount": amount,
                "principal": amount, "bonus": "0.00", "origin_store": "S1"
            }]));
    }
    s.then_view(
        json!({"package_value": "0.00", "packages": [{"status": "used", "sessions_left": 0}]}),
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_exhausted");
}

#[test]
fn a_session_redeemed_at_another_store_names_the_selling_store() {
    let mut s = given(SPEND, &[ENROLL, BUY_CASH]);
    let events = s
        .when(r#"{"type":"redeem_session","package":"p1","store":"S2","staff":"E4"}"#)
        .then_events(json!([{"type": "session_redeemed", "origin_store": "S1", "staff": "E4"}]));
    assert_eq!(events[0].store.as_str(), "S2");
}

#[test]
fn the_bonus_share_of_each_session_follows_how_the_package_was_paid() {
    // 1000 + 150 bonus; a 115.00 package from the balance: bonus 15.00, principal 100.00.
    // Each of 2 sessions: 57.50; bonus share round(57.50 × 15 / 115) = 7.50; the last takes
    // what is left (7.50).
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
        ],
    );
    for _ in 0..2 {
        s.when(r#"{"type":"redeem_session","package":"p1"}"#)
            .then_events(json!([{
                "amount": "57.50", "bonus": "7.50", "principal": "50.00"
            }]));
    }
}

#[test]
fn refunding_a_cash_package_pays_the_unredeemed_value_in_cash() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            BUY_CASH,
            r#"{"type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1","reason":"moving away"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "cash", "sessions": 2, "amount": "66.67",
            "principal": "66.67", "bonus": "0.00", "lot": null, "bonus_lot": null
        }]));
    s.then_view(
        json!({"principal": "0.00", "package_value": "0.00", "packages": [{"status": "refunded"}]}),
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_exhausted");
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_rejected("package_exhausted");
}

#[test]
fn refunding_a_balance_package_gives_both_shares_back_as_new_lots() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
            r#"{"type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "amount": "57.50", "principal": "50.00",
            "bonus": "7.50", "lot": 3, "bonus_lot": 4, "bonus_unspent": "7.50"
        }]));
    // 900.00 + 50.00 principal; 135.00 + 7.50 bonus.
    s.then_view(json!({"principal": "950.00", "bonus": "142.50", "package_value": "0.00"}));
}

#[test]
fn a_policy_of_refunds_to_cash_forfeits_the_bonus_share() {
    let policy = with(SPEND, json!({"packages": {"refund_to": "cash"}}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "cash", "amount": "115.00", "principal": "100.00",
            "bonus": "15.00", "lot": null, "bonus_lot": null
        }]));
    s.then_view(json!({"principal": "900.00", "bonus": "135.00"}));
}

#[test]
fn a_package_past_its_expiry_expires_first_and_cannot_be_redeemed() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"id":"p1","at":"2026-02-01T09:00:00Z","type":"purchase_package","service":"massage","sessions":4,"amount":"200.00","paid_from":"cash","expires_at":"2026-03-01T00:00:00Z"}"#,
            r#"{"at":"2026-02-02T09:00:00Z","type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"at":"2026-03-01T00:00:00Z","type":"redeem_session","package":"p1"}"#)
        .then_rejected("package_expired");
    s.when(r#"{"at":"2026-03-02T00:00:00Z","type":"recharge","amount":"10.00"}"#)
        .then_events(json!([
            {"type": "package_expired", "sessions": 3, "amount": "150.00", "principal": "150.00",
             "bonus": "0.00", "expires_at": "2026-03-01T00:00:00Z", "origin_store": "S1"},
            {"type": "recharged", "amount": "10.00"}
        ]));
    s.then_view(json!({"package_value": "0.00", "packages": [{"status": "expired"}]}));
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_rejected("package_expired");
}

#[test]
fn package_commands_refuse_what_does_not_exist_or_does_not_fit() {
    let mut s = given(SPEND, &[ENROLL]);
    s.when(r#"{"type":"redeem_session","package":"nope"}"#)
        .then_rejected("unknown_package");
    s.when(r#"{"type":"refund_package","package":"nope"}"#)
        .then_rejected("unknown_package");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":3,"amount":"0.03","paid_from":"cash","expires_at":"2025-01-01T00:00:00Z"}"#)
        .then_rejected("invalid_command");
}

#[test]
fn package_commands_are_validated_on_the_wire() {
    for (line, code) in [
        (
            r#"{"type":"purchase_package","service":"x","sessions":0,"amount":"1.00","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":1001,"amount":"100.00","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":3,"amount":"0.02","paid_from":"cash"}"#,
            "invalid_amount",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":2,"amount":"1.00"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"purchase_package","service":"x","sessions":2,"amount":"1.00","paid_from":"card"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"purchase_package","sessions":2,"amount":"1.00","paid_from":"cash"}"#,
            "invalid_command",
        ),
        (
            r#"{"type":"redeem_session","package":"not-a-uuid"}"#,
            "invalid_command",
        ),
        (r#"{"type":"redeem_session"}"#, "invalid_command"),
    ] {
        let mut v: Value = serde_json::from_str(line).unwrap();
        let o = v.as_object_mut().unwrap();
        o.insert("id".into(), uuid("x").to_string().into());
        o.insert("at".into(), "2026-03-01T10:00:00Z".into());
        o.insert("member".into(), "M1".into());
        o.insert("store".into(), "S1".into());
        let e = Command::from_json(&v.to_string()).unwrap_err();
        assert_eq!(e.code(), code, "{line}: {e}");
    }
}

#[test]
fn a_frozen_card_cannot_use_packages_but_may_buy_one_in_cash() {
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            BUY_CASH,
            r#"{"type":"freeze"}"#,
        ],
    );
    s.when(r#"{"type":"redeem_session","package":"p1"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":1,"amount":"10.00","paid_from":"balance"}"#)
        .then_rejected("member_frozen");
    s.when(r#"{"type":"purchase_package","service":"x","sessions":1,"amount":"10.00","paid_from":"cash"}"#)
        .then_accepted();
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_accepted();
}

#[test]
fn a_package_refund_to_the_balance_never_renews_bonus() {
    // 1000.00 recharged with 150.00 bonus expiring in 365 days (2027-01-01T09:02); a 115.00
    // package from the balance takes 15.00 of it. Refunded within the year, the bonus share
    // comes back with that same expiry; refunded after it, it is forfeited.
    let policy = with(SPEND, json!({"bonus_expiry_days": 365}));
    let buy = [
        ENROLL,
        r#"{"type":"recharge","amount":"1000.00"}"#,
        r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
    ];
    let mut s = given(&policy, &buy);
    s.when(r#"{"at":"2026-06-01T00:00:00Z","type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "bonus": "15.00", "bonus_lot": 4,
            "expires_at": "2027-01-01T09:02:00Z"
        }]));
    let mut s = given(&policy, &buy);
    s.when(r#"{"at":"2027-02-01T00:00:00Z","type":"refund_package","package":"p1"}"#)
        .then_events(json!([
            {"type": "bonus_expired", "amount": "135.00"},
            {"type": "package_refunded", "to": "balance", "principal": "100.00", "bonus": "15.00",
             "lot": 3, "bonus_lot": null, "expires_at": "2027-01-01T09:02:00Z"}
        ]));
    s.then_view(json!({"principal": "1000.00", "bonus": "0.00"}));
}

#[test]
fn a_package_bought_before_a_balance_refund_gives_no_bonus_back_to_the_next_period() {
    // The balance refund settled the package's 15.00 bonus (claw-back); a consumption after it
    // draws bonus of the new period. Refunding the package must not take its old bonus off the
    // new period's `bonus_spent`, or refunding that consumption would take it below zero.
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"115.00","paid_from":"balance"}"#,
            r#"{"type":"refund_balance"}"#,
            r#"{"type":"recharge","amount":"1000.00"}"#,
            r#"{"id":"c1","type":"consume","amount":"115.00"}"#,
        ],
    );
    let spent = s.member("M1").bonus_spent;
    assert!(spent.is_positive(), "the consumption drew bonus: {spent:?}");
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "to": "balance", "bonus": "15.00", "bonus_unspent": "0.00"
        }]));
    assert_eq!(s.member("M1").bonus_spent, spent);
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type": "consumption_refunded", "amount": "115.00"}]));
    assert_eq!(s.member("M1").bonus_spent, Money::ZERO);
}

// ---------------------------------------------------------------------------------------------
// Packages paid outside the card (issue 14, item 1 for packages)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_package_paid_partly_outside_the_card_takes_the_rest_by_its_method() {
    // 100.00 on the card (no bonus), a package of 300.00: the card pays 100.00, wechat 200.00.
    let mut s = given(SPEND, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#]);
    s.when(r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":3,"amount":"300.00","paid_from":"balance","method":"wechat"}"#)
        .then_events(json!([{
            "type": "package_purchased", "cash": "0.00", "price": "300.00",
            "principal": "100.00", "external": {"amount": "200.00", "method": "wechat"}
        }]));
    s.then_view(json!({"principal": "0.00", "bonus": "0.00", "package_value": "300.00"}));
}

#[test]
fn a_package_paid_wholly_outside_the_card_draws_nothing_from_it() {
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    s.when(r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":2,"amount":"200.00","paid_from":"balance","method":"alipay","external":"all"}"#)
        .then_events(json!([{
            "type": "package_purchased", "cash": "0.00", "principal": "0.00", "bonus": "0.00",
            "draws": [], "external": {"amount": "200.00", "method": "alipay"}
        }]));
    s.then_view(json!({"principal": "1000.00", "bonus": "150.00", "package_value": "200.00"}));
}

#[test]
fn a_package_paid_in_cash_with_a_method_is_an_invalid_command() {
    // Refused when the command is read, before any member is looked at.
    let line = r#"{"id":"00000000-0000-4000-8000-000000000001","member":"M1","store":"S1","at":"2026-01-01T10:00:00Z","type":"purchase_package","service":"facial","sessions":2,"amount":"200.00","paid_from":"cash","method":"wechat"}"#;
    let e = Command::from_json(line).unwrap_err();
    assert_eq!(e.code(), "invalid_command");
    assert!(
        e.to_string().contains("paid in cash takes no `method`"),
        "{e}"
    );
}

#[test]
fn a_package_external_part_above_its_price_is_an_invalid_amount() {
    given(SPEND, &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#])
        .when(r#"{"type":"purchase_package","service":"facial","sessions":2,"amount":"200.00","paid_from":"balance","method":"cash","external":"200.01"}"#)
        .then_rejected("invalid_amount");
}

#[test]
fn a_package_whose_card_part_exceeds_the_balance_is_insufficient() {
    given(SPEND, &[ENROLL, r#"{"type":"recharge","amount":"100.00"}"#])
        .when(r#"{"type":"purchase_package","service":"facial","sessions":2,"amount":"300.00","paid_from":"balance","method":"cash","external":"150.00"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn a_refunded_mixed_package_returns_each_part_by_its_own_route() {
    // Card 1150.00 (1000.00 principal, 150.00 bonus); a 1500.00 package: wechat 350.00, the
    // card 1150.00. Unredeemed, the refund gives 350.00 back by wechat and the card's
    // principal and bonus back to the balance.
    let mut s = given(
        SPEND,
        &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#],
    );
    s.when(r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":3,"amount":"1500.00","paid_from":"balance","method":"wechat"}"#)
        .then_events(json!([{"type": "package_purchased", "principal": "1000.00", "bonus": "150.00",
            "external": {"amount": "350.00", "method": "wechat"}}]));
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "amount": "1500.00", "principal": "1000.00",
            "bonus": "150.00", "external": {"amount": "350.00", "method": "wechat"}, "to": "balance"
        }]));
    s.then_view(json!({"principal": "1000.00", "bonus": "150.00", "package_value": "0.00"}));
}

#[test]
fn a_mixed_package_refunded_after_a_session_returns_the_external_share_in_proportion() {
    // 300.00 paid 100.00 by card principal, 200.00 by cash; one session of 100.00 redeemed
    // leaves 200.00 of cash-or-principal: round(200 × 200 / 300) = 133.33 back in cash,
    // 66.67 back to the balance.
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00"}"#,
            r#"{"id":"p1","type":"purchase_package","service":"facial","sessions":3,"amount":"300.00","paid_from":"balance","method":"cash","external":"200.00"}"#,
            r#"{"type":"redeem_session","package":"p1"}"#,
        ],
    );
    s.when(r#"{"type":"refund_package","package":"p1"}"#)
        .then_events(json!([{
            "type": "package_refunded", "amount": "200.00", "principal": "66.67",
            "external": {"amount": "133.33", "method": "cash"}
        }]));
}
