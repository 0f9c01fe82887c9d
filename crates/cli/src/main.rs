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
mod demo;
mod policy;
mod report;
mod restore;
mod serve;
mod show;
mod token;

use memberledger::domain::events::{BonusExpired, PackageExpired, PointsExpired};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// A ledger opens by folding every event into many small allocations on every core; mimalloc
/// serves those from per-thread heaps (the system allocator serialises the threads on its
/// arenas and takes minutes to free a million members). An embedding host chooses its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use memberledger::{Clock, Ledger, Policy};

#[derive(Parser)]
#[command(
    name = "memberledger",
    version,
    about = "An event-sourced ledger for stored-value membership cards"
)]
struct Cli {
    /// The ledger directory.
    #[arg(
        long,
        global = true,
        env = "MEMBERLEDGER_DB",
        default_value = "./memberledger-data"
    )]
    db: PathBuf,
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
    },
    /// Runs a JSON Lines batch of commands (FILE, or - for standard input), one receipt per line.
    Apply {
        /// The JSON Lines file, or - for standard input.
        file: String,
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
    /// Writes the whole log to standard output.
    Export {
        /// The format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: Format,
    },
    /// Reports on the books: trial-balance, stores, settlement, liability.
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

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// One event per line: canonical JSON plus its hash (see docs/AUDIT.md).
    Jsonl,
    /// An hledger / ledger-cli journal closed by balance assertions.
    Hledger,
    /// A beancount file closed by balance directives.
    Beancount,
    /// One row per posting.
    Csv,
}

/// A failure the CLI reports: the message and the exit code.
pub(crate) struct Fail {
    code: u8,
    message: String,
}

impl Fail {
    pub(crate) fn usage(message: impl Into<String>) -> Fail {
        Fail {
            code: 2,
            message: message.into(),
        }
    }
    pub(crate) fn rejected(message: impl Into<String>) -> Fail {
        Fail {
            code: 1,
            message: message.into(),
        }
    }
}

impl From<memberledger::Error> for Fail {
    fn from(e: memberledger::Error) -> Fail {
        match e {
            memberledger::Error::Rejected(r) => Fail::rejected(format!("{}: {r}", r.code())),
            other => Fail::usage(format!("{}: {other}", other.code())),
        }
    }
}

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`| head`): stop quietly, as Unix tools do.
            return Fail {
                code: 0,
                message: String::new(),
            };
        }
        Fail::usage(format!("I/O error: {e}"))
    }
}

/// Writes text to standard output; a closed pipe ends the program quietly (for what only
/// reads the ledger), any other failure is exit 2 with the reason.
pub(crate) fn emit(text: &str) -> Result<u8, Fail> {
    write_stdout(text)?;
    Ok(0)
}

/// Writes text to standard output after a change to the ledger (`done`): whatever the
/// failure, a closed pipe included, it is exit 2 with a message that says what was done.
pub(crate) fn emit_done(text: &str, done: &str) -> Result<u8, Fail> {
    write_stdout(text)
        .map_err(|e| Fail::usage(format!("{done}, but cannot write to standard output: {e}")))?;
    Ok(0)
}

fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
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
    let open = |db: &Path| open(db, &clock);
    match cli.command {
        Cmd::Init { policy } => init(&cli.db, policy.as_deref()),
        Cmd::Apply { file } => apply::run(&open(&cli.db)?, &file),
        Cmd::Member {
            command: MemberCmd::Show { id, json, as_of },
        } => show::member(&open(&cli.db)?, &id, json, as_of.as_deref()),
        Cmd::Verify {
            json,
            export: None,
            head,
            ..
        } => verify(&cli.db, json, head.as_deref()),
        Cmd::Verify {
            json,
            export: Some(file),
            policy,
            head,
        } => restore::verify_export(&file, policy.as_deref(), json, head.as_deref()),
        Cmd::Restore(args) => restore::run(&cli.db, &args),
        Cmd::Export { format } => export(&open(&cli.db)?, format),
        Cmd::Report {
            report,
            as_of,
            json,
        } => report::run(&open(&cli.db)?, report, as_of.as_deref(), json),
        Cmd::Statement {
            member,
            from,
            to,
            json,
        } => report::member_statement(
            &open(&cli.db)?,
            &member,
            from.as_deref(),
            to.as_deref(),
            json,
        ),
        Cmd::Expire { as_of } => expire(&open(&cli.db)?, &as_of),
        Cmd::Policy { command } => policy::run(&open(&cli.db)?, command),
        Cmd::Demo(args) => demo::run(&args),
        Cmd::Serve(args) => serve::run(Ledger::open_existing(&cli.db)?, clock.clone(), &args),
        Cmd::Token { command } => token::run(&command),
    }
}

fn open(db: &Path, clock: &Clock) -> Result<Ledger, Fail> {
    let ledger = Ledger::open_existing(db)?;
    ledger.set_clock(clock.clone());
    Ok(ledger)
}

