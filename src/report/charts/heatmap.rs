//! Chart (d), `heatmap.svg`: median objects/s over batch size × maxSockets, one panel per client
//! mode stacked vertically, each cell coloured and labelled with its value, one colour scale for
//! all panels (bar on the right). Failed cells get a red border, a red corner flag and a ✕ after
//! the value; the knee of each row is marked ▲.
//!
//! Drawn in pixel coordinates rather than with a plotters chart: cells are categorical (one per
//! swept value, equally wide) and every label position is under our control.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::metrics::{display_max_sockets, max_sockets_sort_key};
use crate::render::color::{FAILED_LABEL, FAILURE_RED};
use crate::render::format::short_number;
use crate::render::{ChartError, chart_err};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeatCell {
    /// Row: batch size.
    pub(crate) batch: u32,
    /// Column: maxSockets; `None` is Infinity.
    pub(crate) max_sockets: Option<u32>,
    /// Median objects/s.
    pub(crate) value: f64,
    /// The point failed.
    pub(crate) failed: bool,
    /// The recommendation's knee for this client and batch.
    pub(crate) knee: bool,
}

/// One client mode's cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeatPanel {
    /// Client mode name.
    pub(crate) client: String,
    /// Cells, any order; a missing (batch, maxSockets) pair is drawn as "n/a".
    pub(crate) cells: Vec<HeatCell>,
}

/// Everything the heatmap shows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeatmapData {
    /// What the points have in common.
    pub(crate) subtitle: String,
    /// One panel per client mode.
    pub(crate) panels: Vec<HeatPanel>,
}

/// The chart's title.
pub(crate) const TITLE: &str = "Throughput heatmap: batch size × maxSockets";

const WIDTH: i32 = 1200;
const FONT: &str = "sans-serif";
/// Header height with a one-line subtitle; each further line adds [`SUBTITLE_LINE`].
const HEADER: i32 = 110;
const SUBTITLE_LINE: i32 = 22;
const LEFT: i32 = 150;
const RIGHT: i32 = 150;
const CAPTION_H: i32 = 34;
const CELL_H: i32 = 42;
const X_LABELS_H: i32 = 58;
const PANEL_GAP: i32 = 16;
const BAR_H: i32 = 260;
const TEXT_GREY: RGBColor = RGBColor(90, 90, 90);
const MISSING: RGBColor = RGBColor(236, 236, 236);

/// Viridis, sampled at five stops: dark (low) to yellow (high), perceptually even and readable
/// in greyscale.
const STOPS: [(u8, u8, u8); 5] = [
    (68, 1, 84),
    (59, 82, 139),
    (33, 145, 140),
    (94, 201, 98),
    (253, 231, 37),
];

/// The colour for `t` in [0, 1].
fn colormap(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let scaled = t * (STOPS.len() - 1) as f64;
    let i = (scaled.floor() as usize).min(STOPS.len() - 2);
    let f = scaled - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// Black text on light cells, white on dark ones.
fn text_color(bg: RGBColor) -> RGBColor {
    let lum = 0.2126 * f64::from(bg.0) + 0.7152 * f64::from(bg.1) + 0.0722 * f64::from(bg.2);
    if lum > 140.0 { BLACK } else { WHITE }
}

/// Draws the chart to `path`.
pub(crate) fn draw(data: &HeatmapData, path: &Path) -> Result<(), ChartError> {
    let err = chart_err(path);
    let mut xs: Vec<Option<u32>> = data
        .panels
        .iter()
        .flat_map(|p| p.cells.iter().map(|c| c.max_sockets))
        .collect();
    xs.sort_by_key(|x| max_sockets_sort_key(*x));
    xs.dedup();
    let mut batches: Vec<u32> = data
        .panels
        .iter()
        .flat_map(|p| p.cells.iter().map(|c| c.batch))
        .collect();
    batches.sort_unstable();
    batches.dedup();
    let v_max = data
        .panels
        .iter()
        .flat_map(|p| &p.cells)
        .map(|c| c.value)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let v_max = if v_max > 0.0 { v_max } else { 1.0 };

    let mut scratch = String::new();
    let lines = {
        let probe = SVGBackend::with_string(&mut scratch, (WIDTH as u32, 100)).into_drawing_area();
        crate::render::grid::wrap_subtitle(&probe, &data.subtitle, 16).map_err(&err)?
    };
    let header = HEADER + SUBTITLE_LINE * (lines.len().max(1) as i32 - 1);
    let panel_h = CAPTION_H + CELL_H * batches.len().max(1) as i32 + X_LABELS_H;
    // Tall enough for the colour bar and its lowest tick too (one panel of one batch is not).
    let height = (header + (panel_h + PANEL_GAP) * data.panels.len().max(1) as i32)
        .max(header + CAPTION_H + BAR_H + 30);
    let root = SVGBackend::new(path, (WIDTH as u32, height as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let cells = || data.panels.iter().flat_map(|p| &p.cells);
    draw_header(
        &root,
        &lines,
        cells().any(|c| c.failed),
        cells().any(|c| c.knee),
    )
    .map_err(&err)?;
    draw_color_bar(&root, v_max, header).map_err(&err)?;

    let grid = Grid {
        xs: &xs,
        batches: &batches,
        v_max,
        cell_w: (WIDTH - LEFT - RIGHT) / xs.len().max(1) as i32,
    };
    for (i, panel) in data.panels.iter().enumerate() {
        let top = header + i as i32 * (panel_h + PANEL_GAP);
        draw_panel(&root, panel, &grid, top).map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// Round tick values from 0 to at most `v_max`: a step of 1, 2 or 5 × 10ⁿ giving 3 to 6 ticks.
fn bar_ticks(v_max: f64) -> Vec<f64> {
    let raw = v_max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| v_max / s <= 5.0)
        .unwrap_or(10.0 * mag);
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|v| *v <= v_max * 1.0001)
        .collect()
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), DrawingAreaErrorKind<std::io::Error>>;

struct Grid<'a> {
    xs: &'a [Option<u32>],
    batches: &'a [u32],
    v_max: f64,
    cell_w: i32,
}

fn style(size: u32, pos: Pos) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).pos(pos)
}

