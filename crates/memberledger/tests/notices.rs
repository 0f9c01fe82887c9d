//! Derived notices: a bonus lot, point lot or open package lapsing within the policy's
//! `notices` days of a time is due a notice, with an id that is the same whenever it is
//! derived; nothing is recorded, and a policy without the section has none.

use memberledger::notices::NoticeKind;
use memberledger::{Clock, Command, Ledger, MemberId, Policy, Timestamp};

const NO_NOTICES: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"bonus_expiry_days":30,"points_expiry_days":60}"#;
const POLICY: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"bonus_expiry_days":30,"points_expiry_days":60,"notices":{"bonus_days":7,"points_days":10,"package_days":14}}"#;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn story(policy: &str) -> Ledger {
    let ledger = Ledger::in_memory_with(Policy::from_json(policy).unwrap());
    ledger.set_clock(Clock::unbounded());
    for line in [
        r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
        r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"100.00"}"#,
        r#"{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-01T10:00:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"20.00","reason":"birthday"}"#,
        r#"{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-01T10:00:00Z","type":"consume","member":"M1","store":"S1","amount":"10.00"}"#,
        r#"{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-01T10:00:00Z","type":"purchase_package","member":"M1","store":"S2","service":"facial","sessions":3,"amount":"90.00","paid_from":"cash","expires_at":"2026-04-20T00:00:00Z"}"#,
    ] {
        ledger.execute(&Command::from_json(line).unwrap()).unwrap();
    }
    ledger
}

#[test]
fn notices_are_due_within_the_policy_days_with_stable_ids() {
    let ledger = story(POLICY);
    let head = ledger.head().unwrap();
    // Bonus lapses 2026-03-31T10:00, points 2026-04-30T10:00, the package 2026-04-20.
    assert!(ledger.notices(t("2026-03-20T00:00:00Z")).is_empty());
    let kinds =
        |at: &str| -> Vec<NoticeKind> { ledger.notices(t(at)).iter().map(|n| n.kind).collect() };
    assert_eq!(kinds("2026-03-25T00:00:00Z"), [NoticeKind::BonusWillExpire]);
    assert_eq!(
        kinds("2026-04-07T00:00:00Z"),
        [NoticeKind::PackageWillExpire]
    );
    assert_eq!(
        kinds("2026-04-21T00:00:00Z"),
        [NoticeKind::PointsWillExpire]
    );
    let a = ledger.notices(t("2026-03-25T00:00:00Z"));
    let b = ledger.notices(t("2026-03-28T00:00:00Z"));
    assert_eq!(a[0].id, b[0].id, "the same notice has the same id");
    let bonus = ledger.member(&MemberId::new("M1").unwrap()).unwrap().bonus;
    assert_eq!(a[0].amount, Some(bonus), "the bonus left in the lot");
    let package = &ledger.notices(t("2026-04-07T00:00:00Z"))[0];
    assert_eq!(
        (package.sessions, package.amount.unwrap().to_string()),
        (Some(3), "90.00".to_owned())
    );
    assert_eq!(
        ledger.member_notices(&MemberId::new("M1").unwrap(), t("2026-03-25T00:00:00Z")),
        a
    );
    assert_eq!(ledger.head().unwrap(), head, "notices record nothing");
}

#[test]
fn a_policy_without_a_notices_section_has_no_notices() {
    let ledger = story(NO_NOTICES);
    assert!(ledger.notices(t("2026-03-25T00:00:00Z")).is_empty());
    assert!(!ledger.policy().to_json().contains("notices"));
}