/// The policy in a file, or the built-in one.
pub(crate) fn read_policy(policy: Option<&Path>) -> Result<Policy, Fail> {
    match policy {
        None => Ok(Policy::builtin()),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Fail::usage(format!("cannot read {}: {e}", p.display())))?;
            Policy::from_json(&text).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))
        }
    }
}

fn init(db: &Path, policy: Option<&Path>) -> Result<u8, Fail> {
    Ledger::create(db, read_policy(policy)?)?;
    let done = format!("created a ledger at {}", db.display());
    emit_done(&format!("{done}\n"), &done)
}

/// What `verify` says of a ledger written before founding records existed (not a failure:
/// its next writable open records the founding policy in the chain).
const OLD_LEDGER_NOTE: &str = "founding policy not in the chain (old ledger): version 1 is only in the ledger's settings; the next command that opens it to write (anything but verify) records it";

/// The report, failed when its chain ends at another head than the one pinned.
pub(crate) fn pinned(
    mut report: memberledger::VerifyReport,
    head: Option<&str>,
) -> memberledger::VerifyReport {
    if let Some(pin) = head.filter(|pin| report.ok() && !report.head.eq_ignore_ascii_case(pin)) {
        report.problem = Some(memberledger::Problem::new(
            report.events,
            format!(
                "the chain ends at position {} with head {}, not at the pinned head {pin}: \
                 it was cut short, extended or rewritten",
                report.events, report.head
            ),
        ));
    }
    report
}

fn verify(db: &Path, json: bool, head: Option<&str>) -> Result<u8, Fail> {
    // Opening replays the whole log with every check `verify` makes, once; a damaged log
    // fails there, and that is a verify failure with its position, not an I/O error.
    let (report, old_ledger) = match Ledger::open_verified(db) {
        Ok((ledger, report)) => (report, !ledger.founding_policy_in_chain()),
        Err(memberledger::Error::Corrupt { position, why }) => {
            (memberledger::VerifyReport::failed(position, why), false)
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&pinned(report, head), json, old_ledger)
}

/// Prints a verify report (as JSON, or as text, noting a ledger whose founding policy is not
/// in the chain); exit 1 when it names a problem.
pub(crate) fn print_report(
    report: &memberledger::VerifyReport,
    json: bool,
    old_ledger: bool,
) -> Result<u8, Fail> {
    let mut o = String::new();
    if json {
        outln!(
            o,
            "{}",
            serde_json::to_string(report).expect("report serialises")
        );
    } else if let Some(p) = &report.problem {
        outln!(o, "verify: FAILED at position {}: {}", p.position, p.what);
    } else {
        outln!(
            o,
            "verify: ok — {} events, {} members, chain head {}\n  held: principal {} · bonus {} · points {}",
            report.events, report.members, report.head, report.principal, report.bonus, report.points
        );
        if old_ledger {
            outln!(o, "  {OLD_LEDGER_NOTE}");
        }
    }
    emit(&o)?;
    Ok(u8::from(!report.ok()))
}

fn expire(ledger: &Ledger, as_of: &str) -> Result<u8, Fail> {
    let at = report::parse_time(Some(as_of))?.expect("given");
    let results = ledger.expire_due(at);
    let (mut members, mut bonus, mut points) = (0u64, memberledger::Money::ZERO, 0u64);
    let mut packages = memberledger::Money::ZERO;
    for r in &results {
        let receipt = r.as_ref().map_err(|e| Fail::from(e.clone()))?;
        members += 1;
        for e in &receipt.events {
            match &e.event.body {
                memberledger::domain::EventBody::BonusExpired(BonusExpired { amount, .. }) => {
                    bonus = bonus.plus(*amount)
                }
                memberledger::domain::EventBody::PointsExpired(PointsExpired {
                    points: p, ..
                }) => points += p,
                memberledger::domain::EventBody::PackageExpired(PackageExpired {
                    amount, ..
                }) => {
                    packages = packages.plus(*amount);
                }
                _ => {}
            }
        }
    }
    let done =
        format!("expired as of {at}: {members} members, bonus {bonus}, {points} points, packages {packages}");
    emit_done(&format!("{done}\n"), &done)
}

fn export(ledger: &Ledger, format: Format) -> Result<u8, Fail> {
    use memberledger_audit::Format as F;
    let format = match format {
        Format::Jsonl => F::Jsonl,
        Format::Hledger => F::Hledger,
        Format::Beancount => F::Beancount,
        Format::Csv => F::Csv,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match memberledger_audit::export(ledger, format, &mut out) {
        Ok(_) => {}
        Err(memberledger_audit::ExportError::Io(e)) => return Err(e.into()),
        Err(memberledger_audit::ExportError::Ledger(e)) => return Err(e.into()),
        Err(e) => return Err(Fail::usage(e.to_string())),
    }
    out.flush()?;
    Ok(0)
}
