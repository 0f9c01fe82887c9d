//! The way back: `restore --from export.jsonl` rebuilds the demo ledger with the same log,
//! head, member views and reports; `verify --export` checks an export with no database; both
//! refuse a tampered export at its first bad position.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
}

fn run(db: &Path, args: &[&str]) -> Output {
    bin().arg("--db").arg(db).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small demo ledger and its `jsonl` export.
fn demo(dir: &Path) -> (PathBuf, String) {
    let db = dir.join("demo");
    let o = bin()
        .args(["demo", "--members", "200", "--commands", "3000", "--out"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let export = text(&run(&db, &["export", "--format", "jsonl"]));
    (db, export)
}

/// What a user sees of a ledger: its verification, some members and every report.
fn views(db: &Path) -> Vec<String> {
    let mut args: Vec<Vec<&str>> = vec![
        vec!["verify", "--json"],
        vec!["policy", "list"],
        vec!["export", "--format", "hledger"],
    ];
    for report in ["trial-balance", "stores", "settlement", "liability"] {
        args.push(vec!["report", report, "--json"]);
        args.push(vec![
            "report",
            report,
            "--as-of",
            "2026-06-30T00:00:00Z",
            "--json",
        ]);
    }
    for m in ["M0000000", "M0000001", "M0000042", "M0000199"] {
        args.push(vec!["member", "show", m, "--json"]);
        args.push(vec!["statement", m, "--json"]);
    }
    args.iter()
        .map(|a| {
            let o = run(db, a);
            assert!(o.status.success(), "{a:?}: {}", stderr(&o));
            text(&o)
        })
        .collect()
}

#[test]
fn export_restore_export_is_byte_identical_with_the_same_members_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (db, export) = demo(dir.path());
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let restored = dir.path().join("restored");
    let o = run(&restored, &["restore", "--from", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let verify = text(&run(&db, &["verify"]));
    let head = verify
        .split("chain head ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap();
    assert!(
        text(&o).contains(&format!("chain head {head}")),
        "{}",
        text(&o)
    );
    let again = text(&run(&restored, &["export", "--format", "jsonl"]));
    assert!(
        again == export,
        "export → restore → export is byte-identical"
    );
    assert_eq!(views(&restored), views(&db));
    // The export verifies on its own, with the ledger's report.
    let cwd = tempfile::tempdir().unwrap();
    let o = bin()
        .current_dir(cwd.path())
        .env_remove("MEMBERLEDGER_DB")
        .args(["verify", "--export", file.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(text(&o), text(&run(&db, &["verify", "--json"])));
    assert_eq!(
        std::fs::read_dir(cwd.path()).unwrap().count(),
        0,
        "no database is opened or created"
    );
}

#[test]
fn a_sled_ledger_restored_into_the_file_store_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let (db, export) = demo(dir.path());
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let restored = dir.path().join("restored");
    let o = run(
        &restored,
        &[
            "restore",
            "--from",
            file.to_str().unwrap(),
            "--store",
            "file",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        restored.join("FORMAT").is_file() && !restored.join("db").exists(),
        "the file store's files, not sled's"
    );
    assert_eq!(views(&restored), views(&db));
    let again = text(&run(&restored, &["export", "--format", "jsonl"]));
    assert!(again == export, "the file store exports the same bytes");
}

#[test]
fn restore_and_verify_export_refuse_a_tampered_export_at_its_first_bad_position() {
    let dir = tempfile::tempdir().unwrap();
    let (_db, export) = demo(dir.path());
    let lines: Vec<&str> = export.lines().collect();
    let k = 1 + lines
        .iter()
        .position(|l| l.contains(r#""type":"recharged""#))
        .unwrap();
    let amount = lines[k - 1]
        .split(r#""amount":""#)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    let changed = {
        let mut l = lines.clone();
        let bumped = lines[k - 1].replacen(
            &format!(r#""amount":"{amount}""#),
            r#""amount":"99999.99""#,
            1,
        );
        l[k - 1] = &bumped;
        l.join("\n") + "\n"
    };
    let dropped = {
        let mut l = lines.clone();
        l.remove(1999);
        l.join("\n") + "\n"
    };
    let swapped = {
        let mut l = lines.clone();
        l.swap(2999, 3000);
        l.join("\n") + "\n"
    };
    let cases = [
        ("changed", changed, k, "the hash does not follow the chain"),
        (
            "dropped",
            dropped,
            2000,
            "holds position 2001 where position 2000 belongs",
        ),
        (
            "swapped",
            swapped,
            3000,
            "holds position 3001 where position 3000 belongs",
        ),
    ];
    for (name, tampered, position, why) in cases {
        let file = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&file, tampered).unwrap();
        let target = dir.path().join(format!("restored-{name}"));
        let o = run(&target, &["restore", "--from", file.to_str().unwrap()]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {e}");
        assert!(
            e.contains(&format!(
                "damaged at position {position}: line {position}: {why}"
            )),
            "{name}: {e}"
        );
        assert!(!target.exists(), "{name}: nothing is left behind");
        let o = run(
            dir.path(),
            &["verify", "--export", file.to_str().unwrap(), "--json"],
        );
        assert_eq!(o.status.code(), Some(1), "{name}");
        let report: serde_json::Value = serde_json::from_str(&text(&o)).unwrap();
        assert_eq!(report["problem"]["position"], position, "{name}: {report}");
        let o = run(dir.path(), &["verify", "--export", file.to_str().unwrap()]);
        assert!(
            text(&o).starts_with(&format!(
                "verify: FAILED at position {position}: line {position}:"
            )),
            "{name}: {}",
            text(&o)
        );
    }
}

#[test]
fn restore_refuses_a_directory_that_holds_a_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let file = dir.path().join("empty.jsonl");
    std::fs::write(&file, "").unwrap();
    let o = run(&db, &["restore", "--from", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("a ledger already exists at"),
        "{}",
        stderr(&o)
    );
    assert!(
        run(&db, &["verify"]).status.success(),
        "the ledger is untouched"
    );
}

#[test]
fn a_cut_export_is_refused_against_the_pinned_head() {
    // Dropping the last lines leaves a valid, shorter chain: only the head pinned from the
    // ledger tells. `--head` makes restore and verify (of an export or a ledger) check it.
    let dir = tempfile::tempdir().unwrap();
    let (db, export) = demo(dir.path());
    let head = serde_json::from_str::<serde_json::Value>(&text(&run(&db, &["verify", "--json"])))
        .unwrap()["head"]
        .as_str()
        .unwrap()
        .to_owned();
    let full = dir.path().join("full.jsonl");
    std::fs::write(&full, &export).unwrap();
    let lines: Vec<&str> = export.lines().collect();
    let cut = dir.path().join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 3].join("\n") + "\n").unwrap();
    let nowhere = dir.path().join("nowhere");
    let f = full.to_str().unwrap();
    let c = cut.to_str().unwrap();
    // The whole export matches its head; the cut one verifies on its own but not against it.
    assert!(run(&nowhere, &["verify", "--export", f, "--head", &head])
        .status
        .success());
    assert!(run(&nowhere, &["verify", "--export", c]).status.success());
    let o = run(&nowhere, &["verify", "--export", c, "--head", &head]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("not at the pinned head"), "{}", text(&o));
    // Restore refuses the cut export and leaves nothing; the whole one restores.
    let cut_db = dir.path().join("cut-db");
    let o = run(&cut_db, &["restore", "--from", c, "--head", &head]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("pinned head"), "{}", stderr(&o));
    assert!(std::fs::read_dir(&cut_db).map_or(true, |mut d| d.next().is_none()));
    let good = dir.path().join("good-db");
    assert!(run(&good, &["restore", "--from", f, "--head", &head])
        .status
        .success());
    // And a ledger's own verify against a head it does not end at.
    let o = run(&db, &["verify", "--head", &"0".repeat(64)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(run(&db, &["verify", "--head", &head]).status.success());
}
