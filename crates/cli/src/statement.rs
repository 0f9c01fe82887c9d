//! `memberledger statement`: a member's movements with running balances.

use memberledger::{Ledger, MemberId};
use memberledger_audit::statement;

use crate::report::{json_line, parse_time};
use crate::Fail;

/// Prints member `id`'s statement for a period (as a table, or JSON).
pub(crate) fn run(
    ledger: &Ledger,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
    json: bool,
) -> Result<u8, Fail> {
    let mut o = String::new();
    let member = MemberId::new(id).map_err(|e| Fail::usage(format!("{}: {e}", e.code())))?;
    let (start, end) = (parse_time(from)?, parse_time(to)?);
    if let (Some(start), Some(end)) = (start, end) {
        if start > end {
            return Err(Fail::usage(format!(
                "--from {start} is after --to {end}: a statement's period must not end before it starts"
            )));
        }
    }
    let Some(st) = statement(ledger, &member, start, end)? else {
        return Err(Fail::rejected(format!(
            "member_not_found: member {id} is not enrolled"
        )));
    };
    if json {
        json_line(&mut o, &st);
        return crate::emit(&o);
    }
    outln!(
        o,
        "statement of member {id}{}{}",
        from.map(|t| format!(" from {t}")).unwrap_or_default(),
        to.map(|t| format!(" to {t}")).unwrap_or_default()
    );
    let b = &st.opening;
    outln!(
        o,
        "  {:<22} {:<58} {:>12} {:>12} {:>9}",
        "opening",
        "",
        b.principal.to_string(),
        b.bonus.to_string(),
        b.points
    );
    for l in &st.lines {
        outln!(
            o,
            "  {:<22} {:<58} {:>12} {:>12} {:>9}   ({} {} {:+})",
            l.at.to_string(),
            format!("{} · {}", l.store, l.description)
                .chars()
                .take(58)
                .collect::<String>(),
            l.balance.principal.to_string(),
            l.balance.bonus.to_string(),
            l.balance.points,
            l.principal_change,
            l.bonus_change,
            l.points_change
        );
    }
    let b = &st.closing;
    outln!(
        o,
        "  {:<22} {:<58} {:>12} {:>12} {:>9}",
        "closing",
        format!("tier {}", b.tier),
        b.principal.to_string(),
        b.bonus.to_string(),
        b.points
    );
    crate::emit(&o)
}
