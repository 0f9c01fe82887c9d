//! `memberledger report …` and `memberledger statement`: tables for people, `--json` for tools.

use memberledger::{Ledger, MemberId, Timestamp};
use memberledger_audit::{statement, Snapshot};
use serde::Serialize;

use crate::Fail;

/// Which report.
#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Report {
    /// Every account's balance; the total is zero.
    TrialBalance,
    /// Per store: cash taken and paid out, revenue, bonus granted, breakage, owed, owed to.
    Stores,
    /// Per pair of stores: owed, settled, outstanding.
    Settlement,
    /// Stored value held for members, in total and by store.
    Liability,
}

pub(crate) fn parse_time(s: Option<&str>) -> Result<Option<Timestamp>, Fail> {
    s.map(|t| {
        t.parse()
            .map_err(|e: memberledger::domain::Rejection| Fail::usage(e.to_string()))
    })
    .transpose()
}

fn json_line(o: &mut String, v: &impl Serialize) {
    outln!(
        o,
        "{}",
        serde_json::to_string(v).expect("reports serialise")
    );
}

pub(crate) fn run(
    ledger: &Ledger,
    report: Report,
    as_of: Option<&str>,
    json: bool,
) -> Result<u8, Fail> {
    let mut o = String::new();
    let snap = Snapshot::as_of(ledger, parse_time(as_of)?)?;
    let when = as_of.map(|t| format!(" as of {t}")).unwrap_or_default();
    match report {
        Report::TrialBalance => {
            let rows = snap.trial_balance();
            let total = memberledger::domain::format_cents(snap.trial_balance_total());
            if json {
                json_line(
                    &mut o,
                    &serde_json::json!({"accounts": rows, "total": total}),
                );
            } else {
                outln!(o, "trial balance{when} ({} events)", snap.events);
                for r in &rows {
                    outln!(o, "  {:<52} {:>16}", r.account, r.balance);
                }
                outln!(o, "  {:<52} {:>16}", "total", total);
            }
        }
        Report::Stores => {
            let rows = snap.store_reports();
            if json {
                json_line(&mut o, &rows);
            } else {
                outln!(o, "stores{when}");
                outln!(
                    o,
                    "  {:<8} {:>14} {:>12} {:>14} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12}",
                    "store",
                    "cash taken",
                    "paid out",
                    "revenue",
                    "bonus given",
                    "breakage",
                    "clawback",
                    "owes",
                    "is owed",
                    "adjustments"
                );
                for r in &rows {
                    outln!(
                        o,
                        "  {:<8} {:>14} {:>12} {:>14} {:>12} {:>10} {:>10} {:>12} {:>12} {:>12}",
                        r.store,
                        r.cash_taken,
                        r.cash_paid_out,
                        r.revenue,
                        r.bonus_granted,
                        r.breakage,
                        r.clawback,
                        r.owed,
                        r.owed_to,
                        r.adjustments
                    );
                }
            }
        }
        Report::Settlement => {
            let rows = snap.settlement();
            if json {
                json_line(&mut o, &rows);
            } else {
                outln!(o, "settlement{when}: what each store owes the stores that spent its members' principal");
                outln!(
                    o,
                    "  {:<8} {:<8} {:>14} {:>14} {:>14}",
                    "debtor",
                    "creditor",
                    "owed",
                    "settled",
                    "outstanding"
                );
                for r in &rows {
                    outln!(
                        o,
                        "  {:<8} {:<8} {:>14} {:>14} {:>14}",
                        r.debtor,
                        r.creditor,
                        r.owed,
                        r.settled,
                        r.outstanding
                    );
                }
            }
        }
        Report::Liability => {
            let l = snap.liability();
            if json {
                json_line(&mut o, &l);
            } else {
                outln!(o,
                    "stored-value liability{when}: {} members hold principal {}, bonus {} and packages {} ({} points)",
                    l.members, l.principal, l.bonus, l.packages, l.points
                );
                outln!(
                    o,
                    "  {:<8} {:>16} {:>14} {:>14}",
                    "store",
                    "principal",
                    "bonus",
                    "packages"
                );
                for s in &l.stores {
                    outln!(
                        o,
                        "  {:<8} {:>16} {:>14} {:>14}",
                        s.store,
                        s.principal,
                        s.bonus,
                        s.packages
                    );
                }
            }
        }
    }
    crate::emit(&o)
}

pub(crate) fn member_statement(
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
