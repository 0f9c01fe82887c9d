//! `apply`'s input: lines read in bounded memory, parsed into commands, and grouped while
//! more input is already buffered.

use std::io::{BufRead, Read};

use memberledger::domain::{Rejection, COMMAND_LINE_MAX};
use memberledger::{Command, Error, Uuid, BATCH_MAX};

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

/// An input line that is not blank: its number, and the error of its receipt if it is not a
/// command.
pub(super) type NonBlank = (u64, Option<(Option<Uuid>, Error)>);

/// A group of input lines: the commands parsed from them, in order, and each line that is
/// not blank, with the error of its receipt when it is not a command.
#[derive(Default)]
pub(super) struct Group {
    /// Each non-blank line: its number, and the error of its receipt if it is not a command
    /// (a line without one takes the next of `commands`).
    pub(super) lines: Vec<NonBlank>,
    pub(super) commands: Vec<Command>,
}

/// How [`next_group`] ends a group.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Grouping {
    /// At [`GROUP_MAX`] lines, or where the input pauses (nothing more buffered: someone
    /// typing gets each receipt at once).
    Buffered,
    /// At the end of the input, refusing more than [`BATCH_MAX`] lines (a dry run).
    Whole,
}

/// Reads the next group of lines; `number` is the number of the last line read. Returns it
/// (empty only at the end of the input) and whether the input ended. A dry run's input of
/// more than [`BATCH_MAX`] lines is a usage error.
pub(super) fn next_group<R: Read>(
    reader: &mut std::io::BufReader<R>,
    number: &mut u64,
    grouping: Grouping,
) -> Result<(Group, bool), Fail> {
    let mut group = Group::default();
    loop {
        let line = read_line(reader)?;
        if matches!(line, Line::Eof) {
            return Ok((group, true));
        }
        *number += 1;
        match parse(line, *number) {
            None => {}
            Some(Ok(command)) => {
                group.lines.push((*number, None));
                group.commands.push(command);
            }
            Some(Err(e)) => group.lines.push((*number, Some(e))),
        }
        let done = match grouping {
            Grouping::Whole if group.lines.len() > BATCH_MAX => {
                return Err(Fail::usage(format!(
                    "a dry run quotes at most {BATCH_MAX} commands at once; split the input"
                )))
            }
            Grouping::Whole => false,
            Grouping::Buffered => {
                !group.lines.is_empty()
                    && (group.lines.len() >= GROUP_MAX || reader.buffer().is_empty())
            }
        };
        if done {
            return Ok((group, false));
        }
    }
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
