//! Per service: visits and revenue by local weekday and hour.

use serde::Serialize;

/// One service's custom: a 7 × 24 grid (Monday first, hours 0-23, local time) of visits and
/// revenue in cents, and refunds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceStats {
    /// Visits by weekday and hour.
    pub visits: [[u64; 24]; 7],
    /// Revenue (before refunds) by weekday and hour, in cents.
    pub revenue: [[i128; 24]; 7],
    /// Consumption refunds of this service, in cents.
    #[serde(serialize_with = "crate::cents::ser")]
    pub refunds: i128,
}

impl ServiceStats {
    /// All visits.
    #[must_use]
    pub fn total_visits(&self) -> u64 {
        self.visits.iter().flatten().sum()
    }

    /// All revenue less refunds, in cents.
    #[must_use]
    pub fn net_revenue(&self) -> i128 {
        self.revenue.iter().flatten().sum::<i128>() - self.refunds
    }

    pub(crate) fn visit(&mut self, (weekday, hour): (usize, usize), cents: i128) {
        if let (Some(v), Some(r)) = (
            self.visits.get_mut(weekday).and_then(|d| d.get_mut(hour)),
            self.revenue.get_mut(weekday).and_then(|d| d.get_mut(hour)),
        ) {
            *v += 1;
            *r += cents;
        }
    }
}
