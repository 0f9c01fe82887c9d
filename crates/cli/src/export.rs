//! `memberledger export`: the whole log in one of the audit formats.

use std::io::Write;

use clap::ValueEnum;
use memberledger::Ledger;

use crate::Fail;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    /// One event per line: canonical JSON plus its hash (see docs/AUDIT.md).
    Jsonl,
    /// An hledger / ledger-cli journal closed by balance assertions.
    Hledger,
    /// A beancount file closed by balance directives.
    Beancount,
    /// One row per posting.
    Csv,
}

/// Writes the log to standard output in `format`.
pub(crate) fn run(ledger: &Ledger, format: Format) -> Result<u8, Fail> {
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
