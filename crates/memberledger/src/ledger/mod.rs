//! The ledger: one brand's store, policy and member projections, in rooms.
//!
//! - [`open`]: opening, creating and assembling a ledger (and refusing what is not one);
//! - [`checkpoints`]: opening from a checkpoint, writing them, and the options of an open;
//! - [`commit`]: `execute` and `execute_batch`, the bounded group-commit leader;
//! - [`plan`]: planning a batch (deciding each command against the cached projections);
//! - [`recover`]: catching up with the log after a failed write or another writer;
//! - [`shared`]: a ledger whose store other processes write too (PostgreSQL);
//! - [`sweep`]: the expiry sweep;
//! - [`tier_review`]: the tier review, a sweep lowering members by the tiers' retain rules;
//! - [`feed`]: the change feed (`events_after`, the blocking tail `wait_for_events`);
//! - [`import`]: importing members' opening balances from another system;
//! - [`notices`]: derived notices of bonus, points and packages about to lapse;
//! - [`quote`]: dry runs of commands, planned and sealed as a write would be, never written;
//! - [`reads`]: member views, statements' events, policies, the clock.

use std::sync::{Mutex, RwLock};

use memberledger_core::{CardDirectory, Clearing, Policy, PolicyHistory, Timestamp, Uuid};
use memberledger_store::EventStore;

use crate::replay::Members;
use crate::Clock;

mod checkpoints;
mod commit;
#[cfg(feature = "sled")]
pub(crate) mod disk;
mod feed;
pub(crate) mod import;
pub(crate) mod notices;
mod open;
mod plan;
mod quote;
mod reads;
mod recover;
mod shared;
mod stream;
mod sweep;
mod tier_review;

pub use checkpoints::LedgerOptions;
#[cfg(feature = "sled")]
pub use disk::StoreKind;
pub use feed::FEED_PAGE_MAX;
pub(crate) use open::Open;
pub use quote::Quote;
pub use tier_review::{TierReview, TierReviewCount};

pub(crate) const POLICY_KEY: &str = "policy";

/// The most commands one batch call takes.
pub const BATCH_MAX: usize = 10_000;

/// The namespace of the sweep's command ids (UUID v5 of `member|time`).
const SWEEP_NAMESPACE: Uuid = Uuid::from_u128(0x6d65_6d62_6572_4c65_8467_6572_5377_6565);

/// How often a command is re-decided when another writer moved its member first.
const CONFLICT_RETRIES: usize = 8;

/// One brand's ledger: a store, the policy, and the member projections.
///
/// `Send + Sync`: share it between threads (`Arc<Ledger>`). Commands are decided and appended
/// one writer at a time, so commands on the same member from many threads never lose an update;
/// reads do not wait for writers' disk syncs.
pub struct Ledger {
    store: Box<dyn EventStore>,
    /// The policy the ledger was created with (version 1), kept in the store's meta.
    founding: Policy,
    /// Every policy version, and the time of the latest event.
    policies: RwLock<Policies>,
    members: RwLock<Members>,
    clearing: RwLock<Clearing>,
    /// Which member holds which card (every card event folded).
    cards: RwLock<CardDirectory>,
    /// The key cards are hashed with under a policy that records them as hashes (a secret of
    /// the ledger's settings: never recorded, never shown).
    card_key: RwLock<Option<Vec<u8>>>,
    writer: Mutex<()>,
    /// Single commands waiting for the next group commit, and whether a thread is leading one.
    queue: Mutex<commit::Queue>,
    /// The host's clock: commands dated too far ahead of it are refused.
    clock: RwLock<Clock>,
    /// The last position of the log the projections hold (`None`: not known, the next
    /// catch-up replays from genesis).
    tail: Mutex<Option<recover::Tail>>,
    /// Rung by every commit, for the change feed's waiting tails.
    feed: feed::Bell,
    /// Whether other processes append to the store too: each batch and each member read
    /// first catch up with what they appended ([`shared`]).
    shared: bool,
    /// Events between two checkpoints (`None`: none written).
    checkpoint_every: Option<u64>,
    /// The position of the last checkpoint written or opened from (0: none).
    checkpointed: std::sync::atomic::AtomicU64,
    /// What opening noted of the checkpoints it passed over.
    open_notes: Vec<String>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("currency", &self.founding.currency)
            .finish_non_exhaustive()
    }
}

/// The policy history and the latest event's time, which a publication is checked against.
struct Policies {
    history: PolicyHistory,
    latest_at: Option<Timestamp>,
}
