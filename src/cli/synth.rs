use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::synth::{self, Scenario, SynthOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum, required_unless_present = "corpus")]
    pub scenario: Option<Scenario>,
    /// Items per benchmark family.
    #[arg(long, required_unless_present = "corpus")]
    pub items: Option<usize>,
    /// Write a labelled corpus manifest of N documents instead (for `caploop apply`):
    /// `--out` is the manifest file (.parquet or .jsonl).
    #[arg(long, value_name = "N", conflicts_with_all = ["scenario", "items"])]
    pub corpus: Option<u64>,
    /// Samples per item and run (more than one writes generic JSONL).
    #[arg(long, default_value_t = 1)]
    pub samples: u32,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long)]
    pub out: PathBuf,
    /// Change in success probability planted on the `ops` combination (default -0.35).
    #[arg(long, allow_hyphen_values = true)]
    pub effect: Option<f64>,
    /// Also write two later checkpoints for `caploop verify`: ckpt-3000-fixed
    /// (planted weakness fixed, a collateral regression planted elsewhere)
    /// and ckpt-3000-unfixed (nothing fixed).
    #[arg(long)]
    pub after: bool,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    if let Some(n) = a.corpus {
        let o = synth::corpus::CorpusOptions::new(n, a.seed, &a.out)?;
        let n = synth::corpus::write_corpus(&o)?;
        out.say(format!("wrote {} ({n} documents)", a.out.display()));
        return Ok(ExitCode::Ok);
    }
    let (Some(scenario), Some(items)) = (a.scenario, a.items) else {
        return Err(crate::error::Error::usage(
            "give --scenario and --items (or --corpus N)",
        ));
    };
    let planted = synth::generate(&SynthOptions {
        scenario,
        items,
        samples: a.samples,
        seed: a.seed,
        out: a.out.clone(),
        effect: a.effect,
        after: a.after,
    })?;
    out.say(format!(
        "wrote {} ({} vs {}); planted effects in {}",
        planted.logs,
        planted.baseline,
        planted.candidate,
        a.out.join("planted.json").display()
    ));
    Ok(ExitCode::Ok)
}
