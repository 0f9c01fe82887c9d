//! `memberledger serve --notice-webhook`: a bad notice webhook setting stops `serve` before it
//! listens, with a clear message and exit 2 (the delivery itself:
//! crates/http/tests/notice_hook.rs).

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
fn serve_refuses_a_bad_notice_webhook_secret_url_or_record_before_listening() {
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
    let s = secret.to_str().unwrap();
    let serve = |url: &str, extra: &[&str]| {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--tokens", t];
        args.extend_from_slice(&["--notice-webhook", url, "--notice-webhook-secret-file", s]);
        args.extend_from_slice(extra);
        memberledger(&db, &args)
    };
    refused(
        &serve("http://127.0.0.1:9/", &[]),
        "cannot read the webhook secret",
    );
    std::fs::write(&secret, "\n").unwrap();
    refused(
        &serve("http://127.0.0.1:9/", &[]),
        "the webhook secret is empty",
    );
    std::fs::write(&secret, "k3y\n").unwrap();
    refused(
        &serve("https://example.invalid/", &[]),
        "must start with http://",
    );
    // The record beside the ledger by default, or the one named.
    let mut acked = db.as_os_str().to_owned();
    acked.push(".notices-acked");
    std::fs::write(&acked, "twelve\n").unwrap();
    refused(&serve("http://127.0.0.1:9/", &[]), "does not hold");
    let named = dir.path().join("named-record");
    std::fs::write(&named, "not an id 2026-01-01T00:00:00Z\n").unwrap();
    refused(
        &serve(
            "http://127.0.0.1:9/",
            &["--notice-webhook-acked", named.to_str().unwrap()],
        ),
        "named-record line 1 does not hold",
    );
    // An interval without a URL is a usage error too (clap's exit 2).
    let o = memberledger(
        &db,
        &["serve", "--tokens", t, "--notice-interval-secs", "5"],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
