//! `decide`: every business rule. It reads the member's state, the command and the policy, and
//! returns the events to record or a rejection. It never touches a clock, a disk or a network.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::command::{Action, Balance, Command, Direction, PaidFrom};
use crate::error::Rejection;
use crate::event::{
    event_id, Draw, Event, EventBody, LotKind, PointsDraw, Restore, EVENT_SCHEMA_VERSION,
};
use crate::events::*;
use crate::id::StaffId;
use crate::member::{Lot, MemberState, Package, PackageStatus, PointLot};
use crate::money::{div_round, Money};
use crate::policy::{PackageRefundTo, Policy, SpendOrder};
use crate::time::Timestamp;
use uuid::Uuid;

/// Decides a command against the member's current state (`None` when never enrolled) and the
/// policy in force. On success the events are complete (ids, versions, every derived figure)
/// and fold onto `state` in order; a rejection records nothing.
///
/// ```
/// use memberledger_core::{decide, Command, MemberState, Policy};
/// let policy = Policy::builtin();
/// let enroll = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000001","at":"2026-03-01T10:00:00Z","type":"enroll","member":"M1","store":"S1"}"#).unwrap();
/// let events = decide(None, &enroll, &policy).unwrap();
/// let mut state = MemberState::enrolled(&events[0]).unwrap();
/// let recharge = Command::from_json(r#"{"id":"00000000-0000-4000-8000-000000000002","at":"2026-03-01T10:05:00Z","type":"recharge","member":"M1","store":"S1","amount":"1000.00"}"#).unwrap();
/// for e in decide(Some(&state), &recharge, &policy).unwrap() {
///     state.apply(&e).unwrap();
/// }
/// assert_eq!(state.principal().to_string(), "1000.00");
/// assert_eq!(state.bonus().to_string(), "150.00"); // the built-in policy's 1000 → 150 rule
/// ```
pub fn decide(
    state: Option<&MemberState>,
    cmd: &Command,
    policy: &Policy,
) -> Result<Vec<Event>, Rejection> {
    decide_and_fold(state, cmd, policy).map(|(events, _)| events)
}

/// [`decide`], also returning the member's state with the events folded on: what a caller
/// that keeps projections needs, without folding the events a second time. The events name
/// policy version 1 (the founding policy); see [`decide_versioned`].
pub fn decide_and_fold(
    state: Option<&MemberState>,
    cmd: &Command,
    policy: &Policy,
) -> Result<(Vec<Event>, MemberState), Rejection> {
    decide_versioned(state, cmd, policy, 1)
}

