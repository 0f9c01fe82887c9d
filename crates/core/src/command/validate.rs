//! The one definition of a well-formed command, whichever way it was built: parsed from its
//! wire form ([`Command::from_json`] ends with it) or written as a struct literal (the
//! ledger's `execute` runs it on every command, and so do the core's deciders).

use crate::cards::validate_card;
use crate::command::{
    validate_text, Action, Balance, Command, ExternalAmount, ExternalPay, PaidFrom, POINTS_MAX,
    SESSIONS_MAX,
};
use crate::error::Rejection;
use crate::event::{validate_method, Given};
use crate::id::validate_id;
use crate::money::{Money, AMOUNT_MAX};
use uuid::Uuid;

impl Command {
    /// Checks every field the way the wire form does, with the same codes: a non-nil id
    /// (`invalid_command`); a stream that matches the action (a member command names a member,
    /// not `@stores` or `@policy`: `invalid_id`; `settle` and `publish_policy` name none:
    /// `invalid_command`); amounts above zero and at most [`AMOUNT_MAX`], points 1 to
    /// [`POINTS_MAX`], sessions 1 to [`SESSIONS_MAX`] (`invalid_amount`); free text of 1 to 128
    /// characters without control characters, tier names shaped like ids, non-nil ids of
    /// consumptions and packages, and a valid policy.
    pub fn validate(&self) -> Result<(), Rejection> {
        uuid_set("id", self.id)?;
        self.check_stream()?;
        let text = |name: &str, t: &Option<String>| match t {
            Some(s) => validate_text(name, s),
            None => Ok(()),
        };
        let checked: Result<(), Rejection> = match &self.action {
            Action::Enroll { tier } => tier.as_deref().map_or(Ok(()), |t| validate_id("tier", t)),
            Action::Recharge { amount, .. } => positive(*amount),
            Action::GrantBonus { amount, reason, .. } => {
                positive(*amount)?;
                validate_text("reason", reason)
            }
            Action::Consume {
                amount,
                service,
                external,
                coupon,
                ..
            } => {
                positive(*amount)?;
                super::coupon::validate_coupon_id(*coupon)?;
                text("service", service)?;
                external.as_ref().map_or(Ok(()), external_pay)
            }
            Action::RefundConsumption {
                consumption,
                amount,
            } => {
                uuid_set("consumption", *consumption)?;
                amount.map_or(Ok(()), positive)
            }
            Action::RefundBalance | Action::Expire | Action::ReviewTier => Ok(()),
            Action::ChangeTier { tier, reason } => {
                validate_id("tier", tier)?;
                text("reason", reason)
            }
            Action::Settle { amount, .. } => amount.map_or(Ok(()), positive),
            Action::Freeze { reason } | Action::Unfreeze { reason } => text("reason", reason),
            Action::RedeemPoints {
                points,
                reason,
                given,
            } => {
                points_in_range(*points)?;
                text("reason", reason)?;
                given.as_ref().map_or(Ok(()), given_for_points)
            }
            Action::Adjust {
                balance,
                amount,
                points,
                reason,
                corrects,
                ..
            } => {
                corrects.map_or(Ok(()), |c| uuid_set("corrects", c))?;
                adjustment(*balance, *amount, *points, reason)
            }
            Action::PurchasePackage {
                amount,
                paid_from,
                service,
                sessions,
                external,
                ..
            } => {
                package_external(*paid_from, external.as_ref())?;
                package(*amount, *sessions, service)
            }
            Action::RedeemSession { package, .. } => uuid_set("package", *package),
            Action::RefundPackage { package, reason } => {
                uuid_set("package", *package)?;
                text("reason", reason)
            }
            Action::PublishPolicy { policy } => policy.validate(),
            // The period, opening, card and hold commands.
            _ => self.validate_the_rest(),
        };
        checked?;
        self.check_card()
    }

    /// The fields of the period, opening, card and hold commands.
    fn validate_the_rest(&self) -> Result<(), Rejection> {
        if let Some(checked) = super::coupon::validate_coupon_action(&self.action, self.at) {
            return checked;
        }
        let text = |name: &str, t: &Option<String>| match t {
            Some(s) => validate_text(name, s),
            None => Ok(()),
        };
        match &self.action {
            Action::ClosePeriod { through } if *through > self.at => Err(invalid(
                "a period is closed through a time at or before the command's own",
            )),
            Action::OpenBalance { tier, opening } => {
                if let Some(t) = tier {
                    validate_id("tier", t)?;
                }
                opening.validate()
            }
            Action::ReportLost { reason } | Action::Void { reason, .. } => text("reason", reason),
            Action::ReplaceCard { new_card } => {
                validate_card("new_card", new_card)?;
                if self.card.as_deref() == Some(new_card.as_str()) {
                    return Err(invalid("`new_card` must differ from `card`"));
                }
                Ok(())
            }
            Action::Authorize { amount, expires_at } => {
                positive(*amount)?;
                match expires_at {
                    Some(e) if *e <= self.at => Err(invalid(&format!(
                        "a hold must expire after the command's time, not at {e}"
                    ))),
                    _ => Ok(()),
                }
            }
            Action::Capture {
                hold,
                amount,
                service,
                ..
            } => {
                uuid_set("hold", *hold)?;
                positive(*amount)?;
                text("service", service)
            }
            _ => Ok(()),
        }
    }

