//! Many processes on one PostgreSQL ledger: `memberledger apply --db postgres://…` in four
//! processes at once on shared members, with and without one of them killed mid-stream, and
//! `migrate` of an embedded ledger into PostgreSQL.
//!
//! They need `MEMBERLEDGER_PG_URL` (`eval "$(scripts/pg-start.sh)"`); without it they say they
//! are skipped, or fail when `MEMBERLEDGER_REQUIRE_PG=1` (CI).

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use memberledger::store::PgStore;
use memberledger::{Ledger, MemberId, Uuid};
use memberledger_testkit::SharedStore;

mod support;
use support::memberledger as cli;

/// Members the writers share.
const MEMBERS: usize = 40;
/// Writer processes.
const WRITERS: usize = 4;

fn url() -> Option<String> {
    match std::env::var("MEMBERLEDGER_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("MEMBERLEDGER_REQUIRE_PG").as_deref() != Ok("1"),
                "MEMBERLEDGER_REQUIRE_PG=1 but MEMBERLEDGER_PG_URL is not set"
            );
            eprintln!(
                "SKIPPED: these tests need MEMBERLEDGER_PG_URL (eval \"$(scripts/pg-start.sh)\")"
            );
            None
        }
    }
}

/// A schema of this test's own, dropped when dropped.
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
            name: format!("cli_{tag}_{}_{nanos}", std::process::id()),
        }
    }

    /// The --db of the ledger in this schema.
    fn db(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={}", self.url, self.name)
    }

    fn open(&self) -> Ledger {
        Ledger::open_postgres_existing(&self.url, Some(&self.name)).unwrap()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name));
        }
    }
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x5a5a_0000_0000_4000_8000_0000_0000_0000 | n)
}

