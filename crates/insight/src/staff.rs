//! Per staff, store and day: what they sold, served and had refunded.

use chrono::NaiveDate;
use memberledger::domain::StaffId;
use memberledger::StoreId;
use serde::Serialize;

/// Who (`None`: not recorded), where and which local day.
pub type StaffKey = (Option<StaffId>, StoreId, NaiveDate);

/// One staff member's figures at one store on one day, in cents.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StaffDay {
    /// Recharges taken.
    pub recharges: u64,
    /// Cash taken for them.
    #[serde(serialize_with = "crate::cents::ser")]
    pub recharged: i128,
    /// Packages sold.
    pub packages: u64,
    /// Their price.
    #[serde(serialize_with = "crate::cents::ser")]
    pub package_sales: i128,
    /// Of which cash taken at the counter.
    #[serde(serialize_with = "crate::cents::ser")]
    pub package_cash: i128,
    /// Services delivered (consumptions and package sessions).
    pub services: u64,
    /// Their revenue, before refunds.
    #[serde(serialize_with = "crate::cents::ser")]
    pub revenue: i128,
    /// Consumption refunds of services they delivered (revenue reversed, booked at the store
    /// that delivered the service).
    #[serde(serialize_with = "crate::cents::ser")]
    pub service_refunds: i128,
    /// Package refunds of packages they sold.
    #[serde(serialize_with = "crate::cents::ser")]
    pub package_refunds: i128,
}

impl StaffDay {
    /// Adds another day's figures.
    pub(crate) fn add(&mut self, o: &StaffDay) {
        self.recharges += o.recharges;
        self.recharged += o.recharged;
        self.packages += o.packages;
        self.package_sales += o.package_sales;
        self.package_cash += o.package_cash;
        self.services += o.services;
        self.revenue += o.revenue;
        self.service_refunds += o.service_refunds;
        self.package_refunds += o.package_refunds;
    }

    /// Service revenue less consumption refunds.
    #[must_use]
    pub fn net_revenue(&self) -> i128 {
        self.revenue - self.service_refunds
    }
}
