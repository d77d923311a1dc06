//! Reports for people: `report.md` (tables, for a pull request),
//! `report.html` (one self-contained file) and `charts/` (SVG and PNG).
//!
//! Report code reads only the stages' serde structs, never frames. What a
//! report shows is [`ReportInput`] (the comparison and what led to it) and
//! [`Sections`] (everything else, each part optional); a section whose data
//! is absent or empty is not rendered at all.

pub mod charts;
pub mod html;
pub mod markdown;
pub mod num;
pub mod rows;
pub mod text;

use serde::Serialize;

use crate::ingest::IngestReport;
use crate::slices::{Comparison, SliceStats};
use crate::tagging::Coverage;

/// Everything a report shows about the comparison.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReportInput<'a> {
    pub title: String,
    pub ingest: Option<&'a IngestReport>,
    pub coverage: &'a [Coverage],
    pub slices: &'a [SliceStats],
    pub comparison: Option<&'a Comparison>,
}

/// The report's further sections, each shown only when present.
///
/// This is where later stages plug in (diagnosis verdicts and failure
/// modes, the plan, verification, history): add an `Option<&'a T>` field
/// here, a section function to `html::SECTIONS` (and to `markdown` if it
/// belongs in a pull request) and, for a chart, a variant of
/// `charts::Chart`. Build this struct with `..Sections::default()` so a new
/// field breaks no caller.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sections<'a> {
    /// Cells of the slice heatmap.
    pub grid: Option<Grid<'a>>,
    /// Example items, shown under their benchmark, grouped by slice.
    pub examples: &'a [ExampleItem],
    /// Verdicts, failure modes and discovered slices.
    pub diagnosis: Option<&'a crate::diagnose::Evidence>,
    /// The plan made from the diagnosis.
    pub plan: Option<&'a crate::plan::Plan>,
    /// The plan checked against later runs.
    pub verifications: &'a [crate::verify::Verification],
    /// A checkpoint series.
    pub history: Option<&'a crate::history::History>,
}

/// The cells of the slice heatmap: every pair of a `rows` tag and a `cols`
/// tag, from [`charts::cell_slices`], compared (colour = delta) or, without
/// a comparison, measured per run (colour = accuracy).
#[derive(Debug, Clone, Serialize)]
pub struct Grid<'a> {
    /// Axis down the heatmap, e.g. `operation` (the one with more values reads better down).
    pub rows: &'a str,
    /// Axis across, e.g. `task_type`.
    pub cols: &'a str,
    /// `slices::compare` over the cell slices.
    pub comparison: Option<&'a Comparison>,
    /// `slices::measure_all` over the cell slices (used without a comparison).
    pub stats: &'a [SliceStats],
}

impl<'a> Grid<'a> {
    /// Benchmarks with cells, in order of first appearance.
    pub fn benchmarks(&self) -> Vec<&'a str> {
        let mut out: Vec<&'a str> = Vec::new();
        let names = self
            .comparison
            .map(|c| c.slices.iter().map(|s| s.benchmark.as_str()).collect::<Vec<_>>())
            .unwrap_or_else(|| self.stats.iter().map(|s| s.benchmark.as_str()).collect());
        for b in names {
            if !out.contains(&b) {
                out.push(b);
            }
        }
        out
    }
}

/// One example item of a slice, with excerpts of what the model saw and
/// said. Every text is shown escaped; long texts are cut again when
/// rendered (the prompt keeps its end, where the question is).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExampleItem {
    pub benchmark: String,
    /// The slice the item illustrates, by its usual name.
    pub slice: String,
    pub item_id: String,
    pub prompt: Option<String>,
    pub target: Option<String>,
    pub baseline_response: Option<String>,
    pub candidate_response: Option<String>,
    /// Score of each run on the item (mean over its samples), when known.
    pub baseline_score: Option<f64>,
    pub candidate_score: Option<f64>,
}
