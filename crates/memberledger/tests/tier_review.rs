//! The tier review sweep (`Ledger::review_tiers`, docs/RULES.md §10): members whose tier's
//! retain rule fails are lowered once, the rest are kept and record nothing.

use memberledger::{Command, Ledger, MemberId, Policy, Timestamp, Uuid};

const POLICY: &str = r#"{"tiers":[
  {"name":"standard","discount":"1.00","points_per_yuan":"1"},
  {"name":"silver","discount":"1.00","points_per_yuan":"1",
   "upgrade":{"visits_within":2,"window_days":30},"retain":{"visits_within":2,"window_days":90}},
  {"name":"gold","discount":"1.00","points_per_yuan":"1",
   "upgrade":{"spent_within":"1000.00","window_days":30},
   "retain":{"spent_within":"500.00","window_days":90}}]}"#;

fn line(n: u128, at: &str, member: &str, rest: &str) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"{}","at":"{at}","member":"{member}","store":"S1",{rest}}}"#,
        Uuid::from_u128(0x7e1e_0000_0000_4000_8000_0000_0000_0000 | n)
    ))
    .unwrap()
}

fn visit(n: u128, at: &str, member: &str, amount: &str) -> Command {
    line(
        n,
        at,
        member,
        &format!(r#""type":"consume","amount":"{amount}","method":"cash","external":"all""#),
    )
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn tier(l: &Ledger, member: &str) -> String {
    l.member(&MemberId::new(member).unwrap())
        .unwrap()
        .tier
        .to_string()
}

/// M1 reaches gold and stops coming; M2 reaches gold and keeps spending; M3 stays standard.
fn chain() -> Ledger {
    let l = Ledger::in_memory_with(Policy::from_json(POLICY).unwrap());
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    for m in ["M1", "M2", "M3"] {
        l.execute(&line(
            next(),
            "2026-01-01T09:00:00Z",
            m,
            r#""type":"enroll""#,
        ))
        .unwrap();
    }
    for m in ["M1", "M2"] {
        l.execute(&visit(next(), "2026-01-02T10:00:00Z", m, "1200.00"))
            .unwrap();
    }
    l.execute(&visit(next(), "2026-05-01T10:00:00Z", "M2", "600.00"))
        .unwrap();
    l
}

#[test]
fn a_review_lowers_members_whose_retain_rule_fails_and_keeps_the_rest() {
    let l = chain();
    assert_eq!(
        (tier(&l, "M1"), tier(&l, "M2")),
        ("gold".into(), "gold".into())
    );
    let review = l.review_tiers(t("2026-06-01T00:00:00Z"));
    assert_eq!(review.reviewed, 3);
    assert_eq!(review.receipts.len(), 1, "only M1 is lowered");
    let gold = review.tiers["gold"];
    assert_eq!((gold.kept, gold.lowered), (1, 1));
    assert_eq!(review.tiers["standard"].kept, 1);
    assert_eq!(tier(&l, "M1"), "standard");
    assert_eq!(tier(&l, "M2"), "gold");
    assert!(l.verify().unwrap().ok());
}

#[test]
fn the_same_review_twice_records_nothing_the_second_time() {
    let l = chain();
    let first = l.review_tiers(t("2026-06-01T00:00:00Z"));
    assert_eq!(first.receipts.len(), 1);
    let events = l.events_after(0, 10_000).unwrap().len();
    let again = l.review_tiers(t("2026-06-01T00:00:00Z"));
    assert!(again.receipts.is_empty());
    assert_eq!(again.tiers["standard"].kept, 2);
    assert_eq!(l.events_after(0, 10_000).unwrap().len(), events);
}

#[test]
fn a_review_leaves_members_with_later_events_alone() {
    let l = chain();
    // M2's last event (2026-05-01) is after the review's time: not reviewed.
    let review = l.review_tiers(t("2026-04-15T00:00:00Z"));
    assert_eq!(review.reviewed, 2);
    assert_eq!(tier(&l, "M1"), "standard");
    assert_eq!(tier(&l, "M2"), "gold");
}

/// Whether the ledger's cached projection of `member` keeps its spending window.
fn cached_keeps_spending(l: &Ledger, member: &str) -> bool {
    let mut keeps = None;
    l.for_each_member(|m| {
        if m.member.as_str() == member {
            keeps = Some(m.keeps_spending());
        }
    });
    keeps.expect("a cached member")
}

/// The built-in tiers, and a version 2 that adds a visit upgrade and a retain rule to silver.
fn with_visit_rules() -> Policy {
    let mut v = serde_json::to_value(Policy::builtin()).unwrap();
    v["tiers"][1]["upgrade"]["visits_within"] = 3.into();
    v["tiers"][1]["upgrade"]["window_days"] = 30.into();
    Policy::from_value(v).unwrap()
}

#[test]
fn a_ledger_caches_the_spending_window_only_once_a_policy_reads_it() {
    let l = Ledger::in_memory();
    l.execute(&line(1, "2026-01-01T09:00:00Z", "M1", r#""type":"enroll""#))
        .unwrap();
    for (n, day) in [(2, "02"), (3, "03")] {
        l.execute(&visit(
            n,
            &format!("2026-01-{day}T10:00:00Z"),
            "M1",
            "10.00",
        ))
        .unwrap();
    }
    let id = MemberId::new("M1").unwrap();
    // The built-in policy reads no spending window: the cached member holds none, its full
    // fold does, and verify holds the two equal as the ledger caches them.
    assert!(!cached_keeps_spending(&l, "M1"));
    assert_eq!(l.member_state(&id).unwrap().spending_window().len(), 2);
    assert!(l.verify().unwrap().ok());
    // Version 2 reads it: the members are replayed with their window, so the visits before
    // the publication count.
    let publish = Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-01-03T12:00:00Z","type":"publish_policy","store":"HQ","policy":{}}}"#,
        Uuid::from_u128(0x7e1e_0000_0000_4000_8000_0000_0000_00ff),
        serde_json::to_value(with_visit_rules()).unwrap()
    ))
    .unwrap();
    l.execute(&publish).unwrap();
    assert!(cached_keeps_spending(&l, "M1"));
    let r = l
        .execute(&visit(4, "2026-01-04T10:00:00Z", "M1", "10.00"))
        .unwrap();
    assert_eq!(
        r.events.len(),
        2,
        "the third visit in 30 days upgrades: {r:?}"
    );
    assert_eq!(tier(&l, "M1"), "silver");
    assert!(l.verify().unwrap().ok());
}
