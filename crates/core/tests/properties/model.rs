//! The same random sequences under the built-in policy, every outcome checked against the test
//! kit's reference model (`memberledger_testkit::model`): the rules written a second time, from
//! docs/RULES.md alone. The oracle in `oracle.rs` predicts rejections under any policy; the
//! model predicts everything (the code, the number of events, every lot) under one.

use std::collections::HashMap;

use memberledger_testkit::model::{Ids, Member, Model as Reference, Spec, Verdict, TIERS};

use super::*;

/// The lots of a member as (lot, cents, expiry in seconds), in lot order.
type Lots = Vec<(u32, i64, Option<i64>)>;

fn lots(ls: &[memberledger_core::Lot]) -> Lots {
    let mut out: Lots = ls
        .iter()
        .map(|l| {
            let expires = l.expires_at.map(|t| t.as_datetime().timestamp());
            (l.lot, l.remaining.cents(), expires)
        })
        .collect();
    out.sort_unstable();
    out
}

fn model_lots(ls: &[memberledger_testkit::model::Lot]) -> Lots {
    let mut out: Lots = ls.iter().map(|l| (l.lot, l.cents, l.expires)).collect();
    out.sort_unstable();
    out
}

/// The member the core folded is the member the model holds.
fn same_member(name: &str, s: &MemberState, m: &Member) {
    assert_eq!(
        lots(&s.principal_lots()),
        model_lots(&m.principal),
        "{name}: principal lots"
    );
    assert_eq!(
        lots(&s.bonus_lots()),
        model_lots(&m.bonus),
        "{name}: bonus lots"
    );
    let points: Vec<(u32, u64)> = s
        .point_lots()
        .iter()
        .map(|l| (l.lot, l.remaining))
        .collect();
    let model_points: Vec<(u32, u64)> = m.points.iter().map(|l| (l.lot, l.points)).collect();
    assert_eq!(points, model_points, "{name}: point lots");
    assert_eq!(s.tier.as_str(), TIERS[m.tier].name, "{name}: tier");
    assert_eq!(s.version, m.version, "{name}: version");
    assert_eq!(s.bonus_spent.cents(), m.bonus_spent, "{name}: bonus spent");
}

/// Walks the outcomes in order, asking the model about each command first: an accepted
/// command must be one the model accepts with as many events, and leave the member as the
/// model has them; a rejected one must carry the model's code.
pub(super) fn agree_with_model(outcomes: &Outcomes) {
    let mut model = Reference::default();
    let mut recorded: HashMap<Uuid, Spec> = HashMap::new();
    let mut states: BTreeMap<String, MemberState> = BTreeMap::new();
    for (cmd, result) in outcomes {
        let spec = Spec::from_command(cmd).expect("the model knows every generated command");
        // The core has no clock; the ledger's future-time check is not what is tested here.
        model.now = spec.at;
        let ids = Ids {
            base: &recorded,
            spec_of: |s| s,
            overlay: &[],
        };
        let verdict = model.judge(&spec, &ids);
        match (verdict, result) {
            (Verdict::Accept(change, n), Ok(events)) => {
                assert_eq!(
                    u64::try_from(events.len()).ok(),
                    Some(n),
                    "{}",
                    cmd.to_json()
                );
                model.commit(*change);
                for e in events {
                    match states.get_mut(e.member.as_str()) {
                        Some(s) => s.apply(e).expect("decided events fold"),
                        None => {
                            let s = MemberState::enrolled(e).expect("enrolled first");
                            states.insert(e.member.to_string(), s);
                        }
                    }
                }
                let name = cmd.member.as_str();
                let member = model.member(name).expect("the model holds the member");
                same_member(name, &states[name], member);
                recorded.insert(spec.id, spec);
            }
            (Verdict::Reject(code), Err(e)) => assert_eq!(e.code(), code, "{}", cmd.to_json()),
            (v, r) => panic!("{}: the model says {v:?}, the core {r:?}", cmd.to_json()),
        }
    }
}
