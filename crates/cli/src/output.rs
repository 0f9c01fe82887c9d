//! Writing to standard output: quietly stopping on a closed pipe where only reading was done.

use std::io::Write;

use crate::Fail;

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
