//! Tiers by spending and visits (docs/RULES.md §10), as the model reads them: the window sums
//! by UTC day, the upgrade a visit earns, and the tier review.

use super::super::policy::{DAY, TIERS, UPGRADE_WINDOW, VISIT_RULES};
use super::Draft;

/// The UTC day of a time in seconds.
fn day(t: i64) -> i64 {
    t.div_euclid(DAY)
}

impl Draft<'_> {
    /// Spending (charged less refunded, never below 0) and visits over the `days` days ending
    /// on the command's day.
    fn spent_and_visits(&self, days: i64) -> (i64, u64) {
        let last = day(self.at());
        let mut spent = 0;
        let mut visits = 0;
        for (t, cents, visit) in &self.w.spend {
            if day(*t) > last - days && day(*t) <= last {
                spent += cents;
                visits += u64::from(*visit);
            }
        }
        (spent.max(0), visits)
    }

    /// Principal recharged less refunded within `(at − days, at]`, never below 0.
    fn recharged(&self, days: i64) -> i64 {
        let at = self.at();
        let sum: i64 = self
            .w
            .window
            .iter()
            .filter(|(t, _)| *t > at - days * DAY && *t <= at)
            .map(|(_, c)| c)
            .sum();
        sum.max(0)
    }

    /// Whether tier `t`'s upgrade on spending or visits holds now.
    pub(crate) fn visit_upgrade_holds(&self, t: usize) -> bool {
        if !self.visit_tiers {
            return false;
        }
        let r = &VISIT_RULES[t];
        r.spent
            .is_some_and(|(cents, days)| self.spent_and_visits(days).0 >= cents)
            || r.visits
                .is_some_and(|(n, days)| self.spent_and_visits(days).1 >= n)
    }

    fn retain_holds(&self, t: usize) -> bool {
        let r = &VISIT_RULES[t];
        let (spent, visits) = self.spent_and_visits(r.retain_days);
        r.retain_spent.is_some_and(|x| spent >= x)
            || r.retain_visits.is_some_and(|x| visits >= x)
            || r.retain_recharged
                .is_some_and(|x| self.recharged(r.retain_days) >= x)
    }

    /// Moves the member to tier `t` now.
    pub(crate) fn set_tier(&mut self, t: usize) {
        self.w.tier = t;
        self.w.tier_since = self.at();
    }

    /// A visit of `charged` cents: counted in the window, then the highest tier above the
    /// one held whose spending or visit upgrade holds (one more event).
    pub(crate) fn visited(&mut self, charged: i64) {
        self.w.spend.push((self.at(), charged, true));
        if let Some(up) = (self.w.tier + 1..TIERS.len())
            .rev()
            .find(|&t| self.visit_upgrade_holds(t))
        {
            self.set_tier(up);
            self.events += 1;
        }
    }

    /// The tier review: lowers a member whose tier's retain rule fails (after the grace of
    /// a tier reached within the window) to the highest lower tier whose retain rule or
    /// window upgrade holds, else the lowest; `invalid_command` when it keeps the tier.
    pub(crate) fn review_tier(&mut self) -> Result<(), &'static str> {
        let held = self.w.tier;
        let r = &VISIT_RULES[held];
        if !self.visit_tiers || held == 0 || r.retain_days == 0 {
            return Err("invalid_command");
        }
        if day(self.w.tier_since) > day(self.at()) - r.retain_days || self.retain_holds(held) {
            return Err("invalid_command");
        }
        let within_365 = self.recharged(UPGRADE_WINDOW / DAY);
        let to = (1..held)
            .rev()
            .find(|&t| {
                (VISIT_RULES[t].retain_days > 0 && self.retain_holds(t))
                    || within_365 >= TIERS[t].within
                    || self.visit_upgrade_holds(t)
            })
            .unwrap_or(0);
        self.set_tier(to);
        Ok(())
    }
}
