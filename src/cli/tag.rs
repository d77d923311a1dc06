use std::path::PathBuf;

use super::Out;
use crate::error::{Error, ExitCode, Result};
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
    /// Write the tags in another vocabulary: a mapping from the taxonomies'
    /// values to a label space (taxonomies/paper/mapping.yaml: the paper's).
    #[arg(long)]
    pub vocabulary: Option<PathBuf>,
    /// Imported per-item labels (JSONL, CSV or Parquet; one record per
    /// labeler and item). They replace the rule-derived values of their axis.
    #[arg(long, num_args = 1..)]
    pub labels: Vec<PathBuf>,
    /// Adjudicated labels (a person's), which take precedence over --labels.
    #[arg(long, num_args = 1..)]
    pub adjudicated: Vec<PathBuf>,
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let taxonomy = TaxonomySet::load(&a.taxonomy)?;
    let coverage = if a.vocabulary.is_none() && a.labels.is_empty() && a.adjudicated.is_empty() {
        crate::tagging::tag_file(&a.samples, &taxonomy, &a.out)?
    } else {
        tag_with(&a, &taxonomy, out)?
    };
    say_coverage(&coverage, out);
    out.say(format!("wrote {}", a.out.display()));
    Ok(ExitCode::Ok)
}

/// One line per benchmark: items, and the share of `unknown` per axis.
pub(super) fn say_coverage(coverage: &[crate::tagging::Coverage], out: Out) {
    for c in coverage {
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
}

fn tag_with(a: &Args, taxonomy: &TaxonomySet, out: Out) -> Result<Vec<crate::tagging::Coverage>> {
    use crate::labels;
    let vocabulary = labels::apply::vocabulary(a.vocabulary.as_deref(), taxonomy)?;
    let report_path = a.out.with_extension("labels.json");
    let dis_path = a.out.with_extension("disagreements.jsonl");
    for input in a.labels.iter().chain(&a.adjudicated).chain([&a.samples]) {
        if [&report_path, &dis_path].contains(&input) {
            return Err(Error::usage(format!(
                "{} is an input and would be overwritten by an output of --out {}; choose another --out",
                input.display(),
                a.out.display()
            )));
        }
    }
    let (coverage, imported) = labels::apply::retag(
        &a.samples,
        taxonomy,
        vocabulary.as_ref(),
        &a.labels,
        &a.adjudicated,
        &a.out,
    )?;
    if let Some(imported) = imported {
        crate::slices::write::write_json(&report_path, &imported.report)?;
        crate::error::write_file(&dis_path, imported.disagreements)?;
        say_labels(&imported.report, &dis_path, &report_path, out);
    }
    Ok(coverage)
}

/// The agreement per axis and what the labels did.
pub(super) fn say_labels(
    report: &crate::labels::agree::LabelReport,
    disagreements: &std::path::Path,
    written: &std::path::Path,
    out: Out,
) {
    for g in &report.agreement {
        out.say(format!(
            "agreement {} ({} vs {}): {} of {} items agree ({:.1}%), kappa {} ({})",
            g.axis,
            g.labeler_a,
            g.labeler_b,
            g.agreeing,
            g.items,
            100.0 * g.share.unwrap_or(0.0),
            g.kappa.map_or("undefined".to_string(), |k| format!("{k:.3}")),
            g.kappa_mode
        ));
    }
    out.say(format!(
        "labels: {} items labelled; {} disagreements ({} open) in {}; wrote {}",
        report.items_labelled,
        report.disagreements,
        report.disagreements_open,
        disagreements.display(),
        written.display()
    ));
}
