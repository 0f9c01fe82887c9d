//! `memberledger apply`: JSON Lines in, one receipt per line out.

use std::io::{BufRead, BufReader, Read, Write};

use memberledger::domain::{Rejection, COMMAND_LINE_MAX};
use memberledger::{Command, Error, Ledger, Receipt, Uuid, BATCH_MAX};

use crate::Fail;

/// Commands executed with one durable write, at most.
const GROUP_MAX: usize = 1000;

/// The byte order mark, as it reads in UTF-8 text.
const BOM: char = '\u{feff}';

/// A line of input, read in bounded memory.
enum Line {
    /// The end of the input.
    Eof,
    /// A line of text, without its line ending.
    Text(String),
    /// A line over the limit, skipped unread: its length in bytes.
    TooLong(u64),
    /// A line that is not UTF-8.
    NotUtf8,
}

/// One input line, numbered from 1, parsed into a command or the error of its receipt.
struct Parsed {
    line: u64,
    command: Result<Command, (Option<Uuid>, Error)>,
}

/// Where receipts go, and what was done so far (for the message when output fails).
struct Receipts<W> {
    out: W,
    /// Commands recorded (or replayed) durably.
    durable: u64,
    /// Receipts written out (flushed).
    printed: u64,
    /// Receipts written to the buffer since the last flush.
    pending: u64,
    /// The receipt being written (reused).
    line: Vec<u8>,
}

/// Runs a batch. Lines are grouped while more input is already buffered (so a pipe or a file
/// gets group commit, and someone typing gets each receipt at once); every receipt is printed
/// only once its command is durable. When the receipts cannot be written (the reader went
/// away, a full disk) no further command is read: the message says how many commands were
/// durable and how many receipts were printed, and the exit is 2.
///
/// With `dry_run`, the whole input is quoted as one batch ([`Ledger::quote_batch`]: later
/// lines see earlier ones) and nothing is recorded: each line gets the receipt it would get,
/// marked `"dry_run":true`, with the member after it; the exit codes are apply's.
pub(crate) fn run(ledger: &Ledger, file: &str, dry_run: bool) -> Result<u8, Fail> {
    let input: Box<dyn Read> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(file)
                .map_err(|e| Fail::usage(format!("cannot read {file}: {e}")))?,
        )
    };
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let stdout = std::io::stdout();
    let mut out = Receipts {
        // Flushed after each group's receipts (`flush`): at once for someone typing, in
        // large writes for a file.
        out: std::io::BufWriter::with_capacity(1 << 16, stdout.lock()),
        durable: 0,
        printed: 0,
        pending: 0,
        line: Vec::new(),
    };
    let mut group: Vec<Parsed> = Vec::new();
    let mut any_rejected = false;
    let mut number = 0u64;
    loop {
        let line = read_line(&mut reader)?;
        let eof = matches!(line, Line::Eof);
        if !eof {
            number += 1;
            if let Some(command) = parse(line, number) {
                group.push(Parsed {
                    line: number,
                    command,
                });
            }
        }
        if dry_run {
            if group.len() > BATCH_MAX {
                return Err(Fail::usage(format!(
                    "a dry run quotes at most {BATCH_MAX} commands at once; split the input"
                )));
            }
            if eof && !group.is_empty() {
                any_rejected |= flush(ledger, &mut group, &mut out, true)?;
            }
        } else if !group.is_empty()
            && (eof || group.len() >= GROUP_MAX || reader.buffer().is_empty())
        {
            any_rejected |= flush(ledger, &mut group, &mut out, false)?;
        }
        if eof {
            break;
        }
    }
    out.flush()?;
    Ok(u8::from(any_rejected))
}

/// Reads one line, holding at most a command line's worth of it (plus a line ending): the
/// rest of a longer line is skipped as it streams by, so any input, endless or without a
/// newline, is read in bounded memory.
fn read_line(reader: &mut impl BufRead) -> Result<Line, Fail> {
    let limit = COMMAND_LINE_MAX as u64 + 2;
    let mut bytes = Vec::new();
    let n = reader.by_ref().take(limit).read_until(b'\n', &mut bytes)?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if n as u64 == limit && bytes.last() != Some(&b'\n') {
        return Ok(Line::TooLong(n as u64 + skip_line(reader)?));
    }
    while matches!(bytes.last(), Some(b'\n' | b'\r')) {
        bytes.pop();
    }
    Ok(String::from_utf8(bytes).map_or(Line::NotUtf8, Line::Text))
}

/// Skips the rest of a line through the reader's own buffer; returns the bytes skipped, its
/// line ending left out.
fn skip_line(reader: &mut impl BufRead) -> std::io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(skipped);
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(skipped + i as u64);
            }
            None => {
                let n = buf.len();
                reader.consume(n);
                skipped += n as u64;
            }
        }
    }
}

