//! The comparison harness: one workload through memberledger, an equivalent SQLite design,
//! raw sled inserts of the same bytes, hledger replaying our export and, when
//! `MEMBERLEDGER_PG_URL` is set, the facade on PostgreSQL (one and four writers); one table of figures
//! and ratios. Each system runs in its own child process so peak memory is its own.
//!
//! ```text
//! cargo run --release -p memberledger-benches --bin compare -- --commands 1000000 --members 100000 --stores 50
//! # the issue's scale and 10x either side (stores stay 50); hledger only where it is quick:
//! cargo run --release -p memberledger-benches --bin compare -- --scale 0.1,1,10 --systems memberledger,sqlite,sled
//! cargo run --release -p memberledger-benches --bin compare -- --scale 0.1 --systems memberledger,memberledger-file,sqlite
//! ```
//!
//! `--scale X` runs `X` times 1,000,000 commands over `X` times 100,000 members (a list runs
//! one after another). `--runs N` runs every system `N` times, the systems in turn (so a slow
//! minute of a shared machine falls on each alike), and reports the median of each figure,
//! with the range of each ratio to SQLite over the runs (each run's figures divided by the same
//! run's SQLite figures). Commands are generated as they are executed, so a run holds only its
//! own state. Memory per member is measured with a counting allocator: the heap the opened
//! ledger holds (projections, store index, sled's cache) and, apart, the heap of an exact copy
//! of every member projection, each divided by the members. memberledger's durable groups run
//! as one caller's stream ([`Ledger::execute_stream`]: each group decided while the one before
//! is written), as a bulk load or `memberledger apply` runs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Instant;

use memberledger::domain::MemberState;
use memberledger::{Command, Ledger, Policy, StoreKind};
use memberledger_benches::workload_iter;
use memberledger_core::{
    canonical_json, chain_hash, decide, decode_event, Context, Event, Hash, GENESIS_HASH,
};
use serde_json::{json, Value};

#[path = "compare/postgres.rs"]
mod postgres;

const USAGE: &str = "usage: compare [--commands N --members N --stores N | --scale 0.1,1,10] [--systems memberledger,memberledger-file,sqlite,sled,hledger] [--runs N] [--dir DIR]
  --scale S runs S x (1,000,000 commands, 100,000 members, 50 stores); the default is one run of
  the given (or default) size with every system. --runs N runs each system N times in turn and
  reports medians, with the range of the ratios to SQLite.";

/// Counts the heap in use, for memory per member projection; mimalloc underneath, as the CLI
/// uses (every system runs in a process of this binary, so all have the same allocator).
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

/// Commands per durable group (one transaction, one sync).
const GROUP: usize = 1000;
/// Single durable commands timed for latency.
const SINGLES: usize = 300;