/// [`decide_and_fold`] under a given version of the policy (the one in force at the
/// command's time), which every event records in its envelope.
pub fn decide_versioned(
    state: Option<&MemberState>,
    cmd: &Command,
    policy: &Policy,
    policy_version: u32,
) -> Result<(Vec<Event>, MemberState), Rejection> {
    cmd.validate()?;
    match cmd.action {
        Action::Settle { .. } => {
            return Err(Rejection::InvalidCommand(
                "a settlement is decided against the stores' clearing (decide_settlement)".into(),
            ))
        }
        Action::PublishPolicy { .. } => {
            return Err(Rejection::InvalidCommand(
                "a policy is decided against the policy history (PolicyHistory::decide)".into(),
            ))
        }
        _ => {}
    }
    let Some(state) = state else {
        return match &cmd.action {
            Action::Enroll { tier } => enroll(cmd, tier.as_deref(), policy, policy_version),
            _ => Err(Rejection::MemberNotFound(cmd.member.to_string())),
        };
    };
    if let Action::Enroll { .. } = cmd.action {
        return Err(Rejection::MemberExists(cmd.member.to_string()));
    }
    if state.member != cmd.member {
        return Err(Rejection::InvalidCommand(format!(
            "state of member {} given for a command of member {}",
            state.member, cmd.member
        )));
    }
    if cmd.at < state.last_at {
        return Err(Rejection::OutOfOrder(format!(
            "command time {} is before member {}'s last event at {}",
            cmd.at, cmd.member, state.last_at
        )));
    }
    let mut d = Draft {
        cmd,
        policy_version,
        state: state.clone(),
        events: Vec::new(),
    };
    d.expire()?;
    d.frozen_gate(&cmd.action, policy)?;
    match &cmd.action {
        Action::Enroll { .. } => unreachable!("handled above"),
        Action::Recharge { amount, staff } => d.recharge(*amount, staff.as_ref(), policy),
        Action::GrantBonus {
            amount,
            reason,
            expires_at,
        } => d.grant_bonus(*amount, reason, *expires_at, policy),
        Action::Consume {
            amount,
            staff,
            service,
        } => d.consume(*amount, staff.as_ref(), service.as_ref(), policy),
        Action::RefundConsumption {
            consumption,
            amount,
        } => d.refund_consumption(*consumption, *amount, policy),
        Action::RefundBalance => d.refund_balance(policy),
        Action::ChangeTier { tier, reason } => d.change_tier(tier, reason.as_deref(), policy),
        Action::Settle { .. } | Action::PublishPolicy { .. } => unreachable!("handled above"),
        Action::PurchasePackage {
            amount,
            paid_from,
            service,
            sessions,
            expires_at,
            staff,
        } => d.purchase_package(
            (*amount, *paid_from),
            service,
            *sessions,
            *expires_at,
            staff.as_ref(),
            policy,
        ),
        Action::RedeemSession { package, staff } => {
            d.redeem_session(*package, staff.as_ref(), policy)
        }
        Action::RefundPackage { package, reason } => {
            d.refund_package(*package, reason.as_deref(), policy)
        }
        Action::Freeze { reason } => d.freeze(reason.as_deref()),
        Action::Unfreeze { reason } => d.unfreeze(reason.as_deref()),
        Action::RedeemPoints { points, reason } => d.redeem_points(*points, reason.as_deref()),
        Action::Expire => d.expire_only(),
        Action::Adjust {
            balance,
            direction,
            amount,
            points,
            reason,
            operator,
        } => d.adjust(
            *balance,
            *direction,
            (*amount, *points),
            reason,
            operator,
            policy,
        ),
    }?;
    Ok((d.events, d.state))
}

fn enroll(
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

/// A command's event: `index` within the command, `version` of its stream.
pub(crate) fn envelope(
    cmd: &Command,
    (index, version): (u32, u64),
    policy_version: u32,
    body: EventBody,
) -> Event {
    Event {
        id: event_id(cmd.id, index),
        command: cmd.id,
        index,
        member: cmd.member.clone(),
        version,
        at: cmd.at,
        store: cmd.store.clone(),
        v: EVENT_SCHEMA_VERSION,
        policy: policy_version,
        body,
    }
}

/// A command being decided: a working copy of the state with the events so far folded on.
struct Draft<'a> {
    cmd: &'a Command,
    policy_version: u32,
    state: MemberState,
    events: Vec<Event>,
}

