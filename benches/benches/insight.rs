//! Criterion benchmarks of memberledger-insight at the demo's scale (20 stores, 5,000
//! members, 100,000 commands over a year): folding the projections from genesis, and each
//! report from the kept projections (the goal: any report well under a second).
//! `cargo bench -p memberledger-benches --bench insight`.
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memberledger::domain::{RecordedEvent, Rounding};
use memberledger::{Ledger, Policy};
use memberledger_insight::report::{self, RankBy};
use memberledger_insight::{Calendar, Projections, Rates};
use memberledger_testkit::year::{Shape, Year};

/// The allocator the CLI uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The demo's year, recorded in memory, and its log.
fn demo_year() -> (Ledger, Vec<RecordedEvent>, memberledger::Timestamp) {
    let ledger = Ledger::in_memory_with(Policy::builtin());
    let mut year = Year::new(42, Shape::default());
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {})
        .expect("the year records");
    year.close(&ledger, |_| {});
    let events = ledger.events(1, 4096).map(|e| e.expect("reads")).collect();
    (ledger, events, year.end())
}

fn insight(c: &mut Criterion) {
    let (_ledger, events, now) = demo_year();
    let mut g = c.benchmark_group("insight");
    g.sample_size(10);
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("fold_demo_year_from_genesis", |b| {
        b.iter(|| {
            let mut p = Projections::new(Calendar::east_hours(8).expect("valid"), None);
            events.iter().for_each(|e| p.apply(e));
            p
        });
    });
    g.finish();
    let mut p = Projections::new(Calendar::east_hours(8).expect("valid"), None);
    events.iter().for_each(|e| p.apply(e));
    let mut g = c.benchmark_group("insight_report");
    g.bench_function("churn", |b| b.iter(|| report::churn(&p, now, 90, 30)));
    g.bench_function("dormant", |b| b.iter(|| report::dormant(&p, now, 180)));
    g.bench_function("turnover", |b| b.iter(|| report::turnover(&p)));
    g.bench_function("staff", |b| {
        b.iter(|| report::staff(&p, None, None, &Rates::flat(None, Rounding::HalfUp)));
    });
    g.bench_function("services", |b| b.iter(|| report::services(&p)));
    g.bench_function("members_top_20_by_ltv", |b| {
        b.iter(|| report::members(&p, 20, RankBy::Ltv));
    });
    g.finish();
}

criterion_group!(benches, insight);
criterion_main!(benches);
