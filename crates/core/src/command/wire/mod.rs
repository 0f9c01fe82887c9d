//! The wire form of a command: one flat JSON object, read field by field and written with
//! sorted keys.
//!
//! This file holds the form itself and the fields every command has; each command family reads
//! and writes its action's fields in its own file (members, money, points, packages, cards,
//! holds, coupons, the chain's own commands).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Action, Balance, Command, Direction, PaidFrom, COMMAND_LINE_MAX};
use crate::error::Rejection;
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

mod cards;
mod chain;
mod coupons;
mod holds;
mod member;
mod money;
mod packages;
mod points;

/// A family's reader: the action of a command type it knows (`None` for any other type), its
/// fields taken out of the wire form (what is left is refused by the caller).
type ReadFamily = fn(&str, &mut Wire) -> Result<Option<Action>, Rejection>;

/// Every family's reader; a command type belongs to exactly one.
const FAMILIES: [ReadFamily; 8] = [
    member::read,
    money::read,
    points::read,
    packages::read,
    cards::read,
    holds::read,
    coupons::read,
    chain::read,
];

/// The flat wire form. Every field is optional here; [`Command::from_wire`] checks which ones
/// each type needs and allows. Fields are declared in the sorted order of their JSON names, so
/// serialising it writes the canonical JSON (sorted keys) directly.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) amount: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) balance: Option<Balance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) cap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) consumption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) corrects: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) coupon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) direction: Option<Direction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) external: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) gift: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) hold: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) member: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) opening: Option<super::Opening>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) new_card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) package: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) paid_from: Option<PaidFrom>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) percent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) points: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) policy: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) sessions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) staff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) store: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) threshold: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) through: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) to: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) value: Option<String>,
}

pub(super) fn invalid(msg: String) -> Rejection {
    Rejection::InvalidCommand(msg)
}

/// A required field's value, or the error naming the command type that needs it.
fn need(kind: &str, f: Option<String>, name: &str) -> Result<String, Rejection> {
    f.ok_or_else(|| invalid(format!("`{kind}` needs the field `{name}`")))
}

/// An optional staff id.
fn staff(f: Option<String>) -> Result<Option<StaffId>, Rejection> {
    f.map(StaffId::new).transpose()
}

/// An optional timestamp.
fn time(f: Option<String>) -> Result<Option<Timestamp>, Rejection> {
    f.map(|s| s.parse()).transpose()
}

/// Reads a UUID's syntax; [`Command::validate`] refuses the nil one.
fn parse_uuid(field: &str, s: &str) -> Result<Uuid, Rejection> {
    Uuid::try_parse(s).map_err(|_| invalid(format!("{field} {s:?} is not a UUID")))
}

/// Reads an amount's syntax (two decimals at most, not negative, at most the maximum);
/// [`Command::validate`] refuses zero.
fn parse_amount(s: &str) -> Result<Money, Rejection> {
    s.parse()
}

impl Command {
    /// Parses one command from its JSON wire form. Unknown fields, fields the type does not
    /// take, missing fields, and bad values are rejected with the matching error code.
    ///
    /// ```
    /// use memberledger_core::{Command, Action};
    /// let c = Command::from_json(r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z",
    ///     "type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#).unwrap();
    /// assert!(matches!(c.action, Action::Recharge { .. }));
    /// let e = Command::from_json(r#"{"id":"6f1c2a48-3d6b-4f7e-9a51-0c2d8e4b7a10","at":"2026-03-01T10:00:00Z",
    ///     "type":"recharge","member":"M1","store":"S1","amount":"10.001"}"#).unwrap_err();
    /// assert_eq!(e.code(), "invalid_amount");
    /// ```
    pub fn from_json(line: &str) -> Result<Command, Rejection> {
        if line.len() > COMMAND_LINE_MAX {
            return Err(invalid(format!(
                "command is {} bytes; the limit is {COMMAND_LINE_MAX}",
                line.len()
            )));
        }
        let wire: Wire = serde_json::from_str(line)
            .map_err(|e| invalid(format!("command is not a valid JSON object: {e}")))?;
        Command::from_wire(wire)
    }

