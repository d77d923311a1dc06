//! Plans (DESIGN section 7): from the diagnosis to interventions, a new
//! mixture and the hypotheses the next evaluation must confirm.
//!
//! - `data_in` slices (or, without a baseline, the run's significantly weak
//!   slices) are mapped through the mapping rules onto data categories and
//!   become `data_upweight` interventions, plus a `data_patch` where a rule
//!   asks for new data. Slices no rule maps are listed as unmapped.
//! - `data_out` benchmarks get a `training_fix` named by the diagnosis rule,
//!   and no data change.
//! - A target slice too small to show the expected effect gets `eval_growth`.
//!
//! Every number the plan states is derived here from the evidence and the
//! settings; nothing depends on time, threads or paths other than as given,
//! so the same inputs give a byte-identical `plan.json`.

mod build;
pub mod evidence;
pub mod markdown;
pub mod mixture;
pub mod settings;
pub mod weakness;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::mapping::{DataTaxonomy, MappingRules, Patch};
pub use build::{build, PlanInput};
pub use mixture::Bound;
pub use settings::PlanSettings;

pub const SCHEMA_VERSION: u32 = 1;

/// An input file and its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    /// `evidence`, `data_taxonomy`, `mapping`, `taxonomy`.
    pub role: String,
    pub path: String,
    pub sha256: String,
}

impl InputFile {
    pub fn new(role: &str, path: &str, bytes: &[u8]) -> InputFile {
        InputFile {
            role: role.into(),
            path: path.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// The kind of an intervention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DataUpweight,
    DataPatch,
    TrainingFix,
    EvalGrowth,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DataUpweight => "data_upweight",
            Kind::DataPatch => "data_patch",
            Kind::TrainingFix => "training_fix",
            Kind::EvalGrowth => "eval_growth",
        }
    }
}

/// The statistics an intervention rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceEvidence {
    /// `data_in`, `data_out`, or `weak` (no baseline: weak against the rest of the benchmark).
    pub source: String,
    pub items: usize,
    /// The diagnosed run's mean in the slice.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub mean: f64,
    /// What the slice lost: the mean paired delta in it (`data_in`), its
    /// distance below the rest of the benchmark (`weak`), or the benchmark's
    /// delta (`data_out`). Negative.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    /// None for a whole-benchmark `data_out` effect (its test is in the evidence's comparison).
    pub p_value: Option<f64>,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    /// Up to `max_examples` item ids from the evidence.
    pub example_items: Vec<String>,
    /// `concept_gap`, `capability_deficit`, `both` or `other` (from the evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakness_kind: Option<String>,
}

/// Where mapped data goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapped {
    pub rules: Vec<String>,
    pub rationale: Vec<String>,
    /// `w_s`: weakness of the slice (|effect| x (1 - q)).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub weakness: f64,
    /// Category -> `r_sd`.
    pub categories: BTreeMap<String, f64>,
    /// Concept gaps: the knowledge values the documents' domain should match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corpus_domains: Vec<String>,
    /// Capability deficits: the document-side operation opportunities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operation_opportunities: Vec<String>,
}

/// The training-side fix of a `data_out` verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingFix {
    pub rule: String,
    pub fix: String,
    pub action: String,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub format_share_of_drop: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub recovered_by_rescoring: f64,
}

/// How much bigger a slice must get to be measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    pub items: usize,
    pub items_needed: usize,
    pub add: usize,
}

/// A slice expected to move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub benchmark: String,
    pub slice: String,
    /// `improve`.
    pub direction: String,
    /// The smallest improvement the plan predicts (accuracy points as a fraction).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub min_effect: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub current_mean: f64,
    pub items: usize,
    /// Paired items needed to see `min_effect` at the plan's alpha and power
    /// (planning SD of two independent binomials: conservative).
    pub items_needed: Option<usize>,
}

/// A slice that must not regress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    pub benchmark: String,
    pub slice: String,
    /// A drop larger than this, significant, breaks the guardrail.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub max_drop: f64,
}

