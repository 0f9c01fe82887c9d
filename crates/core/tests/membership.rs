//! Freezes, points redemption and the expiry sweep, as given / when / then.

use memberledger_core::events::{Adjusted, BonusExpired, MemberFrozen, PointsRedeemed};
use memberledger_core::{
    decide, Command, Context, Decision, Event, EventBody, MemberState, Policy, Rejection,
};

const POLICY: &str = r#"{
  "tiers": [{"name": "standard", "discount": "1.00", "points_per_yuan": "1"}],
  "bonus_expiry_days": 30,
  "points_expiry_days": 60
}"#;

struct World {
    policy: Policy,
    state: Option<MemberState>,
    n: u32,
}

fn given(policy: &str, lines: &[&str]) -> World {
    let mut w = World {
        policy: Policy::from_json(policy).unwrap(),
        state: None,
        n: 0,
    };
    for l in lines {
        w.then_ok(l);
    }
    w
}

impl World {
    fn cmd(&mut self, rest: &str) -> Command {
        self.n += 1;
        Command::from_json(&format!(
            r#"{{"id":"00000000-0000-4000-8000-{:012}","member":"M1","store":"S1",{rest}}}"#,
            self.n
        ))
        .unwrap()
    }

    fn when(&mut self, rest: &str) -> Result<Vec<Event>, Rejection> {
        let c = self.cmd(rest);
        decide(
            &Context::founding(&self.policy).with_member(self.state.as_ref()),
            &c,
        )
        .map(Decision::into_events)
    }

    fn then_ok(&mut self, rest: &str) -> Vec<Event> {
        let events = self.when(rest).unwrap_or_else(|e| panic!("{rest}: {e}"));
        for e in &events {
            match &mut self.state {
                None => self.state = Some(MemberState::enrolled(e).unwrap()),
                Some(s) => s.apply(e).unwrap(),
            }
        }
        events
    }

    fn then_rejected(&mut self, rest: &str, code: &str) {
        let before = self.state.clone();
        let e = self.when(rest).unwrap_err();
        assert_eq!(e.code(), code, "{rest}: {e}");
        assert_eq!(self.state, before);
    }

    fn state(&self) -> &MemberState {
        self.state.as_ref().unwrap()
    }
}

const ENROLL: &str = r#""at":"2026-03-01T10:00:00Z","type":"enroll""#;
const RECHARGE: &str = r#""at":"2026-03-01T11:00:00Z","type":"recharge","amount":"1000.00""#;

