//! Per store and month: the stored value the store holds, how it was opened and used.

use serde::Serialize;

/// One store's stored-value flows in one month, in cents. Stored value (principal and bonus
/// lots) belongs to the store that took the cash or granted the credit, wherever it is spent.
/// The month's net change is `opened − consumed − refunded − breakage − adjusted_out`; the
/// turnover report walks the months in order to get each month's opening and closing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreMonth {
    /// New stored value: recharges, bonus granted, corrections credited, value given back by
    /// consumption and package refunds.
    #[serde(serialize_with = "crate::cents::ser")]
    pub opened: i128,
    /// Spent on services or moved into packages.
    #[serde(serialize_with = "crate::cents::ser")]
    pub consumed: i128,
    /// Principal taken out by balance refunds (退卡), claw-back included.
    #[serde(serialize_with = "crate::cents::ser")]
    pub refunded: i128,
    /// Bonus that expired or was forfeited.
    #[serde(serialize_with = "crate::cents::ser")]
    pub breakage: i128,
    /// Taken off by corrections by hand.
    #[serde(serialize_with = "crate::cents::ser")]
    pub adjusted_out: i128,
}

impl StoreMonth {
    /// The month's net change in stored value held.
    #[must_use]
    pub fn net(&self) -> i128 {
        self.opened - self.consumed - self.refunded - self.breakage - self.adjusted_out
    }
}
