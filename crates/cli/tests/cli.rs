//! The CLI as a user runs it: separate processes over one sled ledger on disk.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::path::Path;
use std::process::{Command, Output};

mod support;
use support::{memberledger as run, memberledger_stdin as run_stdin};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn receipts(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const ID: &str = "00000000-0000-4000-8000-0000000000";

fn line(n: u32, at: &str, member: &str, store: &str, rest: &str) -> String {
    format!(
        r#"{{"id":"{ID}{n:02}","at":"2026-03-{at}Z","member":"{member}","store":"{store}",{rest}}}"#
    )
}

fn story() -> String {
    [
        line(1, "01T10:00:00", "M1", "S1", r#""type":"enroll""#),
        line(
            2,
            "01T10:05:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"1000.00","staff":"E7""#,
        ),
        line(
            3,
            "02T15:00:00",
            "M1",
            "S2",
            r#""type":"consume","amount":"300.00","staff":"E9","service":"facial""#,
        ),
        line(
            4,
            "03T09:00:00",
            "M1",
            "S2",
            &format!(r#""type":"refund_consumption","consumption":"{ID}03","amount":"100.00""#),
        ),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn init_apply_show_verify_export_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    init_apply_show_verify_export(dir.path(), &["init"]);
}

#[test]
fn init_apply_show_verify_export_across_processes_on_the_file_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = init_apply_show_verify_export(dir.path(), &["init", "--store", "file"]);
    assert_eq!(
        memberledger::StoreKind::at(&db),
        memberledger::StoreKind::File
    );
    assert!(db.join("FORMAT").exists());
}

#[test]
fn a_file_store_open_in_another_process_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init", "--store", "file"]).status.success());
    let held = memberledger::Ledger::open_existing(&db).unwrap();
    let o = run_stdin(&db, &["apply", "-"], &story());
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("open in another process"),
        "{o:?}"
    );
    // verify reads without the lock, and writes nothing.
    assert_eq!(run(&db, &["verify"]).status.code(), Some(0));
    drop(held);
    assert!(run_stdin(&db, &["apply", "-"], &story()).status.success());
}

/// init (with `init` args), apply, show, verify, export, each its own process, in a ledger
/// below `dir`; the ledger's directory.
fn init_apply_show_verify_export(dir: &Path, init: &[&str]) -> std::path::PathBuf {
    let db = dir.join("ledger");
    let o = run(&db, init);
    assert!(o.status.success(), "{o:?}");
    // A second init refuses to overwrite (of either kind).
    assert_eq!(run(&db, &["init"]).status.code(), Some(2));
    assert_eq!(
        run(&db, &["init", "--store", "file"]).status.code(),
        Some(2)
    );

    let file = dir.join("story.jsonl");
    std::fs::write(&file, story()).unwrap();
    let o = run(&db, &["apply", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let r = receipts(&o);
    assert_eq!(r.len(), 4);
    assert!(r.iter().all(|r| r["ok"] == true && r["replayed"] == false));
    assert_eq!(
        r[1]["events"].as_array().unwrap().len(),
        2,
        "recharge + bonus"
    );

    // Applying the same file again replays every command and records nothing.
    let o = run(&db, &["apply", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(receipts(&o).iter().all(|r| r["replayed"] == true));

    // A new process sees the state: 1000 + 150 bonus, −300 (260.87 P + 39.13 B), +100 back.
    let o = run(&db, &["member", "show", "M1", "--json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["principal"], "826.09");
    assert_eq!(v["bonus"], "123.91");
    assert_eq!(v["points"], 174);
    assert_eq!(v["version"], 5);
    let human = stdout(&run(&db, &["member", "show", "M1"]));
    assert!(
        human.contains("826.09") && human.contains("tier standard"),
        "{human}"
    );
    let before = run(
        &db,
        &[
            "member",
            "show",
            "M1",
            "--json",
            "--as-of",
            "2026-03-02T00:00:00Z",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&before)).unwrap();
    assert_eq!(v["principal"], "1000.00");

    let o = run(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).contains("verify: ok — 6 events"),
        "{}",
        stdout(&o)
    );

    let export = run(&db, &["export", "--format", "jsonl"]);
    assert!(export.status.success());
    let lines: Vec<serde_json::Value> = stdout(&export)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    // The founding policy's record comes first: the export carries the rules.
    assert_eq!(lines[0]["type"], "policy_published");
    assert_eq!(lines[0]["data"]["version"], 1);
    assert_eq!(lines[5]["position"], 6);
    assert_eq!(lines[5]["type"], "consumption_refunded");
    assert_eq!(lines[5]["hash"].as_str().unwrap().len(), 64);
    // Export is deterministic.
    assert_eq!(
        export.stdout,
        run(&db, &["export", "--format", "jsonl"]).stdout
    );
    db
}

#[test]
fn apply_rejects_bad_lines_with_their_codes_and_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let input = [
        line(1, "01T10:00:00", "M1", "S1", r#""type":"enroll""#),
        "{this is not json".to_owned(),
        line(
            2,
            "01T10:01:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"10.001""#,
        ),
        line(
            3,
            "01T10:01:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"-5.00""#,
        ),
        line(
            4,
            "01T10:01:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"100000000.00""#,
        ),
        line(
            5,
            "01T10:01:00",
            "M 1",
            "S1",
            r#""type":"recharge","amount":"5.00""#,
        ),
        line(
            6,
            "01T10:01:00",
            "M2",
            "S1",
            r#""type":"recharge","amount":"5.00""#,
        ),
        line(
            7,
            "01T10:01:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"5.00","colour":"red""#,
        ),
        line(
            8,
            "01T10:01:00",
            "M1",
            "S1",
            r#""type":"consume","amount":"500.00""#,
        ),
        String::new(),
        line(
            9,
            "01T10:02:00",
            "M1",
            "S1",
            r#""type":"recharge","amount":"500.00""#,
        ),
        "x".repeat(20_000),
        line(
            10,
            "01T10:03:00",
            "M1",
            "S1",
            r#""type":"change_tier","tier":"emperor""#,
        ),
    ]
    .join("\n");
    let o = run_stdin(&db, &["apply", "-"], &input);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let r = receipts(&o);
    let codes: Vec<&str> = r
        .iter()
        .map(|r| {
            if r["ok"] == true {
                "ok"
            } else {
                r["error"]["code"].as_str().unwrap()
            }
        })
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "invalid_command",
            "invalid_amount",
            "invalid_amount",
            "invalid_amount",
            "invalid_id",
            "member_not_found",
            "invalid_command",
            "insufficient_balance",
            "ok",
            "invalid_command",
            "unknown_tier",
        ]
    );
    assert_eq!(
        r[2]["command"],
        format!("{ID}02"),
        "the id is echoed back when readable"
    );
    assert!(r[1]["command"].is_null());
    // Only the founding policy's record and the two good commands were recorded (enroll;
    // recharge + its bonus).
    let export = stdout(&run(&db, &["export", "--format", "jsonl"]));
    assert_eq!(export.lines().count(), 4);
    assert_eq!(run(&db, &["verify"]).status.code(), Some(0));
}

#[test]
fn usage_and_io_errors_exit_2_and_unknown_members_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("none");
    let o = run(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ledger"));
    assert!(!db.exists(), "reading commands never create a ledger");
    assert!(run(&db, &["init"]).status.success());
    assert_eq!(
        run(&db, &["apply", "/no/such/file.jsonl"]).status.code(),
        Some(2)
    );
    assert_eq!(
        run(&db, &["member", "show", "nobody"]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&db, &["member", "show", "bad id"]).status.code(),
        Some(2)
    );
    let bad_policy = dir.path().join("policy.json");
    std::fs::write(&bad_policy, r#"{"tiers":[]}"#).unwrap();
    let o = run(
        &dir.path().join("other"),
        &["init", "--policy", bad_policy.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid_policy"));
}

#[test]
fn verify_names_the_first_bad_position_of_a_damaged_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let o = run_stdin(&db, &["apply", "-"], &story());
    assert!(o.status.success());
    // Damage the consumption's stored bytes ("300.00" → "301.00" in its price; position 5, after
    // the founding policy's record).
    {
        let sled = raw_sled(&db);
        // The batch was stored in chunks: find the one holding the consumption.
        let needle = b"\"price\":\"300.00\"";
        let (key, mut v) = sled
            .scan_prefix([b'e'])
            .map(|kv| kv.unwrap())
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .find(|(_, v)| v.windows(needle.len()).any(|w| w == needle))
            .unwrap();
        let at = v.windows(needle.len()).position(|w| w == needle).unwrap();
        v[at + 11] = b'1';
        sled.insert(&key, v).unwrap();
        sled.flush().unwrap();
    }
    let o = run(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stdout(&o).contains("FAILED at position 5"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn demo_builds_a_verified_ledger_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    for out in [&a, &b] {
        let o = bin()
            .args([
                "demo",
                "--seed",
                "7",
                "--stores",
                "5",
                "--members",
                "60",
                "--commands",
                "1500",
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{o:?}");
        let text = stdout(&o);
        assert!(text.contains("verify: ok"), "{text}");
        assert!(
            text.contains("members by tier") && text.contains("busiest stores"),
            "{text}"
        );
    }
    let ea = run(&a, &["export", "--format", "jsonl"]).stdout;
    let eb = run(&b, &["export", "--format", "jsonl"]).stdout;
    assert!(ea.len() > 100_000, "the demo records plenty");
    assert_eq!(ea, eb, "the same seed gives a byte-identical log");
    // Its first event is the founding policy's record: the export carries the rules.
    let first: serde_json::Value =
        serde_json::from_slice(ea.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        (&first["type"], &first["member"], &first["data"]["version"]),
        (&"policy_published".into(), &"@policy".into(), &1.into())
    );
    // The demo refuses to build over an existing ledger.
    let o = bin()
        .args(["demo", "--commands", "10", "--out"])
        .arg(&a)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Opens the sled tree underneath a ledger, waiting for the ledger's own handle to let go.
fn raw_sled(path: &std::path::Path) -> sled::Db {
    for _ in 0..40 {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    sled::open(path).expect("the ledger's sled tree opens")
}

#[test]
fn damaged_sled_files_are_reported_as_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    assert!(run_stdin(&db, &["apply", "-"], &story()).status.success());
    // Damage 64 bytes of sled's data file. sled recovers by dropping everything from the
    // damage on; the head anchor turns that silent loss into a reported one.
    let data = db.join("db");
    let mut bytes = std::fs::read(&data).unwrap();
    for b in &mut bytes[1000..1064] {
        *b ^= 0xff;
    }
    std::fs::write(&data, bytes).unwrap();
    let o = run(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    // Either sled notices its damaged files itself, or it drops the damaged tail and the head
    // anchor notices the acknowledged events are gone; never a quietly shorter ledger.
    let said = stdout(&o);
    assert!(
        said.contains("FAILED at position 0: sled's")
            || (said.contains("FAILED at position 1") && said.contains("acknowledged")),
        "{said}"
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    // Other commands refuse the damaged ledger with `corrupt` and exit 2.
    let o = run(&db, &["member", "show", "M1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("corrupt"),
        "{o:?}"
    );
}

#[test]
fn a_ledger_open_in_another_process_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let held = memberledger::Ledger::open_existing(&db).unwrap();
    let o = run_stdin(&db, &["apply", "-"], &story());
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("open in another process"),
        "{o:?}"
    );
    assert!(o.stdout.is_empty(), "nothing was acknowledged");
    drop(held);
    assert!(run_stdin(&db, &["apply", "-"], &story()).status.success());
}

#[test]
fn apply_reports_a_line_that_is_not_utf8_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let mut input = b"\xff\xfe not text\n".to_vec();
    input.extend_from_slice(story().as_bytes());
    let file = dir.path().join("mixed.jsonl");
    std::fs::write(&file, input).unwrap();
    let o = run(&db, &["apply", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let r = receipts(&o);
    assert_eq!(r.len(), 5);
    assert_eq!(r[0]["error"]["code"], "invalid_command");
    assert!(r[1..].iter().all(|r| r["ok"] == true));
}

/// A ledger written before founding records existed (its policy only in the settings): `verify`
/// passes with the note "founding policy not in the chain (old ledger)" and writes nothing; the
/// next command that opens it to write records the founding policy, and the note is gone.
#[test]
fn verify_reports_an_old_ledger_without_failing_and_a_write_records_its_founding_policy() {
    use memberledger::domain::{decide, Context, Decision, MemberState};
    use memberledger::store::{EventStore, SledStore};
    use memberledger::Policy;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    {
        let store = SledStore::open(&db).unwrap();
        let policy = Policy::builtin();
        store
            .set_meta("policy", policy.to_json().as_bytes())
            .unwrap();
        let cmd = memberledger::Command::from_json(
            r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#,
        )
        .unwrap();
        let events = decide(
            &Context::founding(&policy).with_member(None::<&MemberState>),
            &cmd,
        )
        .map(Decision::into_events)
        .unwrap();
        let appended = store
            .append(vec![memberledger_store::Append {
                command: cmd.id,
                digest: cmd.digest(),
                member: cmd.member.clone(),
                expected_version: 0,
                events,
            }])
            .unwrap();
        assert!(appended.iter().all(Result::is_ok));
    }
    let o = run(&db, &["verify"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert!(
        stdout(&o).contains("verify: ok — 1 events"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("founding policy not in the chain (old ledger)"),
        "{}",
        stdout(&o)
    );
    // `verify` wrote nothing; `member show` opens to write and records the founding policy.
    assert_eq!(run(&db, &["member", "show", "M1"]).status.code(), Some(0));
    let o = run(&db, &["verify"]);
    assert!(
        stdout(&o).contains("verify: ok — 2 events"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("old ledger"), "{}", stdout(&o));
    let export = stdout(&run(&db, &["export", "--format", "jsonl"]));
    let last: serde_json::Value = serde_json::from_str(export.lines().last().unwrap()).unwrap();
    assert_eq!(
        (&last["type"], &last["data"]["version"], &last["at"]),
        (
            &"policy_published".into(),
            &1.into(),
            &"1970-01-01T00:00:00Z".into()
        )
    );
}
