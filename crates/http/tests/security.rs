//! Every security case is a clear 4xx with its code, and records nothing.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

mod common;

use common::{command, Server};
use memberledger_http::Config;

fn enroll(n: u32, member: &str, store: &str) -> String {
    command(
        n,
        "2026-03-01T10:00:00Z",
        &format!(r#""type":"enroll","member":"{member}","store":"{store}""#),
    )
}

/// A server holding M1 (enrolled at S1), and its chain position.
fn server(config: Config) -> (Server, u64) {
    let s = Server::start(config);
    assert_eq!(
        s.post("hq", "/v1/commands", &enroll(1, "M1", "S1")).status,
        200
    );
    let p = s.position();
    (s, p)
}

/// Asserts a 4xx answer with its code and nothing recorded.
fn refused(s: &Server, before: u64, a: &common::Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.code(), code, "{}", a.body);
    assert!(
        a.content_type.starts_with("application/json"),
        "{}",
        a.content_type
    );
    assert_eq!(s.position(), before, "nothing is recorded");
}

#[test]
fn a_command_without_a_token_is_refused_401() {
    let (s, p) = server(Config::default());
    let a = s.call(
        "POST",
        "/v1/commands",
        None,
        &[],
        Some(&enroll(2, "M2", "S1")),
    );
    refused(&s, p, &a, 401, "unauthorized");
    let a = s.call("GET", "/v1/members/M1", None, &[], None);
    refused(&s, p, &a, 401, "unauthorized");
}

#[test]
fn a_command_with_a_wrong_token_is_refused_401() {
    let (s, p) = server(Config::default());
    for auth in [
        "Bearer mlt_nope",
        "Basic aHE6aHE=",
        "Bearer ",
        s.token("hq"),
    ] {
        let a = s.call(
            "POST",
            "/v1/commands",
            Some(auth),
            &[],
            Some(&enroll(2, "M2", "S1")),
        );
        refused(&s, p, &a, 401, "unauthorized");
    }
}

#[test]
fn a_store_token_acting_for_another_store_is_refused_403() {
    let (s, p) = server(Config::default());
    let a = s.post("store:S2", "/v1/commands", &enroll(2, "M2", "S1"));
    refused(&s, p, &a, 403, "forbidden");
    // In a batch, one command for another store refuses the whole batch.
    let batch = format!("[{},{}]", enroll(3, "M3", "S2"), enroll(4, "M4", "S1"));
    let a = s.post("store:S2", "/v1/commands", &batch);
    refused(&s, p, &a, 403, "forbidden");
    // A store never publishes a policy, not even through a command of its own store.
    let policy = format!(
        r#""type":"publish_policy","store":"S2","policy":{}"#,
        memberledger::domain::DEFAULT_POLICY_JSON
    );
    let publish = command(5, "2026-03-02T00:00:00Z", &policy);
    let a = s.post("store:S2", "/v1/commands", &publish);
    refused(&s, p, &a, 403, "forbidden");
    // Its own store: accepted.
    assert_eq!(
        s.post("store:S2", "/v1/commands", &enroll(6, "M6", "S2"))
            .status,
        200
    );
}