/// Title, the subtitle's `lines` (wrapped; a note line in dark bold), and the legend note.
fn draw_header(
    root: &Area<'_>,
    lines: &[(String, bool)],
    any_failed: bool,
    any_knee: bool,
) -> DrawResult {
    let center_top = Pos::new(HPos::Center, VPos::Top);
    let title = TextStyle::from((FONT, 26).into_font().style(FontStyle::Bold)).pos(center_top);
    root.draw_text(TITLE, &title, (WIDTH / 2, 12))?;
    let mut y = 46;
    for (line, note) in lines {
        let s = if *note {
            TextStyle::from((FONT, 16).into_font().style(FontStyle::Bold))
                .color(&BLACK)
                .pos(center_top)
        } else {
            style(16, center_top).color(&TEXT_GREY)
        };
        root.draw_text(line, &s, (WIDTH / 2, y))?;
        y += SUBTITLE_LINE;
    }
    let y = y + 28 - SUBTITLE_LINE;
    let mut note = "colour and number = median objects/s (higher is better)".to_owned();
    if any_knee {
        note.push_str("   ·   ▲ = knee (recommended maxSockets)");
    }
    if any_failed {
        note.push_str(&format!("   ·   red frame and ✕ = {FAILED_LABEL}"));
    }
    root.draw_text(&note, &style(16, center_top), (WIDTH / 2, y))?;
    Ok(())
}

fn draw_color_bar(root: &Area<'_>, v_max: f64, header: i32) -> DrawResult {
    let x0 = WIDTH - RIGHT + 40;
    let y0 = header + CAPTION_H;
    let steps = 52;
    for s in 0..steps {
        // Top = high values.
        let t = 1.0 - f64::from(s) / f64::from(steps - 1);
        let ya = y0 + s * BAR_H / steps;
        let yb = y0 + (s + 1) * BAR_H / steps;
        root.draw(&Rectangle::new(
            [(x0, ya), (x0 + 22, yb)],
            colormap(t).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + 22, y0 + BAR_H)],
        BLACK.stroke_width(1),
    ))?;
    let left_mid = Pos::new(HPos::Left, VPos::Center);
    for v in bar_ticks(v_max) {
        let y = y0 + BAR_H - (v / v_max * f64::from(BAR_H)).round() as i32;
        root.draw(&PathElement::new(
            vec![(x0 + 22, y), (x0 + 27, y)],
            BLACK.stroke_width(1),
        ))?;
        root.draw_text(&short_number(v), &style(15, left_mid), (x0 + 31, y))?;
    }
    root.draw_text(
        "objects/s",
        &style(15, Pos::new(HPos::Center, VPos::Bottom)),
        (x0 + 11, y0 - 8),
    )?;
    Ok(())
}

