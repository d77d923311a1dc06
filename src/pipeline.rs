//! The whole pipeline from one config: ingest -> tag -> slices -> compare ->
//! report. `caploop run` and `caploop demo` both go through [`run`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnose::{self, DiagnoseSettings, Evidence};
use crate::error::{Error, Result};
use crate::ingest::{self, Format, IngestOptions, IngestReport};
use crate::report::{markdown, ReportInput};
use crate::slices::{self, CompareSettings, Comparison, SliceStats};
use crate::tagging::{self, Coverage};
use crate::taxonomy::TaxonomySet;

/// A pipeline config file. Relative paths are relative to the file's folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    /// Log folders or files.
    pub inputs: Vec<PathBuf>,
    #[serde(default)]
    pub format: Option<String>,
    /// Column mapping for generic inputs.
    #[serde(default)]
    pub columns: Option<PathBuf>,
    #[serde(default)]
    pub skip_bad: bool,
    /// Evaluation taxonomy files.
    pub taxonomies: Vec<PathBuf>,
    pub baseline: String,
    pub candidate: String,
    /// Output folder (the `--out` option overrides it).
    #[serde(default)]
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub compare: CompareSettings,
    #[serde(default)]
    pub diagnose: DiagnoseSettings,
}

impl PipelineConfig {
    pub fn load(path: &Path) -> Result<PipelineConfig> {
        let mut cfg: PipelineConfig = crate::config::load_yaml(path)?;
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
        cfg.inputs = cfg.inputs.iter().map(resolve).collect();
        cfg.taxonomies = cfg.taxonomies.iter().map(resolve).collect();
        cfg.columns = cfg.columns.as_ref().map(resolve);
        cfg.out = cfg.out.as_ref().map(resolve);
        Ok(cfg)
    }

    pub fn format(&self) -> Result<Format> {
        use clap::ValueEnum;
        match &self.format {
            None => Ok(Format::Auto),
            Some(f) => Format::from_str(f, true).map_err(|_| {
                Error::usage(format!(
                    "format '{f}' is not known; use one of auto, lm-eval, generic, inspect, lighteval, opencompass"
                ))
            }),
        }
    }
}

/// What a pipeline run produced.
pub struct Outcome {
    pub out: PathBuf,
    pub ingest: IngestReport,
    pub coverage: Vec<Coverage>,
    pub slices: Vec<SliceStats>,
    pub comparison: Comparison,
    pub evidence: Evidence,
}

/// Run the pipeline, writing every output file into `out`.
pub fn run(cfg: &PipelineConfig, out: &Path) -> Result<Outcome> {
    // Fail fast: configs and output folder before the expensive steps.
    let taxonomy = TaxonomySet::load(&cfg.taxonomies)?;
    crate::error::create_dir(out)?;
    let opts = IngestOptions {
        format: cfg.format()?,
        columns: cfg.columns.clone(),
        skip_bad: cfg.skip_bad,
        ..IngestOptions::default()
    };
    let (mut table, ingest_report) = ingest::ingest(&cfg.inputs, &opts)?;
    let coverage = tagging::tag_table(&mut table, &taxonomy);
    let samples = out.join("samples.parquet");
    crate::table::write_parquet(&table, &samples)?;
    drop(table);

    let ds = slices::load(&samples, &cfg.compare.filters)?;
    let base = ds.run_index(&cfg.baseline)?;
    let cand = ds.run_index(&cfg.candidate)?;
    let defined = slices::slices(&ds, cfg.compare.max_order, cfg.compare.min_items);
    let stats = slices::measure_all(&ds, &defined, cfg.compare.confidence);
    let comparison = slices::compare(&ds, base, cand, &defined, &cfg.compare);
    let evidence = diagnose::diagnose_loaded(
        &samples,
        &ds,
        Some(base),
        cand,
        Some(&comparison),
        &cfg.compare,
        &cfg.diagnose,
    )?;

    slices::write::write_slices_csv(&out.join("slices.csv"), &stats)?;
    slices::write::write_comparison_csv(&out.join("comparison.csv"), &comparison)?;
    slices::write::write_json(&out.join("comparison.json"), &comparison)?;
    slices::write::write_json(&out.join("ingest.json"), &ingest_report)?;
    slices::write::write_json(&out.join("evidence.json"), &evidence)?;
    let mut report = markdown::render(&ReportInput {
        title: format!("caploop: {} vs {}", cfg.baseline, cfg.candidate),
        ingest: Some(&ingest_report),
        coverage: &coverage,
        slices: &stats,
        comparison: Some(&comparison),
    });
    // The diagnosis goes first: verdicts before the tables they rest on.
    if let Some(at) = report.find("\n## Summary") {
        report.insert_str(at + 1, &diagnose::markdown::render(&evidence));
    } else {
        report.push_str(&diagnose::markdown::render(&evidence));
    }
    crate::error::write_file(&out.join("report.md"), report)?;
    Ok(Outcome {
        out: out.to_path_buf(),
        ingest: ingest_report,
        coverage,
        slices: stats,
        comparison,
        evidence,
    })
}
