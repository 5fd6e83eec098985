//! The drawing of each chart kind on a plotters backend (SVG or PNG alike):
//! distributions on a log axis, ratios with reference lines, curves against N,
//! trends and phase bars.

use super::*;

/// Powers of ten spanning `[lo, hi]`, padded by one decade each side.
pub(super) fn decades(lo: f64, hi: f64) -> (f64, f64) {
    let lo = lo.max(1e-12);
    let hi = hi.max(lo * 1.0001);
    (
        10f64.powf(lo.log10().floor()),
        10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)),
    )
}

pub(super) const ROW_PX: u32 = 26;

/// The label of the row at category coordinate `y` (rows sit on integers).
pub(super) fn row_label(labels: &[String], y: f64) -> String {
    let i = y.round();
    if (y - i).abs() < 1e-6 && i >= 0.0 {
        labels.get(i as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Width of every chart, px (PNGs are readable at this width).
pub(super) const WIDTH_PX: u32 = 1200;

/// Horizontal boxes of durations (ns) on a log axis, sorted by median.
///
/// Errors: a plotters backend error (as [`PlotError`]).
pub(super) fn draw_distribution<DB: DrawingBackend>(
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
pub(super) fn draw_ratio<DB: DrawingBackend>(
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
pub(super) fn draw_curves<DB: DrawingBackend>(
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
pub(super) fn labelled_line<'a, DB: DrawingBackend + 'a, CT: CoordTranslate<From = (f64, f64)>>(
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
pub(super) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
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

/// A figure across runs: x is the run (in the order given), y the value
/// on a log axis with its interval as an error bar, one line per series.
///
/// Errors: a plotters backend error (as [`PlotError`]).
pub(super) fn draw_trend<DB: DrawingBackend>(
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

/// Where each target's `t_ready` goes: one bar per target, its phases'
/// medians stacked as shares of their sum (100 % bars: a 300 µs pooled start
/// and a 300 ms container start stay readable on one chart; the label gives
/// the absolute median). `order` names every phase in timeline order and
/// fixes its colour.
///
/// Errors: a plotters backend error (as [`PlotError`]).
pub(super) fn draw_phases<DB: DrawingBackend>(
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
