//! `refund_consumption`, `refund_balance` and claw-back (docs/RULES.md, refunds).

use super::*;

/// P 1000 + B 150, then c1 = consume 300: principal 260.87, bonus 39.13, 260 points (lot 3).
const CONSUMED: &[&str] = &[
    ENROLL,
    r#"{"type":"recharge","amount":"1000.00"}"#,
    r#"{"type":"consume","amount":"300.00","id":"c1","store":"S2"}"#,
];

#[test]
fn full_refund_restores_exactly_what_was_drawn_and_reverses_all_points() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","store":"S2"}"#)
        .then_events(json!([{"type":"consumption_refunded","consumption":uuid("c1").to_string(),
            "amount":"300.00","principal":"260.87","bonus":"39.13",
            "restored":[
                {"lot":1,"kind":"principal","amount":"260.87","origin_store":"S1","expires_at":null,"forfeited":false},
                {"lot":2,"kind":"bonus","amount":"39.13","origin_store":"S1","expires_at":null,"forfeited":false}],
            "points_reversed":[{"lot":3,"points":260}],"points_forgiven":0}]));
    s.then_view(json!({"principal":"1000.00","bonus":"150.00","points":0,"point_lots":[]}));
    // Fully refunded: nothing is left to refund (issue 14, item 7).
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_rejected("refund_exceeds_original");
}

#[test]
fn partial_refund_restores_bonus_in_proportion_and_reverses_points_floored() {
    // bonus = round(100 × 39.13 / 300) = round(13.0433) = 13.04; principal 86.96;
    // points reversed = floor(260 × 86.96 / 260.87) = floor(86.669…) = 86.
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"100.00","principal":"86.96","bonus":"13.04",
            "restored":[{"lot":1,"kind":"principal","amount":"86.96"},{"lot":2,"kind":"bonus","amount":"13.04"}],
            "points_reversed":[{"lot":3,"points":86}],"points_forgiven":0}]));
    s.then_view(json!({"principal":"826.09","bonus":"123.91","points":174}));
}

#[test]
fn a_second_partial_refund_then_the_remainder_equals_one_full_refund() {
    let mut full = given(SPEND, CONSUMED);
    full.and(&[r#"{"type":"refund_consumption","consumption":"c1"}"#]);

    let mut parts = given(SPEND, CONSUMED);
    parts.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","principal":"86.96","bonus":"13.04","points_reversed":[{"points":86}]}]));
    // 50 more: bonus = round(50 × 39.13 / 300) = round(6.5216) = 6.52; principal 43.48;
    // points so far = floor(260 × 130.44 / 260.87) = floor(130.004…) = 130, so 44 more.
    parts.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"50.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","principal":"43.48","bonus":"6.52","points_reversed":[{"points":44}]}]));
    // The remainder, 150: bonus 39.13 − 19.56 = 19.57, principal 130.43, points 260 − 130.
    parts.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"150.00","principal":"130.43","bonus":"19.57",
            "points_reversed":[{"lot":3,"points":130}]}]));

    let (a, b) = (full.member("M1"), parts.member("M1"));
    assert_eq!(a.principal_lots(), b.principal_lots());
    assert_eq!(a.bonus_lots(), b.bonus_lots());
    assert_eq!(a.point_lots(), b.point_lots());
    assert_eq!(a.bonus_spent, b.bonus_spent);
    assert_eq!(
        (b.principal(), b.bonus(), b.points()),
        (money("1000.00"), money("150.00"), 0)
    );
    assert!(b.consumptions().is_empty());
}

#[test]
fn refund_above_what_is_left_unrefunded_is_refund_exceeds_original() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"300.01"}"#)
        .then_rejected("refund_exceeds_original");
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#]);
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"200.01"}"#)
        .then_rejected("refund_exceeds_original");
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"200.00"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"200.00","principal":"173.91","bonus":"26.09"}]));
}