/// The command of a line (`None` for a blank line), or the error of its receipt.
fn parse(line: Line, number: u64) -> Option<Result<Command, (Option<Uuid>, Error)>> {
    let invalid = |msg: String| Some(Err((None, Rejection::InvalidCommand(msg).into())));
    let text = match line {
        Line::Eof => return None,
        Line::TooLong(n) => {
            return invalid(format!(
                "the line is longer than {COMMAND_LINE_MAX} bytes ({n} bytes, skipped)"
            ))
        }
        Line::NotUtf8 => return invalid("the line is not UTF-8".into()),
        Line::Text(text) => text,
    };
    // A byte order mark is accepted at the very start of the input only.
    let text = match text.strip_prefix(BOM) {
        Some(rest) if number == 1 => rest,
        _ => &text,
    };
    if text.trim().is_empty() {
        return None;
    }
    Some(Command::from_json(text).map_err(|e| {
        // Echo the id back when the line has a readable one, so the caller can match it.
        let id = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| {
                v.get("id")
                    .and_then(|i| i.as_str())
                    .and_then(|s| Uuid::try_parse(s).ok())
            });
        match text.find(BOM) {
            Some(at) => (
                id,
                Rejection::InvalidCommand(format!(
                    "{e} (the line holds a byte order mark, U+FEFF, at byte {at}: one is accepted only at the very start of the input)"
                ))
                .into(),
            ),
            None => (id, e.into()),
        }
    }))
}

impl<W: Write> Receipts<W> {
    /// Writes one receipt.
    fn write(&mut self, receipt: &serde_json::Value) -> Result<(), Fail> {
        writeln!(self.out, "{receipt}").map_err(|e| self.failed(&e))?;
        self.pending += 1;
        Ok(())
    }

    /// Writes one receipt of a recorded command (its JSON written straight from the events).
    fn write_receipt(&mut self, receipt: &Receipt) -> Result<(), Fail> {
        self.line.clear();
        receipt.write_json(&mut self.line);
        self.line.push(b'\n');
        self.out
            .write_all(&self.line)
            .map_err(|e| self.failed(&e))?;
        self.pending += 1;
        Ok(())
    }

    /// Writes out what is buffered: after each group, so its receipts are seen at once.
    fn flush(&mut self) -> Result<(), Fail> {
        self.out.flush().map_err(|e| self.failed(&e))?;
        self.printed += std::mem::take(&mut self.pending);
        Ok(())
    }

    /// The failure of the output: what was done, and that nothing more will be.
    fn failed(&self, e: &std::io::Error) -> Fail {
        Fail::usage(format!(
            "cannot write the receipts to standard output ({e}): stopped reading commands; {} commands were durable, {} receipts were printed (send the commands again with the same ids for their receipts)",
            self.durable, self.printed
        ))
    }
}

/// A failed receipt, with the number of the input line it answers.
fn error_receipt(id: Option<Uuid>, e: &Error, line: u64) -> serde_json::Value {
    let mut json = Receipt::error_json(id, e);
    if let Some(o) = json.as_object_mut() {
        o.insert("line".into(), line.into());
    }
    json
}

/// Executes (or, for a dry run, quotes) a group and prints its receipts in order. Returns
/// whether any was rejected.
fn flush(
    ledger: &Ledger,
    group: &mut Vec<Parsed>,
    out: &mut Receipts<impl Write>,
    dry_run: bool,
) -> Result<bool, Fail> {
    let commands: Vec<Command> = group
        .iter()
        .filter_map(|p| p.command.as_ref().ok().cloned())
        .collect();
    let results: Vec<Result<Answer, Error>> = if dry_run {
        ledger
            .quote_batch(&commands)
            .into_iter()
            .map(|r| r.map(|q| Answer::Quote(q.to_json())))
            .collect()
    } else {
        let results = ledger.execute_batch(&commands);
        out.durable += results.iter().filter(|r| r.is_ok()).count() as u64;
        results
            .into_iter()
            .map(|r| r.map(Answer::Recorded))
            .collect()
    };
    let mut results = results.into_iter();
    let mut rejected = false;
    for p in group.drain(..) {
        let receipt = match p.command {
            Err((id, e)) => Err((id, e)),
            Ok(c) => results
                .next()
                .expect("one result per command")
                .map_err(|e| (Some(c.id), e)),
        };
        match receipt {
            Ok(Answer::Recorded(r)) => out.write_receipt(&r)?,
            Ok(Answer::Quote(q)) => out.write(&q)?,
            Err((id, e)) => {
                out.write(&error_receipt(id, &e, p.line))?;
                if matches!(e, Error::Storage(_) | Error::Corrupt { .. }) {
                    // The medium failed: what was not acknowledged is printed; stop.
                    out.flush()?;
                    return Err(Fail::usage(format!("{}: {e}", e.code())));
                }
                rejected = true;
            }
        }
    }
    out.flush()?;
    Ok(rejected)
}

/// What a command of a group got: a receipt, or (a dry run) its quote.
enum Answer {
    Recorded(Receipt),
    Quote(serde_json::Value),
}
