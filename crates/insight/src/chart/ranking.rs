//! Rankings as horizontal bar charts: staff, services, members.

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::{ChartBuilder, Rectangle};
use plotters::style::Color;

use super::{count, index, svg, yuan, ChartError, BAR, FONT};
use crate::report::{Members, RankBy, Services, StaffReport};

/// One bar: its label and its length.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// What the bar is (a name).
    pub label: String,
    /// Its value in the axis' unit.
    pub value: f64,
}

/// The staff ranking (the first `top` rows): net revenue plus sales, in ¥.
pub fn staff(r: &StaffReport, top: usize) -> Result<String, ChartError> {
    let bars: Vec<Bar> = r
        .rows
        .iter()
        .take(top)
        .map(|row| Bar {
            label: format!(
                "{} @ {}",
                row.staff.as_ref().map_or("(none)", |s| s.as_str()),
                row.store
            ),
            value: yuan(row.net_revenue + row.figures.recharged + row.figures.package_sales),
        })
        .collect();
    bars_svg(
        "staff ranking: net revenue plus sales",
        "¥ (yuan)",
        "staff @ store",
        &bars,
    )
}

/// The services ranking (the first `top`): visits.
pub fn services(r: &Services, top: usize) -> Result<String, ChartError> {
    let bars: Vec<Bar> = r
        .ranking
        .iter()
        .take(top)
        .map(|s| Bar {
            label: s.service.clone(),
            value: count(s.visits),
        })
        .collect();
    bars_svg("services by visits", "visits (count)", "service", &bars)
}

/// The members ranking, by what it ranks by (¥ for ltv and spend, visits as a count).
pub fn members(r: &Members) -> Result<String, ChartError> {
    let (title, unit) = match r.by {
        RankBy::Ltv => ("members by lifetime value", "¥ (yuan)"),
        RankBy::Spend => ("members by spend", "¥ (yuan)"),
        RankBy::Visits => ("members by visits", "visits (count)"),
    };
    let bars: Vec<Bar> = r
        .rows
        .iter()
        .map(|m| Bar {
            label: m.member.to_string(),
            value: match r.by {
                RankBy::Ltv => yuan(m.ltv),
                RankBy::Spend => yuan(m.spend),
                RankBy::Visits => count(m.visits),
            },
        })
        .collect();
    bars_svg(title, unit, "member", &bars)
}

/// Horizontal bars, the first at the top, each labelled on the left; the value axis starts
/// at zero (negative values are drawn as zero-length bars).
pub fn bars_svg(title: &str, unit: &str, what: &str, bars: &[Bar]) -> Result<String, ChartError> {
    let n = index(bars.len().max(1));
    let max = bars.iter().map(|b| b.value).fold(1.0_f64, f64::max) * 1.1;
    let height = 90 + 26 * u32::try_from(bars.len().max(1)).unwrap_or(1000).min(1000);
    svg((900, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(200)
            .build_cartesian_2d(0.0..max, (0..n).into_segmented())?;
        // The first bar at the top: bar i sits in segment n − 1 − i.
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(k) | SegmentValue::Exact(k) => usize::try_from(n - 1 - k)
                .ok()
                .and_then(|i| bars.get(i))
                .map(|b| b.label.clone())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len().max(1))
            .y_label_formatter(&label)
            .x_desc(unit)
            .y_desc(what)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let row = n - 1 - index(i);
            let mut rect = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (b.value.max(0.0), SegmentValue::Exact(row + 1)),
                ],
                BAR.filled(),
            );
            rect.set_margin(3, 3, 0, 0);
            rect
        }))?;
        Ok(())
    })
}
