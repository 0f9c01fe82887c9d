//! Where the ledger is: `--db DIR` (sled on disk) or `--db postgres://…` (PostgreSQL: a URL is
//! recognised by its scheme, `postgres://` or `postgresql://`). A `schema=NAME` parameter of
//! the URL names the ledger's schema (`memberledger` by default; a schema per brand).

use std::path::PathBuf;

use memberledger::{Ledger, Policy, StoreKind, VerifyReport};

use crate::Fail;

/// A ledger's place, as --db gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Db {
    /// A sled ledger in a directory.
    Dir(PathBuf),
    /// A ledger in a schema of a PostgreSQL database.
    Postgres {
        /// The connection URL, without the `schema` parameter.
        url: String,
        /// The ledger's schema (`None`: the default one).
        schema: Option<String>,
    },
}

impl Db {
    /// Reads --db: a URL with a PostgreSQL scheme, else a directory.
    pub(crate) fn parse(db: &str) -> Db {
        if !(db.starts_with("postgres://") || db.starts_with("postgresql://")) {
            return Db::Dir(PathBuf::from(db));
        }
        let Some((base, query)) = db.split_once('?') else {
            return Db::Postgres {
                url: db.to_owned(),
                schema: None,
            };
        };
        let mut schema = None;
        let rest: Vec<&str> = query
            .split('&')
            .filter(|kv| match kv.strip_prefix("schema=") {
                Some(s) => {
                    schema = Some(s.to_owned());
                    false
                }
                None => true,
            })
            .collect();
        let url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        Db::Postgres { url, schema }
    }

    /// The place in words, for messages: the directory, or the schema (never the URL, which
    /// may hold a password).
    pub(crate) fn describe(&self) -> String {
        match self {
            Db::Dir(p) => p.display().to_string(),
            Db::Postgres { schema, .. } => format!(
                "PostgreSQL schema {}",
                schema.as_deref().unwrap_or("memberledger")
            ),
        }
    }

    /// Opens the ledger that must be there.
    pub(crate) fn open_existing(&self) -> Result<Ledger, Fail> {
        Ok(with_card_key(match self {
            Db::Dir(p) => Ledger::open_existing_with(p, &options())?,
            Db::Postgres { url, schema } => Ledger::open_postgres_existing(url, schema.as_deref())?,
        }))
    }

    /// Creates a new ledger under `policy`; in a directory, in the store `kind` names.
    pub(crate) fn create(&self, policy: Policy, kind: StoreKind) -> Result<Ledger, Fail> {
        Ok(with_card_key(match self {
            Db::Dir(p) => Ledger::create_with(p, policy, &options().with_store_kind(kind))?,
            Db::Postgres { url, schema } => {
                Ledger::create_postgres(url, schema.as_deref(), policy)?
            }
        }))
    }

    /// Opens the existing ledger and verifies it. On disk this writes nothing (a private
    /// copy is read); on PostgreSQL the ledger is opened (as every process writing it does)
    /// and verified with every check of `verify`.
    pub(crate) fn open_verified(&self) -> Result<(Ledger, VerifyReport), memberledger::Error> {
        match self {
            Db::Dir(p) => {
                Ledger::open_verified_with(p, &options()).map(|(l, r)| (with_card_key(l), r))
            }
            Db::Postgres { url, schema } => {
                let ledger = with_card_key(Ledger::open_postgres_existing(url, schema.as_deref())?);
                let report = ledger.verify()?;
                Ok((ledger, report))
            }
        }
    }
}

/// The environment variable holding the ledger's card key: what a policy with
/// `"cards": {"store": "hash"}` hashes card numbers with (never recorded, never printed).
pub(crate) const CARD_KEY_VAR: &str = "MEMBERLEDGER_CARD_KEY";

/// The ledger with the card key from [`CARD_KEY_VAR`], when it is set.
pub(crate) fn with_card_key(ledger: Ledger) -> Ledger {
    if let Some(key) = std::env::var_os(CARD_KEY_VAR).filter(|k| !k.is_empty()) {
        ledger.set_card_key(Some(key.into_encoded_bytes()));
    }
    ledger
}

/// The page-cache bound `--cache-mb` set for ledgers on disk (none: sled's default).
static CACHE_BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// Sets the page-cache bound of every ledger this process opens on disk (`--cache-mb`).
pub(crate) fn set_cache_bytes(bytes: u64) {
    let _ = CACHE_BYTES.set(bytes);
}

/// The options ledgers on disk are opened with.
pub(crate) fn options() -> memberledger::LedgerOptions {
    let options = memberledger::LedgerOptions::default();
    match CACHE_BYTES.get() {
        Some(&bytes) => options.with_cache_bytes(bytes),
        None => options,
    }
}

#[cfg(test)]
mod tests {
    use super::Db;

    #[test]
    fn a_db_with_a_postgres_scheme_is_a_database_and_anything_else_a_directory() {
        assert_eq!(Db::parse("./data"), Db::Dir("./data".into()));
        assert_eq!(Db::parse("postgres:/x"), Db::Dir("postgres:/x".into()));
        assert_eq!(
            Db::parse("postgresql://u@h/db"),
            Db::Postgres {
                url: "postgresql://u@h/db".into(),
                schema: None
            }
        );
    }

    #[test]
    fn the_schema_parameter_names_the_schema_and_leaves_the_url() {
        assert_eq!(
            Db::parse("postgres://u@h/db?connect_timeout=5&schema=brand_a"),
            Db::Postgres {
                url: "postgres://u@h/db?connect_timeout=5".into(),
                schema: Some("brand_a".into())
            }
        );
        assert_eq!(
            Db::parse("postgres://u@h/db?schema=b").describe(),
            "PostgreSQL schema b"
        );
    }
}
