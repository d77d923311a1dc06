use std::path::PathBuf;

use super::Out;
use crate::apply::{self, ApplyOptions};
use crate::error::{ExitCode, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plan (`plan.json`): its mixture, and its weak features when it has a `weakness` section.
    #[arg(long)]
    pub plan: PathBuf,
    /// Corpus manifests (Parquet or JSONL): doc_id, tokens, category, label columns.
    #[arg(long, num_args = 1.., required = true)]
    pub corpus: Vec<PathBuf>,
    /// Output folder (selection.parquet, ids.tsv, apply.json, apply.md).
    #[arg(long)]
    pub out: PathBuf,
    /// Token budget (default: the plan's).
    #[arg(long, conflicts_with = "budget_examples")]
    pub budget_tokens: Option<u64>,
    /// Budget in examples (copies) instead of tokens.
    #[arg(long)]
    pub budget_examples: Option<u64>,
    /// Salt of every hash: another salt, another (equally valid) selection.
    #[arg(long, default_value = "caploop")]
    pub salt: String,
    /// Share of each category's budget for weak-feature matches (default: the plan's, else 1.0).
    #[arg(long)]
    pub rho: Option<f64>,
    /// Copies at most per matched document (default: the plan's, else 2).
    #[arg(long)]
    pub d_max: Option<u32>,
    /// Passes at most over a category's unmatched documents (default: the plan's max_epochs).
    #[arg(long)]
    pub epoch_cap: Option<f64>,
    /// Evaluation-side -> data-side label mapping (default: the paper's, configs/paper_mapping.yaml).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Also write DIR/select.py, a PySpark job making the same selection.
    #[arg(long)]
    pub emit_spark: Option<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let mut o = ApplyOptions::new(&a.plan, a.corpus, &a.out);
    o.budget_tokens = a.budget_tokens;
    o.budget_examples = a.budget_examples;
    o.salt = a.salt;
    o.rho = a.rho;
    o.d_max = a.d_max;
    o.epoch_cap = a.epoch_cap;
    o.mapping = a.mapping;
    o.emit_spark = a.emit_spark;
    let r = apply::run(&o)?;
    say(&r, &a.out, out);
    Ok(ExitCode::Ok)
}

/// The outcome, a few lines.
pub(crate) fn say(r: &apply::Applied, dir: &std::path::Path, out: Out) {
    out.say(format!(
        "apply: {} documents read; selected {} documents ({} copies, {} tokens) for a budget of {} {}",
        r.totals.docs_read,
        r.totals.selected_docs,
        r.totals.selected_copies,
        r.totals.selected_tokens,
        r.totals.target,
        match r.settings.unit {
            apply::Unit::Tokens => "tokens",
            apply::Unit::Examples => "examples",
        }
    ));
    for f in r.features.iter().filter(|f| f.status != "matched") {
        out.say(format!(
            "  feature {} selects nothing ({}): {}",
            f.name,
            f.status,
            f.reason.as_deref().unwrap_or("")
        ));
    }
    for c in r.categories.iter().filter(|c| c.short > 0) {
        out.say(format!(
            "  {} is short by {} (the corpus cannot supply its target)",
            c.category, c.short
        ));
    }
    out.say(format!(
        "  wrote {} (sha256 {}), ids.tsv, apply.json, apply.md{}",
        dir.join("selection.parquet").display(),
        &r.outputs.selection_sha256[..12.min(r.outputs.selection_sha256.len())],
        r.outputs
            .spark_job
            .as_deref()
            .map(|p| format!(", {p}"))
            .unwrap_or_default()
    ));
}