/// Enrolls the members and loads their cards.
fn setup_lines() -> Vec<String> {
    (0..MEMBERS)
        .flat_map(|m| {
            let n = u128::try_from(m).unwrap();
            [
                format!(r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{m}","store":"S1"}}"#, id(n * 2)),
                format!(r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M{m}","store":"S1","amount":"100000.00"}}"#, id(n * 2 + 1)),
            ]
        })
        .collect()
}

/// One writer's commands: recharges and consumptions on members every writer touches, all
/// at one time (so no order of them goes back in time) and never beyond a card's balance.
fn writer_lines(writer: usize, count: usize) -> Vec<String> {
    let mut x = 0x9e37_79b9_7f4a_7c15_u64 ^ u64::try_from(writer).unwrap();
    (0..count)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let member = usize::try_from(x % u64::try_from(MEMBERS).unwrap()).unwrap();
            let n = 1_000_000 * u128::try_from(writer + 1).unwrap() + u128::try_from(i).unwrap();
            let store = 1 + writer;
            if x % 3 == 0 {
                format!(r#"{{"id":"{}","at":"2026-03-01T11:00:00Z","type":"recharge","member":"M{member}","store":"S{store}","amount":"10.00"}}"#, id(n))
            } else {
                format!(r#"{{"id":"{}","at":"2026-03-01T11:00:00Z","type":"consume","member":"M{member}","store":"S{store}","amount":"3.00","service":"facial"}}"#, id(n))
            }
        })
        .collect()
}

fn write_file(dir: &Path, name: &str, lines: &[String]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path.to_str().unwrap().to_owned()
}

/// Starts `apply` of a file.
fn spawn_apply(db: &str, file: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .args(["--db", db, "apply", file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The receipts an apply printed: command id → (ok, replayed, error code).
fn answers(stdout: &str) -> Vec<(Uuid, bool, bool, Option<String>)> {
    stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["command"].as_str().unwrap().parse().unwrap(),
                v["ok"].as_bool().unwrap(),
                v["replayed"].as_bool().unwrap_or(false),
                v["error"]["code"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The commands of the chain in its order (each once), after the founding record.
fn chain_commands(ledger: &Ledger) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ledger
        .events(1, 1000)
        .map(|e| e.unwrap().event.command)
        .filter(|c| seen.insert(*c))
        .skip(1)
        .collect()
}

/// Every member view of the shared ledger equals a serial replay: the chain's commands, in
/// chain order, applied to a fresh ledger in memory.
fn assert_serial_replay(ledger: &Ledger, by_id: &HashMap<Uuid, String>) {
    let serial = Ledger::in_memory();
    for c in chain_commands(ledger) {
        let command = memberledger::Command::from_json(&by_id[&c]).unwrap();
        let r = serial.execute(&command).unwrap();
        assert!(!r.replayed, "the chain holds command {c} once");
    }
    assert_eq!(serial.member_ids(), ledger.member_ids());
    for m in 0..MEMBERS {
        let m = MemberId::new(format!("M{m}")).unwrap();
        assert_eq!(serial.member(&m), ledger.member(&m), "member {m}");
    }
}

/// Sets a ledger up in `schema` with the shared members; the files of the writers, and every
/// command's line by id.
fn prepare(schema: &Schema, dir: &Path, per_writer: usize) -> (Vec<String>, HashMap<Uuid, String>) {
    ok(&cli(&schema.db(), &["init"]));
    let setup = setup_lines();
    let f = write_file(dir, "setup.jsonl", &setup);
    ok(&cli(&schema.db(), &["apply", &f]));
    let mut by_id = HashMap::new();
    let mut files = Vec::new();
    for line in &setup {
        by_id.insert(command_id(line), line.clone());
    }
    for w in 0..WRITERS {
        let lines = writer_lines(w, per_writer);
        for line in &lines {
            by_id.insert(command_id(line), line.clone());
        }
        files.push(write_file(dir, &format!("w{w}.jsonl"), &lines));
    }
    (files, by_id)
}

fn command_id(line: &str) -> Uuid {
    memberledger::Command::from_json(line).unwrap().id
}

/// What a re-run of every file records: the commands it accepted anew.
fn rerun(db: &str, files: &[String]) -> Vec<Uuid> {
    files
        .iter()
        .flat_map(|f| answers(&ok(&cli(db, &["apply", f]))))
        .filter(|(_, ok, replayed, _)| *ok && !replayed)
        .map(|(id, ..)| id)
        .collect()
}

#[test]
fn four_processes_on_shared_members_equal_a_serial_replay_and_lose_or_double_nothing() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "four");
    let dir = tempfile::tempdir().unwrap();
    let per_writer = 1500;
    let (files, by_id) = prepare(&schema, dir.path(), per_writer);
    let children: Vec<_> = files.iter().map(|f| spawn_apply(&schema.db(), f)).collect();
    let mut conflicted = HashSet::new();
    let mut answered = HashSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let got = answers(&ok(&out));
        assert_eq!(got.len(), per_writer, "every command is answered");
        for (id, ok, _, code) in got {
            assert!(answered.insert(id), "command {id} answered once");
            if !ok {
                assert_eq!(code.as_deref(), Some("concurrency_conflict"), "{id}");
                conflicted.insert(id);
            }
        }
    }
    let ledger = schema.open();
    let chain: HashSet<Uuid> = chain_commands(&ledger).into_iter().collect();
    let acked: HashSet<Uuid> = answered.difference(&conflicted).copied().collect();
    assert!(
        acked.is_subset(&chain),
        "every acknowledged command is in the chain"
    );
    assert_eq!(chain.len(), 2 * MEMBERS + acked.len(), "nothing else is");
    assert_serial_replay(&ledger, &by_id);
    let out = ok(&cli(&schema.db(), &["verify"]));
    assert!(out.starts_with("verify: ok"), "{out}");
    // Re-running every file records only what was answered concurrency_conflict.
    let again: HashSet<Uuid> = rerun(&schema.db(), &files).into_iter().collect();
    assert_eq!(again, conflicted);
    assert!(
        rerun(&schema.db(), &files).is_empty(),
        "a third run records nothing"
    );
}

#[test]
fn a_process_killed_mid_stream_loses_no_acknowledged_command_and_its_rerun_completes_it() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "kill");
    let dir = tempfile::tempdir().unwrap();
    let per_writer = 1000;
    let (files, by_id) = prepare(&schema, dir.path(), per_writer);
    let mut children: Vec<_> = files.iter().map(|f| spawn_apply(&schema.db(), f)).collect();
    // Read the victim's receipts until a few hundred are printed, then SIGKILL it.
    let mut victim = children.remove(0);
    let mut acked = Vec::new();
    let mut out = BufReader::new(victim.stdout.take().unwrap());
    while acked.len() < 200 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        acked.extend(answers(&line));
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    // Receipts already in the pipe were acknowledged too; a last line the kill cut short
    // (receipts are written a group at a time, and a write larger than the pipe lands in
    // parts) is no receipt: only lines ended by a newline are.
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut out, &mut rest);
    let rest = String::from_utf8_lossy(&rest);
    let whole = rest.rfind('\n').map_or("", |end| &rest[..end]);
    acked.extend(answers(whole));
    assert!(acked.len() < per_writer, "the victim was killed mid-stream");
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }
    let ledger = schema.open();
    let chain: HashSet<Uuid> = chain_commands(&ledger).into_iter().collect();
    for (id, ok, ..) in &acked {
        assert!(
            !ok || chain.contains(id),
            "acknowledged {id} is in the chain"
        );
    }
    let out = ok(&cli(&schema.db(), &["verify"]));
    assert!(out.starts_with("verify: ok"), "{out}");
    // Re-running the victim's file completes it: every one of its commands is in the chain.
    ok(&cli(&schema.db(), &["apply", &files[0]]));
    let ledger = schema.open();
    let chain: HashSet<Uuid> = chain_commands(&ledger).into_iter().collect();
    let victims: Vec<Uuid> = writer_lines(0, per_writer)
        .iter()
        .map(|l| command_id(l))
        .collect();
    assert!(victims.iter().all(|c| chain.contains(c)));
    assert_serial_replay(&ledger, &by_id);
    let out = ok(&cli(&schema.db(), &["verify"]));
    assert!(out.starts_with("verify: ok"), "{out}");
}