#[test]
fn refund_of_an_unknown_consumption_is_unknown_consumption() {
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_consumption","consumption":"c2"}"#)
        .then_rejected("unknown_consumption");
    // Another member's consumption is not this member's.
    s.and(&[r#"{"type":"enroll","member":"M2"}"#]);
    s.when(r#"{"type":"refund_consumption","member":"M2","consumption":"c1"}"#)
        .then_rejected("unknown_consumption");
}

#[test]
fn refund_restores_principal_lots_in_reverse_order_of_drawing() {
    // Draws: lot 1 (S1) 600, lot 2 (S2) 200. A refund of 250 gives 200 back to lot 2 first,
    // then 50 to lot 1, which was emptied and comes back with its origin store.
    let mut s = given(
        PLAIN,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"600.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"600.00","store":"S2"}"#,
            r#"{"type":"consume","amount":"800.00","store":"S3","id":"c1"}"#,
        ],
    );
    s.then_view(json!({"principal":"400.00","points":800,"lots":[{"lot":2,"remaining":"400.00"}]}));
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"250.00"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","principal":"250.00","bonus":"0.00","restored":[
            {"lot":2,"kind":"principal","amount":"200.00","origin_store":"S2"},
            {"lot":1,"kind":"principal","amount":"50.00","origin_store":"S1"}],
            "points_reversed":[{"lot":3,"points":250}]}]),
        );
    s.then_view(json!({"principal":"650.00","points":550,"lots":[
        {"lot":1,"kind":"principal","origin_store":"S1","remaining":"50.00"},
        {"lot":2,"kind":"principal","origin_store":"S2","remaining":"600.00"}]}));
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","amount":"550.00","restored":[
            {"lot":1,"amount":"550.00"}],"points_reversed":[{"lot":3,"points":550}]}]),
        );
    s.then_view(json!({"principal":"1200.00","points":0,"lots":[
        {"lot":1,"remaining":"600.00"},{"lot":2,"remaining":"600.00"}]}));
}

#[test]
fn refund_restores_lots_in_reverse_order_of_drawing_within_each_kind() {
    // Two recharges at S1 and S2, each 1000 + 150. Consume 1500, proportional:
    // bonus = round(1500 × 300 / 2300) = round(195.652) = 195.65, principal 1304.35.
    // Drawn: lot 1 P 1000, lot 3 P 304.35, lot 2 B 150, lot 4 B 45.65. Restored: principal
    // lots last-drawn first (3, 1), then bonus lots last-drawn first (4, 2); this is the
    // order the v1 golden file pins (crates/core/tests/golden/v1/consumption_refunded.json).
    let mut s = given(
        SPEND,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","store":"S1"}"#,
            r#"{"type":"recharge","amount":"1000.00","store":"S2"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"1500.00","id":"c1"}"#)
        .then_events(
            json!([{"type":"consumed","principal":"1304.35","bonus":"195.65","draws":[
            {"lot":1,"kind":"principal","amount":"1000.00"},
            {"lot":3,"kind":"principal","amount":"304.35"},
            {"lot":2,"kind":"bonus","amount":"150.00"},
            {"lot":4,"kind":"bonus","amount":"45.65"}]}]),
        );
    // Partial 100: bonus = round(100 × 195.65 / 1500) = round(13.043) = 13.04 from the last
    // bonus lot drawn (4), principal 86.96 from the last principal lot drawn (3).
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","principal":"86.96","bonus":"13.04","restored":[
            {"lot":3,"kind":"principal","amount":"86.96","origin_store":"S2"},
            {"lot":4,"kind":"bonus","amount":"13.04","origin_store":"S2"}]}]),
        );
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"1400.00","principal":"1217.39","bonus":"182.61","restored":[
            {"lot":3,"kind":"principal","amount":"217.39"},
            {"lot":1,"kind":"principal","amount":"1000.00","origin_store":"S1"},
            {"lot":4,"kind":"bonus","amount":"32.61"},
            {"lot":2,"kind":"bonus","amount":"150.00","origin_store":"S1"}]}]));
    s.then_view(
        json!({"principal":"2000.00","bonus":"300.00","points":0,"lots":[
        {"lot":1,"remaining":"1000.00"},{"lot":3,"remaining":"1000.00"},
        {"lot":2,"remaining":"150.00"},{"lot":4,"remaining":"150.00"}]}),
    );
}

