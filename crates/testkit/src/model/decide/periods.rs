//! Closed periods: headquarters closes every period through a time (after a filing); from
//! then on no command dated at or before it takes effect (`Model::judge` refuses it first).

use super::super::spec::Spec;
use super::super::{Change, Model};
use super::Outcome;

impl Model {
    /// A close through `through`: after the previous close, else `period_closed`. It records
    /// one event and changes no member and no debt.
    pub(crate) fn close_period(&self, spec: &Spec, through: i64) -> Outcome {
        if self.closed_through.is_some_and(|t| through <= t) {
            return Err("period_closed");
        }
        Ok((
            Change {
                member: None,
                debts: Vec::new(),
                at: spec.at,
                settled_at: None,
                consumed: false,
                closes: Some(through),
            },
            1,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use memberledger::Uuid;

    use super::super::super::{Ids, Kind, Model, Spec, Verdict};

    const T0: i64 = 1_767_225_600;

    fn spec(n: u128, at: i64, member: Option<&str>, kind: Kind) -> Spec {
        Spec {
            id: Uuid::from_u128(n),
            at,
            member: member.map(str::to_owned),
            store: "S1".to_owned(),
            kind,
        }
    }

    #[test]
    fn a_closed_period_refuses_every_command_dated_in_it_and_a_close_must_move_forward() {
        let mut model = Model {
            now: T0 + 10 * 86_400,
            ..Model::default()
        };
        let recorded: HashMap<Uuid, Spec> = HashMap::new();
        let ids = Ids {
            base: &recorded,
            spec_of: |s| s,
            overlay: &[],
        };
        let close = |n, through| spec(n, T0 + 5 * 86_400, None, Kind::ClosePeriod { through });
        let Verdict::Accept(change, 1) = model.judge(&close(1, T0 + 86_400), &ids) else {
            panic!("the first close is recorded");
        };
        model.commit(*change);
        assert_eq!(model.closed_through, Some(T0 + 86_400));
        let enroll = |n, at| spec(n, at, Some("M1"), Kind::Enroll { tier: None });
        for at in [T0, T0 + 86_400] {
            assert!(matches!(
                model.judge(&enroll(2, at), &ids),
                Verdict::Reject("period_closed")
            ));
        }
        assert!(matches!(
            model.judge(&enroll(3, T0 + 86_401), &ids),
            Verdict::Accept(_, 1)
        ));
        assert!(matches!(
            model.judge(&close(4, T0 + 86_400), &ids),
            Verdict::Reject("period_closed")
        ));
        assert!(matches!(
            model.judge(&close(5, T0 + 2 * 86_400), &ids),
            Verdict::Accept(_, 1)
        ));
    }
}
