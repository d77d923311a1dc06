//! Charts of the report, drawn once with plotters and written as SVG (for
//! `report.html`, inlined, and `charts/*.svg`) and PNG (`charts/*.png`).
//!
//! Every chart is a plain struct built from the stages' serde structs
//! ([`plan`]), sized from its data, and drawn through a [`Pen`] in logical
//! pixels, so the SVG and the PNG (drawn at twice the scale) are the same
//! picture. Text is measured with the embedded DejaVu Sans subset
//! (`assets/fonts/`), which also renders the PNG text: no system font is
//! needed. Long names are cut with an ellipsis to fit; the SVG keeps the full
//! name in a `<title>` tooltip.
//!
//! Output is deterministic: the same input gives byte-identical SVG and PNG
//! (no timestamps, no random ids, data in a total order).
//!
//! Not here: what the charts mean is said by `html` and `markdown`, which
//! caption them.

pub mod failures;
pub mod forest;
pub mod heatmap;
mod palette;
mod pen;

use std::path::Path;

use serde::Serialize;

pub use heatmap::cell_slices;
pub use pen::ChartError;

use super::{ReportInput, Sections};
use crate::error::{Error, Result};
use crate::report::num::{pct, pp, q4};

/// Scale of the PNG relative to the SVG's logical pixels (crisp on high
/// density screens and in slides).
pub const PNG_SCALE: f64 = 2.0;

/// One chart of a report, with its data.
#[derive(Debug, Clone)]
pub enum Chart<'a> {
    Forest(forest::Forest<'a>),
    Heatmap(heatmap::Heatmap<'a>),
    Failures(failures::Failures<'a>),
}

impl Chart<'_> {
    /// Benchmark shown.
    pub fn benchmark(&self) -> &str {
        match self {
            Chart::Forest(c) => c.benchmark,
            Chart::Heatmap(c) => c.benchmark,
            Chart::Failures(c) => c.benchmark,
        }
    }

    /// File name without extension, e.g. `forest-bbh`.
    pub fn stem(&self) -> String {
        let (stem, suffix) = match self {
            Chart::Forest(c) => (format!("forest-{}", slug(c.benchmark)), c.suffix),
            Chart::Heatmap(c) if c.pairs.is_some() => (format!("pairs-{}", slug(c.row_axis)), c.suffix),
            Chart::Heatmap(c) => match c.run {
                Some(run) => (format!("heatmap-{}-{}", slug(c.benchmark), slug(run)), c.suffix),
                None => (format!("heatmap-{}", slug(c.benchmark)), c.suffix),
            },
            Chart::Failures(c) => (format!("failures-{}", slug(c.benchmark)), c.suffix),
        };
        if suffix > 1 {
            format!("{stem}-{suffix}")
        } else {
            stem
        }
    }

    /// One-line title, as drawn at the top of the chart.
    pub fn title(&self) -> String {
        match self {
            Chart::Forest(c) => c.title(),
            Chart::Heatmap(c) => c.title(),
            Chart::Failures(c) => c.title(),
        }
    }

    /// Logical size in pixels (the SVG's size; the PNG is [`PNG_SCALE`] times larger).
    pub fn size(&self) -> (u32, u32) {
        match self {
            Chart::Forest(c) => c.size(),
            Chart::Heatmap(c) => c.size(),
            Chart::Failures(c) => c.size(),
        }
    }

    fn draw(&self, pen: &pen::Pen<'_, impl plotters::prelude::DrawingBackend>) -> Result<(), ChartError> {
        match self {
            Chart::Forest(c) => c.draw(pen),
            Chart::Heatmap(c) => c.draw(pen),
            Chart::Failures(c) => c.draw(pen),
        }
    }

    /// The chart as a standalone SVG document.
    pub fn svg(&self) -> Result<String, ChartError> {
        pen::svg(self.size(), &self.title(), |p| self.draw(p), false)
    }

    /// The chart as an `<svg>` element to inline in HTML: no XML namespace
    /// (the HTML parser supplies it), scales down with the page.
    pub fn svg_inline(&self) -> Result<String, ChartError> {
        pen::svg(self.size(), &self.title(), |p| self.draw(p), true)
    }

    /// The chart as a PNG image, [`PNG_SCALE`] times the logical size.
    pub fn png(&self) -> Result<Vec<u8>, ChartError> {
        pen::png(self.size(), PNG_SCALE, |p| self.draw(p))
    }
}

/// A chart file written by [`write_all`], for links from `report.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChartFile {
    pub benchmark: String,
    pub title: String,
    /// Relative to the output folder, with `/` separators: `charts/forest-bbh.svg`.
    pub svg: String,
    pub png: String,
}

