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

/// Powers of ten spanning `[lo, hi]`, padded by one decade each side.
fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.max(1e-12);
    let hi = hi.max(lo * 1.0001);
    (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
    )
}

const ROW_PX: u32 = 26;

/// The label of the row at category coordinate `y` (rows sit on integers).
fn row_label(labels: &[String], y: f64) -> String {
    let i = y.round();
    if (y - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}
/// Width of every chart, px (PNGs are readable at this width).
const WIDTH_PX: u32 = 1200;

/// Horizontal boxes of durations (ns) on a log axis, sorted by median.
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn draw_distribution<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    boxes: &[BoxStats],
) -> Result<(), PlotError> {
    let mut boxes = boxes.to_vec();
    boxes.sort_by(|a, b| a.p50.total_cmp(&b.p50));
    let (lo, hi) = decades(
        boxes.iter().map(|b| b.p1).fold(f64::INFINITY, f64::min),
        boxes.iter().map(|b| b.p99).fold(0.0, f64::max),
    );
    let rows = boxes.len().max(1);
    root.fill(&WHITE).or_plot(title)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(230)
        .build_cartesian_2d((lo..hi).log_scale(), -0.5f64..(rows as f64 - 0.5))
        .or_plot(title)?;
    let labels: Vec<String> = boxes
        .iter()
        .map(|b| format!("{} (n={})", b.label, b.n))
        .collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("time (log scale)")
        .x_label_formatter(&|v| format_ns(v.round() as u64))
        .y_labels(rows)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .draw()
        .or_plot(title)?;
    for (i, b) in boxes.iter().enumerate() {
        let y = i as f64;
        let c = PALETTE[i % PALETTE.len()];
        let whisker = ShapeStyle::from(&c).stroke_width(1);
        chart
            .draw_series([
                PathElement::new(vec![(b.p1, y), (b.p99, y)], whisker),
                PathElement::new(vec![(b.p1, y - 0.2), (b.p1, y + 0.2)], whisker),
                PathElement::new(vec![(b.p99, y - 0.2), (b.p99, y + 0.2)], whisker),
            ])
            .or_plot(title)?;
        chart
            .draw_series([Rectangle::new(
                [(b.p25, y - 0.3), (b.p75.max(b.p25 * 1.0001), y + 0.3)],
                ShapeStyle::from(&c.mix(0.35)).filled(),
            )])
            .or_plot(title)?;
        // The median's 95 % interval as a dark band, the median as a tick.
        chart
            .draw_series([
                Rectangle::new(
                    [
                        (b.ci_low, y - 0.12),
                        (b.ci_high.max(b.ci_low * 1.0001), y + 0.12),
                    ],
                    ShapeStyle::from(&BLACK.mix(0.55)).filled(),
                ),
                Rectangle::new(
                    [(b.p50 / 1.004, y - 0.38), (b.p50 * 1.004, y + 0.38)],
                    ShapeStyle::from(&BLACK).filled(),
                ),
            ])
            .or_plot(title)?;
    }
    Ok(())
}