    /// Reads the wire form's fields into a command; every value is then checked by
    /// [`Command::validate`], the one definition of a well-formed command.
    pub(super) fn from_wire(mut w: Wire) -> Result<Command, Rejection> {
        let kind = w
            .kind
            .take()
            .ok_or_else(|| invalid("missing field `type`".into()))?;
        let id = parse_uuid(
            "id",
            &w.id
                .take()
                .ok_or_else(|| invalid("missing field `id`".into()))?,
        )?;
        let at: Timestamp =
            w.at.take()
                .ok_or_else(|| invalid("missing field `at`".into()))?
                .parse()?;
        // A settlement is between stores and a policy is the chain's: neither names a member,
        // and each goes to its own stream.
        let member = if kind == "settle" {
            MemberId::stores_stream()
        } else if kind == "publish_policy" || kind == "close_period" {
            MemberId::policy_stream()
        } else if w.member.is_none() && w.card.is_some() && kind != "link_card" {
            // Named by its card: the ledger resolves the member before deciding.
            MemberId::by_card()
        } else {
            MemberId::new(w.member.take().ok_or_else(|| {
                invalid("missing field `member` (or `card`, to name the member by a card)".into())
            })?)?
        };
        let card = w.card.take();
        let store = StoreId::new(
            w.store
                .take()
                .ok_or_else(|| invalid("missing field `store`".into()))?,
        )?;
        let action = read_action(&kind, &mut w)?;
        // Whatever is left was not taken by this type.
        let left = serde_json::to_value(&w).expect("wire serialises");
        if let Some(field) = left.as_object().and_then(|o| o.keys().next()) {
            return Err(invalid(format!(
                "`{kind}` does not take the field `{field}`"
            )));
        }
        let command = Command {
            id,
            at,
            member,
            store,
            card,
            action,
        };
        command.validate()?;
        Ok(command)
    }

    pub(super) fn to_wire(&self) -> Wire {
        let mut w = Wire {
            id: Some(self.id.to_string()),
            at: Some(self.at.to_string()),
            kind: Some(self.action.type_name().to_owned()),
            member: self.member.is_member().then(|| self.member.to_string()),
            store: Some(self.store.to_string()),
            card: self.card.clone(),
            ..Wire::default()
        };
        put_action(&self.action, &mut w);
        w
    }
}

/// Reads the fields of a command type's action out of the wire form (what is left is refused
/// by the caller).
fn read_action(kind: &str, w: &mut Wire) -> Result<Action, Rejection> {
    for read in FAMILIES {
        if let Some(action) = read(kind, w)? {
            return Ok(action);
        }
    }
    Err(invalid(format!(
        "unknown command type {kind:?}; expected enroll, recharge, grant_bonus, consume, refund_consumption, refund_balance, change_tier, freeze, unfreeze, redeem_points, adjust, expire, review_tier, purchase_package, redeem_session, refund_package, link_card, report_lost, replace_card, unlink_card, authorize, capture, void, issue_coupon, grant_package, settle, publish_policy, close_period or open_balance"
    )))
}

/// Writes the fields of an action into the wire form, by its family.
fn put_action(action: &Action, w: &mut Wire) {
    match action {
        Action::Enroll { .. }
        | Action::ChangeTier { .. }
        | Action::ReviewTier
        | Action::Freeze { .. }
        | Action::Unfreeze { .. }
        | Action::OpenBalance { .. } => member::put(action, w),
        Action::Recharge { .. }
        | Action::GrantBonus { .. }
        | Action::Consume { .. }
        | Action::RefundConsumption { .. }
        | Action::RefundBalance
        | Action::Expire
        | Action::Adjust { .. } => money::put(action, w),
        Action::RedeemPoints { .. } => points::put(action, w),
        Action::PurchasePackage { .. }
        | Action::RedeemSession { .. }
        | Action::RefundPackage { .. } => packages::put(action, w),
        Action::LinkCard
        | Action::UnlinkCard
        | Action::ReportLost { .. }
        | Action::ReplaceCard { .. } => cards::put(action, w),
        Action::Authorize { .. } | Action::Capture { .. } | Action::Void { .. } => {
            holds::put(action, w);
        }
        Action::IssueCoupon { .. } | Action::GrantPackage { .. } => coupons::put(action, w),
        Action::Settle { .. } | Action::PublishPolicy { .. } | Action::ClosePeriod { .. } => {
            chain::put(action, w);
        }
    }
}
