//! The database the Postgres tests run against: `MEMBERLEDGER_PG_URL` (scripts/pg-start.sh
//! starts a throwaway one and prints it). Without it the tests say they are skipped, or fail
//! when `MEMBERLEDGER_REQUIRE_PG=1` (CI).

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use memberledger_store::conformance::Harness;
use memberledger_store_postgres::PgStore;

/// The database URL, or `None` (with a message) when the tests are to be skipped.
pub fn url() -> Option<String> {
    match std::env::var("MEMBERLEDGER_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("MEMBERLEDGER_REQUIRE_PG").as_deref() != Ok("1"),
                "MEMBERLEDGER_REQUIRE_PG=1 but MEMBERLEDGER_PG_URL is not set: start a database \
                 with `eval \"$(scripts/pg-start.sh)\"`"
            );
            eprintln!(
                "SKIPPED: the PostgreSQL store's tests need MEMBERLEDGER_PG_URL (start a \
                 throwaway database with `eval \"$(scripts/pg-start.sh)\"`)"
            );
            None
        }
    }
}

/// A schema name no other test (of this run or another) uses.
pub fn fresh_schema(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "t_{tag}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Drops the schemas the tests made.
pub fn drop_schema(url: &str, schema: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connects");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .expect("drops the test schema");
}

/// Makes a store per case, each in a schema of its own, dropped when the harness is.
pub struct Pg {
    pub url: String,
    made: std::sync::Mutex<Vec<String>>,
}

impl Pg {
    pub fn new() -> Pg {
        Pg {
            url: url().unwrap_or_default(),
            made: std::sync::Mutex::default(),
        }
    }
}

impl Harness for Pg {
    type Store = PgStore;

    fn fresh(&self) -> PgStore {
        let schema = fresh_schema("conf");
        self.made.lock().unwrap().push(schema.clone());
        PgStore::create(&self.url, &schema).expect("a new ledger")
    }

    fn reopen(&self, store: PgStore) -> PgStore {
        let schema = store.schema().to_owned();
        drop(store);
        PgStore::open_existing(&self.url, &schema).expect("reopens")
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        for schema in self.made.lock().unwrap().drain(..) {
            drop_schema(&self.url, &schema);
        }
    }
}