impl Draft<'_> {
    /// Records an event and folds it onto the working state, so later rules of the same
    /// command see its effect (a recharge's tier upgrade sees the recharge).
    ///
    /// Refused with `limit_exceeded`, recording nothing, when the event or the member's running
    /// totals after it would pass what an event may record (`crate::bounds`), or the member's
    /// lot numbers or stream version would run out.
    fn record(&mut self, body: EventBody) -> Result<(), Rejection> {
        let limit = Rejection::LimitExceeded;
        self.check_room(&body)?;
        let member = &self.cmd.member;
        let version = self
            .state
            .version
            .checked_add(1)
            .ok_or_else(|| limit(format!("member {member}'s stream is at its last version")))?;
        let index = u32::try_from(self.events.len())
            .map_err(|_| limit("a command records too many events".into()))?;
        let event = envelope(self.cmd, (index, version), self.policy_version, body);
        let before = self.state.totals();
        if let Err(e) = self.state.apply(&event) {
            panic!("decide produced an event that does not fold: {e}");
        }
        self.state
            .totals()
            .check_growth(&before, member.as_str())
            .map_err(limit)?;
        // Assertions in pairs: the entry balances here, before it is written, and `verify`
        // checks it again after it is read back.
        if let Err(e) = crate::books::check_balanced(&crate::books::postings(&event)) {
            panic!("decide produced an unbalanced event: {e}");
        }
        self.events.push(event);
        Ok(())
    }

    /// What an event needs before it folds: its figures within the bounds, a lot number to
    /// open (at most two per event: a package refunded to the balance), and room in the
    /// member's table of origin stores for a lot from a new store.
    fn check_room(&self, body: &EventBody) -> Result<(), Rejection> {
        let limit = Rejection::LimitExceeded;
        let member = &self.cmd.member;
        crate::bounds::check_event(body)
            .map_err(|why| limit(format!("{}: {why}", body.type_name())))?;
        if self.state.next_lot > u32::MAX - 2 {
            return Err(limit(format!(
                "member {member} has used every lot number (the last is {})",
                u32::MAX
            )));
        }
        let origin = match body {
            EventBody::PackageRefunded(PackageRefunded { origin_store, .. }) => Some(origin_store),
            EventBody::Recharged { .. }
            | EventBody::BonusGranted { .. }
            | EventBody::Adjusted { .. } => Some(&self.cmd.store),
            _ => None,
        };
        if origin.is_some_and(|s| !self.state.can_hold_lots_from(s)) {
            return Err(limit(format!(
                "member {member} already holds lots from {} stores besides its home store, the most a member's lots may come from",
                u16::MAX
            )));
        }
        Ok(())
    }

    fn next_lot(&self) -> u32 {
        self.state.next_lot
    }

    /// Every bonus and point lot whose expiry is at or before the command's time expires first.
    fn expire(&mut self) -> Result<(), Rejection> {
        let at = self.cmd.at;
        if self.state.next_expiry().is_none_or(|e| e > at) {
            return Ok(());
        }
        let due: Vec<Lot> = self
            .state
            .lots(LotKind::Bonus)
            .filter(|l| l.expires_at.is_some_and(|e| e <= at))
            .collect();
        for l in due {
            self.record(EventBody::BonusExpired(BonusExpired {
                lot: l.lot,
                amount: l.remaining,
                origin_store: l.origin_store,
                expires_at: l.expires_at.expect("filtered on expiry"),
            }))?;
        }
        let due: Vec<(u32, u64, Timestamp)> = self
            .state
            .point_lots()
            .iter()
            .filter_map(|l| {
                l.expires_at
                    .filter(|e| *e <= at)
                    .map(|e| (l.lot, l.remaining, e))
            })
            .collect();
        for (lot, points, expires_at) in due {
            self.record(EventBody::PointsExpired(PointsExpired {
                lot,
                points,
                expires_at,
            }))?;
        }
        let due: Vec<Package> = self
            .state
            .packages()
            .values()
            .filter(|p| p.status == PackageStatus::Open && p.expires_at.is_some_and(|e| e <= at))
            .cloned()
            .collect();
        for p in due {
            self.record(EventBody::PackageExpired(PackageExpired {
                amount: p.value_left(),
                bonus: p.bonus_left,
                expires_at: p.expires_at.expect("filtered on expiry"),
                origin_store: p.origin_store,
                package: p.package,
                principal: p.principal_left,
                sessions: p.sessions_left,
            }))?;
        }
        Ok(())
    }

    /// Buys a package: in cash at the command's store, or from the balance split by the spend
    /// order and drawn from lots like a consumption (without a tier discount or points).
    fn purchase_package(
        &mut self,
        (price, paid_from): (Money, PaidFrom),
        service: &str,
        sessions: u32,
        expires_at: Option<Timestamp>,
        staff: Option<&StaffId>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if self.state.packages().contains_key(&self.cmd.id) {
            return Err(Rejection::IdempotencyConflict(self.cmd.id.to_string()));
        }
        if expires_at.is_some_and(|e| e <= self.cmd.at) {
            return Err(Rejection::InvalidCommand(format!(
                "expires_at must be after the command's time {}",
                self.cmd.at
            )));
        }
        let (cash, principal, bonus, draws) = match paid_from {
            PaidFrom::Cash => (price, Money::ZERO, Money::ZERO, Vec::new()),
            PaidFrom::Balance => {
                let (p, b) = (self.state.principal(), self.state.bonus());
                if price > p.plus(b) {
                    return Err(Rejection::InsufficientBalance(format!(
                        "package price {price} exceeds the balance {} (principal {p}, bonus {b})",
                        p.plus(b)
                    )));
                }
                let bonus = split_bonus(price, p, b, policy);
                let principal = price.minus(bonus);
                let mut draws = draw_fifo(&self.state.principal_lots(), principal);
                draws.extend(draw_fifo(
                    &bonus_spend_order(&self.state.bonus_lots()),
                    bonus,
                ));
                (Money::ZERO, principal, bonus, draws)
            }
        };
        let session_price = Money::from_cents(price.cents() / i64::from(sessions));
        self.record(EventBody::PackagePurchased(PackagePurchased {
            bonus,
            cash,
            draws,
            expires_at,
            package: self.cmd.id,
            price,
            principal,
            service: service.to_owned(),
            session_price,
            sessions,
            staff: staff.cloned(),
        }))?;
        Ok(())
    }

    /// The open package `id`, or why it cannot be used.
    fn package(&self, id: Uuid) -> Result<Package, Rejection> {
        let p = self.state.packages().get(&id).ok_or_else(|| {
            Rejection::UnknownPackage(format!("member {} has no package {id}", self.cmd.member))
        })?;
        match p.status {
            PackageStatus::Open => Ok(p.clone()),
            PackageStatus::Used => Err(Rejection::PackageExhausted(format!(
                "all {} sessions of package {id} are redeemed",
                p.sessions
            ))),
            PackageStatus::Refunded => Err(Rejection::PackageExhausted(format!(
                "package {id} was refunded"
            ))),
            PackageStatus::Expired => Err(Rejection::PackageExpired(format!(
                "package {id} expired at {}",
                p.expires_at.map_or_else(String::new, |t| t.to_string())
            ))),
        }
    }

    /// Redeems one session: revenue of `session_price`, the last session taking what is
    /// left; its bonus-funded share in proportion to how the package was paid.
    fn redeem_session(
        &mut self,
        id: Uuid,
        staff: Option<&StaffId>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let p = self.package(id)?;
        let last = p.sessions_left == 1;
        let amount = if last {
            p.value_left()
        } else {
            p.session_price
        };
        let bonus = if last {
            p.bonus_left
        } else {
            share(amount, p.bonus_paid, p.price, policy)
                .max(amount.minus(p.principal_left).max(Money::ZERO))
                .min(p.bonus_left.min(amount))
        };
        self.record(EventBody::SessionRedeemed(SessionRedeemed {
            amount,
            bonus,
            origin_store: p.origin_store.clone(),
            package: id,
            principal: amount.minus(bonus),
            session: p.sessions - p.sessions_left + 1,
            sessions_left: p.sessions_left - 1,
            staff: staff.cloned(),
        }))?;
        Ok(())
    }

    /// Refunds a package's unredeemed value where the policy says: cash pays out the
    /// cash-or-principal share and forfeits the bonus share; the balance gets both back as
    /// new lots, the bonus with the expiry of the bonus that paid for it (forfeited if past).
    fn refund_package(
        &mut self,
        id: Uuid,
        reason: Option<&str>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let p = self.package(id)?;
        let to = match policy.packages.refund_to {
            PackageRefundTo::Original => p.paid_from,
            PackageRefundTo::Cash => PaidFrom::Cash,
            PackageRefundTo::Balance => PaidFrom::Balance,
        };
        let (principal, bonus) = (p.principal_left, p.bonus_left);
        let (mut lot, mut bonus_lot, mut expires_at) = (None, None, None);
        if to == PaidFrom::Balance {
            let mut next = self.next_lot();
            if principal.is_positive() {
                lot = Some(next);
                next += 1;
            }
            if bonus.is_positive() {
                // Back with the expiry of the bonus that paid for it: a refund never renews
                // bonus, and bonus already past its expiry is forfeited.
                expires_at = p.bonus_expires_at;
                if expires_at.is_none_or(|t| t > self.cmd.at) {
                    bonus_lot = Some(next);
                }
            }
        }
        self.record(EventBody::PackageRefunded(PackageRefunded {
            amount: p.value_left(),
            bonus,
            bonus_lot,
            // What the package's bonus still counts in `bonus_spent`: none of it after a
            // balance refund settled the period it was bought in.
            bonus_unspent: bonus.min(p.bonus_counted).min(self.state.bonus_spent),
            expires_at,
            lot,
            origin_store: p.origin_store.clone(),
            package: id,
            principal,
            reason: reason.map(str::to_owned),
            sessions: p.sessions_left,
            to,
        }))?;
        Ok(())
    }

    fn recharge(
        &mut self,
        amount: Money,
        staff: Option<&StaffId>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let tier_before = self.state.tier.clone();
        self.record(EventBody::Recharged(Recharged {
            amount,
            lot: self.next_lot(),
            staff: staff.cloned(),
        }))?;
        if let Some((i, rule)) = policy.bonus_rule(&tier_before, amount) {
            let bonus = match (rule.bonus, rule.bonus_rate) {
                (Some(b), _) => b,
                (None, Some(rate)) => amount
                    .checked_times(rate, policy.rounding)
                    .ok_or_else(|| beyond("the recharge bonus"))?,
                (None, None) => Money::ZERO,
            };
            if bonus.is_positive() {
                self.record(EventBody::BonusGranted(BonusGranted {
                    amount: bonus,
                    lot: self.next_lot(),
                    expires_at: policy.bonus_expiry_days.map(|d| self.cmd.at.plus_days(d)),
                    reason: "recharge".into(),
                    rule: Some(u32::try_from(i).expect("at most 256 rules")),
                }))?;
            }
        }
        self.upgrade_after_recharge(amount, policy)
    }

    /// The highest tier above the current one whose upgrade condition holds.
    fn upgrade_after_recharge(&mut self, amount: Money, policy: &Policy) -> Result<(), Rejection> {
        // A tier the policy no longer lists counts as the lowest.
        let current = policy.tier_index(&self.state.tier).unwrap_or(0);
        let window = self.state.recharged_within_365d(self.cmd.at);
        let target = policy
            .tiers
            .iter()
            .enumerate()
            .skip(current + 1)
            .rev()
            .find_map(|(_, t)| {
                let u = t.upgrade.as_ref()?;
                if u.single_recharge.is_some_and(|x| amount >= x) {
                    Some((t, "upgrade:single_recharge"))
                } else if u.recharged_within_365d.is_some_and(|x| window >= x) {
                    Some((t, "upgrade:recharged_within_365d"))
                } else {
                    None
                }
            });
        if let Some((t, reason)) = target {
            self.record(EventBody::TierChanged(TierChanged {
                from: self.state.tier.to_string(),
                to: t.name.clone(),
                reason: reason.into(),
            }))?;
        }
        Ok(())
    }

    fn grant_bonus(
        &mut self,
        amount: Money,
        reason: &str,
        expires_at: Option<Timestamp>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if expires_at.is_some_and(|e| e <= self.cmd.at) {
            return Err(Rejection::InvalidCommand(format!(
                "expires_at must be after the command's time {}",
                self.cmd.at
            )));
        }
        let expires_at =
            expires_at.or_else(|| policy.bonus_expiry_days.map(|d| self.cmd.at.plus_days(d)));
        self.record(EventBody::BonusGranted(BonusGranted {
            amount,
            lot: self.next_lot(),
            expires_at,
            reason: reason.to_owned(),
            rule: None,
        }))?;
        Ok(())
    }

    fn consume(
        &mut self,
        price: Money,
        staff: Option<&StaffId>,
        service: Option<&String>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        // A consumption is known by its command id; the facade's idempotency check stops a
        // reused id first, but the core refuses it on its own too rather than fold it twice.
        if self.state.keeps_consumptions && self.state.consumptions().contains_key(&self.cmd.id) {
            return Err(Rejection::IdempotencyConflict(self.cmd.id.to_string()));
        }
        let tier = self.state.tier.to_string();
        let (discount, points_per_yuan) = policy
            .tier(&tier)
            .map_or((Decimal::ONE, Decimal::ZERO), |t| {
                (t.discount, t.points_per_yuan)
            });
        let charged = price
            .checked_times(discount, policy.rounding)
            .ok_or_else(|| beyond("the discounted price"))?;
        if !charged.is_positive() {
            return Err(Rejection::InvalidAmount(format!(
                "price {price} at discount {discount} charges nothing"
            )));
        }
        let (p, b) = (self.state.principal(), self.state.bonus());
        if charged > p.plus(b) {
            return Err(Rejection::InsufficientBalance(format!(
                "charge {charged} exceeds the balance {} (principal {p}, bonus {b})",
                p.plus(b)
            )));
        }
        let bonus = split_bonus(charged, p, b, policy);
        let principal = charged.minus(bonus);
        let mut draws = draw_fifo(&self.state.principal_lots(), principal);
        draws.extend(draw_fifo(
            &bonus_spend_order(&self.state.bonus_lots()),
            bonus,
        ));
        let points_earned = principal
            .as_decimal()
            .checked_mul(points_per_yuan)
            .and_then(|p| p.floor().to_u64())
            .ok_or_else(|| beyond("the points earned"))?;
        let points_lot = (points_earned > 0).then(|| self.next_lot());
        self.record(EventBody::Consumed(Consumed {
            service: service.cloned(),
            staff: staff.cloned(),
            tier,
            price,
            discount,
            charged,
            principal,
            bonus,
            draws,
            points_earned,
            points_lot,
            points_expires_at: points_lot
                .and(policy.points_expiry_days)
                .map(|d| self.cmd.at.plus_days(d)),
        }))?;
        Ok(())
    }

    fn refund_consumption(
        &mut self,
        consumption: uuid::Uuid,
        amount: Option<Money>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if !self.state.keeps_consumptions {
            return Err(Rejection::InvalidCommand(
                "a refund is decided on a member folded with its consumption records".into(),
            ));
        }
        let rec = self.state.consumptions().get(&consumption).cloned().ok_or_else(|| {
            Rejection::UnknownConsumption(format!(
                "member {} has no refundable consumption {consumption} (never made, fully refunded, or closed by a balance refund)",
                self.cmd.member
            ))
        })?;
        let left = rec.charged.minus(rec.refunded);
        let amount = amount.unwrap_or(left);
        if amount > left {
            return Err(Rejection::RefundExceedsOriginal(format!(
                "refund {amount} exceeds the {left} left unrefunded of {} charged",
                rec.charged
            )));
        }
        let principal_left = rec.principal.minus(rec.principal_restored);
        let bonus_left = rec.bonus.minus(rec.bonus_restored);
        let proportional = share(amount, rec.bonus, rec.charged, policy);
        let floor = amount.minus(principal_left).max(Money::ZERO);
        let bonus = proportional.max(floor).min(bonus_left.min(amount));
        let principal = amount.minus(bonus);

        let at = self.cmd.at;
        let mut restored = Vec::new();
        for kind in [LotKind::Principal, LotKind::Bonus] {
            let mut want = if kind == LotKind::Principal {
                principal
            } else {
                bonus
            };
            for d in rec.draws.iter().rev().filter(|d| d.draw.kind == kind) {
                let give = d.draw.amount.minus(d.restored).min(want);
                if give.is_positive() {
                    want = want.minus(give);
                    restored.push(Restore {
                        lot: d.draw.lot,
                        kind,
                        amount: give,
                        origin_store: d.draw.origin_store.clone(),
                        expires_at: d.draw.expires_at,
                        forfeited: d.draw.expires_at.is_some_and(|e| e <= at),
                    });
                }
            }
            assert!(want.is_zero(), "refund split within what was drawn");
        }

        // Points reversed so far = floor(earned × principal restored so far / principal part);
        // a refund that completes the consumption reverses all that was earned.
        let restored_total = rec.principal_restored.plus(principal);
        let target = if rec.refunded.plus(amount) == rec.charged {
            rec.points_earned
        } else if rec.principal.is_positive() {
            u64::try_from(
                i128::from(rec.points_earned) * i128::from(restored_total.cents())
                    / i128::from(rec.principal.cents()),
            )
            .expect("points fit")
        } else {
            0
        };
        let due = target.saturating_sub(rec.points_reversed);
        // Taken back from the oldest point lots; what the member no longer holds is forgiven.
        let (points_reversed, owed) = draw_points(&self.state.point_lots(), due);
        self.record(EventBody::ConsumptionRefunded(ConsumptionRefunded {
            consumption,
            amount,
            principal,
            bonus,
            restored,
            points_reversed,
            points_forgiven: owed,
            service_store: rec.store.clone(),
        }))?;
        Ok(())
    }

    fn refund_balance(&mut self, policy: &Policy) -> Result<(), Rejection> {
        let (p, b) = (self.state.principal(), self.state.bonus());
        if p.is_zero() && b.is_zero() {
            return Err(Rejection::InsufficientBalance(format!(
                "member {} holds no balance to refund",
                self.cmd.member
            )));
        }
        let spent = self.state.bonus_spent;
        let clawback = if policy.refund.claw_back_used_bonus {
            spent.min(p)
        } else {
            Money::ZERO
        };
        let draws = self
            .state
            .principal_lots()
            .iter()
            .chain(&self.state.bonus_lots())
            .map(|l| Draw {
                lot: l.lot,
                kind: l.kind,
                amount: l.remaining,
                origin_store: l.origin_store.clone(),
                expires_at: l.expires_at,
            })
            .collect();
        self.record(EventBody::BalanceRefunded(BalanceRefunded {
            principal: p,
            bonus_forfeited: b,
            bonus_spent: spent,
            clawback,
            payout: p.minus(clawback),
            draws,
        }))?;
        Ok(())
    }

    /// What a frozen card may not do: spend, always; recharge and be refunded, when the
    /// policy says so.
    fn frozen_gate(&self, action: &Action, policy: &Policy) -> Result<(), Rejection> {
        if !self.state.frozen {
            return Ok(());
        }
        let refused = match action {
            Action::Consume { .. }
            | Action::RedeemPoints { .. }
            | Action::RedeemSession { .. }
            | Action::PurchasePackage {
                paid_from: PaidFrom::Balance,
                ..
            } => true,
            Action::Recharge { .. }
            | Action::PurchasePackage {
                paid_from: PaidFrom::Cash,
                ..
            } => !policy.freeze.allow_recharge,
            Action::RefundConsumption { .. }
            | Action::RefundBalance
            | Action::RefundPackage { .. } => !policy.freeze.allow_refunds,
            _ => false,
        };
        if refused {
            return Err(Rejection::MemberFrozen(self.cmd.member.to_string()));
        }
        Ok(())
    }

    fn freeze(&mut self, reason: Option<&str>) -> Result<(), Rejection> {
        if self.state.frozen {
            return Err(Rejection::MemberFrozen(self.cmd.member.to_string()));
        }
        self.record(EventBody::MemberFrozen(MemberFrozen {
            reason: reason.unwrap_or("lost card").to_owned(),
        }))?;
        Ok(())
    }

    fn unfreeze(&mut self, reason: Option<&str>) -> Result<(), Rejection> {
        if !self.state.frozen {
            return Err(Rejection::InvalidCommand(format!(
                "member {} is not frozen",
                self.cmd.member
            )));
        }
        self.record(EventBody::MemberUnfrozen(MemberUnfrozen {
            reason: reason.unwrap_or("card found").to_owned(),
        }))?;
        Ok(())
    }

    /// Draws points to spend, earliest expiry first, then first-in first-out; refused when
    /// the member holds fewer.
    fn spend_points(&self, want: u64) -> Result<Vec<PointsDraw>, Rejection> {
        let held = self.state.points();
        if want > held {
            return Err(Rejection::InsufficientPoints(format!(
                "member {} holds {held} points, not {want}",
                self.cmd.member
            )));
        }
        let mut lots = self.state.point_lots();
        lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.lot));
        Ok(draw_points(&lots, want).0)
    }

    /// Spends points from point lots, earliest expiry first, then first-in first-out.
    fn redeem_points(&mut self, points: u64, reason: Option<&str>) -> Result<(), Rejection> {
        let draws = self.spend_points(points)?;
        self.record(EventBody::PointsRedeemed(PointsRedeemed {
            draws,
            points,
            reason: reason.map(str::to_owned),
        }))?;
        Ok(())
    }

    /// A correction by hand: a credit opens a lot (bonus and points with the policy's expiry),
    /// a debit draws lots in the order a consumption would.
    fn adjust(
        &mut self,
        balance: Balance,
        direction: Direction,
        (amount, points): (Option<Money>, Option<u64>),
        reason: &str,
        operator: &StaffId,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        let at = self.cmd.at;
        let mut body = EventBody::Adjusted(Adjusted {
            amount,
            balance,
            direction,
            draws: Vec::new(),
            expires_at: None,
            lot: None,
            operator: operator.clone(),
            points,
            points_draws: Vec::new(),
            reason: reason.to_owned(),
        });
        let EventBody::Adjusted(Adjusted {
            draws,
            expires_at,
            lot,
            points_draws,
            ..
        }) = &mut body
        else {
            unreachable!("built above")
        };
        match (direction, balance) {
            (Direction::Credit, b) => {
                *lot = Some(self.next_lot());
                *expires_at = match b {
                    Balance::Principal => None,
                    Balance::Bonus => policy.bonus_expiry_days.map(|d| at.plus_days(d)),
                    Balance::Points => policy.points_expiry_days.map(|d| at.plus_days(d)),
                };
            }
            (Direction::Debit, Balance::Points) => {
                *points_draws = self.spend_points(points.unwrap_or(0))?;
            }
            (Direction::Debit, b) => {
                let want = amount.unwrap_or(Money::ZERO);
                let (held, lots) = if b == Balance::Principal {
                    (self.state.principal(), self.state.principal_lots())
                } else {
                    (
                        self.state.bonus(),
                        bonus_spend_order(&self.state.bonus_lots()),
                    )
                };
                if want > held {
                    return Err(Rejection::InsufficientBalance(format!(
                        "member {} holds {held} of that balance, not {want}",
                        self.cmd.member
                    )));
                }
                *draws = draw_fifo(&lots, want);
            }
        }
        self.record(body)?;
        Ok(())
    }

    /// The sweep: the expiries recorded before every command are the whole command.
    fn expire_only(&mut self) -> Result<(), Rejection> {
        if self.events.is_empty() {
            return Err(Rejection::InvalidCommand(format!(
                "member {} has nothing due to expire at {}",
                self.cmd.member, self.cmd.at
            )));
        }
        Ok(())
    }

    fn change_tier(
        &mut self,
        tier: &str,
        reason: Option<&str>,
        policy: &Policy,
    ) -> Result<(), Rejection> {
        if policy.tier(tier).is_none() {
            return Err(Rejection::UnknownTier(tier.to_owned()));
        }
        if self.state.tier == tier {
            return Err(Rejection::InvalidCommand(format!(
                "member {} already holds tier {tier}: there is nothing to change",
                self.cmd.member
            )));
        }
        self.record(EventBody::TierChanged(TierChanged {
            from: self.state.tier.to_string(),
            to: tier.to_owned(),
            reason: reason.unwrap_or("manual").to_owned(),
        }))?;
        Ok(())
    }
}