#[test]
fn a_frozen_card_cannot_spend_but_can_recharge_and_be_refunded_by_default() {
    let mut w = given(
        POLICY,
        &[
            ENROLL,
            RECHARGE,
            r#""at":"2026-03-02T10:00:00Z","type":"consume","amount":"100.00""#,
        ],
    );
    let e = w.then_ok(r#""at":"2026-03-03T10:00:00Z","type":"freeze","reason":"lost card""#);
    assert!(
        matches!(&e[0].body, EventBody::MemberFrozen(MemberFrozen { reason }) if reason == "lost card")
    );
    assert!(w.state().frozen);
    w.then_rejected(
        r#""at":"2026-03-03T11:00:00Z","type":"consume","amount":"10.00""#,
        "member_frozen",
    );
    w.then_rejected(
        r#""at":"2026-03-03T11:00:00Z","type":"redeem_points","points":10"#,
        "member_frozen",
    );
    w.then_rejected(
        r#""at":"2026-03-03T11:00:00Z","type":"freeze""#,
        "member_frozen",
    );
    w.then_ok(r#""at":"2026-03-03T12:00:00Z","type":"recharge","amount":"50.00""#);
    w.then_ok(r#""at":"2026-03-03T13:00:00Z","type":"refund_consumption","consumption":"00000000-0000-4000-8000-000000000003","amount":"10.00""#);
    w.then_ok(r#""at":"2026-03-04T10:00:00Z","type":"unfreeze""#);
    assert!(!w.state().frozen);
    w.then_rejected(
        r#""at":"2026-03-04T11:00:00Z","type":"unfreeze""#,
        "invalid_command",
    );
    w.then_ok(r#""at":"2026-03-04T12:00:00Z","type":"consume","amount":"10.00""#);
}

#[test]
fn the_policy_can_refuse_recharges_and_refunds_to_a_frozen_card() {
    let strict = POLICY.replace(
        r#""points_expiry_days": 60"#,
        r#""points_expiry_days": 60, "freeze": {"allow_recharge": false, "allow_refunds": false}"#,
    );
    let mut w = given(
        &strict,
        &[
            ENROLL,
            RECHARGE,
            r#""at":"2026-03-02T10:00:00Z","type":"freeze""#,
        ],
    );
    w.then_rejected(
        r#""at":"2026-03-02T11:00:00Z","type":"recharge","amount":"50.00""#,
        "member_frozen",
    );
    w.then_rejected(
        r#""at":"2026-03-02T11:00:00Z","type":"refund_balance""#,
        "member_frozen",
    );
    // A grant and a tier change are not spending.
    w.then_ok(
        r#""at":"2026-03-02T12:00:00Z","type":"grant_bonus","amount":"5.00","reason":"sorry""#,
    );
}

#[test]
fn redeem_points_draws_earliest_expiry_first_and_rejects_more_than_held() {
    let mut w = given(
        POLICY,
        &[
            ENROLL,
            RECHARGE,
            r#""at":"2026-03-02T10:00:00Z","type":"consume","amount":"100.00""#, // 100 points, lot 2
            r#""at":"2026-03-05T10:00:00Z","type":"consume","amount":"50.00""#,  // 50 points, lot 3
        ],
    );
    assert_eq!(w.state().points(), 150);
    w.then_rejected(
        r#""at":"2026-03-06T10:00:00Z","type":"redeem_points","points":151"#,
        "insufficient_points",
    );
    let e = w.then_ok(
        r#""at":"2026-03-06T10:00:00Z","type":"redeem_points","points":120,"reason":"gift""#,
    );
    match &e[0].body {
        EventBody::PointsRedeemed(PointsRedeemed { draws, points, .. }) => {
            assert_eq!(*points, 120);
            let d: Vec<(u32, u64)> = draws.iter().map(|d| (d.lot, d.points)).collect();
            assert_eq!(d, vec![(2, 100), (3, 20)]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.state().points(), 30);
    let e = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000099","at":"2026-03-06T10:00:00Z","member":"M1","store":"S1","type":"redeem_points","points":0}"#).unwrap_err();
    assert_eq!(e.code(), "invalid_amount");
}

#[test]
fn expire_records_only_what_is_due_and_is_refused_when_nothing_is() {
    let mut w = given(
        POLICY,
        &[
            ENROLL,
            RECHARGE,
            r#""at":"2026-03-01T12:00:00Z","type":"grant_bonus","amount":"30.00","reason":"welcome""#,
        ],
    );
    w.then_rejected(
        r#""at":"2026-03-30T00:00:00Z","type":"expire""#,
        "invalid_command",
    );
    // The grant lapses 30 days after 2026-03-01T12:00:00Z.
    let e = w.then_ok(r#""at":"2026-03-31T12:00:00Z","type":"expire""#);
    assert_eq!(e.len(), 1);
    assert!(
        matches!(&e[0].body, EventBody::BonusExpired(BonusExpired { amount, .. }) if amount.to_string() == "30.00")
    );
    assert_eq!(w.state().bonus().to_string(), "0.00");
    assert_eq!(w.state().principal().to_string(), "1000.00");
}

#[test]
fn adjustments_credit_a_new_lot_and_debit_lots_in_spend_order_with_a_reason_and_operator() {
    let mut w = given(POLICY, &[ENROLL, RECHARGE]);
    let e = w.then_ok(r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"bonus","direction":"credit","amount":"20.00","reason":"missed promotion","operator":"E7""#);
    match &e[0].body {
        EventBody::Adjusted(Adjusted {
            lot,
            expires_at,
            operator,
            reason,
            ..
        }) => {
            assert_eq!(*lot, Some(2));
            assert_eq!(expires_at.unwrap().to_string(), "2026-04-01T10:00:00Z");
            assert_eq!(
                (operator.as_str(), reason.as_str()),
                ("E7", "missed promotion")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.state().bonus().to_string(), "20.00");
    let e = w.then_ok(r#""at":"2026-03-02T11:00:00Z","type":"adjust","balance":"principal","direction":"debit","amount":"100.00","reason":"double recharge","operator":"E7""#);
    match &e[0].body {
        EventBody::Adjusted(Adjusted { draws, .. }) => {
            assert_eq!(draws.len(), 1);
            assert_eq!(
                (draws[0].lot, draws[0].amount.to_string()),
                (1, "100.00".to_owned())
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.state().principal().to_string(), "900.00");
    w.then_rejected(r#""at":"2026-03-02T12:00:00Z","type":"adjust","balance":"principal","direction":"debit","amount":"900.01","reason":"x","operator":"E7""#, "insufficient_balance");
    w.then_ok(r#""at":"2026-03-02T12:00:00Z","type":"adjust","balance":"points","direction":"credit","points":50,"reason":"survey","operator":"E8""#);
    w.then_rejected(r#""at":"2026-03-02T13:00:00Z","type":"adjust","balance":"points","direction":"debit","points":51,"reason":"x","operator":"E8""#, "insufficient_points");
    w.then_ok(r#""at":"2026-03-02T13:00:00Z","type":"adjust","balance":"points","direction":"debit","points":50,"reason":"undo","operator":"E8""#);
    assert_eq!(w.state().points(), 0);
}

#[test]
fn adjustments_need_a_reason_and_an_operator() {
    let mut w = given(POLICY, &[ENROLL]);
    for (rest, code) in [
        (
            r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"bonus","direction":"credit","amount":"1.00","operator":"E7""#,
            "invalid_command",
        ),
        (
            r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"bonus","direction":"credit","amount":"1.00","reason":"x""#,
            "invalid_command",
        ),
        (
            r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"cash","direction":"credit","amount":"1.00","reason":"x","operator":"E7""#,
            "invalid_command",
        ),
        (
            r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"points","direction":"credit","amount":"1.00","reason":"x","operator":"E7""#,
            "invalid_command",
        ),
        (
            r#""at":"2026-03-02T10:00:00Z","type":"adjust","balance":"bonus","direction":"credit","amount":"-1.00","reason":"x","operator":"E7""#,
            "invalid_amount",
        ),
    ] {
        w.n += 1;
        let line = format!(
            r#"{{"id":"00000000-0000-4000-8000-{:012}","member":"M1","store":"S1",{rest}}}"#,
            w.n
        );
        assert_eq!(
            Command::from_json(&line).unwrap_err().code(),
            code,
            "{rest}"
        );
    }
}
