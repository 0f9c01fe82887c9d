//! Consume: spend orders, tier discounts and rounding, points, lot draws (docs/RULES.md, spending).

use super::*;

const FUNDED: &[&str] = &[ENROLL, r#"{"type":"recharge","amount":"1000.00"}"#];

#[test]
fn consume_proportional_splits_by_the_balances_held() {
    // P = 1000, B = 150: bonus = round(300 × 150 / 1150) = round(39.1304…) = 39.13.
    let mut s = given(SPEND, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00","store":"S2","staff":"E9","service":"facial"}"#)
        .then_events(json!([{"type":"consumed","service":"facial","staff":"E9","tier":"standard",
            "price":"300.00","discount":"1.00","charged":"300.00","principal":"260.87","bonus":"39.13",
            "draws":[
                {"lot":1,"kind":"principal","amount":"260.87","origin_store":"S1","expires_at":null},
                {"lot":2,"kind":"bonus","amount":"39.13","origin_store":"S1","expires_at":null}],
            "points_earned":260,"points_lot":3,"points_expires_at":null}]));
    s.then_view(json!({"principal":"739.13","bonus":"110.87","points":260}));
}

#[test]
fn consume_principal_first_spends_principal_until_it_runs_out() {
    let policy = with(SPEND, json!({"spend_order":"principal_first"}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"300.00"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"300.00","bonus":"0.00",
            "draws":[{"lot":1,"kind":"principal","amount":"300.00"}]}]),
        );
    // 700 principal left; 800 takes all of it and 100 of the bonus.
    s.when(r#"{"type":"consume","amount":"800.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"700.00","bonus":"100.00",
            "draws":[{"lot":1,"kind":"principal","amount":"700.00"},{"lot":2,"kind":"bonus","amount":"100.00"}],
            "points_earned":700}]));
    s.then_view(json!({"principal":"0.00","bonus":"50.00","points":1000}));
}

#[test]
fn consume_bonus_first_spends_bonus_until_it_runs_out() {
    let policy = with(SPEND, json!({"spend_order":"bonus_first"}));
    let mut s = given(&policy, FUNDED);
    s.when(r#"{"type":"consume","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"0.00","bonus":"100.00",
            "draws":[{"lot":2,"kind":"bonus","amount":"100.00"}],
            "points_earned":0,"points_lot":null,"points_expires_at":null}]),
        );
    s.when(r#"{"type":"consume","amount":"300.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"250.00","bonus":"50.00",
            "draws":[{"lot":1,"kind":"principal","amount":"250.00"},{"lot":2,"kind":"bonus","amount":"50.00"}],
            "points_earned":250,"points_lot":3}]));
}

#[test]
fn proportional_split_is_clamped_to_what_each_balance_can_pay() {
    let p = Policy::from_json(SPEND).expect("policy");
    let m = money;
    // The worked example.
    assert_eq!(
        split_bonus(m("300.00"), m("1000.00"), m("150.00"), &p),
        m("39.13")
    );
    // Spending everything takes all of both.
    assert_eq!(
        split_bonus(m("1150.00"), m("1000.00"), m("150.00"), &p),
        m("150.00")
    );
    // One side empty.
    assert_eq!(
        split_bonus(m("10.00"), m("0.00"), m("50.00"), &p),
        m("10.00")
    );
    assert_eq!(
        split_bonus(m("10.00"), m("50.00"), m("0.00"), &p),
        m("0.00")
    );
    // A half cent: 0.01 × 1 / 2 = 0.005 → 0.01 half up, 0.00 half even; both within [0, 0.01].
    assert_eq!(split_bonus(m("0.01"), m("0.01"), m("0.01"), &p), m("0.01"));
    let even = Policy::from_json(&with(SPEND, json!({"rounding":"half_even"}))).expect("policy");
    assert_eq!(
        split_bonus(m("0.01"), m("0.01"), m("0.01"), &even),
        m("0.00")
    );
    // At the edges of the clamp [max(0, charged − P), min(B, charged)] = [1.00, 1.01]:
    // 2.00 from P = 1.00, B = 1.01 → 2 × 1.01 / 2.01 = 1.00497… → 1.01 with `up` (all the
    // bonus), 1.00 with `down` (all the principal).
    let up = Policy::from_json(&with(SPEND, json!({"rounding":"up"}))).expect("policy");
    let down = Policy::from_json(&with(SPEND, json!({"rounding":"down"}))).expect("policy");
    assert_eq!(split_bonus(m("2.00"), m("1.00"), m("1.01"), &up), m("1.01"));
    assert_eq!(
        split_bonus(m("2.00"), m("1.00"), m("1.01"), &down),
        m("1.00")
    );
    // Principal-first and bonus-first are the two ends of the clamp.
    let pf = Policy::from_json(&with(SPEND, json!({"spend_order":"principal_first"}))).expect("p");
    let bf = Policy::from_json(&with(SPEND, json!({"spend_order":"bonus_first"}))).expect("p");
    assert_eq!(
        split_bonus(m("1100.00"), m("1000.00"), m("150.00"), &pf),
        m("100.00")
    );
    assert_eq!(
        split_bonus(m("1100.00"), m("1000.00"), m("150.00"), &bf),
        m("150.00")
    );
}

