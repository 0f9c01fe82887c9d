//! The library's scenario over HTTP gives the library's receipts, views, statement and
//! reports, byte for byte in JSON.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

mod common;

use common::{command, Server};
use memberledger::{Command, Ledger, MemberId};
use memberledger_http::Config;
use serde_json::{json, Value};

fn scenario() -> Vec<String> {
    vec![
        command(
            1,
            "2026-03-01T10:00:00Z",
            r#""type":"enroll","member":"M1","store":"S1""#,
        ),
        command(
            2,
            "2026-03-01T10:05:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E7""#,
        ),
        command(
            3,
            "2026-03-02T15:00:00Z",
            r#""type":"consume","member":"M1","store":"S2","amount":"300.00","service":"facial""#,
        ),
        command(
            4,
            "2026-03-03T09:00:00Z",
            r#""type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000003","amount":"100.00""#,
        ),
        command(
            5,
            "2026-03-04T09:00:00Z",
            r#""type":"enroll","member":"M2","store":"S2""#,
        ),
        command(
            6,
            "2026-03-04T09:30:00Z",
            r#""type":"recharge","member":"M2","store":"S2","amount":"500.00""#,
        ),
        command(
            7,
            "2026-03-05T12:00:00Z",
            r#""type":"consume","member":"M2","store":"S1","amount":"80.00""#,
        ),
        command(
            8,
            "2026-03-06T12:00:00Z",
            r#""type":"refund_balance","member":"M2","store":"S2""#,
        ),
    ]
}

/// What the library answers to the same commands, in the wire form.
fn library() -> (Ledger, Vec<Value>) {
    let ledger = Ledger::in_memory();
    ledger.set_clock(common::clock());
    let receipts = scenario()
        .iter()
        .map(|line| {
            ledger
                .execute(&Command::from_json(line).unwrap())
                .unwrap()
                .to_json()
        })
        .collect();
    (ledger, receipts)
}

#[test]
fn the_scenario_over_http_gives_the_library_receipts_views_statement_and_reports() {
    let server = Server::start_on_disk(Config::default());
    let (lib, expected) = library();
    // One by one, alternating the store tokens that may send each command, and hq.
    for (line, want) in scenario().iter().zip(&expected) {
        let c = Command::from_json(line).unwrap();
        let role = match c.store.as_str() {
            "S1" => "store:S1",
            _ => "hq",
        };
        let a = server.post(role, "/v1/commands", line);
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(&a.json(), want);
        assert_eq!(a.content_type, "application/json");
    }
    for m in ["M1", "M2"] {
        let view = server.get("auditor", &format!("/v1/members/{m}"));
        assert_eq!(view.status, 200);
        let want = serde_json::to_value(lib.member(&MemberId::new(m).unwrap()).unwrap()).unwrap();
        assert_eq!(view.json(), want);
        let own = server.get(&format!("member:{m}"), &format!("/v1/members/{m}"));
        assert_eq!(own.json(), want, "a member reads its own view");
    }
    let then = server.get("hq", "/v1/members/M1?as_of=2026-03-01T12:00:00Z");
    let want = lib
        .member_as_of(
            &MemberId::new("M1").unwrap(),
            "2026-03-01T12:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(then.json(), serde_json::to_value(want).unwrap());

    let st = server.get(
        "member:M1",
        "/v1/members/M1/statement?from=2026-03-02T00:00:00Z&to=2026-03-31T00:00:00Z",
    );
    assert_eq!(st.status, 200, "{}", st.body);
    let want = memberledger_audit::statement(
        &lib,
        &MemberId::new("M1").unwrap(),
        Some("2026-03-02T00:00:00Z".parse().unwrap()),
        Some("2026-03-31T00:00:00Z".parse().unwrap()),
    )
    .unwrap()
    .unwrap();
    assert_eq!(st.json(), serde_json::to_value(want).unwrap());

    let events = server.get("store:S2", "/v1/members/M1/events");
    let want: Vec<Value> = lib
        .member_events(&MemberId::new("M1").unwrap())
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(&e.to_export_json()).unwrap())
        .collect();
    assert_eq!(events.json(), Value::Array(want));

    let snap = memberledger_audit::Snapshot::as_of(&lib, None).unwrap();
    let reports = [
        (
            "trial-balance",
            json!({"accounts": snap.trial_balance().unwrap(), "total": memberledger::domain::format_cents(snap.trial_balance_total())}),
        ),
        ("stores", json!(snap.store_reports().unwrap())),
        ("settlement", json!(snap.settlement().unwrap())),
        ("liability", json!(snap.liability().unwrap())),
    ];
    for (name, want) in reports {
        let a = server.get("auditor", &format!("/v1/reports/{name}"));
        assert_eq!(a.status, 200, "{name}: {}", a.body);
        assert_eq!(a.json(), want, "{name}");
    }
    let verify = server.get("hq", "/v1/verify");
    assert_eq!(
        verify.json(),
        serde_json::to_value(lib.verify().unwrap()).unwrap()
    );
    assert_eq!(verify.json()["problem"], Value::Null);

    let mut export = Vec::new();
    memberledger_audit::export(&lib, memberledger_audit::Format::Jsonl, &mut export).unwrap();
    let a = server.get("auditor", "/v1/export?format=jsonl");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body.as_bytes(),
        export.as_slice(),
        "the export is the library's, byte for byte"
    );
    for format in ["hledger", "beancount", "csv"] {
        let a = server.get("hq", &format!("/v1/export?format={format}"));
        assert_eq!(a.status, 200, "{format}");
        assert!(!a.body.is_empty());
    }
}

