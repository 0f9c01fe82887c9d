//! The connections to PostgreSQL: a small pool of blocking clients, each with the ledger's
//! schema as its search path, and the conversions between the driver's values and the
//! store's.

use std::sync::Mutex;
use std::time::Duration;

use postgres::{Client, NoTls};

use memberledger_store::{Cause, StoreError};

/// How many idle connections a store keeps.
const IDLE_MAX: usize = 8;

/// How long a connection attempt may take when the URL does not say.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest schema name PostgreSQL keeps (NAMEDATALEN - 1).
const SCHEMA_LEN_MAX: usize = 63;

/// A `Storage` error for a failed database call: `what` failed, the driver's error kept as the
/// source.
pub(crate) fn db_error(what: &str) -> impl FnOnce(postgres::Error) -> StoreError + '_ {
    move |e| StoreError::Storage {
        why: format!("{what}: {}", describe(&e)),
        source: Some(Cause::new(e)),
    }
}

/// The driver's error in words: the server's message when there is one.
fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Checks a schema name (lower-case letters, digits and `_`, starting with a letter or `_`, at
/// most 63 bytes) and quotes it for SQL.
pub(crate) fn quoted(schema: &str) -> Result<String, StoreError> {
    let ok = !schema.is_empty()
        && schema.len() <= SCHEMA_LEN_MAX
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(format!("\"{schema}\""))
    } else {
        Err(StoreError::storage(format!(
            "the schema name {schema:?} is not one memberledger uses: lower-case letters, digits \
             and _, starting with a letter or _, at most {SCHEMA_LEN_MAX} bytes"
        )))
    }
}

/// A position or version as PostgreSQL's `bigint`.
pub(crate) fn to_bigint(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::InvalidAppend(format!("{n} is beyond a bigint")))
}

/// A stored `bigint` as a position or version: a negative one is corrupt.
pub(crate) fn from_bigint(n: i64, position: u64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt {
        position,
        why: format!("a stored position or version is negative ({n})"),
    })
}

/// A stored hash or digest: 32 bytes.
pub(crate) fn hash32(bytes: &[u8], position: u64) -> Result<[u8; 32], StoreError> {
    bytes.try_into().map_err(|_| StoreError::Corrupt {
        position,
        why: format!("a stored hash has {} bytes, not 32", bytes.len()),
    })
}

/// The connection settings of a URL (a `postgresql://` URL or `key=value` pairs), with a
/// connection timeout when it names none.
pub(crate) fn config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config = url.parse().map_err(|e| StoreError::Storage {
        why: format!("the database URL is not one PostgreSQL takes: {e}"),
        source: Some(Cause::new(e)),
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

/// Blocking clients to one database, with the ledger's schema as their search path.
pub(crate) struct Pool {
    config: postgres::Config,
    schema: String,
    idle: Mutex<Vec<Client>>,
}

impl Pool {
    /// A pool for the database at `url` (a `postgresql://` URL or `key=value` pairs) and a
    /// ledger's schema. Connects once, to report a bad URL or an unreachable server now.
    pub(crate) fn new(url: &str, schema: &str) -> Result<Pool, StoreError> {
        quoted(schema)?;
        let config = config(url)?;
        let pool = Pool {
            config,
            schema: schema.to_owned(),
            idle: Mutex::new(Vec::new()),
        };
        drop(pool.get()?);
        Ok(pool)
    }

    /// The ledger's schema.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// A client: an idle one, or a new connection.
    pub(crate) fn get(&self) -> Result<Conn<'_>, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let client = match idle {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        Ok(Conn {
            pool: self,
            client: Some(client),
        })
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let mut client = self
            .config
            .connect(NoTls)
            .map_err(db_error("cannot connect to PostgreSQL"))?;
        client
            .batch_execute(&format!("SET search_path TO {}", quoted(&self.schema)?))
            .map_err(db_error("cannot select the ledger's schema"))?;
        Ok(client)
    }
}

/// A client borrowed from the pool, given back when dropped (unless its connection broke).
pub(crate) struct Conn<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("held until dropped")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if client.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.pool.idle.lock() {
            if idle.len() < IDLE_MAX {
                idle.push(client);
            }
        }
    }
}
