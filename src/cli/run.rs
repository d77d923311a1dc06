use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::pipeline::{self, PipelineConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Pipeline config (YAML).
    #[arg(long)]
    pub config: PathBuf,
    /// Output folder (default: the config's `out`, else reports/run).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let cfg = PipelineConfig::load(&a.config)?;
    let dir = a
        .out
        .or_else(|| cfg.out.clone())
        .unwrap_or_else(|| PathBuf::from("reports/run"));
    let outcome = pipeline::run_with(&cfg, &dir, &crate::progress::Progress::new(out.quiet))
        .map_err(|e| crate::settings::locate_filters(&a.config, e))?;
    if let Some(report) = &outcome.labels {
        super::tag::say_labels(
            report,
            &outcome.out.join("disagreements.jsonl"),
            &outcome.out.join("labels.json"),
            out,
        );
    }
    super::summarize(&outcome.comparison, out);
    super::say_verdicts(&outcome.evidence, out);
    out.say(format!("report: {}", outcome.out.join("report.html").display()));
    Ok(ExitCode::Ok)
}
