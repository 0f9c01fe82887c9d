//! `--brands FILE`: the CLI addresses a brand's ledger and tokens by name, and `serve` hosts
//! every brand of the file, a brand's token reading and writing its own brand only.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BRANDS: &str = r#"{
  "lotus": {"db": "lotus-data", "tokens": "lotus-tokens"},
  "peony": {"db": "peony-data", "tokens": "peony-tokens"}
}"#;

const SEED: &str = r#"{"id":"5c4e0000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"5c4e0000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}
"#;

/// Runs the CLI in `dir` (where the brands file is) with `--brands brands.json`.
fn ml(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .current_dir(dir)
        .args(["--brands", "brands.json"])
        .args(args)
        .env_remove("MEMBERLEDGER_DB")
        .env_remove("MEMBERLEDGER_TOKENS")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{o:?}");
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn refused(o: &Output, code: i32, says: &str) {
    assert_eq!(o.status.code(), Some(code), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(says), "{stderr}");
}

/// Two brands, each initialised with an hq token; lotus holds M1 with 1000.00. Returns the
/// directory and the tokens (lotus's, peony's).
fn two_brands() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("brands.json"), BRANDS).unwrap();
    std::fs::write(d.join("seed.jsonl"), SEED).unwrap();
    let mut tokens = Vec::new();
    for brand in ["lotus", "peony"] {
        ok(&ml(d, &["--brand", brand, "init"]));
        let t = ok(&ml(d, &["--brand", brand, "token", "add", "--role", "hq"]));
        tokens.push(t.trim().to_owned());
    }
    ok(&ml(d, &["--brand", "lotus", "apply", "seed.jsonl"]));
    let peony = tokens.pop().unwrap();
    let lotus = tokens.pop().unwrap();
    (dir, lotus, peony)
}

#[test]
fn the_cli_addresses_a_brands_ledger_and_tokens_by_name() {
    let (dir, _, _) = two_brands();
    let d = dir.path();
    assert!(d.join("lotus-data").is_dir() && d.join("peony-data").is_dir());
    assert!(d.join("lotus-tokens").is_file() && d.join("peony-tokens").is_file());
    let lotus = ok(&ml(
        d,
        &["--brand", "lotus", "member", "show", "M1", "--json"],
    ));
    assert!(lotus.contains("1000.00"), "{lotus}");
    refused(
        &ml(d, &["--brand", "peony", "member", "show", "M1"]),
        1,
        "member_not_found",
    );
    let liability = ok(&ml(
        d,
        &["--brand", "peony", "report", "liability", "--json"],
    ));
    assert!(!liability.contains("1000.00"), "{liability}");
    refused(
        &ml(d, &["--brand", "tulip", "verify"]),
        2,
        "brand_not_found",
    );
    refused(&ml(d, &["report", "liability"]), 2, "brand_required");
    refused(
        &ml(d, &["--brand", "lotus", "--db", "elsewhere", "verify"]),
        2,
        "--db",
    );
    refused(
        &ml(
            d,
            &[
                "--brand", "lotus", "token", "add", "--role", "hq", "--tokens", "other",
            ],
        ),
        2,
        "has its tokens file in the brands file",
    );
}

/// A running `serve` and its address.
struct Served {
    child: std::process::Child,
    addr: String,
}

fn serve(dir: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .current_dir(dir)
        .args(["--brands", "brands.json"])
        .args(extra)
        .args(["serve", "--listen", "127.0.0.1:0", "--rate-per-sec", "0"])
        .args(["--now", "2026-06-01T00:00:00Z"])
        .env_remove("MEMBERLEDGER_TOKENS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(i) = line.find("listening on http://") {
            break line[i + "listening on http://".len()..].trim().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Served { child, addr }
}

/// GET or POST with a token: status and body.
fn call(addr: &str, path: &str, token: &str, body: Option<&str>) -> (u16, String) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .build();
    let url = format!("http://{addr}{path}");
    let auth = format!("Bearer {token}");
    let result = match body {
        Some(b) => agent
            .post(&url)
            .set("Authorization", &auth)
            .set("Content-Type", "application/json")
            .send_string(b),
        None => agent.get(&url).set("Authorization", &auth).call(),
    };
    match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => (r.status(), r.into_string().unwrap()),
        Err(e) => panic!("{path}: {e}"),
    }
}

fn stop(mut s: Served) {
    let status = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = s.child.wait().unwrap();
    assert!(exit.success(), "SIGTERM is a clean exit: {exit:?}");
}

