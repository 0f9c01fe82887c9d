//! The shared scenario (tests/fixtures/scenario), run through the facade: the commands give the
//! outcomes and the member views the fixture holds. The C program (tests/c/scenario.c) and
//! pytest (crates/py/tests) run the same files: one answer for three hosts.
//!
//! After an intended change: `MEMBERLEDGER_BLESS=1 cargo test -p memberledger-ffi --test
//! scenario`, and review the diff.

use std::path::PathBuf;

use memberledger::{Command, Ledger, MemberId};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/scenario")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Each command's outcome: `ok`, `replayed`, or the error code.
fn run(ledger: &Ledger) -> Vec<String> {
    read("commands.jsonl")
        .lines()
        .map(|line| match Command::from_json(line) {
            Err(e) => e.code().to_owned(),
            Ok(c) => match ledger.execute(&c) {
                Ok(r) if r.replayed => "replayed".to_owned(),
                Ok(_) => "ok".to_owned(),
                Err(e) => e.code().to_owned(),
            },
        })
        .collect()
}

/// Every member's view, one compact JSON line each, sorted by member.
fn views(ledger: &Ledger) -> Vec<String> {
    ledger
        .member_ids()
        .iter()
        .map(|id| serde_json::to_string(&ledger.member(id).expect("listed")).expect("serialises"))
        .collect()
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

#[test]
fn the_shared_scenario_gives_the_fixture_outcomes_and_views() {
    let ledger = Ledger::in_memory();
    let outcomes = run(&ledger);
    let views = views(&ledger);
    assert!(ledger.verify().expect("verifies").ok());
    if std::env::var("MEMBERLEDGER_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(fixture("outcomes.txt"), outcomes.join("\n") + "\n").expect("writes");
        std::fs::write(fixture("members.jsonl"), views.join("\n") + "\n").expect("writes");
    }
    assert_eq!(outcomes, lines(&read("outcomes.txt")));
    assert_eq!(views, lines(&read("members.jsonl")));
    // Refusals and retries are all there: the scenario keeps every kind of answer.
    for kind in [
        "ok",
        "replayed",
        "insufficient_balance",
        "member_frozen",
        "member_not_found",
    ] {
        assert!(outcomes.iter().any(|o| o == kind), "{kind}");
    }
}

#[test]
fn the_shared_scenario_gives_the_same_views_through_the_json_api() {
    let ledger = memberledger_ffi::api::in_memory(None).expect("opens");
    for line in read("commands.jsonl").lines() {
        let _ = memberledger_ffi::api::execute(&ledger, line);
    }
    for expected in lines(&read("members.jsonl")) {
        let v: serde_json::Value = serde_json::from_str(&expected).expect("JSON");
        let id = v["member"].as_str().expect("a member");
        assert_eq!(
            memberledger_ffi::api::member(&ledger, id, None),
            Ok(expected)
        );
    }
    assert!(MemberId::new("M9").is_ok_and(|m| ledger.member(&m).is_none()));
}

#[test]
fn a_policy_version_is_the_json_every_adapter_prints() {
    let ledger = memberledger_ffi::api::in_memory(None).expect("opens");
    let json = memberledger_ffi::api::policy(&ledger, None).expect("the founding policy");
    assert!(
        json.starts_with(r#"{"version":1,"effective_at":null,"policy":{"#),
        "{json}"
    );
    let current = ledger.policy_history().current().clone();
    assert_eq!(json, serde_json::to_string(&current).expect("serialises"));
}
