//! A ledger copied into its schema in one step as far as anyone reading it can tell: the copy
//! is written into a staging schema (`<target>__migrating`) and renamed to the target at the
//! end, in one transaction. A copy stopped part-way (killed, or failed) leaves at most the
//! staging schema, which no reader opens as the ledger and the next copy drops; the target
//! never holds a part of a ledger.

use postgres::{Client, NoTls};

use memberledger_store::StoreError;

use crate::migrate::MIGRATION_LOCK;
use crate::pg::{config, db_error, quoted};
use crate::PgStore;

/// The first key of the session lock a copy holds on its target (the second is the target's
/// name, hashed), so two copies into one schema never run at once.
const COPY_LOCK_CLASS: i32 = 0x6d6c_6370;

/// A copy of a ledger under way into a schema: the staging schema it is written into, and the
/// connection that holds the copy's lock on the target until it is finished or dropped.
pub struct Staging {
    target: String,
    staging: String,
    /// Holds the session lock on the target for the copy's life (released when closed, so
    /// also when the process is killed).
    client: Client,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging")
            .field("target", &self.target)
            .field("staging", &self.staging)
            .finish_non_exhaustive()
    }
}

impl Staging {
    /// What a staging schema's name adds to its target's.
    pub const SUFFIX: &'static str = "__migrating";

    /// Starts a copy into `target` of the database at `url`: a new, empty ledger store in
    /// the staging schema, to write the copy into. `AlreadyExists` when `target` holds a
    /// ledger (events or settings); `Storage` when another copy into `target` is under way,
    /// or the target's name leaves no room for the staging suffix. A staging schema that a
    /// stopped copy left behind is dropped first.
    pub fn begin(url: &str, target: &str) -> Result<(Staging, PgStore), StoreError> {
        quoted(target)?;
        let staging = format!("{target}{}", Staging::SUFFIX);
        quoted(&staging).map_err(|_| {
            StoreError::storage(format!(
                "the schema name {target:?} is too long to copy a ledger into: it is written \
                 into {staging:?} first, and a schema name takes at most 63 bytes"
            ))
        })?;
        let mut client = connect(url)?;
        let locked: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock($1, hashtext($2))",
                &[&COPY_LOCK_CLASS, &target],
            )
            .map_err(db_error("cannot take the copy's lock"))?
            .get(0);
        if !locked {
            return Err(StoreError::storage(format!(
                "another copy into schema {target} is under way; try again when it is done"
            )));
        }
        if holds_ledger(&mut client, target)? {
            return Err(already(target));
        }
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                quoted(&staging)?
            ))
            .map_err(db_error(
                "cannot drop the staging schema a stopped copy left",
            ))?;
        let store = PgStore::create(url, &staging)?;
        Ok((
            Staging {
                target: target.to_owned(),
                staging,
                client,
            },
            store,
        ))
    }

    /// The schema the copy is written into.
    pub fn staging_schema(&self) -> &str {
        &self.staging
    }

    /// Makes the copy the target's ledger: the staging schema renamed to the target, in one
    /// transaction, under the lock of [`migrate`](crate::migrate) (so no process creates the
    /// target meanwhile) and with the target's tables locked before they are looked at (so no
    /// writer on the target records anything between the look and the drop: one under way is
    /// waited for, and seen). A target that holds no ledger (its tables only) is replaced;
    /// `AlreadyExists` when it came to hold one meanwhile. Drop every store on the staging
    /// schema first: their connections name it.
    pub fn finish(mut self) -> Result<(), StoreError> {
        let (target, staging) = (quoted(&self.target)?, quoted(&self.staging)?);
        let mut tx = self
            .client
            .transaction()
            .map_err(db_error("cannot begin the copy's last step"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(db_error("cannot take the migration lock"))?;
        lock_tables(&mut tx, &self.target)?;
        if holds_ledger(&mut tx, &self.target)? {
            return Err(already(&self.target));
        }
        tx.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {target} CASCADE; ALTER SCHEMA {staging} RENAME TO {target};"
        ))
        .map_err(db_error("cannot rename the copy to its schema"))?;
        tx.commit()
            .map_err(db_error("cannot commit the copy's last step"))
    }

    /// Drops the staging schema of a copy that failed (best done before the error is
    /// reported: a later copy drops it too).
    pub fn abandon(mut self) -> Result<(), StoreError> {
        let staging = quoted(&self.staging)?;
        self.client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {staging} CASCADE"))
            .map_err(db_error("cannot drop the staging schema"))
    }
}

/// A connection of its own (not the pool's: it holds the copy's session lock).
fn connect(url: &str) -> Result<Client, StoreError> {
    config(url)?
        .connect(NoTls)
        .map_err(db_error("cannot connect to PostgreSQL"))
}

/// Locks every table of `schema` (none when it has none) for the rest of the transaction, so
/// no one reads or writes them until it ends; waits for transactions that use them. The
/// tables are only created under the migration lock, which the caller holds, so none appears
/// after the list is read.
fn lock_tables(tx: &mut postgres::Transaction<'_>, schema: &str) -> Result<(), StoreError> {
    let tables: Vec<String> = tx
        .query(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
             WHERE schemaname = $1 ORDER BY tablename",
            &[&schema],
        )
        .map_err(db_error("cannot list the target's tables"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if tables.is_empty() {
        return Ok(());
    }
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        tables.join(", ")
    ))
    .map_err(db_error("cannot lock the target's tables"))
}

/// Whether `schema` holds a ledger: its tables with an event or a setting in them.
fn holds_ledger(
    client: &mut impl postgres::GenericClient,
    schema: &str,
) -> Result<bool, StoreError> {
    let q = quoted(schema)?;
    let tables: bool = client
        .query_one(
            "SELECT to_regclass(format('%I.events', $1::text)) IS NOT NULL
                AND to_regclass(format('%I.settings', $1::text)) IS NOT NULL",
            &[&schema],
        )
        .map_err(db_error("cannot look for the ledger's tables"))?
        .get(0);
    if !tables {
        return Ok(false);
    }
    let row = client
        .query_one(
            &format!(
                "SELECT EXISTS (SELECT 1 FROM {q}.events) OR EXISTS (SELECT 1 FROM {q}.settings)"
            ),
            &[],
        )
        .map_err(db_error("cannot read the ledger"))?;
    Ok(row.get(0))
}

/// The refusal of a target that holds a ledger.
fn already(target: &str) -> StoreError {
    StoreError::AlreadyExists {
        location: format!("schema {target}"),
    }
}
