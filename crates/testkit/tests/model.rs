//! The reference model's interface: a spec is the ledger's own command, in every spelling.

use memberledger::Uuid;
use memberledger_testkit::model::{Bal, Ext, ExtAmount, Gift, Kind, Spec, Spelling, DAY};

const AT: i64 = 1_767_225_600;

/// One spec of every kind (a table, long but flat).
#[allow(clippy::too_many_lines)]
fn kinds() -> Vec<(Option<&'static str>, Kind)> {
    let id = Uuid::from_u128(7);
    let m = Some("M1");
    vec![
        (
            m,
            Kind::Enroll {
                tier: Some("gold".into()),
            },
        ),
        (
            m,
            Kind::Recharge {
                cents: 100_050,
                staff: Some("E1".into()),
            },
        ),
        (
            m,
            Kind::Grant {
                cents: 1_000,
                reason: "campaign".into(),
                expires: Some(AT + DAY),
            },
        ),
        (
            m,
            Kind::Consume {
                cents: 12_340,
                staff: None,
                service: Some("facial".into()),
                external: Some(Ext {
                    method: "wechat".into(),
                    amount: ExtAmount::Cents(2_000),
                }),
            },
        ),
        (
            m,
            Kind::Refund {
                consumption: id,
                cents: Some(10),
            },
        ),
        (m, Kind::RefundBalance),
        (
            m,
            Kind::ChangeTier {
                tier: "silver".into(),
                reason: None,
            },
        ),
        (
            None,
            Kind::Settle {
                to: "S2".into(),
                cents: None,
            },
        ),
        (
            m,
            Kind::Freeze {
                reason: Some("lost card".into()),
            },
        ),
        (m, Kind::Unfreeze { reason: None }),
        (
            m,
            Kind::RedeemPoints {
                points: 30,
                reason: None,
                given: Some(Gift {
                    service: true,
                    item: "bubble facial".into(),
                    cents: 8_800,
                }),
            },
        ),
        (
            m,
            Kind::Adjust {
                balance: Bal::Points,
                credit: false,
                qty: 5,
                reason: "fix".into(),
                operator: "E9".into(),
            },
        ),
        (
            m,
            Kind::Adjust {
                balance: Bal::Bonus,
                credit: true,
                qty: 500,
                reason: "fix".into(),
                operator: "E9".into(),
            },
        ),
        (
            m,
            Kind::PurchasePackage {
                cents: 60_000,
                cash: true,
                service: "massage".into(),
                sessions: 6,
                expires: Some(AT + 90 * DAY),
                staff: None,
                external: None,
            },
        ),
        (
            m,
            Kind::RedeemSession {
                package: id,
                staff: Some("E2".into()),
            },
        ),
        (
            m,
            Kind::RefundPackage {
                package: id,
                reason: None,
            },
        ),
    ]
}

#[test]
fn every_spec_is_a_command_and_back_in_every_spelling() {
    for (i, (member, kind)) in kinds().into_iter().enumerate() {
        let spec = Spec {
            id: Uuid::from_u128(u128::try_from(i).expect("few") + 100),
            at: AT,
            member: member.map(str::to_owned),
            store: "S1".into(),
            kind,
        };
        let command = spec.command().unwrap_or_else(|e| panic!("{spec:?}: {e}"));
        assert_eq!(Spec::from_command(&command).as_ref(), Some(&spec));
        for (short_amounts, offset_time, rotate) in [(true, false, 1), (false, true, 3)] {
            let sp = Spelling {
                short_amounts,
                offset_time,
                rotate,
            };
            let line = spec.render(sp);
            let spelled = memberledger::domain::Command::from_json(&line).expect("parses");
            assert_eq!(spelled, command, "{line}");
        }
    }
}
