//! The CSV import layout (docs/IMPORT.md): one row per lot, a member's rows together.
//!
//! `member,home_store,tier,kind,amount,points,sessions,service,origin_store,expires_at`, where
//! `kind` is `member` (no lot: a member holding nothing needs one such row), `principal`,
//! `bonus`, `points` or `package` (`amount` is then the price of one session).

use memberledger::domain::{
    Money, Opening, OpeningBonus, OpeningPackage, OpeningPoints, OpeningPrincipal, StoreId,
};
use memberledger::Timestamp;

use super::{MemberRows, Refusal};

/// The header a CSV import starts with.
pub(crate) const HEADER: &str =
    "member,home_store,tier,kind,amount,points,sessions,service,origin_store,expires_at";

const COLUMNS: usize = 10;

/// One row split into its fields.
struct Row {
    line: usize,
    f: Vec<String>,
}

impl Row {
    fn get(&self, i: usize) -> Option<&str> {
        Some(self.f[i].as_str()).filter(|s| !s.is_empty())
    }
}

/// Groups the rows of a CSV file (without its header) into members, each with the line of its
/// first row; a malformed row refuses its whole member.
pub(crate) struct CsvMembers<I: Iterator> {
    lines: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = (usize, String)>> CsvMembers<I> {
    pub(crate) fn new(lines: I) -> Self {
        CsvMembers {
            lines: lines.peekable(),
        }
    }
}

impl<I: Iterator<Item = (usize, String)>> Iterator for CsvMembers<I> {
    type Item = MemberRows;

    fn next(&mut self) -> Option<MemberRows> {
        let mut rows: Vec<Result<Row, Refusal>> = Vec::new();
        let mut first: Option<(usize, String)> = None;
        while let Some((line, text)) = self.lines.peek() {
            if text.trim().is_empty() {
                self.lines.next();
                continue;
            }
            // A malformed row still belongs to its member (the text before the first comma),
            // so the member is refused whole.
            let this = text.split(',').next().unwrap_or_default().trim_matches('"');
            match &first {
                Some((_, m)) if m != this => break,
                Some(_) => {}
                None => first = Some((*line, this.to_owned())),
            }
            let line = *line;
            rows.push(
                split(text)
                    .map(|f| Row { line, f })
                    .map_err(|e| e.or_line(line)),
            );
            self.lines.next();
        }
        let (line, member) = first?;
        Some(member_of(line, member, rows))
    }
}

/// A member's rows as one member: home store, tier and opening, or the first refusal.
fn member_of(line: usize, member: String, rows: Vec<Result<Row, Refusal>>) -> MemberRows {
    let result = (|| {
        let rows = rows.into_iter().collect::<Result<Vec<Row>, Refusal>>()?;
        let (home, tier) = (rows[0].f[1].clone(), rows[0].f[2].clone());
        let mut opening = Opening::default();
        for r in &rows {
            if r.f[1] != home || r.f[2] != tier {
                return Err(Refusal::at(
                    r.line,
                    "inconsistent_member",
                    format!("member {member}'s rows name different home stores or tiers"),
                ));
            }
            lot(r, &mut opening).map_err(|e| e.or_line(r.line))?;
        }
        let tier = Some(tier).filter(|t| !t.is_empty());
        Ok((home, tier, opening))
    })();
    MemberRows {
        line,
        member,
        result,
    }
}

/// Adds one row's lot to the opening.
fn lot(r: &Row, o: &mut Opening) -> Result<(), Refusal> {
    let origin_store = r.get(8).map(StoreId::new).transpose()?;
    let expires_at = r.get(9).map(str::parse::<Timestamp>).transpose()?;
    let amount = || -> Result<Money, Refusal> {
        Ok(r.get(4)
            .ok_or_else(|| Refusal::new("malformed_row", "the row needs an amount"))?
            .parse::<Money>()?)
    };
    let number = |i: usize, what: &str| -> Result<u64, Refusal> {
        r.get(i)
            .ok_or_else(|| Refusal::new("malformed_row", format!("the row needs {what}")))?
            .parse::<u64>()
            .map_err(|_| Refusal::new("invalid_amount", format!("{what} is not a whole number")))
    };
    match r.f[3].as_str() {
        "member" => {}
        "principal" => o.principal.push(OpeningPrincipal {
            amount: amount()?,
            origin_store,
        }),
        "bonus" => o.bonus.push(OpeningBonus {
            amount: amount()?,
            expires_at,
            origin_store,
        }),
        "points" => o.points.push(OpeningPoints {
            expires_at,
            points: number(5, "points")?,
        }),
        "package" => o.packages.push(OpeningPackage {
            expires_at,
            origin_store,
            service: r
                .get(7)
                .ok_or_else(|| Refusal::new("malformed_row", "a package needs a service"))?
                .to_owned(),
            session_price: amount()?,
            sessions: u32::try_from(number(6, "sessions")?)
                .map_err(|_| Refusal::new("invalid_amount", "too many sessions"))?,
        }),
        other => {
            return Err(Refusal::new(
                "unknown_kind",
                format!("kind {other:?} is not member, principal, bonus, points or package"),
            ))
        }
    }
    Ok(())
}

/// Splits a CSV line into its fields (RFC 4180 quoting: `"a,b"`, `""` for a quote), refusing
/// a line with another number of fields than the header's.
fn split(line: &str) -> Result<Vec<String>, Refusal> {
    let mut fields = Vec::with_capacity(COLUMNS);
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) if cur.is_empty() => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            ('"', true) => {
                quoted = false;
                if chars.peek().is_some_and(|&n| n != ',') {
                    return Err(Refusal::new("malformed_row", "text after a closing quote"));
                }
            }
            (',', false) => fields.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err(Refusal::new("malformed_row", "a quote is not closed"));
    }
    fields.push(cur);
    if fields.len() != COLUMNS {
        return Err(Refusal::new(
            "malformed_row",
            format!("{} fields, not the {COLUMNS} of the header", fields.len()),
        ));
    }
    Ok(fields)
}