#[test]
fn serve_hosts_every_brand_and_a_brands_token_reads_and_writes_its_own_brand_only() {
    let (dir, lotus, peony) = two_brands();
    let s = serve(dir.path(), &[]);
    let (status, body) = call(&s.addr, "/brands/lotus/v1/members/M1", &lotus, None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("1000.00"));
    for path in [
        "/brands/peony/v1/members/M1",
        "/brands/peony/v1/events",
        "/brands/peony/v1/reports/liability",
    ] {
        let (status, body) = call(&s.addr, path, &lotus, None);
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body.contains("wrong_brand"), "{body}");
    }
    let recharge = r#"{"id":"5c4e0000-0000-4000-8000-000000000009","at":"2026-03-02T10:00:00Z","type":"enroll","member":"P1","store":"S1"}"#;
    let (status, body) = call(&s.addr, "/brands/peony/v1/commands", &lotus, Some(recharge));
    assert_eq!(
        (status, body.contains("wrong_brand")),
        (403, true),
        "{body}"
    );
    let (status, body) = call(&s.addr, "/brands/peony/v1/commands", &peony, Some(recharge));
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&s.addr, "/brands/peony/v1/members/M1", &peony, None);
    assert_eq!(
        (status, body.contains("member_not_found")),
        (404, true),
        "{body}"
    );
    let (status, body) = call(&s.addr, "/brands/tulip/v1/members/M1", &lotus, None);
    assert_eq!(
        (status, body.contains("brand_not_found")),
        (404, true),
        "{body}"
    );
    let (status, body) = call(&s.addr, "/v1/members/M1", &lotus, None);
    assert_eq!(
        (status, body.contains("brand_required")),
        (404, true),
        "{body}"
    );
    stop(s);
    // What peony's hq wrote over HTTP is in peony's ledger, not lotus's.
    let p1 = ok(&ml(
        dir.path(),
        &["--brand", "peony", "member", "show", "P1"],
    ));
    assert!(p1.contains("P1"), "{p1}");
    refused(
        &ml(dir.path(), &["--brand", "lotus", "member", "show", "P1"]),
        1,
        "member_not_found",
    );
    // One brand served alone keeps the single-ledger paths, with the brand's tokens.
    let one = serve(dir.path(), &["--brand", "lotus"]);
    let (status, body) = call(&one.addr, "/v1/members/M1", &lotus, None);
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&one.addr, "/v1/members/M1", &peony, None);
    assert_eq!(status, 401, "peony's token is not lotus's");
    stop(one);
}

#[test]
fn serve_refuses_a_brand_without_tokens_naming_the_brand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("brands.json"), BRANDS).unwrap();
    ok(&ml(d, &["--brand", "lotus", "init"]));
    ok(&ml(d, &["--brand", "peony", "init"]));
    ok(&ml(
        d,
        &["--brand", "lotus", "token", "add", "--role", "hq"],
    ));
    let o = ml(d, &["serve", "--listen", "127.0.0.1:0"]);
    refused(&o, 2, "brand peony");
}

/// What a receiver kept: every body it was sent, one after another.
type Seen = std::sync::Arc<std::sync::Mutex<String>>;

/// A receiver on loopback answering 200 to every POST and keeping each body.
fn receiver() -> (String, Seen) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let keep = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().map_while(Result::ok) {
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut reader = BufReader::new(conn);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_ok() {
                keep.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&body));
            }
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (addr, seen)
}