#[test]
fn a_command_sent_again_returns_its_original_receipt_and_records_nothing() {
    let server = Server::start(Config::default());
    let line = &scenario()[0];
    let first = server.post("hq", "/v1/commands", line);
    let position = server.position();
    let again = server.post("hq", "/v1/commands", line);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(again.json()["events"], first.json()["events"]);
    assert_eq!(server.position(), position);
    // With the header equal to the id: accepted.
    let auth = format!("Bearer {}", server.token("hq"));
    let a = server.call(
        "POST",
        "/v1/commands",
        Some(&auth),
        &[("Idempotency-Key", "00000000-0000-4000-8000-000000000001")],
        Some(line),
    );
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn a_batch_gets_one_receipt_per_command_in_order_with_refusals_in_place() {
    let server = Server::start(Config::default());
    let (_, expected) = library();
    let mut lines = scenario();
    lines.insert(
        2,
        command(
            99,
            "2026-03-01T11:00:00Z",
            r#""type":"consume","member":"M1","store":"S1","amount":"99999.00""#,
        ),
    );
    let body = format!("[{}]", lines.join(","));
    let a = server.post("hq", "/v1/commands", &body);
    assert_eq!(a.status, 200, "{}", a.body);
    let got = a.json();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), lines.len());
    assert_eq!(got[2]["ok"], false);
    assert_eq!(got[2]["error"]["code"], "insufficient_balance");
    let oks: Vec<&Value> = got.iter().filter(|r| r["ok"] == true).collect();
    assert_eq!(oks.len(), expected.len());
    for (got, want) in oks.iter().zip(&expected) {
        assert_eq!(*got, want);
    }
}

#[test]
fn concurrent_requests_committed_together_each_get_their_own_receipts() {
    let server = std::sync::Arc::new(Server::start_on_disk(Config::default()));
    let clients: Vec<_> = (0..16u32)
        .map(|t| {
            let server = server.clone();
            std::thread::spawn(move || {
                let member = format!("C{t}");
                let mut n = t * 1000;
                let mut next = |rest: String, minute: u32| {
                    n += 1;
                    command(n, &format!("2026-03-01T10:{minute:02}:00Z"), &rest)
                };
                let enroll = next(format!(r#""type":"enroll","member":"{member}","store":"S1""#), 0);
                assert_eq!(server.post("hq", "/v1/commands", &enroll).status, 200);
                for i in 1..=10 {
                    let line = next(format!(r#""type":"recharge","member":"{member}","store":"S1","amount":"{i}.00""#), i);
                    let a = server.post("hq", "/v1/commands", &line);
                    assert_eq!(a.status, 200, "{}", a.body);
                    assert_eq!(a.json()["command"], Value::from(line[7..43].to_owned()));
                }
                // A batch stays in order and whole among the other requests.
                let batch: Vec<String> = (11..=15)
                    .map(|i| next(format!(r#""type":"recharge","member":"{member}","store":"S1","amount":"1.00""#), i))
                    .collect();
                let a = server.post("hq", "/v1/commands", &format!("[{}]", batch.join(",")));
                let receipts = a.json();
                for (r, line) in receipts.as_array().unwrap().iter().zip(&batch) {
                    assert_eq!(r["ok"], true);
                    assert_eq!(r["command"], Value::from(line[7..43].to_owned()));
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    for t in 0..16 {
        let view = server.get("auditor", &format!("/v1/members/C{t}")).json();
        assert_eq!(view["principal"], "60.00", "1 + 2 + … + 10 + 5 × 1");
    }
    assert_eq!(
        server.get("hq", "/v1/verify").json()["problem"],
        Value::Null
    );
}
