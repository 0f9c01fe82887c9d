//! `memberledger import`: a chain's members from another system (docs/IMPORT.md), one
//! `open_balance` per member through [`Ledger::import`], in batches, with a report of what was
//! imported, imported already, and refused (line and code).

mod csv;
mod jsonl;

use std::collections::HashSet;
use std::io::BufRead;

use memberledger::domain::{Opening, Rejection};
use memberledger::import::{opening_command, Imported};
use memberledger::{Command, Ledger, MemberId, StoreId, Timestamp, BATCH_MAX};
use serde_json::json;

use crate::{emit_done, report, Fail};

/// A member as read from the file: the line of its first row and its home store, tier and
/// opening, or why the rows were refused.
pub(crate) struct MemberRows {
    line: usize,
    member: String,
    result: Result<(String, Option<String>, Opening), Refusal>,
}

/// A row refused before it reached the ledger: its line (when known), code and reason.
#[derive(Debug)]
pub(crate) struct Refusal {
    line: Option<usize>,
    code: String,
    message: String,
}

impl Refusal {
    fn new(code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            line: None,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    fn at(line: usize, code: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            line: Some(line),
            ..Refusal::new(code, message)
        }
    }

    fn or_line(mut self, line: usize) -> Refusal {
        self.line.get_or_insert(line);
        self
    }
}

impl From<Rejection> for Refusal {
    fn from(r: Rejection) -> Refusal {
        Refusal::new(r.code(), r.to_string())
    }
}

/// What an import did, row by row.
#[derive(Default)]
struct Tally {
    imported: u64,
    already: u64,
    refused: Vec<Refusal>,
    member_of: Vec<String>,
}

impl Tally {
    fn refuse(&mut self, member: &str, r: Refusal) {
        self.member_of.push(member.to_owned());
        self.refused.push(r);
    }
}

/// Imports FILE (`.csv` or `.jsonl`) as of `as_of`; with `dry_run`, records nothing. Exit 1
/// when any row was refused.
pub(crate) fn run(
    ledger: &Ledger,
    file: &str,
    as_of: &str,
    dry_run: bool,
    json: bool,
) -> Result<u8, Fail> {
    let at = report::parse_time(Some(as_of))?.expect("given");
    let reader = std::io::BufReader::new(
        std::fs::File::open(file).map_err(|e| Fail::usage(format!("cannot open {file}: {e}")))?,
    );
    let mut lines = reader.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut read_error = None;
    let mut text_lines = std::iter::from_fn(|| match lines.next()? {
        (n, Ok(t)) => Some((n, t)),
        (_, Err(e)) => {
            read_error = Some(e);
            None
        }
    });
    let members: Box<dyn Iterator<Item = MemberRows> + '_> = if file.ends_with(".csv") {
        match text_lines.next() {
            Some((_, h)) if h.trim_start_matches('\u{feff}').trim_end() == csv::HEADER => {}
            _ => {
                return Err(Fail::usage(format!(
                    "{file}: the first line must be the header {}",
                    csv::HEADER
                )))
            }
        }
        Box::new(csv::CsvMembers::new(text_lines))
    } else if file.ends_with(".jsonl") {
        Box::new(
            text_lines
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(n, t)| jsonl::member(n, &t)),
        )
    } else {
        return Err(Fail::usage(format!(
            "{file}: an import file ends in .csv or .jsonl"
        )));
    };
    let tally = import_all(ledger, members, at, dry_run);
    if let Some(e) = read_error {
        return Err(Fail::usage(format!("cannot read {file}: {e}")));
    }
    print(&tally, dry_run, json)
}

/// Reads every member, imports them in batches, and tallies the answers.
fn import_all(
    ledger: &Ledger,
    members: impl Iterator<Item = MemberRows>,
    at: Timestamp,
    dry_run: bool,
) -> Tally {
    let mut tally = Tally::default();
    let mut seen: HashSet<String> = HashSet::new();
    let mut batch: Vec<(usize, String, Command)> = Vec::with_capacity(BATCH_MAX);
    for m in members {
        if !seen.insert(m.member.clone()) {
            let r = Refusal::at(
                m.line,
                "duplicate_member",
                format!("member {} has rows apart or twice in the file", m.member),
            );
            tally.refuse(&m.member, r);
            continue;
        }
        match command(at, &m) {
            Ok(c) => batch.push((m.line, m.member, c)),
            Err(r) => tally.refuse(&m.member, r.or_line(m.line)),
        }
        if batch.len() == BATCH_MAX {
            flush(ledger, &mut batch, dry_run, &mut tally);
        }
    }
    flush(ledger, &mut batch, dry_run, &mut tally);
    tally
}

/// A member's opening command, checked as any command is.
fn command(at: Timestamp, m: &MemberRows) -> Result<Command, Refusal> {
    let (home, tier, opening) = m.result.as_ref().map_err(|r| Refusal {
        line: r.line,
        code: r.code.clone(),
        message: r.message.clone(),
    })?;
    let member = MemberId::new(m.member.clone())?;
    let home = StoreId::new(home.clone())?;
    Ok(opening_command(
        at,
        member,
        home,
        tier.clone(),
        opening.clone(),
    )?)
}

fn flush(
    ledger: &Ledger,
    batch: &mut Vec<(usize, String, Command)>,
    dry_run: bool,
    tally: &mut Tally,
) {
    let commands: Vec<Command> = batch.iter().map(|(_, _, c)| c.clone()).collect();
    for ((line, member, _), outcome) in batch.drain(..).zip(ledger.import(&commands, dry_run)) {
        match outcome {
            Imported::New(_) => tally.imported += 1,
            Imported::Already(_) => tally.already += 1,
            Imported::Refused(e) => {
                tally.refuse(&member, Refusal::at(line, e.code(), e.to_string()));
            }
            _ => {}
        }
    }
}

/// The report: counts, then one line per refused member.
fn print(t: &Tally, dry_run: bool, json: bool) -> Result<u8, Fail> {
    let verb = if dry_run { "would import" } else { "imported" };
    let summary = format!(
        "{verb} {} members, {} already imported, {} refused",
        t.imported,
        t.already,
        t.refused.len()
    );
    let text = if json {
        let refused: Vec<_> = t
            .refused
            .iter()
            .zip(&t.member_of)
            .map(
                |(r, m)| json!({"line": r.line, "member": m, "code": r.code, "message": r.message}),
            )
            .collect();
        format!(
            "{}\n",
            json!({"dry_run": dry_run, "imported": t.imported, "already_imported": t.already, "refused": refused})
        )
    } else {
        let mut s = String::new();
        for (r, m) in t.refused.iter().zip(&t.member_of) {
            let line = r.line.map_or_else(|| "?".to_owned(), |l| l.to_string());
            outln!(s, "line {line}: member {m:?}: {}: {}", r.code, r.message);
        }
        outln!(s, "{summary}");
        s
    };
    emit_done(&text, &summary)?;
    Ok(u8::from(!t.refused.is_empty()))
}