/// The refusal of a figure a policy multiplies beyond any number of cents (only a policy built
/// by hand, never a validated one, gets there).
fn beyond(figure: &str) -> Rejection {
    Rejection::LimitExceeded(format!(
        "{figure} is beyond any figure an event may record ({})",
        crate::bounds::RECORDED_MAX
    ))
}

/// The bonus part of a charge under the policy's spend order. The principal part is the rest.
pub fn split_bonus(charged: Money, principal: Money, bonus: Money, policy: &Policy) -> Money {
    let low = charged.minus(principal).max(Money::ZERO);
    let high = bonus.min(charged);
    let want = match policy.spend_order {
        SpendOrder::PrincipalFirst => low,
        SpendOrder::BonusFirst => high,
        SpendOrder::Proportional => {
            let total = principal.plus(bonus);
            if total.is_zero() {
                Money::ZERO
            } else {
                share(charged, bonus, total, policy)
            }
        }
    };
    want.max(low).min(high)
}

/// `round(amount × part / whole)` under the policy's rounding: the part's share of an amount.
fn share(amount: Money, part: Money, whole: Money, policy: &Policy) -> Money {
    Money::from_cents(
        i64::try_from(div_round(
            i128::from(amount.cents()) * i128::from(part.cents()),
            i128::from(whole.cents()),
            policy.rounding,
        ))
        .expect("a share of an amount fits"),
    )
}

