//! What a `balance_opened` event carries over: lots and packages a member held in the system a
//! chain moved from, each numbered or identified as a native one would be.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::id::StoreId;
use crate::money::Money;
use crate::time::Timestamp;

/// A principal or bonus lot opened from an opening balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedLot {
    /// What it holds.
    pub amount: Money,
    /// When it lapses (bonus only; null for principal and for bonus that never lapses).
    pub expires_at: Option<Timestamp>,
    /// The lot's number within the member.
    pub lot: u32,
    /// The store that holds its cash (principal) or granted it (bonus).
    pub origin_store: StoreId,
}

/// A point lot opened from an opening balance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedPoints {
    /// When it lapses.
    pub expires_at: Option<Timestamp>,
    /// The point lot's number within the member.
    pub lot: u32,
    /// Points in it.
    pub points: u64,
}

/// A package opened from an opening balance, funded as if paid in cash at its origin store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenedPackage {
    /// When unredeemed sessions lapse.
    pub expires_at: Option<Timestamp>,
    /// The store that sold it (and holds its cash).
    pub origin_store: StoreId,
    /// Its id: UUID v5 of `package/<i>` (its place in the opening, from 0) in the namespace of
    /// the opening command's id.
    pub package: Uuid,
    /// Its value: `session_price × sessions`.
    pub price: Money,
    /// The service.
    pub service: String,
    /// The value of each session.
    pub session_price: Money,
    /// Sessions left.
    pub sessions: u32,
}