/// A small generated year on the embedded store, in `dir`: its verify head.
fn small_year_on_disk(dir: &Path) -> String {
    year_on_disk(dir, 800)
}

/// A generated year of `commands` on the embedded store, in `dir`: its verify head.
fn year_on_disk(dir: &Path, commands: u64) -> String {
    use memberledger_testkit::year::{Shape, Year};
    let ledger = Ledger::open(dir).unwrap();
    let shape = Shape {
        stores: 3,
        members: 60,
        commands,
        days: 365,
        ..Shape::default()
    };
    let mut year = Year::new(7, shape);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {}).unwrap();
    year.close(&ledger, |_| {});
    let report = ledger.verify().unwrap();
    assert!(report.ok(), "{:?}", report.problem);
    report.head
}

#[test]
fn migrate_copies_an_embedded_ledger_with_the_same_head_and_member_views() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "migrate");
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("ledger");
    let head = small_year_on_disk(&from);
    let out = ok(&cli(
        "./unused",
        &[
            "migrate",
            "--from",
            from.to_str().unwrap(),
            "--to",
            &schema.db(),
        ],
    ));
    assert!(out.contains(&format!("chain head {head}")), "{out}");
    let source = Ledger::open_existing(&from).unwrap();
    let copy = schema.open();
    assert_eq!(copy.verify().unwrap().head, head);
    assert_eq!(source.member_ids(), copy.member_ids());
    for id in source.member_ids() {
        assert_eq!(source.member(&id), copy.member(&id), "member {id}");
    }
    drop(source);
    let out = ok(&cli(&schema.db(), &["verify", "--head", &head]));
    assert!(out.starts_with("verify: ok"), "{out}");
    // A schema that holds a ledger is not written over.
    let again = cli(
        "./unused",
        &[
            "migrate",
            "--from",
            from.to_str().unwrap(),
            "--to",
            &schema.db(),
        ],
    );
    assert_eq!(again.status.code(), Some(2));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("already_exists"), "{said}");
    assert!(said.contains("already holds this ledger"), "{said}");
}

/// Events in a schema's `events` table (0 when it has none).
fn events_in(url: &str, schema: &str) -> i64 {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let exists: bool = c
        .query_one(
            "SELECT to_regclass(format('%I.events', $1::text)) IS NOT NULL",
            &[&schema],
        )
        .unwrap()
        .get(0);
    if !exists {
        return 0;
    }
    c.query_one(&format!("SELECT count(*) FROM \"{schema}\".events"), &[])
        .unwrap()
        .get(0)
}

