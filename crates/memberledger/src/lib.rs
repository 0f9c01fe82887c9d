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
//! # #[cfg(feature = "sled")]
//! let ledger = Ledger::open(&path)?; // sled on disk, built-in policy
//! # #[cfg(not(feature = "sled"))]
//! # let ledger = Ledger::in_memory();
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
//! Business rules live in [`domain::decide`]; [`domain::MemberState::apply`] only folds. Time
//! and ids come in with each command, so the same commands always give a byte-identical log.
//!
//! ## What is where
//!
//! - At the root, the handful every user names: [`Ledger`], [`Command`] and [`Action`],
//!   [`MemberId`], [`StoreId`], [`Money`], [`Timestamp`], [`Uuid`] (with `Uuid::new_v4()`
//!   for new command ids), [`Policy`], [`MemberView`], [`Receipt`], [`Error`],
//!   [`VerifyReport`], [`Clock`].
//! - [`domain`]: every other type of the core a signature names (events, member states,
//!   policy versions and rules, the books' postings, rejections).
//! - [`store`]: the [`EventStore`](store::EventStore) trait and what it takes and returns,
//!   the in-memory store and, with the `sled` feature, the store on disk.
//!
//! ## Features
//!
//! - `sled` (default): the embedded store on disk: [`Ledger::open`], [`Ledger::create`],
//!   [`Ledger::create_or_open`], [`Ledger::open_existing`], [`Ledger::open_verified`],
//!   [`Ledger::restore`] and `store::SledStore`. Without it (`default-features = false`) the
//!   ledger runs on any [`EventStore`](store::EventStore) through [`Ledger::with_store`], or
//!   in memory.
//! - `postgres` (off by default): the PostgreSQL store, one ledger that many processes
//!   write at once: `Ledger::open_postgres` and `store::PgStore`. Any store other processes
//!   append to is opened with [`Ledger::with_shared_store`], which keeps the projections
//!   current by reading what the others appended.
//!
//! ## Errors
//!
//! Every failure is an [`Error`] with a stable [`code`](Error::code); the table on [`Error`]
//! says which to retry ([`is_retryable`](Error::is_retryable)). A rejected command records
//! nothing. A storage error means the command was not acknowledged: retry it with the same
//! id (a retry of a command that did get in returns its original receipt). After such an
//! error the ledger reads only the events that follow the last position it knew, to learn
//! what the store kept.
//!
//! ## Threads and async
//!
//! A [`Ledger`] is `Send + Sync`: share one `Arc<Ledger>` between threads. Its calls
//! **block**: [`execute`](Ledger::execute) returns once the command is durable, which for a
//! ledger on disk means after an `fsync`, and a caller may commit the group of commands queued
//! behind it before it gets its own answer (one group at most). Reads
//! ([`member`](Ledger::member), [`member_ids`](Ledger::member_ids)) answer from memory and do
//! not wait for writers, but [`member_state`](Ledger::member_state),
//! [`member_events`](Ledger::member_events), [`events`](Ledger::events) and
//! [`verify`](Ledger::verify) read the store.
//!
//! From an async runtime, run every call that writes or reads the store on the blocking
//! pool, never on the runtime's worker threads: with tokio, `spawn_blocking`. Many
//! concurrent `execute`s from `spawn_blocking` tasks are committed together, one `fsync` per
//! group. (`examples/tokio_pos.rs` is the same as a program: `cargo run -p memberledger
//! --example tokio_pos`.)
//!
//! ```
//! use std::sync::Arc;
//! use memberledger::{Command, Error, Ledger, Receipt};
//!
//! /// What a handler of an async server calls: the ledger's blocking work on tokio's
//! /// blocking pool.
//! async fn execute(ledger: &Arc<Ledger>, command: Command) -> Result<Receipt, Error> {
//!     let ledger = Arc::clone(ledger);
//!     tokio::task::spawn_blocking(move || ledger.execute(&command))
//!         .await
//!         .expect("the ledger does not panic")
//! }
//!
//! #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let ledger = Arc::new(Ledger::in_memory());
//!     let enroll = Command::from_json(r#"{"id":"8b0e4f2a-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#)?;
//!     execute(&ledger, enroll).await?;
//!     // Four terminals recharging at once (the same minute: a member's commands must not
//!     // go back in time, and these may be committed in any order): each awaits its receipt.
//!     let terminals: Vec<_> = (2..6u128)
//!         .map(|n| {
//!             let ledger = Arc::clone(&ledger);
//!             tokio::spawn(async move {
//!                 let line = format!(r#"{{"id":"{}","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"100.00"}}"#, memberledger::Uuid::from_u128(n));
//!                 execute(&ledger, Command::from_json(&line)?).await
//!             })
//!         })
//!         .collect();
//!     for t in terminals {
//!         assert!(!t.await?.map_err(|e| e.to_string())?.replayed);
//!     }
//!     let m1 = tokio::task::spawn_blocking(move || ledger.member(&"M1".parse().unwrap())).await?;
//!     assert!(m1.is_some());
//!     Ok(())
//! }
//! ```

