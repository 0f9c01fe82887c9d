//! Staff performance and commission (员工业绩与提成) over a period.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use memberledger::domain::{CommissionRates, Decimal, Rounding, StaffId};
use memberledger::{Money, StoreId};
use serde::Serialize;

use crate::{Projections, Rates, StaffDay, VersionRates};

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
    /// The rates of each policy version: each sale is paid at the version in force when it
    /// was made, by the tier of the member it was made to.
    pub rates: Vec<VersionRates>,
    /// Commission in all.
    #[serde(serialize_with = "crate::cents::ser")]
    pub commission: i128,
    /// Staff by net revenue plus sales, highest first (then by staff and store).
    pub rows: Vec<StaffRow>,
}

/// A staff member's sales at a store under one policy version to one tier.
type Share = ((Option<StaffId>, StoreId), u32, Option<String>);

/// Each staff member's figures per store over `[from, to]` (local days, both inclusive), with
/// commission at the rates of the policy version in force at each sale and the tier of the
/// member it was made to, rounded by that version's rounding on each row's share under one
/// version and tier. Staff without an id are one row per store, so every store's rows add up
/// to its books.
#[must_use]
pub fn staff(
    p: &Projections,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    rates: &Rates,
) -> StaffReport {
    let mut shares: BTreeMap<Share, StaffDay> = BTreeMap::new();
    for (((staff, store, day), version, tier), figures) in p.staff_sales() {
        if from.is_some_and(|f| *day < f) || to.is_some_and(|t| *day > t) {
            continue;
        }
        let key = ((staff.clone(), store.clone()), *version, tier.clone());
        shares.entry(key).or_default().add(figures);
    }
    let mut rows: BTreeMap<(Option<StaffId>, StoreId), StaffRow> = BTreeMap::new();
    for ((who, version, tier), figures) in shares {
        let share = row(
            who.0.clone(),
            who.1.clone(),
            figures,
            &rates.of(version, tier.as_deref()),
            rates.rounding(version),
        );
        match rows.entry(who) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(share);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().add(&share),
        }
    }
    let mut rows: Vec<StaffRow> = rows.into_values().collect();
    rows.sort_by(|a, b| {
        let score = |r: &StaffRow| r.net_revenue + r.figures.recharged + r.figures.package_sales;
        score(b)
            .cmp(&score(a))
            .then_with(|| (&a.staff, &a.store).cmp(&(&b.staff, &b.store)))
    });
    StaffReport {
        from,
        to,
        rates: rates.versions().cloned().collect(),
        commission: rows.iter().map(|r| r.commission).sum(),
        rows,
    }
}

impl StaffRow {
    /// Adds another share of the same staff and store.
    fn add(&mut self, o: &StaffRow) {
        self.figures.add(&o.figures);
        self.net_revenue += o.net_revenue;
        self.commission_recharges += o.commission_recharges;
        self.commission_packages += o.commission_packages;
        self.commission_services += o.commission_services;
        self.commission += o.commission;
    }
}

fn row(
    staff: Option<StaffId>,
    store: StoreId,
    figures: StaffDay,
    rates: &CommissionRates,
    rounding: Rounding,
) -> StaffRow {
    let on = |rate: Option<Decimal>, cents: i128| -> i128 {
        // Sums beyond what one Money holds are paid in no commission rather than a panic;
        // a chain's period of sales is far below it.
        i64::try_from(cents)
            .ok()
            .and_then(|c| {
                memberledger::domain::CommissionPolicy::apply(rate, Money::from_cents(c), rounding)
            })
            .map_or(0, |m| i128::from(m.cents()))
    };
    let net_revenue = figures.net_revenue();
    let commission_recharges = on(rates.recharge, figures.recharged);
    let commission_packages = on(
        rates.package,
        figures.package_sales - figures.package_refunds,
    );
    let commission_services = on(rates.service, net_revenue);
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
