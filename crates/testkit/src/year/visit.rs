//! What a returning member does on a visit: one roll in a thousand chooses (its bands are the
//! shape's [`Mix`](super::Mix)), what the generator knows of the member narrows it.
//!
//! The order of the branches and of the draws inside them is the stream: changing either
//! changes every command after it (and the demo's chain head).

use chrono::{DateTime, Duration, Utc};
use memberledger::Money;

use super::catalogue::{RECHARGES, SERVICES, TIERS};
use super::Year;

/// A store (by number) and the command's fields after `member` and `store`.
type Visit = (u32, String);

impl Year {
    /// Member `n`'s next command: at home, or at the `away` store for some spending.
    pub(super) fn visit(&mut self, n: usize, at: DateTime<Utc>, away: u32) -> Visit {
        let roll = self.rng.below(1000);
        let b = self.shape.mix.bands();
        let k = &self.members[n];
        let home = k.home;
        let balance = k.balance_cents;
        // Members spend at any store (a quarter of visits away from home) but mostly recharge,
        // and always close their card, at home.
        if (b.adjust..b.refund_package).contains(&roll) && !k.packages.is_empty() {
            // Moving away: the unredeemed sessions go back as the policy says.
            let p = *self.rng.pick(&self.members[n].packages);
            let rest = format!(r#""type":"refund_package","package":"{p}","reason":"moving away""#);
            (home, rest)
        } else if roll < b.refund_consumption && !k.consumptions.is_empty() {
            (home, self.refund_consumption(n))
        } else if roll < b.refund_balance && balance > 0 {
            (home, r#""type":"refund_balance""#.to_owned())
        } else if roll < b.change_tier {
            (home, self.change_tier(n))
        } else if k.frozen && roll < u64::from(self.shape.mix.unfreeze_below) {
            // A lost card turns up again soon after.
            (
                home,
                r#""type":"unfreeze","reason":"card found""#.to_owned(),
            )
        } else if (b.freeze..b.adjust).contains(&roll) {
            // A manager makes good a service complaint with bonus credit, by hand.
            (
                home,
                r#""type":"adjust","balance":"bonus","direction":"credit","amount":"30.00","reason":"service complaint","operator":"MGR1""#.to_owned(),
            )
        } else if roll < b.freeze {
            (home, r#""type":"freeze","reason":"lost card""#.to_owned())
        } else if roll < b.grant_bonus {
            (home, self.grant_bonus(at))
        } else {
            self.spend(n, at, away, roll)
        }
    }

    /// The rolls past the grants: buying and using courses, points, recharges and services.
    fn spend(&mut self, n: usize, at: DateTime<Utc>, away: u32, roll: u64) -> Visit {
        let b = self.shape.mix.bands();
        let k = &self.members[n];
        let home = k.home;
        let balance = k.balance_cents;
        if (b.redeem_points..b.purchase_package).contains(&roll) {
            (home, self.purchase_package(balance, at))
        } else if (b.purchase_package..b.redeem_session).contains(&roll) && !k.packages.is_empty() {
            // A member with a course uses it on most visits.
            let p = *self.rng.pick(&self.members[n].packages);
            let store = if self.rng.chance(250) { away } else { home };
            let staff = self.rng.below(200);
            let rest = format!(r#""type":"redeem_session","package":"{p}","staff":"E{staff:03}""#);
            (store, rest)
        } else if (b.recharge..b.redeem_points).contains(&roll) && k.points >= 500 {
            let points = 100 * (1 + self.rng.below(k.points / 100).min(9));
            // Half the time the points buy a free service, booked at its list price.
            let rest = if self.rng.chance(500) {
                let (service, price) = *self.rng.pick(SERVICES);
                format!(
                    r#""type":"redeem_points","points":{points},"reason":"reward","service":"{service}","value":"{}""#,
                    Money::from_cents(price)
                )
            } else {
                format!(r#""type":"redeem_points","points":{points},"reason":"gift""#)
            };
            (home, rest)
        } else if roll < b.recharge || (balance < 30_000 && self.rng.chance(800)) {
            let store = if self.rng.chance(100) { away } else { home };
            let amount = Money::from_cents(*self.rng.pick(RECHARGES));
            let staff = self.rng.below(200);
            let rest = format!(r#""type":"recharge","amount":"{amount}","staff":"E{staff:03}""#);
            (store, rest)
        } else {
            let store = if self.rng.chance(250) { away } else { home };
            let (service, price) = *self.rng.pick(SERVICES);
            let mut rest = format!(
                r#""type":"consume","amount":"{}","staff":"E{:03}","service":"{service}""#,
                Money::from_cents(price),
                self.rng.below(200)
            );
            rest.push_str(&self.coupon_for(n, price, at));
            rest.push_str(&self.external(price, balance));
            (store, rest)
        }
    }

    /// A coupon the member's visit redeems: an open one it applies to (a 满减 coupon when the
    /// price, at the deepest tier discount, reaches its threshold), most of the time.
    fn coupon_for(&mut self, n: usize, price: i64, at: DateTime<Utc>) -> String {
        let at = memberledger::Timestamp::from_datetime(at).expect("the year's times are valid");
        let fits = self.members[n]
            .coupons
            .iter()
            .find(|(_, least, expires)| *least <= price * 85 / 100 && *expires > at)
            .map(|c| c.0);
        match fits {
            Some(c) if self.rng.chance(800) => format!(r#","coupon":"{c}""#),
            _ => String::new(),
        }
    }

    /// A coupon issued on a member's visit instead of its usual command: the welcome coupon
    /// (新人礼券, 20.00 off, for 30 days) on the first visit after enrolling, and a 满减 campaign
    /// (满300减50, for 14 days) offered to a third of the members who come in days 150-180.
    pub(super) fn coupon_due(&mut self, n: usize, at: DateTime<Utc>) -> Option<String> {
        let day = (at - self.start).num_days();
        let k = &mut self.members[n];
        let (reason, terms, days) = if k.welcome {
            k.welcome = false;
            ("新人礼券", r#""amount":"20.00""#, 30)
        } else if (150..180).contains(&day) && !k.campaign {
            k.campaign = true;
            if !self.rng.chance(333) {
                return None;
            }
            ("满300减50", r#""threshold":"300.00","amount":"50.00""#, 14)
        } else {
            return None;
        };
        let expires = (at + Duration::days(days)).format("%Y-%m-%dT%H:%M:%SZ");
        Some(format!(
            r#""type":"issue_coupon",{terms},"reason":"{reason}","expires_at":"{expires}""#
        ))
    }

    /// How a visit is paid beyond the card: a member whose card may not cover the price pays
    /// the rest in cash or by phone; one visit in twenty is paid wholly outside the card.
    fn external(&mut self, price: i64, balance: i64) -> String {
        const METHODS: [&str; 4] = ["cash", "wechat", "alipay", "bank_card"];
        if self.rng.chance(50) {
            let method = *self.rng.pick(&METHODS);
            format!(r#","method":"{method}","external":"all""#)
        } else if price > balance {
            let method = *self.rng.pick(&METHODS);
            format!(r#","method":"{method}""#)
        } else {
            String::new()
        }
    }

    /// A full or partial refund of one of the member's last consumptions.
    fn refund_consumption(&mut self, n: usize) -> String {
        let (c, charged) = *self.rng.pick(&self.members[n].consumptions);
        if self.rng.chance(500) {
            format!(r#""type":"refund_consumption","consumption":"{c}""#)
        } else {
            let part = 1 + self.rng.below(u64::try_from(charged).expect("positive"));
            format!(
                r#""type":"refund_consumption","consumption":"{c}","amount":"{}""#,
                Money::from_cents(i64::try_from(part).expect("small"))
            )
        }
    }

    /// A manager moves the member to another tier (moving to the tier held is refused).
    fn change_tier(&mut self, n: usize) -> String {
        let held = &self.members[n].tier;
        let others: Vec<&str> = TIERS.into_iter().filter(|t| *t != held.as_str()).collect();
        let tier = *self.rng.pick(&others);
        format!(r#""type":"change_tier","tier":"{tier}","reason":"service-recovery""#)
    }

    /// A birthday bonus that lapses within a few months.
    fn grant_bonus(&mut self, at: DateTime<Utc>) -> String {
        let days = 20 + self.rng.below(100);
        let expires = at + Duration::days(i64::try_from(days).expect("small"));
        let amount =
            Money::from_cents(i64::try_from(2000 + 1000 * self.rng.below(8)).expect("small"));
        format!(
            r#""type":"grant_bonus","amount":"{amount}","reason":"birthday","expires_at":"{}""#,
            expires.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }

    /// A course of sessions at a fifth off, paid in cash or from the card.
    fn purchase_package(&mut self, balance: i64, at: DateTime<Utc>) -> String {
        let (service, price) = *self.rng.pick(SERVICES);
        let sessions = *self.rng.pick(&[5i64, 10]);
        let total = price * sessions * 4 / 5;
        let paid_from = if balance >= total && self.rng.chance(500) {
            "balance"
        } else {
            "cash"
        };
        let expires = at + Duration::days(180);
        format!(
            r#""type":"purchase_package","service":"{service}","sessions":{sessions},"amount":"{}","paid_from":"{paid_from}","expires_at":"{}""#,
            Money::from_cents(total),
            expires.format("%Y-%m-%dT%H:%M:%SZ")
        )
    }
}
