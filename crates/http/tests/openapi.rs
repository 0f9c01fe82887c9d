//! The OpenAPI document served is the one checked in, and it describes what the server
//! really answers.

mod common;

use std::path::PathBuf;

use common::{command, Server};
use memberledger_http::Config;
use serde_json::Value;

/// Set to rewrite `docs/openapi.json` from the code.
const REWRITE: &str = "MEMBERLEDGER_WRITE_OPENAPI";

fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn the_served_openapi_document_is_the_one_checked_in() {
    let s = Server::start(Config::default());
    let a = s.call("GET", "/v1/openapi.json", None, &[], None);
    assert_eq!(a.status, 200);
    assert_eq!(a.body, memberledger_http::openapi_json());
    assert_eq!(a.json()["openapi"], "3.1.0");
    let path = checked_in();
    if std::env::var_os(REWRITE).is_some() {
        std::fs::write(&path, &a.body).unwrap();
    }
    let file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        file == a.body,
        "docs/openapi.json differs from the code's document: run `{REWRITE}=1 cargo test -p memberledger-http --test openapi` and commit it"
    );
}

/// The properties of a component schema, and which are required.
fn properties(doc: &Value, name: &str) -> (Vec<String>, Vec<String>) {
    let schema = &doc["components"]["schemas"][name];
    let props = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{name}"));
    let required = schema["required"]
        .as_array()
        .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (props.keys().cloned().collect(), required)
}

/// Properties a view leaves out when they are empty.
const OPTIONAL: [&str; 1] = ["coupons"];

/// The keys the server wrote are the schema's properties, and every required one is there.
fn conforms(doc: &Value, name: &str, value: &Value) {
    let (props, required) = properties(doc, name);
    let keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    for k in &keys {
        assert!(props.contains(k), "{name} has no property {k}");
    }
    for r in &required {
        assert!(keys.contains(r), "{name} requires {r}: {value}");
    }
    // Every property is written, but an optional one left out when empty (a member view's
    // `coupons`).
    let mut sorted: Vec<String> = props
        .iter()
        .filter(|p| required.contains(p) || keys.contains(p) || !OPTIONAL.contains(&p.as_str()))
        .cloned()
        .collect();
    sorted.sort();
    let mut got = keys;
    got.sort();
    assert_eq!(sorted, got, "{name}: every property is written");
}

#[test]
fn the_schemas_describe_the_facade_json_exactly() {
    let doc: Value = serde_json::from_str(&memberledger_http::openapi_json()).unwrap();
    let s = Server::start(Config::default());
    for (n, rest) in [
        (1, r#""type":"enroll","member":"M1","store":"S1""#),
        (
            2,
            r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
        ),
        (
            3,
            r#""type":"purchase_package","member":"M1","store":"S2","service":"massage","sessions":5,"amount":"200.00","paid_from":"balance""#,
        ),
        (
            4,
            r#""type":"consume","member":"M1","store":"S2","amount":"10.00""#,
        ),
    ] {
        let a = s.post(
            "hq",
            "/v1/commands",
            &command(n, "2026-03-01T10:00:00Z", rest),
        );
        assert_eq!(a.status, 200, "{}", a.body);
        conforms(&doc, "Receipt", &{
            let mut v = a.json();
            let o = v.as_object_mut().unwrap();
            // Written on a refusal only, and on a quote only.
            for key in ["error", "dry_run", "member"] {
                o.insert(key.into(), Value::Null);
            }
            v
        });
    }
    let quote = s.post(
        "hq",
        "/v1/commands?dry_run=true",
        &command(
            5,
            "2026-03-01T10:00:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"10.00""#,
        ),
    );
    conforms(&doc, "Receipt", &{
        let mut v = quote.json();
        v.as_object_mut()
            .unwrap()
            .insert("error".into(), Value::Null);
        v
    });
    conforms(&doc, "EventPage", &s.get("hq", "/v1/events?limit=1").json());
    let view = s.get("hq", "/v1/members/M1").json();
    conforms(&doc, "MemberView", &view);
    conforms(&doc, "Lot", &view["lots"][0]);
    conforms(&doc, "PointLot", &view["point_lots"][0]);
    conforms(&doc, "Package", &view["packages"][0]);
    let st = s.get("hq", "/v1/members/M1/statement").json();
    conforms(&doc, "Statement", &st);
    conforms(&doc, "StatementLine", &st["lines"][0]);
    conforms(&doc, "Balances", &st["closing"]);
    let tb = s.get("hq", "/v1/reports/trial-balance").json();
    conforms(&doc, "TrialBalance", &tb);
    conforms(&doc, "AccountBalance", &tb["accounts"][0]);
    conforms(
        &doc,
        "StoreReport",
        &s.get("hq", "/v1/reports/stores").json()[0],
    );
    conforms(
        &doc,
        "PairSettlement",
        &s.get("hq", "/v1/reports/settlement").json()[0],
    );
    let l = s.get("hq", "/v1/reports/liability").json();
    conforms(&doc, "Liability", &l);
    conforms(&doc, "StoreLiability", &l["stores"][0]);
    conforms(&doc, "VerifyReport", &s.get("hq", "/v1/verify").json());
    conforms(&doc, "PolicyVersion", &s.get("hq", "/v1/policy").json());
    let e = s.get("hq", "/v1/members/M9");
    conforms(&doc, "ErrorBody", &e.json());
}

#[test]
fn the_card_and_hold_schemas_describe_the_facade_json() {
    let doc: Value = serde_json::from_str(&memberledger_http::openapi_json()).unwrap();
    let s = Server::start(Config::default());
    for (n, rest) in [
        (1, r#""type":"enroll","member":"M1","store":"S1""#),
        (
            2,
            r#""type":"recharge","member":"M1","store":"S1","amount":"100.00""#,
        ),
        (
            3,
            r#""type":"link_card","member":"M1","store":"S1","card":"C-1""#,
        ),
        (
            4,
            r#""type":"authorize","card":"C-1","store":"S1","amount":"20.00""#,
        ),
    ] {
        let a = s.post(
            "hq",
            "/v1/commands",
            &command(n, "2026-03-01T10:00:00Z", rest),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let view = s.get("hq", "/v1/members/M1").json();
    conforms(&doc, "MemberView", &view);
    conforms(&doc, "Hold", &view["holds"][0]);
    conforms(&doc, "Card", &view["cards"][0]);
    assert_eq!(view["available"], "80.00");
}
