//! The wire fields of the chain's own commands, which name no member: `settle` (between
//! stores), `publish_policy` and `close_period`.

use super::{invalid, need, parse_amount, Wire};
use crate::command::Action;
use crate::error::Rejection;
use crate::id::StoreId;
use crate::policy::Policy;

/// Reads a chain command's fields; `None` for a type of another family.
pub(super) fn read(kind: &str, w: &mut Wire) -> Result<Option<Action>, Rejection> {
    Ok(Some(match kind {
        "settle" => Action::Settle {
            to: StoreId::new(need(kind, w.to.take(), "to")?)?,
            amount: w.amount.take().map(|s| parse_amount(&s)).transpose()?,
        },
        "close_period" => {
            let through = w
                .through
                .take()
                .ok_or_else(|| invalid("`close_period` needs the field `through`".into()))?;
            Action::ClosePeriod {
                through: through.parse()?,
            }
        }
        "publish_policy" => {
            let v = w
                .policy
                .take()
                .ok_or_else(|| invalid("`publish_policy` needs the field `policy`".into()))?;
            Action::PublishPolicy {
                policy: Box::new(Policy::from_value(v)?),
            }
        }
        _ => return Ok(None),
    }))
}

/// Writes a chain command's fields (other families' actions are written by theirs).
pub(super) fn put(action: &Action, w: &mut Wire) {
    match action {
        Action::Settle { to, amount } => {
            w.to = Some(to.to_string());
            w.amount = amount.map(|a| a.to_string());
        }
        Action::PublishPolicy { policy } => {
            w.policy = Some(serde_json::to_value(policy).expect("policy serialises"));
        }
        Action::ClosePeriod { through } => w.through = Some(through.to_string()),
        _ => {}
    }
}
