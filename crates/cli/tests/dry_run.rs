//! `memberledger apply --dry-run`: the receipts executing would give, recording nothing.

use std::path::Path;
use std::process::Output;

mod support;
use support::memberledger as run;

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const STORY: &str = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}
{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-02T15:00:00Z","type":"consume","member":"M1","store":"S2","amount":"300.00","service":"facial"}
{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-03T09:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000003","amount":"100.00"}
"#;

#[test]
fn dry_run_prints_what_apply_records_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let file = dir.path().join("story.jsonl");
    std::fs::write(&file, STORY).unwrap();
    let head = |db: &Path| lines(&run(db, &["verify", "--json"]))[0]["head"].clone();
    let before = head(&db);

    let dry = run(&db, &["apply", "--dry-run", file.to_str().unwrap()]);
    assert_eq!(dry.status.code(), Some(0), "{dry:?}");
    assert_eq!(head(&db), before, "a dry run records nothing");
    let quoted = lines(&dry);
    assert_eq!(quoted.len(), 4);
    assert!(quoted.iter().all(|q| q["dry_run"] == true));

    let applied = lines(&run(&db, &["apply", file.to_str().unwrap()]));
    for (q, a) in quoted.iter().zip(&applied) {
        assert_eq!(
            q["events"], a["events"],
            "the same events, positions and hashes"
        );
    }
    // The member quoted after the last line is the member recorded.
    let shown = lines(&run(&db, &["member", "show", "M1", "--json"]));
    assert!(shown[0]["principal"].is_string());
    assert_eq!(quoted[3]["member"]["principal"], shown[0]["principal"]);
    assert_eq!(quoted[3]["member"]["bonus"], shown[0]["bonus"]);
    // Quoting again says every command is recorded.
    let again = lines(&run(&db, &["apply", "--dry-run", file.to_str().unwrap()]));
    assert!(again.iter().all(|q| q["replayed"] == true));
}

#[test]
fn dry_run_of_a_refused_command_exits_1_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    assert!(run(&db, &["init"]).status.success());
    let file = dir.path().join("bad.jsonl");
    std::fs::write(&file, STORY.lines().nth(2).unwrap()).unwrap();
    let o = run(&db, &["apply", "--dry-run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(lines(&o)[0]["error"]["code"], "member_not_found");
    let o = run(&db, &["member", "show", "M1"]);
    assert_eq!(o.status.code(), Some(1));
}
