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

pub mod evidence;
pub mod markdown;
pub mod mixture;
pub mod settings;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::mapping::{DataTaxonomy, MappingRules, Patch};
use evidence::{EvidenceView, SliceView};
pub use mixture::Bound;
pub use settings::PlanSettings;

pub const SCHEMA_VERSION: u32 = 1;

/// An input file and its SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceEvidence {
    /// `data_in`, `data_out`, or `weak` (no baseline: weak against the rest of the benchmark).
    pub source: String,
    pub items: usize,
    /// The diagnosed run's mean in the slice.
    pub mean: f64,
    /// What the slice lost: the mean paired delta in it (`data_in`), its
    /// distance below the rest of the benchmark (`weak`), or the benchmark's
    /// delta (`data_out`). Negative.
    pub effect: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// None for a whole-benchmark `data_out` effect (its test is in the evidence's comparison).
    pub p_value: Option<f64>,
    pub q_value: f64,
    /// Up to `max_examples` item ids from the evidence.
    pub example_items: Vec<String>,
}

/// Where mapped data goes and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapped {
    pub rules: Vec<String>,
    pub rationale: Vec<String>,
    /// `w_s`: weakness of the slice (|effect| x (1 - q)).
    pub weakness: f64,
    /// Category -> `r_sd`.
    pub categories: BTreeMap<String, f64>,
}

/// The training-side fix of a `data_out` verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingFix {
    pub rule: String,
    pub fix: String,
    pub action: String,
    pub format_share_of_drop: f64,
    pub recovered_by_rescoring: f64,
}

/// How much bigger a slice must get to be measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    pub items: usize,
    pub items_needed: usize,
    pub add: usize,
}

/// A slice expected to move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub benchmark: String,
    pub slice: String,
    /// `improve`.
    pub direction: String,
    /// The smallest improvement the plan predicts (accuracy points as a fraction).
    pub min_effect: f64,
    pub current_mean: f64,
    pub items: usize,
    /// Paired items needed to see `min_effect` at the plan's alpha and power
    /// (planning SD of two independent binomials: conservative).
    pub items_needed: Option<usize>,
}

/// A slice that must not regress.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guardrail {
    pub benchmark: String,
    pub slice: String,
    /// A drop larger than this, significant, breaks the guardrail.
    pub max_drop: f64,
}

/// What an intervention predicts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hypothesis {
    pub id: String,
    pub statement: String,
    pub targets: Vec<Target>,
    pub guardrails: Vec<Guardrail>,
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unmapped {
    pub benchmark: String,
    pub slice: String,
    pub evidence: SliceEvidence,
}

/// A benchmark the plan does not act on, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotActed {
    pub benchmark: String,
    pub verdict: String,
    pub reason: String,
}

/// One category of the new mixture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixtureRow {
    pub category: String,
    pub base_share: f64,
    pub new_share: f64,
    /// new_share - base_share.
    pub change: f64,
    /// `u_d`.
    pub upweight: f64,
    pub base_tokens: f64,
    pub tokens: f64,
    pub tokens_available: f64,
    /// Passes over the available tokens at the new share.
    pub epochs: f64,
    pub bound: Option<Bound>,
}

/// The new mixture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mixture {
    pub data_taxonomy: String,
    pub budget_tokens: f64,
    /// Whether any share changed.
    pub changed: bool,
    pub categories: Vec<MixtureRow>,
}

/// What was diagnosed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub baseline: Option<String>,
    /// The run the plan is made for: the next evaluation is compared to it.
    pub candidate: String,
    pub verdict: String,
    pub reason: String,
}

/// `plan.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub schema_version: u32,
    pub inputs: Vec<InputFile>,
    pub evaluation: Evaluation,
    pub settings: PlanSettings,
    pub interventions: Vec<Intervention>,
    pub unmapped: Vec<Unmapped>,
    pub not_acted: Vec<NotActed>,
    pub mixture: Mixture,
}

impl Plan {
    /// Every hypothesis, in intervention order.
    pub fn hypotheses(&self) -> impl Iterator<Item = (&Intervention, &Hypothesis)> {
        self.interventions
            .iter()
            .filter_map(|i| i.hypothesis.as_ref().map(|h| (i, h)))
    }
}

