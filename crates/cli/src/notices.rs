//! `memberledger notices`: bonus, points and packages about to lapse, as of a time, from the
//! days the policy's `notices` section names (derived, never recorded).

use memberledger::{Ledger, Timestamp};

use crate::{emit, report, Fail};

/// Prints the notices due as of `as_of` (the clock's now by default): one line each, or one
/// JSON object per line with `--json`.
pub(crate) fn run(ledger: &Ledger, as_of: Option<&str>, json: bool) -> Result<u8, Fail> {
    let at = match report::parse_time(as_of)? {
        Some(t) => t,
        None => ledger.clock().now().unwrap_or_else(Timestamp::now),
    };
    let mut out = String::new();
    for n in ledger.notices(at) {
        if json {
            let line = serde_json::to_string(&n).map_err(|e| Fail::usage(e.to_string()))?;
            outln!(out, "{line}");
            continue;
        }
        let what = match (n.amount, n.points, n.sessions) {
            (Some(a), _, Some(s)) => format!(
                "package {} ({s} sessions, {a})",
                n.package.map(|p| p.to_string()).unwrap_or_default()
            ),
            (Some(a), _, None) => format!("bonus lot {} ({a})", n.lot.unwrap_or(0)),
            (None, Some(p), _) => format!("point lot {} ({p} points)", n.lot.unwrap_or(0)),
            _ => String::new(),
        };
        outln!(
            out,
            "{} {} {}: {what} expires at {}",
            n.id,
            n.kind.name(),
            n.member,
            n.expires_at
        );
    }
    emit(&out)
}
