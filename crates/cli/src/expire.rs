//! `memberledger expire`: records the expiries due by a time.

use memberledger::domain::events::{BonusExpired, PackageExpired, PointsExpired};
use memberledger::Ledger;

use crate::{emit_done, report, Fail};

/// Records every member's expiries due by `as_of` and says what lapsed.
pub(crate) fn run(ledger: &Ledger, as_of: &str) -> Result<u8, Fail> {
    let at = report::parse_time(Some(as_of))?.expect("given");
    let results = ledger.expire_due(at);
    let (mut members, mut bonus, mut points) = (0u64, memberledger::Money::ZERO, 0u64);
    let mut packages = memberledger::Money::ZERO;
    for r in &results {
        let receipt = r.as_ref().map_err(|e| Fail::from(e.clone()))?;
        members += 1;
        for e in &receipt.events {
            match &e.event.body {
                memberledger::domain::EventBody::BonusExpired(BonusExpired { amount, .. }) => {
                    bonus = bonus.plus(*amount)
                }
                memberledger::domain::EventBody::PointsExpired(PointsExpired {
                    points: p, ..
                }) => points += p,
                memberledger::domain::EventBody::PackageExpired(PackageExpired {
                    amount, ..
                }) => {
                    packages = packages.plus(*amount);
                }
                _ => {}
            }
        }
    }
    let done =
        format!("expired as of {at}: {members} members, bonus {bonus}, {points} points, packages {packages}");
    emit_done(&format!("{done}\n"), &done)
}