fn planning_items(mean: f64, effect: f64, s: &PlanSettings) -> Option<usize> {
    let p0 = mean.clamp(0.0, 1.0);
    let p1 = (mean + effect).clamp(0.0, 1.0);
    let sd = (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt().max(0.05);
    crate::stats::items_needed(effect, sd, s.alpha, s.power)
}

fn slice_evidence(source: &str, v: &SliceView, effect: f64, s: &PlanSettings) -> SliceEvidence {
    SliceEvidence {
        source: source.into(),
        items: v.items,
        mean: v.candidate_mean,
        effect,
        ci_low: v.ci_low,
        ci_high: v.ci_high,
        p_value: Some(v.p_value),
        q_value: v.q_value,
        example_items: v.example_items.iter().take(s.max_examples).cloned().collect(),
    }
}

/// A data-attributable weak slice, before mapping.
struct DataSlice {
    benchmark: String,
    slice: String,
    evidence: SliceEvidence,
}

/// The slices a plan acts on with data: `data_in` concentrations, or weak
/// slices of the candidate when there is no baseline.
fn data_slices(ev: &EvidenceView, s: &PlanSettings) -> Vec<DataSlice> {
    let mut out = Vec::new();
    for v in ev.verdicts.iter().filter(|v| v.verdict == "data_in") {
        for sl in v
            .slices
            .iter()
            .filter(|x| x.significant && x.effect_in < 0.0 && x.effect_diff < 0.0)
            .take(s.max_slices)
        {
            out.push(DataSlice {
                benchmark: v.benchmark.clone(),
                slice: sl.slice.clone(),
                evidence: slice_evidence("data_in", sl, sl.effect_in, s),
            });
        }
    }
    for w in ev.weak.iter().filter(|w| w.run == ev.candidate) {
        for sl in w
            .slices
            .iter()
            .filter(|x| x.significant && x.effect_diff < 0.0)
            .take(s.max_slices)
        {
            out.push(DataSlice {
                benchmark: w.benchmark.clone(),
                slice: sl.slice.clone(),
                evidence: slice_evidence("weak", sl, sl.effect_diff, s),
            });
        }
    }
    out
}

fn guardrails(ev: &EvidenceView, benchmarks: &[String], s: &PlanSettings) -> Vec<Guardrail> {
    let mut all: Vec<String> = ev
        .verdicts
        .iter()
        .map(|v| v.benchmark.clone())
        .chain(ev.weak.iter().map(|w| w.benchmark.clone()))
        .collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .filter(|b| !benchmarks.contains(b))
        .map(|b| Guardrail {
            benchmark: b,
            slice: "*".into(),
            max_drop: s.guardrail_tolerance,
        })
        .collect()
}

/// Everything `build` needs.
pub struct PlanInput<'a> {
    pub evidence: &'a EvidenceView,
    pub data: &'a DataTaxonomy,
    pub mapping: &'a MappingRules,
    pub inputs: Vec<InputFile>,
    pub settings: &'a PlanSettings,
}

