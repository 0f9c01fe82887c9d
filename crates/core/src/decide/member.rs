//! A member's command: the checks every one passes (enrolled or not, its own stream, time in
//! order), the expiries due first, the frozen card's gate, then the rule of its action.

use super::draft::Draft;
use super::envelope;
use super::late;
use super::Context;
use crate::command::{Action, Command};
use crate::error::Rejection;
use crate::event::{Event, EventBody};
use crate::events::MemberEnrolled;
use crate::member::MemberState;
use crate::policy::Policy;

/// Decides a member's command under `policy` (version `policy_version`, in force at its time)
/// against the member's state (`None`: never enrolled). Settlements and publications are
/// routed elsewhere by [`super::decide`].
pub(super) fn decide_member(
    ctx: &Context<'_>,
    cmd: &Command,
    policy: &Policy,
    policy_version: u32,
) -> Result<(Vec<Event>, MemberState), Rejection> {
    if cmd.member.is_by_card() {
        return Err(Rejection::CardNotLinked(
            "the command names a card and no member: resolve it first (Context::resolve)".into(),
        ));
    }
    let Some(state) = ctx.member else {
        return match &cmd.action {
            Action::Enroll { tier } => enroll(cmd, tier.as_deref(), policy, policy_version),
            Action::OpenBalance { tier, opening } => {
                super::opening::open_balance(cmd, tier.as_deref(), opening, policy, policy_version)
            }
            _ => Err(Rejection::MemberNotFound(cmd.member.to_string())),
        };
    };
    if let Action::Enroll { .. } | Action::OpenBalance { .. } = cmd.action {
        return Err(Rejection::MemberExists(cmd.member.to_string()));
    }
    if state.member != cmd.member {
        return Err(Rejection::InvalidCommand(format!(
            "state of member {} given for a command of member {}",
            state.member, cmd.member
        )));
    }
    if !state.keeps_spending() && policy.has_visit_tier_rules() {
        return Err(Rejection::InvalidCommand(
            "a policy with spending or visit rules is decided on a member folded with its spending window".into(),
        ));
    }
    let late = late::late_command(cmd, state, policy)?;
    let mut d = Draft {
        cmd: late.as_ref().map_or(cmd, |(c, _)| c),
        occurred_at: late.as_ref().map(|(_, t)| *t),
        policy_version,
        state: state.clone(),
        events: Vec::new(),
        cards: ctx.cards,
        card_key: ctx.card_key.map(|k| k.0),
        card: None,
    };
    d.expire()?;
    d.frozen_gate(&cmd.action, policy)?;
    d.card_gate(policy)?;
    d.check_min_expiry(policy)?;
    let before = d.stored_value();
    d.dispatch(policy)?;
    if matches!(
        cmd.action,
        Action::Recharge { .. } | Action::GrantBonus { .. }
    ) {
        d.check_cap(before, policy)?;
    }
    Ok((d.events, d.state))
}

impl Draft<'_> {
    /// The rule of the command's action.
    // One arm per action and nothing else: a table, longer than a function should be only
    // because each action's fields are unpacked where its rule is called.
    #[allow(clippy::too_many_lines)]
    fn dispatch(&mut self, policy: &Policy) -> Result<(), Rejection> {
        match &self.cmd.action {
            Action::Recharge { amount, staff } => self.recharge(*amount, staff.as_ref(), policy),
            Action::GrantBonus {
                amount,
                reason,
                expires_at,
            } => self.grant_bonus(*amount, reason, *expires_at, policy),
            Action::Consume {
                amount,
                staff,
                service,
                external,
                coupon,
            } => self.consume(
                *amount,
                (staff.as_ref(), service.as_ref()),
                (external.as_ref(), *coupon),
                policy,
            ),
            Action::RefundConsumption {
                consumption,
                amount,
            } => self.refund_consumption(*consumption, *amount, policy),
            Action::RefundBalance => self.refund_balance(policy),
            Action::ChangeTier { tier, reason } => {
                self.change_tier(tier, reason.as_deref(), policy)
            }
            Action::PurchasePackage {
                amount,
                paid_from,
                service,
                sessions,
                expires_at,
                staff,
                external,
            } => self.purchase_package(
                (*amount, *paid_from, external.as_ref()),
                service,
                *sessions,
                *expires_at,
                staff.as_ref(),
                policy,
            ),
            Action::RedeemSession { package, staff } => {
                self.redeem_session(*package, staff.as_ref(), policy)
            }
            Action::RefundPackage { package, reason } => {
                self.refund_package(*package, reason.as_deref(), policy)
            }
            Action::IssueCoupon { .. } | Action::GrantPackage { .. } => self.coupon_action(),
            Action::Freeze { reason } => self.freeze(reason.as_deref()),
            Action::Unfreeze { reason } => self.unfreeze(reason.as_deref()),
            Action::RedeemPoints {
                points,
                reason,
                given,
            } => self.redeem_points(*points, reason.as_deref(), given.as_ref()),
            Action::Expire => self.expire_only(),
            Action::ReviewTier => self.review_tier(policy),
            Action::Adjust {
                balance,
                direction,
                amount,
                points,
                reason,
                operator,
                corrects,
            } => self.adjust(
                (*balance, *direction),
                (*amount, *points),
                (reason, operator, *corrects),
                policy,
            ),
            Action::LinkCard | Action::UnlinkCard => self.card_action(policy),
            Action::ReportLost { .. } | Action::ReplaceCard { .. } => self.card_action(policy),
            Action::Authorize { .. } | Action::Void { .. } => self.hold_action(policy),
            Action::Capture { .. } => self.hold_action(policy),
            // Decided before a draft is made (enrollment, import, the chain's own commands).
            Action::Enroll { .. } | Action::OpenBalance { .. } => self.not_decided_here(),
            Action::Settle { .. } | Action::PublishPolicy { .. } => self.not_decided_here(),
            Action::ClosePeriod { .. } => self.not_decided_here(),
        }
    }

    /// The refusal of a command `decide` routes elsewhere, should one come here.
    fn not_decided_here(&self) -> Result<(), Rejection> {
        Err(Rejection::InvalidCommand(format!(
            "{} is not decided on a member's state",
            self.cmd.action.type_name()
        )))
    }
}

/// Opens a card: the first event of a member's stream.
pub(super) fn enroll(
    cmd: &Command,
    tier: Option<&str>,
    policy: &Policy,
    policy_version: u32,
) -> Result<(Vec<Event>, MemberState), Rejection> {
    let tier = match tier {
        Some(t) if policy.tier(t).is_some() => t.to_owned(),
        Some(t) => return Err(Rejection::UnknownTier(t.to_owned())),
        None => policy.tiers[0].name.clone(),
    };
    let event = envelope(
        cmd,
        (0, 1),
        policy_version,
        EventBody::MemberEnrolled(MemberEnrolled {
            home_store: cmd.store.clone(),
            tier,
        }),
    );
    let state = MemberState::enrolled(&event).expect("a decided enrollment folds");
    Ok((vec![event], state))
}