    /// The card a command names: shaped like an id; required by the card commands; named by
    /// no enrollment, settlement, publication or sweep.
    fn check_card(&self) -> Result<(), Rejection> {
        let kind = self.action.type_name();
        match (&self.card, &self.action) {
            (None, a) if a.is_card_action() => {
                Err(invalid(&format!("`{kind}` needs the field `card`")))
            }
            (
                Some(_),
                Action::Settle { .. }
                | Action::PublishPolicy { .. }
                | Action::ClosePeriod { .. }
                | Action::Expire
                | Action::ReviewTier
                | Action::Enroll { .. }
                | Action::OpenBalance { .. },
            ) => Err(invalid(&format!("`{kind}` does not take the field `card`"))),
            (Some(c), _) => validate_card("card", c),
            (None, _) => Ok(()),
        }
    }

    /// A member command names a member's stream; a settlement the settlements stream, a
    /// publication the policy stream.
    fn check_stream(&self) -> Result<(), Rejection> {
        let kind = self.action.type_name();
        match &self.action {
            Action::Settle { .. } if !self.member.is_stores() => Err(invalid(&format!(
                "a settlement is between stores and names no member, not {}",
                self.member
            ))),
            Action::PublishPolicy { .. } if !self.member.is_policy() => Err(invalid(&format!(
                "a policy is the chain's and names no member, not {}",
                self.member
            ))),
            Action::ClosePeriod { .. } if !self.member.is_policy() => Err(invalid(&format!(
                "a period is the chain's and names no member, not {}",
                self.member
            ))),
            Action::Settle { .. } | Action::PublishPolicy { .. } | Action::ClosePeriod { .. } => {
                Ok(())
            }
            _ if self.member.is_by_card()
                && self.card.is_some()
                && self.action != Action::LinkCard =>
            {
                Ok(())
            }
            _ if !self.member.is_member() => Err(Rejection::InvalidId(format!(
                "`{kind}` needs a member id; {} is the name of a stream, not a member",
                self.member
            ))),
            _ => Ok(()),
        }
    }
}

/// An adjustment moves an `amount` of principal or bonus, or `points`, with a reason.
fn adjustment(
    balance: Balance,
    amount: Option<Money>,
    points: Option<u64>,
    reason: &str,
) -> Result<(), Rejection> {
    let (balance, amount, points) = (&balance, &amount, &points);
    match (balance, amount, points) {
        (Balance::Points, None, Some(p)) => points_in_range(*p)?,
        (Balance::Points, _, _) => {
            return Err(invalid(
                "a points adjustment moves `points` and no `amount`",
            ))
        }
        (_, Some(a), None) => positive(*a)?,
        _ => {
            return Err(invalid(
                "a principal or bonus adjustment moves an `amount` and no `points`",
            ))
        }
    }
    validate_text("reason", reason)
}

fn invalid(msg: &str) -> Rejection {
    Rejection::InvalidCommand(msg.to_owned())
}

pub(super) fn uuid_set(field: &str, u: Uuid) -> Result<(), Rejection> {
    if u.is_nil() {
        return Err(invalid(&format!("{field} must not be the nil UUID")));
    }
    Ok(())
}

/// An amount a command carries: above zero, at most [`AMOUNT_MAX`].
pub(super) fn positive(m: Money) -> Result<(), Rejection> {
    if !m.is_positive() {
        return Err(Rejection::InvalidAmount(format!(
            "amount {m} must be above zero"
        )));
    }
    if m > AMOUNT_MAX {
        return Err(Rejection::InvalidAmount(format!(
            "amount {m} is above the maximum of {AMOUNT_MAX}"
        )));
    }
    Ok(())
}

/// A consumption's external part: a method named like an account, a positive amount.
fn external_pay(x: &ExternalPay) -> Result<(), Rejection> {
    validate_method(&x.method).map_err(Rejection::InvalidCommand)?;
    match x.amount {
        ExternalAmount::Fixed(m) => positive(m),
        ExternalAmount::Rest | ExternalAmount::All => Ok(()),
    }
}

/// What a store gave for points: a value above zero and a named item.
fn given_for_points(g: &Given) -> Result<(), Rejection> {
    positive(g.value)?;
    validate_text("item", &g.item)
}

fn points_in_range(points: u64) -> Result<(), Rejection> {
    if points == 0 || points > POINTS_MAX {
        return Err(Rejection::InvalidAmount(format!(
            "points must be 1-{POINTS_MAX}, not {points}"
        )));
    }
    Ok(())
}

/// A package: 1 to [`SESSIONS_MAX`] sessions, at least a cent each, and a service named.
/// A package's external part: only beside the balance (a package paid in cash is paid
/// outside the card already), a method named like an account, a positive amount.
fn package_external(paid_from: PaidFrom, x: Option<&ExternalPay>) -> Result<(), Rejection> {
    match x {
        None => Ok(()),
        Some(_) if paid_from == PaidFrom::Cash => Err(Rejection::InvalidCommand(
            "a package paid in cash takes no `method`: pay it with `paid_from` balance and `external` all".into(),
        )),
        Some(x) => external_pay(x),
    }
}

fn package(amount: Money, sessions: u32, service: &str) -> Result<(), Rejection> {
    if sessions == 0 || sessions > SESSIONS_MAX {
        return Err(Rejection::InvalidAmount(format!(
            "sessions must be 1-{SESSIONS_MAX}, not {sessions}"
        )));
    }
    positive(amount)?;
    if amount.cents() < i64::from(sessions) {
        return Err(Rejection::InvalidAmount(format!(
            "a package of {sessions} sessions must cost at least one cent a session, not {amount}"
        )));
    }
    validate_text("service", service)
}
