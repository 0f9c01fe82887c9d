//! What the demo counts as the year is recorded.

use memberledger::domain::events::{
    BalanceRefunded, BonusExpired, BonusGranted, Consumed, PointsRedeemed, Recharged, Settled,
};
use std::collections::BTreeMap;

use memberledger::domain::EventBody;
use memberledger::{Money, Receipt};

/// What one store did over the year.
#[derive(Default)]
pub(super) struct StoreStats {
    pub(super) consumptions: u64,
    pub(super) revenue: Money,
    pub(super) cross_store: u64,
    pub(super) recharged: Money,
}

/// Counts over every command the demo sent.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) recorded: u64,
    pub(super) events: u64,
    pub(super) rejected: BTreeMap<String, u64>,
    pub(super) by_type: BTreeMap<&'static str, u64>,
    pub(super) stores: BTreeMap<String, StoreStats>,
    pub(super) bonus_granted: Money,
    pub(super) bonus_expired: Money,
    pub(super) refunded_cash: Money,
    pub(super) settled: Money,
    /// Visits paid partly outside the card, wholly outside it, and what was paid outside it
    /// by method.
    pub(super) mixed_visits: u64,
    pub(super) external_visits: u64,
    pub(super) external: BTreeMap<String, Money>,
    /// Commands from offline tills, recorded late (within the policy's window).
    pub(super) late: u64,
    /// Points redemptions that gave a service, and its value.
    pub(super) rewards: u64,
    pub(super) rewards_value: Money,
    /// Coupons issued, visits that redeemed one and what they took off (promotion expense).
    pub(super) coupons_issued: u64,
    pub(super) coupons_redeemed: u64,
    pub(super) coupon_discounts: Money,
    /// Tier changes by reason (`upgrade:…`, `review:downgrade`, or a reason given by hand).
    pub(super) tier_changes: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts one command's result: its rejection code, or its events.
    pub(super) fn count(&mut self, result: &Result<Receipt, memberledger::Error>) {
        let receipt = match result {
            Ok(r) => r,
            Err(e) => {
                *self.rejected.entry(e.code().to_owned()).or_default() += 1;
                return;
            }
        };
        self.recorded += 1;
        self.events += receipt.events.len() as u64;
        if receipt.events.iter().any(|e| e.event.occurred_at.is_some()) {
            self.late += 1;
        }
        for e in &receipt.events {
            *self.by_type.entry(e.event.body.type_name()).or_default() += 1;
            let store = self.stores.entry(e.event.store.to_string()).or_default();
            match &e.event.body {
                EventBody::Consumed(Consumed {
                    charged,
                    draws,
                    external,
                    coupon,
                    ..
                }) => {
                    store.consumptions += 1;
                    if let Some(c) = coupon {
                        self.coupons_redeemed += 1;
                        self.coupon_discounts = self.coupon_discounts.plus(c.discount);
                    }
                    store.revenue = store.revenue.plus(*charged);
                    if draws.iter().any(|d| d.origin_store != e.event.store) {
                        store.cross_store += 1;
                    }
                    if let Some(x) = external {
                        if draws.is_empty() {
                            self.external_visits += 1;
                        } else {
                            self.mixed_visits += 1;
                        }
                        let by = self.external.entry(x.method.clone()).or_default();
                        *by = by.plus(x.amount);
                    }
                }
                EventBody::CouponIssued(_) => self.coupons_issued += 1,
                EventBody::TierChanged(c) => {
                    *self.tier_changes.entry(c.reason.clone()).or_default() += 1;
                }
                EventBody::PointsRedeemed(PointsRedeemed { given: Some(g), .. }) => {
                    self.rewards += 1;
                    self.rewards_value = self.rewards_value.plus(g.value);
                }
                EventBody::Recharged(Recharged { amount, .. }) => {
                    store.recharged = store.recharged.plus(*amount);
                }
                EventBody::BonusGranted(BonusGranted { amount, .. }) => {
                    self.bonus_granted = self.bonus_granted.plus(*amount);
                }
                EventBody::BonusExpired(BonusExpired { amount, .. }) => {
                    self.bonus_expired = self.bonus_expired.plus(*amount);
                }
                EventBody::BalanceRefunded(BalanceRefunded { payout, .. }) => {
                    self.refunded_cash = self.refunded_cash.plus(*payout);
                }
                EventBody::Settled(Settled { amount, .. }) => {
                    self.settled = self.settled.plus(*amount)
                }
                _ => {}
            }
        }
    }
}
