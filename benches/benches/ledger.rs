//! Criterion benchmarks. `cargo bench -p memberledger-benches`.
#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

/// The allocator the CLI and the comparison harness use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use memberledger::domain::MemberState;
use memberledger::{Ledger, LedgerOptions, Policy, StoreKind};
use memberledger_benches::workload;
use memberledger_core::{
    canonical_json, chain_hash, decide as decide_command, Context, Event, GENESIS_HASH,
};

/// Events of a workload, decided on an in-memory ledger.
fn events(n: u64) -> Vec<Event> {
    let ledger = Ledger::in_memory();
    for chunk in workload(n, n / 20 + 1, 20, 1).chunks(1000) {
        ledger.execute_batch(chunk);
    }
    ledger.events(1, 4096).map(|e| e.unwrap().event).collect()
}

fn fold(c: &mut Criterion) {
    let events = events(20_000);
    let mut g = c.benchmark_group("fold");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("events_into_member_states", |b| {
        b.iter(|| {
            // Keyed and boxed like the ledger's projections (aHash).
            let mut members: std::collections::HashMap<&str, Box<MemberState>, ahash::RandomState> =
                std::collections::HashMap::default();
            for e in &events {
                let current = members.get_mut(e.member.as_str()).map(|s| &mut **s);
                if let Some(s) = MemberState::fold_next(current, e).unwrap() {
                    // As a ledger caches members: without consumption records.
                    members.insert(e.member.as_str(), Box::new(s.without_consumption_records()));
                }
            }
            members.len()
        });
    });
    g.finish();
}

fn decide(c: &mut Criterion) {
    let policy = Policy::builtin();
    let commands = workload(5_000, 100, 20, 2);
    let mut g = c.benchmark_group("decide");
    g.throughput(Throughput::Elements(commands.len() as u64));
    g.bench_function("commands_against_states", |b| {
        b.iter(|| {
            let mut states: std::collections::HashMap<String, MemberState> =
                std::collections::HashMap::new();
            let mut accepted = 0;
            for cmd in &commands {
                let state = states.get(cmd.member.as_str());
                if let Ok((_, next)) =
                    decide_command(&Context::founding(&policy).with_member(state), cmd)
                        .map(|d| (d.events, d.member.expect("a member's command")))
                {
                    states.insert(cmd.member.to_string(), next.without_consumption_records());
                    accepted += 1;
                }
            }
            accepted
        });
    });
    g.finish();
}

fn encode_and_hash(c: &mut Criterion) {
    let events = events(20_000);
    let mut g = c.benchmark_group("encode_and_hash");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.bench_function("canonical_json_and_chain", |b| {
        b.iter(|| {
            let mut prev = GENESIS_HASH;
            for (i, e) in events.iter().enumerate() {
                let json = canonical_json(i as u64 + 1, e);
                prev = chain_hash(&prev, json.as_bytes());
            }
            prev
        });
    });
    g.bench_function("decode", |b| {
        let encoded: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(i, e)| canonical_json(i as u64 + 1, e))
            .collect();
        b.iter(|| {
            encoded
                .iter()
                .map(|j| memberledger_core::decode_event(j.as_bytes()).unwrap().0)
                .sum::<u64>()
        });
    });
    g.finish();
}

fn replay_and_verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let n = {
        let ledger = Ledger::open(&path).unwrap();
        for chunk in workload(20_000, 1_000, 20, 3).chunks(1000) {
            ledger.execute_batch(chunk);
        }
        ledger.head().unwrap().position
    };
    let mut g = c.benchmark_group("replay_and_verify");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.bench_function("open_sled_and_replay", |b| {
        b.iter(|| Ledger::open_existing(&path).unwrap().member_ids().len());
    });
    let ledger = Ledger::open_existing(&path).unwrap();
    g.bench_function("verify", |b| {
        b.iter(|| assert!(ledger.verify().unwrap().ok()))
    });
    g.finish();
}

fn durable_execution(c: &mut Criterion) {
    let mut g = c.benchmark_group("durable_execution");
    g.sample_size(10);
    let commands = workload(200_000, 2_000, 20, 4);
    g.throughput(Throughput::Elements(1));
    g.bench_function("single_command_sled", |b| {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(dir.path().join("l")).unwrap();
        ledger.execute_batch(&commands[..2_000]); // enrollments
        let mut i = 2_000;
        b.iter(|| {
            let r = ledger.execute(&commands[i]);
            i += 1;
            r.is_ok()
        });
    });
    g.throughput(Throughput::Elements(1000));
    for (name, kind) in [
        ("batch_of_1000_sled", StoreKind::Sled),
        ("batch_of_1000_file", StoreKind::File),
    ] {
        let options = LedgerOptions::default().with_store_kind(kind);
        g.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().unwrap();
                    let ledger = Ledger::open_with(dir.path().join("l"), &options).unwrap();
                    ledger.execute_batch(&commands[..2_000]);
                    (dir, ledger)
                },
                |(_dir, ledger)| ledger.execute_batch(&commands[2_000..3_000]).len(),
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    fold,
    decide,
    encode_and_hash,
    replay_and_verify,
    durable_execution
);
criterion_main!(benches);
