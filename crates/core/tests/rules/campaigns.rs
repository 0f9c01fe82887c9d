//! Campaigns side by side: bonus rules scoped to a date window and a cohort (docs/RULES.md,
//! bonus, "Campaigns").

use super::*;

/// An A/B test: cohort 0 of 2 gets 50.00 from 500.00, cohort 1 gets 10% from 500.00; a
/// spring window gives 80.00 from 500.00 to everyone in April only; the plain 1000.00 rule is
/// for everyone always. `cohort_of(M1, 2)` is 1 and `cohort_of(M2, 2)` is 0 (pinned by core).
fn ab_policy() -> String {
    with(
        BONUS_LADDER,
        json!({"recharge_bonus":[
            {"min":"500.00","bonus":"50.00","cohorts":2,"cohort":0,"until":"2026-04-01T00:00:00Z"},
            {"min":"500.00","bonus_rate":"0.10","cohorts":2,"cohort":1,"until":"2026-04-01T00:00:00Z"},
            {"min":"500.00","bonus":"80.00","from":"2026-04-01T00:00:00Z","until":"2026-05-01T00:00:00Z"},
            {"min":"1000.00","bonus":"150.00"}
        ]}),
    )
}

#[test]
fn campaign_cohort_rules_give_each_cohort_its_own_ladder() {
    let policy = ab_policy();
    let mut s = given(&policy, &[ENROLL, r#"{"type":"enroll","member":"M2"}"#]);
    s.when(r#"{"type":"recharge","amount":"600.00","at":"2026-03-01T10:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"600.00"},
            {"type":"bonus_granted","amount":"60.00","rule":1}
        ]));
    s.when(r#"{"type":"recharge","member":"M2","amount":"600.00","at":"2026-03-01T11:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged","amount":"600.00"},
            {"type":"bonus_granted","amount":"50.00","rule":0}
        ]));
}

#[test]
fn campaign_window_rule_applies_from_its_start_and_not_at_its_end() {
    let policy = ab_policy();
    let mut s = given(&policy, &[ENROLL]);
    s.when(r#"{"type":"recharge","amount":"500.00","at":"2026-04-01T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged"},
            {"type":"bonus_granted","amount":"80.00","rule":2}
        ]));
    // At `until` the window is closed and no 500.00 rule is left: no bonus.
    s.when(r#"{"type":"recharge","amount":"500.00","at":"2026-05-01T00:00:00Z"}"#)
        .then_events(json!([{"type":"recharged","amount":"500.00"}]));
}

#[test]
fn campaign_scoped_rule_with_a_lower_min_never_shadows_a_higher_unscoped_rule() {
    given(&ab_policy(), &[ENROLL])
        .when(r#"{"type":"recharge","amount":"1000.00","at":"2026-04-10T00:00:00Z"}"#)
        .then_events(json!([
            {"type":"recharged"},
            {"type":"bonus_granted","amount":"150.00","rule":3}
        ]));
}

#[test]
fn campaign_rules_that_tie_in_tiers_windows_and_cohorts_are_an_invalid_policy() {
    for rules in [
        // Overlapping windows, no cohort.
        json!([{"min":"100.00","bonus":"7.00","until":"2026-05-01T00:00:00Z"},
               {"min":"100.00","bonus":"9.00","from":"2026-04-01T00:00:00Z"}]),
        // The same cohort of the same split.
        json!([{"min":"100.00","bonus":"7.00","cohorts":2,"cohort":1},
               {"min":"100.00","bonus":"9.00","cohorts":2,"cohort":1}]),
        // Splits of different sizes share members.
        json!([{"min":"100.00","bonus":"7.00","cohorts":2,"cohort":0},
               {"min":"100.00","bonus":"9.00","cohorts":3,"cohort":0}]),
        // A cohort rule and a rule for everyone.
        json!([{"min":"100.00","bonus":"7.00","cohorts":2,"cohort":0},
               {"min":"100.00","bonus":"9.00"}]),
    ] {
        let policy = with(BONUS_LADDER, json!({ "recharge_bonus": rules }));
        let e = Policy::from_json(&policy).unwrap_err();
        assert_eq!(e.code(), "invalid_policy", "{rules}");
        assert!(
            e.to_string().contains("same tiers, dates and cohort"),
            "{e}"
        );
    }
}

#[test]
fn campaign_rules_in_other_cohorts_or_back_to_back_windows_do_not_tie() {
    for rules in [
        json!([{"min":"100.00","bonus":"7.00","cohorts":2,"cohort":0},
               {"min":"100.00","bonus":"9.00","cohorts":2,"cohort":1}]),
        json!([{"min":"100.00","bonus":"7.00","until":"2026-04-01T00:00:00Z"},
               {"min":"100.00","bonus":"9.00","from":"2026-04-01T00:00:00Z"}]),
    ] {
        let policy = with(BONUS_LADDER, json!({ "recharge_bonus": rules }));
        assert!(Policy::from_json(&policy).is_ok(), "{rules}");
    }
}

#[test]
fn campaign_scope_that_is_empty_or_half_given_is_an_invalid_policy() {
    for rule in [
        json!({"min":"100.00","bonus":"7.00","from":"2026-04-01T00:00:00Z","until":"2026-04-01T00:00:00Z"}),
        json!({"min":"100.00","bonus":"7.00","cohorts":2}),
        json!({"min":"100.00","bonus":"7.00","cohort":0}),
        json!({"min":"100.00","bonus":"7.00","cohorts":2,"cohort":2}),
        json!({"min":"100.00","bonus":"7.00","cohorts":1,"cohort":0}),
        json!({"min":"100.00","bonus":"7.00","cohorts":1001,"cohort":0}),
    ] {
        let policy = with(BONUS_LADDER, json!({ "recharge_bonus": [rule] }));
        let e = Policy::from_json(&policy).unwrap_err();
        assert_eq!(e.code(), "invalid_policy", "{rule}");
    }
}

#[test]
fn campaign_fields_absent_keep_the_policy_bytes() {
    let p = Policy::from_json(BONUS_LADDER).unwrap();
    assert!(!p.to_json().contains("cohort"));
    assert!(!p.to_json().contains("until"));
}
