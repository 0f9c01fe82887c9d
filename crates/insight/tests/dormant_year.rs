//! The demo's dormant line said "0 members" idle 180+ days. Checked: in the demo's year
//! members are drawn often enough that every holder of stored value acts within about 175
//! days (the demo's ledger: 54 members idle 120+ days, 10 at 150, 2 at 175, none at 180), and
//! "now" is the year's end, after its last command. These tests hold the report to an
//! independent count from each member's events in a generated year, at several lines.

use std::collections::BTreeMap;

use memberledger::domain::EventBody;
use memberledger::{Ledger, Policy, Timestamp};
use memberledger_insight::{report, Projections};
use memberledger_testkit::year::{Shape, Year};

/// Whole days from `a` to `b`.
fn days(a: Timestamp, b: Timestamp) -> u64 {
    u64::try_from((b.as_datetime() - a.as_datetime()).num_seconds() / 86_400).unwrap_or(0)
}

/// Each holder's last activity, read from the member's events (not the projections).
fn holders_last_activity(ledger: &Ledger) -> BTreeMap<String, Timestamp> {
    let mut out = BTreeMap::new();
    for id in ledger.member_ids() {
        let view = ledger.member(&id).unwrap();
        if view.principal.cents() + view.bonus.cents() == 0 {
            continue;
        }
        let last = ledger
            .member_events(&id)
            .unwrap()
            .iter()
            .filter(|r| {
                matches!(
                    r.event.body,
                    EventBody::MemberEnrolled(_)
                        | EventBody::Recharged(_)
                        | EventBody::Consumed(_)
                        | EventBody::ConsumptionRefunded(_)
                        | EventBody::BalanceRefunded(_)
                        | EventBody::PackagePurchased(_)
                        | EventBody::SessionRedeemed(_)
                        | EventBody::PackageRefunded(_)
                )
            })
            .map(|r| r.event.at)
            .max()
            .unwrap();
        out.insert(id.to_string(), last);
    }
    out
}

#[test]
fn dormant_at_the_years_end_counts_every_holder_idle_past_the_line() {
    let ledger = Ledger::in_memory_with(Policy::builtin());
    let shape = Shape {
        stores: 4,
        members: 300,
        commands: 3_000,
        ..Shape::default()
    };
    let mut year = Year::new(7, shape);
    ledger.set_clock(memberledger::Clock::fixed(year.end()));
    year.record(&ledger, |_| {}, |_| {}).unwrap();
    year.close(&ledger, |_| {});
    let p = Projections::build(&ledger, None).unwrap();
    let now = year.end();
    assert!(
        p.latest().unwrap() <= now,
        "now is after every event of the year"
    );
    let last = holders_last_activity(&ledger);
    let longest = last.values().map(|t| days(*t, now)).max().unwrap();
    for line in [30, 60, 90, 180] {
        let r = report::dormant(&p, now, line);
        let expected = last
            .values()
            .filter(|t| days(**t, now) >= u64::from(line))
            .count();
        assert_eq!(r.members, u64::try_from(expected).unwrap(), "line {line}");
        assert_eq!(r.longest_idle_days, longest);
    }
}
