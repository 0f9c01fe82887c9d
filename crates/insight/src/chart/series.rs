//! The turnover time series: stored value consumed and held, month by month, chain-wide.

use std::collections::{BTreeMap, BTreeSet};

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::{ChartBuilder, Circle, LineSeries, PathElement, BLACK, WHITE};
use plotters::style::Color;

use super::{index, svg, yuan, ChartError, BAR, FONT, SECOND};
use crate::report::Turnover;
use crate::Month;

/// One month of the chain: consumed, and the average held (each store's average that month,
/// or the balance it carried through a month without movement).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChainMonth {
    pub(crate) month: Month,
    pub(crate) consumed: i128,
    pub(crate) average: i128,
}

pub(crate) fn chain_months(r: &Turnover) -> Vec<ChainMonth> {
    let months: BTreeSet<Month> = r.rows.iter().map(|row| row.month).collect();
    let mut rows: BTreeMap<Month, Vec<&crate::report::TurnoverRow>> = BTreeMap::new();
    for row in &r.rows {
        rows.entry(row.month).or_default().push(row);
    }
    let mut carried: BTreeMap<&memberledger::StoreId, i128> = BTreeMap::new();
    let mut out = Vec::with_capacity(months.len());
    for month in months {
        let mut consumed = 0;
        let mut average = 0;
        let these = rows.remove(&month).unwrap_or_default();
        let moved: BTreeSet<_> = these.iter().map(|row| &row.store).collect();
        for (store, closing) in &carried {
            if !moved.contains(store) {
                average += closing;
            }
        }
        for row in these {
            consumed += row.flows.consumed;
            average += row.average;
            carried.insert(&row.store, row.closing);
        }
        out.push(ChainMonth {
            month,
            consumed,
            average,
        });
    }
    out
}

/// Two lines over the months, in ¥: stored value consumed and the average held (their ratio
/// is the turnover); a dot on each month.
pub fn turnover(r: &Turnover) -> Result<String, ChartError> {
    let months = chain_months(r);
    let n = index(months.len().max(1));
    let max = months
        .iter()
        .map(|m| yuan(m.consumed.max(m.average)))
        .fold(1.0_f64, f64::max)
        * 1.1;
    svg((900, 420), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "stored-value turnover by month: consumed vs average held",
                (FONT, 20),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(90)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..max)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(k) | SegmentValue::Exact(k) => usize::try_from(*k)
                .ok()
                .and_then(|i| months.get(i))
                .map(|m| m.month.to_string())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .x_labels(months.len().max(1))
            .x_label_formatter(&label)
            .x_desc("month")
            .y_desc("¥ (yuan)")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        for (name, colour, pick) in [
            (
                "consumed",
                BAR,
                (|m: &ChainMonth| m.consumed) as fn(&ChainMonth) -> i128,
            ),
            ("average held", SECOND, |m: &ChainMonth| m.average),
        ] {
            let points: Vec<_> = months
                .iter()
                .enumerate()
                .map(|(i, m)| (SegmentValue::CenterOf(index(i)), yuan(pick(m))))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .label_font((FONT, 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    })
}
