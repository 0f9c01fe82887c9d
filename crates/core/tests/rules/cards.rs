//! Cards (docs/RULES.md, cards): a card belongs to at most one member; a lost or replaced card
//! is refused wherever it is named while the balance stays usable; a command may name a card
//! instead of a member.

use super::*;

const LINKED: &[&str] = &[
    ENROLL,
    r#"{"type":"recharge","amount":"1000.00"}"#,
    r#"{"type":"link_card","card":"C1"}"#,
];

#[test]
fn a_linked_card_names_its_member_and_the_events_record_the_card_used() {
    let mut s = given(PLAIN, LINKED);
    s.when(r#"{"type":"consume","amount":"100.00","card":"C1","member":null}"#)
        .then_events(json!([
            {"type":"card_used","card":"C1"},
            {"type":"consumed","charged":"100.00"}]));
    s.then_view(json!({"principal":"900.00","cards":[{"card":"C1","status":"active"}]}));
}

#[test]
fn a_card_belongs_to_at_most_one_member() {
    let mut s = given(PLAIN, LINKED);
    s.and(&[r#"{"type":"enroll","member":"M2"}"#]);
    s.when(r#"{"type":"link_card","card":"C1","member":"M2"}"#)
        .then_rejected("card_in_use");
    s.when(r#"{"type":"link_card","card":"C1"}"#)
        .then_rejected("card_in_use");
    // Once unlinked it is free again.
    s.and(&[r#"{"type":"unlink_card","card":"C1"}"#]);
    s.when(r#"{"type":"link_card","card":"C1","member":"M2"}"#)
        .then_events(json!([{"type":"card_linked","card":"C1"}]));
}

#[test]
fn a_lost_card_is_refused_everywhere_while_the_balance_stays_usable() {
    let mut s = given(PLAIN, LINKED);
    s.when(r#"{"type":"report_lost","card":"C1","reason":"stolen"}"#)
        .then_events(json!([{"type":"card_reported_lost","card":"C1","reason":"stolen"}]));
    for line in [
        r#"{"type":"consume","amount":"1.00","card":"C1","member":null}"#,
        r#"{"type":"recharge","amount":"1.00","card":"C1"}"#,
        r#"{"type":"authorize","amount":"1.00","card":"C1"}"#,
        r#"{"type":"report_lost","card":"C1"}"#,
    ] {
        s.when(line).then_rejected("card_lost");
    }
    // By member id the balance is still there.
    s.when(r#"{"type":"consume","amount":"100.00"}"#)
        .then_events(json!([{"type":"consumed","principal":"100.00"}]));
    // A new card replaces the lost one, in one event; the old one stays refused.
    s.when(r#"{"type":"replace_card","card":"C1","new_card":"C2"}"#)
        .then_events(json!([{"type":"card_replaced","old_card":"C1","new_card":"C2"}]));
    s.when(r#"{"type":"consume","amount":"100.00","card":"C2","member":null}"#)
        .then_events(json!([{"type":"card_used","card":"C2"},{"type":"consumed"}]));
    s.when(r#"{"type":"consume","amount":"1.00","card":"C1","member":null}"#)
        .then_rejected("card_replaced");
    s.then_view(json!({"principal":"800.00","cards":[
        {"card":"C1","status":"replaced"},{"card":"C2","status":"active"}]}));
}

#[test]
fn a_card_not_linked_is_refused_with_card_not_linked() {
    let mut s = given(PLAIN, LINKED);
    s.and(&[r#"{"type":"enroll","member":"M2"}"#]);
    s.when(r#"{"type":"consume","amount":"1.00","card":"C9","member":null}"#)
        .then_rejected("card_not_linked");
    // Another member's card, with this member named.
    s.when(r#"{"type":"consume","amount":"1.00","card":"C1","member":"M2"}"#)
        .then_rejected("card_not_linked");
    s.when(r#"{"type":"unlink_card","card":"C9"}"#)
        .then_rejected("card_not_linked");
    // A replacement card already in use elsewhere.
    s.and(&[r#"{"type":"link_card","card":"C5","member":"M2"}"#]);
    s.when(r#"{"type":"replace_card","card":"C1","new_card":"C5"}"#)
        .then_rejected("card_in_use");
}

#[test]
fn freeze_keeps_its_meaning_with_cards() {
    let mut s = given(PLAIN, LINKED);
    s.and(&[r#"{"type":"freeze","card":"C1","member":null}"#]);
    s.when(r#"{"type":"consume","amount":"1.00","card":"C1","member":null}"#)
        .then_rejected("member_frozen");
    // Card commands are not spending: a frozen member may still replace a card.
    s.when(r#"{"type":"replace_card","card":"C1","new_card":"C2"}"#)
        .then_events(json!([{"type":"card_replaced"}]));
}

#[test]
fn under_a_hashing_policy_no_card_number_is_recorded_in_clear() {
    let policy = with(PLAIN, json!({"cards":{"store":"hash"}}));
    let mut s = given(
        &policy,
        &[ENROLL, r#"{"type":"recharge","amount":"10.00"}"#],
    );
    let events = s
        .when(r#"{"type":"link_card","card":"6222000011112222"}"#)
        .then_accepted();
    let recorded = serde_json::to_string(&events.iter().map(flat).collect::<Vec<_>>()).unwrap();
    assert!(!recorded.contains("6222000011112222"), "{recorded}");
    assert!(recorded.contains("sha256:"), "{recorded}");
    // Lookups hash the number given.
    s.when(r#"{"type":"consume","amount":"1.00","card":"6222000011112222","member":null}"#)
        .then_events(json!([{"type":"card_used"},{"type":"consumed"}]));
}

#[test]
fn card_commands_need_a_card_and_a_link_needs_a_member() {
    for line in [
        r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1","type":"link_card"}"#,
        r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","store":"S1","type":"link_card","card":"C1"}"#,
        r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1","type":"expire","card":"C1"}"#,
        r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1","type":"replace_card","card":"C1","new_card":"C1"}"#,
    ] {
        assert_eq!(
            Command::from_json(line).unwrap_err().code(),
            "invalid_command",
            "{line}"
        );
    }
    let bad = r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1","type":"link_card","card":"C 1"}"#;
    assert_eq!(Command::from_json(bad).unwrap_err().code(), "invalid_id");
}