/// Bonus lots in spend order: earliest expiry first, then first-in first-out, lots without
/// expiry last.
fn bonus_spend_order(lots: &[Lot]) -> Vec<Lot> {
    let mut v = lots.to_vec();
    v.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.lot));
    v
}

/// Draws `want` points from point lots in the order given; returns the draws and what the
/// lots could not cover.
fn draw_points(lots: &[PointLot], want: u64) -> (Vec<PointsDraw>, u64) {
    let mut owed = want;
    let mut draws = Vec::new();
    for l in lots {
        if owed == 0 {
            break;
        }
        let take = l.remaining.min(owed);
        owed -= take;
        draws.push(PointsDraw {
            lot: l.lot,
            points: take,
        });
    }
    (draws, owed)
}

/// Draws `amount` from lots in the order given.
fn draw_fifo(lots: &[Lot], amount: Money) -> Vec<Draw> {
    let mut want = amount;
    let mut draws = Vec::new();
    for l in lots {
        if want.is_zero() {
            break;
        }
        let take = l.remaining.min(want);
        if take.is_positive() {
            want = want.minus(take);
            draws.push(Draw {
                lot: l.lot,
                kind: l.kind,
                amount: take,
                origin_store: l.origin_store.clone(),
                expires_at: l.expires_at,
            });
        }
    }
    assert!(
        want.is_zero(),
        "lots cover the amount checked against the balance"
    );
    draws
}
