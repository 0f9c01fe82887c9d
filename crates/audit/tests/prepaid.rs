//! The prepaid-card reports with hand-computed figures (docs/COMPLIANCE.md): the quarterly
//! deposit and filing report by issuing entity, closed periods, refundable amounts and
//! closing the card business.

use memberledger::{Clock, Command, Ledger, Money, Policy, Timestamp, Uuid};
use memberledger_audit::{close_business, prepaid_report, refundable, Quarter, Snapshot};

/// E1 (a brand, 40 %) holds S1, E2 (an issuer of scale, 20 %) holds S2; S3 is in no entity
/// (the default entity, 40 %). Recharging 1000 gives 100 bonus; principal is spent first.
const POLICY: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"0"}],
 "spend_order":"principal_first","recharge_bonus":[{"min":"1000.00","bonus":"100.00"}],
 "prepaid":{"entities":[
   {"id":"E1","name":"Brand Co.","kind":"brand","deposit_ratio":"0.40","stores":["S1"]},
   {"id":"E2","name":"Scale Co.","kind":"scale","deposit_ratio":"0.20","stores":["S2"]}],
  "thresholds":[{"name":"filing","outstanding":"1000.00"}]}}"#;

fn m(s: &str) -> Money {
    s.parse().unwrap()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn run(ledger: &Ledger, lines: &[&str]) {
    for (i, rest) in lines.iter().enumerate() {
        let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, rest.as_bytes());
        let line = format!(r#"{{"id":"{id}",{rest}}}"#);
        let cmd = Command::from_json(&line).unwrap_or_else(|e| panic!("{i}: {rest}: {e}"));
        ledger
            .execute(&cmd)
            .unwrap_or_else(|e| panic!("{rest}: {e}"));
    }
}

/// Q2: M1 recharges 1000 at S1 (E1), M2 500 at S2 (E2). Q3: M1 spends 300 at S2 (from S1's
/// principal), buys a 3-session package for 600 cash at S2 and redeems one (200); M2
/// recharges 2000 at S2 (+100 bonus) and takes the card's refund (2500 paid out); M3
/// recharges 1000 at S3 (default entity, +100 bonus); a policy with a cap of 1000 is
/// published on 15 September.
fn chain() -> Ledger {
    let ledger = Ledger::in_memory_with(Policy::from_json(POLICY).unwrap());
    ledger.set_clock(Clock::fixed(t("2027-01-01T00:00:00Z")));
    run(
        &ledger,
        &[
            r#""at":"2026-05-01T10:00:00Z","type":"enroll","member":"M1","store":"S1""#,
            r#""at":"2026-05-01T10:01:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
            r#""at":"2026-05-02T10:00:00Z","type":"enroll","member":"M2","store":"S2""#,
            r#""at":"2026-05-02T10:01:00Z","type":"recharge","member":"M2","store":"S2","amount":"500.00""#,
            r#""at":"2026-07-10T10:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00""#,
            r#""at":"2026-07-11T10:00:00Z","type":"purchase_package","member":"M1","store":"S2","service":"massage","sessions":3,"amount":"600.00","paid_from":"cash""#,
            r#""at":"2026-08-01T10:00:00Z","type":"recharge","member":"M2","store":"S2","amount":"2000.00""#,
            r#""at":"2026-08-02T10:00:00Z","type":"refund_balance","member":"M2","store":"S2""#,
            r#""at":"2026-09-01T10:00:00Z","type":"enroll","member":"M3","store":"S3""#,
            r#""at":"2026-09-01T10:01:00Z","type":"recharge","member":"M3","store":"S3","amount":"1000.00""#,
        ],
    );
    let package = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        br#""at":"2026-07-11T10:00:00Z","type":"purchase_package","member":"M1","store":"S2","service":"massage","sessions":3,"amount":"600.00","paid_from":"cash""#,
    );
    run(
        &ledger,
        &[&format!(
            r#""at":"2026-07-12T10:00:00Z","type":"redeem_session","member":"M1","store":"S1","package":"{package}""#
        )],
    );
    let mut capped: serde_json::Value = serde_json::from_str(POLICY).unwrap();
    capped["prepaid"]["stored_value_cap"] = "1000.00".into();
    run(
        &ledger,
        &[&format!(
            r#""at":"2026-09-15T00:00:00Z","type":"publish_policy","store":"HQ","policy":{capped}"#
        )],
    );
    ledger
}

