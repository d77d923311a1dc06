use std::path::PathBuf;

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
    /// Evaluation taxonomy files (YAML): tag while ingesting, so the table is
    /// written once, already tagged (the same file as `ingest` then `tag`).
    #[arg(long, num_args = 1..)]
    pub taxonomy: Vec<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    // Configs are checked before the first file is read.
    let taxonomy = match a.taxonomy.is_empty() {
        true => None,
        false => Some(crate::trace::time("ingest.taxonomy", || {
            crate::taxonomy::TaxonomySet::load(&a.taxonomy)
        })?),
    };
    let opts = IngestOptions {
        format: a.format,
        run: a.run,
        columns: a.columns,
        skip_bad: a.skip_bad,
        pass_threshold: a.pass_threshold,
        short_run_ids: a.short_run_ids,
    };
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
    out.say(format!("wrote {}", a.out.display()));
    Ok(ExitCode::Ok)
}
