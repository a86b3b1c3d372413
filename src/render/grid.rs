//! Small multiples against maxSockets: a grid of panels (rows = metrics, columns = client
//! modes), a title, a subtitle and a legend drawn above the panels.
//!
//! The legend sits outside the plot areas so it can never hide a line, whatever the data. Failed
//! points get a red ✕ in a ring on top of the line, and the legend explains it whenever the
//! figure holds one.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::MaxSocketsAxis;
use super::color::{FAILED_LABEL, FAILURE_RED};
use super::format::short_number;
use super::{ChartError, chart_err};

/// Width of every line chart, in pixels (the HTML shows it at up to this size).
pub(crate) const WIDTH: u32 = 1200;
const FONT: &str = "sans-serif";
const TITLE_SIZE: u32 = 26;
const SUBTITLE_SIZE: u32 = 16;
const LEGEND_SIZE: u32 = 16;
const CAPTION_SIZE: u32 = 18;
const AXIS_DESC_SIZE: u32 = 16;
const TICK_SIZE: u32 = 15;
const LEGEND_ROW: i32 = 24;
const GRID_COLOR: RGBColor = RGBColor(228, 228, 228);
const TEXT_GREY: RGBColor = RGBColor(90, 90, 90);

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dash {
    /// A solid line.
    Solid,
    /// A dashed line.
    Dashed,
}

/// One value of a series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SeriesPoint {
    /// maxSockets; `None` is Infinity.
    pub(crate) x: Option<u32>,
    /// The value.
    pub(crate) y: f64,
    /// A (low, high) range drawn as a translucent band around the line.
    pub(crate) band: Option<(f64, f64)>,
    /// Drawn with a failure marker.
    pub(crate) failed: bool,
}

/// A line in a panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    /// Line colour.
    pub(crate) color: RGBColor,
    /// Line style.
    pub(crate) dash: Dash,
    /// Points, in maxSockets order.
    pub(crate) points: Vec<SeriesPoint>,
}

/// A labelled marker on a panel, e.g. the knee.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marker {
    /// maxSockets.
    pub(crate) x: Option<u32>,
    /// Value.
    pub(crate) y: f64,
    /// Fill colour.
    pub(crate) color: RGBColor,
    /// Text above the marker (markers sharing a spot carry one label between them).
    pub(crate) label: Option<(String, RGBColor)>,
}

/// One panel: a metric for a client mode.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    /// Caption above the panel.
    pub(crate) title: String,
    /// Lines.
    pub(crate) series: Vec<Series>,
    /// Markers.
    pub(crate) markers: Vec<Marker>,
}

/// A legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum LegendItem {
    /// A line sample.
    Line {
        /// Colour.
        color: RGBColor,
        /// Style.
        dash: Dash,
        /// Text.
        label: String,
    },
    /// A band sample.
    Band {
        /// Colour.
        color: RGBColor,
        /// Text.
        label: String,
    },
    /// The knee marker.
    Marker {
        /// Text.
        label: String,
    },
    /// The failure marker.
    Failed {
        /// Text.
        label: String,
    },
}

/// A whole figure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    /// Title, top centre.
    pub(crate) title: String,
    /// Under the title: one line, or several separated by `\n` (the first one, e.g. what
    /// the chart's scenario shows, in dark text; the others grey).
    pub(crate) subtitle: String,
    /// Legend entries, laid out left to right and wrapped.
    pub(crate) legend: Vec<LegendItem>,
    /// Y-axis description of each row, with unit.
    pub(crate) y_descs: Vec<String>,
    /// Panels, `[row][column]`.
    pub(crate) panels: Vec<Vec<Panel>>,
    /// Whether panels of one row share a y range (to compare client modes by eye).
    pub(crate) shared_y: bool,
    /// Height of one row of panels, in pixels.
    pub(crate) row_height: u32,
}

impl Figure {
    /// Whether any point in the figure failed.
    pub(crate) fn has_failures(&self) -> bool {
        self.panels
            .iter()
            .flatten()
            .flat_map(|p| &p.series)
            .flat_map(|s| &s.points)
            .any(|p| p.failed)
    }
}

