use std::path::PathBuf;

use super::Out;
use crate::error::{ExitCode, Result};
use crate::plan::{self, PlanFiles};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `evidence.json` of `caploop diagnose`, or the folder holding it.
    #[arg(long)]
    pub evidence: PathBuf,
    /// Data taxonomy YAML (default: the shipped configs/data_taxonomy.yaml).
    #[arg(long)]
    pub data_taxonomy: Option<PathBuf>,
    /// Mapping rules YAML (default: the shipped configs/mapping.yaml).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Evaluation taxonomies whose axis values the mapping rules may name
    /// (default: the shipped taxonomies).
    #[arg(long = "taxonomy", num_args = 1..)]
    pub taxonomies: Vec<PathBuf>,
    /// Settings YAML with a `plan:` section, as in a pipeline config.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Output folder for plan.json and plan.md.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let settings = match &a.settings {
        Some(p) => crate::settings::load(p)?,
        None => crate::settings::Settings::default(),
    };
    crate::manifest::check_input(&a.evidence)?;
    crate::manifest::begin(&a.out)?;
    let files = PlanFiles {
        evidence: a.evidence,
        data_taxonomy: a.data_taxonomy,
        mapping: a.mapping,
        taxonomies: a.taxonomies,
    };
    let p = plan::make(&files, &settings.plan)?;
    plan::write(&p, &a.out)?;
    crate::manifest::finish(&a.out)?;
    super::say_plan(&p, out);
    out.say(format!("wrote {} and plan.md", a.out.join("plan.json").display()));
    Ok(ExitCode::Ok)
}
