//! `memberledger`: the example CLI over the memberledger library.
//!
//! Exit codes: 0 success; 1 a command was rejected, a member was not found, or `verify` found
//! a problem; 2 a usage or I/O error.

/// `writeln!` into a `String` (which cannot fail).
macro_rules! outln {
    ($o:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        writeln!($o, $($arg)*).expect("writing to a String cannot fail");
    }};
}

mod apply;
mod brands;
mod db;
mod demo;
mod expire;
mod export;
mod fail;
mod import;
mod init;
mod insight;
mod migrate;
mod notices;
mod output;
mod policy;
mod prepaid;
mod report;
mod restore;
mod serve;
mod serve_brands;
mod show;
mod statement;
mod tiers;
mod token;
mod verify;

pub(crate) use db::Db;
pub(crate) use fail::Fail;
pub(crate) use init::read_policy;
pub(crate) use output::{emit, emit_done};
pub(crate) use verify::{pinned, print_report};

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A ledger opens by folding every event into many small allocations on every core; mimalloc
/// serves those from per-thread heaps (the system allocator serialises the threads on its
/// arenas and takes minutes to free a million members). An embedding host chooses its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use memberledger::{Clock, Ledger};

#[derive(Parser)]
#[command(
    name = "memberledger",
    version,
    about = "An event-sourced ledger for stored-value membership cards"
)]
struct Cli {
    /// The ledger: a directory (sled on disk), or a PostgreSQL URL
    /// (`postgres://user@host/db`, with `?schema=NAME` for a ledger in another schema than
    /// `memberledger`) that many processes may write at once.
    #[arg(
        long,
        global = true,
        env = "MEMBERLEDGER_DB",
        default_value = "./memberledger-data"
    )]
    db: String,
    /// The time the ledger takes as now (RFC 3339), instead of the machine's clock: commands
    /// dated more than --max-skew-secs after it are refused as `future_time`. For re-running
    /// recorded history and for tests.
    #[arg(long, global = true, env = "MEMBERLEDGER_NOW")]
    now: Option<String>,
    /// How far ahead of the clock a command may be dated, in seconds.
    #[arg(
        long,
        global = true,
        env = "MEMBERLEDGER_MAX_SKEW_SECS",
        default_value_t = memberledger::DEFAULT_MAX_SKEW_SECS
    )]
    max_skew_secs: u32,
    /// The brands file: a JSON object naming each brand's ledger and tokens file (see the
    /// README's "Brands"). With --brand, commands work on that brand's ledger; `serve`
    /// without --brand hosts every brand, each under `/brands/{brand}`.
    #[arg(long, global = true, env = "MEMBERLEDGER_BRANDS", value_name = "FILE")]
    brands: Option<PathBuf>,
    /// The brand to work on, by its name in --brands: its ledger in place of --db, its tokens
    /// file in place of --tokens.
    #[arg(
        long,
        global = true,
        env = "MEMBERLEDGER_BRAND",
        value_name = "NAME",
        requires = "brands",
        conflicts_with = "db"
    )]
    brand: Option<String>,
    /// The most memory sled's page cache of a ledger on disk may hold, in MiB (sled's
    /// default: 1024). A smaller cache bounds the process's memory; the log is then read
    /// from disk more often.
    #[arg(long, global = true, env = "MEMBERLEDGER_CACHE_MB")]
    cache_mb: Option<u64>,
    #[command(subcommand)]
    command: Cmd,
}