/// Build the plan.
pub fn build(input: PlanInput<'_>) -> Result<Plan> {
    let PlanInput {
        evidence: ev,
        data,
        mapping,
        inputs,
        settings: s,
    } = input;
    s.validate()?;
    let mut interventions: Vec<Intervention> = Vec::new();
    let mut unmapped = Vec::new();
    let mut not_acted = Vec::new();
    let mut upweight = vec![0.0; data.leaves.len()];
    let mut patched = std::collections::BTreeSet::new();
    let mut next_id = 1;
    let mut id = || {
        let v = format!("I{next_id}");
        next_id += 1;
        v
    };

    // Training-side faults first: they change how every other number reads.
    for v in &ev.verdicts {
        match v.verdict.as_str() {
            "data_out" => {
                let fix = v.fix.clone().unwrap_or(evidence::FixView {
                    rule: "none".into(),
                    kind: "format".into(),
                    action: "Format failures explain the drop but no diagnosis rule names the fault: inspect the failed responses in the report's examples.".into(),
                });
                let gap = -v.delta;
                let min_effect = (s.recovery * gap).max(s.min_effect);
                let iid = id();
                let target = Target {
                    benchmark: v.benchmark.clone(),
                    slice: "*".into(),
                    direction: "improve".into(),
                    min_effect,
                    current_mean: v.candidate_mean,
                    items: v.items,
                    items_needed: planning_items(v.candidate_mean, min_effect, s),
                };
                interventions.push(Intervention {
                    id: iid.clone(),
                    kind: Kind::TrainingFix,
                    benchmark: v.benchmark.clone(),
                    slice: "*".into(),
                    summary: format!(
                        "{}: fix `{}` in training ({}); no data change.",
                        v.benchmark, fix.kind, fix.rule
                    ),
                    evidence: SliceEvidence {
                        source: "data_out".into(),
                        items: v.items,
                        mean: v.candidate_mean,
                        effect: v.delta,
                        ci_low: v.ci_low,
                        ci_high: v.ci_high,
                        p_value: None,
                        q_value: v.q_value,
                        example_items: Vec::new(),
                    },
                    mapped: None,
                    patch: None,
                    training_fix: Some(TrainingFix {
                        rule: fix.rule.clone(),
                        fix: fix.kind.clone(),
                        action: fix.action.clone(),
                        format_share_of_drop: v.format.share_of_drop,
                        recovered_by_rescoring: v.rescore.recovered_share,
                    }),
                    growth: None,
                    hypothesis: Some(Hypothesis {
                        id: format!("H{}", &iid[1..]),
                        statement: format!(
                            "After the {} fix, {} recovers at least {:.1} points of its {:.1}-point drop (from {:.3}).",
                            fix.kind,
                            v.benchmark,
                            100.0 * min_effect,
                            100.0 * gap,
                            v.candidate_mean
                        ),
                        targets: vec![target],
                        guardrails: guardrails(ev, std::slice::from_ref(&v.benchmark), s),
                    }),
                });
            }
            "data_in" => {}
            other => not_acted.push(NotActed {
                benchmark: v.benchmark.clone(),
                verdict: other.into(),
                reason: v.reason.clone(),
            }),
        }
    }

    for d in data_slices(ev, s) {
        let Some(m) = mapping.map(&d.benchmark, &d.slice) else {
            unmapped.push(Unmapped {
                benchmark: d.benchmark,
                slice: d.slice,
                evidence: d.evidence,
            });
            continue;
        };
        let gap = -d.evidence.effect;
        let weakness = gap * (1.0 - d.evidence.q_value).clamp(0.0, 1.0);
        for (cat, r) in &m.weights {
            let leaves = data.leaves_under(cat);
            let base: f64 = leaves.iter().map(|&l| data.leaves[l].share).sum();
            for &l in &leaves {
                // An inner node spreads its weight over its leaves by base share.
                let part = if base > 0.0 {
                    data.leaves[l].share / base
                } else {
                    1.0 / leaves.len() as f64
                };
                upweight[l] += weakness * r * part;
            }
        }
        let min_effect = (s.recovery * gap).max(s.min_effect);
        let needed = planning_items(d.evidence.mean, min_effect, s);
        let target = Target {
            benchmark: d.benchmark.clone(),
            slice: d.slice.clone(),
            direction: "improve".into(),
            min_effect,
            current_mean: d.evidence.mean,
            items: d.evidence.items,
            items_needed: needed,
        };
        let rules: Vec<&crate::mapping::MappingRule> =
            m.rules.iter().filter_map(|r| mapping.rule(r)).collect();
        let cats: Vec<String> = m.weights.iter().map(|(c, w)| format!("{c} ({w:.2})")).collect();
        let statement = |what: &str| {
            format!(
                "{what}, `{}` on {} improves by at least {:.1} points (now {:.3} on {} items); {} do not drop by more than {:.1} points.",
                d.slice,
                d.benchmark,
                100.0 * min_effect,
                d.evidence.mean,
                d.evidence.items,
                "the guardrail benchmarks",
                100.0 * s.guardrail_tolerance
            )
        };
        let guards: Vec<Guardrail> = std::iter::once(Guardrail {
            benchmark: d.benchmark.clone(),
            slice: "*".into(),
            max_drop: s.guardrail_tolerance,
        })
        .chain(guardrails(ev, std::slice::from_ref(&d.benchmark), s))
        .collect();
        let iid = id();
        interventions.push(Intervention {
            id: iid.clone(),
            kind: Kind::DataUpweight,
            benchmark: d.benchmark.clone(),
            slice: d.slice.clone(),
            summary: format!("{}: upweight {} for `{}`.", d.benchmark, cats.join(", "), d.slice),
            evidence: d.evidence.clone(),
            mapped: Some(Mapped {
                rules: m.rules.clone(),
                rationale: rules.iter().map(|r| r.rationale.clone()).collect(),
                weakness,
                categories: m.weights.clone(),
            }),
            patch: None,
            training_fix: None,
            growth: None,
            hypothesis: Some(Hypothesis {
                id: format!("H{}", &iid[1..]),
                statement: statement("With the upweighted mixture"),
                targets: vec![target.clone()],
                guardrails: guards.clone(),
            }),
        });
        // A rule's patch is requested once, for the strongest slice it serves.
        for r in rules
            .iter()
            .filter(|r| r.patch.is_some() && patched.insert(r.id.clone()))
        {
            let patch = r.patch.clone().expect("filtered on is_some");
            let iid = id();
            interventions.push(Intervention {
                id: iid.clone(),
                kind: Kind::DataPatch,
                benchmark: d.benchmark.clone(),
                slice: d.slice.clone(),
                summary: format!(
                    "{}: add about {} tokens of {} for `{}` ({}).",
                    d.benchmark,
                    human_tokens(patch.tokens),
                    patch.kind,
                    d.slice,
                    r.id
                ),
                evidence: d.evidence.clone(),
                mapped: Some(Mapped {
                    rules: vec![r.id.clone()],
                    rationale: vec![r.rationale.clone()],
                    weakness,
                    categories: r.then.iter().cloned().collect(),
                }),
                patch: Some(patch),
                training_fix: None,
                growth: None,
                hypothesis: Some(Hypothesis {
                    id: format!("H{}", &iid[1..]),
                    statement: statement("With the patch data in training"),
                    targets: vec![target.clone()],
                    guardrails: guards.clone(),
                }),
            });
        }
        if let Some(n) = needed.filter(|&n| n > d.evidence.items) {
            interventions.push(Intervention {
                id: id(),
                kind: Kind::EvalGrowth,
                benchmark: d.benchmark.clone(),
                slice: d.slice.clone(),
                summary: format!(
                    "{}: grow `{}` from {} to {} items to measure a {:.1}-point effect.",
                    d.benchmark,
                    d.slice,
                    d.evidence.items,
                    n,
                    100.0 * min_effect
                ),
                evidence: d.evidence.clone(),
                mapped: None,
                patch: None,
                training_fix: None,
                growth: Some(Growth {
                    items: d.evidence.items,
                    items_needed: n,
                    add: n - d.evidence.items,
                }),
                hypothesis: None,
            });
        }
    }

    let mixture = build_mixture(data, &upweight, s)?;
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        inputs,
        evaluation: Evaluation {
            baseline: ev.baseline.clone(),
            candidate: ev.candidate.clone(),
            verdict: ev.verdict.clone(),
            reason: ev.reason.clone(),
        },
        settings: s.clone(),
        interventions,
        unmapped,
        not_acted,
        mixture,
    })
}

