//! The PostgreSQL store: one ledger that many application processes write at once, backed up
//! and replicated with the tools a database's operators already run.
//!
//! A ledger lives in one database schema ([`PgStore::DEFAULT_SCHEMA`] unless told otherwise;
//! a schema per brand keeps brands apart in one database). Its tables (`migrations/`, applied by
//! [`migrate`] and recorded in `schema_migrations`): `events` (global position, stream and
//! stream version, command id, chain hash, canonical bytes), `commands` (the idempotency
//! record), `settings` and the one-row `chain_head`.
//!
//! An append is one transaction: it locks `chain_head`, checks and seals the batch after it
//! exactly as every store does ([`memberledger_store::seal`]), inserts the commands and events
//! and advances the head with a conditional update, then commits. Writers in several processes
//! are so serialised on the head, and the unique constraints (one event per position, one per
//! stream version, one record per command id) make a fork, a doubled command or a lost race
//! impossible even for a writer that skipped the lock. A command decided on a stale member is
//! refused as `AppendConflict::Version`: its caller reads what others appended (from its last
//! known position, [`EventStore::read_raw`]) and decides again. Every read goes to the
//! database, so a store sees what other processes appended.
//!
//! The driver is the blocking `postgres` crate (the `EventStore` trait is blocking), without
//! TLS: reach a remote server through a local socket or a tunnel.
//!
//! ```no_run
//! use memberledger_store::EventStore;
//! use memberledger_store_postgres::PgStore;
//! let url = std::env::var("MEMBERLEDGER_PG_URL")?;
//! let store = PgStore::open(&url, PgStore::DEFAULT_SCHEMA)?;
//! println!("the chain is at {}", store.head()?.position);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod append;
mod migrate;
mod pg;
mod reads;
mod staging;

pub use migrate::{migrate, Migration, MIGRATIONS};
pub use staging::Staging;

use memberledger_core::{MemberId, RecordedEvent, Uuid};
use memberledger_store::{
    Append, AppendConflict, CommandPlace, CommandRecord, EventStore, Head, RawEvent, StoreError,
};

use pg::{db_error, Pool};

/// A ledger's log in a PostgreSQL schema.
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// The schema a ledger lives in unless told otherwise.
    pub const DEFAULT_SCHEMA: &'static str = "memberledger";

    /// Opens the ledger in `schema` of the database at `url` (a `postgresql://` URL or
    /// `key=value` pairs), creating its tables when absent and bringing them to the latest
    /// schema version ([`migrate`]). `Storage` when the server cannot be reached or the URL
    /// or schema name is not valid.
    pub fn open(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        let store = PgStore {
            pool: Pool::new(url, schema)?,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Creates a new ledger in `schema`: `AlreadyExists` when the schema holds one (events or
    /// settings).
    pub fn create(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        let store = PgStore::open(url, schema)?;
        if store.holds_anything()? {
            return Err(StoreError::AlreadyExists {
                location: format!("schema {schema}"),
            });
        }
        Ok(store)
    }

    /// Opens the ledger in `schema`, which must be there: `NoLedger` when the schema holds no
    /// ledger's tables (nothing is created).
    pub fn open_existing(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        if !PgStore::exists(url, schema)? {
            return Err(StoreError::NoLedger {
                location: format!("schema {schema}"),
            });
        }
        PgStore::open(url, schema)
    }

    /// Whether a ledger lives in `schema` of the database at `url` (its tables are there).
    /// Nothing is created.
    pub fn exists(url: &str, schema: &str) -> Result<bool, StoreError> {
        let pool = Pool::new(url, schema)?;
        let row = pool
            .get()?
            .query_one(
                "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL",
                &[&schema],
            )
            .map_err(db_error("cannot look for the ledger's tables"))?;
        Ok(row.get(0))
    }

    /// Applies the migrations not yet applied to this ledger's schema; the versions applied.
    pub fn migrate(&self) -> Result<Vec<i32>, StoreError> {
        migrate(&mut *self.pool.get()?, self.pool.schema())
    }

    /// The schema the ledger lives in.
    pub fn schema(&self) -> &str {
        self.pool.schema()
    }

    /// Whether the ledger holds an event or a setting.
    fn holds_anything(&self) -> Result<bool, StoreError> {
        let row = self
            .pool
            .get()?
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM settings)",
                &[],
            )
            .map_err(db_error("cannot read the ledger"))?;
        Ok(row.get(0))
    }
}

impl EventStore for PgStore {
    fn append(
        &self,
        batch: Vec<Append>,
    ) -> Result<Vec<Result<Vec<RecordedEvent>, AppendConflict>>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.pool.get()?;
        let tx = conn
            .transaction()
            .map_err(db_error("cannot begin an append"))?;
        append::append(tx, batch)
    }

    fn command(&self, id: Uuid) -> Result<Option<CommandRecord>, StoreError> {
        reads::command(&mut *self.pool.get()?, id)
    }

    fn commands(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandRecord>>, StoreError> {
        reads::commands(&mut *self.pool.get()?, ids)
    }

    fn command_places(&self, ids: &[Uuid]) -> Result<Vec<Option<CommandPlace>>, StoreError> {
        reads::command_places(&mut *self.pool.get()?, ids)
    }

    fn head(&self) -> Result<Head, StoreError> {
        reads::head(&mut *self.pool.get()?)
    }

    fn read_raw(&self, from: u64, limit: usize) -> Result<Vec<RawEvent>, StoreError> {
        reads::read_raw(&mut *self.pool.get()?, from, limit)
    }

    fn read_positions(&self, positions: &[u64]) -> Result<Vec<RecordedEvent>, StoreError> {
        reads::read_positions(&mut *self.pool.get()?, positions)
    }

    fn member_positions(&self, member: &MemberId) -> Result<Vec<u64>, StoreError> {
        reads::member_positions(&mut *self.pool.get()?, member)
    }

    fn member_version(&self, member: &MemberId) -> Result<u64, StoreError> {
        reads::member_version(&mut *self.pool.get()?, member)
    }

    fn member_events(&self, member: &MemberId) -> Result<Vec<RecordedEvent>, StoreError> {
        reads::member_events(&mut *self.pool.get()?, member)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = self
            .pool
            .get()?
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&key])
            .map_err(db_error("cannot read a setting"))?;
        Ok(row.map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.pool
            .get()?
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&key, &value],
            )
            .map_err(db_error("cannot write a setting"))?;
        Ok(())
    }
}
