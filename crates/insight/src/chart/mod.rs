//! Charts of the reports as SVG, drawn with `plotters`: the turnover time series, rankings
//! (staff, services, members) and the weekday × hour heatmap of services.
//!
//! Text stays text in SVG, so no font file is needed: every label names a list of font
//! families that covers Chinese, Japanese and Korean ([`FONT`]) and the viewer's browser picks
//! the first it has. Money axes are in yuan (¥), counts are plain numbers.

mod heatmap;
mod ranking;
mod series;

pub use heatmap::heatmap;
pub use ranking::{members, services, staff, Bar};
pub use series::turnover;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, IntoDrawingArea, SVGBackend, WHITE};
use rust_decimal::prelude::ToPrimitive;

/// The font families of every label, CJK-safe: the first the viewer has is used.
pub const FONT: &str = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, WenQuanYi Micro Hei, sans-serif";

/// The colour of a bar or a line: `#4E79A7`.
pub const BAR: plotters::style::RGBColor = plotters::style::RGBColor(0x4E, 0x79, 0xA7);

/// The second line's colour: `#F28E2B`.
pub const SECOND: plotters::style::RGBColor = plotters::style::RGBColor(0xF2, 0x8E, 0x2B);

/// A chart that could not be drawn (plotters' error, as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartError(pub String);

impl std::fmt::Display for ChartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the chart could not be drawn: {}", self.0)
    }
}

impl std::error::Error for ChartError {}

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for ChartError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> ChartError {
        ChartError(e.to_string())
    }
}

/// Draws on a white `width × height` SVG and returns its text.
pub(crate) fn svg(
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), ChartError>,
) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    Ok(out)
}

/// Cents as yuan, for an axis.
pub(crate) fn yuan(cents: i128) -> f64 {
    rust_decimal::Decimal::from_i128_with_scale(cents, 2)
        .to_f64()
        .unwrap_or(0.0)
}

/// A count, for an axis.
pub(crate) fn count(n: u64) -> f64 {
    rust_decimal::Decimal::from(n).to_f64().unwrap_or(0.0)
}

/// An index, for a coordinate.
pub(crate) fn index(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}