#[test]
fn refund_forfeits_bonus_whose_lot_has_expired_by_the_refund() {
    // Bonus first: consume 150 draws all 100 of the bonus lot (expiring 03-10) and 50 principal.
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","store":"S3","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"150.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.then_view(json!({"principal":"50.00","bonus":"0.00","points":50}));
    // The lot was emptied, so nothing is left to expire; the refund forfeits its 100.
    s.when(r#"{"type":"refund_consumption","consumption":"c1","at":"2026-03-10T00:00:00Z"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"150.00","principal":"50.00","bonus":"100.00",
            "restored":[
                {"lot":1,"kind":"principal","amount":"50.00","forfeited":false},
                {"lot":2,"kind":"bonus","amount":"100.00","origin_store":"S3","expires_at":"2026-03-10T00:00:00Z","forfeited":true}],
            "points_reversed":[{"lot":3,"points":50}]}]));
    s.then_view(json!({"principal":"100.00","bonus":"0.00","points":0,"lots":[{"lot":1,"kind":"principal"}]}));
}

#[test]
fn refund_before_the_bonus_lot_expires_gives_it_back_with_its_expiry() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"80.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"refund_consumption","consumption":"c1","at":"2026-03-09T23:59:59Z"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","bonus":"80.00","restored":[
            {"lot":2,"kind":"bonus","amount":"80.00","forfeited":false}]}]),
        );
    s.then_view(json!({"bonus":"100.00","lots":[{"lot":1},{"lot":2,"remaining":"100.00","expires_at":"2026-03-10T00:00:00Z"}]}));
}

#[test]
fn refund_at_expiry_expires_the_rest_of_the_lot_first_and_forfeits_the_restored_part() {
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"grant_bonus","amount":"100.00","reason":"promo","expires_at":"2026-03-10T00:00:00Z"}"#,
            r#"{"type":"consume","amount":"80.00","id":"c1","at":"2026-03-05T10:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"refund_consumption","consumption":"c1","amount":"30.00","at":"2026-03-10T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"bonus_expired","lot":2,"amount":"20.00"},
            {"type":"consumption_refunded","amount":"30.00","principal":"0.00","bonus":"30.00","restored":[
                {"lot":2,"kind":"bonus","amount":"30.00","forfeited":true}]}]));
    s.then_view(json!({"principal":"100.00","bonus":"0.00"}));
}

#[test]
fn points_reversal_never_takes_points_below_zero_and_forgives_the_rest() {
    // c1 earns 100 points (lot 2) that expire after 30 days; c2 then earns 50 (lot 3).
    let policy = with(PLAIN, json!({"points_expiry_days":30}));
    let mut s = given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"1000.00","at":"2026-03-01T10:00:00Z"}"#,
            r#"{"type":"consume","amount":"100.00","id":"c1","at":"2026-03-01T11:00:00Z"}"#,
        ],
    );
    s.when(r#"{"type":"consume","amount":"50.00","id":"c2","at":"2026-04-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"points_expired","lot":2,"points":100,"expires_at":"2026-03-31T11:00:00Z"},
            {"type":"consumed","points_earned":50,"points_lot":3}]));
    // c1 is due 100 back; the member holds 50: 50 reversed, 50 forgiven.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_events(json!([{"type":"consumption_refunded","amount":"100.00",
            "points_reversed":[{"lot":3,"points":50}],"points_forgiven":50}]));
    s.then_view(json!({"points":0,"principal":"950.00"}));
    // c2 is due 50 back; the member holds none.
    s.when(r#"{"type":"refund_consumption","consumption":"c2"}"#)
        .then_events(
            json!([{"type":"consumption_refunded","points_reversed":[],"points_forgiven":50}]),
        );
    s.then_view(json!({"points":0,"principal":"1000.00"}));
}

// ---------------------------------------------------------------------------------------------
// refund_balance and claw-back
// ---------------------------------------------------------------------------------------------

