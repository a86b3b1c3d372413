//! The colours every chart uses, so a batch size has the same colour in the report and in a
//! comparison, and red means a failed point and nothing else.

use plotters::style::RGBColor;

/// Colours for batch sizes: Okabe–Ito (colour-blind safe), without its red, which marks failures.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 94, 40),   // brown
    RGBColor(0, 0, 0),       // black
    RGBColor(150, 150, 150), // grey
];

/// Failure markers (and only they) are this red.
pub(crate) const FAILURE_RED: RGBColor = RGBColor(200, 0, 30);

/// Colour of legend samples that explain a line style rather than a batch.
pub(crate) const STYLE_GREY: RGBColor = RGBColor(110, 110, 110);

/// Legend text of the failure marker, the same in every chart.
pub(crate) const FAILED_LABEL: &str = "failed point (errors, EMFILE or incomplete)";

/// The colour of a batch size, by its index among the run's batch sizes (stable across charts).
pub(crate) fn batch_color(batch: u32, all_batches: &[u32]) -> RGBColor {
    let i = all_batches.iter().position(|b| *b == batch).unwrap_or(0);
    PALETTE[i % PALETTE.len()]
}

/// The colour of an S3 client in the charts that overlay them: js-v3 (the SDK the guide is
/// about) in blue, poolsweep's model in orange, the Rust SDK in bluish green; the same in every
/// panel.
pub(crate) fn sdk_color(sdk: crate::sut::Sdk) -> RGBColor {
    match sdk {
        crate::sut::Sdk::JsV3 => PALETTE[0],
        crate::sut::Sdk::Poolsweep => PALETTE[1],
        crate::sut::Sdk::RustSdk => PALETTE[2],
    }
}
