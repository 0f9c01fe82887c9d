//! The wire form of a command: one flat JSON object, read field by field and written with
//! sorted keys.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Action, Balance, Command, Direction, ExternalAmount, ExternalPay, PaidFrom, COMMAND_LINE_MAX,
};
use crate::error::Rejection;
use crate::event::{Given, GivenKind};
use crate::id::{MemberId, StaffId, StoreId};
use crate::money::Money;
use crate::time::Timestamp;

/// A reader of a required field, naming the command type when it is missing.
type Req<'a> = &'a dyn Fn(Option<String>, &str) -> Result<String, Rejection>;

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
    let req = |f: Option<String>, name: &str| {
        f.ok_or_else(|| invalid(format!("`{kind}` needs the field `{name}`")))
    };
    let staff = |f: Option<String>| f.map(StaffId::new).transpose();
    // Free text and tier names are checked by `validate` (a tier is named like an id, so
    // a command's every field is bounded and its canonical JSON parses back within the
    // line limit).
    Ok(match kind {
        "enroll" => Action::Enroll {
            tier: w.tier.take(),
        },
        "recharge" => Action::Recharge {
            amount: parse_amount(&req(w.amount.take(), "amount")?)?,
            staff: staff(w.staff.take())?,
        },
        "grant_bonus" => Action::GrantBonus {
            amount: parse_amount(&req(w.amount.take(), "amount")?)?,
            reason: req(w.reason.take(), "reason")?,
            expires_at: w.expires_at.take().map(|s| s.parse()).transpose()?,
        },
        "consume" => Action::Consume {
            amount: parse_amount(&req(w.amount.take(), "amount")?)?,
            staff: staff(w.staff.take())?,
            service: w.service.take(),
            external: read_external(w)?,
            coupon: w
                .coupon
                .take()
                .map(|s| parse_uuid("coupon", &s))
                .transpose()?,
        },
        "refund_consumption" => Action::RefundConsumption {
            consumption: parse_uuid("consumption", &req(w.consumption.take(), "consumption")?)?,
            amount: w.amount.take().map(|s| parse_amount(&s)).transpose()?,
        },
        "refund_balance" => Action::RefundBalance,
        "change_tier" => Action::ChangeTier {
            tier: req(w.tier.take(), "tier")?,
            reason: w.reason.take(),
        },
        "settle" => Action::Settle {
            to: StoreId::new(req(w.to.take(), "to")?)?,
            amount: w.amount.take().map(|s| parse_amount(&s)).transpose()?,
        },
        "freeze" => Action::Freeze {
            reason: w.reason.take(),
        },
        "unfreeze" => Action::Unfreeze {
            reason: w.reason.take(),
        },
        "redeem_points" => {
            let points = w
                .points
                .take()
                .ok_or_else(|| invalid("`redeem_points` needs the field `points`".into()))?;
            Action::RedeemPoints {
                points,
                reason: w.reason.take(),
                given: read_given(w)?,
            }
        }
        "expire" | "review_tier" => sweep_action(kind),
        "open_balance" => read_opening(w)?,
        "adjust" => read_adjust(w, &req)?,
        "purchase_package" => read_package(w, &req)?,
        "redeem_session" => Action::RedeemSession {
            package: parse_uuid("package", &req(w.package.take(), "package")?)?,
            staff: staff(w.staff.take())?,
        },
        "refund_package" => Action::RefundPackage {
            package: parse_uuid("package", &req(w.package.take(), "package")?)?,
            reason: w.reason.take(),
        },
        "publish_policy" | "close_period" => read_chain_action(kind, w)?,
        "issue_coupon" | "grant_package" => super::coupon::read_coupon_action(kind, w)?,
        "link_card" | "report_lost" | "replace_card" | "unlink_card" | "authorize"
        | "capture" | "void" => read_card_or_hold(kind, w, &req)?,
        other => {
            return Err(invalid(format!(
                "unknown command type {other:?}; expected enroll, recharge, grant_bonus, consume, refund_consumption, refund_balance, change_tier, freeze, unfreeze, redeem_points, adjust, expire, review_tier, purchase_package, redeem_session, refund_package, link_card, report_lost, replace_card, unlink_card, authorize, capture, void, issue_coupon, grant_package, settle, publish_policy, close_period or open_balance"
            )))
        }
    })
}

/// The sweeps' member commands, which take no field of their own: `expire`, `review_tier`.
fn sweep_action(kind: &str) -> Action {
    if kind == "review_tier" {
        Action::ReviewTier
    } else {
        Action::Expire
    }
}

/// An opening balance: its `opening` (required) and starting `tier`.
fn read_opening(w: &mut Wire) -> Result<Action, Rejection> {
    let opening = w
        .opening
        .take()
        .ok_or_else(|| invalid("`open_balance` needs the field `opening`".into()))?;
    Ok(Action::OpenBalance {
        tier: w.tier.take(),
        opening: Box::new(opening),
    })
}