/// Draws `fig` as an SVG file at `path`.
pub(crate) fn draw(fig: &Figure, path: &Path) -> Result<(), ChartError> {
    let err = chart_err(path);
    let rows = fig.panels.len().max(1);
    let cols = fig.panels.iter().map(Vec::len).max().unwrap_or(1).max(1);

    // A chart with failed points always explains the red marker, whoever built the figure.
    let mut legend = fig.legend.clone();
    if fig.has_failures()
        && !legend
            .iter()
            .any(|i| matches!(i, LegendItem::Failed { .. }))
    {
        legend.push(LegendItem::Failed {
            label: FAILED_LABEL.to_owned(),
        });
    }
    // Measure the legend first: the header height depends on how many rows it wraps into.
    let mut scratch = String::new();
    let (legend_layout, sub_lines) = {
        let probe = SVGBackend::with_string(&mut scratch, (WIDTH, 100)).into_drawing_area();
        let legend = layout_legend(&probe, &legend).map_err(&err)?;
        let lines = wrap_subtitle(&probe, &fig.subtitle, SUBTITLE_SIZE).map_err(&err)?;
        (legend, lines)
    };
    let legend_rows = legend_layout
        .iter()
        .map(|e| e.row)
        .max()
        .map_or(0, |r| r + 1);
    let extra = (sub_lines.len() as u32 - 1) * 22;
    let header = 12 + 34 + 24 + extra + legend_rows as u32 * LEGEND_ROW as u32 + 10;
    let height = header + rows as u32 * fig.row_height;

    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let center = Pos::new(HPos::Center, VPos::Top);
    let title_style =
        TextStyle::from((FONT, TITLE_SIZE).into_font().style(FontStyle::Bold)).pos(center);
    root.draw_text(&fig.title, &title_style, (WIDTH as i32 / 2, 12))
        .map_err(&err)?;
    let subtitle_style = TextStyle::from((FONT, SUBTITLE_SIZE).into_font())
        .color(&TEXT_GREY)
        .pos(center);
    let note_style = TextStyle::from((FONT, SUBTITLE_SIZE).into_font().style(FontStyle::Bold))
        .color(&BLACK)
        .pos(center);
    for (i, (line, note)) in sub_lines.iter().enumerate() {
        let style = if *note { &note_style } else { &subtitle_style };
        root.draw_text(line, style, (WIDTH as i32 / 2, 12 + 34 + 22 * i as i32))
            .map_err(&err)?;
    }
    draw_legend(
        &root,
        &legend_layout,
        12 + 34 + 24 + extra as i32 + LEGEND_ROW / 2,
    )
    .map_err(&err)?;

    let (_, body) = root.split_vertically(header);
    let areas = body.split_evenly((rows, cols));
    let x_values = fig
        .panels
        .iter()
        .flatten()
        .flat_map(|p| &p.series)
        .flat_map(|s| &s.points)
        .map(|p| p.x);
    let axis = MaxSocketsAxis::new(x_values);
    let max_ticks = (WIDTH as usize / cols) / 34;

    for (r, row) in fig.panels.iter().enumerate() {
        let row_max = row.iter().map(panel_max).fold(0.0, f64::max);
        for (c, panel) in row.iter().enumerate() {
            let y_max = nice_ceiling(
                if fig.shared_y {
                    row_max
                } else {
                    panel_max(panel)
                } * 1.12,
            );
            let y_desc = fig.y_descs.get(r).map_or("", String::as_str);
            draw_panel(&areas[r * cols + c], panel, &axis, max_ticks, y_max, y_desc)
                .map_err(&err)?;
        }
    }
    root.present().map_err(&err)?;
    Ok(())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult<T> =
    Result<T, DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

fn draw_panel(
    area: &Area<'_>,
    panel: &Panel,
    axis: &MaxSocketsAxis,
    max_ticks: usize,
    y_max: f64,
    y_desc: &str,
) -> DrawResult<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(
            &panel.title,
            (FONT, CAPTION_SIZE).into_font().style(FontStyle::Bold),
        )
        .margin(10)
        .margin_right(24)
        .x_label_area_size(52)
        .y_label_area_size(72)
        .build_cartesian_2d(axis.coord(max_ticks), 0.0..y_max)?;
    let x_fmt = |v: &f64| axis.label(*v);
    let y_fmt = |v: &f64| short_number(*v);
    chart
        .configure_mesh()
        .x_desc("maxSockets (log scale)")
        .y_desc(y_desc)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_labels(6)
        .max_light_lines(0)
        .bold_line_style(GRID_COLOR)
        .light_line_style(WHITE)
        .label_style((FONT, TICK_SIZE))
        .axis_desc_style((FONT, AXIS_DESC_SIZE))
        .draw()?;

    // Bands under lines, lines under markers.
    for s in &panel.series {
        let upper: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| p.band.map(|(_, hi)| (axis.pos(p.x), hi)))
            .collect();
        if upper.len() >= 2 {
            let lower = s
                .points
                .iter()
                .rev()
                .filter_map(|p| p.band.map(|(lo, _)| (axis.pos(p.x), lo)));
            let outline: Vec<(f64, f64)> = upper.iter().copied().chain(lower).collect();
            chart.draw_series(std::iter::once(Polygon::new(
                outline,
                s.color.mix(0.18).filled(),
            )))?;
        }
    }
    for s in &panel.series {
        let pts: Vec<(f64, f64)> = s.points.iter().map(|p| (axis.pos(p.x), p.y)).collect();
        let style = s.color.stroke_width(2);
        match s.dash {
            Dash::Solid => {
                chart.draw_series(LineSeries::new(pts.clone(), style))?;
            }
            Dash::Dashed => {
                chart.draw_series(std::iter::once(DashedPathElement::new(
                    pts.clone(),
                    7,
                    5,
                    style,
                )))?;
            }
        }
        chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, s.color.filled())))?;
    }
    for s in &panel.series {
        let failed = s
            .points
            .iter()
            .filter(|p| p.failed)
            .map(|p| (axis.pos(p.x), p.y));
        chart.draw_series(failed.map(|p| {
            EmptyElement::at(p)
                + Circle::new((0, 0), 6, WHITE.mix(0.6).filled())
                + Circle::new((0, 0), 6, FAILURE_RED.stroke_width(2))
                + Cross::new((0, 0), 3, FAILURE_RED.stroke_width(2))
        }))?;
    }
    let font = (FONT, LEGEND_SIZE).into_font().style(FontStyle::Bold);
    for m in &panel.markers {
        let at = (axis.pos(m.x), m.y);
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + TriangleMarker::new((0, -2), 9, m.color.filled())
                + TriangleMarker::new((0, -2), 9, BLACK.stroke_width(1)),
        ))?;
    }
    // Labels last, on a white plate, so lines and other markers never cross the text. Each
    // goes above its marker, inside the plot (never over the axis labels), and is moved up
    // past the labels already placed (or below its marker when there is no room above), so
    // that knees at the same or neighbouring maxSockets stay readable.
    let (x_range, y_range) = chart.plotting_area().get_pixel_range();
    let mut placed: Vec<LabelBox> = Vec::new();
    for m in &panel.markers {
        let Some((text, color)) = &m.label else {
            continue;
        };
        let at = (axis.pos(m.x), m.y);
        let (w, h) = area.estimate_text_size(text, &TextStyle::from(font.clone()))?;
        let (cx, cy) = chart.backend_coord(&at);
        let label = place_label(
            (cx, cy),
            (w as i32, h as i32),
            (x_range.clone(), y_range.clone()),
            &placed,
        );
        placed.push(label);
        let (dx, dy) = (label.left + label.w / 2 - cx, label.bottom - cy);
        let style = TextStyle::from(font.clone())
            .color(color)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(std::iter::once(
            EmptyElement::at(at)
                + Rectangle::new(
                    [(dx - label.w / 2, dy - label.h), (dx + label.w / 2, dy)],
                    WHITE.mix(0.85).filled(),
                )
                + Text::new(text.clone(), (dx, dy - 2), style),
        ))?;
    }
    Ok(())
}

