use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::pipeline::{self, PipelineConfig};
use crate::synth::{self, Scenario, SynthOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder.
    #[arg(long, default_value = "reports/demo")]
    pub out: PathBuf,
    /// Items per benchmark family.
    #[arg(long, default_value_t = 1200)]
    pub items: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    out.say(concat!(
        "caploop demo: checkpoints of a synthetic evaluation in the lm-evaluation-harness format:\n",
        "  ckpt-1000 -> ckpt-2000 (diagnosed):\n",
        "    bbh  - the candidate often fails to stop after its answer (end-of-sequence fault)\n",
        "    math - the candidate is weaker on problems that combine counting and modular arithmetic\n",
        "  ckpt-3000-fixed: both fixed, a collateral regression on math operation=sequences\n",
        "  ckpt-3000-unfixed: nothing fixed\n",
        "The loop: diagnose -> plan -> verify the plan on both later checkpoints."
    ));
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Demo,
        items: a.items,
        samples: 1,
        seed: a.seed,
        out: a.out.clone(),
        effect: None,
        after: true,
    })?;
    let taxonomies = crate::shipped::write_taxonomies(&a.out.join("taxonomies"))?;
    let mut cfg = PipelineConfig::new(
        vec![PathBuf::from(&planted.logs)],
        taxonomies,
        &planted.baseline,
        &planted.candidate,
    );
    cfg.verify = vec![synth::AFTER_FIXED.into(), synth::AFTER_UNFIXED.into()];
    cfg.history = vec![
        planted.baseline.clone(),
        planted.candidate.clone(),
        synth::AFTER_FIXED.into(),
    ];
    let outcome = pipeline::run_with(&cfg, &a.out, &crate::progress::Progress::new(out.quiet))?;
    out.say(format!(
        "ingested {} rows from {} files; compared {} slices",
        outcome.ingest.files.iter().map(|f| f.rows).sum::<usize>(),
        outcome.ingest.files.len(),
        outcome.comparison.slices.len()
    ));
    super::summarize(&outcome.comparison, out);
    super::say_verdicts(&outcome.evidence, out);
    super::say_plan(&outcome.plan, out);
    for v in &outcome.verifications {
        super::say_verification(v, out);
    }
    let applied = crate::apply::demo_step(&outcome.out, a.seed)?;
    super::apply::say(&applied, &outcome.out.join("apply"), out);
    out.say(format!(
        "report: {} (and report.md, plan.md, plan.json, verify-*/, history.json, charts/, evidence.json)",
        outcome.out.join("report.html").display()
    ));
    Ok(ExitCode::Ok)
}