struct Args {
    commands: u64,
    members: u64,
    stores: u64,
    dir: Option<PathBuf>,
    system: Option<String>,
    systems: Vec<String>,
    scales: Vec<f64>,
    /// sled's page cache bound for memberledger, in MiB (`--cache-mb`; none: sled's default).
    cache_mb: Option<u64>,
    /// Runs of every system, in turn (`--runs`; medians reported).
    runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        commands: 100_000,
        members: 10_000,
        stores: 50,
        dir: None,
        system: None,
        systems: [
            "memberledger",
            "memberledger-file",
            "sqlite",
            "sled",
            "hledger",
        ]
        .map(str::to_owned)
        .to_vec(),
        scales: Vec::new(),
        cache_mb: None,
        runs: 1,
    };
    // The Postgres column, in the same run, when a database is given.
    if std::env::var_os("MEMBERLEDGER_PG_URL").is_some_and(|u| !u.is_empty()) {
        a.systems.push("postgres".to_owned());
    }
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--commands" => a.commands = v().parse().expect("a number"),
            "--members" => a.members = v().parse().expect("a number"),
            "--stores" => a.stores = v().parse().expect("a number"),
            "--dir" => a.dir = Some(PathBuf::from(v())),
            "--system" => a.system = Some(v()),
            "--cache-mb" => a.cache_mb = Some(v().parse().expect("a number")),
            "--runs" => a.runs = v().parse::<usize>().expect("a number").max(1),
            "--systems" => a.systems = v().split(',').map(str::to_owned).collect(),
            "--scale" => {
                a.scales = v()
                    .split(',')
                    .map(|x| x.parse().expect("a number"))
                    .collect();
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => {
                eprintln!("compare: unknown argument {other}\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    a
}

fn main() {
    let a = args();
    match a.system.as_deref() {
        Some(system) => {
            let dir = a.dir.clone().expect("--dir");
            let result = match system {
                "memberledger" => run_memberledger(&a, &dir, StoreKind::Sled),
                "memberledger-file" => run_memberledger(&a, &dir, StoreKind::File),
                "sqlite" => run_sqlite(&a, &dir),
                "sled" => run_sled(&a, &dir),
                "postgres" => postgres::run(&a, &dir),
                "hledger" => run_hledger(&dir),
                other => panic!("unknown system {other}"),
            };
            println!("{result}");
        }
        None if a.scales.is_empty() => orchestrate(&a),
        None => {
            for &x in &a.scales {
                let scaled = |base: f64| {
                    let n = (base * x).round().max(1.0);
                    format!("{n:.0}").parse().expect("a whole number")
                };
                let run = Args {
                    commands: scaled(1_000_000.0),
                    members: scaled(100_000.0),
                    stores: a.stores,
                    dir: None,
                    system: None,
                    systems: a.systems.clone(),
                    scales: Vec::new(),
                    cache_mb: a.cache_mb,
                    runs: a.runs,
                };
                orchestrate(&run);
            }
        }
    }
}

fn orchestrate(a: &Args) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    // Each run's results, the systems in turn within a run.
    let mut runs: Vec<Vec<Value>> = Vec::new();
    for run in 0..a.runs {
        let mut results = Vec::new();
        // A run's files (hledger reads the journal memberledger's run exported) go before the
        // next run: the disk holds one run at a time.
        let dir = tmp.path().join(format!("run-{run}"));
        std::fs::create_dir_all(&dir).expect("a run's directory");
        for system in &a.systems {
            if a.runs > 1 {
                eprintln!("running {system} (run {} of {}) …", run + 1, a.runs);
            } else {
                eprintln!("running {system} …");
            }
            if let Some(result) = run_child(a, system, &dir) {
                results.push(result);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        runs.push(results);
    }
    let medians = median_results(&a.systems, &runs);
    print_table(a, &medians);
    if a.runs > 1 {
        print_ratio_ranges(&runs);
    }
}

/// Runs `system` in a child process of this binary with its files in `dir`: its result, or
/// `None` (said on standard error) when it failed.
fn run_child(a: &Args, system: &str, dir: &Path) -> Option<Value> {
    let me = std::env::current_exe().expect("own path");
    let mut child = Process::new(&me);
    if let Some(mb) = a.cache_mb {
        child.args(["--cache-mb", &mb.to_string()]);
    }
    let out = child
        .args(["--system", system, "--dir"])
        .arg(dir)
        .args([
            "--commands",
            &a.commands.to_string(),
            "--members",
            &a.members.to_string(),
            "--stores",
            &a.stores.to_string(),
        ])
        .output()
        .expect("the child runs");
    if !out.status.success() {
        eprintln!("{system} failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let line = String::from_utf8_lossy(&out.stdout);
    Some(serde_json::from_str(line.trim()).expect("a JSON result"))
}

/// Each system's figures over the runs: the median of every number (the first run's value
/// for anything else).
fn median_results(systems: &[String], runs: &[Vec<Value>]) -> Vec<Value> {
    systems
        .iter()
        .filter_map(|system| {
            let all: Vec<&Value> = runs
                .iter()
                .filter_map(|r| r.iter().find(|v| v["system"] == system.as_str()))
                .collect();
            let mut merged = (*all.first()?).clone();
            if let Some(fields) = merged.as_object_mut() {
                for (key, value) in fields.iter_mut() {
                    let mut xs: Vec<f64> = all.iter().filter_map(|v| v[key].as_f64()).collect();
                    if xs.len() == all.len() && value.is_number() {
                        xs.sort_by(f64::total_cmp);
                        *value = json!(median(&xs));
                    }
                }
            }
            Some(merged)
        })
        .collect()
}

/// The median of sorted `xs` (not empty).
fn median(xs: &[f64]) -> f64 {
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// The range over the runs of each of our systems' ratios to SQLite (each run's figures divided
/// by the same run's SQLite figures).
fn print_ratio_ranges(runs: &[Vec<Value>]) {
    let f = |r: &[Value], system: &str, k: &str| {
        r.iter()
            .find(|v| v["system"] == system)
            .and_then(|v| v[k].as_f64())
    };
    println!();
    for ours in ["memberledger", "memberledger-file"] {
        for (key, what) in [
            ("commands_per_s", "durable commands/s"),
            ("replay_events_per_s", "replay events/s"),
        ] {
            let mut ratios: Vec<f64> = runs
                .iter()
                .filter_map(|r| Some(f(r, ours, key)? / f(r, "sqlite", key)?))
                .collect();
            if ratios.is_empty() {
                continue;
            }
            ratios.sort_by(f64::total_cmp);
            let listed: Vec<String> = ratios.iter().map(|x| format!("{x:.2}")).collect();
            println!(
                "{ours} / SQLite, {what}, each run: {} (median {:.2}x)",
                listed.join(", "),
                median(&ratios)
            );
        }
    }
}

fn print_table(a: &Args, results: &[Value]) {
    println!(
        "\nworkload: {} commands over {} members and {} stores; durable groups of {GROUP}\n",
        a.commands, a.members, a.stores
    );
    println!(
        "{:<14} {:>16} {:>18} {:>14} {:>14} {:>12} {:>12}",
        "system", "commands/s", "replay events/s", "peak MiB", "disk MiB", "p50 µs", "p99 µs"
    );
    // (postgres: commands/s of one writer; four writers on one ledger below the table.)
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64);
    let cell = |x: Option<f64>, d: usize| x.map_or("-".to_owned(), |x| format!("{x:.d$}"));
    for r in results {
        println!(
            "{:<14} {:>16} {:>18} {:>14} {:>14} {:>12} {:>12}",
            r["system"].as_str().unwrap_or("?"),
            cell(f(r, "commands_per_s"), 0),
            cell(f(r, "replay_events_per_s"), 0),
            cell(f(r, "peak_rss_mib"), 1),
            cell(f(r, "disk_mib"), 1),
            cell(f(r, "p50_us"), 0),
            cell(f(r, "p99_us"), 0),
        );
    }
    let by = |s: &str| results.iter().find(|r| r["system"] == s);
    for ours in ["memberledger", "memberledger-file"] {
        if let (Some(m), Some(q)) = (by(ours), by("sqlite")) {
            if let (Some(x), Some(y)) = (f(m, "commands_per_s"), f(q, "commands_per_s")) {
                println!("\n{ours} / SQLite, durable commands/s: {:.2}x", x / y);
            }
            if let (Some(x), Some(y)) = (f(m, "replay_events_per_s"), f(q, "replay_events_per_s")) {
                println!("{ours} / SQLite, replay events/s:    {:.2}x", x / y);
            }
        }
    }
    if let Some(p) = by("postgres") {
        if let Some(x) = f(p, "commands_per_s_4_writers") {
            println!("\npostgres, 4 writers on one ledger, durable commands/s: {x:.0}");
        }
        if let Some(x) = f(p, "open_replay_events_per_s") {
            println!("postgres, open (one replay, no verify checks) events/s: {x:.0}");
        }
        if let (Some(x), Some(m)) = (
            f(p, "replay_events_per_s"),
            by("memberledger").and_then(|m| f(m, "replay_events_per_s")),
        ) {
            println!(
                "postgres / memberledger on sled, verify events/s: {:.2}x",
                x / m
            );
        }
    }
    if let (Some(m), Some(s)) = (by("memberledger"), by("sled")) {
        if let (Some(x), Some(y)) = (f(m, "commands_per_s"), f(s, "commands_per_s")) {
            println!("memberledger / raw sled, durable commands/s: {:.2}x", x / y);
        }
    }
    if let (Some(m), Some(h)) = (by("memberledger"), by("hledger")) {
        if let (Some(x), Some(y)) = (f(m, "replay_events_per_s"), f(h, "replay_events_per_s")) {
            println!(
                "memberledger verify / hledger replay, events/s: {:.2}x",
                x / y
            );
        }
    }
    for m in ["memberledger", "memberledger-file"]
        .into_iter()
        .filter_map(by)
    {
        print_memory(m);
    }
}

/// The memory and open figures of a memberledger run (on either store).
fn print_memory(m: &Value) {
    let f = |k: &str| m.get(k).and_then(Value::as_f64);
    println!("\n{}:", m["system"].as_str().unwrap_or("?"));
    if let Some(b) = f("projection_bytes_per_member") {
        println!("memory per member projection (heap of the projections / members): {b:.0} bytes");
    }
    print_open(m);
    if let Some(b) = f("ledger_heap_bytes_per_member") {
        println!(
            "heap of the open ledger / members (projections, index, the store's cache): {b:.0} bytes"
        );
    }
    if let Some(b) = f("genesis_open_heap_bytes_per_member") {
        println!("heap of the ledger opened by a replay from genesis / members: {b:.0} bytes");
    }
    if let Some(x) = f("open_replay_events_per_s") {
        println!("open + replay (no verify report) events/s: {x:.0}");
    }
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_mib() -> f64 {
    status_kib("VmHWM:") / 1024.0
}

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}

fn disk_mib(path: &Path) -> f64 {
    fn size(p: &Path) -> u64 {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|d| d.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    size(path) as f64 / (1024.0 * 1024.0)
}

/// The `per_mille`-th per-mille value of the samples (nearest rank).
fn percentile(mut v: Vec<f64>, per_mille: usize) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = (v.len().saturating_sub(1) * per_mille + 500) / 1000;
    v.get(i).copied().unwrap_or(0.0)
}

/// The workload: the bulk in durable groups, then the singles timed one by one; generated as
/// it is consumed.
fn commands(a: &Args) -> impl Iterator<Item = Command> {
    workload_iter(a.commands + SINGLES as u64, a.members, a.stores, 7)
}

/// The bulk of the workload in groups of [`GROUP`], and the singles after it.
fn groups(
    all: &mut impl Iterator<Item = Command>,
    bulk: u64,
) -> impl Iterator<Item = Vec<Command>> + '_ {
    let mut left = bulk;
    std::iter::from_fn(move || {
        let n = usize::try_from(left.min(GROUP as u64)).expect("small");
        left -= n as u64;
        (n > 0).then(|| all.by_ref().take(n).collect())
    })
}

/// memberledger on sled (`memberledger`) or on the append-only file store
/// (`memberledger-file`).
fn run_memberledger(a: &Args, dir: &Path, kind: StoreKind) -> Value {
    let mut all = commands(a);
    let system = match kind {
        StoreKind::File => "memberledger-file",
        _ => "memberledger",
    };
    let path = dir.join(system);
    let mut options = memberledger::LedgerOptions::default().with_store_kind(kind);
    if let Some(mb) = a.cache_mb {
        options = options.with_cache_bytes(mb << 20);
    }
    let ledger = Ledger::open_with(&path, &options).expect("opens");
    let t = Instant::now();
    let mut ok = 0u64;
    // The groups as one caller's stream: each group decided while the one before is written.
    let mut stream = groups(&mut all, a.commands);
    ledger.execute_stream(
        |_| stream.next(),
        |_, results| {
            ok += results.iter().filter(|r| r.is_ok()).count() as u64;
            true
        },
    );
    drop(stream);
    let secs = t.elapsed().as_secs_f64();
    let mut lat = Vec::with_capacity(SINGLES);
    for c in all {
        let t = Instant::now();
        let _ = ledger.execute(&c);
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let events = ledger.head().expect("head").position;
    // Our export, for hledger.
    let mut journal =
        std::io::BufWriter::new(std::fs::File::create(dir.join("journal")).expect("journal"));
    memberledger_audit::export(&ledger, memberledger_audit::Format::Hledger, &mut journal)
        .expect("export");
    drop(journal);
    // A clean close writes a checkpoint at the head.
    ledger.close();
    let (open_secs, genesis_heap, checkpoint_secs, open_heap) = reopen_both_ways(&path, &options);
    // Open and verify in one replay, as `memberledger verify` does; its heap is the ledger's.
    let before = ALLOCATOR.allocated();
    let t = Instant::now();
    let (ledger, report) = Ledger::open_verified(&path).expect("reopens");
    let verify_secs = t.elapsed().as_secs_f64();
    assert!(report.ok(), "{report:?}");
    let heap = ALLOCATOR.allocated().saturating_sub(before);
    let ids = ledger.member_ids();
    let members = (ids.len() as f64).max(1.0);
    let projections = projection_heap(&ledger, &ids);
    json!({
        "system": system,
        "commands": a.commands, "recorded": ok, "events": events,
        "commands_per_s": a.commands as f64 / secs,
        "open_replay_events_per_s": events as f64 / open_secs,
        "open_from_checkpoint_s": checkpoint_secs,
        "open_from_genesis_s": open_secs,
        "open_heap_bytes_per_member": open_heap as f64 / members,
        "replay_events_per_s": events as f64 / verify_secs,
        "p50_us": percentile(lat.clone(), 500), "p99_us": percentile(lat, 990),
        "peak_rss_mib": peak_rss_mib(), "disk_mib": disk_mib(&path),
        "genesis_open_heap_bytes_per_member": genesis_heap as f64 / members,
        "ledger_heap_bytes_per_member": heap as f64 / members,
        "projection_bytes_per_member": projections as f64 / members,
    })
}

/// The heap of the member projections alone: a copy of every member's state as the ledger
/// caches it after opening, table included (as the ledger's holds them: each projection
/// boxed, a slot only the box, found by the id inside the state).
fn projection_heap(ledger: &Ledger, ids: &[memberledger::MemberId]) -> usize {
    let spending = ledger
        .policy_history()
        .versions()
        .iter()
        .any(|v| v.policy.has_visit_tier_rules());
    let before = ALLOCATOR.allocated();
    let hasher = ahash::RandomState::new();
    let mut copy: hashbrown::HashTable<Box<MemberState>> = hashbrown::HashTable::new();
    for id in ids {
        let state = ledger.member_state(id).expect("a member");
        // What the ledger caches: the fold without the refundable-consumption records,
        // its lists shrunk to fit after the replay on open.
        let mut state = state.without_consumption_records();
        // Nor the spending window, under a policy history that names no rule reading it.
        if !spending {
            state.drop_spending_window();
        }
        state.shrink_to_fit();
        copy.insert_unique(hasher.hash_one(id), Box::new(state), |s| {
            hasher.hash_one(&s.member)
        });
    }
    copy.shrink_to_fit(|s| hasher.hash_one(&s.member));
    let projections = ALLOCATOR.allocated().saturating_sub(before);
    drop(copy);
    projections
}

/// The same decisions (our core), stored the way an integrator would with SQLite: an events
/// table and a balances table kept in step, WAL, one transaction per group, synchronous=FULL.
fn run_sqlite(a: &Args, dir: &Path) -> Value {
    let mut all = commands(a);
    let path = dir.join("sqlite.db");
    let mut conn = sqlite_open(&path);
    let mut side = SqliteSide {
        policy: Policy::builtin(),
        states: HashMap::new(),
        head: (0, GENESIS_HASH),
    };
    let t = Instant::now();
    for chunk in groups(&mut all, a.commands) {
        side.group(&mut conn, &chunk);
    }
    let secs = t.elapsed().as_secs_f64();
    let mut lat = Vec::with_capacity(SINGLES);
    for c in all {
        let t = Instant::now();
        side.group(&mut conn, std::slice::from_ref(&c));
        lat.push(t.elapsed().as_secs_f64() * 1e6);
    }
    drop(side);
    let t = Instant::now();
    let n = sqlite_replay(&conn);
    let replay_secs = t.elapsed().as_secs_f64();
    json!({
        "system": "sqlite",
        "commands_per_s": a.commands as f64 / secs,
        "replay_events_per_s": n as f64 / replay_secs,
        "p50_us": percentile(lat.clone(), 500), "p99_us": percentile(lat, 990),
        "peak_rss_mib": peak_rss_mib(),
        "disk_mib": disk_mib(&path) + disk_mib(&dir.join("sqlite.db-wal")),
    })
}

/// A new SQLite database with the integrator's schema: events, command ids, balances.
fn sqlite_open(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("opens");
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE events (position INTEGER PRIMARY KEY, command BLOB NOT NULL, member TEXT NOT NULL, json TEXT NOT NULL, hash BLOB NOT NULL);
         CREATE TABLE commands (id BLOB PRIMARY KEY, digest BLOB NOT NULL);
         CREATE TABLE balances (member TEXT PRIMARY KEY, principal INTEGER NOT NULL, bonus INTEGER NOT NULL, points INTEGER NOT NULL, version INTEGER NOT NULL);",
    )
    .expect("schema");
    conn
}

/// What the SQLite design keeps in memory between groups: each member's state and the chain head.
struct SqliteSide {
    policy: Policy,
    states: HashMap<String, MemberState>,
    head: (u64, Hash),
}

impl SqliteSide {
    /// Decides a group of commands and records them in one transaction (a refusal records nothing).
    fn group(&mut self, conn: &mut rusqlite::Connection, chunk: &[Command]) {
        let tx = conn.transaction().expect("tx");
        for c in chunk {
            let Ok((events, next)) = decide(
                &Context::founding(&self.policy).with_member(self.states.get(c.member.as_str())),
                c,
            )
            .map(|d| (d.events, d.member.expect("a member's command"))) else {
                continue;
            };
            self.record(&tx, c, &events, &next);
            self.states.insert(c.member.to_string(), next);
        }
        tx.commit().expect("commit");
    }

    /// One command's rows: its id, its events (sealed onto the chain) and the member's balances.
    fn record(
        &mut self,
        tx: &rusqlite::Transaction<'_>,
        c: &Command,
        events: &[Event],
        next: &MemberState,
    ) {
        tx.execute(
            "INSERT INTO commands (id, digest) VALUES (?1, ?2)",
            rusqlite::params![c.id.as_bytes().to_vec(), c.digest().to_vec()],
        )
        .expect("command");
        for e in events {
            let p = self.head.0 + 1;
            let j = canonical_json(p, e);
            let h = chain_hash(&self.head.1, j.as_bytes());
            tx.execute(
                "INSERT INTO events (position, command, member, json, hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![i64::try_from(p).expect("fits"), c.id.as_bytes().to_vec(), c.member.as_str(), j, h.to_vec()],
            )
            .expect("event");
            self.head = (p, h);
        }
        tx.execute(
            "INSERT INTO balances (member, principal, bonus, points, version) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(member) DO UPDATE SET principal=excluded.principal, bonus=excluded.bonus, points=excluded.points, version=excluded.version",
            rusqlite::params![c.member.as_str(), next.principal().cents(), next.bonus().cents(), i64::try_from(next.points()).expect("fits"), i64::try_from(next.version).expect("fits")],
        )
        .expect("balance");
    }
}

/// Replays and verifies the events table: decode, chain, fold. Returns the events read.
fn sqlite_replay(conn: &rusqlite::Connection) -> u64 {
    let mut stmt = conn
        .prepare("SELECT json, hash FROM events ORDER BY position")
        .expect("select");
    let mut rows = stmt.query([]).expect("query");
    let mut prev = GENESIS_HASH;
    let mut members: HashMap<String, MemberState> = HashMap::new();
    let mut n = 0u64;
    while let Some(row) = rows.next().expect("row") {
        let j: String = row.get(0).expect("json");
        let h: Vec<u8> = row.get(1).expect("hash");
        prev = chain_hash(&prev, j.as_bytes());
        assert_eq!(prev.as_slice(), h.as_slice());
        let (_, e) = decode_event(j.as_bytes()).expect("decodes");
        if let Some(s) =
            MemberState::fold_next(members.get_mut(e.member.as_str()), &e).expect("folds")
        {
            members.insert(e.member.to_string(), s);
        }
        n += 1;
    }
    n
}

/// The limit of the embedded store: the same event bytes inserted into sled, one key per
/// event, flushed and fdatasync'ed once per group; replay is a scan with the chain check.
fn run_sled(a: &Args, dir: &Path) -> Value {
    let mut all = commands(a);
    // The bytes, decided in memory beforehand (not timed).
    let policy = Policy::builtin();
    let mut states: HashMap<String, MemberState> = HashMap::new();
    let mut batches: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut p = 0u64;
    for chunk in groups(&mut all, a.commands) {
        let mut g = Vec::new();
        for c in &chunk {
            if let Ok((events, next)) = decide(
                &Context::founding(&policy).with_member(states.get(c.member.as_str())),
                c,
            )
            .map(|d| (d.events, d.member.expect("a member's command")))
            {
                for e in &events {
                    p += 1;
                    g.push(canonical_json(p, e).into_bytes());
                }
                states.insert(c.member.to_string(), next);
            }
        }
        batches.push(g);
    }
    drop(states);
    let path = dir.join("sled");
    let db = sled::open(&path).expect("opens");
    let file = std::fs::File::open(path.join("db")).expect("data file");
    let t = Instant::now();
    let mut pos = 0u64;
    for g in &batches {
        let mut b = sled::Batch::default();
        for bytes in g {
            pos += 1;
            b.insert(&pos.to_be_bytes(), bytes.as_slice());
        }
        db.apply_batch(b).expect("batch");
        db.flush().expect("flush");
        file.sync_data().expect("fdatasync");
    }
    let secs = t.elapsed().as_secs_f64();
    drop(batches);
    let t = Instant::now();
    let mut prev = GENESIS_HASH;
    let mut n = 0u64;
    for kv in db.iter() {
        let (_, v) = kv.expect("reads");
        prev = chain_hash(&prev, &v);
        n += 1;
    }
    let replay_secs = t.elapsed().as_secs_f64();
    json!({
        "system": "sled",
        "commands_per_s": a.commands as f64 / secs,
        "replay_events_per_s": n as f64 / replay_secs,
        "peak_rss_mib": peak_rss_mib(),
        "disk_mib": disk_mib(&path),
        "head": format!("{:02x}{:02x}", prev[0], prev[1]),
    })
}

/// hledger replaying our export (its balance report checks every closing assertion too).
fn run_hledger(dir: &Path) -> Value {
    let journal = dir.join("journal");
    let text = std::fs::read_to_string(&journal).expect("the memberledger run wrote the journal");
    let transactions = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .count();
    let t = Instant::now();
    let out = Process::new("hledger")
        .arg("-f")
        .arg(&journal)
        .args(["bal", "-O", "csv"])
        .output();
    let secs = t.elapsed().as_secs_f64();
    match out {
        Ok(o) if o.status.success() => json!({
            "system": "hledger",
            "replay_events_per_s": transactions as f64 / secs,
            "transactions": transactions,
            "disk_mib": disk_mib(&journal),
        }),
        Ok(o) => json!({"system": "hledger", "error": String::from_utf8_lossy(&o.stderr)}),
        Err(e) => json!({"system": "hledger", "error": e.to_string()}),
    }
}

/// Opens the closed ledger at `path` twice: by a replay from genesis (its checkpoints moved
/// aside), then from its checkpoint at the head. The seconds of each and the heap each opened
/// ledger holds (bytes, as the counting allocator sees it: the process's RSS says little
/// here, its allocator keeping what the run before freed).
fn reopen_both_ways(
    path: &Path,
    options: &memberledger::LedgerOptions,
) -> (f64, usize, f64, usize) {
    let checkpoints = path.join("checkpoints");
    let aside = path.with_extension("checkpoints-aside");
    std::fs::rename(&checkpoints, &aside).expect("the close wrote a checkpoint");
    let no_more = options.clone().with_checkpoint_every(None);
    let before = ALLOCATOR.allocated();
    let t = Instant::now();
    let ledger = Ledger::open_existing_with(path, &no_more).expect("reopens");
    let genesis_secs = t.elapsed().as_secs_f64();
    let genesis_heap = ALLOCATOR.allocated().saturating_sub(before);
    drop(ledger);
    std::fs::rename(&aside, &checkpoints).expect("the checkpoints go back");
    let before = ALLOCATOR.allocated();
    let t = Instant::now();
    let ledger = Ledger::open_existing_with(path, &no_more).expect("reopens");
    let checkpoint_secs = t.elapsed().as_secs_f64();
    assert!(ledger.open_notes().is_empty(), "{:?}", ledger.open_notes());
    let heap = ALLOCATOR.allocated().saturating_sub(before);
    drop(ledger);
    (genesis_secs, genesis_heap, checkpoint_secs, heap)
}

/// The open figures of a memberledger run: from its checkpoint against from genesis, and the
/// heap the ledger opened from its checkpoint holds.
fn print_open(m: &Value) {
    let f = |k: &str| m.get(k).and_then(Value::as_f64);
    if let (Some(c), Some(g)) = (f("open_from_checkpoint_s"), f("open_from_genesis_s")) {
        println!(
            "open from the checkpoint at the head: {c:.3} s; by a replay from genesis: {g:.3} s ({:.1}x)",
            g / c.max(1e-9)
        );
    }
    if let Some(b) = f("open_heap_bytes_per_member") {
        println!("heap of the ledger opened from its checkpoint / members: {b:.0} bytes");
    }
}
