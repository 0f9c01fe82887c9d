//! Streaming exports. Each reads the log page by page and writes as it goes: memory grows with
//! the number of accounts (for the closing balance assertions), never with the number of events.

use std::collections::BTreeMap;
use std::io::Write;

use memberledger::domain::{format_cents, postings, Account, Posting, RecordedEvent};
use memberledger::{Error, Ledger};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// One event per line: canonical JSON plus `hash` (docs/AUDIT.md).
    Jsonl,
    /// An hledger (and ledger-cli) journal, one transaction per event that moves money, closed
    /// by balance assertions of every account.
    Hledger,
    /// A beancount file: accounts opened, one transaction per event that moves money, closed
    /// by `balance` directives of every account.
    Beancount,
    /// One row per posting.
    Csv,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] Error),
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

fn io(e: std::io::Error) -> ExportError {
    ExportError::Io(e)
}

/// Writes the whole log in a format. Returns the number of events read.
pub fn export(ledger: &Ledger, format: Format, out: &mut dyn Write) -> Result<u64, ExportError> {
    let currency = ledger.policy().currency.clone();
    let mut w = Writer {
        out,
        currency,
        balances: BTreeMap::new(),
        last_date: None,
        format,
    };
    w.header()?;
    let mut n = 0;
    for rec in ledger.events(1, 4096) {
        let rec = rec?;
        n += 1;
        w.event(&rec)?;
    }
    w.footer()?;
    Ok(n)
}

struct Writer<'a> {
    out: &'a mut dyn Write,
    currency: String,
    balances: BTreeMap<Account, i128>,
    last_date: Option<String>,
    format: Format,
}

impl Writer<'_> {
    fn header(&mut self) -> Result<(), ExportError> {
        match self.format {
            Format::Jsonl => Ok(()),
            Format::Csv => writeln!(self.out, "position,at,event,command,type,member,store,account,amount,currency").map_err(io),
            // The commodity is declared with its format (two decimals, after the amount), and
            // every account before its first use, so `hledger check --strict` passes.
            Format::Hledger => writeln!(
                self.out,
                "; memberledger export: one transaction per event that moves money.\n; Comments name the event's log position, time, id and command.\n\ncommodity 1000.00 {}\n",
                self.currency
            )
            .map_err(io),
            Format::Beancount => writeln!(
                self.out,
                "; memberledger export: one transaction per event that moves money.\n; Ids are mapped to account components reversibly (docs/AUDIT.md).\noption \"operating_currency\" \"{}\"\n",
                self.currency
            )
            .map_err(io),
        }
    }

    fn event(&mut self, rec: &RecordedEvent) -> Result<(), ExportError> {
        if self.format == Format::Jsonl {
            return writeln!(self.out, "{}", rec.to_export_json()).map_err(io);
        }
        let e = &rec.event;
        let entry = postings(e);
        memberledger::domain::check_balanced(&entry).map_err(|why| Error::Corrupt {
            position: rec.position,
            why,
        })?;
        if entry.is_empty() {
            return Ok(());
        }
        let date = e.at.to_string()[..10].to_owned();
        let title = format!("{} {} at {}", e.body.type_name(), e.member, e.store);
        match self.format {
            Format::Csv => {
                for p in &entry {
                    writeln!(
                        self.out,
                        "{},{},{},{},{},{},{},{},{},{}",
                        rec.position,
                        e.at,
                        e.id,
                        e.command,
                        e.body.type_name(),
                        e.member,
                        e.store,
                        p.account,
                        format_cents(p.cents),
                        self.currency
                    )
                    .map_err(io)?;
                }
            }
            Format::Hledger => self.hledger(rec, &entry, &date, &title)?,
            Format::Beancount => self.beancount(rec, &entry, &date, &title)?,
            Format::Jsonl => unreachable!("handled above"),
        }
        for p in entry {
            *self.balances.entry(p.account).or_default() += i128::from(p.cents);
        }
        if self.last_date.as_ref().is_none_or(|d| *d < date) {
            self.last_date = Some(date);
        }
        Ok(())
    }

    /// One event as an hledger transaction, declaring accounts on first use.
    fn hledger(
        &mut self,
        rec: &RecordedEvent,
        entry: &[Posting],
        date: &str,
        title: &str,
    ) -> Result<(), ExportError> {
        let e = &rec.event;
        for p in entry {
            if !self.balances.contains_key(&p.account) {
                writeln!(self.out, "account {}", p.account).map_err(io)?;
            }
        }
        writeln!(
            self.out,
            "{date} {title}  ; position:{}, at:{}, event:{}, command:{}",
            rec.position, e.at, e.id, e.command
        )
        .map_err(io)?;
        for p in entry {
            writeln!(
                self.out,
                "    {:<48}  {:>14} {}",
                p.account.to_string(),
                format_cents(p.cents),
                self.currency
            )
            .map_err(io)?;
        }
        writeln!(self.out).map_err(io)?;
        Ok(())
    }

    /// One event as a beancount transaction, opening accounts on first use.
    fn beancount(
        &mut self,
        rec: &RecordedEvent,
        entry: &[Posting],
        date: &str,
        title: &str,
    ) -> Result<(), ExportError> {
        let e = &rec.event;
        for p in entry {
            if !self.balances.contains_key(&p.account) {
                // Opened at the epoch: the log is in append order, not date order
                // across members, so the first use is not always the earliest date.
                writeln!(
                    self.out,
                    "1970-01-01 open {} {}",
                    bean_account(&p.account),
                    self.currency
                )
                .map_err(io)?;
            }
        }
        writeln!(
            self.out,
            "{date} * \"{title}\"\n  position: {}\n  at: \"{}\"\n  event: \"{}\"\n  command: \"{}\"",
            rec.position, e.at, e.id, e.command
        )
        .map_err(io)?;
        for p in entry {
            writeln!(
                self.out,
                "  {:<48}  {:>14} {}",
                bean_account(&p.account),
                format_cents(p.cents),
                self.currency
            )
            .map_err(io)?;
        }
        writeln!(self.out).map_err(io)?;
        Ok(())
    }

    /// Closes the journal with the balance of every account, so the tool checks our figures.
    fn footer(&mut self) -> Result<(), ExportError> {
        let Some(last) = self.last_date.clone() else {
            return Ok(());
        };
        match self.format {
            Format::Hledger => {
                // A transaction of zero postings with assertions: `Acct  0.00 CNY = X CNY`
                // (an assertion without an amount would set the balance, not check it). Dated
                // the last day, after everything else in both date and file order.
                writeln!(self.out, "{last} closing balance assertions").map_err(io)?;
                for (a, c) in &self.balances {
                    writeln!(
                        self.out,
                        "    {:<48}  0.00 {cur} = {} {cur}",
                        a.to_string(),
                        format_cents(*c),
                        cur = self.currency
                    )
                    .map_err(io)?;
                }
            }
            Format::Beancount => {
                // `balance` applies at the start of its date: the day after the last event.
                // `~ 0.00` asks for an exact match: without it beancount 2.3.5 tolerates ±0.01
                // on a two-decimal amount (checked with bean-check).
                let next = next_day(&last);
                for (a, c) in &self.balances {
                    writeln!(
                        self.out,
                        "{next} balance {}  {} ~ 0.00 {}",
                        bean_account(a),
                        format_cents(*c),
                        self.currency
                    )
                    .map_err(io)?;
                }
            }
            Format::Jsonl | Format::Csv => {}
        }
        self.out.flush().map_err(io)
    }
}

