//! Auditing a memberledger: the books as of any time, store and settlement reports, the
//! chain's stored-value liability, member statements, and streaming exports that tools we did
//! not write (hledger, ledger, beancount, a spreadsheet, a JSON parser) can check.
//!
//! ```
//! use memberledger::{Command, Ledger, Money};
//! use memberledger_audit::Snapshot;
//!
//! let ledger = Ledger::in_memory();
//! for line in [
//!     r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
//!     r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#,
//!     r#"{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00"}"#,
//! ] {
//!     ledger.execute(&Command::from_json(line)?)?;
//! }
//! let books = Snapshot::as_of(&ledger, None)?;
//! assert_eq!(books.trial_balance_total(), 0);
//! // S1 holds the cash of the principal S2 spent: S1 owes S2 260.87.
//! let owed = books.settlement()?;
//! assert_eq!((owed[0].debtor.as_str(), owed[0].creditor.as_str()), ("S1", "S2"));
//! assert_eq!(owed[0].outstanding, Money::from_cents(26_087));
//! // Report money is `Money`: it serializes to the same string the CLI prints.
//! assert_eq!(serde_json::to_string(&owed[0].outstanding)?, r#""260.87""#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod export;
mod prepaid;
mod snapshot;
mod statement;

pub use export::{bean_account, bean_component, bean_component_to_id, export, ExportError, Format};
pub use prepaid::{
    close_business, parse_utc_offset, prepaid_report, refundable, CloseBusiness, EntityReport,
    Movement, Outstanding, OverCap, PrepaidReport, Quarter, Refundable, CLOSE_BUSINESS_NAMESPACE,
};
pub use snapshot::{
    AccountBalance, Liability, PairSettlement, Snapshot, StoreLiability, StoreReport,
};
pub use statement::{statement, Statement, StatementLine};
