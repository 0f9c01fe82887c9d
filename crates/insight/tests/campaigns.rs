//! The campaigns report and commission by policy version and tier, against small chains
//! worked by hand.

use memberledger::domain::{
    cohort_of, CommissionPolicy, CommissionRates, Decimal, DEFAULT_POLICY_JSON,
};
use memberledger::{Command, MemberId, Policy};
use memberledger_insight::report::{self, CampaignRow};
use memberledger_insight::{Projections, Rates};
use memberledger_testkit::Given;

fn money(c: i128) -> String {
    memberledger::domain::format_cents(c)
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

/// (policy, rule, cohort, members, recharges, cash, bonus, created, consumed, breakage,
/// outstanding, turnover, breakage rate)
type Line = (
    (u32, Option<u32>, u32, u64, u64),
    [String; 6],
    (Option<Decimal>, Option<Decimal>),
);

fn line(r: &CampaignRow) -> Line {
    (
        (r.policy, r.rule, r.cohort, r.members, r.figures.recharges),
        [
            money(r.figures.cash),
            money(r.figures.bonus),
            money(r.liability_created),
            money(r.figures.consumed),
            money(r.figures.breakage),
            money(r.outstanding),
        ],
        (r.turnover, r.breakage_rate),
    )
}

fn expect(
    head: (u32, Option<u32>, u32, u64, u64),
    m: [&str; 6],
    rates: (Option<Decimal>, Option<Decimal>),
) -> Line {
    (head, m.map(str::to_owned), rates)
}

/// Given (built-in policy: 1000.00 draws rule 1, +150.00; 300.00 draws none) M1 recharges
/// 1000.00 and spends 230.00 (200 + 30 bonus); M2 recharges 1000.00, then 300.00; a year
/// and a day later M1's bonus lot expires with 120.00 left. When the campaigns report splits
/// members in two cohorts (M1 is in cohort 1, M2 in cohort 0), then each ladder step of each
/// cohort shows its recharges, cash, bonus, liability created, consumption, breakage,
/// turnover and breakage rate.
#[test]
fn campaigns_compare_each_bonus_rule_by_cohort() {
    let m = |s: &str| MemberId::new(s).unwrap();
    assert_eq!((cohort_of(&m("M1"), 2), cohort_of(&m("M2"), 2)), (1, 0));
    let given = Given::ledger()
        .member("M1")
        .recharged("1000.00")
        .consumed("230.00")
        .member("M2")
        .recharged("1000.00")
        .recharged("300.00")
        .days_later(366)
        .and(r#"{"type":"expire","member":"M1"}"#);
    let p = Projections::build(given.ledger_ref(), None).unwrap();
    let r = report::campaigns(&p, 2);
    assert_eq!(r.cohorts, 2);
    let rows: Vec<Line> = r.rows.iter().map(line).collect();
    assert_eq!(
        rows,
        [
            expect(
                (1, None, 0, 1, 1),
                ["300.00", "0.00", "300.00", "0.00", "0.00", "300.00"],
                (dec("0"), None)
            ),
            expect(
                (1, Some(1), 0, 1, 1),
                ["1000.00", "150.00", "1150.00", "0.00", "0.00", "1150.00"],
                (dec("0"), dec("0"))
            ),
            expect(
                (1, Some(1), 1, 1, 1),
                ["1000.00", "150.00", "1150.00", "230.00", "120.00", "800.00"],
                (dec("0.2"), dec("0.8"))
            ),
        ]
    );
    // One cohort: the two members' rule-1 recharges are one row.
    let one = report::campaigns(&p, 1);
    assert_eq!(one.rows.len(), 2);
    assert_eq!(money(one.rows[1].liability_created), "2300.00");
    assert_eq!(one.rows[1].members, 2);
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains(r#""liability_created":"1150.00""#), "{json}");
}

/// A consumption refunded gives its lots back: what it drew is no longer consumed.
#[test]
fn campaigns_take_refunded_consumption_off_what_was_consumed() {
    const C: &str = "00000000-0000-4000-8000-0000000000c1";
    let given = Given::ledger()
        .member("M1")
        .recharged("1000.00")
        .and(&format!(
            r#"{{"id":"{C}","type":"consume","amount":"230.00"}}"#
        ))
        .and(&format!(
            r#"{{"type":"refund_consumption","consumption":"{C}"}}"#
        ));
    let p = Projections::build(given.ledger_ref(), None).unwrap();
    let r = report::campaigns(&p, 1);
    assert_eq!(money(r.rows[0].figures.consumed), "0.00");
    assert_eq!(money(r.rows[0].outstanding), "1150.00");
}

fn policy_with(commission: &str) -> String {
    let end = DEFAULT_POLICY_JSON.rfind('}').unwrap();
    format!(
        "{},\n  \"commission\": {commission}\n}}",
        &DEFAULT_POLICY_JSON[..end].trim_end()
    )
}

/// Given version 1 pays 2% on recharges and 10% on services, 20% on services to silver
/// members; version 2 (published the next day) pays 5% on services only. M1 (standard)
/// recharges 1000.00 (E1: 20.00), is served 100.00 (E2: 10.00), recharges 2000.00 (E1:
/// 40.00, sold to a standard member; the recharge makes M1 silver), is served 95.00 (100.00
/// at silver's 0.95; E2: 19.00). Under version 2: served 95.00 (E2: 4.75), recharges 500.00
/// (E1: nothing), and the first service is refunded (E2: its 10.00 taken back at version
/// 1's standard rate). Then E1 earns 60.00 and E2 23.75.
#[test]
fn commission_is_paid_at_the_version_in_force_and_the_tier_of_each_sale() {
    const FIRST: &str = "00000000-0000-4000-8000-0000000000d1";
    let v1 = CommissionPolicy::new(dec("0.02"), None, dec("0.10"))
        .with_tier("silver", CommissionRates::new(None, None, dec("0.20")));
    let policy = Policy::from_json(&policy_with(&serde_json::to_string(&v1).unwrap())).unwrap();
    let given = Given::ledger()
        .with_policy(policy)
        .member("M1")
        .and(r#"{"type":"recharge","amount":"1000.00","staff":"E1"}"#)
        .and(&format!(
            r#"{{"id":"{FIRST}","type":"consume","amount":"100.00","staff":"E2"}}"#
        ))
        .and(r#"{"type":"recharge","amount":"2000.00","staff":"E1"}"#)
        .and(r#"{"type":"consume","amount":"100.00","staff":"E2"}"#);
    let v2 = policy_with(r#"{"service":"0.05"}"#);
    let publish = format!(
        r#"{{"id":"00000000-0000-4000-8000-0000000000d2","at":"2026-01-02T00:00:00Z","type":"publish_policy","store":"HQ","policy":{v2}}}"#
    );
    given
        .ledger_ref()
        .execute(&Command::from_json(&publish.replace('\n', " ")).unwrap())
        .unwrap();
    let given = given
        .days_later(2)
        .and(r#"{"type":"consume","amount":"100.00","staff":"E2"}"#)
        .and(r#"{"type":"recharge","amount":"500.00","staff":"E1"}"#)
        .and(&format!(
            r#"{{"type":"refund_consumption","consumption":"{FIRST}"}}"#
        ));
    let ledger = given.ledger_ref();
    let p = Projections::build(ledger, None).unwrap();
    let r = report::staff(&p, None, None, &Rates::of_history(&ledger.policy_history()));
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| {
            (
                r.staff.as_ref().map(ToString::to_string),
                money(r.figures.recharged),
                money(r.net_revenue),
                money(r.commission_recharges),
                money(r.commission_services),
                money(r.commission),
            )
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        rows,
        [
            (
                Some(s("E1")),
                s("3500.00"),
                s("0.00"),
                s("60.00"),
                s("0.00"),
                s("60.00")
            ),
            (
                Some(s("E2")),
                s("0.00"),
                s("190.00"),
                s("0.00"),
                s("23.75"),
                s("23.75")
            ),
        ]
    );
    assert_eq!(money(r.commission), "83.75");
    assert_eq!(r.rates.len(), 2, "both versions' rates are in the report");
}

/// Given an A/B policy (cohort 0 of 2 gets 50.00 from 500.00, cohort 1 gets 80.00 from
/// 500.00), when M1 (cohort 1) and M2 (cohort 0) each recharge 500.00, then the campaigns report
/// shows one row per scoped rule, each with its own members and bonus.
#[test]
fn campaigns_report_each_scoped_rule_of_an_ab_test_on_its_own_row() {
    let policy = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],
      "recharge_bonus":[{"min":"500.00","bonus":"50.00","cohorts":2,"cohort":0},
                        {"min":"500.00","bonus":"80.00","cohorts":2,"cohort":1}]}"#;
    let given = Given::ledger()
        .with_policy(Policy::from_json(policy).unwrap())
        .member("M1")
        .recharged("500.00")
        .member("M2")
        .recharged("500.00");
    let p = Projections::build(given.ledger_ref(), None).unwrap();
    let r = report::campaigns(&p, 1);
    let rows: Vec<(Option<u32>, u64, String)> = r
        .rows
        .iter()
        .map(|r| (r.rule, r.members, money(r.figures.bonus)))
        .collect();
    assert_eq!(
        rows,
        [
            (Some(0), 1, "50.00".to_owned()),
            (Some(1), 1, "80.00".to_owned())
        ]
    );
}
