//! One append of many commands is stored in chunks of several records per key, and every
//! command, event and member reads back after a reopen as if each had its own key.

use memberledger_core::{decide, Command, Context, Decision, Policy};
use memberledger_store::{Append, EventStore};
use memberledger_store_sled::{SledStore, CHUNK_BYTES};

fn enroll(n: u32) -> Command {
    Command::from_json(&format!(
        r#"{{"id":"00000000-0000-4000-8000-{n:012}","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M{n}","store":"S{}"}}"#,
        n % 7
    ))
    .unwrap()
}

#[test]
fn a_large_append_is_chunked_and_reads_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let policy = Policy::builtin();
    let commands: Vec<Command> = (1..=600).map(enroll).collect();
    let batch: Vec<Append> = commands
        .iter()
        .map(|c| Append {
            command: c.id,
            digest: c.digest(),
            member: c.member.clone(),
            expected_version: 0,
            events: decide(&Context::founding(&policy).with_member(None), c)
                .map(Decision::into_events)
                .unwrap(),
        })
        .collect();
    let store = SledStore::open(&path).unwrap();
    let recorded = store.append(batch).unwrap();
    assert!(recorded.iter().all(Result::is_ok));
    let bytes: usize = store
        .read_raw(1, 1000)
        .unwrap()
        .iter()
        .map(|r| r.json.len())
        .sum();
    drop(store);

    // Fewer keys than commands, each at most a chunk.
    let keys: Vec<usize> = sled::open(&path)
        .unwrap()
        .scan_prefix([b'e'])
        .map(|kv| kv.unwrap().1.len())
        .collect();
    assert!(
        keys.len() > 1 && keys.len() < 60,
        "{} keys for {bytes} bytes",
        keys.len()
    );
    assert!(keys.iter().all(|&n| n <= CHUNK_BYTES));

    let store = SledStore::open(&path).unwrap();
    assert_eq!(store.head().unwrap().position, 600);
    let raw = store.read_raw(1, 1000).unwrap();
    assert_eq!(raw.len(), 600);
    assert!(raw.iter().zip(1..).all(|(r, p)| r.position == p));
    for (i, c) in commands.iter().enumerate() {
        let rec = store.command(c.id).unwrap().expect("recorded");
        assert_eq!((rec.digest, rec.first_position), (c.digest(), i as u64 + 1));
        assert_eq!(
            store.member_positions(&c.member).unwrap(),
            vec![i as u64 + 1]
        );
    }
    // A member's events are found inside their chunks.
    for i in [0usize, 1, 299, 598, 599] {
        let events = store.member_events(&commands[i].member).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].position, i as u64 + 1);
        assert_eq!(events[0].event.command, commands[i].id);
    }
    let picked = store.read_positions(&[600, 1, 250]).unwrap();
    assert_eq!(
        picked.iter().map(|e| e.position).collect::<Vec<_>>(),
        [600, 1, 250]
    );
    // Reading from the middle of a chunk starts at that position.
    let from = store.read_raw(333, 3).unwrap();
    assert_eq!(
        from.iter().map(|r| r.position).collect::<Vec<_>>(),
        [333, 334, 335]
    );
}
