//! Properties of how salons charge (issue 14): a mixed payment splits to the cent, a refund
//! returns each part exactly, and late commands never change earlier balances.

use memberledger_core::{
    decide, Command, Context, Event, EventBody, MemberState, Money, Policy, Uuid,
};
use proptest::prelude::*;

const POLICY: &str = r#"{
  "tiers": [{"name": "standard", "discount": "0.95", "points_per_yuan": "1"}],
  "recharge_bonus": [{"min": "100.00", "bonus": "30.00"}],
  "points_earned_on": "principal_and_external",
  "late_window_hours": 72
}"#;

fn cmd(n: u128, at: &str, rest: &str) -> Command {
    let id = Uuid::from_u128(0x6f1c_2a48_3d6b_4f7e_9a51_0000_0000_0000 + n);
    Command::from_json(&format!(
        r#"{{"id":"{id}","at":"{at}","member":"M1","store":"S1",{rest}}}"#
    ))
    .unwrap()
}

fn run(policy: &Policy, state: &mut Option<MemberState>, c: &Command) -> Vec<Event> {
    let events = decide(&Context::founding(policy).with_member(state.as_ref()), c)
        .unwrap()
        .events;
    for e in &events {
        MemberState::fold_onto(state, e).unwrap();
    }
    events
}

fn money(cents: i64) -> String {
    Money::from_cents(cents).to_string()
}

/// A member holding `recharge` (plus its bonus), then a consume of `price` paid with `method`.
fn funded(policy: &Policy, recharge: i64) -> Option<MemberState> {
    let mut s = None;
    run(
        policy,
        &mut s,
        &cmd(1, "2026-03-01T10:00:00Z", r#""type":"enroll""#),
    );
    if recharge > 0 {
        let rest = format!(r#""type":"recharge","amount":"{}""#, money(recharge));
        run(policy, &mut s, &cmd(2, "2026-03-01T10:01:00Z", &rest));
    }
    s
}

proptest! {
    #[test]
    fn a_mixed_payment_splits_to_the_cent(
        recharge in 0i64..50_000,
        price in 1i64..100_000,
        fixed in prop::option::of(1i64..100_000),
    ) {
        let policy = Policy::from_json(POLICY).unwrap();
        let mut s = funded(&policy, recharge);
        let held = s.as_ref().unwrap().principal().plus(s.as_ref().unwrap().bonus());
        let external = fixed.map_or(String::new(), |c| format!(r#","external":"{}""#, money(c)));
        let rest = format!(r#""type":"consume","amount":"{}","method":"cash"{external}"#, money(price));
        let c = cmd(3, "2026-03-02T10:00:00Z", &rest);
        let Ok(d) = decide(&Context::founding(&policy).with_member(s.as_ref()), &c) else {
            return Ok(());
        };
        let EventBody::Consumed(b) = &d.events.last().unwrap().body else { panic!("a consumption") };
        let paid_out = b.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        prop_assert_eq!(b.principal.plus(b.bonus).plus(paid_out), b.charged);
        prop_assert!(b.principal.plus(b.bonus) <= held);
        if fixed.is_none() {
            // What the card cannot cover, and no more.
            prop_assert_eq!(paid_out, b.charged.minus(held).max(Money::ZERO));
        }
        for e in &d.events {
            MemberState::fold_onto(&mut s, e).unwrap();
            memberledger_core::check_balanced(&memberledger_core::postings(e)).unwrap();
        }
    }

    #[test]
    fn a_refund_returns_each_part_exactly(
        recharge in 1i64..50_000,
        price in 1i64..100_000,
        parts in prop::collection::vec(1i64..30_000, 0..4),
    ) {
        let policy = Policy::from_json(POLICY).unwrap();
        let mut s = funded(&policy, recharge);
        let rest = format!(r#""type":"consume","amount":"{}","method":"wechat""#, money(price));
        let consumed = run(&policy, &mut s, &cmd(3, "2026-03-02T10:00:00Z", &rest));
        let EventBody::Consumed(b) = &consumed.last().unwrap().body else { panic!("a consumption") };
        let paid_out = b.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        let c1 = consumed[0].command;
        let (mut card, mut ext, mut total) = (Money::ZERO, Money::ZERO, Money::ZERO);
        let mut last_rest = None;
        for (i, part) in parts.iter().map(|c| Some(*c)).chain([None]).enumerate() {
            let amount = part.map_or(String::new(), |c| format!(r#","amount":"{}""#, money(c)));
            let rest = format!(r#""type":"refund_consumption","consumption":"{c1}"{amount}"#);
            let c = cmd(10 + i as u128, "2026-03-03T10:00:00Z", &rest);
            let Ok(d) = decide(&Context::founding(&policy).with_member(s.as_ref()), &c) else {
                continue;
            };
            for e in &d.events {
                if let EventBody::ConsumptionRefunded(r) = &e.body {
                    let back = r.external.as_ref().map_or(Money::ZERO, |x| x.amount);
                    prop_assert_eq!(r.principal.plus(r.bonus).plus(back), r.amount);
                    card = card.plus(r.principal).plus(r.bonus);
                    ext = ext.plus(back);
                    total = total.plus(r.amount);
                }
                MemberState::fold_onto(&mut s, e).unwrap();
            }
            last_rest = Some(part.is_none());
        }
        // The last refund (of all that was left) brings each part back exactly.
        prop_assert_eq!(last_rest, Some(true));
        prop_assert_eq!(total, b.charged);
        prop_assert_eq!(ext, paid_out);
        prop_assert_eq!(card, b.principal.plus(b.bonus));
    }

    #[test]
    fn late_commands_never_change_earlier_balances(
        recharge in 1i64..50_000,
        price in 1i64..20_000,
        back_secs in 1i64..(80 * 3_600),
    ) {
        let policy = Policy::from_json(POLICY).unwrap();
        let mut s = funded(&policy, recharge);
        let later = "2026-03-05T12:00:00Z";
        run(&policy, &mut s, &cmd(3, later, r#""type":"recharge","amount":"10.00""#));
        let before = s.clone().unwrap();
        let at = chrono::DateTime::parse_from_rfc3339(later).unwrap()
            - chrono::Duration::seconds(back_secs);
        let at = at.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let rest = format!(r#""type":"consume","amount":"{}","method":"cash""#, money(price));
        let c = cmd(4, &at, &rest);
        match decide(&Context::founding(&policy).with_member(s.as_ref()), &c) {
            Ok(d) => {
                prop_assert!(back_secs <= 72 * 3_600);
                for e in &d.events {
                    // Every event takes effect at the member's current point, none before it.
                    prop_assert_eq!(e.at, before.last_at);
                    prop_assert_eq!(e.occurred_at, Some(c.at));
                    MemberState::fold_onto(&mut s, e).unwrap();
                }
                let after = s.unwrap();
                prop_assert_eq!(after.last_at, before.last_at);
                // The lots held before are the lots drawn from: nothing before is rewritten.
                prop_assert!(after.principal() <= before.principal());
            }
            Err(e) => {
                prop_assert!(back_secs > 72 * 3_600, "{e}");
                prop_assert_eq!(e.code(), "out_of_order");
            }
        }
    }
}
