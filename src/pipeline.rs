//! The whole pipeline from one config: ingest -> tag -> slices -> compare ->
//! report. `caploop run` and `caploop demo` both go through [`run`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnose::{self, DiagnoseSettings, Evidence};
use crate::error::{Error, Result};
use crate::history::History;
use crate::ingest::{self, Format, IngestOptions, IngestReport, SinkOptions};
use crate::plan::{InputFile, Plan, PlanFiles, PlanSettings};
use crate::progress::Progress;
use crate::report::{charts, html, markdown, ExampleItem, Grid, ReportInput, Sections};
use crate::slices::{self, CompareSettings, Comparison, SliceStats};
use crate::tagging::Coverage;
use crate::taxonomy::TaxonomySet;
use crate::verify::{Verification, VerifyOptions};

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
    /// Shorten run ids to their last path component (`/models/x/ckpt` -> `ckpt`).
    #[serde(default)]
    pub short_run_ids: bool,
    /// Evaluation taxonomy files.
    pub taxonomies: Vec<PathBuf>,
    /// Tag in another vocabulary: a mapping from the taxonomies' values to a
    /// label space (`taxonomies/paper/mapping.yaml`: the paper's), as `tag
    /// --vocabulary`.
    #[serde(default)]
    pub vocabulary: Option<PathBuf>,
    /// Imported per-item labels (one record per labeler and item), as `tag
    /// --labels`: they replace the rule-derived values of their axis.
    #[serde(default)]
    pub labels: Vec<PathBuf>,
    /// Adjudicated labels (a person's), which take precedence over `labels`.
    #[serde(default)]
    pub adjudicated: Vec<PathBuf>,
    pub baseline: String,
    pub candidate: String,
    /// Output folder (the `--out` option overrides it).
    #[serde(default)]
    pub out: Option<PathBuf>,
    #[serde(default)]
    pub compare: CompareSettings,
    #[serde(default)]
    pub diagnose: DiagnoseSettings,
    /// Data taxonomy and mapping rules for the plan (default: the shipped ones).
    #[serde(default)]
    pub data_taxonomy: Option<PathBuf>,
    #[serde(default)]
    pub mapping: Option<PathBuf>,
    #[serde(default)]
    pub plan: PlanSettings,
    /// Later runs to verify the plan against (the candidate is their baseline).
    #[serde(default)]
    pub verify: Vec<String>,
    /// Verify even when the evaluation changed between the runs.
    #[serde(default)]
    pub allow_changed_eval: bool,
    /// A checkpoint series for the history section (run ids in training
    /// order); empty for none.
    #[serde(default)]
    pub history: Vec<String>,
}

