//! The checked builders (docs/RULES.md, errors): a command or a policy built in Rust is held
//! to exactly the rules of its JSON form, refusing what `from_json` refuses with the same code.

use memberledger_core::{
    BonusRule, Command, Money, PaidFrom, Policy, Rejection, Tier, Timestamp, Uuid, AMOUNT_MAX,
};
use proptest::prelude::*;
use serde_json::json;

fn at() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

/// Both refused with the same code, or both the same command.
fn same(built: Result<Command, Rejection>, parsed: Result<Command, Rejection>) {
    match (built, parsed) {
        (Ok(b), Ok(p)) => assert_eq!(b, p),
        (Err(b), Err(p)) => assert_eq!(b.code(), p.code(), "{b} / {p}"),
        (b, p) => panic!("the builder and from_json disagree: {b:?} / {p:?}"),
    }
}

proptest! {
    #[test]
    fn a_built_recharge_is_refused_when_its_json_is(
        cents in prop_oneof![-3i64..3, (AMOUNT_MAX.cents() - 3)..(AMOUNT_MAX.cents() + 3), 1i64..10_000_000],
        member in "[A-Za-z0-9@_ .\u{7}-]{0,70}",
        staff in proptest::option::of("[A-Za-z0-9\u{0}]{0,3}"),
        n in 0u128..3,
    ) {
        let id = Uuid::from_u128(n);
        let amount = Money::from_cents(cents);
        let mut b = Command::build(id, at(), "S1").member(&member);
        let mut j = json!({"id": id.to_string(), "at": at().to_string(), "type": "recharge",
            "member": member, "store": "S1", "amount": amount.to_string()});
        if let Some(s) = &staff {
            b = b.staff(s);
            j["staff"] = json!(s);
        }
        same(b.recharge(amount), Command::from_json(&j.to_string()));
    }

    #[test]
    fn a_built_package_purchase_is_refused_when_its_json_is(
        cents in -2i64..200_000,
        sessions in 0u32..1_003,
        service in "[a-z\u{1}]{0,3}",
        cash in any::<bool>(),
    ) {
        let id = Uuid::from_u128(7);
        let amount = Money::from_cents(cents);
        let paid_from = if cash { PaidFrom::Cash } else { PaidFrom::Balance };
        let built = Command::build(id, at(), "S1").member("M1")
            .purchase_package(amount, paid_from, &service, sessions);
        let j = json!({"id": id.to_string(), "at": at().to_string(), "type": "purchase_package",
            "member": "M1", "store": "S1", "amount": amount.to_string(),
            "paid_from": if cash { "cash" } else { "balance" }, "service": service,
            "sessions": sessions});
        same(built, Command::from_json(&j.to_string()));
    }
}

#[test]
fn a_builder_refuses_a_field_its_action_does_not_take() {
    let built = Command::build(Uuid::from_u128(1), at(), "S1")
        .member("M1")
        .service("facial")
        .recharge(Money::from_cents(100));
    let parsed = Command::from_json(
        r#"{"id":"00000000-0000-0000-0000-000000000001","at":"2026-03-01T10:00:00Z","type":"recharge","member":"M1","store":"S1","amount":"1.00","service":"facial"}"#,
    );
    same(built, parsed);
    // A settlement names no member.
    let e = Command::build(Uuid::from_u128(1), at(), "S1")
        .member("M1")
        .settle("S2", None)
        .unwrap_err();
    assert_eq!(e.code(), "invalid_command");
    let ok = Command::build(Uuid::from_u128(1), at(), "S1").settle("S2", None);
    assert!(ok.is_ok());
}

#[test]
fn a_built_policy_is_checked_as_its_json_is() {
    let m = |s: &str| s.parse::<Money>().unwrap();
    let d = |s: &str| s.parse().unwrap();
    let built = Policy::builder()
        .tiers(vec![
            Tier::new("standard", d("1.00"), d("1")),
            Tier::new("gold", d("0.90"), d("2")).upgrade_on_single_recharge(m("5000.00")),
        ])
        .recharge_bonus(vec![
            BonusRule::fixed(m("1000.00"), m("100.00")).for_tiers(&["gold"])
        ])
        .bonus_expiry_days(Some(365))
        .build()
        .unwrap();
    let parsed = Policy::from_json(&built.to_json()).unwrap();
    assert_eq!(built, parsed);
    // What from_json refuses, build refuses, with the same code.
    for (builder, json) in [
        (Policy::builder().tiers(vec![]), r#"{"tiers":[]}"#),
        (
            Policy::builder()
                .tiers(vec![Tier::new("standard", d("1.50"), d("1"))])
                .recharge_bonus(vec![]),
            r#"{"tiers":[{"name":"standard","discount":"1.50","points_per_yuan":"1"}]}"#,
        ),
        (
            Policy::builder()
                .tiers(vec![Tier::new("a b", d("1.00"), d("1"))])
                .recharge_bonus(vec![]),
            r#"{"tiers":[{"name":"a b","discount":"1.00","points_per_yuan":"1"}]}"#,
        ),
    ] {
        let b = builder.build().unwrap_err();
        let p = Policy::from_json(json).unwrap_err();
        assert_eq!(b.code(), p.code(), "{b} / {p}");
    }
    // Bonus rules naming a tier the policy does not have are refused.
    assert!(Policy::builder()
        .tiers(vec![Tier::new("standard", d("1.00"), d("1"))])
        .build()
        .is_err());
}

#[test]
fn a_new_command_id_is_a_fresh_v4_uuid_and_now_is_a_valid_time() {
    let (a, b) = (Command::new_id(), Command::new_id());
    assert_ne!(a, b);
    assert_eq!(a.get_version_num(), 4);
    let now = Timestamp::now();
    let back: Timestamp = now.to_string().parse().unwrap();
    assert_eq!(back, now);
    assert!(now > at());
}
