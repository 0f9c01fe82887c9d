//! Each report timed from kept projections (no replay), at the demo's scale (100,000
//! commands, 5,000 members) and at 1 M commands (50,000 members): the events are made by the
//! test kit's year generator on an in-memory ledger, folded once, then each report is timed.
//! The goal is any report under a second; nothing here asserts a time.
//!
//! `cargo bench -p memberledger-insight --bench reports` (building the 1 M year takes
//! minutes).

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use memberledger::{Clock, Ledger, Policy};
use memberledger_insight::report::{self, RankBy};
use memberledger_insight::{chart, Projections, Rates};
use memberledger_testkit::year::{Shape, Year};

/// A year of `commands` by `members` on an in-memory ledger, and its projections.
fn year(commands: u64, members: u32) -> (Ledger, Projections) {
    let ledger = Ledger::in_memory_with(Policy::builtin());
    let shape = Shape {
        commands,
        members,
        ..Shape::default()
    };
    let mut year = Year::new(42, shape);
    ledger.set_clock(Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {})
        .expect("the year records");
    year.close(&ledger, |_| {});
    let p = Projections::build(&ledger, None).expect("folds");
    (ledger, p)
}

fn reports(c: &mut Criterion) {
    for (name, commands, members) in [("demo", 100_000, 5_000), ("1M", 1_000_000, 50_000)] {
        let (ledger, p) = year(commands, members);
        let now = p.latest().expect("a year of events");
        let rates = Rates::of_history(&ledger.policy_history());
        let mut g = c.benchmark_group(format!("reports/{name}"));
        g.sample_size(10);
        g.bench_function(BenchmarkId::from_parameter("churn"), |b| {
            b.iter(|| report::churn(&p, now, 90, 30));
        });
        g.bench_function(BenchmarkId::from_parameter("dormant"), |b| {
            b.iter(|| report::dormant(&p, now, 180));
        });
        g.bench_function(BenchmarkId::from_parameter("turnover"), |b| {
            b.iter(|| report::turnover(&p));
        });
        g.bench_function(BenchmarkId::from_parameter("staff"), |b| {
            b.iter(|| report::staff(&p, None, None, &rates));
        });
        g.bench_function(BenchmarkId::from_parameter("services"), |b| {
            b.iter(|| report::services(&p));
        });
        g.bench_function(BenchmarkId::from_parameter("members"), |b| {
            b.iter(|| report::members(&p, 20, RankBy::Ltv));
        });
        g.bench_function(BenchmarkId::from_parameter("campaigns"), |b| {
            b.iter(|| report::campaigns(&p, 2));
        });
        g.bench_function(BenchmarkId::from_parameter("charts"), |b| {
            b.iter(|| {
                let s = report::services(&p);
                (chart::services(&s, 20), chart::heatmap(&s))
            });
        });
        // Keeping up: folding the last 1,000 events onto projections that stopped short.
        let head = ledger.head().expect("a head").position;
        let mut short = Projections::new(memberledger_insight::Calendar::utc(), None);
        for rec in ledger
            .events(1, 4096)
            .take(usize::try_from(head - 1000).unwrap())
        {
            short.apply(&rec.expect("reads"));
        }
        g.bench_function(BenchmarkId::from_parameter("catch_up_1000"), |b| {
            b.iter_batched(
                || short.clone(),
                |mut p| p.catch_up(&ledger).expect("folds"),
                criterion::BatchSize::LargeInput,
            );
        });
        g.finish();
    }
}

criterion_group!(benches, reports);
criterion_main!(benches);
