//! The change feed over HTTP (a long poll with a real client on loopback) and quotes
//! (`?dry_run=true`).

mod common;

use std::time::{Duration, Instant};

use common::{command, Server};
use memberledger_http::Config;

fn enroll(n: u32, member: &str) -> String {
    command(
        n,
        "2026-03-01T10:00:00Z",
        &format!(r#""type":"enroll","member":"{member}","store":"S1""#),
    )
}

#[test]
fn events_are_paged_in_chain_order_with_positions_and_hashes() {
    let s = Server::start(Config::default());
    for n in 1..=5 {
        assert_eq!(
            s.post("hq", "/v1/commands", &enroll(n, &format!("M{n}")))
                .status,
            200
        );
    }
    let head = s.ledger.head().unwrap();
    let mut after = 0;
    let mut positions = Vec::new();
    let mut last_hash = String::new();
    loop {
        let a = s.get("auditor", &format!("/v1/events?after={after}&limit=2"));
        assert_eq!(a.status, 200, "{}", a.body);
        let page = a.json();
        let events = page["events"].as_array().unwrap().clone();
        if events.is_empty() {
            assert_eq!(page["next"], after);
            break;
        }
        assert!(events.len() <= 2);
        for e in &events {
            positions.push(e["position"].as_u64().unwrap());
            last_hash = e["hash"].as_str().unwrap().to_owned();
        }
        after = page["next"].as_u64().unwrap();
    }
    assert_eq!(positions, (1..=head.position).collect::<Vec<_>>());
    assert_eq!(last_hash, hex::encode(head.hash));
}

#[test]
fn events_long_poll_answers_as_soon_as_a_command_is_committed() {
    let s = Server::start(Config::default());
    let head = s.position();
    let start = Instant::now();
    let poll = std::thread::scope(|scope| {
        let poll = scope.spawn(|| s.get("hq", &format!("/v1/events?after={head}&wait=20")));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(s.post("hq", "/v1/commands", &enroll(1, "M1")).status, 200);
        poll.join().unwrap()
    });
    assert_eq!(poll.status, 200);
    let page = poll.json();
    assert_eq!(page["events"][0]["position"], head + 1);
    assert_eq!(page["events"][0]["member"], "M1");
    assert_eq!(page["next"], head + 1);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "answered by the commit, not the wait"
    );
}

#[test]
fn events_long_poll_ends_empty_when_the_wait_is_over() {
    let s = Server::start(Config::default());
    let head = s.position();
    let start = Instant::now();
    let a = s.get("hq", &format!("/v1/events?after={head}&wait=1"));
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["events"].as_array().unwrap().len(), 0);
    assert_eq!(a.json()["next"], head);
    assert!(start.elapsed() >= Duration::from_millis(900));
}

#[test]
fn events_refuse_a_bad_query_and_roles_that_do_not_read_the_books() {
    let s = Server::start(Config::default());
    assert_eq!(s.get("hq", "/v1/events?limit=0").code(), "invalid_query");
    assert_eq!(
        s.get("hq", "/v1/events?limit=100000").code(),
        "invalid_query"
    );
    assert_eq!(s.get("hq", "/v1/events?after=-1").code(), "invalid_query");
    assert_eq!(s.get("store:S1", "/v1/events").status, 403);
    assert_eq!(s.get("member:M1", "/v1/events").status, 403);
}

#[test]
fn dry_run_answers_what_executing_records_and_records_nothing() {
    let s = Server::start(Config::default());
    assert_eq!(s.post("hq", "/v1/commands", &enroll(1, "M1")).status, 200);
    let recharge = command(
        2,
        "2026-03-01T11:00:00Z",
        r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
    );
    let head = s.position();
    let quote = s.post("hq", "/v1/commands?dry_run=true", &recharge);
    assert_eq!(quote.status, 200, "{}", quote.body);
    assert_eq!(s.position(), head, "a quote records nothing");
    let quote = quote.json();
    assert_eq!(quote["dry_run"], true);
    assert_eq!(quote["member"]["bonus"], "150.00");
    let receipt = s.post("hq", "/v1/commands", &recharge).json();
    assert_eq!(quote["events"], receipt["events"]);
    // A refusal is the refusal executing gives, with its status; nothing recorded.
    let spend = command(
        3,
        "2026-03-01T12:00:00Z",
        r#""type":"consume","member":"M1","store":"S1","amount":"99999.00""#,
    );
    let head = s.position();
    let a = s.post("hq", "/v1/commands?dry_run=true", &spend);
    assert_eq!((a.status, a.code().as_str()), (422, "insufficient_balance"));
    // A batch: later commands see earlier ones.
    let batch = format!(
        "[{},{}]",
        enroll(4, "M2"),
        command(
            5,
            "2026-03-01T12:00:00Z",
            r#""type":"recharge","member":"M2","store":"S1","amount":"100.00""#
        )
    );
    let a = s.post("hq", "/v1/commands?dry_run=true", &batch);
    assert_eq!(a.status, 200);
    assert!(a.json().as_array().unwrap().iter().all(|r| r["ok"] == true));
    assert_eq!(s.position(), head);
    assert_eq!(
        s.post("hq", "/v1/commands?dry_run=maybe", &spend).code(),
        "invalid_query"
    );
}
