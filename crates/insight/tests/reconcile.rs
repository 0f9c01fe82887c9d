//! Staff and service figures reconcile with the books: per store, the staff's recharges and
//! package cash are the cash the books took, and their net service revenue is the books'
//! revenue; the services' revenue adds up to the same.

use std::collections::BTreeMap;

use memberledger::domain::{CommissionPolicy, Decimal};
use memberledger::{Ledger, Money, Policy};
use memberledger_audit::Snapshot;
use memberledger_insight::{report, Projections};
use memberledger_testkit::year::{Shape, Year};

fn cents(m: &Money) -> i128 {
    i128::from(m.cents())
}

#[test]
fn staff_recharges_and_revenue_per_store_equal_the_books() {
    let ledger = Ledger::in_memory_with(Policy::builtin());
    let shape = Shape {
        stores: 5,
        members: 150,
        commands: 2_500,
        days: 365,
        ..Shape::default()
    };
    let mut year = Year::new(11, shape);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {}).expect("records");
    year.close(&ledger, |_| {});
    let p = Projections::build(&ledger, None).unwrap();
    let rates = CommissionPolicy::new(
        Some(Decimal::new(1, 2)),
        Some(Decimal::new(3, 2)),
        Some(Decimal::new(8, 2)),
    );
    let staff = report::staff(
        &p,
        None,
        None,
        &memberledger_insight::Rates::flat(Some(&rates), memberledger::domain::Rounding::HalfUp),
    );
    let mut cash: BTreeMap<String, i128> = BTreeMap::new();
    let mut revenue: BTreeMap<String, i128> = BTreeMap::new();
    for r in &staff.rows {
        *cash.entry(r.store.to_string()).or_default() +=
            r.figures.recharged + r.figures.package_cash;
        *revenue.entry(r.store.to_string()).or_default() += r.net_revenue;
        assert_eq!(
            r.commission,
            r.commission_recharges + r.commission_packages + r.commission_services
        );
    }
    let books = Snapshot::as_of(&ledger, None)
        .unwrap()
        .store_reports()
        .unwrap();
    assert!(
        books.iter().any(|b| cents(&b.revenue) > 0),
        "the year serves someone"
    );
    for b in &books {
        assert_eq!(
            cash.get(&b.store).copied().unwrap_or(0),
            cents(&b.cash_taken),
            "cash at {}",
            b.store
        );
        assert_eq!(
            revenue.get(&b.store).copied().unwrap_or(0),
            cents(&b.revenue),
            "revenue at {}",
            b.store
        );
    }
    let services: i128 = report::services(&p).ranking.iter().map(|s| s.revenue).sum();
    assert_eq!(
        services,
        books.iter().map(|b| cents(&b.revenue)).sum::<i128>()
    );
    assert!(staff.commission > 0);
    commission_on_services_is_the_rate_of_each_stores_revenue(&staff, &books, &p);
}

/// Commission reconciles with the books: per store, the service commission is 8% of the
/// books' revenue, to within the rounding of each staff row's shares (one per policy version
/// and tier: at most half a cent each).
fn commission_on_services_is_the_rate_of_each_stores_revenue(
    staff: &report::StaffReport,
    books: &[memberledger_audit::StoreReport],
    p: &Projections,
) {
    for b in books {
        let shares: std::collections::BTreeSet<_> = p
            .staff_sales()
            .keys()
            .filter(|((_, store, _), _, _)| store.as_str() == b.store)
            .map(|((staff, _, _), version, tier)| (staff, version, tier))
            .collect();
        let paid: i128 = staff
            .rows
            .iter()
            .filter(|r| r.store.as_str() == b.store)
            .map(|r| r.commission_services)
            .sum();
        let due = cents(&b.revenue) * 8;
        let diff = (paid * 100 - due).abs();
        assert!(
            diff <= i128::try_from(shares.len()).unwrap() * 50,
            "store {}: commission {paid} against 8% of {}",
            b.store,
            cents(&b.revenue)
        );
    }
}
