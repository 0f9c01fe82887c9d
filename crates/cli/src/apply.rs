//! `memberledger apply`: JSON Lines in, one receipt per line out.

use std::io::{BufRead, BufReader, Read, Write};

use memberledger::{Command, Error, Ledger, Receipt, Uuid};

use crate::Fail;

/// Commands executed with one durable write, at most.
const GROUP_MAX: usize = 1000;

/// Runs a batch. Lines are grouped while more input is already buffered (so a pipe or a file
/// gets group commit, and someone typing gets each receipt at once); every receipt is printed
/// only once its command is durable.
pub(crate) fn run(ledger: &Ledger, file: &str) -> Result<u8, Fail> {
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
    let mut out = std::io::LineWriter::new(stdout.lock());
    let mut group: Vec<Result<Command, (Option<Uuid>, Error)>> = Vec::new();
    let mut any_rejected = false;
    let mut line = String::new();
    loop {
        line.clear();
        let n = read_line(&mut reader, &mut line)?;
        if n > 0 && !line.trim().is_empty() {
            group.push(parse(line.trim_end_matches(['\n', '\r'])));
        }
        let eof = n == 0;
        if !group.is_empty() && (eof || group.len() >= GROUP_MAX || reader.buffer().is_empty()) {
            any_rejected |= flush(ledger, &mut group, &mut out)?;
        }
        if eof {
            break;
        }
    }
    out.flush()?;
    Ok(u8::from(any_rejected))
}

/// Reads one line, refusing to buffer more than a command line may hold (plus slack), so a
/// huge line is an error of that line, not an out-of-memory.
fn read_line(reader: &mut impl BufRead, line: &mut String) -> Result<usize, Fail> {
    let limit = memberledger::COMMAND_LINE_MAX as u64 + 2;
    let mut bytes = Vec::new();
    let n = reader.by_ref().take(limit).read_until(b'\n', &mut bytes)?;
    if n as u64 == limit && bytes.last() != Some(&b'\n') {
        // Skip the rest of the overlong line and report it as one bad line.
        let mut skipped = Vec::new();
        reader.read_until(b'\n', &mut skipped)?;
        line.push_str("\u{0}too long");
        return Ok(n + skipped.len());
    }
    match String::from_utf8(bytes) {
        Ok(s) => line.push_str(&s),
        Err(_) => line.push_str("\u{0}not utf-8"),
    }
    Ok(n)
}

fn parse(line: &str) -> Result<Command, (Option<Uuid>, Error)> {
    if let Some(why) = line.strip_prefix('\u{0}') {
        let msg = if why == "too long" {
            format!(
                "command line is longer than {} bytes",
                memberledger::COMMAND_LINE_MAX
            )
        } else {
            "command line is not UTF-8".to_owned()
        };
        return Err((None, memberledger::Rejection::InvalidCommand(msg).into()));
    }
    Command::from_json(line).map_err(|e| {
        // Echo the id back when the line has a readable one, so the caller can match it.
        let id = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| {
                v.get("id")
                    .and_then(|i| i.as_str())
                    .and_then(|s| Uuid::try_parse(s).ok())
            });
        (id, e.into())
    })
}

/// Executes a group and prints its receipts in order. Returns whether any was rejected.
fn flush(
    ledger: &Ledger,
    group: &mut Vec<Result<Command, (Option<Uuid>, Error)>>,
    out: &mut impl Write,
) -> Result<bool, Fail> {
    let commands: Vec<Command> = group
        .iter()
        .filter_map(|c| c.as_ref().ok().cloned())
        .collect();
    let mut results = ledger.execute_batch(&commands).into_iter();
    let mut rejected = false;
    for item in group.drain(..) {
        let receipt = match item {
            Err((id, e)) => Err((id, e)),
            Ok(c) => results
                .next()
                .expect("one result per command")
                .map_err(|e| (Some(c.id), e)),
        };
        let json = match receipt {
            Ok(r) => r.to_json(),
            Err((id, e)) => {
                if matches!(e, Error::Storage(_) | Error::Corrupt { .. }) {
                    // The medium failed: print what was not acknowledged, then stop.
                    writeln!(out, "{}", Receipt::error_json(id, &e))?;
                    return Err(Fail::usage(format!("{}: {e}", e.code())));
                }
                rejected = true;
                Receipt::error_json(id, &e)
            }
        };
        writeln!(out, "{json}")?;
    }
    Ok(rejected)
}
