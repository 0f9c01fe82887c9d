//! The way back from an export: `memberledger restore` rebuilds a ledger from a `jsonl`
//! export, and `memberledger verify --export` checks an export with no database at all.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use memberledger::store::MemoryStore;
use memberledger::{Error, Ledger, VerifyReport};

use crate::Fail;

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
pub(crate) fn run(db: &Path, args: &RestoreArgs) -> Result<u8, Fail> {
    let policy = args
        .policy
        .as_deref()
        .map(|p| crate::read_policy(Some(p)))
        .transpose()?;
    let export = open_export(&args.from)?;
    let (ledger, report) = match Ledger::restore(db, policy, export) {
        Ok(restored) => restored,
        Err(Error::Corrupt { position, why }) => {
            return Err(Fail::rejected(format!(
                "restore refused: the export is damaged at position {position}: {why}; nothing was restored"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    drop(ledger);
    let report = crate::pinned(report, args.head.as_deref());
    if let Some(p) = &report.problem {
        // The directory was new or empty: leave it so.
        remove_contents(db);
        return Err(Fail::rejected(format!(
            "restore refused: {}; nothing was restored",
            p.what
        )));
    }
    let done = format!(
        "restored {} events, {} members into {}; verify: ok, chain head {}",
        report.events,
        report.members,
        db.display(),
        report.head
    );
    crate::emit_done(&format!("{done}\n"), &done)
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