fn draw_panel(root: &Area<'_>, panel: &HeatPanel, g: &Grid<'_>, top: i32) -> DrawResult {
    let center = Pos::new(HPos::Center, VPos::Center);
    let caption = TextStyle::from((FONT, 18).into_font().style(FontStyle::Bold))
        .pos(Pos::new(HPos::Left, VPos::Top));
    root.draw_text(
        &format!("client: {}", panel.client),
        &caption,
        (LEFT, top + 6),
    )?;
    let grid_top = top + CAPTION_H;
    let right_mid = Pos::new(HPos::Right, VPos::Center);
    for (r, &batch) in g.batches.iter().enumerate() {
        let y0 = grid_top + r as i32 * CELL_H;
        root.draw_text(
            &format!("batch {batch}"),
            &style(15, right_mid),
            (LEFT - 10, y0 + CELL_H / 2),
        )?;
        for (c, &x) in g.xs.iter().enumerate() {
            let x0 = LEFT + c as i32 * g.cell_w;
            let (a, b) = ((x0, y0), (x0 + g.cell_w, y0 + CELL_H));
            let mid = (x0 + g.cell_w / 2, y0 + CELL_H / 2);
            match panel
                .cells
                .iter()
                .find(|cell| cell.batch == batch && cell.max_sockets == x)
            {
                None => {
                    root.draw(&Rectangle::new([a, b], MISSING.filled()))?;
                    root.draw_text("n/a", &style(14, center).color(&TEXT_GREY), mid)?;
                }
                Some(cell) => {
                    let bg = colormap(cell.value / g.v_max);
                    root.draw(&Rectangle::new([a, b], bg.filled()))?;
                    let mut text = short_number(cell.value);
                    if cell.knee {
                        text.insert_str(0, "▲ ");
                    }
                    if cell.failed {
                        text.push_str(" ✕");
                    }
                    root.draw_text(&text, &style(15, center).color(&text_color(bg)), mid)?;
                }
            }
            root.draw(&Rectangle::new([a, b], WHITE.stroke_width(1)))?;
        }
    }
    // Failure borders last so neighbouring cells never paint over them.
    for cell in panel.cells.iter().filter(|c| c.failed) {
        let (Some(r), Some(c)) = (
            g.batches.iter().position(|b| *b == cell.batch),
            g.xs.iter().position(|x| *x == cell.max_sockets),
        ) else {
            continue;
        };
        let (x0, y0) = (LEFT + c as i32 * g.cell_w, grid_top + r as i32 * CELL_H);
        let x1 = x0 + g.cell_w;
        // A closed path rather than a stroked Rectangle: plotters' SVG backend drops the stroke
        // width of rectangles (plotters-svg 0.3.7 `draw_rect`), but keeps it for paths.
        let (a, b) = ((x0 + 3, y0 + 3), (x1 - 3, y0 + CELL_H - 3));
        let frame = vec![a, (b.0, a.1), b, (a.0, b.1), a];
        root.draw(&PathElement::new(frame, FAILURE_RED.stroke_width(4)))?;
        root.draw(&Polygon::new(
            vec![(x1 - 16, y0 + 2), (x1 - 2, y0 + 2), (x1 - 2, y0 + 16)],
            FAILURE_RED.filled(),
        ))?;
    }
    let below = grid_top + g.batches.len() as i32 * CELL_H;
    let center_top = Pos::new(HPos::Center, VPos::Top);
    for (c, &x) in g.xs.iter().enumerate() {
        let label = display_max_sockets(x).to_string();
        root.draw_text(
            &label,
            &style(15, center_top),
            (LEFT + c as i32 * g.cell_w + g.cell_w / 2, below + 6),
        )?;
    }
    let grid_mid = LEFT + g.cell_w * g.xs.len() as i32 / 2;
    root.draw_text("maxSockets", &style(16, center_top), (grid_mid, below + 30))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colormap_ends_and_contrast() {
        assert_eq!(colormap(0.0), RGBColor(68, 1, 84));
        assert_eq!(colormap(1.0), RGBColor(253, 231, 37));
        assert_eq!(colormap(f64::NAN), RGBColor(68, 1, 84));
        assert_eq!(text_color(colormap(0.0)), WHITE);
        assert_eq!(text_color(colormap(1.0)), BLACK);
    }

    #[test]
    fn colour_bar_ticks_are_round() {
        assert_eq!(bar_ticks(3219.0), [0.0, 1000.0, 2000.0, 3000.0]);
        assert_eq!(
            bar_ticks(1.0),
            [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        assert_eq!(bar_ticks(640.0), [0.0, 200.0, 400.0, 600.0]);
    }
}