#[test]
fn an_auditor_or_member_token_posting_a_command_is_refused_403() {
    let (s, p) = server(Config::default());
    for role in ["auditor", "member:M1"] {
        let a = s.post(role, "/v1/commands", &enroll(2, "M2", "S1"));
        refused(&s, p, &a, 403, "forbidden");
        let a = s.post(role, "/v1/policy", r#"{"id":"00000000-0000-4000-8000-000000000009","at":"2026-04-01T00:00:00Z","policy":{}}"#);
        refused(&s, p, &a, 403, "forbidden");
    }
}

#[test]
fn a_member_token_reading_another_member_is_refused_403() {
    let (s, p) = server(Config::default());
    // M2's token on M1, and on everything that is not its own view and statement.
    for path in [
        "/v1/members/M1",
        "/v1/members/M1/statement",
        "/v1/members/M2/events",
        "/v1/reports/liability",
        "/v1/verify",
        "/v1/export",
        "/v1/policy",
        "/metrics",
    ] {
        refused(&s, p, &s.get("member:M2", path), 403, "forbidden");
    }
    assert_eq!(s.get("member:M1", "/v1/members/M1").status, 200);
    assert_eq!(s.get("member:M1", "/v1/members/M1/statement").status, 200);
    // A store reads any member (a card works at every store), but not the books.
    assert_eq!(s.get("store:S2", "/v1/members/M1").status, 200);
    refused(
        &s,
        p,
        &s.get("store:S2", "/v1/reports/trial-balance"),
        403,
        "forbidden",
    );
}

#[test]
fn an_oversized_body_is_refused_413() {
    let (s, p) = server(Config {
        body_max: 1024,
        ..Config::default()
    });
    let big = format!("[{}]", vec![enroll(2, "M2", "S1"); 20].join(","));
    let a = s.post("hq", "/v1/commands", &big);
    refused(&s, p, &a, 413, "body_too_large");
}

#[test]
fn malformed_json_is_refused_400() {
    let (s, p) = server(Config::default());
    for body in ["{", "not json", "[1,", "", "\u{feff}{}"] {
        let a = s.post("hq", "/v1/commands", body);
        refused(&s, p, &a, 400, "invalid_command");
    }
    // A command missing a field, or with an unknown one: the facade's code.
    let a = s.post(
        "hq",
        "/v1/commands",
        r#"{"id":"00000000-0000-4000-8000-000000000002","type":"enroll"}"#,
    );
    refused(&s, p, &a, 400, "invalid_command");
    let a = s.post(
        "hq",
        "/v1/commands",
        &command(
            2,
            "2026-03-01T10:00:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"1.001""#,
        ),
    );
    refused(&s, p, &a, 400, "invalid_amount");
}

#[test]
fn a_batch_over_the_limit_is_refused_413() {
    let (s, p) = server(Config {
        batch_max: 3,
        ..Config::default()
    });
    let batch: Vec<String> = (2..6).map(|n| enroll(n, &format!("M{n}"), "S1")).collect();
    let a = s.post("hq", "/v1/commands", &format!("[{}]", batch.join(",")));
    refused(&s, p, &a, 413, "batch_too_large");
    let a = s.post("hq", "/v1/commands", "[]");
    refused(&s, p, &a, 400, "invalid_command");
}

#[test]
fn an_idempotency_key_that_is_not_the_command_id_is_refused_400() {
    let (s, p) = server(Config::default());
    let auth = format!("Bearer {}", s.token("hq"));
    let line = enroll(2, "M2", "S1");
    for key in ["00000000-0000-4000-8000-000000000003", "not-a-uuid"] {
        let a = s.call(
            "POST",
            "/v1/commands",
            Some(&auth),
            &[("Idempotency-Key", key)],
            Some(&line),
        );
        refused(&s, p, &a, 400, "idempotency_key_mismatch");
    }
    let batch = format!("[{line}]");
    let a = s.call(
        "POST",
        "/v1/commands",
        Some(&auth),
        &[("Idempotency-Key", "00000000-0000-4000-8000-000000000002")],
        Some(&batch),
    );
    refused(&s, p, &a, 400, "idempotency_key_mismatch");
}

#[test]
fn business_refusals_have_the_status_of_their_class() {
    let (s, p) = server(Config::default());
    let spend = command(
        2,
        "2026-03-02T10:00:00Z",
        r#""type":"consume","member":"M1","store":"S1","amount":"5.00""#,
    );
    refused(
        &s,
        p,
        &s.post("hq", "/v1/commands", &spend),
        422,
        "insufficient_balance",
    );
    let unknown = command(
        3,
        "2026-03-02T10:00:00Z",
        r#""type":"recharge","member":"M9","store":"S1","amount":"5.00""#,
    );
    refused(
        &s,
        p,
        &s.post("hq", "/v1/commands", &unknown),
        404,
        "member_not_found",
    );
    let reused = command(
        1,
        "2026-03-01T10:00:00Z",
        r#""type":"enroll","member":"M7","store":"S1""#,
    );
    refused(
        &s,
        p,
        &s.post("hq", "/v1/commands", &reused),
        409,
        "idempotency_conflict",
    );
    let future = command(
        4,
        "2027-01-01T00:00:00Z",
        r#""type":"recharge","member":"M1","store":"S1","amount":"5.00""#,
    );
    refused(
        &s,
        p,
        &s.post("hq", "/v1/commands", &future),
        422,
        "future_time",
    );
    refused(
        &s,
        p,
        &s.get("hq", "/v1/members/M9"),
        404,
        "member_not_found",
    );
    refused(
        &s,
        p,
        &s.get("hq", "/v1/members/bad%20id"),
        400,
        "invalid_id",
    );
    refused(
        &s,
        p,
        &s.get("hq", "/v1/members/M1?as_of=yesterday"),
        400,
        "invalid_query",
    );
    refused(
        &s,
        p,
        &s.get(
            "hq",
            "/v1/members/M1/statement?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        ),
        400,
        "invalid_query",
    );
    refused(
        &s,
        p,
        &s.get("hq", "/v1/export?format=pdf"),
        400,
        "invalid_query",
    );
    refused(&s, p, &s.get("hq", "/v1/nothing"), 404, "not_found");
}

#[test]
fn a_token_over_its_rate_is_refused_429() {
    let (s, p) = server(Config {
        rate_per_sec: 1,
        burst: 2,
        ..Config::default()
    });
    let statuses: Vec<u16> = (0..4)
        .map(|_| s.get("auditor", "/v1/members/M1").status)
        .collect();
    assert!(statuses.contains(&429), "{statuses:?}");
    let a = (0..3)
        .map(|_| s.get("store:S1", "/v1/members/M1"))
        .find(|a| a.status == 429)
        .unwrap();
    refused(&s, p, &a, 429, "rate_limited");
    assert_eq!(
        s.get("hq", "/v1/members/M1").status,
        200,
        "other tokens are not limited"
    );
}
