//! `memberledger report prepaid|refundable` and `memberledger close-business`: the prepaid-card
//! filing figures by issuing entity, what every member is owed, and recording the refunds when
//! the card business closes (docs/COMPLIANCE.md).

use memberledger::Ledger;
use memberledger_audit::{close_business, prepaid_report, refundable, PrepaidReport, Quarter};

use crate::report::{json_line, parse_time};
use crate::Fail;

/// The options of the prepaid reports.
#[derive(clap::Args, Default)]
pub(crate) struct PrepaidArgs {
    /// prepaid: the quarter (`2026Q3`).
    #[arg(long)]
    quarter: Option<String>,
    /// prepaid: one issuing entity's figures (`default` for stores no entity lists).
    #[arg(long)]
    entity: Option<String>,
    /// refundable: the time of the refunds (RFC 3339; now by default).
    #[arg(long)]
    at: Option<String>,
}

/// `report prepaid`: one table (or JSON object, or CSV row) per entity.
pub(crate) fn report(
    ledger: &Ledger,
    args: &PrepaidArgs,
    (json, csv, utc_offset_hours): (bool, bool, i32),
) -> Result<u8, Fail> {
    let quarter: Quarter = args
        .quarter
        .as_deref()
        .ok_or_else(|| Fail::usage("report prepaid needs --quarter, like --quarter 2026Q3"))?
        .parse()
        .map_err(Fail::usage)?;
    let offset = utc_offset_hours
        .checked_mul(3600)
        .filter(|s| s.abs() <= 14 * 3600)
        .ok_or_else(|| Fail::usage("--utc-offset is -14 to 14 hours"))?;
    let r = prepaid_report(ledger, quarter, offset, args.entity.as_deref())?;
    if args.entity.is_some() && r.entities.is_empty() {
        return Err(Fail::usage(format!(
            "no entity {:?} in the policy or the books",
            args.entity.as_deref().unwrap_or_default()
        )));
    }
    let mut o = String::new();
    if json {
        json_line(&mut o, &r);
    } else if csv {
        csv_rows(&mut o, &r);
    } else {
        table(&mut o, &r);
    }
    crate::emit(&o)
}

const CSV_HEADER: &str = "quarter,entity,name,kind,deposit_ratio,previous_paid,principal,packages,paid,bonus,deposit_required,deposit_required_next,sold,consumed,refunded,clawed_back,expired,adjusted,transferred,members_over_cap,thresholds_crossed";

fn csv_rows(o: &mut String, r: &PrepaidReport) {
    outln!(o, "{CSV_HEADER}");
    for e in &r.entities {
        let (out, m) = (&e.outstanding, &e.movement);
        let kind = e
            .kind
            .map(|k| serde_json::to_value(k).expect("a kind serialises"))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let name = e.name.as_deref().unwrap_or_default().replace('"', "\"\"");
        outln!(
            o,
            "{},{},\"{name}\",{kind},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.quarter,
            e.entity,
            e.deposit_ratio,
            e.previous.paid,
            out.principal,
            out.packages,
            out.paid,
            out.bonus,
            e.deposit_required,
            e.deposit_required_next,
            m.sold,
            m.consumed,
            m.refunded,
            m.clawed_back,
            m.expired,
            m.adjusted,
            m.transferred,
            e.members_over_cap.len(),
            e.thresholds_crossed.join(";")
        );
    }
}

fn table(o: &mut String, r: &PrepaidReport) {
    outln!(o, "prepaid balances {} ({} to {})", r.quarter, r.from, r.to);
    for e in &r.entities {
        let (out, m) = (&e.outstanding, &e.movement);
        outln!(
            o,
            "\n{} {} (deposit ratio {})",
            e.entity,
            e.name.as_deref().unwrap_or("(stores no entity lists)"),
            e.deposit_ratio
        );
        outln!(
            o,
            "  outstanding paid    {:>14}  (principal {}, packages {}; previous quarter {})",
            out.paid.to_string(),
            out.principal,
            out.packages,
            e.previous.paid
        );
        outln!(o, "  bonus (not paid)    {:>14}", out.bonus.to_string());
        outln!(
            o,
            "  deposit required    {:>14}  (next quarter {})",
            e.deposit_required.to_string(),
            e.deposit_required_next
        );
        outln!(o, "  sold {} · consumed {} · refunded {} · clawed back {} · expired {} · adjusted {} · transferred {}", m.sold, m.consumed, m.refunded, m.clawed_back, m.expired, m.adjusted, m.transferred);
        for c in &e.members_over_cap {
            outln!(
                o,
                "  over the cap of {}: {} holds {}",
                c.cap,
                c.member,
                c.stored_value
            );
        }
        if !e.thresholds_crossed.is_empty() {
            outln!(
                o,
                "  thresholds crossed: {}",
                e.thresholds_crossed.join(", ")
            );
        }
    }
}

/// `report refundable`: what every member would be paid if the card business closed at
/// --at.
pub(crate) fn report_refundable(
    ledger: &Ledger,
    args: &PrepaidArgs,
    json: bool,
) -> Result<u8, Fail> {
    let at = parse_time(args.at.as_deref())?.unwrap_or_else(memberledger::Timestamp::now);
    let list = refundable(ledger, at);
    let mut o = String::new();
    if json {
        json_line(&mut o, &list);
    } else {
        outln!(
            o,
            "{:<24} {:>14} {:>14} {:>14} {:>14}  refused",
            "member",
            "principal",
            "bonus",
            "packages",
            "refundable"
        );
        for r in &list {
            outln!(
                o,
                "{:<24} {:>14} {:>14} {:>14} {:>14}  {}",
                r.member,
                r.principal.to_string(),
                r.bonus.to_string(),
                r.packages.to_string(),
                r.refundable.to_string(),
                r.refused.as_deref().unwrap_or("")
            );
        }
    }
    crate::emit(&o)
}

/// `close-business --at T [--execute]`: a dry run unless --execute; exit 1 when a member's
/// refund could not be recorded.
pub(crate) fn close(ledger: &Ledger, at: &str, execute: bool, json: bool) -> Result<u8, Fail> {
    let at = parse_time(Some(at))?.expect("given");
    let (_, summary) = close_business(ledger, at, execute)?;
    let mut o = String::new();
    if json {
        json_line(&mut o, &summary);
    } else {
        outln!(
            o,
            "{}: {} members, {} to refund; {} commands recorded, {} already recorded, {} refused",
            if execute {
                "closed"
            } else {
                "dry run (add --execute to record)"
            },
            summary.members,
            summary.refundable,
            summary.recorded,
            summary.replayed,
            summary.refused
        );
    }
    crate::emit(&o)?;
    Ok(u8::from(summary.refused > 0))
}
