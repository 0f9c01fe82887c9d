//! The refundable-consumption records of a full replay, folded only where they are read.
//!
//! A full replay (`verify`) holds every consumption refund to what its consumption drew, which
//! needs the member's consumption records; keeping them for every member cost more than a
//! tenth of a large verify's time and well over a third of its memory, for the few members
//! that ever refund. So the replay folds every member compactly, as an open does, and notes
//! the members whose fold reads the records: each that records a consumption refund, or a
//! command with two consumptions (a consumption recorded twice). Those members are then
//! folded again from their own events, with the records, on every core, and each must fold
//! without error to the member the replay has.
//!
//! Anything else (the replay fails, a noted member fails to fold or folds to another state,
//! its events cannot be read) is settled by replaying again with every member's records, in
//! log order: the failure reported, its position and its words, are always what a
//! one-threaded replay with the records finds.
//!
//! Folding a member again costs more than keeping its records: its events are read and
//! decoded again. The members who refund are the frequent visitors, and where many refund
//! (a chain's realistic year: a fifth of its members, holding nearly half of the log) folding
//! them again costs several times what the records cost. So the replay gives up as soon as
//! more members refund than [`Refolds::over_budget`] allows (a thirty-second of the members
//! met, and never fewer than 256), and replays with every member's records: such a log gives
//! up early, where few members have refunded yet.

use std::collections::HashSet;

use memberledger_core::{Event, EventBody, MemberId, MemberState, Uuid};
use memberledger_store::EventStore;
use rayon::prelude::*;

use super::Members;

/// The most members folded again whatever the members met: a small ledger's refunders are a
/// few hundred reads.
const FLOOR: usize = 256;

/// The members a full replay folds again with their consumption records.
#[derive(Default)]
pub(super) struct Refolds {
    members: HashSet<MemberId>,
    /// The command of the last consumption folded (a command's events are contiguous: a
    /// second consumption of one command follows the first).
    consumption: Option<Uuid>,
}

impl Refolds {
    /// Notes a member event just folded without the records.
    pub(super) fn note(&mut self, e: &Event) {
        match &e.body {
            EventBody::ConsumptionRefunded(_) => {
                self.members.insert(e.member.clone());
            }
            EventBody::Consumed(_) if self.consumption.replace(e.command) == Some(e.command) => {
                self.members.insert(e.member.clone());
            }
            _ => {}
        }
    }

    /// Whether more members are noted than a replay that has met `members` members folds
    /// again: more than a thirty-second of them, and more than [`FLOOR`].
    pub(super) fn over_budget(&self, members: usize) -> bool {
        self.members.len() > FLOOR.max(members / 32)
    }