impl PipelineConfig {
    /// A config with every setting at its default.
    pub fn new(
        inputs: Vec<PathBuf>,
        taxonomies: Vec<PathBuf>,
        baseline: &str,
        candidate: &str,
    ) -> PipelineConfig {
        PipelineConfig {
            inputs,
            format: None,
            columns: None,
            skip_bad: false,
            short_run_ids: false,
            taxonomies,
            vocabulary: None,
            labels: Vec::new(),
            adjudicated: Vec::new(),
            baseline: baseline.to_string(),
            candidate: candidate.to_string(),
            out: None,
            compare: CompareSettings::default(),
            diagnose: DiagnoseSettings::default(),
            data_taxonomy: None,
            mapping: None,
            plan: PlanSettings::default(),
            verify: Vec::new(),
            allow_changed_eval: false,
            history: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<PipelineConfig> {
        let text = crate::config::read_config_text(path)?;
        let mut cfg: PipelineConfig = crate::config::parse_yaml(path, &text)?;
        crate::settings::check_sections(
            path,
            &text,
            &crate::settings::Settings {
                compare: cfg.compare.clone(),
                diagnose: cfg.diagnose.clone(),
                plan: cfg.plan.clone(),
            },
        )?;
        let base = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
        cfg.inputs = cfg.inputs.iter().map(resolve).collect();
        cfg.taxonomies = cfg.taxonomies.iter().map(resolve).collect();
        cfg.vocabulary = cfg.vocabulary.as_ref().map(resolve);
        cfg.labels = cfg.labels.iter().map(resolve).collect();
        cfg.adjudicated = cfg.adjudicated.iter().map(resolve).collect();
        cfg.columns = cfg.columns.as_ref().map(resolve);
        cfg.out = cfg.out.as_ref().map(resolve);
        cfg.data_taxonomy = cfg.data_taxonomy.as_ref().map(resolve);
        cfg.mapping = cfg.mapping.as_ref().map(resolve);
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
    pub plan: Plan,
    pub verifications: Vec<Verification>,
    pub history: Option<History>,
    /// What the config's `labels:` and `adjudicated:` imported.
    pub labels: Option<crate::labels::agree::LabelReport>,
}

/// Example items for the report: the first examples of the strongest
/// discovered slices, and the largest regressions of benchmarks whose
/// verdict is not about slices. Their text is read back from the sample
/// table, keeping only the rows wanted.
fn examples(samples: &Path, evidence: &Evidence, base: &str, cand: &str) -> Result<Vec<ExampleItem>> {
    use crate::table::columns as c;
    let mut wanted: Vec<(String, String, String)> = Vec::new();
    for v in &evidence.verdicts {
        let picks: Vec<(String, &[String])> = if v.verdict == diagnose::Verdict::DataIn {
            v.slices
                .iter()
                .filter(|s| s.significant)
                .take(2)
                .map(|s| (s.slice.clone(), s.example_items.as_slice()))
                .collect()
        } else if v.verdict != diagnose::Verdict::None {
            v.slices
                .iter()
                .take(1)
                .map(|s| (s.slice.clone(), s.example_items.as_slice()))
                .collect()
        } else {
            Vec::new()
        };
        for (slice, ids) in picks {
            for id in ids.iter().take(3) {
                wanted.push((v.benchmark.clone(), slice.clone(), id.clone()));
            }
        }
    }
    type Row = (Option<String>, Option<String>, Option<String>, f64);
    let keys: std::collections::HashSet<(&str, &str)> =
        wanted.iter().map(|(b, _, i)| (b.as_str(), i.as_str())).collect();
    let mut rows: std::collections::HashMap<(String, String, String), Row> = std::collections::HashMap::new();
    if !keys.is_empty() {
        let cols = [
            c::RUN,
            c::BENCHMARK,
            c::ITEM_ID,
            c::PRIMARY_FILTER,
            c::SAMPLE_IDX,
            c::PROMPT,
            c::TARGET,
            c::RESPONSE,
            c::SCORE,
        ];
        crate::table::for_each_batch(samples, &cols, |df, _| {
            let frame = |e| Error::frame(samples, e);
            let get = |n: &str| df.column(n).map_err(frame);
            let run = get(c::RUN)?.str().map_err(frame)?;
            let bench = get(c::BENCHMARK)?.str().map_err(frame)?;
            let item = get(c::ITEM_ID)?.str().map_err(frame)?;
            let primary = get(c::PRIMARY_FILTER)?.bool().map_err(frame)?;
            let sample = get(c::SAMPLE_IDX)?.u32().map_err(frame)?;
            let prompt = get(c::PROMPT)?.str().map_err(frame)?;
            let target = get(c::TARGET)?.str().map_err(frame)?;
            let response = get(c::RESPONSE)?.str().map_err(frame)?;
            let score = get(c::SCORE)?.f64().map_err(frame)?;
            for i in 0..df.height() {
                let r = run.get(i).unwrap_or("");
                if !(r == base || r == cand) || !primary.get(i).unwrap_or(true) || sample.get(i) != Some(0) {
                    continue;
                }
                let (b, it) = (bench.get(i).unwrap_or(""), item.get(i).unwrap_or(""));
                if !keys.contains(&(b, it)) {
                    continue;
                }
                rows.entry((r.to_string(), b.to_string(), it.to_string()))
                    .or_insert_with(|| {
                        (
                            prompt.get(i).map(str::to_string),
                            target.get(i).map(str::to_string),
                            response.get(i).map(str::to_string),
                            score.get(i).unwrap_or(f64::NAN),
                        )
                    });
            }
            Ok(())
        })?;
    }
    Ok(wanted
        .into_iter()
        .map(|(benchmark, slice, item_id)| {
            let b = rows.get(&(base.to_string(), benchmark.clone(), item_id.clone()));
            let c = rows.get(&(cand.to_string(), benchmark.clone(), item_id.clone()));
            let any = c.or(b);
            ExampleItem {
                prompt: any.and_then(|r| r.0.clone()),
                target: any.and_then(|r| r.1.clone()),
                baseline_response: b.and_then(|r| r.2.clone()),
                candidate_response: c.and_then(|r| r.2.clone()),
                baseline_score: b.map(|r| r.3),
                candidate_score: c.map(|r| r.3),
                benchmark,
                slice,
                item_id,
            }
        })
        .collect())
}

/// Run the pipeline, writing every output file into `out`.
pub fn run(cfg: &PipelineConfig, out: &Path) -> Result<Outcome> {
    run_with(cfg, out, &Progress::new(true))
}

/// [`run`], showing progress. Values pass between stages in memory; each
/// output file is written once.
pub fn run_with(cfg: &PipelineConfig, out: &Path, progress: &Progress) -> Result<Outcome> {
    // Fail fast: every config and the output folder before the expensive steps.
    let taxonomy = TaxonomySet::load(&cfg.taxonomies)?;
    let vocabulary = crate::labels::apply::vocabulary(cfg.vocabulary.as_deref(), &taxonomy)?;
    // Tags in another vocabulary, or with imported labels, are written by
    // the tag stage over the ingested table (the labels are checked against
    // its items); otherwise the sink tags while ingesting.
    let retag = vocabulary.is_some() || !cfg.labels.is_empty() || !cfg.adjudicated.is_empty();
    let label_report = out.join("labels.json");
    let label_disagreements = out.join("disagreements.jsonl");
    let real = |p: &Path| p.canonicalize().ok();
    let outputs: Vec<PathBuf> = [
        out.join("samples.parquet"),
        label_report.clone(),
        label_disagreements.clone(),
    ]
    .iter()
    .filter_map(|p| real(p))
    .collect();
    for input in cfg.labels.iter().chain(&cfg.adjudicated) {
        if !input.is_file() {
            return Err(Error::usage(format!("{}: no such label file", input.display())));
        }
        if real(input).is_some_and(|i| outputs.contains(&i)) {
            return Err(Error::usage(format!(
                "{} is an input and would be overwritten by an output of the run in {}; choose another --out",
                input.display(),
                out.display()
            )));
        }
    }
    let rescorer = diagnose::rescore::Rescorer::new(&cfg.diagnose.rescore_patterns)?;
    let plan_files = PlanFiles {
        evidence: out.join("evidence.json"),
        data_taxonomy: cfg.data_taxonomy.clone(),
        mapping: cfg.mapping.clone(),
        taxonomies: cfg.taxonomies.clone(),
    };
    crate::plan::check_configs(&plan_files)?;
    crate::manifest::begin(out)?;
    let opts = IngestOptions {
        format: cfg.format()?,
        columns: cfg.columns.clone(),
        skip_bad: cfg.skip_bad,
        short_run_ids: cfg.short_run_ids,
        ..IngestOptions::default()
    };
    let samples = out.join("samples.parquet");
    let stage = progress.stage("ingest and tag", 0);
    let (ingested, ingest_report) = ingest::ingest_into(
        &cfg.inputs,
        &opts,
        SinkOptions {
            out: Some(&samples),
            taxonomy: (!retag).then_some(&taxonomy),
            diagnosis: Some((&cfg.diagnose.detectors, &rescorer)),
            index: true,
            skip_bad: cfg.skip_bad,
            ..SinkOptions::new(&cfg.compare.filters)
        },
    )?;
    let mut coverage = ingested.coverage;
    let mut ds = ingested.dataset;
    let diags = ingested.diags.unwrap_or_default();
    let mut labels = None;
    if retag {
        let (cov, imported) = crate::labels::apply::retag(
            &samples,
            &taxonomy,
            vocabulary.as_ref(),
            &cfg.labels,
            &cfg.adjudicated,
            &samples,
        )?;
        coverage = cov;
        if let Some(imported) = imported {
            slices::write::write_json(&label_report, &imported.report)?;
            crate::error::write_file(&label_disagreements, imported.disagreements)?;
            labels = Some(imported.report);
        }
        ds = retagged(&samples, &cfg.compare.filters, ds)?;
    }
    stage.finish();
    crate::trace::memory("ingest");

    let stage = progress.stage("compare", 0);
    let base = ds.run_index(&cfg.baseline)?;
    let cand = ds.run_index(&cfg.candidate)?;
    let defined = slices::slices(&ds, cfg.compare.max_order, cfg.compare.min_items);
    let stats = slices::measure_all(&ds, &defined, cfg.compare.confidence, &cfg.compare.pass_k);
    crate::trace::memory("slices");
    let comparison = slices::compare(&ds, base, cand, &defined, &cfg.compare);
    stage.finish();
    crate::trace::memory("compare");
    let stage = progress.stage("diagnose", 0);
    let mut evidence = diagnose::diagnose_loaded(
        &ds,
        &diags,
        Some(base),
        cand,
        Some(&comparison),
        &cfg.compare,
        &cfg.diagnose,
    );
    drop(diags);
    let fields = |b: &str| taxonomy.text_fields(b);
    diagnose::attach_gaps(&mut evidence, &samples, &ds, &fields, cfg.compare.fdr)?;
    let examples = examples(&samples, &evidence, &cfg.baseline, &cfg.candidate)?;
    stage.finish();
    crate::trace::memory("diagnose");
    let stage = progress.stage("report", 0);
    let cells = charts::cell_slices(&ds, "operation", "task_type");
    let grid_cmp = slices::compare(&ds, base, cand, &cells, &cfg.compare);

    slices::write::write_slices_csv(&out.join("slices.csv"), &stats, &cfg.compare.pass_k)?;
    slices::write::write_comparison_csv(&out.join("comparison.csv"), &comparison)?;
    slices::write::write_json(&out.join("comparison.json"), &comparison)?;
    slices::write::write_json(&out.join("ingest.json"), &ingest_report)?;
    diagnose::weakness::write::write_csv(&out.join("weakness.csv"), &evidence.weakness)?;
    let ev_bytes = slices::write::json_bytes(&evidence)?;
    crate::error::write_file(&plan_files.evidence, &ev_bytes)?;
    let ev_input = InputFile::new("evidence", &plan_files.evidence.display().to_string(), &ev_bytes);
    let plan = crate::plan::make_from_evidence(&evidence, ev_input, &plan_files, &cfg.plan)?;
    crate::plan::write(&plan, out)?;
    let plan_file = out.join("plan.json");
    let plan_input = InputFile::new(
        "plan",
        &plan_file.display().to_string(),
        &slices::write::json_bytes(&plan)?,
    );
    let mut verifications = Vec::new();
    for run in &cfg.verify {
        let v = crate::verify::verify_loaded(
            &VerifyOptions {
                plan: &plan_file,
                samples: &samples,
                baseline: &cfg.candidate,
                candidate: run,
                allow_changed_eval: cfg.allow_changed_eval,
                compare: &cfg.compare,
            },
            &plan,
            plan_input.clone(),
            &ds,
        )?;
        crate::verify::write(&v, &out.join(format!("verify-{}", crate::error::safe_name(run))))?;
        verifications.push(v);
    }
    let history = if cfg.history.is_empty() {
        None
    } else {
        let h = crate::history::history(&ds, &cfg.history, &cfg.compare)?;
        crate::slices::write::write_json(&out.join("history.json"), &h)?;
        Some(h)
    };
    let input = ReportInput {
        title: format!("caploop: {} vs {}", cfg.baseline, cfg.candidate),
        ingest: Some(&ingest_report),
        coverage: &coverage,
        slices: &stats,
        comparison: Some(&comparison),
    };
    let sections = Sections {
        grid: Some(Grid {
            rows: "operation",
            cols: "task_type",
            comparison: Some(&grid_cmp),
            stats: &[],
        }),
        examples: &examples,
        diagnosis: Some(&evidence),
        plan: Some(&plan),
        verifications: &verifications,
        history: history.as_ref(),
    };
    let chart_files = charts::write_all(out, &input, &sections)?;
    crate::error::write_file(&out.join("report.html"), html::render(&input, &sections))?;
    let mut report = markdown::render_linked(&input, &chart_files);
    // The diagnosis goes first: verdicts before the tables they rest on.
    if let Some(at) = report.find("\n## Summary") {
        report.insert_str(at + 1, &diagnose::markdown::render(&evidence));
    } else {
        report.push_str(&diagnose::markdown::render(&evidence));
    }
    if let Some(at) = report.find("\n## Summary") {
        let mut loop_md = crate::plan::markdown::section(&plan);
        for v in &verifications {
            loop_md.push_str(&crate::verify::markdown::section(v));
        }
        if let Some(h) = &history {
            loop_md.push_str(&crate::history::markdown(h));
        }
        report.insert_str(at + 1, &loop_md);
    }
    crate::error::write_file(
        &out.join("report.md"),
        crate::report::text::markdown_safe(&report),
    )?;
    crate::manifest::finish(out)?;
    stage.finish();
    crate::trace::memory("report");
    Ok(Outcome {
        out: out.to_path_buf(),
        ingest: ingest_report,
        coverage,
        slices: stats,
        comparison,
        evidence,
        plan,
        verifications,
        history,
        labels,
    })
}

/// The dataset of the re-tagged `samples`: the ingested one's items and
/// runs in the same order (the diagnosis summaries index them), with the
/// new tags.
fn retagged(
    samples: &Path,
    filters: &std::collections::BTreeMap<String, String>,
    ingested: slices::Dataset,
) -> Result<slices::Dataset> {
    let ds = slices::load(samples, filters)?;
    let same = ds.runs == ingested.runs
        && ds.benchmarks == ingested.benchmarks
        && ds.items.len() == ingested.items.len()
        && ds
            .items
            .iter()
            .zip(&ingested.items)
            .all(|(a, b)| a.benchmark == b.benchmark && a.task == b.task && a.id == b.id);
    if !same {
        return Err(Error::Usage(format!(
            "{}: the re-tagged table lists its items in another order than ingest did; this is a bug in caploop, please report it",
            samples.display()
        )));
    }
    Ok(ds)
}
