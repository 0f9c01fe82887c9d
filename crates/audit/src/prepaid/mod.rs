//! Prepaid-card reports (issue 17, docs/COMPLIANCE.md): the quarterly deposit and filing
//! report by issuing entity, and what every member is owed when the card business closes.

mod flows;
mod quarter;
mod refundable;
mod report;

pub use flows::Movement;
pub use quarter::{parse_utc_offset, Quarter};
pub use refundable::{
    close_business, refundable, CloseBusiness, Refundable, CLOSE_BUSINESS_NAMESPACE,
};
pub use report::{prepaid_report, EntityReport, Outstanding, OverCap, PrepaidReport};
