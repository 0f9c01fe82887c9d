//! What an event says it took from or gave back to a member's lots.

use serde::{Deserialize, Serialize};

use crate::id::StoreId;
use crate::money::Money;
use crate::time::Timestamp;

/// Which balance a lot belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LotKind {
    /// Money the member paid in.
    Principal,
    /// Promotional credit.
    Bonus,
}

/// An amount drawn from one lot (by a consumption or a balance refund).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    /// How much was taken.
    pub amount: Money,
    /// When the lot lapses (bonus only).
    pub expires_at: Option<Timestamp>,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The lot's number within the member.
    pub lot: u32,
    /// The store that took the cash (principal) or granted the credit (bonus).
    pub origin_store: StoreId,
}

/// An amount given back to one lot by a consumption refund.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restore {
    /// How much is given back.
    pub amount: Money,
    /// The lot's expiry.
    pub expires_at: Option<Timestamp>,
    /// True when the lot had already expired at the refund: the amount is forfeited, not
    /// credited to the member.
    pub forfeited: bool,
    /// Principal or bonus.
    pub kind: LotKind,
    /// The lot's number within the member.
    pub lot: u32,
    /// The lot's origin store.
    pub origin_store: StoreId,
}

/// Points taken from one point lot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsDraw {
    /// The point lot's number.
    pub lot: u32,
    /// Points taken.
    pub points: u64,
}
