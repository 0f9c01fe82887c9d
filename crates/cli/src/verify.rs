//! `memberledger verify` of a ledger, and the report every verify prints.

use crate::{emit, Db, Fail};

/// What `verify` says of a ledger written before founding records existed (not a failure:
/// its next writable open records the founding policy in the chain).
const OLD_LEDGER_NOTE: &str = "founding policy not in the chain (old ledger): version 1 is only in the ledger's settings; the next command that opens it to write (anything but verify) records it";

/// The report, failed when its chain ends at another head than the one pinned.
pub(crate) fn pinned(
    mut report: memberledger::VerifyReport,
    head: Option<&str>,
) -> memberledger::VerifyReport {
    if let Some(pin) = head.filter(|pin| report.ok() && !report.head.eq_ignore_ascii_case(pin)) {
        report.problem = Some(memberledger::Problem::new(
            report.events,
            format!(
                "the chain ends at position {} with head {}, not at the pinned head {pin}: \
                 it was cut short, extended or rewritten",
                report.events, report.head
            ),
        ));
    }
    report
}

/// Verifies the ledger at `db` (against a pinned head when given) and prints the report.
pub(crate) fn run(db: &Db, json: bool, head: Option<&str>) -> Result<u8, Fail> {
    // Opening replays the whole log with every check `verify` makes, once; a damaged log
    // fails there, and that is a verify failure with its position, not an I/O error.
    let (report, old_ledger) = match db.open_verified() {
        Ok((ledger, report)) => {
            let old_ledger = !ledger.founding_policy_in_chain();
            if matches!(db, Db::Dir(p) if memberledger::StoreKind::at(p) == memberledger::StoreKind::File)
            {
                // Not dropped: the process ends after the report, and freeing every member's
                // state one by one took a twentieth of a verify of 100,000 members. Only a
                // file store's: opened read-only, it has nothing to write, close or remove (a
                // sled ledger is read from a private copy, removed when it is dropped).
                std::mem::forget(ledger);
            }
            (report, old_ledger)
        }
        Err(memberledger::Error::Corrupt { position, why }) => {
            (memberledger::VerifyReport::failed(position, why), false)
        }
        Err(e) => return Err(e.into()),
    };
    print_report(&pinned(report, head), json, old_ledger)
}

/// Prints a verify report (as JSON, or as text, noting a ledger whose founding policy is not
/// in the chain); exit 1 when it names a problem.
pub(crate) fn print_report(
    report: &memberledger::VerifyReport,
    json: bool,
    old_ledger: bool,
) -> Result<u8, Fail> {
    let mut o = String::new();
    if json {
        outln!(
            o,
            "{}",
            serde_json::to_string(report).expect("report serialises")
        );
    } else if let Some(p) = &report.problem {
        outln!(o, "verify: FAILED at position {}: {}", p.position, p.what);
    } else {
        outln!(
            o,
            "verify: ok — {} events, {} members, chain head {}\n  held: principal {} · bonus {} · points {}",
            report.events, report.members, report.head, report.principal, report.bonus, report.points
        );
        if old_ledger {
            outln!(o, "  {OLD_LEDGER_NOTE}");
        }
    }
    emit(&o)?;
    Ok(u8::from(!report.ok()))
}
