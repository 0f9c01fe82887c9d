//! `memberledger serve --webhook`: a bad webhook setting stops `serve` before it listens, with
//! a clear message and exit 2 (the delivery itself: crates/http/tests/webhook.rs).

use std::path::Path;
use std::process::{Command, Output};

fn memberledger(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

fn refused(o: &Output, says: &str) {
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(says), "{stderr}");
}

#[test]
fn serve_refuses_a_missing_secret_a_bad_url_and_a_bad_cursor_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    let tokens = dir.path().join("tokens");
    assert!(memberledger(&db, &["init"]).status.success());
    let t = tokens.to_str().unwrap();
    assert!(
        memberledger(&db, &["token", "add", "--role", "hq", "--tokens", t])
            .status
            .success()
    );
    let secret = dir.path().join("secret");
    let serve = |extra: &[&str]| {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--tokens", t];
        args.extend_from_slice(extra);
        memberledger(&db, &args)
    };
    let s = secret.to_str().unwrap();
    refused(
        &serve(&[
            "--webhook",
            "http://127.0.0.1:9/",
            "--webhook-secret-file",
            s,
        ]),
        "cannot read the webhook secret",
    );
    std::fs::write(&secret, "\n").unwrap();
    refused(
        &serve(&[
            "--webhook",
            "http://127.0.0.1:9/",
            "--webhook-secret-file",
            s,
        ]),
        "the webhook secret is empty",
    );
    std::fs::write(&secret, "k3y\n").unwrap();
    refused(
        &serve(&[
            "--webhook",
            "https://example.invalid/",
            "--webhook-secret-file",
            s,
        ]),
        "must start with http://",
    );
    let mut cursor = db.as_os_str().to_owned();
    cursor.push(".webhook-cursor");
    std::fs::write(&cursor, "twelve").unwrap();
    refused(
        &serve(&[
            "--webhook",
            "http://127.0.0.1:9/",
            "--webhook-secret-file",
            s,
        ]),
        "does not hold a position",
    );
    // A secret without a URL is a usage error too (clap's exit 2).
    assert_eq!(serve(&["--webhook-secret-file", s]).status.code(), Some(2));
}
