//! A panic is answered 500 and the server goes on; a slow request is answered 503 within
//! the timeout; shutdown answers what is in flight.

mod common;

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use common::Server;
use memberledger::Ledger;
use memberledger_http::{AppState, Config};

async fn boom() -> &'static str {
    panic!("a bug in a handler")
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(3)).await;
    "late"
}

fn extra() -> Router<AppState> {
    Router::new()
        .route("/v1/boom", get(boom))
        .route("/v1/slow", get(slow))
}

#[test]
fn a_panic_in_a_handler_is_answered_500_and_the_server_goes_on() {
    let s = Server::start_with(Ledger::in_memory(), None, Config::default(), extra());
    let a = s.get("hq", "/v1/boom");
    assert_eq!(a.status, 500);
    assert_eq!(a.code(), "internal");
    assert_eq!(s.get("hq", "/healthz").status, 200);
    assert_eq!(s.get("hq", "/v1/boom").status, 500);
    assert_eq!(s.get("hq", "/v1/verify").status, 200);
}

#[test]
fn a_request_over_the_timeout_is_answered_503() {
    let config = Config {
        timeout: Duration::from_millis(300),
        ..Config::default()
    };
    let s = Server::start_with(Ledger::in_memory(), None, config, extra());
    let a = s.get("hq", "/v1/slow");
    assert_eq!(a.status, 503);
    assert_eq!(a.code(), "timeout");
}

#[test]
fn shutdown_answers_the_request_in_flight_then_stops_accepting() {
    let mut s = Server::start_with(Ledger::in_memory(), None, Config::default(), extra());
    let url = s.url("/v1/slow");
    let auth = format!("Bearer {}", s.token("hq"));
    let in_flight = std::thread::spawn(move || {
        ureq::get(&url)
            .set("Authorization", &auth)
            .call()
            .map(|r| r.into_string().unwrap())
            .map_err(|e| e.to_string())
    });
    std::thread::sleep(Duration::from_millis(500));
    let addr = s.addr;
    s.stop().unwrap();
    assert_eq!(in_flight.join().unwrap().unwrap(), "late");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "no longer accepting"
    );
}

#[test]
fn health_and_readiness_need_no_token_and_metrics_count_commands() {
    let s = Server::start(Config::default());
    assert_eq!(s.call("GET", "/healthz", None, &[], None).status, 200);
    let ready = s.call("GET", "/readyz", None, &[], None);
    assert_eq!(ready.status, 200);
    // Position 1 is the founding policy's record.
    assert_eq!(ready.json()["position"], 1);
    let line = common::command(
        1,
        "2026-03-01T10:00:00Z",
        r#""type":"enroll","member":"M1","store":"S1""#,
    );
    assert_eq!(s.post("hq", "/v1/commands", &line).status, 200);
    let m = s.get("auditor", "/metrics");
    assert_eq!(m.status, 200);
    assert!(m.content_type.starts_with("text/plain"));
    for want in [
        "memberledger_commands_total{type=\"enroll\",outcome=\"ok\"} 1",
        "memberledger_command_duration_seconds_count 1",
        "memberledger_write_commands_bucket{le=\"1\"} 1",
        "memberledger_chain_position 2",
        "memberledger_http_requests_total{route=\"/v1/commands\",status=\"200\"} 1",
    ] {
        assert!(m.body.contains(want), "{want} in\n{}", m.body);
    }
}

#[test]
fn policy_is_read_and_published_through_its_endpoints() {
    let s = Server::start(Config::default());
    let v = s.get("store:S1", "/v1/policy");
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["version"], 1);
    // The version's own JSON, as the CLI and the C and Python adapters print it.
    let current = s.ledger.policy_history().current().clone();
    assert_eq!(v.body, serde_json::to_string(&current).unwrap());
    let policy = v.json()["policy"].clone();
    let body = serde_json::json!({"id": "00000000-0000-4000-8000-0000000000aa", "at": "2026-04-01T00:00:00Z", "policy": policy});
    let a = s.post("hq", "/v1/policy", &body.to_string());
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.json()["ok"], true);
    let all = s.get("auditor", "/v1/policy/versions");
    assert_eq!(all.json().as_array().unwrap().len(), 2);
    assert_eq!(
        s.get("hq", "/v1/policy?as_of=2026-03-01T00:00:00Z").json()["version"],
        1
    );
    assert_eq!(
        s.get("hq", "/v1/policy?as_of=2026-04-02T00:00:00Z").json()["version"],
        2
    );
    let bad = s.post("hq", "/v1/policy", r#"{"id":"00000000-0000-4000-8000-0000000000ab","at":"2026-05-01T00:00:00Z","policy":{"nope":1}}"#);
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[test]
fn an_export_larger_than_its_buffer_streams_and_a_client_that_leaves_holds_nothing_up() {
    use std::io::{Read, Write};
    let s = Server::start(Config::default());
    let batch: Vec<String> = (0..600u32)
        .flat_map(|m| {
            [
                common::command(
                    2 * m + 1,
                    "2026-03-01T10:00:00Z",
                    &format!(r#""type":"enroll","member":"E{m}","store":"S1""#),
                ),
                common::command(
                    2 * m + 2,
                    "2026-03-01T10:01:00Z",
                    &format!(
                        r#""type":"recharge","member":"E{m}","store":"S1","amount":"1000.00""#
                    ),
                ),
            ]
        })
        .collect();
    assert_eq!(
        s.post("hq", "/v1/commands", &format!("[{}]", batch.join(",")))
            .status,
        200
    );
    let full = s.get("auditor", "/v1/export");
    assert_eq!(full.status, 200);
    assert!(
        full.body.len() > 512 << 10,
        "larger than the chunks in flight: {}",
        full.body.len()
    );
    // The founding policy's record and the 1,800 events.
    assert_eq!(full.body.lines().count(), 1801);
    // A client that reads a little and goes away.
    for _ in 0..3 {
        let mut conn = std::net::TcpStream::connect(s.addr).unwrap();
        let request = format!(
            "GET /v1/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            s.token("auditor")
        );
        conn.write_all(request.as_bytes()).unwrap();
        let mut some = [0u8; 4096];
        conn.read_exact(&mut some).unwrap();
        drop(conn);
    }
    std::thread::sleep(Duration::from_millis(200));
    let again = s.get("auditor", "/v1/export");
    assert_eq!(
        again.body, full.body,
        "the server goes on and exports the same"
    );
}
