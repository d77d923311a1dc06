use std::path::{Path, PathBuf};

use super::Out;
use crate::error::{ExitCode, Result};
use crate::ingest::{self, Format, IngestOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log folders or files.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output Parquet file.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Evaluation taxonomy files (YAML): tag while ingesting, so the table is
    /// written once, already tagged (the same file as `ingest` then `tag`).
    #[arg(long, num_args = 1..)]
    pub taxonomy: Vec<PathBuf>,
}

/// How to read evaluation logs: shared by `ingest` and `compare` from logs.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// Run id for every file (default: the model name in the logs).
    #[arg(long)]
    pub run: Option<String>,
    /// Column mapping (YAML) for generic files.
    #[arg(long)]
    pub columns: Option<PathBuf>,
    /// Skip malformed records, counting and listing each one, instead of failing.
    #[arg(long)]
    pub skip_bad: bool,
    /// A score at or above this counts as correct.
    #[arg(long, default_value_t = 1.0)]
    pub pass_threshold: f64,
    /// Shorten run ids to their last path component: `/models/org/x/ckpt` -> `ckpt`.
    #[arg(long)]
    pub short_run_ids: bool,
}

impl ReadArgs {
    pub fn options(&self) -> IngestOptions {
        IngestOptions {
            format: self.format,
            run: self.run.clone(),
            columns: self.columns.clone(),
            skip_bad: self.skip_bad,
            pass_threshold: self.pass_threshold,
            short_run_ids: self.short_run_ids,
        }
    }

    /// The flags given, by name: none unless logs are read.
    pub fn given(&self) -> Vec<&'static str> {
        let d = IngestOptions::default();
        [
            ("--format", self.format != d.format),
            ("--run", self.run.is_some()),
            ("--columns", self.columns.is_some()),
            ("--skip-bad", self.skip_bad),
            ("--pass-threshold", self.pass_threshold != d.pass_threshold),
            ("--short-run-ids", self.short_run_ids),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

/// The taxonomies, loaded and checked before the first file is read.
pub fn load_taxonomy(paths: &[PathBuf]) -> Result<Option<crate::taxonomy::TaxonomySet>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let t = crate::trace::time("ingest.taxonomy", || crate::taxonomy::TaxonomySet::load(paths))?;
    Ok(Some(t))
}

/// The ingest report's lines: detected formats, rows, skipped and ignored
/// files, warnings.
pub fn say_report(done: &ingest::SinkOutput, report: &ingest::IngestReport, report_path: &Path, out: Out) {
    for line in crate::ingest::detect::summary(&report.detected) {
        out.say(line);
    }
    out.say(format!(
        "{} rows from {} files, runs: {}",
        done.rows,
        report.files.len(),
        done.runs.join(", ")
    ));
    if !report.skipped.is_empty() {
        out.say(format!(
            "skipped {} malformed records (listed in {})",
            report.skipped.len(),
            report_path.display()
        ));
    }
    if !report.ignored.is_empty() {
        out.say(format!(
            "ignored {} files that are not evaluation logs",
            report.ignored.len()
        ));
    }
    for w in &report.warnings {
        out.say(format!("warning: {w}"));
    }
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    // Configs are checked before the first file is read.
    let taxonomy = load_taxonomy(&a.taxonomy)?;
    let opts = a.read.options();
    let filters = std::collections::BTreeMap::new();
    let (done, report) = ingest::ingest_into(
        &a.paths,
        &opts,
        ingest::SinkOptions {
            out: Some(&a.out),
            taxonomy: taxonomy.as_ref(),
            skip_bad: opts.skip_bad,
            ..ingest::SinkOptions::new(&filters)
        },
    )?;
    super::tag::say_coverage(&done.coverage, out);
    let report_path = a.out.with_extension("ingest.json");
    crate::slices::write::write_json(&report_path, &report)?;
    say_report(&done, &report, &report_path, out);
    out.say(format!("wrote {}", a.out.display()));
    Ok(ExitCode::Ok)
}
