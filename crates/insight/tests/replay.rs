//! The projections are a fold: fed from genesis, from any position, or kept up to date as
//! the ledger grows, they are the same; as of any time they agree with the books' own replay.

use std::collections::BTreeMap;

use memberledger::domain::RecordedEvent;
use memberledger::{Ledger, Policy, StoreId, Timestamp};
use memberledger_audit::Snapshot;
use memberledger_insight::{Calendar, Projections};
use memberledger_testkit::year::{Shape, Year};
use proptest::prelude::*;

/// A small year of a chain (packages, refunds, transfers, the sweep), recorded.
fn year(seed: u64, commands: u64) -> Ledger {
    let ledger = Ledger::in_memory_with(Policy::builtin());
    let shape = Shape {
        stores: 4,
        members: 60,
        commands,
        days: 365,
        ..Shape::default()
    };
    let mut year = Year::new(seed, shape);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {})
        .expect("the year records");
    year.close(&ledger, |_| {});
    ledger
}

fn log(ledger: &Ledger) -> Vec<RecordedEvent> {
    ledger.events(1, 512).map(|r| r.expect("reads")).collect()
}

fn fold(events: &[RecordedEvent], as_of: Option<Timestamp>) -> Projections {
    let mut p = Projections::new(Calendar::east_hours(8).expect("valid"), as_of);
    events.iter().for_each(|e| p.apply(e));
    p
}

/// Stored value held per store, from the projections' members.
fn held_by_store(p: &Projections) -> BTreeMap<StoreId, i128> {
    let mut held = BTreeMap::new();
    for m in p.members().values() {
        for (s, c) in &m.held {
            *held.entry(s.clone()).or_default() += c;
        }
    }
    held.retain(|_, c| *c != 0);
    held
}

/// Stored value (principal and bonus) held per store, by the books.
fn books_held(ledger: &Ledger, as_of: Option<Timestamp>) -> BTreeMap<StoreId, i128> {
    let snap = Snapshot::as_of(ledger, as_of).expect("the books replay");
    let cents = |m: &memberledger::Money| i128::from(m.cents());
    snap.liability()
        .expect("the liability report")
        .stores
        .iter()
        .map(|s| {
            (
                s.store.parse().unwrap(),
                cents(&s.principal) + cents(&s.bonus),
            )
        })
        .filter(|(_, c)| *c != 0)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn projections_fed_from_any_position_equal_a_replay_from_genesis(
        seed in 0u64..1_000_000,
        split in 0usize..10_000,
        at in 0usize..10_000,
    ) {
        let ledger = year(seed, 700);
        let events = log(&ledger);
        let whole = fold(&events, None);
        // Stopped at a random position and fed the rest (the last event twice: ignored).
        let k = events.len() * split / 10_000;
        let mut p = fold(&events[..k], None);
        events[k.saturating_sub(1)..].iter().for_each(|e| p.apply(e));
        prop_assert_eq!(&p, &whole);
        // As of a random event's time: the stored value each store holds is the books'.
        let t = events[(events.len() - 1) * at / 10_000].event.at;
        let as_of = fold(&events, Some(t));
        prop_assert_eq!(held_by_store(&as_of), books_held(&ledger, Some(t)));
        // And the turnover report's closing balances are the same figures.
        let closing = memberledger_insight::report::turnover(&as_of)
            .rows
            .iter()
            .fold(BTreeMap::new(), |mut m, r| {
                m.insert(r.store.clone(), r.closing);
                m
            });
        let closing: BTreeMap<_, _> = closing.into_iter().filter(|(_, c)| *c != 0).collect();
        prop_assert_eq!(closing, books_held(&ledger, Some(t)));
    }
}

#[test]
fn projections_kept_up_to_date_equal_ones_built_afresh() {
    let ledger = year(7, 600);
    let all = log(&ledger);
    let half = all.len() / 2;
    let mut kept = fold(&all[..half], None);
    kept.catch_up(&ledger).expect("reads");
    assert_eq!(kept, fold(&all, None));
    assert_eq!(kept.position(), all.len() as u64);
    assert_eq!(
        Projections::build(&ledger, None).unwrap().members(),
        Projections::new(Calendar::utc(), None).tap(&all).members()
    );
}

trait Tap {
    fn tap(self, events: &[RecordedEvent]) -> Self;
}

impl Tap for Projections {
    fn tap(mut self, events: &[RecordedEvent]) -> Projections {
        events.iter().for_each(|e| self.apply(e));
        self
    }
}
