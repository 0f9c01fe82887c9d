//! Each report against a small chain worked by hand.
//!
//! The chain (built-in policy: a 1000.00 recharge gives 150.00 bonus, spending splits in
//! proportion to principal and bonus), with the commission rates 2% on recharges and 10% on
//! services. Given's clock starts 2026-01-01 09:00 UTC (a Thursday), a minute per command:
//!
//! - M1 enrolls at S1 (09:00); E1 takes a 1000.00 recharge (09:01): 1000 + 150 bonus, at S1;
//! - E2 serves M1 a facial for 230.00 at S1 (09:02): 200 principal + 30 bonus;
//! - ten days later (Sunday 2026-01-11) E3 serves M1 a massage for 115.00 at S2 (09:03):
//!   100 + 15, drawn from S1's lots; it is refunded in full (09:04): S1's lots take it back;
//! - thirty days later (2026-02-10) M2 enrolls at S2 (09:05); E3 takes 500.00 (09:06): +50.
//!
//! As of 2026-04-15 00:00: M1 holds 920.00 at S1 (800 + 120), last came 93 days ago, spent
//! 230.00; M2 holds 550.00 at S2, never came, enrolled 63 days ago.

use memberledger::domain::{CommissionPolicy, Decimal, Rounding};
use memberledger::{Policy, Timestamp};
use memberledger_insight::report::{self, ChurnStatus, RankBy};
use memberledger_insight::{Projections, Rates};
use memberledger_testkit::Given;

const MASSAGE: &str = "00000000-0000-4000-8000-0000000000a1";

fn rates() -> CommissionPolicy {
    CommissionPolicy::new(Some(Decimal::new(2, 2)), None, Some(Decimal::new(10, 2)))
}

