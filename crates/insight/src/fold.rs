//! How each event moves the projections. Every figure comes from the event itself (events
//! carry their derived figures); nothing is re-decided here.

use memberledger::domain::events::{
    Adjusted, BalanceRefunded, BonusExpired, BonusGranted, Consumed, ConsumptionRefunded,
    MemberEnrolled, PackagePurchased, PackageRefunded, Recharged, SessionRedeemed, TierChanged,
};
use memberledger::domain::{Direction, Draw, Event, EventBody, LotKind, PaidFrom};

use crate::projections::{Projections, Sale};
use crate::store_month::StoreMonth;

fn cents(m: memberledger::Money) -> i128 {
    i128::from(m.cents())
}

impl Projections {
    /// Folds one member event.
    pub(crate) fn fold(&mut self, e: &Event) {
        match &e.body {
            EventBody::MemberEnrolled(b) => self.enrolled(e, b),
            EventBody::Recharged(b) => self.recharged(e, b),
            EventBody::BonusGranted(BonusGranted {
                amount, rule, lot, ..
            }) => {
                self.hold(e, &e.store, cents(*amount), |m| &mut m.opened);
                self.campaign_bonus(e, *rule, *lot, cents(*amount));
            }
            EventBody::Consumed(b) => self.consumed(e, b),
            EventBody::ConsumptionRefunded(b) => self.consumption_refunded(e, b),
            EventBody::BalanceRefunded(b) => self.balance_refunded(e, b),
            EventBody::BonusExpired(BonusExpired {
                amount,
                origin_store,
                lot,
                ..
            }) => {
                self.hold(e, origin_store, -cents(*amount), |m| &mut m.breakage);
                if let Some(c) = self.campaign_lot(&e.member, LotKind::Bonus, *lot) {
                    c.breakage += cents(*amount);
                }
            }
            EventBody::TierChanged(TierChanged { to, .. }) => {
                self.member(&e.member).tier = Some(to.clone());
            }
            EventBody::Adjusted(b) => self.adjusted(e, b),
            EventBody::PackagePurchased(b) => self.package_purchased(e, b),
            EventBody::SessionRedeemed(b) => self.session_redeemed(e, b),
            EventBody::PackageRefunded(b) => self.package_refunded(e, b),
            // What a store gave for points is booked as its revenue (a loyalty expense pays
            // for it): a service delivered, counted like one.
            EventBody::PointsRedeemed(memberledger::domain::events::PointsRedeemed {
                given: Some(g),
                ..
            }) => self.served(e, Some(&g.item), None, cents(g.value)),
            // Points, tiers, freezes, package expiry (its value left stored value when the
            // package was bought) and head office's streams move no stored value.
            _ => {}
        }
    }

    fn enrolled(&mut self, e: &Event, b: &MemberEnrolled) {
        let m = self.member(&e.member);
        m.home_store = Some(b.home_store.clone());
        m.tier = Some(b.tier.clone());
        m.enrolled_at = Some(e.at);
        m.active(e.at);
    }

    fn recharged(&mut self, e: &Event, b: &Recharged) {
        let amount = cents(b.amount);
        self.hold(e, &e.store, amount, |m| &mut m.opened);
        let m = self.member(&e.member);
        m.recharged += amount;
        m.active(e.at);
        let terms = self.terms(e);
        self.staff_day(e, b.staff.as_ref(), &e.store, terms, |d| {
            d.recharges += 1;
            d.recharged += amount;
        });
        self.campaign_recharged(e, b.lot, amount);
    }

    /// Lots drawn: stored value leaves the store that held each.
    fn draws(&mut self, e: &Event, draws: &[Draw], flow: fn(&mut StoreMonth) -> &mut i128) {
        for d in draws {
            self.hold(e, &d.origin_store, -cents(d.amount), flow);
        }
        self.campaign_draws(&e.member, draws, |c, _| &mut c.consumed);
    }

    fn consumed(&mut self, e: &Event, b: &Consumed) {
        self.draws(e, &b.draws, |m| &mut m.consumed);
        // The store's revenue is the full price, as the books say: what the member paid and
        // what a coupon took off (promotion expense); the member spent only what was paid.
        let discount = b.coupon.as_ref().map_or(0, |c| cents(c.discount));
        let (policy, tier) = self.terms(e);
        self.served(
            e,
            b.service.as_deref(),
            b.staff.as_ref(),
            cents(b.charged) + discount,
        );
        self.member(&e.member).spent -= discount;
        self.consumptions.insert(
            e.command,
            Sale {
                staff: b.staff.clone(),
                service: b.service.clone(),
                policy,
                tier,
            },
        );
    }

    /// A service delivered at the event's store: the member's visit, the staff's service,
    /// the service's hour.
    fn served(
        &mut self,
        e: &Event,
        service: Option<&str>,
        staff: Option<&memberledger::domain::StaffId>,
        revenue: i128,
    ) {
        let m = self.member(&e.member);
        m.visit(e.at, service, staff);
        m.spent += revenue;
        m.active(e.at);
        let terms = self.terms(e);
        self.staff_day(e, staff, &e.store, terms, |d| {
            d.services += 1;
            d.revenue += revenue;
        });
        let slot = self.calendar.weekday_hour(e.at);
        let name = service.unwrap_or(crate::report::NO_SERVICE);
        self.services
            .entry(name.to_owned())
            .or_default()
            .visit(slot, revenue);
    }

