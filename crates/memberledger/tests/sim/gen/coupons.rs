//! Coupons and free sessions in the stream: members are issued coupons of every kind (some
//! lapsing soon, so the clock passes their expiry), visit naming one (their own, mostly open;
//! now and then a used, unknown or another member's), and are granted free sessions they then
//! redeem like packages.

use super::super::model::Offer;
use super::*;

impl Sim {
    /// An `issue_coupon` or a `grant_package`.
    pub(crate) fn gen_coupon(&mut self, at: i64) -> Kind {
        let reason = (*self.rng.pick(&["新人礼券", "满减", "回归礼包", "体验券"])).to_owned();
        let expires = at + *self.rng.pick(&[3_600, DAY, 7 * DAY, 30 * DAY]);
        if self.rng.chance(200) {
            return Kind::GrantPackage {
                service: (*self.rng.pick(&["小气泡护理", "massage"])).to_owned(),
                sessions: u32::try_from(self.rng.range(1, 4)).expect("few sessions"),
                expires: self.rng.chance(500).then_some(expires),
                reason,
            };
        }
        let offer = match self.rng.weighted(&[35, 25, 30, 10]) {
            0 => Offer::Amount(self.rng.range(1, 20_000)),
            // Whole percentages mostly, and any other a command may name (12.5 %, 0.01 %,
            // 99.99 %).
            1 => Offer::Percent {
                percent_x100: if self.rng.chance(500) {
                    u32::try_from(self.rng.range(1, 99) * 100).expect("a percentage")
                } else {
                    u32::try_from(self.rng.range(1, 9_999)).expect("a percentage")
                },
                cap: self.rng.range(1, 20_000),
            },
            2 => Offer::Threshold {
                threshold: self.rng.range(1, 40_000),
                amount: self.rng.range(1, 10_000),
            },
            _ => Offer::Session("体验护理".to_owned()),
        };
        Kind::IssueCoupon {
            offer,
            reason,
            expires,
        }
    }

    /// A visit naming a coupon: one of the member's open ones mostly; now and then a used or
    /// lapsed one, another member's, or one never issued.
    pub(crate) fn gen_coupon_visit(&mut self, member: &str, m: &Member) -> Kind {
        let open: Vec<Uuid> = m
            .coupons
            .iter()
            .filter(|(_, c)| c.used_by.is_none())
            .map(|(id, _)| *id)
            .collect();
        let all: Vec<Uuid> = m.coupons.keys().copied().collect();
        let coupon = match self.rng.weighted(&[80, 8, 6, 6]) {
            0 if !open.is_empty() => open[self.rng.index(open.len())],
            1 if !all.is_empty() => all[self.rng.index(all.len())],
            2 => {
                let others: Vec<Uuid> = self
                    .model
                    .members
                    .iter()
                    .filter(|(id, _)| id.as_str() != member)
                    .flat_map(|(_, o)| o.coupons.keys().copied())
                    .collect();
                self.pick_or_new(&others)
            }
            _ => self.new_id(),
        };
        Kind::ConsumeCoupon {
            cents: self.consume_price(m),
            coupon,
            external: self.gen_external(),
        }
    }
}
