//! Consumption and the spend order: what the card pays at the tier's discount, split between
//! principal and bonus by the policy's spend order, drawn from lots.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::draft::Draft;
use crate::command::{ExternalAmount, ExternalPay};
use crate::error::Rejection;
use crate::event::{Draw, EventBody, External};
use crate::events::*;
use crate::id::StaffId;
use crate::member::Lot;
use crate::money::{div_round, Money};
use crate::policy::{Policy, SpendOrder};

impl Draft<'_> {
    pub(super) fn consume(
        &mut self,
        price: Money,
        (staff, service): (Option<&StaffId>, Option<&String>),
        (external, coupon): (Option<&ExternalPay>, Option<uuid::Uuid>),
        policy: &Policy,
    ) -> Result<(), Rejection> {
        // A consumption is known by its command id; the facade's idempotency check stops a
        // reused id first, but the core refuses it on its own too rather than fold it twice.
        if self.state.keeps_consumptions && self.state.consumptions().contains_key(&self.cmd.id) {
            return Err(Rejection::IdempotencyConflict(self.cmd.id.to_string()));
        }
        let tier = self.state.tier.to_string();
        let (discount, points_per_yuan) = self.tier_rates(policy);
        let charge = self.charge_of(price, policy)?;
        // A coupon takes money off the charge at the tier's discount; the member pays the rest.
        let coupon = coupon
            .map(|id| self.coupon_discount(id, charge, policy))
            .transpose()?;
        let charged = charge.minus(coupon.as_ref().map_or(Money::ZERO, |c| c.discount));
        let (p, b) = (self.state.principal(), self.state.bonus());
        // What the card can pay: its balance less what holds keep for other visits.
        let available = self.state.available();
        let external = external_part(charged, available, external)?;
        let paid_out = external.as_ref().map_or(Money::ZERO, |x| x.amount);
        let card = charged.minus(paid_out);
        if card > available {
            return Err(Rejection::InsufficientBalance(format!(
                "the card's part {card} exceeds the available balance {available} (principal {p}, bonus {b}, held {}); pay the rest outside the card (`method`)",
                self.state.held()
            )));
        }
        let bonus = split_bonus(card, p, b, policy);
        let principal = card.minus(bonus);
        let mut draws = draw_fifo(&self.state.principal_lots(), principal);
        draws.extend(draw_fifo(
            &bonus_spend_order(&self.state.bonus_lots()),
            bonus,
        ));
        let earned_on = policy.points_earned_on.unwrap_or_default();
        let base = earned_on.base(principal, bonus, paid_out);
        let points_earned = base
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
            coupon,
            principal,
            bonus,
            draws,
            external,
            points_earned,
            points_lot,
            points_expires_at: points_lot
                .and(policy.points_expiry_days)
                .map(|d| self.cmd.at.plus_days(d)),
            // Only when it earned on more than principal: a refund reverses points in
            // proportion to the base restored, so the base is part of the record.
            points_on: (base != principal).then_some(earned_on),
        }))?;
        // A visit may earn a tier on spending or visits (nothing under a policy without
        // such rules, so a visit records what it always did).
        self.upgrade(None, policy)
    }
}

impl Draft<'_> {
    /// The tier's discount and points rate (no discount, no points for a tier the policy no
    /// longer defines).
    fn tier_rates(&self, policy: &Policy) -> (Decimal, Decimal) {
        policy
            .tier(self.state.tier.as_str())
            .map_or((Decimal::ONE, Decimal::ZERO), |t| {
                (t.discount, t.points_per_yuan)
            })
    }

    /// What the card pays for list price `price`: `round(price × discount)`, above zero.
    pub(super) fn charge_of(&self, price: Money, policy: &Policy) -> Result<Money, Rejection> {
        let (discount, _) = self.tier_rates(policy);
        let charged = price
            .checked_times(discount, policy.rounding)
            .ok_or_else(|| beyond("the discounted price"))?;
        if !charged.is_positive() {
            return Err(Rejection::InvalidAmount(format!(
                "price {price} at discount {discount} charges nothing"
            )));
        }
        Ok(charged)
    }
}

/// The part of a charge of `charged` paid outside the card, when the card holds `balance`:
/// `None` when the card pays it all.
pub(super) fn external_part(
    charged: Money,
    balance: Money,
    pay: Option<&ExternalPay>,
) -> Result<Option<External>, Rejection> {
    let Some(pay) = pay else {
        return Ok(None);
    };
    let amount = match pay.amount {
        ExternalAmount::Rest => charged.minus(balance).max(Money::ZERO),
        ExternalAmount::All => charged,
        ExternalAmount::Fixed(m) if m > charged => {
            return Err(Rejection::InvalidAmount(format!(
                "the external part {m} exceeds the charge {charged}"
            )))
        }
        ExternalAmount::Fixed(m) => m,
    };
    Ok(amount.is_positive().then(|| External {
        amount,
        method: pay.method.clone(),
    }))
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
pub(super) fn share(amount: Money, part: Money, whole: Money, policy: &Policy) -> Money {
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
pub(super) fn bonus_spend_order(lots: &[Lot]) -> Vec<Lot> {
    let mut v = lots.to_vec();
    v.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.lot));
    v
}

/// Draws `amount` from lots in the order given.
pub(super) fn draw_fifo(lots: &[Lot], amount: Money) -> Vec<Draw> {
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

/// The refusal of a figure a policy multiplies beyond any number of cents (only a policy built
/// by hand, never a validated one, gets there).
pub(super) fn beyond(figure: &str) -> Rejection {
    Rejection::LimitExceeded(format!(
        "{figure} is beyond any figure an event may record ({})",
        crate::bounds::RECORDED_MAX
    ))
}
