//! Folding the package events: purchased, session redeemed, refunded, expired.

use uuid::Uuid;

use crate::command::PaidFrom;
use crate::event::{Event, External, LotKind};
use crate::events::*;
use crate::money::Money;

use super::holdings::check_draws_sum;
use super::{MemberState, Package, PackageStatus};

impl MemberState {
    /// The open package `id`, for folding onto.
    fn open_package(&mut self, id: Uuid) -> Result<&mut Package, String> {
        self.rare
            .as_mut()
            .and_then(|r| r.packages.get_mut(&id))
            .map(|p| &mut **p)
            .filter(|p| p.status == PackageStatus::Open)
            .ok_or_else(|| format!("no open package {id}"))
    }

    pub(super) fn fold_package_purchased(
        &mut self,
        event: &Event,
        b: &PackagePurchased,
    ) -> Result<(), String> {
        let PackagePurchased {
            bonus,
            cash,
            draws,
            expires_at,
            external,
            package,
            price,
            principal,
            service,
            session_price,
            sessions,
            ..
        } = b;
        if *package != event.command || self.packages().contains_key(package) {
            return Err(format!(
                "package {package} is not its purchase command's id, or is bought twice"
            ));
        }
        let paid_out = external.as_ref().map_or(Money::ZERO, |x| x.amount);
        if cash.plus(*principal).plus(*bonus).plus(paid_out) != *price || !price.is_positive() {
            return Err("cash + principal + bonus + external != price".into());
        }
        if external.as_ref().is_some_and(|x| !x.amount.is_positive()) {
            return Err("an external part of nothing".into());
        }
        let paid_from = if cash.is_positive() {
            if !(principal.is_zero() && bonus.is_zero() && draws.is_empty() && external.is_none()) {
                return Err("a package is paid in cash or from the balance, not both".into());
            }
            PaidFrom::Cash
        } else {
            PaidFrom::Balance
        };
        if *sessions == 0
            || *sessions > crate::command::SESSIONS_MAX
            || session_price.cents() != price.cents() / i64::from(*sessions)
            || !session_price.is_positive()
        {
            return Err("session_price is not floor(price / sessions) of a valid count".into());
        }
        if expires_at.is_some_and(|t| t <= event.at) {
            return Err("the package expires before it is bought".into());
        }
        check_draws_sum(draws, LotKind::Principal, *principal)?;
        check_draws_sum(draws, LotKind::Bonus, *bonus)?;
        for d in draws {
            self.take_from_lot(d.kind, d.lot, d.amount)?;
        }
        self.add_bonus_spent(*bonus)?;
        self.packages_mut().insert(
            *package,
            Box::new(Package {
                package: *package,
                service: service.clone(),
                origin_store: event.store.clone(),
                paid_from,
                sessions: *sessions,
                sessions_left: *sessions,
                session_price: *session_price,
                price: *price,
                bonus_paid: *bonus,
                principal_left: price.minus(*bonus),
                bonus_left: *bonus,
                expires_at: *expires_at,
                bonus_expires_at: draws
                    .iter()
                    .filter(|d| d.kind == LotKind::Bonus)
                    .filter_map(|d| d.expires_at)
                    .min(),
                status: PackageStatus::Open,
                bonus_counted: *bonus,
                external: external.clone(),
            }),
        );
        Ok(())
    }

    pub(super) fn fold_session_redeemed(
        &mut self,
        event: &Event,
        b: &SessionRedeemed,
    ) -> Result<(), String> {
        let SessionRedeemed {
            amount,
            bonus,
            origin_store,
            package,
            principal,
            session,
            sessions_left,
            ..
        } = b;
        let p = self.open_package(*package)?;
        if p.expires_at.is_some_and(|t| t <= event.at) {
            return Err(format!("package {package} has expired"));
        }
        if *origin_store != p.origin_store
            || *session != p.sessions - p.sessions_left + 1
            || *sessions_left + 1 != p.sessions_left
        {
            return Err(format!(
                "session {session} does not follow package {package}"
            ));
        }
        let due = if *sessions_left == 0 {
            p.value_left()
        } else {
            p.session_price
        };
        if principal.plus(*bonus) != *amount || *amount != due {
            return Err(format!(
                "session {session} of package {package} is worth {due}"
            ));
        }
        if *principal > p.principal_left || *bonus > p.bonus_left {
            return Err(format!(
                "session {session} takes more than package {package} holds"
            ));
        }
        p.principal_left = p.principal_left.minus(*principal);
        p.bonus_left = p.bonus_left.minus(*bonus);
        p.sessions_left = *sessions_left;
        if p.sessions_left == 0 {
            p.close(PackageStatus::Used);
        }
        Ok(())
    }