/// The fields of the chain's own commands: a policy publication, a period's close.
fn read_chain_action(kind: &str, w: &mut Wire) -> Result<Action, Rejection> {
    if kind == "close_period" {
        let through = w
            .through
            .take()
            .ok_or_else(|| invalid("`close_period` needs the field `through`".into()))?;
        return Ok(Action::ClosePeriod {
            through: through.parse()?,
        });
    }
    let v = w
        .policy
        .take()
        .ok_or_else(|| invalid("`publish_policy` needs the field `policy`".into()))?;
    let policy = crate::policy::Policy::from_value(v)?;
    Ok(Action::PublishPolicy {
        policy: Box::new(policy),
    })
}

/// A consumption's external part: `method` (required with `external`), and `external`, an
/// amount or `all`; `method` alone pays what the card cannot cover.
fn read_external(w: &mut Wire) -> Result<Option<ExternalPay>, Rejection> {
    let amount = match w.external.take() {
        None => ExternalAmount::Rest,
        Some(s) if s == "all" => ExternalAmount::All,
        Some(s) => ExternalAmount::Fixed(parse_amount(&s)?),
    };
    match w.method.take() {
        Some(method) => Ok(Some(ExternalPay { method, amount })),
        None if amount == ExternalAmount::Rest => Ok(None),
        None => Err(invalid(
            "`external` needs the field `method` (how it was paid: cash, wechat, …)".into(),
        )),
    }
}

/// What a points redemption gave: `service` or `gift` (its name) with its `value`.
fn read_given(w: &mut Wire) -> Result<Option<Given>, Rejection> {
    let value = w.value.take().map(|s| parse_amount(&s)).transpose()?;
    let named = match (w.service.take(), w.gift.take()) {
        (Some(item), None) => Some((GivenKind::Service, item)),
        (None, Some(item)) => Some((GivenKind::Gift, item)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(invalid(
                "`redeem_points` gives a `service` or a `gift`, not both".into(),
            ))
        }
    };
    match (named, value) {
        (Some((kind, item)), Some(value)) => Ok(Some(Given { item, kind, value })),
        (None, None) => Ok(None),
        _ => Err(invalid(
            "`redeem_points` names what it gave (`service` or `gift`) together with its `value`"
                .into(),
        )),
    }
}

/// The fields of the card and hold commands.
fn read_card_or_hold(kind: &str, w: &mut Wire, req: Req<'_>) -> Result<Action, Rejection> {
    let hold = |w: &mut Wire| parse_uuid("hold", &req(w.hold.take(), "hold")?);
    Ok(match kind {
        "link_card" => Action::LinkCard,
        "report_lost" => Action::ReportLost {
            reason: w.reason.take(),
        },
        "replace_card" => Action::ReplaceCard {
            new_card: req(w.new_card.take(), "new_card")?,
        },
        "unlink_card" => Action::UnlinkCard,
        "authorize" => Action::Authorize {
            amount: parse_amount(&req(w.amount.take(), "amount")?)?,
            expires_at: w.expires_at.take().map(|s| s.parse()).transpose()?,
        },
        "capture" => Action::Capture {
            hold: hold(w)?,
            amount: parse_amount(&req(w.amount.take(), "amount")?)?,
            staff: w.staff.take().map(StaffId::new).transpose()?,
            service: w.service.take(),
        },
        _ => Action::Void {
            hold: hold(w)?,
            reason: w.reason.take(),
        },
    })
}

/// The fields of an `adjust`.
fn read_adjust(w: &mut Wire, req: Req<'_>) -> Result<Action, Rejection> {
    let balance = w
        .balance
        .take()
        .ok_or_else(|| invalid("`adjust` needs the field `balance`".into()))?;
    let direction = w
        .direction
        .take()
        .ok_or_else(|| invalid("`adjust` needs the field `direction`".into()))?;
    let (amount, points) = if balance == Balance::Points {
        let p = w
            .points
            .take()
            .ok_or_else(|| invalid("a points adjustment needs `points`".into()))?;
        (None, Some(p))
    } else {
        (Some(parse_amount(&req(w.amount.take(), "amount")?)?), None)
    };
    Ok(Action::Adjust {
        balance,
        direction,
        amount,
        points,
        reason: req(w.reason.take(), "reason")?,
        operator: StaffId::new(req(w.operator.take(), "operator")?)?,
        corrects: w
            .corrects
            .take()
            .map(|s| parse_uuid("corrects", &s))
            .transpose()?,
    })
}

/// The fields of a `purchase_package`.
fn read_package(w: &mut Wire, req: Req<'_>) -> Result<Action, Rejection> {
    let sessions = w
        .sessions
        .take()
        .ok_or_else(|| invalid("`purchase_package` needs the field `sessions`".into()))?;
    let amount = parse_amount(&req(w.amount.take(), "amount")?)?;
    Ok(Action::PurchasePackage {
        amount,
        paid_from: w.paid_from.take().ok_or_else(|| {
            invalid("`purchase_package` needs the field `paid_from` (cash or balance)".into())
        })?,
        service: req(w.service.take(), "service")?,
        sessions,
        expires_at: w.expires_at.take().map(|s| s.parse()).transpose()?,
        staff: w.staff.take().map(StaffId::new).transpose()?,
        external: read_external(w)?,
    })
}