mod checkpoint;
mod clock;
mod error;
mod ledger;
mod members;
mod projection;
mod receipt;
mod replay;
mod restore;
mod verify;

pub use checkpoint::{CHECKPOINT_EVERY, CHECKPOINT_VERSION};
pub use clock::{Clock, DEFAULT_MAX_SKEW_SECS};
pub use error::Error;
#[cfg(feature = "sled")]
pub use ledger::StoreKind;
pub use ledger::{
    Ledger, LedgerOptions, Quote, TierReview, TierReviewCount, BATCH_MAX, FEED_PAGE_MAX,
};
pub use receipt::Receipt;
pub use verify::{Problem, VerifyReport};

// The flat prelude: what nearly every user of the ledger names.
pub use memberledger_core::{
    Action, Command, MemberId, MemberView, Money, Policy, StoreId, Timestamp, Uuid,
};

/// The domain types of the core, grouped: commands and their parts, events, members' states
/// and views, policies and their versions, money and ids, the books, and the rules
/// themselves ([`decide`](domain::decide)). Every type a public signature of this crate
/// names is here (or in the flat prelude at the crate root).
pub mod domain {
    pub use memberledger_core::events;
    pub use memberledger_core::{
        card_ref, check_balanced, cohort_of, decide, format_cents, hmac_sha256, opened_package_id,
        postings, Account, Action, Balance, BonusRule, Card, CardDirectory, CardPolicy, CardStatus,
        CardStore, Clearing, Command, CommandBuilder, CommissionPolicy, CommissionRates,
        ConsumptionRecord, Context, Decimal, Decision, Direction, Draw, DrawnLot, Event, EventBody,
        FoldError, FreezePolicy, Hash, Hold, Lot, LotKind, MemberId, MemberState, MemberView,
        Money, NoticePolicy, Opening, OpeningBonus, OpeningPackage, OpeningPoints,
        OpeningPrincipal, Package, PackagePolicy, PackageRefundTo, PackageStatus, PaidFrom,
        PointLot, PointsDraw, Policy, PolicyBuilder, PolicyHistory, PolicyVersion, Posting,
        RecordedEvent, RefundPolicy, Rejection, Restore, Rounding, SpendOrder, StaffId, StoreId,
        Tier, TierName, Timestamp, Upgrade, Uuid, COMMAND_LINE_MAX, DEFAULT_POLICY_JSON,
        OPENING_ENTRIES_MAX,
    };
    // Prepaid-card rules (issue 17): issuing entities, caps, refund formulas.
    pub use memberledger_core::{
        pro_rata_refund, Entity, EntityKind, PrepaidPolicy, RefundFormula, Threshold,
        DEFAULT_DEPOSIT_RATIO, DEFAULT_ENTITY_ID,
    };
    pub use memberledger_core::{
        External, ExternalAmount, ExternalPay, Given, GivenKind, PointsEarnedOn, CASH_METHOD,
    };
    // Coupons and free sessions (issue 14).
    pub use memberledger_core::{Coupon, CouponKind, CouponOffer};
    // Tiers by spending and visits, and the tier review (issue 14).
    pub use memberledger_core::{
        Retain, SpendDay, REVIEW_DOWNGRADE, TIER_WINDOW_DAYS_DEFAULT, TIER_WINDOW_DAYS_MAX,
    };
}

/// Importing a chain's members from another system (docs/IMPORT.md): the deterministic
/// command id of a member's opening, the command itself, and how each went
/// ([`Ledger::import`]).
pub mod import {
    pub use crate::ledger::import::{
        import_command_id, opening_command, Imported, IMPORT_NAMESPACE,
    };
}

/// Derived notices (`bonus_will_expire`, `points_will_expire`, `package_will_expire`):
/// what lapses within the days the policy's `notices` section names ([`Ledger::notices`]).
pub mod notices {
    pub use crate::ledger::notices::{member_notices, Notice, NoticeKind, NOTICE_NAMESPACE};
}

/// The storage side, grouped: the [`EventStore`](store::EventStore) trait a ledger runs on
/// (for [`Ledger::with_store`] and [`Ledger::restore_into`]), what it takes and gives back
/// ([`Append`](store::Append), [`Head`](store::Head), [`RawEvent`](store::RawEvent), …), the
/// in-memory store, and, with the default `sled` feature, the embedded store on disk.
pub mod store {
    pub use memberledger_store::{
        Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, MemoryStore,
        RawEvent, RawEventRef, RawPage, StoreError,
    };
    #[cfg(feature = "sled")]
    pub use memberledger_store_file::FileStore;
    #[cfg(feature = "postgres")]
    pub use memberledger_store_postgres::{PgStore, Staging};
    #[cfg(feature = "sled")]
    pub use memberledger_store_sled::{SledOptions, SledStore, CHECKPOINTS_KEPT};
}

/// The README's Rust examples, compiled and run as doctests so they cannot go stale.
#[cfg(all(doctest, feature = "sled"))]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
