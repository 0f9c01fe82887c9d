//! Importing a chain's members (docs/IMPORT.md): 1,000,000 openings (principal, bonus, points
//! and a package each) through `Ledger::import` into a sled ledger on disk, in batches of
//! 10,000 through group commit. `cargo bench -p memberledger-benches --bench import` (it
//! writes a ledger of some gigabytes in a temporary directory); `--no-run` to build it only.
//! `MEMBERLEDGER_IMPORT_MEMBERS=100000` runs it at another size (each sample imports them all).
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memberledger::domain::{
    Opening, OpeningBonus, OpeningPackage, OpeningPoints, OpeningPrincipal,
};
use memberledger::import::opening_command;
use memberledger::{Clock, Command, Ledger, MemberId, Money, Policy, StoreId, Timestamp};
use memberledger_testkit::Rng;

/// The allocator the CLI uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How many members by default.
const MEMBERS: usize = 1_000_000;

/// The members of one sample: `MEMBERLEDGER_IMPORT_MEMBERS`, or [`MEMBERS`].
fn members() -> usize {
    std::env::var("MEMBERLEDGER_IMPORT_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(MEMBERS)
}

/// One member's opening of the shape a salon chain's export has.
fn opening(rng: &mut Rng, i: usize, as_of: Timestamp) -> Command {
    let store = |rng: &mut Rng| StoreId::new(format!("S{}", rng.below(20))).expect("valid");
    let later =
        |rng: &mut Rng| Some(as_of.plus_days(u32::try_from(rng.between(1, 400)).expect("small")));
    let o = Opening {
        principal: vec![OpeningPrincipal {
            amount: Money::from_cents(rng.range(100, 500_000)),
            origin_store: Some(store(rng)),
        }],
        bonus: vec![OpeningBonus {
            amount: Money::from_cents(rng.range(100, 50_000)),
            expires_at: later(rng),
            origin_store: None,
        }],
        points: vec![OpeningPoints {
            points: rng.between(1, 10_000),
            expires_at: later(rng),
        }],
        packages: vec![OpeningPackage {
            expires_at: later(rng),
            origin_store: None,
            service: "facial".into(),
            session_price: Money::from_cents(rng.range(1_000, 30_000)),
            sessions: 10,
        }],
    };
    let home = store(rng);
    opening_command(
        as_of,
        MemberId::new(format!("M{i:07}")).expect("valid"),
        home,
        None,
        o,
    )
    .expect("valid")
}

fn import(c: &mut Criterion) {
    let as_of: Timestamp = "2026-01-01T00:00:00Z".parse().expect("valid");
    let mut rng = Rng::new(15);
    let n = members();
    let commands: Vec<Command> = (0..n).map(|i| opening(&mut rng, i, as_of)).collect();
    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::try_from(n).expect("fits")));
    g.bench_function(format!("{n}_members_sled"), |b| {
        b.iter_with_setup(
            || {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let ledger =
                    Ledger::create(dir.path().join("ledger"), Policy::builtin()).expect("created");
                ledger.set_clock(Clock::unbounded());
                (dir, ledger)
            },
            |(dir, ledger)| {
                let done = ledger.import(&commands, false);
                assert!(done.iter().all(|r| r.code() == "imported"));
                drop(ledger);
                drop(dir);
            },
        );
    });
    g.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