#[test]
fn refund_balance_claws_back_the_bonus_spent_and_forfeits_the_rest() {
    // After c1: P 739.13, B 110.87, bonus spent 39.13 → payout 739.13 − 39.13 = 700.00.
    let mut s = given(SPEND, CONSUMED);
    s.when(r#"{"type":"refund_balance","store":"S3"}"#)
        .then_events(
            json!([{"type":"balance_refunded","principal":"739.13","bonus_forfeited":"110.87",
            "bonus_spent":"39.13","clawback":"39.13","payout":"700.00","draws":[
                {"lot":1,"kind":"principal","amount":"739.13","origin_store":"S1"},
                {"lot":2,"kind":"bonus","amount":"110.87","origin_store":"S1"}]}]),
        );
    s.then_view(json!({"principal":"0.00","bonus":"0.00","lots":[],"points":260}));
    // The balance is closed: its consumptions cannot be refunded, nothing is left to pay out.
    s.when(r#"{"type":"refund_consumption","consumption":"c1"}"#)
        .then_rejected("unknown_consumption");
    s.when(r#"{"type":"refund_balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn refund_balance_without_claw_back_pays_all_the_principal() {
    let policy = with(SPEND, json!({"refund":{"claw_back_used_bonus":false}}));
    given(&policy, CONSUMED)
        .when(r#"{"type":"refund_balance"}"#)
        .then_events(
            json!([{"type":"balance_refunded","principal":"739.13","bonus_forfeited":"110.87",
            "bonus_spent":"39.13","clawback":"0.00","payout":"739.13"}]),
        );
}

#[test]
fn refund_balance_payout_is_never_below_zero() {
    // Bonus first: consume 250 takes all 200 bonus and 50 principal; P 50 < bonus spent 200.
    let policy = with(PLAIN, json!({"spend_order":"bonus_first"}));
    given(
        &policy,
        &[
            ENROLL,
            r#"{"type":"recharge","amount":"100.00"}"#,
            r#"{"type":"grant_bonus","amount":"200.00","reason":"vip"}"#,
            r#"{"type":"consume","amount":"250.00"}"#,
        ],
    )
    .when(r#"{"type":"refund_balance"}"#)
    .then_events(
        json!([{"type":"balance_refunded","principal":"50.00","bonus_forfeited":"0.00",
        "bonus_spent":"200.00","clawback":"50.00","payout":"0.00"}]),
    );
}

#[test]
fn refund_balance_counts_restored_bonus_back_out_of_the_bonus_spent() {
    // c1 spent 39.13 bonus; a refund of 100 restored 13.04 → spent 26.09.
    // P = 739.13 + 86.96 = 826.09 → payout 826.09 − 26.09 = 800.00.
    let mut s = given(SPEND, CONSUMED);
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1","amount":"100.00"}"#]);
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","principal":"826.09","bonus_forfeited":"123.91",
            "bonus_spent":"26.09","clawback":"26.09","payout":"800.00"}]),
    );
}

#[test]
fn refund_balance_after_a_full_consumption_refund_claws_back_nothing() {
    let mut s = given(SPEND, CONSUMED);
    s.and(&[r#"{"type":"refund_consumption","consumption":"c1"}"#]);
    s.when(r#"{"type":"refund_balance"}"#).then_events(
        json!([{"type":"balance_refunded","principal":"1000.00","bonus_forfeited":"150.00",
            "bonus_spent":"0.00","clawback":"0.00","payout":"1000.00"}]),
    );
}

#[test]
fn refund_balance_counts_bonus_spent_only_since_the_last_balance_refund() {
    let mut s = given(SPEND, CONSUMED);
    s.and(&[
        r#"{"type":"refund_balance"}"#,
        r#"{"type":"recharge","amount":"500.00"}"#,
    ]);
    s.when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","principal":"500.00","bonus_forfeited":"0.00",
            "bonus_spent":"0.00","clawback":"0.00","payout":"500.00","draws":[{"lot":4,"kind":"principal","amount":"500.00"}]}]));
}

#[test]
fn refund_balance_with_nothing_held_is_insufficient_balance() {
    given(SPEND, &[ENROLL])
        .when(r#"{"type":"refund_balance"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn refund_balance_of_bonus_only_pays_nothing_and_forfeits_the_bonus() {
    given(SPEND, &[ENROLL, r#"{"type":"grant_bonus","amount":"30.00","reason":"welcome"}"#])
        .when(r#"{"type":"refund_balance"}"#)
        .then_events(json!([{"type":"balance_refunded","principal":"0.00","bonus_forfeited":"30.00",
            "clawback":"0.00","payout":"0.00","draws":[{"lot":1,"kind":"bonus","amount":"30.00"}]}]));
}
