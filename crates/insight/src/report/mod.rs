//! The reports: each a function of the [`Projections`](crate::Projections) and the time it
//! speaks of, returning a `Serialize` struct (rows of figures, money as decimal strings) that
//! a CLI prints as a table and a server can send as JSON as it is.

mod campaigns;
mod churn;
mod dormant;
mod members;
mod services;
mod staff;
mod turnover;

pub use campaigns::{campaigns, CampaignRow, Campaigns, COHORTS_MAX};
pub use churn::{churn, Churn, ChurnRow, ChurnStatus};
pub use dormant::{dormant, Dormant, DormantStore};
pub use members::{members, MemberRow, Members, RankBy};
pub use services::{services, ServiceRow, Services};
pub use staff::{staff, StaffReport, StaffRow};
pub use turnover::{turnover, Turnover, TurnoverRow};

/// The service name of a consumption that named none.
pub const NO_SERVICE: &str = "(unnamed)";

/// Whole days from `from` to `to` (zero when `to` is not later).
pub(crate) fn days_between(from: memberledger::Timestamp, to: memberledger::Timestamp) -> u64 {
    let secs = (to.as_datetime() - from.as_datetime()).num_seconds();
    u64::try_from(secs / 86_400).unwrap_or(0)
}