#[test]
fn the_quarter_report_gives_each_entity_its_balance_deposit_and_movement() {
    let ledger = chain();
    let r = prepaid_report(&ledger, "2026Q3".parse().unwrap(), 0, None).unwrap();
    let ids: Vec<&str> = r.entities.iter().map(|e| e.entity.as_str()).collect();
    assert_eq!(ids, ["E1", "E2", "default"]);
    let (e1, e2, d) = (&r.entities[0], &r.entities[1], &r.entities[2]);
    // E1: 1000 at the end of Q2; 300 spent (at S2, from S1's principal): 700 left, bonus 100.
    assert_eq!(
        (e1.previous.paid, e1.outstanding.paid, e1.outstanding.bonus),
        (m("1000.00"), m("700.00"), m("100.00"))
    );
    assert_eq!(e1.movement.consumed, m("300.00"));
    // Deposit at 40 % of the previous quarter's 1000 = 400.00; next quarter 40 % of 700 = 280.00.
    assert_eq!(
        (e1.deposit_required, e1.deposit_required_next),
        (m("400.00"), m("280.00"))
    );
    // E2: 500 + sold 600 (package) + 2000 (recharge) − 200 (a session) − 2500 (退卡) = 400,
    // all of it the package's two sessions left; 20 % of 500 = 100.00, of 400 = 80.00.
    assert_eq!(
        (
            e2.previous.paid,
            e2.outstanding.packages,
            e2.outstanding.paid
        ),
        (m("500.00"), m("400.00"), m("400.00"))
    );
    assert_eq!(
        (e2.movement.sold, e2.movement.consumed, e2.movement.refunded),
        (m("2600.00"), m("200.00"), m("2500.00"))
    );
    assert_eq!(
        (e2.deposit_required, e2.deposit_required_next),
        (m("100.00"), m("80.00"))
    );
    assert_eq!(
        e2.outstanding.bonus,
        m("0.00"),
        "M2's bonus was forfeited on the refund"
    );
    // The default entity: M3's 1000 (and 100 bonus), at 40 %; it reaches the 1000 threshold,
    // and M3 (1100 held) is above the cap of 1000 published in September.
    assert_eq!(
        (
            d.outstanding.paid,
            d.deposit_required,
            d.deposit_required_next
        ),
        (m("1000.00"), m("0.00"), m("400.00"))
    );
    assert_eq!(d.thresholds_crossed, ["filing"]);
    assert!(e1.thresholds_crossed.is_empty() && e2.thresholds_crossed.is_empty());
    assert_eq!(d.members_over_cap.len(), 1);
    assert_eq!(
        (
            d.members_over_cap[0].member.as_str(),
            d.members_over_cap[0].stored_value
        ),
        ("M3", m("1100.00"))
    );
    // One entity alone.
    let only = prepaid_report(&ledger, "2026Q3".parse().unwrap(), 0, Some("E2")).unwrap();
    assert_eq!(only.entities, vec![e2.clone()]);
}

