//! Any sequence of appends (some failing on an injected fault, some refused as conflicts),
//! and some checkpoints (each with an index snapshot), then a reopen, reads back exactly the
//! acknowledged events, spanning segments, whether the open starts from a snapshot or not.

use memberledger_store::{Append, EventStore, RawEvent};
use memberledger_store_file::{Fault, FileStore};
use proptest::prelude::*;

mod common;
use common::enroll_member as enroll;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn a_reopen_reads_back_exactly_the_acknowledged_events(
        steps in proptest::collection::vec((1u32..30, 0u32..40, 0u8..6), 1..25),
        segment_bytes in 1_500u64..20_000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l");
        let store = FileStore::create(&path).unwrap().with_segment_bytes(segment_bytes);
        let mut acknowledged: Vec<RawEvent> = Vec::new();
        let mut n = 0;
        for (size, member_base, fault) in steps {
            let batch: Vec<Append> = (0..size)
                .map(|i| { n += 1; enroll(n, member_base + i) })
                .collect();
            match fault {
                0 => store.inject_fault(Fault::WriteFailsAfter(usize::try_from(size * 37).unwrap())),
                1 => store.inject_fault(Fault::SyncFails),
                _ => {}
            }
            match store.append(batch) {
                Ok(_) => {
                    let head = store.head().unwrap().position;
                    let from = acknowledged.len() as u64 + 1;
                    acknowledged.extend(store.read_raw(from, usize::MAX).unwrap());
                    prop_assert_eq!(acknowledged.len() as u64, head);
                    if fault == 5 {
                        // A checkpoint of the head, and its index snapshot.
                        prop_assert!(store.write_checkpoint(head, b"cp").unwrap());
                    }
                }
                Err(e) => prop_assert!(fault < 2, "{e}"),
            }
        }
        drop(store);
        let store = FileStore::open(&path).unwrap();
        prop_assert_eq!(store.torn_tail(), None);
        prop_assert_eq!(store.read_raw(1, usize::MAX).unwrap(), acknowledged.clone());
        for e in &acknowledged {
            prop_assert_eq!(&store.read_positions(&[e.position]).unwrap()[0], &e.decode().unwrap());
        }
    }
}