/// A label's plate in pixels: left edge, bottom edge, width and height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LabelBox {
    left: i32,
    bottom: i32,
    w: i32,
    h: i32,
}

impl LabelBox {
    fn overlaps(&self, o: &LabelBox) -> bool {
        self.left < o.left + o.w
            && o.left < self.left + self.w
            && self.bottom - self.h < o.bottom
            && o.bottom - o.h < self.bottom
    }
}

/// Where the label (text of size `text`) of a marker at pixel `at` goes: centred 16 px above
/// it, shifted into the plot `area` (x and y pixel ranges), and moved up past `placed` labels
/// it would cover; when that leaves the plot, below the marker instead, moved down likewise.
fn place_label(
    at: (i32, i32),
    text: (i32, i32),
    area: (std::ops::Range<i32>, std::ops::Range<i32>),
    placed: &[LabelBox],
) -> LabelBox {
    let (w, h) = (text.0 + 8, text.1 + 4);
    let (xs, ys) = area;
    let left = (at.0 - w / 2).min(xs.end - w).max(xs.start);
    let step = h + 2;
    let free = |b: &LabelBox| !placed.iter().any(|p| p.overlaps(b));
    let mut up = LabelBox {
        left,
        bottom: at.1 - 16,
        w,
        h,
    };
    while !free(&up) {
        up.bottom -= step;
    }
    if up.bottom - h >= ys.start {
        return up;
    }
    let mut down = LabelBox {
        left,
        bottom: at.1 + 14 + h,
        w,
        h,
    };
    while !free(&down) && down.bottom < ys.end + 10 * step {
        down.bottom += step;
    }
    down
}