impl Cli {
    /// The clock the ledger is given: the machine's, or the fixed `--now`.
    fn clock(&self) -> Result<Clock, Fail> {
        let clock = match report::parse_time(self.now.as_deref())? {
            Some(now) => Clock::fixed(now),
            None => Clock::system(),
        };
        Ok(clock.with_max_skew_secs(self.max_skew_secs))
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Creates a new ledger (with the built-in policy unless --policy is given).
    Init {
        /// A policy JSON file.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The store a ledger in a directory is created in: `sled` (the default) or `file`
        /// (the append-only file store). Later commands find the kind at the directory.
        #[arg(long, env = "MEMBERLEDGER_STORE", default_value = "sled", value_parser = ["sled", "file"])]
        store: String,
    },
    /// Runs a JSON Lines batch of commands (FILE, or - for standard input), one receipt per line.
    Apply {
        /// The JSON Lines file, or - for standard input.
        file: String,
        /// Prints what would be recorded (each receipt marked `"dry_run":true`, with the
        /// member after it) and records nothing. The input is quoted as one batch (at most
        /// 10,000 commands): later lines see earlier ones.
        #[arg(long)]
        dry_run: bool,
    },
    /// Shows members.
    Member {
        #[command(subcommand)]
        command: MemberCmd,
    },
    /// Verifies the chain, every event, and that the projections equal a replay from genesis.
    Verify {
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
        /// Verifies a `jsonl` export (FILE, or - for standard input) instead of a ledger: no
        /// database is opened or written.
        #[arg(long, value_name = "FILE")]
        export: Option<String>,
        /// With --export: the founding policy, when the export does not begin with one
        /// (the built-in policy by default).
        #[arg(long, value_name = "FILE", requires = "export")]
        policy: Option<PathBuf>,
        /// The chain head you pinned (from an earlier `verify` or `export`): a ledger or
        /// export that ends at another head (cut short, extended or rewritten) fails.
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
    /// Rebuilds a ledger at --db from a `jsonl` export, verifying every line and hash; refuses
    /// a tampered export at its first bad position, and a --db that holds a ledger.
    Restore(restore::RestoreArgs),
    /// Copies the embedded ledger in --from into PostgreSQL (--to), re-verifying the chain;
    /// ends with the same chain head and member views, and prints the head.
    Migrate(migrate::MigrateArgs),
    /// Writes the whole log to standard output.
    Export {
        /// The format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: export::Format,
    },
    /// Reports on the books (trial-balance, stores, settlement, liability) and what they tell
    /// a chain (churn, dormant, turnover, staff, services, members, campaigns).
    Report {
        /// Which report.
        #[arg(value_enum)]
        report: report::Report,
        /// As of a past time (RFC 3339), by replay.
        #[arg(long)]
        as_of: Option<String>,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        insight: insight::InsightArgs,
        #[command(flatten)]
        prepaid: prepaid::PrepaidArgs,
    },
    /// Closes the card business: records every member's refund at --at (a dry run unless
    /// --execute; safe to run again: the command ids are derived from member and time).
    CloseBusiness {
        /// The time of the refunds (RFC 3339).
        #[arg(long)]
        at: String,
        /// Records the refunds (without it, prints what would be recorded).
        #[arg(long)]
        execute: bool,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// A member's statement (对账单): every movement with running balances.
    Statement {
        /// The member id.
        member: String,
        /// Start of the period (RFC 3339, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// End of the period (RFC 3339, inclusive).
        #[arg(long)]
        to: Option<String>,
        /// Prints JSON.
        #[arg(long)]
        json: bool,
    },
    /// Records the expiries of every member due by a time (bonus and points past their expiry).
    Expire {
        /// The time (RFC 3339).
        #[arg(long)]
        as_of: String,
    },
    /// Tiers: the tier review (`tiers review --as-of`).
    Tiers {
        #[command(subcommand)]
        command: tiers::TiersCmd,
    },
    /// Imports a chain's members from another system (docs/IMPORT.md): one opening balance per
    /// member, idempotent per member; a report of rows imported, imported already and refused.
    Import {
        /// The file: `.csv` (one row per lot) or `.jsonl` (one member per line).
        file: String,
        /// The time the openings are recorded at (RFC 3339).
        #[arg(long)]
        as_of: String,
        /// Validates every row and reports, recording nothing.
        #[arg(long)]
        dry_run: bool,
        /// Prints the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bonus, points and packages about to lapse (the policy's `notices` days ahead), each with
    /// a stable id to deduplicate by; derived, never recorded.
    Notices {
        /// As of this time (RFC 3339); now by default.
        #[arg(long)]
        as_of: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The policy history: show the version in force, list versions, publish a new one.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCmd,
    },
    /// Builds a realistic chain on the embedded store and reports on it.
    Demo(demo::DemoArgs),
    /// Serves the ledger over HTTP (see the README's "HTTP" section) until SIGTERM or ctrl-c.
    Serve(serve::ServeArgs),
    /// Bearer tokens for `serve`.
    Token {
        #[command(subcommand)]
        command: token::TokenCmd,
    },
}

#[derive(Subcommand)]
enum MemberCmd {
    /// Shows one member's balances, tier and lots.
    Show {
        /// The member id.
        id: String,
        /// Prints the member view as JSON.
        #[arg(long)]
        json: bool,
        /// Shows the member as of a past time (RFC 3339).
        #[arg(long)]
        as_of: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if !f.message.is_empty() {
                // Not `eprintln!`: a standard error that cannot be written (`2>/dev/full`)
                // must not turn the failure into a panic; the exit code still says it.
                let _ = writeln!(std::io::stderr(), "memberledger: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn run(cli: Cli) -> Result<u8, Fail> {
    let clock = cli.clock()?;
    let (db, cli) = match brand_of(&cli)? {
        Some(brand) => (brand.db.clone(), with_brand(cli, &brand)?),
        None => (Db::parse(&cli.db), cli),
    };
    if let Some(mb) = cli.cache_mb {
        db::set_cache_bytes(mb.saturating_mul(1 << 20));
    }
    let open = |db: &Db| open(db, &clock);
    match cli.command {
        Cmd::Init { policy, store } => init::run(&db, policy.as_deref(), &store),
        Cmd::Apply { file, dry_run } => apply::run(&open(&db)?, &file, dry_run),
        Cmd::Member {
            command: MemberCmd::Show { id, json, as_of },
        } => show::member(&open(&db)?, &id, json, as_of.as_deref()),
        Cmd::Verify {
            json,
            export: None,
            head,
            ..
        } => verify::run(&db, json, head.as_deref()),
        Cmd::Verify {
            json,
            export: Some(file),
            policy,
            head,
        } => restore::verify_export(&file, policy.as_deref(), json, head.as_deref()),
        Cmd::Restore(args) => restore::run(&db, &args),
        Cmd::Export { format } => export::run(&open(&db)?, format),
        Cmd::Report {
            report,
            as_of,
            json,
            insight,
            prepaid,
        } => match report.insight() {
            Some(which) => insight::run(&open(&db)?, which, as_of.as_deref(), json, &insight),
            None if matches!(report, report::Report::Prepaid) => prepaid::report(
                &open(&db)?,
                &prepaid,
                (json, insight.csv, insight.utc_offset),
            ),
            None if matches!(report, report::Report::Refundable) => {
                prepaid::report_refundable(&open(&db)?, &prepaid, json)
            }
            None => report::run(&open(&db)?, report, as_of.as_deref(), json),
        },
        Cmd::Statement {
            member,
            from,
            to,
            json,
        } => statement::run(&open(&db)?, &member, from.as_deref(), to.as_deref(), json),
        Cmd::Expire { as_of } => expire::run(&open(&db)?, &as_of),
        Cmd::Tiers { command } => tiers::run(&open(&db)?, command),
        Cmd::CloseBusiness { at, execute, json } => prepaid::close(&open(&db)?, &at, execute, json),
        Cmd::Import {
            file,
            as_of,
            dry_run,
            json,
        } => import::run(&open(&db)?, &file, &as_of, dry_run, json),
        Cmd::Notices { as_of, json } => notices::run(&open(&db)?, as_of.as_deref(), json),
        Cmd::Policy { command } => policy::run(&open(&db)?, command),
        Cmd::Demo(args) => demo::run(&args),
        Cmd::Migrate(args) => migrate::run(&args),
        Cmd::Serve(args) => match (&cli.brands, &cli.brand) {
            (Some(file), None) => serve_brands::run(file, &clock, &args),
            _ => serve::run(&db, clock.clone(), &args),
        },
        Cmd::Token { command } => token::run(&command),
    }
}

/// The brand of `--brand`, from `--brands`; a command other than `serve` refused when a brands
/// file is given without a brand (which ledger would it mean?).
fn brand_of(cli: &Cli) -> Result<Option<brands::Brand>, Fail> {
    match (&cli.brands, &cli.brand) {
        (Some(file), Some(name)) => brands::find(file, name).map(Some),
        (Some(file), None) if !matches!(cli.command, Cmd::Serve(_) | Cmd::Demo(_) | Cmd::Migrate(_)) => {
            Err(Fail::usage(format!(
                "brand_required: {} names a ledger per brand: choose one with --brand NAME (only `serve` hosts them all)",
                file.display()
            )))
        }
        _ => Ok(None),
    }
}

/// The command line with the brand's tokens file (and webhook) in place of the flags'.
fn with_brand(mut cli: Cli, brand: &brands::Brand) -> Result<Cli, Fail> {
    cli.command = match cli.command {
        Cmd::Serve(args) => Cmd::Serve(serve_brands::for_brand(args, brand)?),
        Cmd::Token {
            command: token::TokenCmd::Add { role, tokens },
        } => Cmd::Token {
            command: token::TokenCmd::Add {
                role,
                tokens: serve_brands::brand_tokens(&tokens, brand)?,
            },
        },
        other => other,
    };
    Ok(cli)
}

fn open(db: &Db, clock: &Clock) -> Result<Ledger, Fail> {
    let ledger = db.open_existing()?;
    ledger.set_clock(clock.clone());
    Ok(ledger)
}
