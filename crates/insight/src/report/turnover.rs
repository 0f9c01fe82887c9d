//! 储值资金周转率: how fast each store's stored value is used, month by month.

use memberledger::domain::Decimal;
use memberledger::StoreId;
use serde::Serialize;

use crate::{Month, Projections, StoreMonth};

/// One store's month.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TurnoverRow {
    /// The store that holds the value.
    pub store: StoreId,
    /// The month (local).
    pub month: Month,
    /// Held at the start of the month.
    #[serde(serialize_with = "crate::cents::ser")]
    pub opening: i128,
    /// The month's flows.
    #[serde(flatten)]
    pub flows: StoreMonth,
    /// Held at the end of the month.
    #[serde(serialize_with = "crate::cents::ser")]
    pub closing: i128,
    /// `(opening + closing) / 2`, to the cent (half up).
    #[serde(serialize_with = "crate::cents::ser")]
    pub average: i128,
    /// `consumed ÷ average`, four decimals; `None` when nothing was held on average.
    pub turnover: Option<Decimal>,
}

/// The turnover report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Turnover {
    /// Rows by store, then month. A month without any movement is left out; the next
    /// month's opening carries the balance on.
    pub rows: Vec<TurnoverRow>,
}

/// Each store's months: opening, flows, closing, average and turnover.
#[must_use]
pub fn turnover(p: &Projections) -> Turnover {
    let mut rows = Vec::with_capacity(p.store_months().len());
    let mut last: Option<(&StoreId, i128)> = None;
    for ((store, month), flows) in p.store_months() {
        let opening = match last {
            Some((s, closing)) if s == store => closing,
            _ => 0,
        };
        let closing = opening + flows.net();
        let sum = opening + closing;
        let average = crate::cents::div_half_up(sum, 2);
        rows.push(TurnoverRow {
            store: store.clone(),
            month: *month,
            opening,
            flows: flows.clone(),
            closing,
            average,
            turnover: ratio(flows.consumed, average),
        });
        last = Some((store, closing));
    }
    Turnover { rows }
}

/// `num ÷ den` to four decimals (half away from zero), `None` for a zero or negative `den`.
pub(crate) fn ratio(num: i128, den: i128) -> Option<Decimal> {
    if den <= 0 {
        return None;
    }
    let n = Decimal::from_i128_with_scale(num, 0);
    let d = Decimal::from_i128_with_scale(den, 0);
    n.checked_div(d)
        .map(|r| r.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}
