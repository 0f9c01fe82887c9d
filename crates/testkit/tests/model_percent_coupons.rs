//! The model takes any percentage a coupon may name (two decimals at most) off a visit exactly
//! as the core does: the charge × percent ÷ 100, rounded half up to the cent, at most the cap.

use std::collections::HashMap;

use memberledger::domain::{decide, Context, EventBody, MemberState};
use memberledger::{Policy, Uuid};
use memberledger_testkit::model::{Ids, Kind, Model, Offer, Spec, Verdict};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn spec(n: u128, at: i64, kind: Kind) -> Spec {
    Spec {
        id: Uuid::from_u128(n),
        at,
        member: Some("M1".to_owned()),
        store: "S1".to_owned(),
        kind,
    }
}

/// The discount the model and the core give a visit of `price` cents with a coupon of
/// `percent_x100` hundredths of a percent and a cap of `cap` cents.
fn discounts(percent_x100: u32, cap: i64, price: i64) -> (i64, i64) {
    let policy = Policy::builtin();
    let recorded: HashMap<Uuid, Spec> = HashMap::new();
    let ids = Ids {
        base: &recorded,
        spec_of: |s| s,
        overlay: &[],
    };
    let mut model = Model {
        now: T0 + 10,
        ..Model::default()
    };
    let mut state: Option<MemberState> = None;
    let steps = [
        spec(1, T0, Kind::Enroll { tier: None }),
        spec(
            2,
            T0 + 1,
            Kind::Recharge {
                cents: 1_000_000,
                staff: None,
            },
        ),
        spec(
            3,
            T0 + 2,
            Kind::IssueCoupon {
                offer: Offer::Percent { percent_x100, cap },
                reason: "campaign".to_owned(),
                expires: T0 + 86_400,
            },
        ),
        spec(
            4,
            T0 + 3,
            Kind::ConsumeCoupon {
                cents: price,
                coupon: Uuid::from_u128(3),
                external: None,
            },
        ),
    ];
    let mut core = 0;
    for s in &steps {
        let Verdict::Accept(change, _) = model.judge(s, &ids) else {
            panic!("the model accepts {s:?}");
        };
        model.commit(*change);
        let d = decide(
            &Context::founding(&policy).with_member(state.as_ref()),
            &s.command().unwrap(),
        )
        .unwrap_or_else(|e| panic!("the core accepts {s:?}: {e}"));
        for e in &d.events {
            if let EventBody::Consumed(c) = &e.body {
                core = c.coupon.as_ref().map_or(0, |u| u.discount.cents());
            }
        }
        state = d.member;
    }
    let m = model.member("M1").unwrap();
    let model_discount = m.consumptions[&Uuid::from_u128(4)]
        .coupon
        .map_or(0, |c| c.1);
    (model_discount, core)
}

#[test]
fn a_percent_coupon_with_decimals_takes_what_the_core_takes() {
    for (percent_x100, cap, price) in [
        (1_250, 100_000, 18_800), // 12.5 % of 188.00 = 23.50
        (1, 100_000, 500_000),    // 0.01 % of 5,000.00 = 0.50
        (1, 100_000, 15_000),     // 0.01 % of 150.00 = 0.015: half up to 0.02
        (9_999, 100_000, 12_345), // 99.99 %
        (3_333, 500, 30_000),     // capped at 5.00
        (1_505, 100_000, 10),     // 15.05 % of 0.10 = 0.01505 → 0.02
        (2_000, 100_000, 18_888), // a whole 20 %
    ] {
        let (model, core) = discounts(percent_x100, cap, price);
        assert_eq!(
            model, core,
            "{percent_x100}/100 % of {price} capped at {cap}"
        );
    }
}