/// What an intervention predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hypothesis {
    pub id: String,
    pub statement: String,
    pub targets: Vec<Target>,
    pub guardrails: Vec<Guardrail>,
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervention {
    pub id: String,
    pub kind: Kind,
    pub benchmark: String,
    pub slice: String,
    pub summary: String,
    pub evidence: SliceEvidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<Mapped>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_fix: Option<TrainingFix>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub growth: Option<Growth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<Hypothesis>,
}

/// A weak slice that no mapping rule covers: listed, never dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unmapped {
    pub benchmark: String,
    pub slice: String,
    pub evidence: SliceEvidence,
}

/// A benchmark the plan does not act on, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotActed {
    pub benchmark: String,
    pub verdict: String,
    pub reason: String,
}

/// One category of the new mixture (what `apply` needs: the category and
/// its new share; the rest reads as 0 when missing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixtureRow {
    pub category: String,
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub base_share: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub new_share: f64,
    /// new_share - base_share.
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub change: f64,
    /// `u_d`.
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub upweight: f64,
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub base_tokens: f64,
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub tokens: f64,
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub tokens_available: f64,
    /// Passes over the available tokens at the new share.
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub epochs: f64,
    #[serde(default)]
    pub bound: Option<Bound>,
}

/// The new mixture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mixture {
    #[serde(default)]
    pub data_taxonomy: String,
    #[serde(default)]
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub budget_tokens: f64,
    /// Whether any share changed.
    #[serde(default)]
    pub changed: bool,
    pub categories: Vec<MixtureRow>,
}

/// What was diagnosed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub baseline: Option<String>,
    /// The run the plan is made for: the next evaluation is compared to it.
    pub candidate: String,
    pub verdict: String,
    pub reason: String,
}

/// `plan.json`. `verify` and `apply` read it back; `apply` needs only the
/// mixture (and the weakness pool), so a hand-written plan may leave out
/// the rest, which then reads as empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub schema_version: u32,
    #[serde(default)]
    pub inputs: Vec<InputFile>,
    #[serde(default)]
    pub evaluation: Evaluation,
    #[serde(default)]
    pub settings: PlanSettings,
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    #[serde(default)]
    pub unmapped: Vec<Unmapped>,
    #[serde(default)]
    pub not_acted: Vec<NotActed>,
    pub mixture: Mixture,
    /// The weakness analysis's feature pool for the apply stage (PAPER.md section 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakness: Option<weakness::PlanWeakness>,
}

impl Plan {
    /// Every hypothesis, in intervention order.
    pub fn hypotheses(&self) -> impl Iterator<Item = (&Intervention, &Hypothesis)> {
        self.interventions
            .iter()
            .filter_map(|i| i.hypothesis.as_ref().map(|h| (i, h)))
    }
}

/// `1.2B`, `350M`: token counts for people.
pub fn human_tokens(t: f64) -> String {
    let (v, unit) = if t >= 1e12 {
        (t / 1e12, "T")
    } else if t >= 1e9 {
        (t / 1e9, "B")
    } else if t >= 1e6 {
        (t / 1e6, "M")
    } else if t >= 1e3 {
        (t / 1e3, "k")
    } else {
        (t, "")
    };
    let s = format!("{v:.1}");
    format!("{}{unit}", s.trim_end_matches(".0"))
}

/// Write `plan.json` and `plan.md` into `out`.
pub fn write(plan: &Plan, out: &Path) -> Result<()> {
    crate::error::create_dir(out)?;
    crate::slices::write::write_json(&out.join("plan.json"), plan)?;
    crate::error::write_file(
        &out.join("plan.md"),
        crate::report::text::markdown_safe(&markdown::render(plan)),
    )
}