fn next_day(date: &str) -> String {
    chrono_free_next_day(date).unwrap_or_else(|| date.to_owned())
}

/// `YYYY-MM-DD` plus one day, without a date library.
fn chrono_free_next_day(date: &str) -> Option<String> {
    let y: i32 = date.get(0..4)?.parse().ok()?;
    let m: u32 = date.get(5..7)?.parse().ok()?;
    let d: u32 = date.get(8..10)?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let (y, m, d) = if d < days[usize::try_from(m - 1).ok()?] {
        (y, m, d + 1)
    } else if m < 12 {
        (y, m + 1, 1)
    } else {
        (y + 1, 1, 1)
    };
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// A beancount account name: the root and kind as they are, each id mapped by [`bean_component`].
pub fn bean_account(a: &Account) -> String {
    let seg = a.segments();
    seg.iter()
        .enumerate()
        .map(|(i, s)| {
            if i < 2 {
                (*s).to_owned()
            } else {
                bean_component(s)
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// Maps an id (`[A-Za-z0-9_.-]`) to a beancount account component (`[A-Z0-9][A-Za-z0-9-]*`),
/// reversibly: letters and digits stay; `-`, `_`, `.` become `-2D`, `-5F`, `-2E`; and a
/// component that would not start with a capital or a digit gets the prefix `0-`, which no
/// mapped id can start with otherwise (there `0-` is always followed by two hex digits).
pub fn bean_component(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 4);
    for c in id.chars() {
        match c {
            '-' => s.push_str("-2D"),
            '_' => s.push_str("-5F"),
            '.' => s.push_str("-2E"),
            c => s.push(c),
        }
    }
    if s.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()) {
        s
    } else {
        format!("0-{s}")
    }
}

/// The inverse of [`bean_component`].
pub fn bean_component_to_id(component: &str) -> Option<String> {
    let body = match component.strip_prefix("0-") {
        Some(rest)
            if !rest.starts_with(|c: char| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()) =>
        {
            rest
        }
        _ => component,
    };
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '-' {
            let code: String = chars.by_ref().take(2).collect();
            out.push(match code.as_str() {
                "2D" => '-',
                "5F" => '_',
                "2E" => '.',
                _ => return None,
            });
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bean_components_are_valid_and_reversible() {
        for id in [
            "M1", "S001", "m1", "-a", "_x", ".y", "a-b_c.d", "0-2D", "0", "Q", "x", "0-x", "A--B",
        ] {
            let c = bean_component(id);
            assert!(
                c.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit()),
                "{id} → {c}"
            );
            assert!(
                c.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{id} → {c}"
            );
            assert_eq!(bean_component_to_id(&c).as_deref(), Some(id), "{id} → {c}");
        }
    }

    #[test]
    fn next_day_rolls_months_and_years() {
        assert_eq!(next_day("2026-02-28"), "2026-03-01");
        assert_eq!(next_day("2028-02-28"), "2028-02-29");
        assert_eq!(next_day("2026-12-31"), "2027-01-01");
        assert_eq!(next_day("2026-03-09"), "2026-03-10");
    }
}