/// Every chart the inputs support, in report order: per benchmark (in the
/// comparison's order) the forest plot, then the heatmap, then (with a
/// diagnosis verdict other than `none`) the failure modes.
pub fn plan<'a>(input: &ReportInput<'a>, sections: &Sections<'a>) -> Vec<Chart<'a>> {
    let mut out = Vec::new();
    let mut benchmarks: Vec<&'a str> = Vec::new();
    if let Some(c) = input.comparison {
        benchmarks.extend(c.pairing.iter().map(|p| p.benchmark.as_str()));
    }
    if let Some(g) = &sections.grid {
        for b in g.benchmarks() {
            if !benchmarks.contains(&b) {
                benchmarks.push(b);
            }
        }
    }
    if let Some(e) = sections.diagnosis {
        for v in &e.verdicts {
            if !benchmarks.contains(&v.benchmark.as_str()) {
                benchmarks.push(&v.benchmark);
            }
        }
    }
    // The weakness analysis's pair effects, over its diagnostic set.
    if let Some(e) = sections.diagnosis {
        out.extend(heatmap::Heatmap::pair_effects(&e.weakness, "weakness").map(Chart::Heatmap));
    }
    for b in benchmarks {
        if let Some(c) = input.comparison {
            if let Some(f) = forest::Forest::build(c, b) {
                out.push(Chart::Forest(f));
            }
        }
        if let Some(g) = &sections.grid {
            out.extend(heatmap::Heatmap::build(g, b).into_iter().map(Chart::Heatmap));
        }
        if let Some(e) = sections.diagnosis {
            out.extend(failures::Failures::build(e, b).into_iter().map(Chart::Failures));
        }
    }
    // Two benchmarks whose names slug alike would share a file: number them.
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for c in &mut out {
        let n = seen.entry(c.stem()).or_default();
        *n += 1;
        if *n > 1 {
            match c {
                Chart::Forest(f) => f.suffix = *n,
                Chart::Heatmap(h) => h.suffix = *n,
                Chart::Failures(f) => f.suffix = *n,
            }
        }
    }
    out
}

/// Write every chart as `charts/<stem>.svg` and `charts/<stem>.png` under
/// `out_dir`; returns what was written, in report order.
pub fn write_all(out_dir: &Path, input: &ReportInput<'_>, sections: &Sections<'_>) -> Result<Vec<ChartFile>> {
    let dir = out_dir.join("charts");
    crate::error::create_dir(&dir)?;
    let mut written = Vec::new();
    for chart in plan(input, sections) {
        let stem = chart.stem();
        let svg_path = dir.join(format!("{stem}.svg"));
        let png_path = dir.join(format!("{stem}.png"));
        let svg = chart.svg().map_err(|e| Error::io(&svg_path, e.into()))?;
        crate::error::write_file(&svg_path, svg)?;
        let png = chart.png().map_err(|e| Error::io(&png_path, e.into()))?;
        crate::error::write_file(&png_path, png)?;
        written.push(ChartFile {
            benchmark: chart.benchmark().to_string(),
            title: chart.title(),
            svg: format!("charts/{stem}.svg"),
            png: format!("charts/{stem}.png"),
        });
    }
    Ok(written)
}

/// The tooltip of a compared slice: its name, the two means, the delta with
/// its interval, q, items and status (forest plot and heatmap alike).
pub fn slice_tooltip(s: &crate::slices::SliceComparison) -> String {
    format!(
        "{}\n{} → {}: {} pp [{}, {}], q = {}, {} items, {}",
        s.slice,
        pct(s.paired.baseline_mean),
        pct(s.paired.candidate_mean),
        pp(s.paired.delta),
        pp(s.paired.ci_low),
        pp(s.paired.ci_high),
        q4(s.paired.q_value),
        s.paired.items,
        s.status.as_str()
    )
}

/// A file-name-safe form of a name: ASCII letters and digits kept
/// (lower-cased), every other run of characters becomes one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    if out.is_empty() {
        "x".to_string()
    } else {
        out.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("bbh"), "bbh");
        assert_eq!(slug("Big-Bench Hard (v2)"), "big-bench-hard-v2");
        assert_eq!(slug("../<script>"), "script");
        assert_eq!(slug("数学"), "x");
    }
}
