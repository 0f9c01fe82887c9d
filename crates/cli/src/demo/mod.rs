//! `memberledger demo`: a realistic year of a chain, on the embedded store (sled, or the file
//! store with `--store file`).
//!
//! Deterministic for a seed: the same seed gives the same commands and so a byte-identical log.
//! The commands come from the test kit's year generator (`memberledger_testkit::year`); this
//! module records them in durable groups, adds what head office does (the mid-year policy
//! publication, the month-end settlements, the year-end expiry sweep) and prints the summary.

mod summary;
mod tally;

use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use memberledger::{Ledger, StoreKind};
use memberledger_testkit::year::{HeadOffice, Shape, Year};

use summary::{summary, Extra};
use tally::Tally;

use crate::Fail;

/// Options of the demo.
#[derive(clap::Args)]
pub(crate) struct DemoArgs {
    /// Seed of the generator: the same seed gives the same ledger.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Stores in the chain.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(2..=999))]
    stores: u32,
    /// Members who join over the year.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    members: u32,
    /// Commands generated over the year, enrollments included. The month-end settlements
    /// between stores, the mid-year policy publication and the year-end expiry sweep come on
    /// top.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    commands: u64,
    /// Where to build the ledger (must not hold one); a new temporary directory by default.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The store the ledger is built in: `sled` (the default) or `file` (the append-only
    /// file store). The log's bytes, and so its chain head, are the same in either.
    #[arg(long, env = "MEMBERLEDGER_STORE", default_value = "sled", value_parser = ["sled", "file"])]
    store: String,
}

pub(crate) fn run(args: &DemoArgs) -> Result<u8, Fail> {
    let dir = args.out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "memberledger-demo-{}-{}",
            args.seed,
            std::process::id()
        ))
    });
    let kind = StoreKind::parse(&args.store)
        .ok_or_else(|| Fail::usage(format!("unknown store {:?} (sled or file)", args.store)))?;
    if dir.join("db").exists() || StoreKind::at(&dir) == StoreKind::File {
        return Err(Fail::usage(format!(
            "{} already holds a ledger; choose another --out",
            dir.display()
        )));
    }
    let options = crate::db::options().with_store_kind(kind);
    let ledger = Ledger::create_with(&dir, memberledger_testkit::year::year_policy(), &options)?;
    let shape = Shape {
        stores: args.stores,
        members: args.members,
        commands: args.commands,
        ..Shape::default()
    };
    let mut year = Year::new(args.seed, shape);
    // The demo runs a simulated year: its clock is the simulation's, which reads the year's
    // end (where the closing sweep is dated), so no simulated command is ahead of it.
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    crate::emit(&format!(
        "memberledger demo · seed {} · {} stores · {} members · {} commands over 2025 (settlements, a policy publication, the expiry sweep and the tier review on top)\nledger: {} ({}, on disk)\n",
        args.seed,
        args.stores,
        args.members,
        args.commands,
        dir.display(),
        args.store
    ))?;
    let started = Instant::now();
    let mut t = Tally::default();
    let done = record(&ledger, &mut year, &mut t, args.commands)?;
    let expired_before = t.bonus_expired;
    let sweeps = year.close(&ledger, |r| t.count(r));
    let review = year.review(&ledger, |r| t.count(r));
    let extra = Extra {
        settlements: done.settlements,
        publications: done.publications,
        sweeps,
        reviewed: review.reviewed,
        lowered: review.tiers.values().map(|c| c.lowered).sum(),
    };
    let elapsed = started.elapsed();
    let mut o = summary(&ledger, &t, elapsed.as_secs_f64());
    o.push_str(&extra.describe(
        &t,
        args.commands,
        done.published,
        year.end(),
        expired_before,
    ));
    let ok = verify(&ledger, &mut o)?;
    o.push_str(&crate::insight::demo_digest(&ledger, year.end())?);
    o.push_str(&format!(
        "\nTry it:\n  memberledger --db {0} member show {1}\n  memberledger --db {0} verify\n  memberledger --db {0} export --format jsonl | head\n  memberledger --db {0} report churn --now {2}\n",
        dir.display(),
        Year::member_id(0),
        year.end()
    ));
    crate::emit(&o)?;
    Ok(u8::from(!ok))
}

/// Records the year with a progress bar, counting every result.
fn record(
    ledger: &Ledger,
    year: &mut Year,
    t: &mut Tally,
    commands: u64,
) -> Result<HeadOffice, Fail> {
    let bar = ProgressBar::new(commands);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} commands ({per_sec}, eta {eta})",
        )
        .expect("template"),
    );
    let done = year.record(ledger, |r| t.count(r), |i| bar.set_position(i))?;
    bar.finish_and_clear();
    Ok(done)
}

/// Verifies the ledger and says so; false when verify found a problem.
fn verify(ledger: &Ledger, o: &mut String) -> Result<bool, Fail> {
    let verify_started = Instant::now();
    let report = ledger.verify()?;
    let verify_elapsed = verify_started.elapsed();
    match &report.problem {
        None => o.push_str(&format!(
            "\nverify: ok in {:.2} s — {} events, chain intact, replay from genesis equals the projections\n  chain head {}\n",
            verify_elapsed.as_secs_f64(),
            report.events,
            report.head
        )),
        Some(p) => o.push_str(&format!("\nverify: FAILED at position {}: {}\n", p.position, p.what)),
    }
    Ok(report.ok())
}
