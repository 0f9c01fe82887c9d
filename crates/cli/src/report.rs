//! `memberledger report …`: tables for people, `--json` for tools.

use memberledger::{Ledger, Timestamp};
use memberledger_audit::Snapshot;
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
    /// 流失预警: members past or nearing --idle-days away, with balance held and lifetime spend.
    Churn,
    /// Stored value untouched for --days, by the store that holds it.
    Dormant,
    /// Stored-value turnover (储值资金周转率) per store and month.
    Turnover,
    /// Staff sales, services, refunds and commission (提成) over --from/--to.
    Staff,
    /// Services ranked, and the weekday × hour heatmap (项目热度).
    Services,
    /// The --top members by --by ltv|spend|visits.
    Members,
    /// Prepaid balances by issuing entity for --quarter: deposits, movement, caps, thresholds.
    Prepaid,
    /// What every member would be refunded if the card business closed --at a time.
    Refundable,
    /// Bonus ladders by policy version, rule and cohort of --cohorts: recharges, bonus,
    /// liability created, turnover, breakage.
    Campaigns,
}

impl Report {
    /// The insight report it names, if it is one.
    pub(crate) fn insight(self) -> Option<crate::insight::Which> {
        use crate::insight::Which;
        Some(match self {
            Report::Churn => Which::Churn,
            Report::Dormant => Which::Dormant,
            Report::Turnover => Which::Turnover,
            Report::Staff => Which::Staff,
            Report::Services => Which::Services,
            Report::Members => Which::Members,
            Report::Campaigns => Which::Campaigns,
            Report::TrialBalance
            | Report::Stores
            | Report::Settlement
            | Report::Liability
            | Report::Prepaid
            | Report::Refundable => return None,
        })
    }
}

pub(crate) fn parse_time(s: Option<&str>) -> Result<Option<Timestamp>, Fail> {
    s.map(|t| {
        t.parse()
            .map_err(|e: memberledger::domain::Rejection| Fail::usage(e.to_string()))
    })
    .transpose()
}

pub(crate) fn json_line(o: &mut String, v: &impl Serialize) {
    outln!(
        o,
        "{}",
        serde_json::to_string(v).expect("reports serialise")
    );
}

/// Prints one report, now or as of a past time.
pub(crate) fn run(
    ledger: &Ledger,
    report: Report,
    as_of: Option<&str>,
    json: bool,
) -> Result<u8, Fail> {
    let mut o = String::new();
    let snap = Snapshot::as_of(ledger, parse_time(as_of)?)?;
    let when = as_of.map(|t| format!(" as of {t}")).unwrap_or_default();
    let print = match report {
        Report::TrialBalance => trial_balance,
        Report::Stores => stores,
        Report::Settlement => settlement,
        // The insight reports are dispatched to crate::insight before this.
        _ => liability,
    };
    print(&mut o, &snap, &when, json)?;
    crate::emit(&o)
}

/// Every account's balance and the total (zero).
fn trial_balance(o: &mut String, snap: &Snapshot, when: &str, json: bool) -> Result<(), Fail> {
    let rows = snap.trial_balance()?;
    let total = memberledger::domain::format_cents(snap.trial_balance_total());
    if json {
        json_line(o, &serde_json::json!({"accounts": rows, "total": total}));
    } else {
        outln!(o, "trial balance{when} ({} events)", snap.events);
        for r in &rows {
            outln!(o, "  {:<52} {:>16}", r.account, r.balance.to_string());
        }
        outln!(o, "  {:<52} {:>16}", "total", total);
    }
    Ok(())
}

/// Per store: cash, revenue, bonus, breakage, claw-back, debts, adjustments.
fn stores(o: &mut String, snap: &Snapshot, when: &str, json: bool) -> Result<(), Fail> {
    let rows = snap.store_reports()?;
    if json {
        json_line(o, &rows);
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
                r.cash_taken.to_string(),
                r.cash_paid_out.to_string(),
                r.revenue.to_string(),
                r.bonus_granted.to_string(),
                r.breakage.to_string(),
                r.clawback.to_string(),
                r.owed.to_string(),
                r.owed_to.to_string(),
                r.adjustments.to_string()
            );
        }
    }
    Ok(())
}

/// Per pair of stores: owed, settled, outstanding.
fn settlement(o: &mut String, snap: &Snapshot, when: &str, json: bool) -> Result<(), Fail> {
    let rows = snap.settlement()?;
    if json {
        json_line(o, &rows);
    } else {
        outln!(
            o,
            "settlement{when}: what each store owes the stores that spent its members' principal"
        );
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
                r.owed.to_string(),
                r.settled.to_string(),
                r.outstanding.to_string()
            );
        }
    }
    Ok(())
}

/// Stored value held for members, in total and by store.
fn liability(o: &mut String, snap: &Snapshot, when: &str, json: bool) -> Result<(), Fail> {
    let l = snap.liability()?;
    if json {
        json_line(o, &l);
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
                s.principal.to_string(),
                s.bonus.to_string(),
                s.packages.to_string()
            );
        }
    }
    Ok(())
}
