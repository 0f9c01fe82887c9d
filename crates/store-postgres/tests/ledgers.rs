//! A ledger in a schema: created once, found again, refused where it must (not) be; its
//! migrations versioned and applied once. Needs `MEMBERLEDGER_PG_URL` (see tests/common).

mod common;

use std::error::Error as _;

use memberledger_store::{EventStore, StoreError};
use memberledger_store_postgres::{PgStore, MIGRATIONS};

#[test]
fn create_over_a_ledger_is_already_exists() {
    let Some(url) = common::url() else { return };
    let schema = common::fresh_schema("kinds");
    let store = PgStore::create(&url, &schema).unwrap();
    store.set_meta("policy", b"{}").unwrap();
    let again = PgStore::create(&url, &schema).map(|_| ());
    common::drop_schema(&url, &schema);
    assert!(
        matches!(again, Err(StoreError::AlreadyExists { ref location }) if location.contains(&schema)),
        "{again:?}"
    );
}

#[test]
fn open_existing_where_there_is_none_is_no_ledger_and_creates_nothing() {
    let Some(url) = common::url() else { return };
    let schema = common::fresh_schema("none");
    assert!(!PgStore::exists(&url, &schema).unwrap());
    let opened = PgStore::open_existing(&url, &schema).map(|_| ());
    assert!(
        matches!(opened, Err(StoreError::NoLedger { .. })),
        "{opened:?}"
    );
    assert!(
        !PgStore::exists(&url, &schema).unwrap(),
        "asking created it"
    );
    drop(PgStore::create(&url, &schema).unwrap());
    assert!(PgStore::exists(&url, &schema).unwrap());
    common::drop_schema(&url, &schema);
}

