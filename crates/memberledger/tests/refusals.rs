//! Issue 11 items 8, 10, 11 and 15 (the core's part): commands that used to be recorded, or
//! refused with an unhelpful message, and what they get now. Each refusal records nothing.

use memberledger::{Command, Ledger, MemberId, Policy, Timestamp};

const ONE_TIER: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#;
const TWO_TIERS: &str = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"},
  {"name":"gold","discount":"0.90","points_per_yuan":"2"}]}"#;

fn cmd(n: u64, at: &str, rest: &str) -> Command {
    let line = format!(r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"{at}",{rest}}}"#);
    Command::from_json(&line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn refused(ledger: &Ledger, c: &Command, code: &str) -> String {
    let head = ledger.head().unwrap();
    let e = ledger.execute(c).unwrap_err();
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(ledger.head().unwrap(), head, "nothing recorded");
    e.to_string()
}

/// M1 of S1 spends 100.00 of principal at S2 on 2026-03-01: S1 owes S2 100.00 from then on.
fn s1_owes_s2() -> Ledger {
    let ledger = Ledger::in_memory();
    for c in [
        cmd(
            1,
            "2025-12-01T10:00:00Z",
            r#""type":"enroll","member":"M1","store":"S1""#,
        ),
        cmd(
            2,
            "2025-12-01T10:05:00Z",
            r#""type":"recharge","member":"M1","store":"S1","amount":"1000.00""#,
        ),
        cmd(
            3,
            "2026-03-01T10:00:00Z",
            r#""type":"consume","member":"M1","store":"S2","amount":"100.00""#,
        ),
    ] {
        ledger.execute(&c).unwrap();
    }
    ledger
}

#[test]
fn a_settlement_dated_before_the_debt_it_pays_is_refused() {
    let ledger = s1_owes_s2();
    let early = cmd(
        10,
        "2026-01-01T00:00:00Z",
        r#""type":"settle","store":"S1","to":"S2","amount":"10.00""#,
    );
    let msg = refused(&ledger, &early, "out_of_order");
    assert!(msg.contains("2026-03-01T10:00:00Z"), "{msg}");
    // Dated at or after the debt, it is accepted.
    let on_time = cmd(
        11,
        "2026-03-01T10:00:00Z",
        r#""type":"settle","store":"S1","to":"S2","amount":"10.00""#,
    );
    ledger.execute(&on_time).unwrap();
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn settling_when_nothing_is_owed_says_so() {
    let ledger = s1_owes_s2();
    let backwards = cmd(
        10,
        "2026-03-02T00:00:00Z",
        r#""type":"settle","store":"S2","to":"S1""#,
    );
    let msg = refused(&ledger, &backwards, "settlement_exceeds_owed");
    assert!(
        msg.contains("owes store S1 nothing") && !msg.contains("0.00"),
        "{msg}"
    );
}

#[test]
fn a_policy_that_drops_a_tier_members_hold_is_refused() {
    let ledger = Ledger::in_memory_with(Policy::from_json(TWO_TIERS).unwrap());
    let drop_gold = cmd(
        1,
        "2026-06-01T00:00:00Z",
        &format!(r#""type":"publish_policy","store":"HQ","policy":{ONE_TIER}"#),
    );
    let msg = refused(&ledger, &drop_gold, "invalid_policy");
    assert!(msg.contains("gold"), "{msg}");
    // Adding a tier is fine.
    let three = r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"},
      {"name":"gold","discount":"0.90","points_per_yuan":"2"},
      {"name":"diamond","discount":"0.80","points_per_yuan":"3"}]}"#;
    let add = cmd(
        2,
        "2026-06-01T00:00:00Z",
        &format!(r#""type":"publish_policy","store":"HQ","policy":{three}"#),
    );
    ledger.execute(&add).unwrap();
}

#[test]
fn a_leap_second_is_not_a_time() {
    let ledger = Ledger::in_memory();
    let line = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-02T10:15:60Z","type":"enroll","member":"M1","store":"S1"}"#;
    let e = Command::from_json(line).unwrap_err();
    assert_eq!(e.code(), "invalid_command");
    assert!(e.to_string().contains("leap second"), "{e}");
    // The same definition for every time field, the CLI's flags (they parse a Timestamp)…
    assert!("2026-03-02T10:15:60Z".parse::<Timestamp>().is_err());
    assert!("2016-12-31T23:59:60Z".parse::<Timestamp>().is_err());
    assert!("2026-03-02T18:15:60+08:00".parse::<Timestamp>().is_err());
    let grant = r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-02T10:00:00Z","type":"grant_bonus","member":"M1","store":"S1","amount":"1.00","reason":"x","expires_at":"2026-12-31T23:59:60Z"}"#;
    assert_eq!(
        Command::from_json(grant).unwrap_err().code(),
        "invalid_command"
    );
    // …and event decoding: a recorded leap second does not decode.
    let event = r#"{"at":"2026-03-02T10:15:60Z","command":"00000000-0000-4000-8000-000000000002","data":{"amount":"1000.00","lot":1,"staff":"E7"},"id":"8d2ab1e5-a4b0-5b7a-a3c8-d2a59ba0e1c4","index":0,"member":"M1","policy":1,"position":2,"store":"S1","type":"recharged","v":2,"version":2}"#;
    assert!(memberledger_core::decode_event(event.as_bytes()).is_err());
    assert!(memberledger_core::decode_event(event.replace(":60Z", ":59Z").as_bytes()).is_ok());
    assert!(ledger.member(&MemberId::new("M1").unwrap()).is_none());
}

#[test]
fn a_policy_that_is_not_an_object_is_named_so() {
    for bad in ["[]", "\"gold\"", "3"] {
        let e = Policy::from_json(bad).unwrap_err();
        assert_eq!(e.code(), "invalid_policy");
        assert!(
            e.to_string().contains("must be a JSON object") && !e.to_string().contains("length"),
            "{bad}: {e}"
        );
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8000-000000000001","at":"2026-06-01T00:00:00Z","type":"publish_policy","store":"HQ","policy":{bad}}}"#
        );
        let e = Command::from_json(&line).unwrap_err();
        assert!(e.to_string().contains("must be a JSON object"), "{e}");
    }
}

#[test]
fn changing_to_the_tier_held_is_refused() {
    let ledger = Ledger::in_memory_with(Policy::from_json(TWO_TIERS).unwrap());
    ledger
        .execute(&cmd(
            1,
            "2026-03-01T10:00:00Z",
            r#""type":"enroll","member":"M1","store":"S1""#,
        ))
        .unwrap();
    let same = cmd(
        2,
        "2026-03-01T11:00:00Z",
        r#""type":"change_tier","member":"M1","store":"S1","tier":"standard""#,
    );
    let msg = refused(&ledger, &same, "invalid_command");
    assert!(msg.contains("already holds tier standard"), "{msg}");
    let up = cmd(
        3,
        "2026-03-01T11:00:00Z",
        r#""type":"change_tier","member":"M1","store":"S1","tier":"gold""#,
    );
    ledger.execute(&up).unwrap();
}