fn chain() -> Projections {
    let policy = Policy::builder().commission(Some(rates())).build().unwrap();
    let given = Given::ledger()
        .with_policy(policy)
        .member("M1")
        .and(r#"{"type":"recharge","amount":"1000.00","staff":"E1"}"#)
        .and(r#"{"type":"consume","amount":"230.00","service":"facial","staff":"E2"}"#)
        .days_later(10)
        .at_store("S2")
        .and(&format!(
            r#"{{"id":"{MASSAGE}","type":"consume","amount":"115.00","service":"massage","staff":"E3"}}"#
        ))
        .and(&format!(r#"{{"type":"refund_consumption","consumption":"{MASSAGE}"}}"#))
        .days_later(30)
        .member("M2")
        .and(r#"{"type":"recharge","amount":"500.00","staff":"E3"}"#);
    Projections::build(given.ledger_ref(), None).unwrap()
}

fn now() -> Timestamp {
    "2026-04-15T00:00:00Z".parse().unwrap()
}

fn money(c: i128) -> String {
    memberledger::domain::format_cents(c)
}

#[test]
fn churn_lists_members_past_the_line_and_those_nearing_it() {
    let r = report::churn(&chain(), now(), 90, 30);
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| {
            (
                r.member.as_str(),
                r.idle_days,
                r.status,
                money(r.balance),
                money(r.lifetime_spend),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "M1",
                93,
                ChurnStatus::Churned,
                "920.00".into(),
                "230.00".into()
            ),
            (
                "M2",
                63,
                ChurnStatus::AtRisk,
                "550.00".into(),
                "0.00".into()
            ),
        ]
    );
    assert_eq!(
        (r.churned, r.at_risk, money(r.balance)),
        (1, 1, "1470.00".into())
    );
    // A member not yet within the warning days is not listed.
    assert_eq!(report::churn(&chain(), now(), 90, 20).rows.len(), 1);
}

#[test]
fn dormant_counts_stored_value_untouched_for_the_days_by_the_store_holding_it() {
    let r = report::dormant(&chain(), now(), 90);
    let stores: Vec<_> = r
        .stores
        .iter()
        .map(|s| {
            (
                s.store.as_str(),
                s.members,
                money(s.dormant),
                money(s.held),
                s.share_bp,
            )
        })
        .collect();
    assert_eq!(
        stores,
        [
            ("S1", 1, "920.00".into(), "920.00".into(), 10_000),
            ("S2", 0, "0.00".into(), "550.00".into(), 0),
        ]
    );
    assert_eq!(
        (r.members, money(r.dormant), money(r.held)),
        (1, "920.00".into(), "1470.00".into())
    );
    assert_eq!(report::dormant(&chain(), now(), 60).members, 2);
}

#[test]
fn turnover_is_consumed_over_the_average_held() {
    let r = report::turnover(&chain());
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| {
            (
                r.store.to_string(),
                r.month.to_string(),
                money(r.flows.opened),
                money(r.flows.consumed),
                money(r.closing),
                money(r.average),
                r.turnover.map(|t| t.to_string()),
            )
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        rows,
        [
            // 1150 recharged and granted + 115 given back; 230 + 115 spent: 0.75.
            (
                s("S1"),
                s("2026-01"),
                s("1265.00"),
                s("345.00"),
                s("920.00"),
                s("460.00"),
                Some(s("0.75"))
            ),
            (
                s("S2"),
                s("2026-02"),
                s("550.00"),
                s("0.00"),
                s("550.00"),
                s("275.00"),
                Some(s("0"))
            ),
        ]
    );
}

#[test]
fn staff_commission_is_the_policy_rate_of_recharges_and_net_service_revenue() {
    let r = report::staff(
        &chain(),
        None,
        None,
        &Rates::flat(Some(&rates()), Rounding::HalfUp),
    );
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| {
            (
                r.staff.as_ref().map(|s| s.to_string()),
                r.store.to_string(),
                money(r.figures.recharged),
                money(r.net_revenue),
                money(r.commission),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            Some(a.to_owned()),
            b.to_owned(),
            c.to_owned(),
            d.to_owned(),
            e.to_owned(),
        )
    };
    assert_eq!(
        rows,
        [
            row("E1", "S1", "1000.00", "0.00", "20.00"),
            // 115.00 served and refunded: no service commission.
            row("E3", "S2", "500.00", "0.00", "10.00"),
            row("E2", "S1", "0.00", "230.00", "23.00"),
        ]
    );
    assert_eq!(money(r.commission), "53.00");
    // A period from 2026-01-05 leaves out New Year's Day.
    let from = "2026-01-05".parse().ok();
    let later = report::staff(
        &chain(),
        from,
        None,
        &Rates::flat(Some(&rates()), Rounding::HalfUp),
    );
    assert_eq!(later.rows.len(), 1);
    // No rates: no commission.
    assert_eq!(
        report::staff(&chain(), None, None, &Rates::flat(None, Rounding::HalfUp)).commission,
        0
    );
}

#[test]
fn services_rank_by_visits_then_revenue_with_the_weekday_hour_heatmap() {
    let r = report::services(&chain());
    let ranking: Vec<_> = r
        .ranking
        .iter()
        .map(|s| (s.service.as_str(), s.visits, money(s.revenue), s.peak))
        .collect();
    assert_eq!(
        ranking,
        [
            ("facial", 1, "230.00".into(), (3, 9)),
            ("massage", 1, "0.00".into(), (6, 9)),
        ]
    );
    assert_eq!((r.heatmap[3][9], r.heatmap[6][9]), (1, 1));
    assert_eq!(r.heatmap.iter().flatten().sum::<u64>(), 2);
}

#[test]
fn members_rank_by_ltv_spend_or_visits_with_their_favourites() {
    let p = chain();
    let top = report::members(&p, 1, RankBy::Visits);
    let m = &top.rows[0];
    assert_eq!(top.rows.len(), 1);
    assert_eq!(
        (
            m.member.as_str(),
            m.visits,
            money(m.spend),
            money(m.average_ticket)
        ),
        ("M1", 2, "230.00".into(), "115.00".into())
    );
    // One visit each: the first by name.
    assert_eq!(m.favourite_service.as_deref(), Some("facial"));
    assert_eq!(m.favourite_staff.as_ref().map(|s| s.as_str()), Some("E2"));
    let ltv: Vec<_> = report::members(&p, 5, RankBy::Ltv)
        .rows
        .iter()
        .map(|r| (r.member.to_string(), money(r.ltv)))
        .collect();
    assert_eq!(
        ltv,
        [
            ("M1".into(), "1000.00".into()),
            ("M2".into(), "500.00".into())
        ]
    );
}

#[test]
fn reports_serialise_money_as_decimal_strings() {
    let json = serde_json::to_string(&report::churn(&chain(), now(), 90, 30)).unwrap();
    assert!(json.contains(r#""balance":"920.00""#), "{json}");
    assert!(json.contains(r#""status":"churned""#), "{json}");
}

/// A package of three facials bought for 300.00 cash (E5 sells it), one session delivered
/// (E6 serves it: 100.00 revenue), the rest refunded in cash (200.00).
#[test]
fn packages_count_to_the_seller_sessions_to_the_server_and_refunds_to_the_seller() {
    const PACKAGE: &str = "00000000-0000-4000-8000-0000000000b1";
    let rates = CommissionPolicy::new(None, Some(Decimal::new(5, 2)), Some(Decimal::new(10, 2)));
    let given = Given::ledger()
        .member("M1")
        .and(&format!(
            r#"{{"id":"{PACKAGE}","type":"purchase_package","amount":"300.00","paid_from":"cash","sessions":3,"service":"facial","staff":"E5"}}"#
        ))
        .and(&format!(r#"{{"type":"redeem_session","package":"{PACKAGE}","staff":"E6"}}"#))
        .and(&format!(r#"{{"type":"refund_package","package":"{PACKAGE}"}}"#));
    let p = Projections::build(given.ledger_ref(), None).unwrap();
    let r = report::staff(&p, None, None, &Rates::flat(Some(&rates), Rounding::HalfUp));
    let rows: Vec<_> = r
        .rows
        .iter()
        .map(|r| {
            (
                r.staff
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                money(r.figures.package_sales),
                money(r.figures.package_refunds),
                money(r.net_revenue),
                money(r.commission),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            a.to_owned(),
            b.to_owned(),
            c.to_owned(),
            d.to_owned(),
            e.to_owned(),
        )
    };
    assert_eq!(
        rows,
        [
            // 5% of 300.00 sold less 200.00 refunded.
            row("E5", "300.00", "200.00", "0.00", "5.00"),
            row("E6", "0.00", "0.00", "100.00", "10.00"),
        ]
    );
    let m = &report::members(&p, 1, RankBy::Spend).rows[0];
    assert_eq!(
        (
            money(m.ltv),
            money(m.spend),
            m.visits,
            m.favourite_service.as_deref()
        ),
        ("100.00".into(), "100.00".into(), 1, Some("facial"))
    );
    assert_eq!(report::services(&p).ranking[0].service, "facial");
}
