//! `memberledger migrate --from DIR --to postgres://…`: an embedded ledger copied into
//! PostgreSQL.
//!
//! The source is opened read-only and verified ([`Ledger::open_verified`]); its `jsonl` export
//! streams into a staging schema (`<schema>__migrating`, [`Staging`]) through the restore
//! path, which checks every line and hash again as it records them. The copy must end with
//! the same chain head and the same member views as the source, or the command fails; only
//! then is the staging schema renamed to the target, in one transaction. A copy killed or
//! failed part-way so never leaves a target that looks like a (shorter) ledger: a failed one
//! drops its staging schema, a killed one's is dropped by the next run, which copies again
//! from the start. A target that holds a ledger is refused (`already_exists`), saying whether
//! it is the source's (same chain head) or another. Like every restore, the copy does not carry the
//! digests of the commands' contents: a command sent again with an id recorded before the
//! migration is answered `idempotency_conflict`, and never recorded twice.

use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use memberledger::store::{EventStore as _, PgStore, Staging, StoreError};
use memberledger::{Error, Ledger};

use crate::{Db, Fail};

/// How many chunks of the export may wait between the reader and the writer.
const CHUNKS_IN_FLIGHT: usize = 16;

/// Options of `migrate`.
#[derive(clap::Args)]
pub(crate) struct MigrateArgs {
    /// The embedded ledger's directory.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The PostgreSQL URL (`postgres://…`, with `?schema=NAME` for another schema than
    /// `memberledger`); the schema must hold no ledger.
    #[arg(long, value_name = "URL")]
    to: String,
}

/// Copies the ledger and prints the head both end at.
pub(crate) fn run(args: &MigrateArgs) -> Result<u8, Fail> {
    let Db::Postgres { url, schema } = Db::parse(&args.to) else {
        return Err(Fail::usage(format!(
            "--to takes a PostgreSQL URL (postgres://…), not {}",
            args.to
        )));
    };
    let target = schema.as_deref().unwrap_or(PgStore::DEFAULT_SCHEMA);
    let (source, checked) = Ledger::open_verified(&args.from)?;
    if let Some(p) = &checked.problem {
        return Err(Fail::rejected(format!(
            "migrate refused: the ledger in {} fails verify at position {}: {}; nothing was copied",
            args.from.display(),
            p.position,
            p.what
        )));
    }
    let (staging, store) =
        Staging::begin(&url, target).map_err(|e| refusal(e, &url, target, &checked))?;
    let report = match copy(&source, store, &checked) {
        Ok(report) => report,
        Err(e) => {
            // Nothing of a failed copy is left behind (a killed one's is dropped by the next).
            let _ = staging.abandon();
            return Err(e);
        }
    };
    staging
        .finish()
        .map_err(|e| refusal(e, &url, target, &checked))?;
    let done = format!(
        "migrated {} events, {} members into {}; verify: ok, chain head {}",
        report.events,
        report.members,
        Db::parse(&args.to).describe(),
        report.head
    );
    crate::emit_done(&format!("{done}\n"), &done)
}

/// Copies the source into the staging store through the restore path, and checks the copy
/// against the source; the copy's ledger is closed before this returns (the staging schema is
/// then renamed).
fn copy(
    source: &Ledger,
    store: PgStore,
    checked: &memberledger::VerifyReport,
) -> Result<memberledger::VerifyReport, Fail> {
    let (copy, report) = std::thread::scope(|s| {
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        let writer = s.spawn(|| export(source, tx));
        let restored = Ledger::restore_into(
            Box::new(store),
            None,
            BufReader::with_capacity(1 << 16, Chunks::new(rx)),
        );
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(Fail::usage("the export of the source ledger failed")));
        written.and(restored.map_err(Fail::from))
    })?;
    same_ledger(source, &copy, checked, &report)?;
    Ok(report)
}

/// The error of a copy that could not start or end: a target that holds a ledger is named
/// with its head, and whether it is the source's.
fn refusal(e: StoreError, url: &str, target: &str, checked: &memberledger::VerifyReport) -> Fail {
    if !matches!(e, StoreError::AlreadyExists { .. }) {
        return Error::from(e).into();
    }
    let held = PgStore::open_existing(url, target).and_then(|s| s.head());
    let what = match held {
        Ok(h) if hex(&h.hash) == checked.head && h.position == checked.events => format!(
            "it already holds this ledger, at the same chain head {} (position {}): nothing to do",
            checked.head, checked.events
        ),
        Ok(h) => format!(
            "it holds another ledger (position {}, chain head {}; the source is at position \
             {}, chain head {}): nothing was copied",
            h.position,
            hex(&h.hash),
            checked.events,
            checked.head
        ),
        Err(_) => "it holds a ledger: nothing was copied".to_owned(),
    };
    Fail::usage(format!(
        "already_exists: migrate refused: schema {target} is not empty: {what}"
    ))
}

/// A hash in lowercase hex, as `verify` prints it.
fn hex(h: &[u8; 32]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the source's `jsonl` export into the channel.
fn export(source: &Ledger, tx: SyncSender<Vec<u8>>) -> Result<(), Fail> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, ChunkWriter(tx));
    memberledger_audit::export(source, memberledger_audit::Format::Jsonl, &mut out)
        .map_err(|e| Fail::usage(format!("cannot export the source ledger: {e}")))?;
    out.flush()?;
    Ok(())
}

/// Fails unless the copy ends at the source's head with the same member views.
fn same_ledger(
    source: &Ledger,
    copy: &Ledger,
    checked: &memberledger::VerifyReport,
    report: &memberledger::VerifyReport,
) -> Result<(), Fail> {
    if checked.head != report.head || checked.events != report.events {
        return Err(Fail::rejected(format!(
            "migrate: the copy ends at position {} head {}, the source at {} head {}",
            report.events, report.head, checked.events, checked.head
        )));
    }
    let ids = source.member_ids();
    if ids != copy.member_ids() {
        return Err(Fail::rejected(
            "migrate: the copy holds other members than the source",
        ));
    }
    if let Some(id) = ids.iter().find(|id| source.member(id) != copy.member(id)) {
        return Err(Fail::rejected(format!(
            "migrate: member {id} differs between the source and the copy"
        )));
    }
    Ok(())
}

/// The export's bytes as the writer thread sends them.
struct Chunks {
    rx: Receiver<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
}

impl Chunks {
    fn new(rx: Receiver<Vec<u8>>) -> Chunks {
        Chunks {
            rx,
            current: Vec::new(),
            at: 0,
        }
    }
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.current.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk;
                    self.at = 0;
                }
                // The writer is done (or failed, which its result reports).
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Sends what it is given to the reader.
struct ChunkWriter(SyncSender<Vec<u8>>);

impl Write for ChunkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the copy stopped"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