/// Waits until lotus's receiver has seen its member L1 and peony's its P1, stops the server,
/// and checks neither saw the other brand's member.
fn each_gets_its_own_only(s: Served, (lotus, peony): (&Seen, &Seen), hook: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !(lotus.lock().unwrap().contains("L1") && peony.lock().unwrap().contains("P1")) {
        assert!(
            std::time::Instant::now() < deadline,
            "both brands' {hook}s deliver"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop(s);
    let (lotus, peony) = (lotus.lock().unwrap(), peony.lock().unwrap());
    assert!(!lotus.contains("P1"), "lotus's {hook} got peony's: {lotus}");
    assert!(!peony.contains("L1"), "peony's {hook} got lotus's: {peony}");
}

#[test]
fn each_brands_webhook_carries_its_own_brands_events_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (lotus_hook, lotus_seen) = receiver();
    let (peony_hook, peony_seen) = receiver();
    std::fs::write(d.join("secret"), "k3y\n").unwrap();
    std::fs::write(
        d.join("brands.json"),
        format!(
            r#"{{"lotus": {{"db": "lotus-data", "tokens": "lotus-tokens",
                           "webhook": {{"url": "http://{lotus_hook}/", "secret_file": "secret"}}}},
                "peony": {{"db": "peony-data", "tokens": "peony-tokens",
                           "webhook": {{"url": "http://{peony_hook}/", "secret_file": "secret"}}}}}}"#
        ),
    )
    .unwrap();
    let mut tokens = Vec::new();
    for brand in ["lotus", "peony"] {
        ok(&ml(d, &["--brand", brand, "init"]));
        let t = ok(&ml(d, &["--brand", brand, "token", "add", "--role", "hq"]));
        tokens.push(t.trim().to_owned());
    }
    let s = serve(d, &[]);
    for (brand, member, token, n) in [
        ("lotus", "L1", &tokens[0], 1),
        ("peony", "P1", &tokens[1], 2),
    ] {
        let enroll = format!(
            r#"{{"id":"5c4e0000-0000-4000-8000-00000000010{n}","at":"2026-03-02T10:00:00Z","type":"enroll","member":"{member}","store":"S1"}}"#
        );
        let (status, body) = call(
            &s.addr,
            &format!("/brands/{brand}/v1/commands"),
            token,
            Some(&enroll),
        );
        assert_eq!(status, 200, "{body}");
    }
    each_gets_its_own_only(s, (&lotus_seen, &peony_seen), "webhook");
    assert!(
        d.join("lotus-data.webhook-cursor").is_file(),
        "each brand's cursor beside its ledger"
    );
    assert!(d.join("peony-data.webhook-cursor").is_file());
}

/// A policy with notices: a bonus lot is announced 7 days before it lapses.
const NOTICE_POLICY: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"bonus_expiry_days":30,"notices":{"bonus_days":7,"points_days":10,"package_days":14}}"#;

#[test]
fn each_brands_notice_webhook_carries_its_own_brands_notices_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (lotus_hook, lotus_seen) = receiver();
    let (peony_hook, peony_seen) = receiver();
    std::fs::write(d.join("secret"), "k3y\n").unwrap();
    std::fs::write(d.join("policy.json"), NOTICE_POLICY).unwrap();
    std::fs::write(
        d.join("brands.json"),
        format!(
            r#"{{"lotus": {{"db": "lotus-data", "tokens": "lotus-tokens",
                           "notice_webhook": {{"url": "http://{lotus_hook}/", "secret_file": "secret", "interval_secs": 1}}}},
                "peony": {{"db": "peony-data", "tokens": "peony-tokens",
                           "notice_webhook": {{"url": "http://{peony_hook}/", "secret_file": "secret",
                                               "acked": "peony.acked", "interval_secs": 1}}}}}}"#
        ),
    )
    .unwrap();
    let mut tokens = Vec::new();
    for brand in ["lotus", "peony"] {
        ok(&ml(
            d,
            &["--brand", brand, "init", "--policy", "policy.json"],
        ));
        let t = ok(&ml(d, &["--brand", brand, "token", "add", "--role", "hq"]));
        tokens.push(t.trim().to_owned());
    }
    let s = serve(d, &[]);
    // A bonus lapsing 2026-06-05, four days after the server's now: its notice is due.
    for (brand, member, token, n) in [
        ("lotus", "L1", &tokens[0], 1),
        ("peony", "P1", &tokens[1], 3),
    ] {
        let m = format!(r#""at":"2026-05-20T10:00:00Z","member":"{member}","store":"S1""#);
        let batch = format!(
            r#"[{{"id":"5c4e0000-0000-4000-8000-00000000020{n}",{m},"type":"enroll"}},
                {{"id":"5c4e0000-0000-4000-8000-00000000020{}",{m},"type":"grant_bonus","amount":"50.00","reason":"birthday","expires_at":"2026-06-05T00:00:00Z"}}]"#,
            n + 1
        );
        let (status, body) = call(
            &s.addr,
            &format!("/brands/{brand}/v1/commands"),
            token,
            Some(&batch),
        );
        assert_eq!(status, 200, "{body}");
    }
    each_gets_its_own_only(s, (&lotus_seen, &peony_seen), "notice webhook");
    assert!(lotus_seen.lock().unwrap().contains("bonus_will_expire"));
    assert!(
        d.join("lotus-data.notices-acked").is_file(),
        "lotus's record beside its ledger"
    );
    assert!(
        d.join("peony.acked").is_file(),
        "peony's record where named"
    );
}