// ---------------------------------------------------------------------------------------------
// consume: tier discounts and rounding, points, rejections
// ---------------------------------------------------------------------------------------------

#[test]
fn consume_charges_the_tier_discount_rounded_half_up() {
    // Silver 0.95: 10.10 → 9.595 → 9.60; 10.30 → 9.785 → 9.79.
    let policy = with(SPEND, json!({"spend_order":"principal_first"}));
    let mut s = given(
        &policy,
        &[
            r#"{"type":"enroll","tier":"silver"}"#,
            r#"{"type":"recharge","amount":"100.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.10"}"#)
        .then_events(json!([{"type":"consumed","tier":"silver","price":"10.10","discount":"0.95","charged":"9.60","principal":"9.60"}]));
    s.when(r#"{"type":"consume","amount":"10.30"}"#)
        .then_events(json!([{"type":"consumed","price":"10.30","charged":"9.79"}]));
    s.then_view(json!({"principal":"80.61"}));
}

#[test]
fn consume_charges_the_tier_discount_rounded_half_even() {
    // 9.595 → 9.60 (0 is even, so half even agrees with half up here); 9.785 → 9.78.
    let policy = with(
        SPEND,
        json!({"spend_order":"principal_first","rounding":"half_even"}),
    );
    let mut s = given(
        &policy,
        &[
            r#"{"type":"enroll","tier":"silver"}"#,
            r#"{"type":"recharge","amount":"100.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"10.10"}"#)
        .then_events(json!([{"type":"consumed","charged":"9.60"}]));
    s.when(r#"{"type":"consume","amount":"10.30"}"#)
        .then_events(json!([{"type":"consumed","charged":"9.78"}]));
}

#[test]
fn consume_earns_floor_of_principal_times_points_per_yuan_of_the_tier_held() {
    // Gold: 300 × 0.90 = 270.00; bonus = round(270 × 150 / 1150) = round(35.217…) = 35.22;
    // principal 234.78; points = floor(234.78 × 1.5) = floor(352.17) = 352.
    given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"gold"}"#,
            r#"{"type":"recharge","amount":"1000.00"}"#,
        ],
    )
    .when(r#"{"type":"consume","amount":"300.00"}"#)
    .then_events(
        json!([{"type":"consumed","tier":"gold","discount":"0.90","charged":"270.00",
            "principal":"234.78","bonus":"35.22","points_earned":352,"points_lot":3}]),
    );
}

#[test]
fn consume_rejects_when_balance_short() {
    // P 1000 + B 150 = 1150 covers 1150.00 but not 1150.01.
    let mut s = given(SPEND, FUNDED);
    let before = s.member("M1").clone();
    s.when(r#"{"type":"consume","amount":"1150.01"}"#)
        .then_rejected("insufficient_balance");
    assert_eq!(s.member("M1"), &before, "a rejection records nothing");
    s.when(r#"{"type":"consume","amount":"1150.00"}"#)
        .then_events(
            json!([{"type":"consumed","charged":"1150.00","principal":"1000.00","bonus":"150.00"}]),
        );
    s.then_view(json!({"principal":"0.00","bonus":"0.00","lots":[],"points":1000}));
    s.when(r#"{"type":"consume","amount":"0.01"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn insufficient_balance_records_nothing_not_even_the_expiry_before_it() {
    // The bonus lot expires at the consume's time; the consume is then short and rejected, so
    // the BonusExpired that would have preceded it is not recorded either.
    let mut s = given(
        EXPIRY,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"1100.00","at":"2026-03-31T10:00:00Z"}"#)
        .then_rejected("insufficient_balance");
    s.then_view(json!({"principal":"1000.00","bonus":"150.00","version":3}));
    // Just before the expiry the same consume is covered.
    s.when(r#"{"type":"consume","amount":"1100.00","at":"2026-03-31T09:59:59Z"}"#)
        .then_events(json!([{"type":"consumed","charged":"1100.00"}]));
}

#[test]
fn consume_whose_discounted_price_rounds_to_zero_is_invalid_amount() {
    // Tier "cheap" 0.40: 0.01 × 0.40 = 0.004 → 0.00.
    let mut s = given(
        SPEND,
        &[
            r#"{"type":"enroll","tier":"cheap"}"#,
            r#"{"type":"recharge","amount":"10.00"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"0.01"}"#)
        .then_rejected("invalid_amount");
    // 0.02 × 0.40 = 0.008 → 0.01.
    s.when(r#"{"type":"consume","amount":"0.02"}"#).then_events(
        json!([{"type":"consumed","charged":"0.01","points_earned":0,"points_lot":null}]),
    );
}

// ---------------------------------------------------------------------------------------------
// Lot draws
// ---------------------------------------------------------------------------------------------

#[test]
fn principal_is_drawn_first_in_first_out_across_lots_with_their_origin_stores() {
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"600.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S2"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S3"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"800.00","store":"S4"}"#)
        .then_events(json!([{"type":"consumed","principal":"800.00","draws":[
            {"lot":1,"kind":"principal","amount":"600.00","origin_store":"S1"},
            {"lot":2,"kind":"principal","amount":"200.00","origin_store":"S2"}]}]));
    // Lot 1 is emptied; lot 2 keeps 400, lot 3 is untouched.
    s.then_view(json!({"principal":"1000.00","lots":[
        {"lot":2,"kind":"principal","origin_store":"S2","remaining":"400.00"},
        {"lot":3,"kind":"principal","origin_store":"S3","remaining":"600.00"}]}));
    s.when(r#"{"type":"consume","amount":"500.00","store":"S1"}"#)
        .then_events(json!([{"type":"consumed","draws":[
            {"lot":2,"amount":"400.00","origin_store":"S2"},
            {"lot":3,"amount":"100.00","origin_store":"S3"}]}]));
}

#[test]
fn bonus_is_drawn_earliest_expiry_first_then_first_in_first_out_and_no_expiry_last() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"grant_bonus","amount":"50.00","reason":"forever","store":"S1"}"#,
            r#"{"type":"grant_bonus","amount":"30.00","reason":"late","store":"S2","expires_at":"2026-12-31T00:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"20.00","reason":"early","store":"S3","expires_at":"2026-06-30T00:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"10.00","reason":"early2","store":"S4","expires_at":"2026-06-30T00:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"75.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"0.00","bonus":"75.00","draws":[
            {"lot":3,"kind":"bonus","amount":"20.00","origin_store":"S3","expires_at":"2026-06-30T00:00:00Z"},
            {"lot":4,"kind":"bonus","amount":"10.00","origin_store":"S4","expires_at":"2026-06-30T00:00:00Z"},
            {"lot":2,"kind":"bonus","amount":"30.00","origin_store":"S2","expires_at":"2026-12-31T00:00:00Z"},
            {"lot":1,"kind":"bonus","amount":"15.00","origin_store":"S1","expires_at":null}]}]));
    s.then_view(json!({"bonus":"35.00","lots":[{"lot":1,"kind":"bonus","remaining":"35.00"}]}));
}
