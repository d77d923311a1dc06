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
    /// apply.json of `caploop apply`: checks it was made from this plan and
    /// records the selection's SHA-256 (the data behind the candidate) in verify-data.json.
    #[arg(long)]
    pub apply: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let settings = match &a.settings {
        Some(p) => crate::settings::load(p)?,
        None => crate::settings::Settings::default(),
    };
    crate::manifest::check_input(&a.plan)?;
    crate::manifest::check_input(&a.samples)?;
    crate::manifest::begin(&a.out)?;
    let selection = match &a.apply {
        Some(p) => Some((p, crate::apply::check_applied(&a.plan, p)?)),
        None => None,
    };
    let v = verify::verify(&VerifyOptions {
        plan: &a.plan,
        samples: &a.samples,
        baseline: &a.baseline,
        candidate: &a.candidate,
        allow_changed_eval: a.allow_changed_eval,
        compare: &settings.compare,
    })
    .map_err(|e| match &a.settings {
        Some(p) => crate::settings::locate_filters(p, e),
        None => e,
    })?;
    verify::write(&v, &a.out)?;
    if let Some((p, sha)) = &selection {
        let rec = serde_json::json!({"apply": p.display().to_string(), "selection_sha256": sha});
        crate::slices::write::write_json(&a.out.join("verify-data.json"), &rec)?;
    }
    crate::manifest::finish(&a.out)?;
    super::say_verification(&v, out);
    if let Some((p, sha)) = &selection {
        out.say(format!("data: selection sha256 {sha} (from {})", p.display()));
    }
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
