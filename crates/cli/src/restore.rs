//! The way back from an export: `memberledger restore` rebuilds a ledger from a `jsonl`
//! export, and `memberledger verify --export` checks an export with no database at all.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use memberledger::store::{MemoryStore, PgStore};
use memberledger::{Error, Ledger, VerifyReport};

use crate::{Db, Fail};

/// Options of `restore`.
#[derive(clap::Args)]
pub(crate) struct RestoreArgs {
    /// The `jsonl` export (`memberledger export --format jsonl`), or - for standard input.
    #[arg(long, value_name = "FILE")]
    from: String,
    /// The founding policy, when the export does not begin with one (the built-in policy by
    /// default).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The chain head you pinned: an export that ends at another head (cut short, extended or
    /// rewritten) is refused, and nothing is restored.
    #[arg(long, value_name = "HASH")]
    head: Option<String>,
    /// The store a ledger in a directory is rebuilt in: `sled` (the default) or `file` (the
    /// append-only file store).
    #[arg(long, env = "MEMBERLEDGER_STORE", default_value = "sled", value_parser = ["sled", "file"])]
    store: String,
}

/// Opens an export file, or standard input for `-`.
fn open_export(file: &str) -> Result<Box<dyn BufRead>, Fail> {
    let input: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| Fail::usage(format!("cannot read {file}: {e}")))?,
        )
    };
    Ok(Box::new(BufReader::with_capacity(1 << 16, input)))
}

/// `memberledger restore --from FILE`: the ledger at `db` rebuilt from the export. A tampered
/// export is exit 1 naming its first bad position and line, and leaves nothing at `db`.
pub(crate) fn run(db: &Db, args: &RestoreArgs) -> Result<u8, Fail> {
    let policy = args
        .policy
        .as_deref()
        .map(|p| crate::read_policy(Some(p)))
        .transpose()?;
    let (report, dir) = match db {
        Db::Dir(dir) => (restore_dir(dir, policy, args)?, Some(dir)),
        Db::Postgres { url, schema } => (
            restore_postgres(url, schema.as_deref(), policy, args)?,
            None,
        ),
    };
    let report = crate::pinned(report, args.head.as_deref());
    if let Some(p) = &report.problem {
        // The directory was new or empty: leave it so.
        if let Some(dir) = dir {
            remove_contents(dir);
        }
        return Err(Fail::rejected(format!(
            "restore refused: {}; nothing was restored",
            p.what
        )));
    }
    let done = format!(
        "restored {} events, {} members into {}; verify: ok, chain head {}",
        report.events,
        report.members,
        db.describe(),
        report.head
    );
    crate::emit_done(&format!("{done}\n"), &done)
}

/// A refused restore: the export is damaged.
fn damaged(position: u64, why: &str) -> Fail {
    Fail::rejected(format!(
        "restore refused: the export is damaged at position {position}: {why}; nothing was restored"
    ))
}

/// Restores into a new or empty directory; the report of its verification.
fn restore_dir(
    dir: &Path,
    policy: Option<memberledger::Policy>,
    args: &RestoreArgs,
) -> Result<VerifyReport, Fail> {
    let kind = memberledger::StoreKind::parse(&args.store)
        .ok_or_else(|| Fail::usage(format!("unknown store {:?} (sled or file)", args.store)))?;
    let export = open_export(&args.from)?;
    match Ledger::restore_with(
        dir,
        policy,
        export,
        &crate::db::options().with_store_kind(kind),
    ) {
        Ok((_, report)) => Ok(report),
        Err(Error::Corrupt { position, why }) => Err(damaged(position, &why)),
        Err(e) => Err(e.into()),
    }
}

/// Restores into a new PostgreSQL schema. The export is first verified in memory (with the
/// pinned head), so a damaged or unpinned export writes nothing to the database; it is read
/// twice, so it must be a file.
fn restore_postgres(
    url: &str,
    schema: Option<&str>,
    policy: Option<memberledger::Policy>,
    args: &RestoreArgs,
) -> Result<VerifyReport, Fail> {
    if args.from == "-" {
        return Err(Fail::usage(
            "a restore into PostgreSQL reads the export twice (verified before anything is \
             written): give a file, not standard input",
        ));
    }
    let checked = match Ledger::restore_into(
        Box::new(MemoryStore::new()),
        policy.clone(),
        open_export(&args.from)?,
    ) {
        Ok((_, report)) => crate::pinned(report, args.head.as_deref()),
        Err(Error::Corrupt { position, why }) => return Err(damaged(position, &why)),
        Err(e) => return Err(e.into()),
    };
    if !checked.ok() {
        return Ok(checked);
    }
    let store =
        PgStore::create(url, schema.unwrap_or(PgStore::DEFAULT_SCHEMA)).map_err(Error::from)?;
    let (_, report) = Ledger::restore_into(Box::new(store), policy, open_export(&args.from)?)?;
    Ok(report)
}

/// `memberledger verify --export FILE`: the export restored into memory, with every check of
/// `verify`, and the same report (exit 1 naming the first bad position).
pub(crate) fn verify_export(
    file: &str,
    policy: Option<&Path>,
    json: bool,
    head: Option<&str>,
) -> Result<u8, Fail> {
    let policy = policy.map(|p| crate::read_policy(Some(p))).transpose()?;
    let export = open_export(file)?;
    let (report, old_ledger) =
        match Ledger::restore_into(Box::new(MemoryStore::new()), policy, export) {
            Ok((ledger, report)) => (report, !ledger.founding_policy_in_chain()),
            Err(Error::Corrupt { position, why }) => (VerifyReport::failed(position, why), false),
            Err(e) => return Err(e.into()),
        };
    crate::print_report(&crate::pinned(report, head), json, old_ledger)
}

/// Empties the directory a refused restore wrote (it was new or empty before).
fn remove_contents(db: &Path) {
    if let Ok(entries) = std::fs::read_dir(db) {
        for entry in entries.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}