#[test]
fn migrations_are_recorded_and_applied_once() {
    let Some(url) = common::url() else { return };
    let schema = common::fresh_schema("mig");
    let store = PgStore::open(&url, &schema).unwrap();
    assert!(store.migrate().unwrap().is_empty(), "already current");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let recorded: Vec<(i32, String)> = client
        .query(
            &format!("SELECT version, name FROM \"{schema}\".schema_migrations ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let known: Vec<(i32, String)> = MIGRATIONS
        .iter()
        .map(|m| (m.version, m.name.to_owned()))
        .collect();
    assert_eq!(recorded, known);
    // A schema newer than this build knows is refused, and nothing is changed.
    client
        .execute(
            &format!("INSERT INTO \"{schema}\".schema_migrations (version, name) VALUES (99, 'x')"),
            &[],
        )
        .unwrap();
    let newer = PgStore::open(&url, &schema).map(|_| ());
    common::drop_schema(&url, &schema);
    assert!(
        matches!(newer, Err(StoreError::Storage { ref why, .. }) if why.contains("newer")),
        "{newer:?}"
    );
}

#[test]
fn a_schema_name_that_is_not_an_identifier_is_refused() {
    let Some(url) = common::url() else { return };
    for bad in ["", "Brand", "a-b", "1abc", "x\"; DROP TABLE events; --"] {
        let opened = PgStore::open(&url, bad).map(|_| ());
        assert!(
            matches!(opened, Err(StoreError::Storage { .. })),
            "{bad}: {opened:?}"
        );
    }
}

#[test]
fn an_unreachable_server_is_a_retryable_storage_error_with_its_source() {
    let url = "postgresql://nobody@%2Fnonexistent-memberledger-socket-dir:5432/none";
    let err = PgStore::open(url, "memberledger").map(|_| ()).unwrap_err();
    assert!(matches!(err, StoreError::Storage { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.source().is_some(), "the driver's error is kept");
}

#[test]
fn a_staged_copy_is_a_ledger_only_once_finished_and_one_copy_runs_at_a_time() {
    use memberledger_store_postgres::Staging;
    let Some(url) = common::url() else { return };
    let target = common::fresh_schema("stage");
    let (staging, store) = Staging::begin(&url, &target).unwrap();
    assert_eq!(staging.staging_schema(), format!("{target}__migrating"));
    store.set_meta("policy", b"{}").unwrap();
    // Part-way: the target holds no ledger, and a second copy into it is refused.
    assert!(!PgStore::exists(&url, &target).unwrap());
    let second = Staging::begin(&url, &target).map(|_| ());
    assert!(
        matches!(second, Err(StoreError::Storage { ref why, .. }) if why.contains("under way")),
        "{second:?}"
    );
    drop(store);
    staging.finish().unwrap();
    let opened = PgStore::open_existing(&url, &target).unwrap();
    assert_eq!(opened.meta("policy").unwrap().as_deref(), Some(&b"{}"[..]));
    // A target that holds a ledger is never copied into.
    let again = Staging::begin(&url, &target).map(|_| ());
    common::drop_schema(&url, &target);
    assert!(
        matches!(again, Err(StoreError::AlreadyExists { .. })),
        "{again:?}"
    );
}

#[test]
fn a_copy_stopped_part_way_is_dropped_by_the_next() {
    use memberledger_store_postgres::Staging;
    let Some(url) = common::url() else { return };
    let target = common::fresh_schema("restage");
    let (staging, store) = Staging::begin(&url, &target).unwrap();
    store.set_meta("policy", b"{\"left\":1}").unwrap();
    // Stopped: its lock goes with its connection, its staging schema stays.
    drop((staging, store));
    let (staging, store) = Staging::begin(&url, &target).unwrap();
    assert_eq!(
        store.meta("policy").unwrap(),
        None,
        "started again from nothing"
    );
    drop(store);
    staging.abandon().unwrap();
    assert!(!PgStore::exists(&url, &format!("{target}__migrating")).unwrap());
    assert!(!PgStore::exists(&url, &target).unwrap());
}

#[test]
fn a_target_name_without_room_for_the_staging_suffix_is_refused() {
    use memberledger_store_postgres::Staging;
    let Some(url) = common::url() else { return };
    let long = "s".repeat(60);
    let refused = Staging::begin(&url, &long).map(|_| ());
    assert!(
        matches!(refused, Err(StoreError::Storage { ref why, .. }) if why.contains("too long")),
        "{refused:?}"
    );
}

#[test]
fn finishing_a_copy_locks_the_target_first_so_a_writer_under_way_is_seen_not_dropped() {
    use memberledger_store_postgres::Staging;
    let Some(url) = common::url() else { return };
    let target = common::fresh_schema("lockt");
    // The target: a ledger's tables, nothing recorded in them yet.
    drop(PgStore::create(&url, &target).unwrap());
    let (staging, store) = Staging::begin(&url, &target).unwrap();
    store.set_meta("policy", b"{\"copy\":1}").unwrap();
    drop(store);
    // A writer on the target, part-way through recording a setting.
    let mut writer = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut tx = writer.transaction().unwrap();
    tx.execute(
        &format!("INSERT INTO \"{target}\".settings (key, value) VALUES ('policy', $1)"),
        &[&&b"{\"writer\":1}"[..]],
    )
    .unwrap();
    let finishing = std::thread::spawn(move || staging.finish());
    // The last step waits for a lock on one of the target's tables, which the writer holds.
    let mut watch = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let waiting: i64 = watch
            .query_one(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE NOT l.granted AND n.nspname = $1",
                &[&target],
            )
            .unwrap()
            .get(0);
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the copy's last step never waited for the writer"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    tx.commit().unwrap();
    let finished = finishing.join().unwrap();
    let kept = PgStore::open_existing(&url, &target)
        .unwrap()
        .meta("policy")
        .unwrap();
    common::drop_schema(&url, &target);
    common::drop_schema(&url, &format!("{target}__migrating"));
    assert!(
        matches!(finished, Err(StoreError::AlreadyExists { .. })),
        "{finished:?}"
    );
    assert_eq!(kept.as_deref(), Some(&b"{\"writer\":1}"[..]));
}
