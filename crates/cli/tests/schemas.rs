//! The JSON Schemas of docs/schemas/ (draft 2020-12) describe what the binary really reads
//! and prints (issue 11, item 13): every command of a small ledger with every command type,
//! every receipt (recorded, replayed, refused), every exported event, every member view and
//! every report's `--json` validates against its schema; and a deliberately wrong instance of
//! each is refused, so the schemas are not vacuous.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

/// Every command type, in time order (plus one refused and one repeated below).
const COMMANDS: &str = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:00:00+08:00","type":"enroll","member":"M2","store":"S2","tier":"silver"}
{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00","staff":"E7"}
{"id":"00000000-0000-4000-8000-000000000004","at":"2026-03-01T10:06:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"50","reason":"生日","expires_at":"2026-03-10T00:00:00Z"}
{"id":"00000000-0000-4000-8000-000000000005","at":"2026-03-02T15:00:00.5+08:00","type":"consume","member":"M1","store":"S2","amount":"300.00","staff":"E9","service":"facial"}
{"id":"00000000-0000-4000-8000-000000000006","at":"2026-03-03T09:00:00Z","type":"refund_consumption","member":"M1","store":"S2","consumption":"00000000-0000-4000-8000-000000000005","amount":"100.00"}
{"id":"00000000-0000-4000-8000-000000000007","at":"2026-03-04T09:00:00Z","type":"redeem_points","member":"M1","store":"S1","points":10,"reason":"gift"}
{"id":"00000000-0000-4000-8000-000000000008","at":"2026-03-04T10:00:00Z","type":"adjust","member":"M1","store":"S1","balance":"bonus","direction":"credit","amount":"10.00","reason":"till error","operator":"E7"}
{"id":"00000000-0000-4000-8000-000000000009","at":"2026-03-04T11:00:00Z","type":"adjust","member":"M1","store":"S1","balance":"points","direction":"debit","points":5,"reason":"correction","operator":"E7"}
{"id":"00000000-0000-4000-8000-00000000000a","at":"2026-03-05T10:00:00Z","type":"freeze","member":"M1","store":"S1","reason":"lost card"}
{"id":"00000000-0000-4000-8000-00000000000b","at":"2026-03-05T11:00:00Z","type":"unfreeze","member":"M1","store":"S1"}
{"id":"00000000-0000-4000-8000-00000000000c","at":"2026-03-06T10:00:00Z","type":"change_tier","member":"M1","store":"S1","tier":"gold","reason":"vip"}
{"id":"00000000-0000-4000-8000-00000000000d","at":"2026-03-07T10:00:00Z","type":"purchase_package","member":"M1","store":"S2","service":"massage","sessions":3,"amount":"100.00","paid_from":"balance"}
{"id":"00000000-0000-4000-8000-00000000000e","at":"2026-03-08T10:00:00Z","type":"redeem_session","member":"M1","store":"S3","package":"00000000-0000-4000-8000-00000000000d","staff":"E3"}
{"id":"00000000-0000-4000-8000-00000000000f","at":"2026-03-09T10:00:00Z","type":"refund_package","member":"M1","store":"S1","package":"00000000-0000-4000-8000-00000000000d","reason":"moved"}
{"id":"00000000-0000-4000-8000-000000000010","at":"2026-03-09T11:00:00Z","type":"purchase_package","member":"M2","store":"S2","service":"facial","sessions":2,"amount":"80.00","paid_from":"cash","expires_at":"2026-03-20T00:00:00Z"}
{"id":"00000000-0000-4000-8000-000000000011","at":"2026-03-21T10:00:00Z","type":"expire","member":"M2","store":"S2"}
{"id":"00000000-0000-4000-8000-000000000012","at":"2026-03-22T10:00:00Z","type":"settle","store":"S1","to":"S2","amount":"10.00"}
{"id":"00000000-0000-4000-8000-000000000013","at":"2026-04-01T00:00:00Z","type":"publish_policy","store":"HQ","policy":{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"},{"name":"silver","discount":"0.95","points_per_yuan":"1"},{"name":"gold","discount":"0.9","points_per_yuan":"1.5"},{"name":"diamond","discount":"0.8","points_per_yuan":"2"}],"bonus_expiry_days":30}}
{"id":"00000000-0000-4000-8000-000000000014","at":"2026-04-02T10:00:00Z","type":"refund_balance","member":"M1","store":"S1"}"#;

fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas")
}

fn validator(name: &str) -> jsonschema::Validator {
    let path = schema_dir().join(format!("{name}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| {
        panic!(
            "{} is not a valid draft 2020-12 schema: {e}",
            path.display()
        )
    });
    jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
}

fn assert_valid(v: &jsonschema::Validator, name: &str, instance: &Value) {
    let errors: Vec<String> = v.iter_errors(instance).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{name}: {instance}\n{errors:#?}");
}

fn ml(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn every_command_receipt_event_member_view_and_report_matches_its_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger");
    ml(&db, &["init"], None);
    let command = validator("command");
    for c in lines(COMMANDS) {
        assert_valid(&command, "command", &c);
    }
    // Every command, a repeat of the first, and a refused one.
    let refused = r#"{"id":"00000000-0000-4000-8000-0000000000ff","at":"2026-04-03T10:00:00Z","type":"consume","member":"M1","store":"S1","amount":"5000.00"}"#;
    let input = format!(
        "{COMMANDS}\n{}\n{refused}\n",
        COMMANDS.lines().next().unwrap()
    );
    let receipts = lines(&ml(&db, &["apply", "-"], Some(&input)));
    assert_eq!(receipts.len(), 22);
    assert!(
        receipts[..21].iter().all(|r| r["ok"] == true),
        "{receipts:#?}"
    );
    assert_eq!(receipts[20]["replayed"], true);
    assert_eq!(receipts[21]["ok"], false);
    let receipt = validator("receipt");
    for r in &receipts {
        assert_valid(&receipt, "receipt", r);
    }
    let event = validator("event");
    let events = lines(&ml(&db, &["export", "--format", "jsonl"], None));
    let types: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.len() >= 18, "{types:?}");
    for e in &events {
        assert_valid(&event, "event", e);
    }
    let member = validator("member");
    for m in ["M1", "M2"] {
        let shown = ml(&db, &["member", "show", m, "--json"], None);
        assert_valid(&member, "member", &serde_json::from_str(&shown).unwrap());
    }
    for (report, args) in [
        ("trial-balance", vec!["report", "trial-balance", "--json"]),
        ("stores", vec!["report", "stores", "--json"]),
        ("settlement", vec!["report", "settlement", "--json"]),
        ("liability", vec!["report", "liability", "--json"]),
        ("statement", vec!["statement", "M1", "--json"]),
        (
            "statement",
            vec!["statement", "M2", "--json", "--to", "2026-03-31T00:00:00Z"],
        ),
    ] {
        let v = validator(report);
        let out = ml(&db, &args, None);
        let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_valid(&v, report, &value);
    }
}

#[test]
fn the_published_schemas_refuse_wrong_instances() {
    let event: Value =
        serde_json::from_str(include_str!("../../core/tests/golden/v2/consumed.json")).unwrap();
    let founding: Value = serde_json::from_str(include_str!(
        "../../core/tests/golden/v2/policy_published.founding.json"
    ))
    .unwrap();
    let mut with_hash = event.clone();
    with_hash["hash"] = json!("ab".repeat(32));
    let mut founding_hashed = founding.clone();
    founding_hashed["hash"] = json!("cd".repeat(32));
    let ev = validator("event");
    assert_valid(&ev, "event", &with_hash);
    assert_valid(&ev, "event", &founding_hashed);
    let mutate = |base: &Value, f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        v
    };
    let wrong_events = [
        mutate(&with_hash, &|v| v["data"]["charged"] = json!(300)),
        mutate(&with_hash, &|v| v["data"]["price"] = json!("1e3")),
        mutate(&with_hash, &|v| {
            v["at"] = json!("2026-03-02T15:00:00+08:00")
        }),
        mutate(&with_hash, &|v| v["x"] = json!(1)),
        mutate(&with_hash, &|v| {
            v["data"]["draws"][0]["kind"] = json!("gift")
        }),
        mutate(&with_hash, &|v| {
            v.as_object_mut().unwrap().remove("policy");
        }),
        mutate(&with_hash, &|v| v["type"] = json!("recharged")),
        mutate(&founding_hashed, &|v| v["member"] = json!("M1")),
    ];
    for w in &wrong_events {
        assert!(!ev.is_valid(w), "event schema accepted {w}");
    }
    let command = validator("command");
    let good = json!({"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"10.00"});
    assert_valid(&command, "command", &good);
    for w in [
        mutate(&good, &|v| v["amount"] = json!("1.005")),
        mutate(&good, &|v| v["tier"] = json!("gold")),
        mutate(&good, &|v| {
            v.as_object_mut().unwrap().remove("amount");
        }),
        mutate(&good, &|v| v["type"] = json!("settle")),
        mutate(&good, &|v| v["member"] = json!("M 1")),
    ] {
        assert!(!command.is_valid(&w), "command schema accepted {w}");
    }
    let receipt = validator("receipt");
    assert!(!receipt.is_valid(&json!({"command":null,"ok":true,"replayed":false,"events":[]})));
    assert!(!receipt.is_valid(&json!({"command":null,"ok":false})));
    let member = validator("member");
    assert!(!member.is_valid(&json!({"member":"M1","principal":"1.00"})));
    for (name, wrong) in [
        ("trial-balance", json!({"accounts":[],"total":"0.01"})),
        ("stores", json!([{"store":"S1"}])),
        (
            "settlement",
            json!([{"debtor":"S1","creditor":"S2","owed":1,"settled":"0.00","outstanding":"1.00"}]),
        ),
        (
            "liability",
            json!({"members":-1,"principal":"0.00","bonus":"0.00","packages":"0.00","points":0,"stores":[]}),
        ),
        (
            "statement",
            json!({"member":"M1","from":null,"to":null,"lines":[]}),
        ),
    ] {
        assert!(!validator(name).is_valid(&wrong), "{name} accepted {wrong}");
    }
}