    fn consumption_refunded(&mut self, e: &Event, b: &ConsumptionRefunded) {
        for r in &b.restored {
            let amount = cents(r.amount);
            if let Some(c) = self.campaign_lot(&e.member, r.kind, r.lot) {
                c.consumed -= amount;
                if r.forfeited {
                    c.breakage += amount;
                }
            }
            if r.forfeited {
                // Given back past its expiry: straight to breakage, never held again.
                let month = self.calendar.month(e.at);
                let m = self
                    .months
                    .entry((r.origin_store.clone(), month))
                    .or_default();
                m.opened += amount;
                m.breakage += amount;
            } else {
                self.hold(e, &r.origin_store, amount, |m| &mut m.opened);
            }
        }
        let amount = cents(b.amount);
        let sale = self.consumptions.get(&b.consumption).cloned();
        let terms = sale
            .as_ref()
            .map_or_else(|| self.terms(e), |s| (s.policy, s.tier.clone()));
        let (staff, service) = sale.map(|s| (s.staff, s.service)).unwrap_or_default();
        let m = self.member(&e.member);
        m.spent -= amount;
        m.active(e.at);
        // A refund in full takes back the coupon's discount from the revenue too.
        let revenue = amount + b.coupon.as_ref().map_or(0, |c| cents(c.discount));
        self.staff_day(e, staff.as_ref(), &b.service_store, terms, |d| {
            d.service_refunds += revenue;
        });
        let name = service.as_deref().unwrap_or(crate::report::NO_SERVICE);
        self.services.entry(name.to_owned()).or_default().refunds += revenue;
    }

    fn balance_refunded(&mut self, e: &Event, b: &BalanceRefunded) {
        for d in &b.draws {
            let flow: fn(&mut StoreMonth) -> &mut i128 = match d.kind {
                LotKind::Principal => |m| &mut m.refunded,
                LotKind::Bonus => |m| &mut m.breakage,
            };
            self.hold(e, &d.origin_store, -cents(d.amount), flow);
        }
        self.campaign_draws(&e.member, &b.draws, |c, kind| match kind {
            LotKind::Principal => &mut c.refunded,
            LotKind::Bonus => &mut c.breakage,
        });
        let m = self.member(&e.member);
        m.cash_refunded += cents(b.payout);
        m.active(e.at);
    }

    fn adjusted(&mut self, e: &Event, b: &Adjusted) {
        let Some(amount) = b.amount else { return };
        match b.direction {
            Direction::Credit => self.hold(e, &e.store, cents(amount), |m| &mut m.opened),
            Direction::Debit => {
                for d in &b.draws {
                    self.hold(e, &d.origin_store, -cents(d.amount), |m| {
                        &mut m.adjusted_out
                    });
                }
                self.campaign_draws(&e.member, &b.draws, |c, _| &mut c.adjusted_out);
            }
        }
    }

    fn package_purchased(&mut self, e: &Event, b: &PackagePurchased) {
        self.draws(e, &b.draws, |m| &mut m.consumed);
        let (price, cash) = (cents(b.price), cents(b.cash));
        let m = self.member(&e.member);
        m.spent += price;
        m.package_cash += cash;
        m.active(e.at);
        let (policy, tier) = self.terms(e);
        self.staff_day(e, b.staff.as_ref(), &e.store, (policy, tier.clone()), |d| {
            d.packages += 1;
            d.package_sales += price;
            d.package_cash += cash;
        });
        self.packages.insert(
            b.package,
            Sale {
                staff: b.staff.clone(),
                service: Some(b.service.clone()),
                policy,
                tier,
            },
        );
    }

    fn session_redeemed(&mut self, e: &Event, b: &SessionRedeemed) {
        let service = self
            .packages
            .get(&b.package)
            .and_then(|s| s.service.clone());
        let amount = cents(b.amount);
        self.served(e, service.as_deref(), b.staff.as_ref(), amount);
        // The session's value was spent when the package was bought.
        self.member(&e.member).spent -= amount;
    }

    fn package_refunded(&mut self, e: &Event, b: &PackageRefunded) {
        if b.to == PaidFrom::Balance {
            if b.lot.is_some() {
                self.hold(e, &b.origin_store, cents(b.principal), |m| &mut m.opened);
            }
            if b.bonus_lot.is_some() {
                self.hold(e, &b.origin_store, cents(b.bonus), |m| &mut m.opened);
            }
        }
        let amount = cents(b.amount);
        let m = self.member(&e.member);
        m.spent -= amount;
        if b.to == PaidFrom::Cash {
            m.cash_refunded += cents(b.principal);
        }
        m.active(e.at);
        let sale = self.packages.get(&b.package).cloned();
        let terms = sale
            .as_ref()
            .map_or_else(|| self.terms(e), |s| (s.policy, s.tier.clone()));
        let seller = sale.and_then(|s| s.staff);
        self.staff_day(e, seller.as_ref(), &b.origin_store, terms, |d| {
            d.package_refunds += amount;
        });
    }
}