#[test]
fn the_quarter_end_outstanding_balance_equals_the_liability_report_then() {
    let ledger = chain();
    for q in ["2026Q2", "2026Q3", "2026Q4"] {
        let q: Quarter = q.parse().unwrap();
        let r = prepaid_report(&ledger, q, 8 * 3600, None).unwrap();
        let books = Snapshot::as_of(&ledger, Some(q.end(8 * 3600)))
            .unwrap()
            .liability()
            .unwrap();
        let (paid, bonus) = r
            .entities
            .iter()
            .fold((Money::ZERO, Money::ZERO), |(p, b), e| {
                (p.plus(e.outstanding.paid), b.plus(e.outstanding.bonus))
            });
        assert_eq!(
            paid.plus(bonus),
            books.principal.plus(books.bonus).plus(books.packages),
            "{q}"
        );
        for e in &r.entities {
            // Deposits follow the ratio to the cent.
            let want = e
                .previous
                .paid
                .checked_times(e.deposit_ratio, memberledger::domain::Rounding::HalfUp)
                .unwrap();
            assert_eq!(e.deposit_required, want, "{q} {}", e.entity);
        }
    }
}

#[test]
fn a_closed_period_refuses_late_commands_and_its_report_stays_fixed() {
    let ledger = chain();
    let before = prepaid_report(&ledger, "2026Q3".parse().unwrap(), 0, None).unwrap();
    run(
        &ledger,
        &[
            r#""at":"2026-10-05T09:00:00Z","type":"close_period","store":"HQ","through":"2026-09-30T23:59:59Z""#,
        ],
    );
    let late = Command::from_json(
        r#"{"id":"00000000-0000-4000-8000-0000000000a1","at":"2026-09-30T12:00:00Z","type":"recharge","member":"M3","store":"S3","amount":"10.00"}"#,
    )
    .unwrap();
    assert_eq!(ledger.execute(&late).unwrap_err().code(), "period_closed");
    // A correction goes into the open period, naming what it corrects.
    let recharge = Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        br#""at":"2026-09-01T10:01:00Z","type":"recharge","member":"M3","store":"S3","amount":"1000.00""#,
    );
    run(
        &ledger,
        &[&format!(
            r#""at":"2026-10-06T09:00:00Z","type":"adjust","member":"M3","store":"S3","balance":"principal","direction":"debit","amount":"10.00","reason":"keyed 1000 for 990","operator":"E1","corrects":"{recharge}""#
        )],
    );
    let after = prepaid_report(&ledger, "2026Q3".parse().unwrap(), 0, None).unwrap();
    assert_eq!(before, after, "a closed quarter's report does not change");
    let q4 = prepaid_report(&ledger, "2026Q4".parse().unwrap(), 0, Some("default")).unwrap();
    assert_eq!(q4.entities[0].movement.adjusted, Money::from_cents(-1000));
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn closing_the_business_refunds_every_member_once_and_resumes() {
    let ledger = chain();
    let at = t("2026-10-01T00:00:00Z");
    // M1: the package's two sessions in cash (400) and 700 principal (no bonus spent: principal
    // first); M3: 1000 principal. M2 holds nothing.
    let list = refundable(&ledger, at);
    let owed: Vec<(&str, Money)> = list
        .iter()
        .map(|r| (r.member.as_str(), r.refundable))
        .collect();
    assert_eq!(owed, [("M1", m("1100.00")), ("M3", m("1000.00"))]);
    let (_, dry) = close_business(&ledger, at, false).unwrap();
    assert_eq!(
        (dry.members, dry.recorded, dry.refundable),
        (2, 0, m("2100.00"))
    );
    assert_eq!(
        ledger.member(&"M1".parse().unwrap()).unwrap().principal,
        m("700.00"),
        "a dry run records nothing"
    );
    let (_, done) = close_business(&ledger, at, true).unwrap();
    assert_eq!((done.recorded, done.refused), (3, 0));
    // Run again: nothing is left to refund; the same commands sent again are replayed.
    let (_, again) = close_business(&ledger, at, true).unwrap();
    assert_eq!((again.members, again.recorded), (0, 0));
    for c in list.iter().flat_map(|r| &r.commands) {
        assert!(ledger.execute(c).unwrap().replayed);
    }
    let books = Snapshot::as_of(&ledger, None).unwrap().liability().unwrap();
    assert_eq!(
        books.principal.plus(books.bonus).plus(books.packages),
        Money::ZERO
    );
    assert!(ledger.verify().unwrap().ok());
}
