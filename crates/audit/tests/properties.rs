//! Property tests of the audit reports over random command sequences: the books balance, the
//! inter-store figures agree from both sides, the liability report equals the members and the
//! liability accounts, a snapshot as of a past time equals a ledger that only ever saw the
//! commands up to it, and statements add up.

// Test scenarios read top to bottom, one step after another: no line limit here.
#![allow(clippy::too_many_lines)]

mod common;

use memberledger::domain::Account;
use memberledger::{Ledger, Money, Timestamp};
use memberledger_audit::{statement, Snapshot};
use proptest::prelude::*;

use common::{lines_from_steps, parse, Step};

const MEMBERS: u8 = 5;
const STORES: u8 = 3;

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..13,
        any::<u8>(),
        any::<u8>(),
        1u32..300_000,
        0u32..(60 * 24 * 30),
        any::<u16>(),
    )
        .prop_map(|(op, member, store, cents, minutes, pick)| Step {
            op,
            member,
            store,
            cents,
            minutes,
            pick,
        })
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 1..80)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

fn build(steps: &[Step]) -> (Ledger, Vec<String>) {
    let lines = lines_from_steps(steps, MEMBERS, STORES);
    let ledger = Ledger::in_memory();
    common::run(&ledger, &lines);
    (ledger, lines)
}