/// Largest value drawn in a panel, bands and markers included.
fn panel_max(p: &Panel) -> f64 {
    let series = p
        .series
        .iter()
        .flat_map(|s| &s.points)
        .map(|pt| pt.band.map_or(pt.y, |(_, hi)| hi.max(pt.y)));
    series
        .chain(p.markers.iter().map(|m| m.y))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Rounds a positive axis maximum up to a round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
/// × 10ⁿ) so tick labels are round without wasting much height. An all-zero panel gets 0..5, so
/// counts do not show fractional ticks.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 5.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * mag)
}

/// A legend entry placed at `x` on legend row `row`.
struct Placed<'a> {
    item: &'a LegendItem,
    row: usize,
    x: i32,
}

const SWATCH: i32 = 30;

fn legend_text(item: &LegendItem) -> &str {
    match item {
        LegendItem::Line { label, .. }
        | LegendItem::Band { label, .. }
        | LegendItem::Marker { label }
        | LegendItem::Failed { label } => label,
    }
}

/// The subtitle's lines, each `\n`-separated line wrapped at spaces to fit the figure's
/// width, with whether it is the note (the first line, when there are several).
pub(crate) fn wrap_subtitle<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    subtitle: &str,
    size: u32,
) -> Result<Vec<(String, bool)>, DrawingAreaErrorKind<DB::ErrorType>> {
    let style = TextStyle::from((FONT, size).into_font().style(FontStyle::Bold));
    let max = WIDTH - 40;
    let given: Vec<&str> = subtitle.split('\n').collect();
    let mut out = Vec::new();
    for (i, text) in given.iter().enumerate() {
        let note = i == 0 && given.len() > 1;
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && area.estimate_text_size(&candidate, &style)?.0 > max {
                out.push((std::mem::take(&mut line), note));
                line = word.to_owned();
            } else {
                line = candidate;
            }
        }
        out.push((line, note));
    }
    Ok(out)
}

