//! The spending and visit window: what a member's visits were charged (card and outside it,
//! less consumption refunds) and how many visits it made, by UTC day, for the tier rules on
//! spending and visits (docs/RULES.md §10).
//!
//! Kept compact in the member's list of 28-byte holdings: one entry a day, merged (a second
//! visit on a day adds to that day's entry), and entries older than the longest window a
//! policy may name ([`TIER_WINDOW_DAYS_MAX`] days) dropped whenever a day is added. A member
//! who visits on a few days a year keeps a few entries.

use crate::money::Money;
use crate::policy::TIER_WINDOW_DAYS_MAX;
use crate::time::Timestamp;

use super::holdings::{Holding, HoldingKind};
use super::MemberState;

/// One day of the spending window: the day (see [`Timestamp::day`]), the cents charged less
/// refunded that day, and the visits made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpendDay {
    /// The UTC day, counted from 1970-01-01.
    pub day: u32,
    /// Cents charged by the day's visits less cents refunded that day (may be negative).
    pub cents: i64,
    /// Visits (`consumed` events) that day.
    pub visits: u32,
}

impl MemberState {
    /// Whether the spending and visit window is kept: a state folded without it (see
    /// [`without_spending_window`](Self::without_spending_window)) cannot be decided under a
    /// policy with spending or visit rules.
    pub fn keeps_spending(&self) -> bool {
        self.keeps_spending
    }

    /// The same member without the spending and visit window, folding on without it: what a
    /// ledger whose policies name no spending or visit rule caches (the window costs a 28-byte
    /// entry a visit day). Balances, lots, points and the tier are the same either way.
    pub fn without_spending_window(mut self) -> MemberState {
        self.drop_spending_window();
        self
    }

    /// [`without_spending_window`](Self::without_spending_window) in place.
    pub fn drop_spending_window(&mut self) {
        // A state without the window never gains an entry of it (`push_spend`).
        if self.keeps_spending {
            self.holdings.retain(|h| h.kind != HoldingKind::Spend);
            self.keeps_spending = false;
        }
    }

    /// The UTC day the member reached the tier held (enrollment's or the last tier change's).
    pub fn tier_since_day(&self) -> u32 {
        self.tier_since
    }

    /// The spending window's days, oldest first (at most [`TIER_WINDOW_DAYS_MAX`] days before
    /// the latest).
    pub fn spending_window(&self) -> Vec<SpendDay> {
        self.spend_days().collect()
    }

    fn spend_days(&self) -> impl Iterator<Item = SpendDay> + '_ {
        self.holdings
            .iter()
            .filter(|h| h.kind == HoldingKind::Spend)
            .filter_map(|h| {
                h.time.map(|t| SpendDay {
                    day: t.day(),
                    cents: h.cents().cents(),
                    visits: h.lot,
                })
            })
    }

    /// The days of the window of `days` days ending at `at`'s day: `(day(at) − days,
    /// day(at)]`.
    fn in_window(&self, at: Timestamp, days: u32) -> impl Iterator<Item = SpendDay> + '_ {
        let last = at.day();
        let first = last.saturating_sub(days);
        self.spend_days()
            .filter(move |d| d.day > first && d.day <= last)
    }

    /// What the visits of the window of `days` days ending at `at` were charged less what
    /// consumption refunds recorded in it returned, never below 0.00.
    pub fn spent_within(&self, at: Timestamp, days: u32) -> Money {
        let cents: i128 = self.in_window(at, days).map(|d| i128::from(d.cents)).sum();
        Money::from_cents(i64::try_from(cents.max(0)).unwrap_or(i64::MAX))
    }

    /// Visits in the window of `days` days ending at `at`.
    pub fn visits_within(&self, at: Timestamp, days: u32) -> u64 {
        self.in_window(at, days).map(|d| u64::from(d.visits)).sum()
    }

    /// Principal recharged less principal removed by balance refunds in `(at − days, at]`
    /// (the recharge window is kept 365 days: a longer `days` counts those alone).
    pub fn recharged_within(&self, at: Timestamp, days: u32) -> Money {
        let from = at.minus_days(days);
        let cents: i128 = self
            .window()
            .filter(|(t, _)| *t > from && *t <= at)
            .map(|(_, c)| i128::from(c))
            .sum();
        Money::from_cents(i64::try_from(cents.max(0)).unwrap_or(i64::MAX))
    }

    /// Adds `cents` and `visits` to the day of `at`, dropping days older than the longest
    /// window. Saturating: only a forged log of billions of visits a day would reach a bound.
    pub(super) fn push_spend(&mut self, at: Timestamp, cents: i64, visits: u32) {
        if !self.keeps_spending {
            return;
        }
        let day = at.day();
        let oldest = day.saturating_sub(TIER_WINDOW_DAYS_MAX);
        // Days compared as instants, worked out once (a day of each entry would be worked
        // out from its calendar date, entry by entry, visit by visit): a day after `oldest`
        // starts at or after the start of the day after it (never past `at`, so exact).
        let kept_from = Timestamp::start_of_day(oldest + 1);
        let (today, tomorrow) = (
            Timestamp::start_of_day(day),
            Timestamp::start_of_day(day + 1),
        );
        // (The start of the day after the last supported one saturates: that day's own.)
        let on_day = |t: Timestamp| t >= today && (t < tomorrow || t.day() == day);
        self.holdings
            .retain(|h| h.kind != HoldingKind::Spend || h.time.is_some_and(|t| t >= kept_from));
        if let Some(h) = self
            .holdings
            .iter_mut()
            .rev()
            .find(|h| h.kind == HoldingKind::Spend && h.time.is_some_and(on_day))
        {
            h.set_cents(Money::from_cents(h.cents().cents().saturating_add(cents)));
            h.lot = h.lot.saturating_add(visits);
            return;
        }
        self.holdings.push(Holding {
            time: Some(today),
            amount: cents.to_ne_bytes(),
            lot: visits,
            origin: 0,
            kind: HoldingKind::Spend,
        });
    }
}
