//! The schema's migrations: SQL files versioned in the repository (`migrations/`), applied in
//! order, each once, and recorded in `schema_migrations`.

use postgres::Client;

use memberledger_store::StoreError;

use crate::pg::{db_error, quoted};

/// One migration: its version, its name and its SQL.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version (the file's number), from 1, without gaps.
    pub version: i32,
    /// The file's name.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration this build knows, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "0001_ledger.sql",
    sql: include_str!("../migrations/0001_ledger.sql"),
}];

const _: () = assert!(MIGRATIONS[0].version == 1);

/// The advisory lock every migrator takes, so two processes opening a new ledger at once do
/// not both create it.
pub(crate) const MIGRATION_LOCK: i64 = 0x6d65_6d62_6c65_6467;

/// Brings `schema` up to the latest version: creates the schema and `schema_migrations` when
/// absent, then applies each migration not yet recorded, with its record, all in one
/// transaction under an advisory lock (DDL is transactional in PostgreSQL). Returns the versions applied (empty when already current). A database whose schema
/// is newer than this build knows is refused (`Storage`): nothing is changed.
pub fn migrate(client: &mut Client, schema: &str) -> Result<Vec<i32>, StoreError> {
    let schema_q = quoted(schema)?;
    let mut tx = client
        .transaction()
        .map_err(db_error("cannot begin a migration"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db_error("cannot take the migration lock"))?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema_q};
         CREATE TABLE IF NOT EXISTS {schema_q}.schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );"
    ))
    .map_err(db_error("cannot create the schema_migrations table"))?;
    let applied: Vec<i32> = tx
        .query(
            &format!("SELECT version FROM {schema_q}.schema_migrations ORDER BY version"),
            &[],
        )
        .map_err(db_error("cannot read schema_migrations"))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newer) = applied.iter().find(|&&v| v > known) {
        return Err(StoreError::storage(format!(
            "the ledger in schema {schema} is at schema version {newer}, newer than this build \
             knows ({known}): use a newer memberledger"
        )));
    }
    let mut done = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        tx.batch_execute(&format!("SET LOCAL search_path TO {schema_q}"))
            .and_then(|()| tx.batch_execute(m.sql))
            .map_err(db_error(&format!("migration {} failed", m.name)))?;
        tx.execute(
            &format!("INSERT INTO {schema_q}.schema_migrations (version, name) VALUES ($1, $2)"),
            &[&m.version, &m.name],
        )
        .map_err(db_error("cannot record a migration"))?;
        done.push(m.version);
    }
    tx.commit()
        .map_err(db_error("cannot commit the migrations"))?;
    Ok(done)
}
