//! Enroll (docs/RULES.md, membership). The refusals `unknown_tier`, `member_exists` and
//! `member_not_found` are written with the test kit's harness in
//! crates/memberledger/tests/given_rules.rs.

use super::*;

#[test]
fn enroll_starts_in_the_lowest_tier_at_the_home_store() {
    let mut s = given(TIERS, &[]);
    s.when(r#"{"type":"enroll","store":"S7"}"#)
        .then_events(json!([{"type":"member_enrolled","home_store":"S7","tier":"standard"}]));
    s.then_view(
        json!({"member":"M1","home_store":"S7","tier":"standard","principal":"0.00",
        "bonus":"0.00","points":0,"version":1,"lots":[]}),
    );
}

#[test]
fn enroll_in_a_named_tier() {
    given(TIERS, &[])
        .when(r#"{"type":"enroll","tier":"gold"}"#)
        .then_events(json!([{"type":"member_enrolled","home_store":"S1","tier":"gold"}]));
}
