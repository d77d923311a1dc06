use std::path::PathBuf;

use super::Out;
use crate::diagnose;
use crate::error::{ExitCode, Result};
use crate::slices;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Tagged sample table.
    #[arg(long)]
    pub samples: PathBuf,
    /// Baseline run; without one, only weak slices of the candidate are reported.
    #[arg(long)]
    pub baseline: Option<String>,
    #[arg(long)]
    pub candidate: String,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Settings (YAML with optional `compare:` and `diagnose:` sections, as in a pipeline config).
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let settings = match &a.settings {
        Some(p) => crate::settings::load(p)?,
        None => crate::settings::Settings::default(),
    };
    crate::manifest::begin(&a.out)?;
    let (comparison, evidence) = diagnose::diagnose(
        &a.samples,
        a.baseline.as_deref(),
        &a.candidate,
        &settings.compare,
        &settings.diagnose,
    )
    .map_err(|e| match &a.settings {
        Some(p) => crate::settings::locate_filters(p, e),
        None => e,
    })?;
    if let Some(c) = &comparison {
        slices::write::write_comparison_csv(&a.out.join("comparison.csv"), c)?;
    }
    slices::write::write_json(&a.out.join("evidence.json"), &evidence)?;
    diagnose::weakness::write::write_csv(&a.out.join("weakness.csv"), &evidence.weakness)?;
    crate::error::write_file(
        &a.out.join("report.md"),
        crate::report::text::markdown_safe(&diagnose::markdown::render(&evidence)),
    )?;
    for w in &evidence.warnings {
        out.say(format!("warning: {w}"));
    }
    out.say(format!(
        "verdict: {} ({})",
        evidence.verdict.as_str(),
        evidence.reason
    ));
    for v in &evidence.verdicts {
        out.say(format!(
            "  {:<12} {:<13} {}",
            v.benchmark,
            v.verdict.as_str(),
            v.reason
        ));
        if let Some(line) = diagnose::weakness::kind_line(v) {
            out.say(format!("  {:<12} {line}", ""));
        }
    }
    for line in diagnose::weakness::summary_lines(&evidence.weakness, 3) {
        out.say(line);
    }
    out.say(format!("wrote {}", a.out.join("evidence.json").display()));
    crate::manifest::finish(&a.out)?;
    Ok(ExitCode::Ok)
}
