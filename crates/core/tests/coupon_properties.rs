//! Property tests of coupons over random command sequences: one member, recharges, coupons of
//! every kind issued, visits at random prices naming a random coupon (or none) and paying the
//! rest from the card or in cash, refunds in full or in part, and clock jumps past expiries,
//! under random tier discounts.
//!
//! For every sequence: a coupon never takes more than the charge at the tier's discount, and
//! the member pays exactly the rest; every entry balances, and a visit's revenue is its full
//! charge (what was paid plus the promotion expense); a coupon is redeemed by one visit at a
//! time, and a refund in full gives it back exactly once (never a partial one); a replay of the
//! events equals the live state.

use std::collections::BTreeMap;

use memberledger_core::events::{Consumed, ConsumptionRefunded};
use memberledger_core::{
    check_balanced, decide, postings, Command, Context, Decision, EventBody, MemberState, Policy,
    Timestamp, Uuid,
};
use proptest::prelude::*;

mod common;
use serde_json::json;

const NAMES: Uuid = Uuid::from_u128(0x7c0a_0b5e_1d22_4e6f_9a3b_5c4d_6e7f_8091);

#[derive(Clone, Debug)]
enum Op {
    Recharge(i64),
    Amount(i64),
    Percent {
        percent: u32,
        cap: i64,
    },
    Threshold {
        threshold: i64,
        off: i64,
    },
    Visit {
        cents: i64,
        pick: Option<usize>,
        cash: bool,
    },
    Refund {
        pick: usize,
        part: Option<i64>,
    },
    Wait(u32),
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1i64..=100_000).prop_map(Op::Recharge),
        2 => (1i64..=20_000).prop_map(Op::Amount),
        2 => (1u32..=99, 1i64..=20_000).prop_map(|(percent, cap)| Op::Percent { percent, cap }),
        2 => (1i64..=30_000, 1i64..=20_000)
            .prop_map(|(threshold, off)| Op::Threshold { threshold, off }),
        6 => (1i64..=30_000, prop::option::of(any::<usize>()), any::<bool>())
            .prop_map(|(cents, pick, cash)| Op::Visit { cents, pick, cash }),
        3 => (any::<usize>(), prop::option::of(1i64..=10_000))
            .prop_map(|(pick, part)| Op::Refund { pick, part }),
        1 => (1u32..=20).prop_map(Op::Wait),
    ]
}

fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// The command line of an op, with the coupons issued and visits made so far.
fn line(op: &Op, id: Uuid, at: Timestamp, coupons: &[Uuid], visits: &[Uuid]) -> Option<String> {
    let head = format!(r#""id":"{id}","at":"{at}","member":"M1","store":"S1""#);
    let expires = at.plus_days(10);
    let issue = |terms: String| {
        format!(r#""type":"issue_coupon",{terms},"reason":"campaign","expires_at":"{expires}""#)
    };
    let body = match op {
        Op::Recharge(c) => format!(r#""type":"recharge","amount":"{}""#, money(*c)),
        Op::Amount(c) => issue(format!(r#""amount":"{}""#, money(*c))),
        Op::Percent { percent, cap } => {
            issue(format!(r#""percent":"{percent}","cap":"{}""#, money(*cap)))
        }
        Op::Threshold { threshold, off } => issue(format!(
            r#""threshold":"{}","amount":"{}""#,
            money(*threshold),
            money(*off)
        )),
        Op::Visit { cents, pick, cash } => {
            let coupon = match pick {
                Some(p) if !coupons.is_empty() => {
                    format!(r#","coupon":"{}""#, coupons[p % coupons.len()])
                }
                _ => String::new(),
            };
            let method = if *cash { r#","method":"cash""# } else { "" };
            format!(
                r#""type":"consume","amount":"{}"{coupon}{method}"#,
                money(*cents)
            )
        }
        Op::Refund { pick, part } => {
            if visits.is_empty() {
                return None;
            }
            let amount = part.map_or_else(String::new, |c| format!(r#","amount":"{}""#, money(c)));
            format!(
                r#""type":"refund_consumption","consumption":"{}"{amount}"#,
                visits[pick % visits.len()]
            )
        }
        // Only the clock moves: coupons lapse by date, with no event.
        Op::Wait(_) => return None,
    };
    Some(format!("{{{head},{body}}}"))
}

/// What each coupon's visits did: redeemed by (visit), and how many times given back.
#[derive(Default)]
struct Track {
    redeemed_by: BTreeMap<Uuid, Uuid>,
    given_back: BTreeMap<Uuid, u32>,
}

impl Track {
    fn consumed(&mut self, visit: Uuid, b: &Consumed, tier_charge: i64) {
        let discount = b.coupon.as_ref().map_or(0, |c| c.discount.cents());
        assert!(discount <= tier_charge, "a coupon never exceeds the charge");
        assert_eq!(
            b.charged.cents() + discount,
            tier_charge,
            "the member pays the rest"
        );
        if let Some(c) = &b.coupon {
            assert!(c.discount.is_positive());
            let before = self.redeemed_by.insert(c.coupon, visit);
            assert!(
                before.is_none(),
                "a coupon is redeemed by one visit at a time"
            );
        }
    }

    fn refunded(&mut self, b: &ConsumptionRefunded, left_after: bool) {
        if let Some(r) = &b.coupon {
            assert!(!left_after, "only a refund in full gives a coupon back");
            assert_eq!(self.redeemed_by.get(&r.coupon), Some(&b.consumption));
            *self.given_back.entry(b.consumption).or_default() += 1;
            assert_eq!(
                self.given_back[&b.consumption], 1,
                "given back exactly once"
            );
            if r.restored {
                self.redeemed_by.remove(&r.coupon);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn coupons_never_exceed_the_charge_balance_the_books_and_come_back_once(
        discount in prop::sample::select(vec!["1.00", "0.90", "0.85"]),
        script in prop::collection::vec(ops(), 1..60),
    ) {
        let policy = Policy::from_json(&json!({
            "tiers": [{"name": "standard", "discount": discount, "points_per_yuan": "1"}],
            "recharge_bonus": [{"min": "500.00", "bonus_rate": "0.15"}],
            "bonus_expiry_days": null, "points_expiry_days": null
        }).to_string()).unwrap();
        let rate: rust_decimal::Decimal = discount.parse().unwrap();
        let mut at: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
        let enroll = Command::from_json(&format!(
            r#"{{"id":"{}","at":"{at}","member":"M1","store":"S1","type":"enroll"}}"#,
            Uuid::new_v5(&NAMES, b"enroll")
        )).unwrap();
        let mut log = decide(&Context::founding(&policy), &enroll).unwrap().events;
        let mut state = MemberState::replay(&log).unwrap().unwrap();
        let (mut coupons, mut visits, mut track) = (Vec::new(), Vec::new(), Track::default());
        for (n, op) in script.iter().enumerate() {
            at = match op {
                Op::Wait(d) => at.plus_days(*d),
                _ => Timestamp::from_datetime(at.as_datetime() + chrono::Duration::minutes(1)).unwrap(),
            };
            let id = Uuid::new_v5(&NAMES, n.to_string().as_bytes());
            let Some(line) = line(op, id, at, &coupons, &visits) else { continue };
            let cmd = Command::from_json(&line).unwrap();
            match decide(&Context::founding(&policy).with_member(Some(&state)), &cmd) {
                Ok(Decision { events, member, .. }) => {
                    let after = member.unwrap();
                    for e in &events {
                        let p = postings(e);
                        check_balanced(&p).unwrap();
                        match &e.body {
                            EventBody::Consumed(b) => {
                                let tier_charge = b.price.checked_times(rate, policy.rounding).unwrap().cents();
                                track.consumed(cmd.id, b, tier_charge);
                                let revenue: i64 = p.iter()
                                    .filter(|x| x.account.to_string() == "Income:Services:S1")
                                    .map(|x| -x.cents).sum();
                                prop_assert_eq!(revenue, tier_charge, "revenue is the full charge");
                                visits.push(cmd.id);
                            }
                            EventBody::ConsumptionRefunded(b) => {
                                let left = after.consumptions().contains_key(&b.consumption);
                                track.refunded(b, left);
                            }
                            EventBody::CouponIssued(_) => coupons.push(cmd.id),
                            _ => {}
                        }
                    }
                    log.extend(events);
                    state = after;
                }
                Err(r) => prop_assert!(matches!(
                    r.code(),
                    "insufficient_balance" | "unknown_coupon" | "coupon_expired" | "coupon_used"
                        | "coupon_not_applicable" | "refund_exceeds_original" | "invalid_amount"
                ), "{line}: {r}"),
            }
        }
        prop_assert_eq!(MemberState::replay(&log).unwrap().unwrap(), state.clone());
        // Serialized compact where it lies, it is the bytes of the copy made compact.
        common::assert_compact_is_the_copy(&state);
    }
}