/// The files a plan is made from; `None` uses the shipped default.
#[derive(Debug, Clone, Default)]
pub struct PlanFiles {
    /// `evidence.json` or the folder holding it.
    pub evidence: std::path::PathBuf,
    pub data_taxonomy: Option<std::path::PathBuf>,
    pub mapping: Option<std::path::PathBuf>,
    /// Evaluation taxonomies whose axis values the mapping rules may use;
    /// the shipped ones when empty.
    pub taxonomies: Vec<std::path::PathBuf>,
}

/// Read a config file, or the shipped one: (path as recorded, text).
fn config_text(
    given: &Option<std::path::PathBuf>,
    shipped: (&str, &str),
) -> Result<(std::path::PathBuf, String)> {
    match given {
        Some(p) => Ok((p.clone(), crate::error::read_text(p)?)),
        None => Ok((
            std::path::PathBuf::from(format!("(shipped) configs/{}", shipped.0)),
            shipped.1.to_string(),
        )),
    }
}

/// Load and validate the data taxonomy and the mapping rules (every error
/// at once), with the inputs to record.
fn load_configs(files: &PlanFiles) -> Result<(DataTaxonomy, MappingRules, Vec<InputFile>)> {
    let mut inputs = Vec::new();
    let (dpath, dtext) = config_text(&files.data_taxonomy, crate::shipped::DATA_TAXONOMY)?;
    let data = DataTaxonomy::from_yaml_str(&dpath, &dtext)?;
    inputs.push(InputFile::new(
        "data_taxonomy",
        &dpath.display().to_string(),
        dtext.as_bytes(),
    ));

    // Mapping rules may name the values of the given taxonomies and of the
    // shipped ones (the shipped rules cover every shipped family).
    let mut axes = crate::shipped::known_axes()?;
    if !files.taxonomies.is_empty() {
        let set = crate::taxonomy::TaxonomySet::load(&files.taxonomies)?;
        for t in &files.taxonomies {
            let bytes = crate::error::read_file(t)?;
            inputs.push(InputFile::new("taxonomy", &t.display().to_string(), &bytes));
        }
        for (axis, values) in crate::mapping::known_axes(&set) {
            axes.entry(axis).or_default().extend(values);
        }
    }
    let (mpath, mtext) = config_text(&files.mapping, crate::shipped::MAPPING)?;
    let mapping = MappingRules::from_yaml_str(&mpath, &mtext, &data, &axes)?;
    inputs.push(InputFile::new(
        "mapping",
        &mpath.display().to_string(),
        mtext.as_bytes(),
    ));

    Ok((data, mapping, inputs))
}

/// Validate the plan's configs before any expensive stage runs.
pub fn check_configs(files: &PlanFiles) -> Result<()> {
    load_configs(files).map(|_| ())
}

/// Load every input, record its SHA-256, and build the plan.
pub fn make(files: &PlanFiles, settings: &PlanSettings) -> Result<Plan> {
    let ev_file = evidence::evidence_file(&files.evidence);
    let ev_bytes = crate::error::read_file(&ev_file)?;
    let ev = evidence::load(&ev_file, &ev_bytes)?;
    let input = InputFile::new("evidence", &ev_file.display().to_string(), &ev_bytes);
    make_from_evidence(&ev, input, files, settings)
}

/// [`make`] from evidence already in memory; `evidence` records the file
/// it was written to and its SHA-256 (`files.evidence` is not read).
pub fn make_from_evidence(
    ev: &crate::diagnose::Evidence,
    evidence: InputFile,
    files: &PlanFiles,
    settings: &PlanSettings,
) -> Result<Plan> {
    let mut inputs = vec![evidence];
    let (data, mapping, more) = load_configs(files)?;
    inputs.extend(more);
    build(PlanInput {
        evidence: ev,
        data: &data,
        mapping: &mapping,
        inputs,
        settings,
    })
}

/// Read `plan.json` (`bytes` of `file`) back, checking its schema version.
pub fn read(file: &Path, bytes: &[u8]) -> Result<Plan> {
    crate::json::read_versioned(
        file,
        bytes,
        "plan",
        "not a caploop plan (plan.json of `caploop plan`)",
        SCHEMA_VERSION,
    )
}