fn build_mixture(data: &DataTaxonomy, upweight: &[f64], s: &PlanSettings) -> Result<Mixture> {
    let budget = s.budget_tokens.unwrap_or(data.budget_tokens);
    let params = mixture::MixtureParams {
        lambda: s.lambda,
        max_upweight: s.max_upweight,
        floor: s.floor,
        max_epochs: s.max_epochs,
        budget_tokens: budget,
    };
    let cats: Vec<mixture::CategoryInput> = data
        .leaves
        .iter()
        .zip(upweight)
        .map(|(l, u)| mixture::CategoryInput {
            base_share: l.share,
            upweight: *u,
            tokens_available: l.tokens,
        })
        .collect();
    let solved = mixture::solve(&cats, &params).map_err(|e| {
        Error::usage(format!(
            "{}: the categories cannot supply {} tokens within {} epochs (at most {:.1}% of the budget): lower budget_tokens or raise max_epochs",
            data.file.display(),
            human_tokens(budget),
            s.max_epochs,
            100.0 * e.max_total
        ))
    })?;
    let categories: Vec<MixtureRow> = data
        .leaves
        .iter()
        .zip(upweight)
        .zip(&solved)
        .map(|((l, u), x)| MixtureRow {
            category: l.path.clone(),
            base_share: l.share,
            new_share: x.share,
            change: x.share - l.share,
            upweight: *u,
            base_tokens: (l.share * budget).round(),
            tokens: (x.share * budget).round(),
            tokens_available: l.tokens,
            epochs: if l.tokens > 0.0 {
                x.share * budget / l.tokens
            } else {
                0.0
            },
            bound: x.bound,
        })
        .collect();
    Ok(Mixture {
        data_taxonomy: data.name.clone(),
        budget_tokens: budget,
        changed: categories.iter().any(|c| c.new_share != c.base_share),
        categories,
    })
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
    crate::error::write_file(&out.join("plan.md"), markdown::render(plan))
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

/// Load every input, record its SHA-256, and build the plan.
pub fn make(files: &PlanFiles, settings: &PlanSettings) -> Result<Plan> {
    let ev_file = evidence::evidence_file(&files.evidence);
    let ev_bytes = crate::error::read_file(&ev_file)?;
    let ev = evidence::load(&ev_file, &ev_bytes)?;
    let mut inputs = vec![InputFile::new(
        "evidence",
        &ev_file.display().to_string(),
        &ev_bytes,
    )];

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

    build(PlanInput {
        evidence: &ev,
        data: &data,
        mapping: &mapping,
        inputs,
        settings,
    })
}