/// Ratios with intervals on a log axis, with vertical reference lines
/// (`(value, label)`; name them in `axis`).
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn draw_ratio<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    axis: &str,
    rows: &[RatioRow],
    references: &[(f64, String)],
) -> Result<(), PlotError> {
    let finite_hi = rows
        .iter()
        .map(|r| {
            if r.high.is_finite() && r.high < 1e300 {
                r.high
            } else {
                r.value
            }
        })
        .chain(references.iter().map(|(v, _)| *v))
        .fold(0.0, f64::max);
    let min_lo = rows
        .iter()
        .map(|r| r.low.max(1e-3))
        .chain(references.iter().map(|(v, _)| *v))
        .fold(f64::INFINITY, f64::min);
    // Ratios near 1× (a comparison of two runs) get a tight axis; slowdowns
    // spanning decades get whole decades.
    let (lo, hi) = if min_lo >= 0.5 && finite_hi <= 2.0 {
        (min_lo / 1.05, finite_hi * 1.05)
    } else {
        decades(min_lo, finite_hi)
    };
    let n = rows.len().max(1);
    root.fill(&WHITE).or_plot(title)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(300)
        .build_cartesian_2d((lo..hi).log_scale(), -0.5f64..(n as f64 - 0.5))
        .or_plot(title)?;
    let labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(axis)
        .x_label_formatter(&|v| format!("{}×", (v * 1000.0).round() / 1000.0))
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .draw()
        .or_plot(title)?;
    // Reference lines, named in the axis description (a legend box
    // would hide the rows under it).
    for (v, _) in references {
        chart
            .draw_series([PathElement::new(
                vec![(*v, -0.5), (*v, n as f64 - 0.5)],
                ShapeStyle::from(&RED.mix(0.6)).stroke_width(1),
            )])
            .or_plot(title)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let y = i as f64;
        let c = PALETTE[i % PALETTE.len()];
        let high = if r.high.is_finite() && r.high < 1e300 {
            r.high
        } else {
            hi
        };
        chart
            .draw_series([
                PathElement::new(
                    vec![(r.low.max(lo), y), (high, y)],
                    ShapeStyle::from(&c).stroke_width(3),
                ),
                PathElement::new(
                    vec![(r.value, y - 0.3), (r.value, y + 0.3)],
                    ShapeStyle::from(&BLACK).stroke_width(2),
                ),
            ])
            .or_plot(title)?;
    }
    Ok(())
}

/// Formats an axis value for a person.
pub type AxisFormat = fn(f64) -> String;

/// Bytes, binary units.
pub fn axis_bytes(v: f64) -> String {
    format_bytes(v.max(0.0).round() as u64)
}

/// Nanoseconds, scaled.
pub fn axis_ns(v: f64) -> String {
    format_ns(v.max(0.0).round() as u64)
}

/// A count.
pub fn axis_count(v: f64) -> String {
    format!("{v}")
}

/// The HDR percentile axis: `x = 1 / (1 − q)` shown as the percentile.
pub fn axis_percentile(x: f64) -> String {
    let q = 100.0 * (1.0 - 1.0 / x.max(1.0));
    if q >= 99.0 {
        format!("{q:.1}%")
    } else {
        format!("{q:.0}%")
    }
}

/// Lines of y against x on log–log axes, one per curve, axes labelled by
/// `x_fmt` and `y_fmt`.
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    (x_desc, x_fmt): (&str, AxisFormat),
    (y_desc, y_fmt): (&str, AxisFormat),
    curves: &[Curve],
) -> Result<(), PlotError> {
    let pts = || {
        curves
            .iter()
            .flat_map(|c| c.points.iter())
            .filter(|(_, y)| *y > 0.0)
    };
    let (xlo, xhi) = decades(1.0, pts().map(|p| p.0).fold(1.0, f64::max));
    let (ylo, yhi) = decades(
        pts().map(|p| p.1).fold(f64::INFINITY, f64::min),
        pts().map(|p| p.1).fold(0.0, f64::max),
    );
    root.fill(&WHITE).or_plot(title)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d((xlo..xhi).log_scale(), (ylo..yhi).log_scale())
        .or_plot(title)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| x_fmt(*v))
        .y_label_formatter(&|v| y_fmt(*v))
        .draw()
        .or_plot(title)?;
    for (i, c) in curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = c.points.iter().copied().filter(|(_, y)| *y > 0.0).collect();
        labelled_line(&mut chart, points.clone(), color, &c.label, title)?;
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .or_plot(title)?;
    }
    legend(&mut chart, title)
}

/// One labelled line through `points` in `color` (its legend entry a short
/// stroke of the same colour).
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn labelled_line<'a, DB: DrawingBackend + 'a, CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: Vec<(f64, f64)>,
    color: RGBColor,
    label: &str,
    title: &str,
) -> Result<(), PlotError> {
    chart
        .draw_series(LineSeries::new(
            points,
            ShapeStyle::from(&color).stroke_width(2),
        ))
        .or_plot(title)?
        .label(label.to_string())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    Ok(())
}

/// The legend of the labelled lines, upper right on a light box.
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    title: &str,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .or_plot(title)
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

