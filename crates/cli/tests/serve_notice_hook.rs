//! `memberledger serve --notice-webhook`: a bad notice webhook setting stops `serve` before it
//! listens, with a clear message and exit 2 (the delivery itself:
//! crates/http/tests/notice_hook.rs).

mod support;
use support::{memberledger, refused, ServeSetup, NOTICE_WEBHOOK};

#[test]
fn serve_refuses_a_bad_notice_webhook_secret_url_or_record_before_listening() {
    let setup = ServeSetup::new();
    setup.refuses_a_bad_secret_or_url(NOTICE_WEBHOOK);
    let serve = |extra: &[&str]| setup.serve_hook(NOTICE_WEBHOOK, "http://127.0.0.1:9/", extra);
    // The record beside the ledger by default, or the one named.
    let mut acked = setup.db.as_os_str().to_owned();
    acked.push(".notices-acked");
    std::fs::write(&acked, "twelve\n").unwrap();
    refused(&serve(&[]), "does not hold");
    let named = setup.path("named-record");
    std::fs::write(&named, "not an id 2026-01-01T00:00:00Z\n").unwrap();
    refused(
        &serve(&["--notice-webhook-acked", named.to_str().unwrap()]),
        "named-record line 1 does not hold",
    );
    // An interval without a URL is a usage error too (clap's exit 2).
    let o = memberledger(
        &setup.db,
        &[
            "serve",
            "--tokens",
            &setup.tokens,
            "--notice-interval-secs",
            "5",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}