#[test]
fn serve_refuses_a_brands_bad_notice_webhook_naming_the_brand() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("brands.json"),
        r#"{"lotus": {"db": "lotus-data", "tokens": "lotus-tokens",
                      "notice_webhook": {"url": "http://127.0.0.1:9/", "secret_file": "no-such-secret"}},
            "peony": {"db": "peony-data", "tokens": "peony-tokens"}}"#,
    )
    .unwrap();
    for brand in ["lotus", "peony"] {
        ok(&ml(d, &["--brand", brand, "init"]));
        ok(&ml(d, &["--brand", brand, "token", "add", "--role", "hq"]));
    }
    let o = ml(d, &["serve", "--listen", "127.0.0.1:0"]);
    refused(&o, 2, "brand lotus: cannot read the webhook secret");
    let o = ml(d, &["--brand", "lotus", "serve", "--listen", "127.0.0.1:0"]);
    refused(&o, 2, "cannot read the webhook secret");
    std::fs::write(d.join("no-such-secret"), "k3y\n").unwrap();
    // Serving every brand, the notice webhooks are the brands file's, not a flag's.
    let o = ml(
        d,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--notice-webhook",
            "http://127.0.0.1:9/",
            "--notice-webhook-secret-file",
            "no-such-secret",
        ],
    );
    refused(&o, 2, "not --tokens, --webhook or --notice-webhook");
}

/// A brand per PostgreSQL schema, in one database: the brands are as separate as in
/// directories. Needs `MEMBERLEDGER_PG_URL` (`eval "$(scripts/pg-start.sh)"`); skipped without
/// it (failed when `MEMBERLEDGER_REQUIRE_PG=1`).
#[test]
fn brands_in_postgresql_schemas_of_one_database_are_as_separate_as_in_directories() {
    let url = match std::env::var("MEMBERLEDGER_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var("MEMBERLEDGER_REQUIRE_PG").as_deref() != Ok("1"),
                "MEMBERLEDGER_REQUIRE_PG=1 but MEMBERLEDGER_PG_URL is not set"
            );
            eprintln!("SKIPPED: this test needs MEMBERLEDGER_PG_URL");
            return;
        }
    };
    let tag = format!("brands_{}", std::process::id());
    let schemas = [format!("{tag}_lotus"), format!("{tag}_peony")];
    let sep = if url.contains('?') { '&' } else { '?' };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let brands = serde_json::json!({
        "lotus": {"db": format!("{url}{sep}schema={}", schemas[0]), "tokens": "lotus-tokens"},
        "peony": {"db": format!("{url}{sep}schema={}", schemas[1]), "tokens": "peony-tokens"},
    });
    std::fs::write(d.join("brands.json"), brands.to_string()).unwrap();
    std::fs::write(d.join("seed.jsonl"), SEED).unwrap();
    let mut tokens = Vec::new();
    for brand in ["lotus", "peony"] {
        ok(&ml(d, &["--brand", brand, "init"]));
        let t = ok(&ml(d, &["--brand", brand, "token", "add", "--role", "hq"]));
        tokens.push(t.trim().to_owned());
    }
    ok(&ml(d, &["--brand", "lotus", "apply", "seed.jsonl"]));
    let s = serve(d, &[]);
    let (status, body) = call(&s.addr, "/brands/lotus/v1/members/M1", &tokens[0], None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&s.addr, "/brands/peony/v1/members/M1", &tokens[0], None);
    assert_eq!(
        (status, body.contains("wrong_brand")),
        (403, true),
        "{body}"
    );
    let (status, body) = call(&s.addr, "/brands/peony/v1/members/M1", &tokens[1], None);
    assert_eq!(
        (status, body.contains("member_not_found")),
        (404, true),
        "{body}"
    );
    stop(s);
    // One brand in PostgreSQL served alone (the single-ledger server) stops cleanly too: the
    // ledger's client is dropped after the runtime, not inside it.
    let one = serve(d, &["--brand", "peony"]);
    let (status, body) = call(&one.addr, "/v1/members/M1", &tokens[1], None);
    assert_eq!(status, 404, "{body}");
    stop(one);
    refused(
        &ml(d, &["--brand", "peony", "member", "show", "M1"]),
        1,
        "member_not_found",
    );
    if let Ok(mut c) = postgres::Client::connect(&url, postgres::NoTls) {
        for s in &schemas {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"));
        }
    }
}
