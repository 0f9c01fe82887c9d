//! `GET /v1/reports/{churn,…,campaigns}`: the insight reports served from kept projections,
//! for hq and auditor tokens, every bad parameter a 400.

mod common;

use common::{command, small_chain, Server};
use memberledger_http::Config;

#[test]
fn every_report_is_served_as_the_json_of_its_report_struct() {
    let s = Server::start(Config::default());
    small_chain(&s);
    for (path, key) in [
        ("/v1/reports/churn", "churned"),
        ("/v1/reports/dormant", "dormant"),
        ("/v1/reports/turnover", "rows"),
        (
            "/v1/reports/staff?from=2026-03-01&to=2026-03-31",
            "commission",
        ),
        ("/v1/reports/services?utc_offset=8", "heatmap"),
        ("/v1/reports/members?top=5&by=spend", "rows"),
        ("/v1/reports/campaigns?cohorts=3", "cohorts"),
    ] {
        let a = s.get("auditor", path);
        assert_eq!(a.status, 200, "{path}: {}", a.body);
        assert!(a.json().get(key).is_some(), "{path}: {}", a.body);
    }
    let churn = s.get("hq", "/v1/reports/churn").json();
    assert_eq!(
        churn["churned"], 2,
        "M1 came 92 days before the clock, M2 enrolled 91 days before and never came"
    );
    assert_eq!(churn["now"], "2026-06-01T00:00:00Z");
    let services = s.get("hq", "/v1/reports/services").json();
    assert_eq!(services["ranking"][0]["service"], "按摩");
    let campaigns = s.get("hq", "/v1/reports/campaigns?cohorts=1").json();
    assert_eq!(
        campaigns["rows"][0]["liability_created"], "550.00",
        "500.00 + 50.00 under rule 0"
    );
    assert_eq!(campaigns["rows"][1]["liability_created"], "1150.00");
}

#[test]
fn reports_follow_the_ledger_as_commands_arrive() {
    let s = Server::start(Config::default());
    small_chain(&s);
    let before = s.get("hq", "/v1/reports/services").json();
    assert_eq!(before["ranking"][0]["visits"], 1);
    let more = command(
        6,
        "2026-03-03T10:00:00Z",
        r#""type":"consume","member":"M1","store":"S1","amount":"100.00","service":"按摩""#,
    );
    assert_eq!(s.post("hq", "/v1/commands", &more).status, 200);
    let after = s.get("hq", "/v1/reports/services").json();
    assert_eq!(after["ranking"][0]["visits"], 2);
    // As of a past time: only what was recorded by then.
    let then = s
        .get("hq", "/v1/reports/services?as_of=2026-03-02T00:00:00Z")
        .json();
    assert_eq!(then["ranking"][0]["visits"], 1);
}

#[test]
fn reports_are_for_hq_and_auditor_tokens_and_refuse_bad_parameters() {
    let s = Server::start(Config::default());
    small_chain(&s);
    for role in ["store:S1", "member:M1"] {
        let a = s.get(role, "/v1/reports/churn");
        assert_eq!(
            (a.status, a.code()),
            (403, "forbidden".to_owned()),
            "{role}"
        );
    }
    assert_eq!(
        s.call("GET", "/v1/reports/staff", None, &[], None).status,
        401
    );
    for bad in [
        "/v1/reports/churn?idle_days=-1",
        "/v1/reports/churn?idle_days=99999",
        "/v1/reports/staff?from=March",
        "/v1/reports/members?by=height",
        "/v1/reports/members?top=100000",
        "/v1/reports/campaigns?cohorts=0",
        "/v1/reports/services?utc_offset=15",
        "/v1/reports/dormant?as_of=yesterday",
    ] {
        let a = s.get("hq", bad);
        assert_eq!(
            (a.status, a.code()),
            (400, "invalid_query".to_owned()),
            "{bad}: {}",
            a.body
        );
    }
}
