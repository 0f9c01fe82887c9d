//! The founding policy is in the chain (issue 11, item 12): a new ledger records it first, an
//! old ledger (policy only in the store's settings) gets it appended on its first writable
//! open, and a ledger whose settings and founding record disagree is corrupt.
// Without the `sled` feature only the tests of a ledger in memory run.
#![cfg_attr(not(feature = "sled"), allow(dead_code, unused_imports))]

use memberledger::domain::events::PolicyPublished;
use memberledger::domain::{decide, Context, Decision, EventBody, PolicyHistory};
use memberledger::store::EventStore;
#[cfg(feature = "sled")]
use memberledger::store::SledStore;
use memberledger::{Command, Error, Ledger, Policy};
use memberledger_core::{founding_command_id, is_founding_event, FOUNDING_AT};
use memberledger_store::Append;

const ENROLL: &str = r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#;
const RECHARGE: &str = r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#;

fn small_policy() -> Policy {
    Policy::from_json(
        r#"{"tiers":[{"name":"standard","discount":"1.00","points_per_yuan":"1"}],"rounding":"half_even"}"#,
    )
    .unwrap()
}

/// Writes a ledger as the releases before founding records did: the policy in the settings
/// only, the member's events from position 1.
#[cfg(feature = "sled")]
fn write_old_ledger(path: &std::path::Path, policy: &Policy) {
    let store = SledStore::open(path).unwrap();
    store
        .set_meta("policy", policy.to_json().as_bytes())
        .unwrap();
    let mut state = None;
    for line in [ENROLL, RECHARGE] {
        let cmd = Command::from_json(line).unwrap();
        let events = decide(&Context::founding(policy).with_member(state.as_ref()), &cmd)
            .map(Decision::into_events)
            .unwrap();
        for e in &events {
            memberledger::domain::MemberState::fold_onto(&mut state, e).unwrap();
        }
        let expected_version = events[0].version - 1;
        let appended = store
            .append(vec![Append {
                command: cmd.id,
                digest: cmd.digest(),
                member: cmd.member.clone(),
                expected_version,
                events,
            }])
            .unwrap();
        assert!(appended.iter().all(Result::is_ok));
    }
}

#[cfg(feature = "sled")]
#[test]
fn a_new_ledger_records_its_founding_policy_as_its_first_event() {
    let policy = small_policy();
    for ledger in [
        Ledger::in_memory_with(policy.clone()),
        Ledger::with_store(
            Box::new(memberledger::store::MemoryStore::new()),
            Some(policy.clone()),
        )
        .unwrap(),
    ] {
        let first = ledger.events(1, 10).next().unwrap().unwrap();
        assert_eq!(first.position, 1);
        assert!(is_founding_event(&first.event));
        assert!(first.event.member.is_policy());
        assert_eq!((first.event.version, first.event.policy), (1, 1));
        assert_eq!(first.event.at.to_string(), FOUNDING_AT);
        assert_eq!(first.event.command, founding_command_id(&policy));
        let EventBody::PolicyPublished(PolicyPublished { version, .. }) = &first.event.body else {
            panic!("not a policy record: {:?}", first.event.body);
        };
        assert_eq!(*version, 1);
        // What restore needs: the founding policy from the export's first event alone.
        let history = PolicyHistory::from_founding_event(&first.event).unwrap();
        assert_eq!(*history.current().policy, policy);
        assert!(ledger.founding_policy_in_chain());
        assert!(ledger.verify().unwrap().ok());
    }
    // On disk too, and the same policy gives the same chain.
    let dir = tempfile::tempdir().unwrap();
    let heads: Vec<_> = ["a", "b"]
        .iter()
        .map(|name| {
            let l = Ledger::create(dir.path().join(name), policy.clone()).unwrap();
            l.execute(&Command::from_json(ENROLL).unwrap()).unwrap();
            l.head().unwrap()
        })
        .collect();
    assert_eq!(heads[0], heads[1]);
    assert_eq!(heads[0].position, 2);
    let builtin = Ledger::open(dir.path().join("c")).unwrap();
    let first = builtin.events(1, 1).next().unwrap().unwrap();
    assert_eq!(first.event.command, founding_command_id(&Policy::builtin()));
}

#[cfg(feature = "sled")]
#[test]
fn reopening_a_ledger_records_its_founding_policy_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    {
        let l = Ledger::create(&path, small_policy()).unwrap();
        l.execute(&Command::from_json(ENROLL).unwrap()).unwrap();
    }
    let l = Ledger::open_existing(&path).unwrap();
    assert_eq!(l.head().unwrap().position, 2);
    let founding = l
        .events(1, 100)
        .filter(|e| is_founding_event(&e.as_ref().unwrap().event))
        .count();
    assert_eq!(founding, 1);
}

#[cfg(feature = "sled")]
#[cfg(feature = "sled")]
#[test]
fn an_old_ledger_gets_its_founding_policy_appended_on_its_first_writable_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let policy = small_policy();
    write_old_ledger(&path, &policy);
    // Read-only: verified as it is, nothing written, and said to be an old ledger.
    {
        let (l, report) = Ledger::open_verified(&path).unwrap();
        assert!(report.ok(), "{report:?}");
        assert_eq!(report.events, 2);
        assert!(!l.founding_policy_in_chain());
        assert_eq!(*l.founding_policy(), policy);
    }
    // The first writable open appends the founding record, in force from the beginning.
    {
        let l = Ledger::open_existing(&path).unwrap();
        assert!(l.founding_policy_in_chain());
        let last = l.events(3, 10).next().unwrap().unwrap();
        assert_eq!(last.position, 3);
        assert!(is_founding_event(&last.event));
        assert_eq!(last.event.at.to_string(), FOUNDING_AT);
        assert_eq!((last.event.version, last.event.policy), (1, 1));
        assert!(l.verify().unwrap().ok());
        // Commands go on as before, decided under version 1.
        let consume = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000003","at":"2026-03-02T10:00:00Z","type":"consume","member":"M1","store":"S1","amount":"10.00"}"#).unwrap();
        let r = l.execute(&consume).unwrap();
        assert_eq!(r.events[0].event.policy, 1);
    }
    let (l, report) = Ledger::open_verified(&path).unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.events, 4);
    assert!(l.founding_policy_in_chain());
}

#[cfg(feature = "sled")]
#[test]
fn a_ledger_whose_settings_and_founding_record_disagree_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    drop(Ledger::create(&path, small_policy()).unwrap());
    {
        let store = SledStore::open(&path).unwrap();
        store
            .set_meta("policy", Policy::builtin().to_json().as_bytes())
            .unwrap();
    }
    for open in [
        Ledger::open_existing(&path).map(|_| ()),
        Ledger::open_verified(&path).map(|_| ()),
    ] {
        match open {
            Err(Error::Corrupt { position, why }) => {
                assert_eq!(position, 1);
                assert!(why.contains("founding policy"), "{why}");
            }
            Err(other) => panic!("expected corrupt, got {other}"),
            Ok(()) => panic!("expected corrupt, the ledger opened"),
        }
    }
}

#[test]
fn a_founding_record_cannot_be_recorded_twice_or_for_another_policy() {
    let l = Ledger::in_memory_with(small_policy());
    let head = l.head().unwrap();
    // The same founding command again: an idempotent repeat, nothing recorded.
    let again = memberledger_core::founding_command(&small_policy());
    assert!(l.execute(&again).unwrap().replayed);
    // Another policy's founding command: refused.
    let other = memberledger_core::founding_command(&Policy::builtin());
    assert!(l.execute(&other).is_err());
    assert_eq!(l.head().unwrap(), head);
}