/// Writes the fields of an action into the wire form.
fn put_action(action: &Action, w: &mut Wire) {
    match action {
        Action::Enroll { tier } => w.tier = tier.clone(),
        Action::Recharge { amount, staff } => {
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => {
            w.amount = Some(amount.to_string());
            w.reason = Some(reason.clone());
            w.expires_at = expires_at.map(|t| t.to_string());
        }
        Action::Consume {
            amount,
            staff,
            service,
            external,
            coupon,
        } => {
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
            w.service = service.clone();
            w.coupon = coupon.map(|c| c.to_string());
            put_external(external.as_ref(), w);
        }
        Action::RefundConsumption {
            consumption,
            amount,
        } => {
            w.consumption = Some(consumption.to_string());
            w.amount = amount.map(|a| a.to_string());
        }
        Action::RefundBalance => {}
        Action::ChangeTier { tier, reason } => {
            w.tier = Some(tier.clone());
            w.reason = reason.clone();
        }
        Action::Settle { to, amount } => {
            w.to = Some(to.to_string());
            w.amount = amount.map(|a| a.to_string());
        }
        Action::Freeze { reason } | Action::Unfreeze { reason } => w.reason = reason.clone(),
        Action::RedeemPoints {
            points,
            reason,
            given,
        } => {
            w.points = Some(*points);
            w.reason = reason.clone();
            if let Some(g) = given {
                match g.kind {
                    GivenKind::Service => w.service = Some(g.item.clone()),
                    GivenKind::Gift => w.gift = Some(g.item.clone()),
                }
                w.value = Some(g.value.to_string());
            }
        }
        Action::Expire | Action::ReviewTier => {}
        Action::Adjust { .. }
        | Action::PurchasePackage { .. }
        | Action::RedeemSession { .. }
        | Action::RefundPackage { .. }
        | Action::PublishPolicy { .. }
        | Action::ClosePeriod { .. }
        | Action::OpenBalance { .. }
        | Action::LinkCard
        | Action::UnlinkCard
        | Action::ReportLost { .. }
        | Action::ReplaceCard { .. }
        | Action::Authorize { .. }
        | Action::Capture { .. }
        | Action::Void { .. } => put_action_more(action, w),
        Action::IssueCoupon { .. } | Action::GrantPackage { .. } => {
            super::coupon::put_coupon_action(action, w);
        }
    }
}

/// A consumption's external part: its `method`, and `external` unless it is the rest.
fn put_external(external: Option<&ExternalPay>, w: &mut Wire) {
    if let Some(x) = external {
        w.method = Some(x.method.clone());
        w.external = match x.amount {
            ExternalAmount::Rest => None,
            ExternalAmount::All => Some("all".into()),
            ExternalAmount::Fixed(m) => Some(m.to_string()),
        };
    }
}

/// [`put_action`] for the corrections, packages and policies.
fn put_action_more(action: &Action, w: &mut Wire) {
    match action {
        Action::Adjust {
            balance,
            direction,
            amount,
            points,
            reason,
            operator,
            corrects,
        } => {
            w.corrects = corrects.map(|c| c.to_string());
            w.balance = Some(*balance);
            w.direction = Some(*direction);
            w.amount = amount.map(|a| a.to_string());
            w.points = *points;
            w.reason = Some(reason.clone());
            w.operator = Some(operator.to_string());
        }
        Action::PurchasePackage {
            amount,
            paid_from,
            service,
            sessions,
            expires_at,
            staff,
            external,
        } => {
            put_external(external.as_ref(), w);
            w.amount = Some(amount.to_string());
            w.paid_from = Some(*paid_from);
            w.service = Some(service.clone());
            w.sessions = Some(*sessions);
            w.expires_at = expires_at.map(|t| t.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::RedeemSession { package, staff } => {
            w.package = Some(package.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
        }
        Action::RefundPackage { package, reason } => {
            w.package = Some(package.to_string());
            w.reason = reason.clone();
        }
        Action::PublishPolicy { policy } => {
            w.policy = Some(serde_json::to_value(policy).expect("policy serialises"));
        }
        Action::ClosePeriod { through } => w.through = Some(through.to_string()),
        Action::OpenBalance { tier, opening } => {
            w.tier = tier.clone();
            w.opening = Some((**opening).clone());
        }
        Action::LinkCard | Action::UnlinkCard => {}
        Action::ReportLost { reason } => w.reason = reason.clone(),
        Action::ReplaceCard { new_card } => w.new_card = Some(new_card.clone()),
        Action::Authorize { amount, expires_at } => {
            w.amount = Some(amount.to_string());
            w.expires_at = expires_at.map(|t| t.to_string());
        }
        Action::Capture {
            hold,
            amount,
            staff,
            service,
        } => {
            w.hold = Some(hold.to_string());
            w.amount = Some(amount.to_string());
            w.staff = staff.as_ref().map(ToString::to_string);
            w.service = service.clone();
        }
        Action::Void { hold, reason } => {
            w.hold = Some(hold.to_string());
            w.reason = reason.clone();
        }
        // The other actions are written by `put_action`.
        _ => {}
    }
}