#[test]
fn migrate_killed_mid_copy_leaves_no_ledger_and_its_rerun_ends_with_the_same_head() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "mkill");
    let staging = format!("{}__migrating", schema.name);
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("ledger");
    // More events than one append of the copy takes (4,096), so it is killed between two.
    let head = year_on_disk(&from, 12_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .args([
            "migrate",
            "--from",
            from.to_str().unwrap(),
            "--to",
            &schema.db(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while events_in(&url, &staging) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the copy ended before it was killed"
        );
        assert!(started.elapsed().as_secs() < 120, "the copy never started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the copy ended before it was killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let copied = events_in(&url, &staging);
    let source_events = Ledger::open_existing(&from)
        .unwrap()
        .verify()
        .unwrap()
        .events;
    assert!(
        copied > 0 && u64::try_from(copied).unwrap() < source_events,
        "killed mid-copy: {copied} of {source_events}"
    );
    // The target holds no ledger: nothing opens a part of one as the ledger.
    assert_eq!(events_in(&url, &schema.name), 0);
    let opened = cli(&schema.db(), &["verify"]);
    assert_ne!(opened.status.code(), Some(0), "a part-copied ledger opened");
    // The re-run copies it all and ends with the source's head.
    let out = ok(&cli(
        "./unused",
        &[
            "migrate",
            "--from",
            from.to_str().unwrap(),
            "--to",
            &schema.db(),
        ],
    ));
    assert!(out.contains(&format!("chain head {head}")), "{out}");
    let out = ok(&cli(&schema.db(), &["verify", "--head", &head]));
    assert!(out.starts_with("verify: ok"), "{out}");
    assert_eq!(events_in(&url, &staging), 0, "the staging schema is gone");
}

#[test]
fn migrate_into_a_schema_holding_another_ledger_is_refused_and_copies_nothing() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "mother");
    let dir = tempfile::tempdir().unwrap();
    let from = dir.path().join("ledger");
    small_year_on_disk(&from);
    let other =
        Ledger::create_postgres(&url, Some(&schema.name), memberledger::Policy::builtin()).unwrap();
    let enroll = memberledger::Command::from_json(&format!(
        r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"X1","store":"S1"}}"#,
        id(1)
    ))
    .unwrap();
    other.execute(&enroll).unwrap();
    let before = other.verify().unwrap().head;
    drop(other);
    let out = cli(
        "./unused",
        &[
            "migrate",
            "--from",
            from.to_str().unwrap(),
            "--to",
            &schema.db(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("already_exists") && said.contains("holds another ledger"),
        "{said}"
    );
    assert_eq!(
        schema.open().verify().unwrap().head,
        before,
        "the ledger there is untouched"
    );
}

#[test]
fn migrate_refuses_a_target_that_is_not_a_postgres_url() {
    let dir = tempfile::tempdir().unwrap();
    let out = cli(
        "./unused",
        &[
            "migrate",
            "--from",
            dir.path().to_str().unwrap(),
            "--to",
            "/tmp/x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to takes a PostgreSQL URL"));
}

#[test]
fn a_refusal_decided_on_a_member_another_process_moved_is_decided_again() {
    let Some(url) = url() else { return };
    let schema = Schema::new(&url, "stale");
    let a = Arc::new(Ledger::open_postgres(&url, Some(&schema.name)).unwrap());
    let (racing, hook) = SharedStore::racing(Arc::new(
        PgStore::open_existing(&url, &schema.name).unwrap(),
    ));
    let b = Ledger::with_shared_store(Box::new(racing), None).unwrap();
    let line = |n: u128, rest: &str| {
        memberledger::Command::from_json(&format!(
            r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1",{rest}}}"#,
            id(n)
        ))
        .unwrap()
    };
    a.execute(&line(1, r#""type":"enroll""#)).unwrap();
    // b catches up before its batch and sees M1 without a balance; right then, a recharges.
    let (a2, recharge) = (
        Arc::clone(&a),
        line(2, r#""type":"recharge","amount":"100.00""#),
    );
    *hook.lock().unwrap() = Some(Box::new(move || {
        a2.execute(&recharge).unwrap();
    }));
    let consumed = b.execute(&line(3, r#""type":"consume","amount":"60.00""#));
    assert!(hook.lock().unwrap().is_none(), "the recharge ran mid-batch");
    assert!(!consumed.expect("decided again, not refused").replayed);
    let m1 = MemberId::new("M1").unwrap();
    assert_eq!(b.member(&m1).unwrap().principal.to_string(), "40.00");
    assert_eq!(a.member(&m1), b.member(&m1));
    // A refusal that holds against the store is still answered.
    let refused = b
        .execute(&line(4, r#""type":"consume","amount":"60.00""#))
        .unwrap_err();
    assert_eq!(refused.code(), "insufficient_balance");
    assert!(b.verify().unwrap().ok());
}
