//! The way back: a ledger rebuilt from its `jsonl` export ends with the same log, head,
//! member views and clearing, and a tampered export is refused at its first bad position.
// Without the `sled` feature only the tests of a ledger in memory run.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use memberledger::domain::DEFAULT_POLICY_JSON;
use memberledger::store::MemoryStore;
use memberledger::{Command, Error, Ledger};

fn id(n: u128) -> String {
    uuid::Uuid::from_u128(0x7100_0000_0000_4000_8000_0000_0000_0000 | n).to_string()
}

/// A ledger with members, packages, refunds, a settlement, a policy publication and a sweep.
fn story() -> Ledger {
    let ledger = Ledger::in_memory();
    let mut n = 0u128;
    let mut run = |at: &str, rest: &str| {
        n += 1;
        let line = format!(r#"{{"id":"{}","at":"2026-{at}Z",{rest}}}"#, id(n));
        let c = Command::from_json(&line).unwrap();
        ledger.execute(&c).unwrap();
    };
    for m in ["M1", "M2", "M3"] {
        run(
            "03-01T10:00:00",
            &format!(r#""type":"enroll","member":"{m}","store":"S1""#),
        );
        run(
            "03-01T11:00:00",
            &format!(r#""type":"recharge","member":"{m}","store":"S1","amount":"1000.00""#),
        );
        run(
            "03-02T11:00:00",
            &format!(
                r#""type":"consume","member":"{m}","store":"S2","amount":"120.00","service":"nails""#
            ),
        );
    }
    run(
        "03-03T09:00:00",
        r#""type":"settle","store":"S1","to":"S2","amount":"50.00""#,
    );
    let policy: serde_json::Value = serde_json::from_str(DEFAULT_POLICY_JSON).unwrap();
    run(
        "03-04T09:00:00",
        &format!(r#""type":"publish_policy","store":"HQ","policy":{policy}"#),
    );
    run(
        "03-05T09:00:00",
        r#""type":"grant_bonus","member":"M2","store":"S1","amount":"10.00","expires_at":"2026-03-06T00:00:00Z","reason":"birthday""#,
    );
    run(
        "03-07T09:00:00",
        r#""type":"expire","member":"M2","store":"S1""#,
    );
    ledger
}

fn export(ledger: &Ledger) -> String {
    ledger
        .events(1, 100)
        .map(|e| e.unwrap().to_export_json() + "\n")
        .collect()
}

#[cfg(feature = "sled")]
fn restore_err(export: &str) -> (u64, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restored");
    match Ledger::restore(&path, None, export.as_bytes()) {
        Err(Error::Corrupt { position, why }) => {
            assert!(!path.exists(), "a refused restore leaves nothing behind");
            (position, why)
        }
        other => panic!("expected corrupt, got {:?}", other.map(|(_, r)| r)),
    }
}

#[cfg(feature = "sled")]
#[test]
fn restore_rebuilds_the_same_log_head_members_and_clearing() {
    let original = story();
    let text = export(&original);
    let dir = tempfile::tempdir().unwrap();
    let (restored, report) = Ledger::restore(dir.path().join("r"), None, text.as_bytes()).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report, original.verify().unwrap());
    assert_eq!(
        export(&restored),
        text,
        "export → restore → export is byte-identical"
    );
    for m in original.member_ids() {
        assert_eq!(restored.member(&m), original.member(&m));
    }
    assert_eq!(restored.member_ids().len(), 3);
    assert_eq!(restored.clearing(), original.clearing());
    assert_eq!(restored.policy_history(), original.policy_history());
    assert!(restored.verify().unwrap().ok());
    // Reopened from disk: the same.
    drop(restored);
    let reopened = Ledger::open_existing(dir.path().join("r")).unwrap();
    assert_eq!(export(&reopened), text);
}

#[test]
fn a_retry_of_a_command_recorded_before_the_restore_is_an_idempotency_conflict() {
    let original = story();
    let (restored, _) = Ledger::restore_into(
        Box::new(MemoryStore::new()),
        None,
        export(&original).as_bytes(),
    )
    .unwrap();
    let enroll = format!(
        r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}}"#,
        id(1)
    );
    let err = restored
        .execute(&Command::from_json(&enroll).unwrap())
        .unwrap_err();
    assert_eq!(err.code(), "idempotency_conflict");
    assert_eq!(export(&restored), export(&original), "nothing recorded");
    // A new command goes on from the restored head.
    let next = format!(
        r#"{{"id":"{}","at":"2026-04-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"5.00"}}"#,
        id(999)
    );
    assert!(restored
        .execute(&Command::from_json(&next).unwrap())
        .is_ok());
}

#[cfg(feature = "sled")]
#[test]
fn restore_refuses_a_changed_amount_at_its_position() {
    let text = export(&story());
    let lines: Vec<&str> = text.lines().collect();
    let k = lines
        .iter()
        .position(|l| l.contains(r#""amount":"1000.00""#))
        .unwrap();
    let changed = text.replacen(r#""amount":"1000.00""#, r#""amount":"9000.00""#, 1);
    let (position, why) = restore_err(&changed);
    assert_eq!(position, k as u64 + 1);
    assert!(
        why.starts_with(&format!("line {}: the hash does not follow", k + 1)),
        "{why}"
    );
}

#[cfg(feature = "sled")]
#[test]
fn restore_refuses_a_dropped_line_at_its_position() {
    let text = export(&story());
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(4);
    let (position, why) = restore_err(&(lines.join("\n") + "\n"));
    assert_eq!(position, 5);
    assert!(
        why.contains("line 5: holds position 6 where position 5 belongs"),
        "{why}"
    );
}

#[cfg(feature = "sled")]
#[test]
fn restore_refuses_a_swapped_pair_at_its_position() {
    let text = export(&story());
    let mut lines: Vec<&str> = text.lines().collect();
    lines.swap(6, 7);
    let (position, why) = restore_err(&(lines.join("\n") + "\n"));
    assert_eq!(position, 7);
    assert!(why.starts_with("line 7:"), "{why}");
}

#[cfg(feature = "sled")]
#[test]
fn restore_refuses_a_line_that_is_not_the_canonical_export() {
    let text = export(&story());
    // The same JSON with a space: the bytes the chain hashed are not these.
    let spaced = text.replacen(
        r#""type":"member_enrolled""#,
        r#""type": "member_enrolled""#,
        1,
    );
    let (position, why) = restore_err(&spaced);
    assert_eq!(position, 2, "position 1 is the founding policy's record");
    assert!(why.contains("not the canonical export"), "{why}");
    // Line endings frame the events: CRLF reads as LF.
    let (crlf, _) = Ledger::restore_into(
        Box::new(MemoryStore::new()),
        None,
        text.replace('\n', "\r\n").as_bytes(),
    )
    .unwrap();
    assert_eq!(export(&crlf), text);
    let (position, why) = restore_err(&text.replacen('{', "[", 1));
    assert_eq!(position, 1);
    assert!(why.contains("line 1: not JSON"), "{why}");
}

#[cfg(feature = "sled")]
#[test]
fn restore_refuses_an_existing_ledger_and_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("existing");
    drop(Ledger::open(&path).unwrap());
    let before = std::fs::read_dir(&path).unwrap().count();
    let err = Ledger::restore(&path, None, export(&story()).as_bytes()).unwrap_err();
    assert_eq!(err.code(), "already_exists");
    assert!(err.to_string().contains("a ledger already exists"), "{err}");
    assert_eq!(std::fs::read_dir(&path).unwrap().count(), before);
    assert!(Ledger::open_existing(&path).is_ok());
}

/// The export of a ledger written before founding records existed: its policy only in the
/// settings, its first event a member's.
fn old_export(policy: &memberledger::Policy) -> String {
    old_export_of(policy, r#""type":"enroll""#)
}

/// [`old_export`] of one enrollment, `enroll` its type and fields.
fn old_export_of(policy: &memberledger::Policy, enroll: &str) -> String {
    use memberledger::store::EventStore;
    let store = MemoryStore::new();
    store
        .set_meta("policy", policy.to_json().as_bytes())
        .unwrap();
    let enroll = format!(
        r#"{{"id":"{}","at":"2026-03-01T10:00:00Z","member":"M1","store":"S1",{enroll}}}"#,
        id(1)
    );
    let cmd = Command::from_json(&enroll).unwrap();
    let events = memberledger::domain::decide(
        &memberledger::domain::Context::founding(policy).with_member(None),
        &cmd,
    )
    .map(memberledger::domain::Decision::into_events)
    .unwrap();
    let appended = store
        .append(vec![memberledger_store::Append {
            command: cmd.id,
            digest: cmd.digest(),
            member: cmd.member.clone(),
            expected_version: 0,
            events,
        }])
        .unwrap();
    assert!(appended.iter().all(Result::is_ok));
    store
        .read_positions(&[1])
        .unwrap()
        .iter()
        .map(|e| e.to_export_json() + "\n")
        .collect()
}

#[test]
fn restore_takes_the_founding_policy_given_when_the_export_carries_none() {
    let hkd = memberledger::Policy::from_json(&DEFAULT_POLICY_JSON.replace("CNY", "HKD")).unwrap();
    let text = old_export(&hkd);
    let (restored, _) = Ledger::restore_into(
        Box::new(MemoryStore::new()),
        Some(hkd.clone()),
        text.as_bytes(),
    )
    .unwrap();
    assert_eq!(*restored.founding_policy(), hkd);
    assert_eq!(restored.policy().currency, "HKD");
    assert!(!restored.founding_policy_in_chain(), "restored as it was");
    assert_eq!(export(&restored), text, "nothing added by the restore");
    let (default, _) =
        Ledger::restore_into(Box::new(MemoryStore::new()), None, text.as_bytes()).unwrap();
    assert_eq!(
        default.policy().currency,
        "CNY",
        "the built-in policy by default"
    );
}

#[test]
fn restore_takes_the_founding_policy_an_export_carries() {
    let hkd = memberledger::Policy::from_json(&DEFAULT_POLICY_JSON.replace("CNY", "HKD")).unwrap();
    let original = Ledger::in_memory_with(hkd.clone());
    let text = export(&original);
    let (restored, _) =
        Ledger::restore_into(Box::new(MemoryStore::new()), None, text.as_bytes()).unwrap();
    assert_eq!(*restored.founding_policy(), hkd);
    assert!(restored.founding_policy_in_chain());
    let err = Ledger::restore_into(
        Box::new(MemoryStore::new()),
        Some(memberledger::Policy::builtin()),
        text.as_bytes(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_policy");
}

#[test]
fn restore_refuses_a_policy_given_that_drops_a_tier_the_members_hold() {
    // An old export whose member holds gold, restored with a policy of one tier: refused, so
    // no member is left in a tier the policy does not define (issue 11, item 10).
    let text = old_export_of(
        &memberledger::Policy::builtin(),
        r#""type":"enroll","tier":"gold""#,
    );
    let one_tier = memberledger::Policy::from_json(
        r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}]}"#,
    )
    .unwrap();
    let err = Ledger::restore_into(
        Box::new(MemoryStore::new()),
        Some(one_tier),
        text.as_bytes(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "invalid_policy", "{err}");
    assert!(err.to_string().contains("\"gold\""), "{err}");
    let (restored, _) =
        Ledger::restore_into(Box::new(MemoryStore::new()), None, text.as_bytes()).unwrap();
    assert_eq!(restored.member_ids().len(), 1);
}
