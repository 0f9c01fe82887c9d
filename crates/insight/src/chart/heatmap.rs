//! The weekday × hour heatmap of service visits.

use plotters::coord::ranged1d::{IntoSegmentedCoord, SegmentValue};
use plotters::prelude::{ChartBuilder, Rectangle};
use plotters::style::{Color, RGBColor};

use super::{index, svg, ChartError, FONT};
use crate::report::Services;

/// The weekday names, Monday first.
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The grid of visits: 7 rows (Monday at the top) of 24 hours, each cell's colour from pale
/// (no visit) to dark blue (the busiest hour).
pub fn heatmap(r: &Services) -> Result<String, ChartError> {
    let max = r
        .heatmap
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let title = format!(
        "visits by weekday and hour (UTC{:+}; darkest = {max} visits)",
        r.utc_offset_hours
    );
    svg((900, 340), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(&title, (FONT, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d((0..24).into_segmented(), (0..7).into_segmented())?;
        let day = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(d) | SegmentValue::Exact(d) => usize::try_from(6 - d)
                .ok()
                .and_then(|d| DAYS.get(d))
                .map(|s| (*s).to_owned())
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        let hour = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(h) | SegmentValue::Exact(h) => format!("{h}"),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(24)
            .y_labels(7)
            .x_label_formatter(&hour)
            .y_label_formatter(&day)
            .x_desc("hour of day (local)")
            .y_desc("weekday")
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .draw()?;
        let cells = r.heatmap.iter().enumerate().flat_map(|(d, hours)| {
            hours.iter().enumerate().map(move |(h, &n)| {
                let (x, y) = (index(h), 6 - index(d));
                Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
                    ],
                    shade(n, max).filled(),
                )
            })
        });
        chart.draw_series(cells)?;
        Ok(())
    })
}

/// From `#F7FBFF` (none) to `#08306B` (`max`), in proportion.
fn shade(n: u64, max: u64) -> RGBColor {
    let mix = |a: u8, b: u8| -> u8 {
        let (a, b) = (i128::from(a), i128::from(b));
        let v = a + (b - a) * i128::from(n) / i128::from(max);
        u8::try_from(v.clamp(0, 255)).unwrap_or(0)
    };
    RGBColor(mix(0xF7, 0x08), mix(0xFB, 0x30), mix(0xFF, 0x6B))
}