fn cents(m: &Money) -> i64 {
    m.cents()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_trial_balance_sums_to_zero(steps in steps()) {
        let (ledger, _) = build(&steps);
        let s = Snapshot::as_of(&ledger, None).unwrap();
        prop_assert_eq!(s.trial_balance_total(), 0);
        let rows = s.trial_balance().unwrap();
        prop_assert_eq!(rows.iter().map(|r| cents(&r.balance)).sum::<i64>(), 0);
        prop_assert!(rows.iter().all(|r| cents(&r.balance) != 0));
        prop_assert!(rows.windows(2).all(|w| w[0].account < w[1].account));
        prop_assert_eq!(rows.len(), s.accounts().values().filter(|c| **c != 0).count());
    }

    #[test]
    fn stores_owe_what_other_stores_are_owed(steps in steps()) {
        let (ledger, _) = build(&steps);
        let s = Snapshot::as_of(&ledger, None).unwrap();
        let reports = s.store_reports().unwrap();
        let pairs = s.settlement().unwrap();
        let owed: i64 = reports.iter().map(|r| cents(&r.owed)).sum();
        let owed_to: i64 = reports.iter().map(|r| cents(&r.owed_to)).sum();
        prop_assert_eq!(owed, owed_to);
        for p in &pairs {
            prop_assert_ne!(&p.debtor, &p.creditor);
            prop_assert_eq!(
                cents(&p.owed) - cents(&p.settled),
                cents(&p.outstanding),
                "{:?}", p
            );
        }
        // Pairs may be reported gross or netted (one row per pair, the net debtor owing);
        // either way a store's net position is what it owes less what it is owed.
        for r in &reports {
            let as_debtor: i64 = pairs
                .iter()
                .filter(|p| p.debtor == r.store)
                .map(|p| cents(&p.outstanding))
                .sum();
            let as_creditor: i64 = pairs
                .iter()
                .filter(|p| p.creditor == r.store)
                .map(|p| cents(&p.outstanding))
                .sum();
            prop_assert_eq!(
                cents(&r.owed) - cents(&r.owed_to),
                as_debtor - as_creditor,
                "{:?} {:?}",
                r,
                pairs
            );
        }
        for p in &pairs {
            prop_assert!(cents(&p.outstanding) >= 0, "{:?}", p);
        }
        // Each store's cash is what it took less what it paid out (no settlements yet).
        for r in &reports {
            let cash = s.balance(&Account::Cash(memberledger::StoreId::new(r.store.clone()).unwrap()));
            prop_assert_eq!(cash, i128::from(cents(&r.cash_taken) - cents(&r.cash_paid_out)), "{:?}", r);
        }
    }

    #[test]
    fn the_liability_is_what_members_hold_and_what_the_books_owe(steps in steps()) {
        let (ledger, _) = build(&steps);
        let s = Snapshot::as_of(&ledger, None).unwrap();
        let l = s.liability().unwrap();
        let ids = ledger.member_ids();
        prop_assert_eq!(l.members, u64::try_from(ids.len()).unwrap());
        let (mut principal, mut bonus, mut points) = (0i64, 0i64, 0u64);
        for id in &ids {
            let m = s.member(id).expect("every member is in the snapshot");
            let live = ledger.member(id).expect("a live member");
            prop_assert_eq!(m.principal(), live.principal);
            prop_assert_eq!(m.bonus(), live.bonus);
            principal += m.principal().cents();
            bonus += m.bonus().cents();
            points += m.points();
        }
        let (mut principal_accounts, mut bonus_accounts) = (0i128, 0i128);
        for (a, c) in s.accounts() {
            match a {
                Account::Principal(_) => principal_accounts += c,
                Account::Bonus(_) => bonus_accounts += c,
                _ => {}
            }
        }
        prop_assert_eq!(cents(&l.principal), principal);
        prop_assert_eq!(cents(&l.bonus), bonus);
        prop_assert_eq!(l.points, u128::from(points));
        prop_assert_eq!(i128::from(principal), -principal_accounts);
        prop_assert_eq!(i128::from(bonus), -bonus_accounts);
        prop_assert_eq!(l.stores.iter().map(|x| cents(&x.principal)).sum::<i64>(), principal);
        prop_assert_eq!(l.stores.iter().map(|x| cents(&x.bonus)).sum::<i64>(), bonus);
    }

    #[test]
    fn a_snapshot_as_of_a_time_equals_a_ledger_that_stopped_there(steps in steps()) {
        let (ledger, lines) = build(&steps);
        let mut times: Vec<Timestamp> = lines.iter().map(|l| parse(l).at).collect();
        times.sort();
        let t = times[times.len() / 2];
        let before: Vec<String> = lines
            .iter()
            .filter(|l| parse(l).at <= t)
            .cloned()
            .collect();
        prop_assert!(!before.is_empty() && before.len() <= lines.len());
        let stopped = Ledger::in_memory();
        common::run_batch(&stopped, &before);

        let past = Snapshot::as_of(&ledger, Some(t)).unwrap();
        let now = Snapshot::as_of(&stopped, None).unwrap();
        prop_assert_eq!(past.events, now.events);
        prop_assert_eq!(past.trial_balance().unwrap(), now.trial_balance().unwrap());
        prop_assert_eq!(past.store_reports().unwrap(), now.store_reports().unwrap());
        prop_assert_eq!(past.settlement().unwrap(), now.settlement().unwrap());
        prop_assert_eq!(past.liability().unwrap(), now.liability().unwrap());
        // And the full ledger as of its last time is the ledger now.
        let last = *times.last().unwrap();
        prop_assert_eq!(
            Snapshot::as_of(&ledger, Some(last)).unwrap().trial_balance().unwrap(),
            Snapshot::as_of(&ledger, None).unwrap().trial_balance().unwrap()
        );
    }

    #[test]
    fn statements_add_up_to_the_snapshot(steps in steps()) {
        let (ledger, _) = build(&steps);
        let s = Snapshot::as_of(&ledger, None).unwrap();
        for id in ledger.member_ids() {
            let st = statement(&ledger, &id, None, None).unwrap().expect("a statement");
            let m = s.member(&id).unwrap();
            prop_assert_eq!(st.opening.principal.cents(), 0);
            prop_assert_eq!(st.closing.principal, m.principal());
            prop_assert_eq!(st.closing.bonus, m.bonus());
            prop_assert_eq!(st.closing.points, m.points());
            prop_assert_eq!(&st.closing.tier, &m.tier);
            prop_assert_eq!(
                -s.balance(&Account::Principal(id.clone())),
                i128::from(st.closing.principal.cents())
            );
            let (mut p, mut b, mut pts) = (0i64, 0i64, 0i64);
            for line in &st.lines {
                p += cents(&line.principal_change);
                b += cents(&line.bonus_change);
                pts += line.points_change;
                prop_assert_eq!(line.balance.principal.cents(), p, "{:?}", line);
                prop_assert_eq!(line.balance.bonus.cents(), b, "{:?}", line);
                prop_assert_eq!(i64::try_from(line.balance.points).unwrap(), pts, "{:?}", line);
            }
            prop_assert_eq!(st.lines.len(), usize::try_from(m.version).unwrap());
        }
    }
}
