//! The change feed: pages of the log after a position, and a tail woken by commits.

use std::sync::Arc;
use std::time::{Duration, Instant};

use memberledger::{Clock, Ledger};
use memberledger_testkit::steady;

#[test]
fn events_after_pages_through_the_whole_log_in_chain_order() {
    let ledger = Ledger::in_memory();
    ledger.set_clock(Clock::unbounded());
    ledger.execute_batch(&steady::workload(250, 20, 3, 3));
    let head = ledger.head().unwrap();
    let all: Vec<_> = ledger.events(1, 64).collect::<Result<_, _>>().unwrap();
    let mut paged = Vec::new();
    let mut cursor = 0;
    loop {
        let page = ledger.events_after(cursor, 37).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 37);
        cursor = page.last().unwrap().position;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert_eq!(cursor, head.position);
    assert_eq!(paged.last().unwrap().hash, head.hash);
    assert!(ledger.events_after(u64::MAX, 10).unwrap().is_empty());
}

#[test]
fn wait_for_events_returns_at_once_when_events_follow_the_cursor() {
    let ledger = Ledger::in_memory();
    let start = Instant::now();
    let page = ledger
        .wait_for_events(0, 10, Duration::from_secs(30))
        .unwrap();
    assert_eq!(page[0].position, 1);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn wait_for_events_times_out_empty_when_nothing_is_committed() {
    let ledger = Ledger::in_memory();
    let head = ledger.head().unwrap().position;
    let start = Instant::now();
    let page = ledger
        .wait_for_events(head, 10, Duration::from_millis(300))
        .unwrap();
    assert!(page.is_empty());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(5));
}

#[test]
fn wait_for_events_is_woken_by_a_commit() {
    let ledger = Arc::new(Ledger::in_memory());
    ledger.set_clock(Clock::unbounded());
    let head = ledger.head().unwrap().position;
    let tail = {
        let ledger = Arc::clone(&ledger);
        std::thread::spawn(move || {
            let start = Instant::now();
            let page = ledger
                .wait_for_events(head, 100, Duration::from_secs(60))
                .unwrap();
            (page, start.elapsed())
        })
    };
    std::thread::sleep(Duration::from_millis(200));
    let receipt = ledger.execute(&steady::workload(1, 1, 1, 9)[0]).unwrap();
    let (page, waited) = tail.join().unwrap();
    assert_eq!(page, receipt.events);
    assert!(waited < Duration::from_secs(30), "woken by the commit");
}
