//! The canonical form is RFC 8785 (JCS): the bytes the chain hashes are what an off-the-shelf
//! JCS library writes for the same JSON (docs/AUDIT.md, "Canonical JSON"). Checked with the
//! `serde_jcs` crate on every golden file of every schema version and on every event (and
//! export line) of a generated ledger with every event type, policy versions and the founding
//! policy's record.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

use memberledger::{Command, Ledger};
use memberledger_core::canonical_json;

/// The JCS bytes of a JSON text.
fn jcs(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    serde_jcs::to_string(&value).expect("JCS writes any JSON value")
}

#[test]
fn canonical_bytes_are_jcs_bytes_for_every_golden_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/golden");
    let mut n = 0;
    for version in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(version.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let line = text.trim_end();
            assert_eq!(jcs(line), line, "{}", path.display());
            n += 1;
        }
    }
    assert!(n >= 34, "golden files: {n}");
}

/// A ledger with every event type: the founding record, members with recharges, bonus,
/// consumptions, refunds, expiries, points, adjustments, freezes, packages, settlements and
/// a published policy.
fn generated() -> Ledger {
    let l = Ledger::in_memory();
    let mut n = 0u32;
    let mut run = |rest: &str| {
        n += 1;
        let line = format!(r#"{{"id":"00000000-0000-4000-8000-{n:012}",{rest}}}"#);
        let cmd = Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        l.execute(&cmd).unwrap_or_else(|e| panic!("{line}: {e}"));
    };
    let m = |member: &str, at: &str, rest: &str| {
        format!(r#""member":"{member}","at":"{at}","store":"S1",{rest}"#)
    };
    for member in ["M1", "M2"] {
        run(&m(member, "2026-01-01T10:00:00Z", r#""type":"enroll""#));
        run(&m(
            member,
            "2026-01-01T11:00:00Z",
            r#""type":"recharge","amount":"5000.00","staff":"E7""#,
        ));
        run(&m(
            member,
            "2026-01-01T12:00:00Z",
            r#""type":"grant_bonus","amount":"50.00","reason":"生日 \"VIP\" \\ ☃ 😀","expires_at":"2026-02-01T00:00:00Z""#,
        ));
    }
    run(
        r#""member":"M1","at":"2026-01-02T10:00:00.5+08:00","store":"S2","type":"consume","amount":"300.00","service":"facial","staff":"E9""#,
    );
    run(&m(
        "M1",
        "2026-01-03T10:00:00Z",
        r#""type":"refund_consumption","consumption":"00000000-0000-4000-8000-000000000007","amount":"100.00""#,
    ));
    run(&m(
        "M1",
        "2026-01-04T10:00:00Z",
        r#""type":"redeem_points","points":10,"reason":"gift""#,
    ));
    run(&m(
        "M1",
        "2026-01-05T10:00:00Z",
        r#""type":"adjust","balance":"bonus","direction":"credit","amount":"10.00","reason":"till error","operator":"E7""#,
    ));
    run(&m(
        "M1",
        "2026-01-06T10:00:00Z",
        r#""type":"freeze","reason":"lost card""#,
    ));
    run(&m("M1", "2026-01-07T10:00:00Z", r#""type":"unfreeze""#));
    run(&m(
        "M1",
        "2026-01-08T10:00:00Z",
        r#""type":"change_tier","tier":"diamond","reason":"vip""#,
    ));
    run(&m(
        "M2",
        "2026-01-09T10:00:00Z",
        r#""type":"purchase_package","service":"massage","sessions":3,"amount":"100.00","paid_from":"balance","expires_at":"2026-03-01T00:00:00Z""#,
    ));
    run(
        r#""member":"M2","at":"2026-01-10T10:00:00Z","store":"S3","type":"redeem_session","package":"00000000-0000-4000-8000-000000000014""#,
    );
    run(&m(
        "M2",
        "2026-01-11T10:00:00Z",
        r#""type":"purchase_package","service":"spa","sessions":2,"amount":"50.00","paid_from":"cash""#,
    ));
    run(&m(
        "M2",
        "2026-01-12T10:00:00Z",
        r#""type":"refund_package","package":"00000000-0000-4000-8000-000000000016""#,
    ));
    run(r#""at":"2026-01-13T10:00:00Z","store":"S1","type":"settle","to":"S2","amount":"10.00""#);
    run(
        r#""at":"2026-01-14T00:00:00Z","store":"HQ","type":"publish_policy","policy":{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"2"},{"name":"silver","discount":"0.95","points_per_yuan":"1"},{"name":"gold","discount":"0.9","points_per_yuan":"1.5"},{"name":"diamond","discount":"0.8","points_per_yuan":"2"}],"bonus_expiry_days":30,"points_expiry_days":9000}"#,
    );
    run(&m("M2", "2026-04-01T10:00:00Z", r#""type":"expire""#));
    run(&m(
        "M1",
        "2026-04-02T10:00:00Z",
        r#""type":"refund_balance""#,
    ));
    l
}

#[test]
fn canonical_bytes_are_jcs_bytes_for_every_event_of_a_generated_ledger() {
    let l = generated();
    let mut types = std::collections::BTreeSet::new();
    for rec in l.events(1, 100) {
        let rec = rec.unwrap();
        let canonical = canonical_json(rec.position, &rec.event);
        assert_eq!(jcs(&canonical), canonical, "position {}", rec.position);
        let line = rec.to_export_json();
        assert_eq!(jcs(&line), line, "export line {}", rec.position);
        types.insert(rec.event.body.type_name());
    }
    assert!(types.len() >= 17, "event types covered: {types:?}");
    assert!(l.verify().unwrap().ok());
}
