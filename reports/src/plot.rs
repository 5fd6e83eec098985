//! Charts, drawn with plotters: one drawing function per kind of [`Chart`],
//! generic over the backend, so that the SVG inlined by the HTML report and
//! the PNG files (`--format png`) are the same chart.
//!
//! - [`distribution_chart`]: per target, a box from a recorded HDR histogram
//!   (p1–p99 whiskers, p25–p75 box, the median with its 95 % interval) on a
//!   log time axis, targets sorted by median;
//! - [`ratio_chart`]: per row, a ratio with its interval on a log axis with
//!   reference lines (slowdown against native: 1×, 1.25×, 13.5×);
//! - [`curve_chart`]: y against x on log–log axes, one line per series
//!   (bytes per instance or the N-th instance's `t_ready` as instances are
//!   added; latency against percentile, HDR style).
//! - [`phase_chart`]: where each target's `t_ready` goes, phase by phase;
//! - [`trend_chart`]: a figure with its interval across runs (`compare`
//!   with more than two runs).

use crate::{format_bytes, format_ns};
use plotters::coord::combinators::IntoLogRange;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use std::path::Path;
mod draw;
pub use draw::*;

/// Colours of the series, in order (colour-blind-safe Okabe–Ito palette).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(240, 228, 66),
];

/// A chart failed to draw (a plotters backend error, as text).
#[derive(Debug, thiserror::Error)]
#[error("chart `{title}` could not be drawn: {message}")]
pub struct PlotError {
    /// The chart's title.
    pub title: String,
    /// What plotters said.
    pub message: String,
}

/// One box of a [`distribution_chart`], values in ns.
#[derive(Debug, Clone, PartialEq)]
pub struct BoxStats {
    /// Row label (a target id).
    pub label: String,
    /// Samples.
    pub n: u64,
    /// 1st percentile.
    pub p1: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub p50: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Lower end of the median's 95 % interval.
    pub ci_low: f64,
    /// Upper end of the median's 95 % interval.
    pub ci_high: f64,
}

/// One row of a [`ratio_chart`].
#[derive(Debug, Clone, PartialEq)]
pub struct RatioRow {
    /// Row label.
    pub label: String,
    /// Point estimate.
    pub value: f64,
    /// Lower end of the 95 % interval.
    pub low: f64,
    /// Upper end of the 95 % interval (may be infinite: drawn to the edge).
    pub high: f64,
}

/// One line of a [`curve_chart`]: (N, y) points.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Series label.
    pub label: String,
    /// Points, N ascending.
    pub points: Vec<(f64, f64)>,
}

/// A plotters result as a [`PlotError`] naming the chart.
trait OrPlot<T> {
    fn or_plot(self, title: &str) -> Result<T, PlotError>;
}

impl<T, E: std::fmt::Display> OrPlot<T> for Result<T, E> {
    fn or_plot(self, title: &str) -> Result<T, PlotError> {
        self.map_err(|e| PlotError {
            title: title.to_string(),
            message: e.to_string(),
        })
    }
}

/// One line of a [`trend_chart`]: a figure per run, absent where the run
/// does not have it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendSeries {
    /// Series label (`workload/target`).
    pub label: String,
    /// Per run, in the chart's run order: `(value, low, high)`.
    pub points: Vec<Option<(f64, f64, f64)>>,
}

/// One bar of a [`phase_chart`]: a target's phases in timeline order.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseBar {
    /// Row label (target and its `t_ready` median).
    pub label: String,
    /// `(phase name, median ns)` in timeline order.
    pub phases: Vec<(String, f64)>,
}

/// The font every chart's text is drawn with (DejaVu Sans Mono, Bitstream
/// Vera licence: `reports/fonts/DejaVu-LICENSE.txt`), embedded so that no
/// system font is needed for PNGs.
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSansMono.ttf");

/// Registers [`FONT`] as `sans-serif` once per process.
fn register_font() -> Result<(), PlotError> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *ONCE.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError {
            title: "font".into(),
            message: "the embedded font does not parse".into(),
        })
    }
}

/// A chart with its data: drawn as SVG text (the HTML report) or a PNG file,
/// the same drawing code for both.
#[derive(Debug, Clone)]
pub enum Chart {
    /// Boxes of durations on a log axis ([`BoxStats`]).
    Distribution {
        /// Title.
        title: String,
        /// One box per target.
        boxes: Vec<BoxStats>,
    },
    /// Ratios with intervals on a log axis, with reference lines.
    Ratio {
        /// Title.
        title: String,
        /// X axis description (name the reference lines here).
        axis: String,
        /// One row per cell.
        rows: Vec<RatioRow>,
        /// `(value, name)` of each reference line.
        references: Vec<(f64, String)>,
    },
    /// Lines on log–log axes.
    Curves {
        /// Title.
        title: String,
        /// X axis description and format.
        x: (String, AxisFormat),
        /// Y axis description and format.
        y: (String, AxisFormat),
        /// One line per series.
        curves: Vec<Curve>,
    },
    /// A figure across runs ([`TrendSeries`]).
    Trend {
        /// Title.
        title: String,
        /// Run labels, x in order.
        runs: Vec<String>,
        /// Y axis description and format.
        y: (String, AxisFormat),
        /// One line per series.
        series: Vec<TrendSeries>,
    },
    /// Phase shares per target.
    Phases {
        /// Title.
        title: String,
        /// One bar per target.
        bars: Vec<PhaseBar>,
        /// Every phase, in timeline order.
        order: Vec<String>,
    },
}