    pub(super) fn fold_package_refunded(
        &mut self,
        event: &Event,
        b: &PackageRefunded,
    ) -> Result<(), String> {
        let PackageRefunded {
            amount,
            bonus,
            bonus_lot,
            bonus_unspent,
            expires_at,
            external,
            lot,
            origin_store,
            package,
            principal,
            sessions,
            to,
            ..
        } = b;
        let p = self.open_package(*package)?;
        if p.expires_at.is_some_and(|t| t <= event.at) {
            return Err(format!("package {package} has expired"));
        }
        let back = external.as_ref().map_or(Money::ZERO, |x| x.amount);
        if (*sessions, principal.plus(back), *bonus)
            != (p.sessions_left, p.principal_left, p.bonus_left)
            || principal.plus(*bonus).plus(back) != *amount
            || *origin_store != p.origin_store
            || !external_back_fits(external.as_ref(), p.external.as_ref())
        {
            return Err(format!("package {package} holds other figures"));
        }
        let bonus_expires_at = p.bonus_expires_at;
        p.close(PackageStatus::Refunded);
        if *bonus_unspent > *bonus || *bonus_unspent > self.bonus_spent {
            return Err("bonus_unspent exceeds the bonus share or the bonus spent".into());
        }
        self.bonus_spent = self.bonus_spent.minus(*bonus_unspent);
        match to {
            PaidFrom::Cash => {
                if lot.is_some() || bonus_lot.is_some() || expires_at.is_some() {
                    return Err("a refund to cash opens no lot".into());
                }
            }
            PaidFrom::Balance => {
                // The bonus share keeps the expiry of the bonus that paid for it; past it, the
                // share is forfeited and opens no lot.
                let bonus_expiry = bonus.is_positive().then_some(bonus_expires_at).flatten();
                let forfeited = bonus_expiry.is_some_and(|t| t <= event.at);
                if *expires_at != bonus_expiry {
                    return Err("the bonus share's expiry is not its bonus's".into());
                }
                for (kind, share, lot, expires_at) in [
                    (LotKind::Principal, *principal, *lot, None),
                    (LotKind::Bonus, *bonus, *bonus_lot, *expires_at),
                ] {
                    match lot {
                        None if kind == LotKind::Bonus && forfeited => {}
                        Some(n)
                            if share.is_positive() && !(kind == LotKind::Bonus && forfeited) =>
                        {
                            self.new_lot(n)?;
                            self.push_lot(kind, n, origin_store, share, expires_at)?;
                        }
                        None if share.is_zero() => {}
                        _ => return Err(format!("the {kind:?} share and its lot disagree")),
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn fold_package_expired(
        &mut self,
        event: &Event,
        b: &PackageExpired,
    ) -> Result<(), String> {
        let p = self.open_package(b.package)?;
        if p.expires_at != Some(b.expires_at)
            || b.expires_at > event.at
            || b.origin_store != p.origin_store
        {
            return Err(format!("package {} does not expire as recorded", b.package));
        }
        if (b.sessions, b.principal, b.bonus) != (p.sessions_left, p.principal_left, p.bonus_left)
            || b.principal.plus(b.bonus) != b.amount
        {
            return Err(format!("package {} holds other figures", b.package));
        }
        p.close(PackageStatus::Expired);
        Ok(())
    }
}

/// A refund's external part goes back by the purchase's own method, above zero and within
/// what it paid.
fn external_back_fits(back: Option<&External>, paid: Option<&External>) -> bool {
    match (back, paid) {
        (None, _) => true,
        (Some(b), Some(p)) => {
            b.method == p.method && b.amount.is_positive() && b.amount <= p.amount
        }
        (Some(_), None) => false,
    }
}
