//! `memberledger report churn|dormant|turnover|staff|services|members` and the demo's
//! closing warnings, over a small demo ledger on disk.

use std::process::{Command, Output};

mod support;
use support::memberledger as ml;

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn insight_reports_print_tables_json_and_csv_and_refuse_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo");
    let demo = Command::new(env!("CARGO_BIN_EXE_memberledger"))
        .args(["demo", "--seed", "5", "--stores", "3", "--members", "80"])
        .args(["--commands", "800", "--out"])
        .arg(&db)
        .output()
        .unwrap();
    let out = text(&demo);
    assert!(demo.status.success(), "{out}");
    for needle in [
        "churn warning (流失预警)",
        "dormant stored value",
        "top staff",
    ] {
        assert!(out.contains(needle), "the demo prints {needle}: {out}");
    }
    let now = ["--now", "2026-01-02T08:00:00Z"];
    let churn = ml(&db, &[&["report", "churn", "--json"][..], &now].concat());
    let json: serde_json::Value = serde_json::from_str(&text(&churn)).unwrap();
    assert_eq!(json["idle_days"], 90);
    assert!(json["rows"].is_array());
    let staff = ml(&db, &["report", "staff", "--csv", "--from", "2025-01-01"]);
    assert!(
        text(&staff).starts_with("staff,store,recharges,"),
        "{}",
        text(&staff)
    );
    let turnover = ml(&db, &["report", "turnover", "--utc-offset", "8"]);
    assert!(text(&turnover).contains("2025-03"), "{}", text(&turnover));
    let services = ml(&db, &["report", "services"]);
    assert!(text(&services).contains("visits by weekday and hour"));
    let members = ml(
        &db,
        &["report", "members", "--top", "2", "--by", "visits", "--csv"],
    );
    assert_eq!(text(&members).lines().count(), 3, "a header and two rows");
    for bad in [
        &["report", "members", "--by", "height"][..],
        &["report", "staff", "--from", "2025-02-30"],
        &["report", "turnover", "--utc-offset", "15"],
        &["report", "churn", "--json", "--csv"],
    ] {
        let o = ml(&db, bad);
        assert_eq!(o.status.code(), Some(2), "{bad:?} is refused");
        assert!(!o.stderr.is_empty(), "{bad:?} says why");
    }
}
