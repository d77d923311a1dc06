use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::verify::{self, VerifyOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// plan.json of `caploop plan`.
    #[arg(long)]
    pub plan: PathBuf,
    /// Tagged sample table holding both runs.
    #[arg(long)]
    pub samples: PathBuf,
    /// The run the plan was made for.
    #[arg(long)]
    pub baseline: String,
    /// The next evaluation: the run trained with the plan.
    #[arg(long)]
    pub candidate: String,
    /// Output folder for verify.json and verify.md.
    #[arg(long)]
    pub out: PathBuf,
    /// Verify even when task versions, prompts or item sets changed between the runs.
    #[arg(long)]
    pub allow_changed_eval: bool,
    /// Settings YAML with a `compare:` section, as in a pipeline config.
    #[arg(long)]
    pub settings: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let settings = match &a.settings {
        Some(p) => crate::settings::load(p)?,
        None => crate::settings::Settings::default(),
    };
    crate::manifest::check_input(&a.plan)?;
    crate::manifest::check_input(&a.samples)?;
    crate::manifest::begin(&a.out)?;
    let v = verify::verify(&VerifyOptions {
        plan: &a.plan,
        samples: &a.samples,
        baseline: &a.baseline,
        candidate: &a.candidate,
        allow_changed_eval: a.allow_changed_eval,
        compare: &settings.compare,
    })?;
    verify::write(&v, &a.out)?;
    crate::manifest::finish(&a.out)?;
    super::say_verification(&v, out);
    out.say(format!(
        "wrote {} and verify.md",
        a.out.join("verify.json").display()
    ));
    Ok(if v.failed() {
        ExitCode::CheckFailed
    } else {
        ExitCode::Ok
    })
}
