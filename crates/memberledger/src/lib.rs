//! # memberledger
//!
//! The ledger core of stored-value membership programs: the prepaid member cards of beauty,
//! spa, nail and wellness chains. Members recharge at one store, receive bonus credit by the
//! chain's rules, spend at any store, earn points, climb tiers and get refunds. Every change
//! is an immutable event in a hash chain; balances are folds of events.
//!
//! This crate is the one stable API. Open a ledger (on disk with sled, or in memory), execute
//! commands, read members, verify:
//!
//! ```
//! use memberledger::{Command, Ledger, MemberId};
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("ledger");
//! let ledger = Ledger::open(&path)?; // sled on disk, built-in policy
//! for line in [
//!     r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
//!     r#"{"id":"8b0e4f2a-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#,
//!     r#"{"id":"8b0e4f2a-0000-4000-8000-000000000003","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00","service":"facial"}"#,
//! ] {
//!     let receipt = ledger.execute(&Command::from_json(line)?)?; // durable when it returns
//!     assert!(!receipt.replayed);
//! }
//! let m1 = ledger.member(&MemberId::new("M1")?).unwrap();
//! // 1000 recharged + 150 bonus; 300 split in proportion: 260.87 principal, 39.13 bonus.
//! assert_eq!(m1.principal.to_string(), "739.13");
//! assert_eq!(m1.bonus.to_string(), "110.87");
//! assert_eq!(m1.points, 260);
//! assert!(ledger.verify()?.ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Business rules live in [`decide`]; [`MemberState::apply`] only folds. Time and ids come in
//! with each command, so the same commands always give a byte-identical log.

mod clock;
mod error;
mod ledger;
mod receipt;
mod replay;
mod restore;
mod verify;

pub use clock::{Clock, DEFAULT_MAX_SKEW_SECS};
pub use error::Error;
pub use ledger::{Ledger, BATCH_MAX};
pub use receipt::Receipt;
pub use verify::{Problem, VerifyReport};

/// One struct per event type (see [`EventBody`]).
pub use memberledger_core::events;
pub use memberledger_core::{
    check_balanced, decide, format_cents, postings, Account, Action, Clearing, Command, Context,
    Decision, Draw, Event, EventBody, Lot, LotKind, MemberId, MemberState, MemberView, Money,
    Package, PackageStatus, PaidFrom, PointLot, Policy, PolicyHistory, PolicyVersion, Posting,
    RecordedEvent, Rejection, Restore, StaffId, StoreId, Timestamp, Uuid, COMMAND_LINE_MAX,
    DEFAULT_POLICY_JSON,
};
pub use memberledger_store::{EventStore, MemoryStore, StoreError};
pub use memberledger_store_sled::SledStore;