/// A figure across runs: x is the run (in the order given), y the value
/// on a log axis with its interval as an error bar, one line per series.
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn draw_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    runs: &[String],
    (y_desc, y_fmt): (&str, AxisFormat),
    series: &[TrendSeries],
) -> Result<(), PlotError> {
    let values = || {
        series
            .iter()
            .flat_map(|s| s.points.iter().flatten())
            .flat_map(|(v, l, h)| [*v, *l, *h])
            .filter(|v| *v > 0.0 && v.is_finite())
    };
    let (ylo, yhi) = decades(
        values().fold(f64::INFINITY, f64::min),
        values().fold(0.0, f64::max),
    );
    let k = runs.len().max(1);
    root.fill(&WHITE).or_plot(title)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..(k as f64 - 0.5), (ylo..yhi).log_scale())
        .or_plot(title)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(k)
        .x_label_formatter(&|x| row_label(runs, *x))
        .y_desc(y_desc)
        .y_label_formatter(&|v| y_fmt(*v))
        .draw()
        .or_plot(title)?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .enumerate()
            .filter_map(|(x, p)| p.map(|(v, _, _)| (x as f64, v)))
            .filter(|(_, v)| *v > 0.0)
            .collect();
        labelled_line(&mut chart, points, color, &s.label, title)?;
        for (x, p) in s.points.iter().enumerate() {
            let Some((v, l, h)) = p else { continue };
            if *v <= 0.0 {
                continue;
            }
            let x = x as f64;
            chart
                .draw_series([
                    PathElement::new(
                        vec![(x, l.max(ylo)), (x, h.min(yhi))],
                        ShapeStyle::from(&color).stroke_width(1),
                    ),
                    PathElement::new(vec![(x - 0.05, *v), (x + 0.05, *v)], color.stroke_width(3)),
                ])
                .or_plot(title)?;
        }
    }
    legend(&mut chart, title)
}

/// One bar of a [`phase_chart`]: a target's phases in timeline order.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseBar {
    /// Row label (target and its `t_ready` median).
    pub label: String,
    /// `(phase name, median ns)` in timeline order.
    pub phases: Vec<(String, f64)>,
}

/// Where each target's `t_ready` goes: one bar per target, its phases'
/// medians stacked as shares of their sum (100 % bars: a 300 µs pooled start
/// and a 300 ms container start stay readable on one chart; the label gives
/// the absolute median). `order` names every phase in timeline order and
/// fixes its colour.
///
/// Errors: a plotters backend error (as [`PlotError`]).
fn draw_phases<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[PhaseBar],
    order: &[String],
) -> Result<(), PlotError> {
    let n = bars.len().max(1);
    root.fill(&WHITE).or_plot(title)?;
    // The legend gets its own strip on the right: it never hides a bar.
    let (area, legend) = root.split_horizontally(WIDTH_PX - 190);
    let mut chart = ChartBuilder::on(&area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(300)
        .build_cartesian_2d(0f64..100f64, -0.5f64..(n as f64 - 0.5))
        .or_plot(title)?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("share of the sum of the phase medians (%)")
        .y_labels(n)
        .y_label_formatter(&|y| row_label(&labels, *y))
        .draw()
        .or_plot(title)?;
    let colour = |name: &str| {
        let i = order.iter().position(|p| p == name).unwrap_or(0);
        PALETTE[i % PALETTE.len()]
    };
    for (i, b) in bars.iter().enumerate() {
        let total: f64 = b.phases.iter().map(|(_, v)| v).sum::<f64>().max(1.0);
        let mut x = 0.0;
        for (name, v) in &b.phases {
            let w = v / total * 100.0;
            chart
                .draw_series([Rectangle::new(
                    [(x, i as f64 - 0.35), (x + w, i as f64 + 0.35)],
                    ShapeStyle::from(&colour(name)).filled(),
                )])
                .or_plot(title)?;
            x += w;
        }
    }
    // Legend: one entry per phase, in timeline order.
    for (k, name) in order.iter().enumerate() {
        let y = 50 + 20 * k as i32;
        legend
            .draw(&Rectangle::new(
                [(8, y - 6), (22, y + 6)],
                colour(name).filled(),
            ))
            .or_plot(title)?;
        legend
            .draw(&Text::new(name.clone(), (28, y - 7), ("sans-serif", 13)))
            .or_plot(title)?;
    }
    Ok(())
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
