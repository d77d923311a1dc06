use std::path::PathBuf;

use super::ingest::ReadArgs;
use super::Out;
use crate::error::{Error, ExitCode, Result};
use crate::report::{charts, html, markdown, Grid, ReportInput, Sections};
use crate::slices::{self, CompareSettings, Dataset};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tagged sample table (`ingest --taxonomy`, or `ingest` then `tag`).
    #[arg(long, conflicts_with = "logs")]
    pub samples: Option<PathBuf>,
    /// Or evaluation logs, read, tagged with `--taxonomy` and compared in
    /// memory: no sample table is written (`ingest` writes one).
    #[arg(required_unless_present = "samples")]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Evaluation taxonomy files (YAML) to tag the logs' items with; without
    /// them the slices are the benchmarks and tasks.
    #[arg(long, num_args = 1..)]
    pub taxonomy: Vec<PathBuf>,
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
    if a.samples.is_some() {
        let mut given = a.read.given();
        if !a.taxonomy.is_empty() {
            given.push("--taxonomy");
        }
        if !given.is_empty() {
            return Err(Error::usage(format!(
                "{} read evaluation logs, not a sample table: give the logs in place of --samples, or tag the table with `caploop tag`",
                given.join(", ")
            )));
        }
    }
    let taxonomy = super::ingest::load_taxonomy(&a.taxonomy)?;
    crate::manifest::begin(&a.out)?;
    let ds = match &a.samples {
        Some(samples) => crate::trace::time("compare.load", || slices::load(samples, &settings.filters)),
        None => from_logs(&a, taxonomy.as_ref(), &settings, out),
    }
    .map_err(|e| match &a.settings {
        Some(p) => crate::settings::locate_filters(p, e),
        None => e,
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

/// The logs read, tagged and indexed in one pass, as `run` does: the
/// dataset is the one `ingest --taxonomy` then `compare --samples` loads.
/// The ingest report goes to `ingest.json` in the output folder.
fn from_logs(
    a: &Args,
    taxonomy: Option<&crate::taxonomy::TaxonomySet>,
    settings: &CompareSettings,
    out: Out,
) -> Result<Dataset> {
    let opts = a.read.options();
    let (done, report) = crate::ingest::ingest_into(
        &a.logs,
        &opts,
        crate::ingest::SinkOptions {
            taxonomy,
            index: true,
            skip_bad: opts.skip_bad,
            ..crate::ingest::SinkOptions::new(&settings.filters)
        },
    )?;
    super::tag::say_coverage(&done.coverage, out);
    let report_path = a.out.join("ingest.json");
    slices::write::write_json(&report_path, &report)?;
    super::ingest::say_report(&done, &report, &report_path, out);
    Ok(done.dataset)
}
