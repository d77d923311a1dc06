use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::taxonomy::TaxonomySet;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Sample table written by `caploop ingest`.
    #[arg(long)]
    pub samples: PathBuf,
    /// Evaluation taxonomy files (YAML).
    #[arg(long, required = true, num_args = 1..)]
    pub taxonomy: Vec<PathBuf>,
    /// Output Parquet file (may be the input).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let taxonomy = TaxonomySet::load(&a.taxonomy)?;
    let coverage = crate::tagging::tag_file(&a.samples, &taxonomy, &a.out)?;
    for c in &coverage {
        let unknown: Vec<String> = c
            .unknown
            .iter()
            .map(|(axis, n)| format!("{axis} {:.1}%", 100.0 * *n as f64 / c.items.max(1) as f64))
            .collect();
        out.say(format!(
            "{}: {} items; unknown: {}",
            c.benchmark,
            c.items,
            unknown.join(", ")
        ));
    }
    out.say(format!("wrote {}", a.out.display()));
    Ok(ExitCode::Ok)
}
