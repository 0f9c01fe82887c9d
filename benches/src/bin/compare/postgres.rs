//! The Postgres column of the comparison: the same workload through the facade on PostgreSQL
//! (`MEMBERLEDGER_PG_URL`), one writer and four writers on one ledger, and the replay.

use std::path::Path;
use std::time::Instant;

use memberledger::{Command, Ledger};
use serde_json::{json, Value};

use super::{commands, groups, Args};

/// Writers of the many-writers run (each with its own `Ledger`: its own connections and
/// projections, as separate processes would have).
const WRITERS: usize = 4;

/// A schema of this run's own, dropped when dropped.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str, tag: &str) -> Schema {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Schema {
            url: url.to_owned(),
            name: format!("compare_{tag}_{}_{nanos}", std::process::id()),
        }
    }

    fn open(&self) -> Ledger {
        Ledger::open_postgres(&self.url, Some(&self.name)).expect("opens the ledger in PostgreSQL")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

/// The figures of the facade on PostgreSQL.
pub(super) fn run(a: &Args, _dir: &Path) -> Value {
    let url = std::env::var("MEMBERLEDGER_PG_URL").expect("MEMBERLEDGER_PG_URL");
    let one = Schema::new(&url, "one");
    let ledger = one.open();
    let mut all = commands(a);
    let t = Instant::now();
    let mut ok = 0u64;
    for chunk in groups(&mut all, a.commands) {
        ok += ledger
            .execute_batch(&chunk)
            .iter()
            .filter(|r| r.is_ok())
            .count() as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    let events = ledger.head().expect("head").position;
    drop(ledger);
    // Opening replays the log once (the compact projections), `verify` once more (every
    // check): each is one replay, timed apart, as `open_verified` is one replay on sled.
    let t = Instant::now();
    let ledger = Ledger::open_postgres_existing(&url, Some(&one.name)).expect("reopens");
    let open_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = ledger.verify().expect("verifies");
    let verify_secs = t.elapsed().as_secs_f64();
    assert!(report.ok(), "{report:?}");
    drop(ledger);
    let (four_ok, four_secs) = four_writers(a, &url);
    json!({
        "system": "postgres",
        "commands": a.commands, "recorded": ok, "events": events,
        "commands_per_s": a.commands as f64 / secs,
        "commands_per_s_4_writers": a.commands as f64 / four_secs,
        "recorded_4_writers": four_ok,
        "open_replay_events_per_s": events as f64 / open_secs,
        "replay_events_per_s": events as f64 / verify_secs,
        "peak_rss_mib": super::peak_rss_mib(),
    })
}

/// The workload split by member over four writers on one ledger (each member's commands stay
/// in order in one writer): commands recorded, and seconds.
fn four_writers(a: &Args, url: &str) -> (u64, f64) {
    let many = Schema::new(url, "four");
    drop(many.open());
    let mut parts: Vec<Vec<Command>> = vec![Vec::new(); WRITERS];
    for c in commands(a).take(usize::try_from(a.commands).expect("fits")) {
        let h = c.member.as_str().bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        parts[h % WRITERS].push(c);
    }
    let t = Instant::now();
    let ok: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .iter()
            .map(|part| {
                let many = &many;
                s.spawn(move || {
                    let ledger = many.open();
                    part.chunks(super::GROUP)
                        .map(|chunk| {
                            ledger
                                .execute_batch(chunk)
                                .iter()
                                .filter(|r| r.is_ok())
                                .count() as u64
                        })
                        .sum::<u64>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a writer"))
            .sum()
    });
    (ok, t.elapsed().as_secs_f64())
}
