//! A ledger whose store other processes append to as well (PostgreSQL: many application
//! servers on one ledger).
//!
//! Each process keeps its own projections and keeps them current by reading what the others
//! appended from the last position it holds (never from genesis): before it plans a batch,
//! after an append that landed behind other writers' events, and before it answers a member
//! read. A command decided on a member another process moved meanwhile is refused by the
//! store (`AppendConflict::Version`); the ledger catches up and decides it again, up to
//! [`CONFLICT_RETRIES`](super::CONFLICT_RETRIES) times, and then answers
//! `concurrency_conflict`. The store serialises appends on its chain head, so the chain stays
//! one valid chain.
//!
//! A refusal is answered only when it holds against the store's state: when a batch refuses
//! a command and the store has moved past what the projections hold (another process
//! committed between the catch-up and the decision), the ledger catches up once and decides
//! the batch again.
//!
//! The staleness bound of reads: [`member`](Ledger::member) and
//! [`member_ids`](Ledger::member_ids) catch up first, so they show everything committed
//! before they were called (when the store cannot be read they answer from the projections
//! as of the last catch-up). The other reads ([`clearing`](Ledger::clearing),
//! [`for_each_member`](Ledger::for_each_member), the policies) answer as of the last
//! catch-up: call [`refresh`](Ledger::refresh) first to see others' latest commands.

use memberledger_core::Policy;
use memberledger_store::EventStore;

use super::open::Open;
use super::plan::{Plan, Step};
use super::Ledger;
use crate::Error;

impl Ledger {
    /// A ledger over a store that other processes write too (each with its own `Ledger`):
    /// [`with_store`](Ledger::with_store), and it keeps its projections current by reading
    /// what the others append (see the module notes on staleness). Opening several at once on
    /// a new store is safe: the founding record is one command, recorded once.
    pub fn with_shared_store(
        store: Box<dyn EventStore>,
        policy: Option<Policy>,
    ) -> Result<Ledger, Error> {
        Ledger::assemble(store, policy, Open::Shared, None).map(|(ledger, _)| ledger)
    }

    /// Whether other processes may append to this ledger's store
    /// ([`with_shared_store`](Ledger::with_shared_store), [`open_postgres`](Ledger::open_postgres)).
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Brings the projections up to the store: folds what others appended since the last
    /// position this ledger holds. Reads of a shared ledger call it themselves; a ledger
    /// alone on its store never needs it.
    pub fn refresh(&self) -> Result<(), Error> {
        let _writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.catch_up()
    }

    /// Whether a planned batch refuses a command on what may be a stale view of a shared
    /// store: a command is refused (`insufficient_balance` before a recharge another process
    /// committed, say) and the store's head is past the position the projections hold. The
    /// caller then catches up once and decides the batch again, so a refusal is answered
    /// only when it holds against the store's state. One read of the head, and only for a
    /// batch with a refusal; a store that cannot be read keeps the plan as it is.
    pub(super) fn refused_on_stale_view(&self, plan: &Plan) -> bool {
        let refused = plan
            .steps
            .iter()
            .any(|s| matches!(s, Step::Done(Err(Error::Rejected(_)))));
        if !self.shared || !refused {
            return false;
        }
        let held = *self
            .tail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match self.store.head() {
            Ok(head) => held.is_none_or(|t| (t.position, t.hash) != (head.position, head.hash)),
            Err(_) => false,
        }
    }

    /// Catches up before a read when the store is shared. A store that cannot be read leaves
    /// the projections as of the last catch-up (the read answers from them).
    pub(super) fn refresh_if_shared(&self) {
        if self.shared {
            let _ = self.refresh();
        }
    }
}

/// The ledger on PostgreSQL (the `postgres` feature).
#[cfg(feature = "postgres")]
impl Ledger {
    /// Opens the ledger in `schema` (by default
    /// [`PgStore::DEFAULT_SCHEMA`](crate::store::PgStore::DEFAULT_SCHEMA)) of the PostgreSQL
    /// database at `url`, creating it with the built-in policy if there is none. Many
    /// processes may open the same ledger and write it at once
    /// ([`with_shared_store`](Ledger::with_shared_store)).
    ///
    /// ```no_run
    /// use memberledger::Ledger;
    /// let url = std::env::var("MEMBERLEDGER_PG_URL")?;
    /// let ledger = Ledger::open_postgres(&url, None)?;
    /// println!("the chain is at {}", ledger.head()?.position);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_postgres(url: &str, schema: Option<&str>) -> Result<Ledger, Error> {
        let store = memberledger_store_postgres::PgStore::open(url, pg_schema(schema))?;
        Ledger::with_shared_store(Box::new(store), None)
    }

    /// Opens the existing ledger in `schema` of the database at `url`: `no_ledger` when
    /// there is none (nothing is created).
    pub fn open_postgres_existing(url: &str, schema: Option<&str>) -> Result<Ledger, Error> {
        let store = memberledger_store_postgres::PgStore::open_existing(url, pg_schema(schema))?;
        Ledger::with_shared_store(Box::new(store), None)
    }

    /// Creates a new ledger under `policy` in `schema` of the database at `url`:
    /// `already_exists` when the schema holds one.
    pub fn create_postgres(
        url: &str,
        schema: Option<&str>,
        policy: Policy,
    ) -> Result<Ledger, Error> {
        let store = memberledger_store_postgres::PgStore::create(url, pg_schema(schema))?;
        Ledger::with_shared_store(Box::new(store), Some(policy))
    }
}

/// The schema named, or the default one.
#[cfg(feature = "postgres")]
fn pg_schema(schema: Option<&str>) -> &str {
    schema.unwrap_or(memberledger_store_postgres::PgStore::DEFAULT_SCHEMA)
}