impl Chart {
    /// The chart's title.
    pub fn title(&self) -> &str {
        match self {
            Chart::Distribution { title, .. }
            | Chart::Ratio { title, .. }
            | Chart::Curves { title, .. }
            | Chart::Trend { title, .. }
            | Chart::Phases { title, .. } => title,
        }
    }

    /// Width and height, px.
    pub fn size(&self) -> (u32, u32) {
        let rows = |n: usize| ROW_PX * n.max(1) as u32;
        let h = match self {
            Chart::Distribution { boxes, .. } => 90 + rows(boxes.len()),
            Chart::Ratio { rows: r, .. } => 100 + rows(r.len()),
            Chart::Curves { .. } | Chart::Trend { .. } => 480,
            Chart::Phases { bars, order, .. } => {
                (130 + rows(bars.len())).max(80 + 20 * order.len() as u32)
            }
        };
        (WIDTH_PX, h)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        register_font()?;
        match self {
            Chart::Distribution { title, boxes } => draw_distribution(root, title, boxes),
            Chart::Ratio {
                title,
                axis,
                rows,
                references,
            } => draw_ratio(root, title, axis, rows, references),
            Chart::Curves {
                title,
                x,
                y,
                curves,
            } => draw_curves(root, title, (&x.0, x.1), (&y.0, y.1), curves),
            Chart::Trend {
                title,
                runs,
                y,
                series,
            } => draw_trend(root, title, runs, (&y.0, y.1), series),
            Chart::Phases { title, bars, order } => draw_phases(root, title, bars, order),
        }
    }

    /// The chart as SVG text.
    ///
    /// Errors: a plotters backend error (as [`PlotError`]).
    pub fn svg(&self) -> Result<String, PlotError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
            self.draw(&root)?;
            root.present().or_plot(self.title())?;
        }
        Ok(svg)
    }

    /// Writes the chart as a PNG file.
    ///
    /// Errors: a plotters backend error or a file that cannot be written
    /// (as [`PlotError`]).
    pub fn png(&self, path: &Path) -> Result<(), PlotError> {
        let root = BitMapBackend::new(path, self.size()).into_drawing_area();
        self.draw(&root)?;
        root.present()
            .map_err(|e| format!("{}: {e}", path.display()))
            .or_plot(self.title())
    }
}

/// A [`Chart::Distribution`] (boxes sorted by median when drawn).
pub fn distribution_chart(title: &str, boxes: &[BoxStats]) -> Chart {
    Chart::Distribution {
        title: title.to_string(),
        boxes: boxes.to_vec(),
    }
}

/// A [`Chart::Ratio`] with reference lines `(value, name)`.
pub fn ratio_chart(
    title: &str,
    axis: &str,
    rows: &[RatioRow],
    references: &[(f64, &str)],
) -> Chart {
    Chart::Ratio {
        title: title.to_string(),
        axis: axis.to_string(),
        rows: rows.to_vec(),
        references: references
            .iter()
            .map(|(v, n)| (*v, n.to_string()))
            .collect(),
    }
}

/// A [`Chart::Curves`].
pub fn curve_chart(
    title: &str,
    x: (&str, AxisFormat),
    y: (&str, AxisFormat),
    curves: &[Curve],
) -> Chart {
    Chart::Curves {
        title: title.to_string(),
        x: (x.0.to_string(), x.1),
        y: (y.0.to_string(), y.1),
        curves: curves.to_vec(),
    }
}

/// A [`Chart::Trend`].
pub fn trend_chart(
    title: &str,
    runs: &[String],
    y: (&str, AxisFormat),
    series: &[TrendSeries],
) -> Chart {
    Chart::Trend {
        title: title.to_string(),
        runs: runs.to_vec(),
        y: (y.0.to_string(), y.1),
        series: series.to_vec(),
    }
}

/// A [`Chart::Phases`].
pub fn phase_chart(title: &str, bars: &[PhaseBar], order: &[String]) -> Chart {
    Chart::Phases {
        title: title.to_string(),
        bars: bars.to_vec(),
        order: order.to_vec(),
    }
}
