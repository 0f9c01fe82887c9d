//! `memberledger serve --webhook`: a bad webhook setting stops `serve` before it listens, with
//! a clear message and exit 2 (the delivery itself: crates/http/tests/webhook.rs).

mod support;
use support::{refused, ServeSetup, WEBHOOK};

#[test]
fn serve_refuses_a_missing_secret_a_bad_url_and_a_bad_cursor_before_listening() {
    let setup = ServeSetup::new();
    setup.refuses_a_bad_secret_or_url(WEBHOOK);
    let mut cursor = setup.db.as_os_str().to_owned();
    cursor.push(".webhook-cursor");
    std::fs::write(&cursor, "twelve").unwrap();
    refused(
        &setup.serve_hook(WEBHOOK, "http://127.0.0.1:9/", &[]),
        "does not hold a position",
    );
    // A secret without a URL is a usage error too (clap's exit 2).
    let s = setup.secret.to_str().unwrap();
    assert_eq!(
        setup.serve(&["--webhook-secret-file", s]).status.code(),
        Some(2)
    );
}
