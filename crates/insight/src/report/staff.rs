//! Staff performance and commission (员工业绩与提成) over a period.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use memberledger::domain::{CommissionPolicy, Rounding, StaffId};
use memberledger::{Money, StoreId};
use serde::Serialize;

use crate::{Projections, StaffDay};

/// One staff member's figures at one store over the period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffRow {
    /// The staff member (`None`: sales and services recorded without one).
    pub staff: Option<StaffId>,
    /// The store.
    pub store: StoreId,
    /// What they sold and served.
    #[serde(flatten)]
    pub figures: StaffDay,
    /// Service revenue less consumption refunds.
    #[serde(serialize_with = "crate::cents::ser")]
    pub net_revenue: i128,
    /// Commission on recharges: `round(recharged × rate)`.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission_recharges: i128,
    /// Commission on packages: `round((package sales − package refunds) × rate)`.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission_packages: i128,
    /// Commission on services: `round(net revenue × rate)`.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission_services: i128,
    /// The three commissions.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission: i128,
}

/// The staff report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaffReport {
    /// First local day of the period (inclusive), or from the start.
    pub from: Option<NaiveDate>,
    /// Last local day of the period (inclusive), or to the end.
    pub to: Option<NaiveDate>,
    /// The rates applied (`None`: no commission).
    pub rates: Option<CommissionPolicy>,
    /// Commission in all.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission: i128,
    /// Staff by net revenue plus sales, highest first (then by staff and store).
    pub rows: Vec<StaffRow>,
}

/// Each staff member's figures per store over `[from, to]` (local days, both inclusive), with
/// commission at `rates` rounded by `rounding`. Staff without an id are one row per store,
/// so every store's rows add up to its books.
#[must_use]
pub fn staff(
    p: &Projections,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    rates: Option<&CommissionPolicy>,
    rounding: Rounding,
) -> StaffReport {
    let mut sums: BTreeMap<(Option<StaffId>, StoreId), StaffDay> = BTreeMap::new();
    for ((staff, store, day), figures) in p.staff_days() {
        if from.is_some_and(|f| *day < f) || to.is_some_and(|t| *day > t) {
            continue;
        }
        sums.entry((staff.clone(), store.clone()))
            .or_default()
            .add(figures);
    }
    let mut rows: Vec<StaffRow> = sums
        .into_iter()
        .map(|((staff, store), figures)| row(staff, store, figures, rates, rounding))
        .collect();
    rows.sort_by(|a, b| {
        let score = |r: &StaffRow| r.net_revenue + r.figures.recharged + r.figures.package_sales;
        score(b)
            .cmp(&score(a))
            .then_with(|| (&a.staff, &a.store).cmp(&(&b.staff, &b.store)))
    });
    StaffReport {
        from,
        to,
        rates: rates.cloned(),
        commission: rows.iter().map(|r| r.commission).sum(),
        rows,
    }
}

fn row(
    staff: Option<StaffId>,
    store: StoreId,
    figures: StaffDay,
    rates: Option<&CommissionPolicy>,
    rounding: Rounding,
) -> StaffRow {
    let on = |rate: Option<memberledger::domain::Decimal>, cents: i128| -> i128 {
        // Sums beyond what one Money holds are paid in no commission rather than a panic;
        // a chain's period of sales is far below it.
        i64::try_from(cents)
            .ok()
            .and_then(|c| CommissionPolicy::apply(rate, Money::from_cents(c), rounding))
            .map_or(0, |m| i128::from(m.cents()))
    };
    let net_revenue = figures.net_revenue();
    let (r, k, s) = rates.map_or((None, None, None), |c| (c.recharge, c.package, c.service));
    let commission_recharges = on(r, figures.recharged);
    let commission_packages = on(k, figures.package_sales - figures.package_refunds);
    let commission_services = on(s, net_revenue);
    StaffRow {
        staff,
        store,
        figures,
        net_revenue,
        commission_recharges,
        commission_packages,
        commission_services,
        commission: commission_recharges + commission_packages + commission_services,
    }
}
