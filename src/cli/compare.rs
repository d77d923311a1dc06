use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::report::{charts, html, markdown, Grid, ReportInput, Sections};
use crate::slices::{self, CompareSettings};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tagged sample table.
    #[arg(long)]
    pub samples: PathBuf,
    #[arg(long)]
    pub baseline: String,
    #[arg(long)]
    pub candidate: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Comparison settings (YAML with the fields of `compare:` in a pipeline config).
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let settings: CompareSettings = match &a.settings {
        Some(p) => crate::settings::load(p)?.compare,
        None => CompareSettings::default(),
    };
    crate::manifest::begin(&a.out)?;
    let ds =
        crate::trace::time("compare.load", || slices::load(&a.samples, &settings.filters)).map_err(|e| {
            match &a.settings {
                Some(p) => crate::settings::locate_filters(p, e),
                None => e,
            }
        })?;
    let base = ds.run_index(&a.baseline)?;
    let cand = ds.run_index(&a.candidate)?;
    let defined = crate::trace::time("compare.define", || {
        slices::slices(&ds, settings.max_order, settings.min_items)
    });
    let stats = crate::trace::time("compare.measure", || {
        slices::measure_all(&ds, &defined, settings.confidence, &settings.pass_k)
    });
    let comparison = crate::trace::time("compare.compare", || {
        slices::compare(&ds, base, cand, &defined, &settings)
    });
    slices::write::write_slices_csv(&a.out.join("slices.csv"), &stats, &settings.pass_k)?;
    slices::write::write_comparison_csv(&a.out.join("comparison.csv"), &comparison)?;
    slices::write::write_json(&a.out.join("comparison.json"), &comparison)?;
    let input = ReportInput {
        title: format!("caploop: {} vs {}", a.baseline, a.candidate),
        ingest: None,
        coverage: &[],
        slices: &stats,
        comparison: Some(&comparison),
    };
    let cells = charts::cell_slices(&ds, "operation", "task_type");
    let grid_cmp = slices::compare(&ds, base, cand, &cells, &settings);
    let sections = Sections {
        grid: Some(Grid {
            rows: "operation",
            cols: "task_type",
            comparison: Some(&grid_cmp),
            stats: &[],
        }),
        ..Sections::default()
    };
    let chart_files = crate::trace::time("compare.charts", || charts::write_all(&a.out, &input, &sections))?;
    crate::error::write_file(&a.out.join("report.html"), html::render(&input, &sections))?;
    crate::error::write_file(
        &a.out.join("report.md"),
        crate::report::text::markdown_safe(&markdown::render_linked(&input, &chart_files)),
    )?;
    super::summarize(&comparison, out);
    out.say(format!("wrote {}", a.out.display()));
    crate::manifest::finish(&a.out)?;
    Ok(ExitCode::Ok)
}
