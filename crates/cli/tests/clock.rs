//! The CLI passes the machine's clock to the ledger (issue 11, item 9): a typo in a date can
//! no longer lock members out; `--now` re-runs history against another time.

mod support;
use support::memberledger_stdin as run;

fn line(n: u32, at: &str, rest: &str) -> String {
    format!(
        r#"{{"id":"00000000-0000-4000-8000-0000000000{n:02}","at":"{at}","member":"M1","store":"S1",{rest}}}"#
    )
}

fn history() -> String {
    [
        line(1, "2026-03-01T10:00:00Z", r#""type":"enroll""#),
        line(
            2,
            "2026-03-01T10:05:00Z",
            r#""type":"grant_bonus","amount":"30.00","reason":"w","expires_at":"2026-03-02T00:00:00Z""#,
        ),
    ]
    .join("\n")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn an_expiry_sweep_with_a_typo_in_its_date_is_refused_and_locks_no_one_out() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l");
    assert!(run(&db, &["init"], "").status.success());
    assert!(run(&db, &["apply", "-"], &history()).status.success());
    let out = run(&db, &["expire", "--as-of", "9999-12-31T23:59:59Z"], "");
    assert!(!out.status.success());
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("future_time"), "{said}");
    // The member still takes a command dated today.
    let out = run(
        &db,
        &["apply", "-"],
        &line(
            3,
            "2026-03-01T11:00:00Z",
            r#""type":"recharge","amount":"10.00""#,
        ),
    );
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn apply_refuses_a_command_dated_beyond_the_machines_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l");
    assert!(run(&db, &["init"], "").status.success());
    let out = run(
        &db,
        &["apply", "-"],
        &line(1, "9999-12-31T23:59:59Z", r#""type":"enroll""#),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(r#""code":"future_time""#));
}

#[test]
fn now_and_max_skew_set_the_ledgers_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l");
    assert!(run(&db, &["init"], "").status.success());
    let late = line(1, "2040-01-01T00:30:00Z", r#""type":"enroll""#);
    let out = run(
        &db,
        &[
            "--now",
            "2040-01-01T00:00:00Z",
            "--max-skew-secs",
            "60",
            "apply",
            "-",
        ],
        &late,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let out = run(&db, &["--now", "2040-01-01T00:00:00Z", "apply", "-"], &late);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let bad = run(&db, &["--now", "not a time", "apply", "-"], "");
    assert_eq!(bad.status.code(), Some(2));
}
