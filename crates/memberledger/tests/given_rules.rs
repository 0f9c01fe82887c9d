//! Business rules of docs/RULES.md written with the test kit's given/when/then harness, through
//! the facade (an in-memory ledger): membership, the recharge-bonus ladder, refusals that
//! record nothing. The rest of the rules are in crates/core/tests/rules, with the core's own
//! event-by-event harness.

use memberledger_testkit::Given;

/// The recharge-bonus ladder: two fixed rules, a rate rule, and a gold-only rate rule.
/// No upgrade conditions, so recharges never change the tier here.
const BONUS_LADDER: &str = r#"{
  "rounding": "half_up", "spend_order": "proportional",
  "tiers": [
    {"name": "standard", "discount": "1.00", "points_per_yuan": "1"},
    {"name": "gold", "discount": "0.90", "points_per_yuan": "1.5"}
  ],
  "recharge_bonus": [
    {"min": "500.00", "bonus": "50.00"},
    {"min": "1000.00", "bonus": "150.00"},
    {"min": "3000.00", "bonus_rate": "0.125"},
    {"min": "5000.00", "bonus_rate": "0.30", "tiers": ["gold"]}
  ],
  "bonus_expiry_days": 365
}"#;

#[test]
fn enroll_in_an_unknown_tier_is_unknown_tier() {
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .when(r#"{"type":"enroll","tier":"platinum"}"#)
        .then_rejected("unknown_tier");
}

#[test]
fn enroll_twice_is_member_exists() {
    Given::ledger()
        .member("M1")
        .when(r#"{"type":"enroll"}"#)
        .then_rejected("member_exists")
        .and_then()
        .when(r#"{"type":"enroll","store":"S2","tier":"gold"}"#)
        .then_rejected("member_exists")
        .and_then()
        // Another member is a different stream.
        .when(r#"{"type":"enroll","member":"M2"}"#)
        .then_events(&["member_enrolled"]);
}

#[test]
fn every_command_for_an_unenrolled_member_is_member_not_found() {
    let mut given = Given::ledger().member("M1").recharged("1000.00");
    for line in [
        r#"{"member":"M9","type":"recharge","amount":"100.00"}"#,
        r#"{"member":"M9","type":"grant_bonus","amount":"10.00","reason":"birthday"}"#,
        r#"{"member":"M9","type":"consume","amount":"10.00"}"#,
        r#"{"member":"M9","type":"refund_consumption","consumption":"00000000-0000-4000-8000-000000000002"}"#,
        r#"{"member":"M9","type":"refund_balance"}"#,
        r#"{"member":"M9","type":"change_tier","tier":"gold"}"#,
    ] {
        given = given
            .when(line)
            .then_rejected("member_not_found")
            .and_then();
    }
}

#[test]
fn recharge_below_the_lowest_rule_gets_no_bonus() {
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .member("M1")
        .when(r#"{"type":"recharge","amount":"499.99","staff":"E7"}"#)
        .then_events(&["recharged"])
        .then_balance("499.99", "0.00");
}

#[test]
fn recharge_bonus_takes_the_highest_min_not_above_the_amount_without_stacking() {
    // 2999.99 qualifies for the 500 and the 1000 rules: only the 1000 rule applies (150, not 200).
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .member("M1")
        .when(r#"{"type":"recharge","amount":"2999.99"}"#)
        .then_events(&["recharged", "bonus_granted"])
        .then_balance("2999.99", "150.00");
}

#[test]
fn recharge_bonus_rate_is_rounded_half_up() {
    // 3000.04 × 0.125 = 375.005 → 375.01 half up.
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .member("M1")
        .when(r#"{"type":"recharge","amount":"3000.04"}"#)
        .then_balance("3000.04", "375.01");
}

#[test]
fn tier_restricted_bonus_rule_applies_only_to_its_tier() {
    // Standard: 5000 falls to the 3000 rate rule, 5000 × 0.125 = 625.
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .member("M1")
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_balance("5000.00", "625.00");
    // Gold: the gold-only 5000 rule, 5000 × 0.30 = 1500.
    Given::ledger()
        .with_policy_json(BONUS_LADDER)
        .and(r#"{"type":"enroll","tier":"gold"}"#)
        .when(r#"{"type":"recharge","amount":"5000.00"}"#)
        .then_balance("5000.00", "1500.00");
}

#[test]
fn consume_beyond_the_balance_is_insufficient_balance_and_records_nothing() {
    Given::ledger()
        .member("M1")
        .recharged("100.00")
        .when(r#"{"type":"consume","amount":"500.00"}"#)
        .then_rejected("insufficient_balance");
}

#[test]
fn a_frozen_card_cannot_be_spent() {
    Given::ledger()
        .member("M1")
        .recharged("1000.00")
        .frozen()
        .when(r#"{"type":"consume","amount":"10.00"}"#)
        .then_rejected("member_frozen");
}
