//! Folding one event onto a member: `apply` holds no rule, every figure comes from the event.

use crate::event::{Event, EventBody, LotKind};
use crate::events::*;
use crate::money::Money;

use super::holdings::check_draws_sum;
use super::holdings::HoldingKind;
use super::{ConsumptionRecord, DrawnLot, MemberState, TierName};

/// Why a stored event cannot be folded onto the state: the log is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event_type} v{version} of member {member} does not fold: {why}")]
pub struct FoldError {
    /// The member.
    pub member: String,
    /// The event's member version.
    pub version: u64,
    /// The event's type.
    pub event_type: &'static str,
    /// What is wrong.
    pub why: String,
}

impl MemberState {
    /// Folds one event onto the state. Holds no business rule: every figure comes from the
    /// event. Checks that the event fits (versions, lots, amounts) and refuses it otherwise.
    ///
    /// A refused event means the log is inconsistent; the state is then left part-way and must
    /// be discarded. (Folding in place, without a defensive copy, is what makes replay fast;
    /// `decide` works on its own copy, so a live state never sees a refused event.)
    pub fn apply(&mut self, event: &Event) -> Result<(), FoldError> {
        if event.member != self.member {
            return Err(fold_error(
                event,
                format!("belongs to member {}", event.member),
            ));
        }
        if event.version != self.version + 1 {
            return Err(fold_error(
                event,
                format!("expected version {}", self.version + 1),
            ));
        }
        if event.at < self.last_at {
            return Err(fold_error(
                event,
                format!("time goes back from {}", self.last_at),
            ));
        }
        self.fold(event).map_err(|why| fold_error(event, why))?;
        self.version = event.version;
        self.last_at = event.at;
        Ok(())
    }

    /// One event onto the state, by type; each family's fold takes the event's struct whole.
    fn fold(&mut self, event: &Event) -> Result<(), String> {
        match &event.body {
            EventBody::MemberEnrolled(_) => Err("member is already enrolled".into()),
            EventBody::Settled(_) => Err("a settlement is not a member's event".into()),
            EventBody::PolicyPublished(_) | EventBody::PeriodClosed(_) => {
                Err("a policy-stream event is not a member's event".into())
            }
            EventBody::PackagePurchased(b) => self.fold_package_purchased(event, b),
            EventBody::SessionRedeemed(b) => self.fold_session_redeemed(event, b),
            EventBody::PackageRefunded(b) => self.fold_package_refunded(event, b),
            EventBody::PackageExpired(b) => self.fold_package_expired(event, b),
            EventBody::MemberFrozen(_) => self.fold_frozen(true),
            EventBody::MemberUnfrozen(_) => self.fold_frozen(false),
            EventBody::Adjusted(b) => self.fold_adjusted(event, b),
            EventBody::PointsRedeemed(b) => self.fold_points_redeemed(b),
            EventBody::Recharged(b) => self.fold_recharged(event, b),
            EventBody::BonusGranted(b) => {
                self.new_lot(b.lot)?;
                self.push_lot(LotKind::Bonus, b.lot, &event.store, b.amount, b.expires_at)
            }
            EventBody::Consumed(b) => self.fold_consumed(event, b),
            EventBody::ConsumptionRefunded(b) => {
                self.push_spend(event.at, -b.amount.cents(), 0);
                self.fold_refund(b)
            }
            EventBody::BalanceRefunded(b) => self.fold_balance_refunded(event, b),
            EventBody::TierChanged(b) => self.fold_tier_changed(event, b),
            EventBody::BonusExpired(b) => self.fold_bonus_expired(event, b),
            EventBody::PointsExpired(b) => self.fold_points_expired(event, b),
            EventBody::BalanceOpened(b) => self.fold_balance_opened(event, b),
            EventBody::CardLinked(b) => self.fold_card_linked(b),
            EventBody::CardReportedLost(b) => self.fold_card_lost(b),
            EventBody::CardReplaced(b) => self.fold_card_replaced(b),
            EventBody::CardUnlinked(b) => self.fold_card_unlinked(b),
            EventBody::CardUsed(b) => self.fold_card_used(b),
            EventBody::HoldAuthorized(b) => self.fold_hold_authorized(event, b),
            EventBody::HoldCaptured(b) => self.fold_hold_captured(b),
            EventBody::HoldVoided(b) => self.fold_hold_voided(b),
            EventBody::HoldExpired(b) => self.fold_hold_expired(event, b),
            EventBody::CouponIssued(b) => self.fold_coupon_issued(event, b),
            EventBody::PackageGranted(b) => self.fold_package_granted(event, b),
        }
    }

    fn fold_frozen(&mut self, frozen: bool) -> Result<(), String> {
        if self.frozen == frozen {
            return Err(if frozen {
                "the member is already frozen".into()
            } else {
                "the member is not frozen".into()
            });
        }
        self.frozen = frozen;
        Ok(())
    }

    fn fold_recharged(&mut self, event: &Event, b: &Recharged) -> Result<(), String> {
        self.new_lot(b.lot)?;
        self.push_lot(LotKind::Principal, b.lot, &event.store, b.amount, None)?;
        self.push_window(event.at, b.amount.cents());
        Ok(())
    }

