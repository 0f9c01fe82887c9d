//! Per member: visits, money in and out, stored value held by store, favourites.

use std::collections::BTreeMap;

use memberledger::domain::StaffId;
use memberledger::{StoreId, Timestamp};
use serde::Serialize;

/// What the ledger knows of one member's custom, as of the projection's time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MemberStats {
    /// The store that opened the card.
    pub home_store: Option<StoreId>,
    /// The member's tier.
    pub tier: Option<String>,
    /// When the card was opened.
    pub enrolled_at: Option<Timestamp>,
    /// The first service delivered (a card consumption or a package session).
    pub first_visit: Option<Timestamp>,
    /// The last service delivered.
    pub last_visit: Option<Timestamp>,
    /// The last thing the member did: enrolled, recharged, was served, bought or refunded.
    pub last_active: Option<Timestamp>,
    /// Services delivered (consumptions and package sessions).
    pub visits: u64,
    /// Cash paid in for recharges, in cents.
    #[serde(serialize_with = "crate::cents::ser")]
    pub recharged: i128,
    /// Cash paid for packages at the counter, in cents.
    #[serde(serialize_with = "crate::cents::ser")]
    pub package_cash: i128,
    /// Cash paid back (balance refunds, package refunds in cash), in cents.
    #[serde(serialize_with = "crate::cents::ser")]
    pub cash_refunded: i128,
    /// Spent on services and packages, less refunds, in cents.
    #[serde(serialize_with = "crate::cents::ser")]
    pub spent: i128,
    /// Stored value (principal and bonus) held now, by the store that holds it, in cents.
    pub held: BTreeMap<StoreId, i128>,
    /// Visits by service.
    pub services: BTreeMap<String, u64>,
    /// Visits by the staff who served.
    pub staff: BTreeMap<StaffId, u64>,
}

impl MemberStats {
    /// Net cash the member brought the chain: paid in (recharges, packages) less paid back.
    /// The lifetime value (LTV) the `members` report ranks by.
    #[must_use]
    pub fn ltv(&self) -> i128 {
        self.recharged + self.package_cash - self.cash_refunded
    }

    /// All stored value held, in cents.
    #[must_use]
    pub fn held_total(&self) -> i128 {
        self.held.values().sum()
    }

    /// Spent ÷ visits, rounded half away from zero to the cent (zero without visits).
    #[must_use]
    pub fn average_ticket(&self) -> i128 {
        let visits = i128::from(self.visits);
        crate::cents::div_half_up(self.spent, visits)
    }

    /// The most visited service (the first by name among equals).
    #[must_use]
    pub fn favourite_service(&self) -> Option<&str> {
        favourite(&self.services).map(String::as_str)
    }

    /// The staff who served most (the first by id among equals).
    #[must_use]
    pub fn favourite_staff(&self) -> Option<&StaffId> {
        favourite(&self.staff)
    }

    /// A service delivered at `at`.
    pub(crate) fn visit(&mut self, at: Timestamp, service: Option<&str>, staff: Option<&StaffId>) {
        self.first_visit = Some(self.first_visit.map_or(at, |t| t.min(at)));
        self.last_visit = Some(self.last_visit.map_or(at, |t| t.max(at)));
        self.visits += 1;
        if let Some(s) = service {
            *self.services.entry(s.to_owned()).or_default() += 1;
        }
        if let Some(s) = staff {
            *self.staff.entry(s.clone()).or_default() += 1;
        }
    }

    /// The member acted at `at`.
    pub(crate) fn active(&mut self, at: Timestamp) {
        self.last_active = Some(self.last_active.map_or(at, |t| t.max(at)));
    }

    /// Stored value held at `store` moved by `cents`.
    pub(crate) fn hold(&mut self, store: &StoreId, cents: i128) {
        let h = self.held.entry(store.clone()).or_default();
        *h += cents;
        if *h == 0 {
            self.held.remove(store);
        }
    }
}

fn favourite<K: Ord>(counts: &BTreeMap<K, u64>) -> Option<&K> {
    // The highest count; among equals the first key (max_by_key keeps the last, so reverse).
    counts.iter().rev().max_by_key(|(_, n)| **n).map(|(k, _)| k)
}