fn layout_legend<'a>(area: &Area<'_>, items: &'a [LegendItem]) -> DrawResult<Vec<Placed<'a>>> {
    let style = TextStyle::from((FONT, LEGEND_SIZE).into_font());
    let widths: Vec<i32> = items
        .iter()
        .map(|it| {
            area.estimate_text_size(legend_text(it), &style)
                .map(|(w, _)| SWATCH + 8 + w as i32 + 26)
        })
        .collect::<Result<_, _>>()?;
    // Rows are filled greedily, then each row is centred.
    let max_w = WIDTH as i32 - 40;
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, w) in widths.iter().enumerate() {
        if used + w > max_w && used > 0 {
            rows.push(Vec::new());
            used = 0;
        }
        if let Some(r) = rows.last_mut() {
            r.push(i);
        }
        used += w;
    }
    let mut placed = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let total: i32 = row.iter().map(|&i| widths[i]).sum();
        let mut x = (WIDTH as i32 - total) / 2;
        for &i in row {
            placed.push(Placed {
                item: &items[i],
                row: r,
                x,
            });
            x += widths[i];
        }
    }
    Ok(placed)
}

fn draw_legend(area: &Area<'_>, placed: &[Placed<'_>], top: i32) -> DrawResult<()> {
    let text_style =
        TextStyle::from((FONT, LEGEND_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for p in placed {
        let y = top + p.row as i32 * LEGEND_ROW;
        let (x0, x1, mid) = (p.x, p.x + SWATCH, p.x + SWATCH / 2);
        match p.item {
            LegendItem::Line {
                color,
                dash: Dash::Solid,
                ..
            } => {
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    color.stroke_width(2),
                ))?;
                area.draw(&Circle::new((mid, y), 3, color.filled()))?;
            }
            LegendItem::Line {
                color,
                dash: Dash::Dashed,
                ..
            } => {
                area.draw(&DashedPathElement::new(
                    vec![(x0, y), (x1, y)],
                    7,
                    5,
                    color.stroke_width(2),
                ))?;
            }
            LegendItem::Band { color, .. } => {
                area.draw(&Rectangle::new(
                    [(x0, y - 8), (x1, y + 8)],
                    color.mix(0.18).filled(),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    color.stroke_width(2),
                ))?;
            }
            LegendItem::Marker { .. } => {
                area.draw(&TriangleMarker::new((mid, y - 1), 9, TEXT_GREY.filled()))?;
                area.draw(&TriangleMarker::new((mid, y - 1), 9, BLACK.stroke_width(1)))?;
            }
            LegendItem::Failed { .. } => {
                area.draw(&Circle::new((mid, y), 8, FAILURE_RED.stroke_width(2)))?;
                area.draw(&Cross::new((mid, y), 4, FAILURE_RED.stroke_width(2)))?;
            }
        }
        area.draw_text(legend_text(p.item), &text_style, (x1 + 8, y))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 5.0);
        assert_eq!(nice_ceiling(0.7), 0.8);
        assert_eq!(nice_ceiling(3.2), 4.0);
        assert_eq!(nice_ceiling(2100.0), 2500.0);
        assert_eq!(nice_ceiling(3600.0), 4000.0);
        assert_eq!(nice_ceiling(10.0), 10.0);
    }

    #[test]
    fn labels_of_knees_at_one_spot_stack_inside_the_plot() {
        let area = (80..500, 40..400);
        let mut placed = Vec::new();
        // Three SDKs with their knee at the same point, then one at the left edge.
        for _ in 0..3 {
            let b = place_label((300, 200), (120, 14), area.clone(), &placed);
            assert!(placed.iter().all(|p: &LabelBox| !p.overlaps(&b)), "{b:?}");
            assert!(b.bottom <= 200 - 16, "above the marker: {b:?}");
            placed.push(b);
        }
        let edge = place_label((82, 300), (120, 14), area.clone(), &placed);
        assert_eq!(edge.left, 80, "not over the y axis's labels");
        // No room above: below the marker.
        let top = place_label((300, 45), (120, 14), area, &placed);
        assert!(top.bottom - top.h > 45, "{top:?}");
    }
}