    fn fold_consumed(&mut self, event: &Event, b: &Consumed) -> Result<(), String> {
        let external = b.external.as_ref().map_or(Money::ZERO, |x| x.amount);
        if b.principal.plus(b.bonus).plus(external) != b.charged {
            return Err("principal + bonus + external != charged".into());
        }
        match &b.coupon {
            Some(u) => self.use_coupon(event, u)?,
            None if !b.charged.is_positive() => return Err("a visit that charges nothing".into()),
            None => {}
        }
        if b.external.as_ref().is_some_and(|x| !x.amount.is_positive()) {
            return Err("an external part of nothing".into());
        }
        check_draws_sum(&b.draws, LotKind::Principal, b.principal)?;
        check_draws_sum(&b.draws, LotKind::Bonus, b.bonus)?;
        for d in &b.draws {
            self.take_from_lot(d.kind, d.lot, d.amount)?;
        }
        match (b.points_lot, b.points_earned) {
            (Some(lot), n) if n > 0 => {
                self.new_lot(lot)?;
                self.push_point_lot(lot, n, b.points_expires_at);
            }
            (None, 0) => {}
            _ => return Err("points_earned and points_lot disagree".into()),
        }
        self.add_bonus_spent(b.bonus)?;
        self.push_spend(event.at, b.charged.cents(), 1);
        if !self.keeps_consumptions {
            return Ok(());
        }
        let record = ConsumptionRecord {
            store: event.store.clone(),
            charged: b.charged,
            principal: b.principal,
            bonus: b.bonus,
            refunded: Money::ZERO,
            principal_restored: Money::ZERO,
            bonus_restored: Money::ZERO,
            draws: b
                .draws
                .iter()
                .map(|d| DrawnLot {
                    draw: d.clone(),
                    restored: Money::ZERO,
                })
                .collect(),
            points_earned: b.points_earned,
            points_reversed: 0,
            external: b.external.clone(),
            external_refunded: Money::ZERO,
            points_on: b.points_on.unwrap_or_default(),
            coupon: b.coupon.clone(),
        };
        if self
            .rare_mut()
            .consumptions
            .insert(event.command, Box::new(record))
            .is_some()
        {
            return Err("the consumption is recorded twice".into());
        }
        Ok(())
    }

    fn fold_balance_refunded(&mut self, event: &Event, b: &BalanceRefunded) -> Result<(), String> {
        if b.principal != self.principal() || b.bonus_forfeited != self.bonus() {
            return Err("balances differ from the state".into());
        }
        if b.bonus_spent != self.bonus_spent || b.payout.plus(b.clawback) != b.principal {
            return Err("payout + clawback != principal, or bonus_spent differs".into());
        }
        check_draws_sum(&b.draws, LotKind::Principal, b.principal)?;
        check_draws_sum(&b.draws, LotKind::Bonus, b.bonus_forfeited)?;
        for d in &b.draws {
            self.take_from_lot(d.kind, d.lot, d.amount)?;
        }
        if let Some(r) = &mut self.rare {
            r.consumptions.clear();
            // Open packages stay open, their bonus settled by this claw-back.
            for p in r.packages.values_mut() {
                p.bonus_counted = Money::ZERO;
            }
        }
        self.tidy_rare();
        if let Some(f) = &b.formula {
            check_formula(f, b, self.credited_principal, self.credited_bonus)?;
        }
        self.bonus_spent = Money::ZERO;
        self.credited_principal = Money::ZERO;
        self.credited_bonus = Money::ZERO;
        self.push_window(event.at, -b.principal.cents());
        Ok(())
    }

    fn fold_tier_changed(&mut self, event: &Event, b: &TierChanged) -> Result<(), String> {
        if b.from != self.tier {
            return Err(format!("tier is {}, not {}", self.tier, b.from));
        }
        self.tier = TierName::from(b.to.as_str());
        self.tier_since = event.at.day();
        Ok(())
    }

    fn fold_bonus_expired(&mut self, event: &Event, b: &BonusExpired) -> Result<(), String> {
        let l = self.find_lot(LotKind::Bonus, b.lot)?;
        if l.cents() != b.amount
            || l.time != Some(b.expires_at)
            || *self.store(l.origin) != b.origin_store
            || b.expires_at > event.at
        {
            return Err(format!("bonus lot {} does not expire as recorded", b.lot));
        }
        self.take_from_lot(LotKind::Bonus, b.lot, b.amount)
    }

    fn fold_points_expired(&mut self, event: &Event, b: &PointsExpired) -> Result<(), String> {
        let i = self
            .holdings
            .iter()
            .position(|l| l.is_lot(HoldingKind::Points, b.lot))
            .ok_or_else(|| format!("no point lot {}", b.lot))?;
        let l = &self.holdings[i];
        if l.points() != b.points || l.time != Some(b.expires_at) || b.expires_at > event.at {
            return Err(format!("point lot {} does not expire as recorded", b.lot));
        }
        self.holdings.remove(i);
        Ok(())
    }
}

pub(super) fn fold_error(event: &Event, why: String) -> FoldError {
    FoldError {
        member: event.member.to_string(),
        version: event.version,
        event_type: event.body.type_name(),
        why,
    }
}

/// A recorded refund formula agrees with the state and the event: its inputs are the
/// member's credits and balances, and the payout is the formula's figure within the
/// principal (pro rata recomputed to the cent; the rounding is re-derived from the figure).
fn check_formula(
    f: &crate::events::RefundComputation,
    b: &BalanceRefunded,
    paid: Money,
    granted: Money,
) -> Result<(), String> {
    use crate::policy::RefundFormula;
    let remaining = b.principal.plus(b.bonus_forfeited);
    if f.paid != paid || f.bonus_granted != granted || f.remaining != remaining {
        return Err("the refund formula's inputs differ from the state".into());
    }
    if b.payout != f.result.min(b.principal) {
        return Err("the payout is not the formula's figure within the principal".into());
    }
    let ok = match f.name {
        RefundFormula::None => f.result == b.principal,
        RefundFormula::ClawBackUsedBonus => false,
        RefundFormula::ProRata => {
            crate::policy::pro_rata_within_a_cent(paid, granted, remaining, f.result)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the refund formula {} does not give {}",
            f.name.as_str(),
            f.result
        ))
    }
}