    /// Whether no member is noted.
    pub(super) fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether every noted member, folded again from its own events with the records (each
    /// event of it up to position `end`, in ascending order), folds without error to the
    /// member in `members`.
    pub(super) fn hold(&self, store: &dyn EventStore, members: &Members, end: u64) -> bool {
        self.members
            .par_iter()
            .all(|id| refold_holds(store, members, id, end))
    }
}

/// Whether member `id`, folded again with its consumption records from the events the store
/// lists for it, equals the replay's compact fold of it in `members` (the same events, to
/// the same state, the records aside).
fn refold_holds(store: &dyn EventStore, members: &Members, id: &MemberId, end: u64) -> bool {
    let Ok(events) = store.member_events(id) else {
        return false;
    };
    let mut state: Option<MemberState> = None;
    let mut last = 0;
    // Events past the replay's end are another writer's, appended to a shared store since.
    for rec in events.iter().take_while(|rec| rec.position <= end) {
        if rec.event.member != *id || rec.position <= last {
            return false;
        }
        last = rec.position;
        if MemberState::fold_onto(&mut state, &rec.event).is_err() {
            return false;
        }
    }
    // The version, a field of the state, is the count of events folded: the same events.
    match (state, members.get(id)) {
        (Some(full), Some(compact)) => full.without_consumption_records() == *compact,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use memberledger_core::{Command, Policy};
    use proptest::prelude::*;

    use super::super::{replay_deferring_records, Fold, Replayed};
    use super::*;
    use crate::Ledger;

    /// A ledger of three members who recharge, consume, refund consumptions (whole, in part,
    /// and ones already refunded or of another member: refused, which records nothing) and
    /// refund their balance, one step each of `steps`: (what, member, cents, which).
    fn ledger(steps: &[(u8, u8, u32, u8)]) -> Ledger {
        let l = Ledger::in_memory();
        // Each consumption with its member: most refunds name one of their own member's.
        let mut consumes: Vec<(u8, Uuid)> = Vec::new();
        let run = |i: usize, member: u8, rest: &str| {
            let id = Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 | (i as u128));
            let (day, minute) = (1 + i / 1440, i % 1440);
            let line = format!(
                r#"{{"id":"{id}","at":"2026-03-{day:02}T{:02}:{:02}:00Z","member":"M{member}","store":"S{}",{rest}}}"#,
                minute / 60,
                minute % 60,
                1 + member % 2
            );
            // Refused commands record nothing: they are part of the history all the same.
            let _ = l.execute(&Command::from_json(&line).unwrap());
            id
        };
        for m in 0..3 {
            run(usize::from(m) + 1, m, r#""type":"enroll""#);
        }
        for (i, &(what, member, cents, which)) in steps.iter().enumerate() {
            let (i, amount) = (
                i + 10,
                memberledger_core::Money::from_cents(i64::from(cents)),
            );
            let rest = match what {
                0 | 1 => format!(r#""type":"recharge","amount":"{amount}""#),
                // A quarter: most find the balance to draw on.
                2 | 3 => format!(
                    r#""type":"consume","amount":"{}""#,
                    memberledger_core::Money::from_cents(i64::from(cents / 4 + 1))
                ),
                4 | 5 if !consumes.is_empty() => {
                    let own: Vec<Uuid> = consumes
                        .iter()
                        .filter(|c| c.0 == member || which % 5 == 0)
                        .map(|c| c.1)
                        .collect();
                    let c = own
                        .get(usize::from(which) % own.len().max(1))
                        .copied()
                        .unwrap_or(consumes[0].1);
                    let part = if what == 4 {
                        String::new()
                    } else {
                        format!(r#","amount":"{amount}""#)
                    };
                    format!(r#""type":"refund_consumption","consumption":"{c}"{part}"#)
                }
                _ => r#""type":"refund_balance""#.to_owned(),
            };
            let id = run(i, member, &rest);
            if what == 2 || what == 3 {
                consumes.push((member, id));
            }
        }
        l
    }

    /// The full replay that folds every member's records, its members compacted.
    fn with_every_record(l: &Ledger) -> Replayed {
        let mut fold =
            Fold::from_genesis(l.event_store(), l.founding_policy(), true, None).unwrap();
        fold.run(l.event_store(), true).unwrap();
        let mut replayed = fold.finish(l.event_store(), true);
        crate::projection::compact_replayed(&mut replayed.members, &replayed.history, true);
        replayed
    }

    proptest! {
        /// A full replay that folds again only the members who refund finds what one that folds
        /// every member's records finds: it never has to fall back on a sound log.
        #[test]
        fn refolding_the_refunders_is_the_replay_with_every_record(
            steps in prop::collection::vec((0u8..7, 0u8..3, 1u32..20_000, any::<u8>()), 0..60)
        ) {
            let l = ledger(&steps);
            let mut fast = replay_deferring_records(l.event_store(), l.founding_policy())
                .expect("a sound log refolds its refunders");
            crate::projection::compact_replayed(&mut fast.members, &fast.history, false);
            let slow = with_every_record(&l);
            prop_assert_eq!((fast.events, fast.head), (slow.events, slow.head));
            prop_assert_eq!(fast.members.len(), slow.members.len());
            for m in slow.members.values() {
                prop_assert_eq!(fast.members.get(&m.member), Some(m));
            }
        }
    }

    #[test]
    fn the_refunders_are_noted_and_a_refold_that_differs_does_not_hold() {
        let l = ledger(&[
            (0, 1, 50_000, 0),
            (2, 1, 1_000, 0),
            (5, 1, 100, 0),
            (2, 2, 10, 0),
        ]);
        let store = l.event_store();
        let mut fold =
            Fold::from_genesis(store, &Policy::builtin(), true, Some(Refolds::default())).unwrap();
        fold.run(store, true).unwrap();
        let refolds = fold.refolds.take().unwrap();
        let noted: Vec<String> = refolds.members.iter().map(ToString::to_string).collect();
        assert_eq!(noted, ["M1"]);
        assert!(refolds.hold(store, &fold.members, fold.n));
        // Folded short of the replay's end (its last event is M1's refund): not the replay's.
        let last = l.events(1, 64).map(Result::unwrap).last().unwrap();
        assert_eq!(
            (last.position, last.event.member.to_string()),
            (fold.n, "M1".to_owned())
        );
        assert!(!refolds.hold(store, &fold.members, fold.n - 1));
        let m1: MemberId = "M1".parse().unwrap();
        let mut changed = fold.members.get(&m1).unwrap().clone();
        changed.version += 1;
        fold.members.insert(Box::new(changed));
        assert!(!refolds.hold(store, &fold.members, fold.n));
    }

    #[test]
    fn a_command_that_consumes_twice_is_noted() {
        let l = ledger(&[(0, 1, 50_000, 0), (2, 1, 1_000, 0), (2, 1, 2_000, 0)]);
        let consumed: Vec<Event> = l
            .events(1, 64)
            .map(|e| e.unwrap().event)
            .filter(|e| matches!(e.body, EventBody::Consumed(_)))
            .collect();
        let mut refolds = Refolds::default();
        // Two consumptions, each of its own command.
        refolds.note(&consumed[0]);
        refolds.note(&consumed[1]);
        assert!(refolds.is_empty());
        // A command met with a second consumption.
        refolds.note(&consumed[1]);
        assert_eq!(refolds.members.len(), 1);
    }

    #[test]
    fn the_budget_is_a_thirty_second_of_the_members_met_and_never_below_the_floor() {
        let l = ledger(&[(0, 1, 50_000, 0), (2, 1, 1_000, 0)]);
        let event = l.events(1, 64).map(|e| e.unwrap().event).last().unwrap();
        let mut refolds = Refolds::default();
        for i in 0..=FLOOR {
            let mut e = event.clone();
            e.member = format!("R{i}").parse().unwrap();
            e.body = l
                .events(1, 64)
                .map(|e| e.unwrap().event.body)
                .find(|b| matches!(b, EventBody::Consumed(_)))
                .unwrap();
            e.command = Uuid::from_u128(i as u128);
            refolds.note(&e);
            refolds.note(&e);
        }
        assert_eq!(refolds.members.len(), FLOOR + 1);
        assert!(refolds.over_budget(0));
        assert!(refolds.over_budget(32 * FLOOR));
        assert!(!refolds.over_budget(32 * (FLOOR + 1)));
    }

    #[test]
    fn a_log_where_many_members_refund_gives_up_and_replays_with_every_record() {
        let l = Ledger::in_memory();
        let run = |n: usize, member: usize, day: usize, rest: &str| {
            let id = Uuid::from_u128(0x2000_0000_0000_4000_8000_0000_0000_0000 | (n as u128));
            let line = format!(
                r#"{{"id":"{id}","at":"2026-03-{day:02}T10:{:02}:{:02}Z","member":"M{member}","store":"S1",{rest}}}"#,
                (n / 60) % 60,
                n % 60
            );
            l.execute(&Command::from_json(&line).unwrap()).unwrap();
            id
        };
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        for m in 0..=FLOOR {
            run(next(), m, 1, r#""type":"enroll""#);
        }
        for m in 0..=FLOOR {
            run(next(), m, 2, r#""type":"recharge","amount":"100.00""#);
        }
        let consumed: Vec<Uuid> = (0..=FLOOR)
            .map(|m| run(next(), m, 3, r#""type":"consume","amount":"10.00""#))
            .collect();
        for (m, c) in consumed.iter().enumerate() {
            run(
                next(),
                m,
                4,
                &format!(r#""type":"refund_consumption","consumption":"{c}""#),
            );
        }
        let store = l.event_store();
        let mut fold =
            Fold::from_genesis(store, l.founding_policy(), true, Some(Refolds::default())).unwrap();
        match fold.run(store, true) {
            Err(crate::Error::Corrupt { why, .. }) => {
                assert_eq!(why, "more members refund than a replay folds again");
            }
            other => panic!("expected the replay to give up, got {other:?}"),
        }
        assert!(replay_deferring_records(store, l.founding_policy()).is_none());
        let replayed = super::super::replay(store, l.founding_policy(), true).unwrap();
        assert_eq!(replayed.members.len(), FLOOR + 1);
        assert!(l.verify().unwrap().ok());
    }
}
