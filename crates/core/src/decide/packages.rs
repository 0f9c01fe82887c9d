//! Packages: bought in cash or from the balance, redeemed session by session, refunded.

use uuid::Uuid;

use super::consume::{bonus_spend_order, draw_fifo, external_part, share, split_bonus};
use super::draft::Draft;
use crate::command::{ExternalPay, PaidFrom};
use crate::error::Rejection;
use crate::event::{EventBody, External};
use crate::events::*;
use crate::id::StaffId;
use crate::member::{Package, PackageStatus};
use crate::money::Money;
use crate::policy::{PackageRefundTo, Policy};
use crate::time::Timestamp;

impl Draft<'_> {
    /// Buys a package: in cash at the command's store, or from the balance split by the spend
    /// order and drawn from lots like a consumption (without a tier discount or points), any
    /// part paid outside the card by its method.
    pub(super) fn purchase_package(
        &mut self,
        (price, paid_from, pay): (Money, PaidFrom, Option<&ExternalPay>),
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
        let external = external_part(price, self.state.available(), pay)?;
        let card = price.minus(external.as_ref().map_or(Money::ZERO, |x| x.amount));
        let (cash, principal, bonus, draws) = match paid_from {
            PaidFrom::Cash => (price, Money::ZERO, Money::ZERO, Vec::new()),
            PaidFrom::Balance => {
                self.check_available(card, "package price")?;
                let (p, b) = (self.state.principal(), self.state.bonus());
                if card > p.plus(b) {
                    return Err(Rejection::InsufficientBalance(format!(
                        "the card's part {card} of package price {price} exceeds the balance {} (principal {p}, bonus {b}); pay the rest outside the card (`method`)",
                        p.plus(b)
                    )));
                }
                let bonus = split_bonus(card, p, b, policy);
                let principal = card.minus(bonus);
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
            external,
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
    pub(super) fn package(&self, id: Uuid) -> Result<Package, Rejection> {
        let p = self.state.packages().get(&id).ok_or_else(|| {
            Rejection::UnknownPackage(format!("member {} has no package {id}", self.cmd.member))
        })?;
        match p.status {
            PackageStatus::Open => Ok((**p).clone()),
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
    pub(super) fn redeem_session(
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
        // A granted package (price zero) has no value to split.
        let bonus = if last || p.price.is_zero() {
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
    pub(super) fn refund_package(
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
        // The part paid outside the card goes back by its own method, in proportion to what of
        // the cash-or-principal share is left (all of it when no session was redeemed).
        let external = p.external.as_ref().and_then(|paid| {
            let back = share(
                p.principal_left,
                paid.amount,
                p.price.minus(p.bonus_paid),
                policy,
            )
            .min(paid.amount)
            .min(p.principal_left);
            back.is_positive().then(|| External {
                amount: back,
                method: paid.method.clone(),
            })
        });
        let bonus = p.bonus_left;
        let principal = p
            .principal_left
            .minus(external.as_ref().map_or(Money::ZERO, |x| x.amount));
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
            external,
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
}
