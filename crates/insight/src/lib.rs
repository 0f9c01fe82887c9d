//! What the ledger tells a chain: projections folded from its recorded events, and the
//! reports a chain asks of them — churn warnings (流失预警), dormant stored value, the
//! turnover of stored value (储值资金周转率), staff performance and commission (提成),
//! service popularity by weekday and hour (项目热度), and members ranked by value.
//!
//! [`Projections`] is a fold: [`Projections::apply`] takes one [`RecordedEvent`] at a time,
//! so it can be fed from genesis or kept up to date from where it stopped
//! ([`Projections::catch_up`]), and it always equals a replay from genesis. It never reads the
//! clock: a report takes the time it speaks of. Money is exact cents (`i128` sums, written
//! as decimal strings); only ratios (turnover) are decimals.
//!
//! ```
//! use memberledger::Ledger;
//! use memberledger_insight::{report, Projections};
//!
//! let ledger = Ledger::in_memory();
//! // … record commands …
//! let p = Projections::build(&ledger, None).unwrap();
//! let now = "2026-06-01T00:00:00Z".parse().unwrap();
//! let churn = report::churn(&p, now, 90, 30);
//! assert!(churn.rows.is_empty());
//! ```
//!
//! [`RecordedEvent`]: memberledger::domain::RecordedEvent

mod calendar;
mod campaign;
mod cents;
pub mod chart;
mod fold;
mod member;
mod projections;
mod rates;
pub mod report;
mod service;
mod staff;
mod store_month;

pub use calendar::{Calendar, Month};
pub use campaign::{CampaignKey, CampaignStats};
pub use member::MemberStats;
pub use projections::{Projections, SaleKey};
pub use rates::{Rates, VersionRates};
pub use service::ServiceStats;
pub use staff::{StaffDay, StaffKey};
pub use store_month::StoreMonth;
