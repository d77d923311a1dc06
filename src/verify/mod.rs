//! Verify (DESIGN section 9): check a plan's predictions against the next
//! evaluation. Each hypothesis target is compared item by item between the
//! run the plan was made for (`baseline`) and the new run (`candidate`), and
//! judged:
//!
//! - `confirmed`: the slice improved significantly (q <= alpha) and the
//!   interval does not rule out the predicted effect;
//! - `refuted`: the interval's upper end is below the predicted effect (the
//!   improvement the plan promised is excluded, whether or not some happened);
//! - `underpowered`: neither (the eval cannot tell).
//!
//! Guardrails `broke` when their slice dropped significantly by more than
//! their `max_drop`, `held` when the interval excludes such a drop, else
//! `underpowered`. Regressed slices outside the plan are reported as
//! collateral. A changed evaluation (task versions, prompts, item sets) is
//! refused unless allowed, because a changed test explains deltas no data did.

pub mod markdown;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plan::{InputFile, Plan};
use crate::slices::{self, CompareSettings, Dataset, Slice, SliceComparison, Status};
use crate::stats::PairedDelta;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Confirmed,
    Refuted,
    Underpowered,
    Held,
    Broken,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::Refuted => "refuted",
            Outcome::Underpowered => "underpowered",
            Outcome::Held => "held",
            Outcome::Broken => "broken",
        }
    }

    /// Whether this outcome fails a gate (exit code 1).
    pub fn fails(self) -> bool {
        matches!(self, Outcome::Refuted | Outcome::Broken)
    }
}

/// One hypothesis target, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCheck {
    pub hypothesis: String,
    pub intervention: String,
    pub kind: String,
    pub statement: String,
    pub benchmark: String,
    pub slice: String,
    pub min_effect: f64,
    /// None when the slice has no paired item in the two runs.
    pub measured: Option<PairedDelta>,
    pub outcome: Outcome,
}

/// One guardrail, checked (once, however many hypotheses name it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardrailCheck {
    pub hypotheses: Vec<String>,
    pub benchmark: String,
    pub slice: String,
    pub max_drop: f64,
    pub measured: Option<PairedDelta>,
    pub outcome: Outcome,
}

/// A change of the evaluation between the two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalChange {
    pub benchmark: String,
    pub what: String,
}

/// `verify.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub schema_version: u32,
    pub plan: InputFile,
    pub samples: String,
    pub baseline: String,
    pub candidate: String,
    pub alpha: f64,
    /// `pass` or `fail` (a hypothesis refuted or a guardrail broken).
    pub result: String,
    pub targets: Vec<TargetCheck>,
    pub guardrails: Vec<GuardrailCheck>,
    /// Regressed slices outside the plan's targets and guardrails.
    pub collateral: Vec<SliceComparison>,
    /// Evaluation changes between the runs (verification refuses them unless allowed).
    pub eval_changes: Vec<EvalChange>,
    pub notes: Vec<String>,
}

impl Verification {
    pub fn failed(&self) -> bool {
        self.result == "fail"
    }
}

/// Options of `verify`.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    pub plan: &'a Path,
    pub samples: &'a Path,
    pub baseline: &'a str,
    pub candidate: &'a str,
    /// Verify even when the evaluation changed between the runs.
    pub allow_changed_eval: bool,
    pub compare: &'a CompareSettings,
}

/// Build the slice named `name` of `benchmark`, if the dataset has it.
fn slice_of(ds: &Dataset, benchmark: &str, name: &str) -> Option<Slice> {
    let b = ds.benchmarks.iter().position(|x| x == benchmark)? as u32;
    let mut tags = Vec::new();
    for (axis, value) in crate::mapping::parse_slice(name) {
        let t = format!("{axis}={value}");
        tags.push(ds.tags.iter().position(|x| *x == t)? as u32);
    }
    Some(Slice::of(ds, b, tags))
}

fn eval_changes(ds: &Dataset, base: usize, cand: usize) -> Vec<EvalChange> {
    let mut out = Vec::new();
    for p in slices::compare::pairing(ds, base, cand) {
        let mut what = Vec::new();
        if p.prompt_changed > 0 {
            what.push(format!(
                "{} paired items have a different prompt",
                p.prompt_changed
            ));
        }
        if p.only_baseline > 0 || p.only_candidate > 0 {
            what.push(format!(
                "the item sets differ ({} items only in {}, {} only in {})",
                p.only_baseline, ds.runs[base], p.only_candidate, ds.runs[cand]
            ));
        }
        for w in what {
            out.push(EvalChange {
                benchmark: p.benchmark.clone(),
                what: w,
            });
        }
    }
    let tasks: BTreeSet<&String> = ds.task_settings.keys().map(|(_, t)| t).collect();
    let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(",");
    let join_n = |s: &BTreeSet<u32>| s.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    for t in tasks {
        let a = ds.task_settings.get(&(ds.runs[base].clone(), t.clone()));
        let b = ds.task_settings.get(&(ds.runs[cand].clone(), t.clone()));
        let (Some(a), Some(b)) = (a, b) else { continue };
        let bench = ds
            .items
            .iter()
            .find(|i| *i.task == **t)
            .map_or_else(|| t.clone(), |i| ds.benchmarks[i.benchmark as usize].clone());
        let mut push = |what: String| {
            out.push(EvalChange {
                benchmark: bench.clone(),
                what,
            })
        };
        if !a.versions.is_empty() && !b.versions.is_empty() && a.versions != b.versions {
            push(format!(
                "task {t} changed version ({} -> {})",
                join(&a.versions),
                join(&b.versions)
            ));
        }
        if !a.n_shot.is_empty() && !b.n_shot.is_empty() && a.n_shot != b.n_shot {
            push(format!(
                "task {t} changed n-shot ({} -> {})",
                join_n(&a.n_shot),
                join_n(&b.n_shot)
            ));
        }
        if !a.max_gen_toks.is_empty() && !b.max_gen_toks.is_empty() && a.max_gen_toks != b.max_gen_toks {
            push(format!(
                "task {t} changed its generation limit max_gen_toks ({} -> {})",
                join_n(&a.max_gen_toks),
                join_n(&b.max_gen_toks)
            ));
        }
    }
    out
}

fn judge_target(m: &PairedDelta, min_effect: f64, alpha: f64) -> Outcome {
    if m.ci_high < min_effect {
        Outcome::Refuted
    } else if m.q_value <= alpha && m.delta > 0.0 {
        Outcome::Confirmed
    } else {
        Outcome::Underpowered
    }
}

fn judge_guardrail(m: &PairedDelta, max_drop: f64, alpha: f64) -> Outcome {
    if m.q_value <= alpha && m.delta <= -max_drop {
        Outcome::Broken
    } else if m.ci_low >= -max_drop {
        Outcome::Held
    } else {
        Outcome::Underpowered
    }
}

/// Verify a plan.
pub fn verify(o: &VerifyOptions<'_>) -> Result<Verification> {
    let plan_bytes = crate::error::read_file(o.plan)?;
    let plan = crate::plan::read(o.plan, &plan_bytes)?;
    let input = InputFile::new("plan", &o.plan.display().to_string(), &plan_bytes);
    let ds = slices::load(o.samples, &o.compare.filters)?;
    verify_loaded(o, &plan, input, &ds)
}

/// [`verify`] with the plan and the dataset already in memory (`o.plan`
/// and `o.samples` only name them; `plan_file` is the plan's path and
/// SHA-256 as written).
pub fn verify_loaded(
    o: &VerifyOptions<'_>,
    plan: &Plan,
    plan_file: InputFile,
    ds: &Dataset,
) -> Result<Verification> {
    let base = ds.run_index(o.baseline)?;
    let cand = ds.run_index(o.candidate)?;
    let changes = eval_changes(ds, base, cand);
    if !changes.is_empty() && !o.allow_changed_eval {
        let list: Vec<String> = changes
            .iter()
            .map(|c| format!("  {}: {}", c.benchmark, c.what))
            .collect();
        return Err(Error::usage(format!(
            "refusing to verify: the evaluation changed between {} and {}, so deltas would mix model and test changes:\n{}\nRe-run both checkpoints on the same evaluation, or pass --allow-changed-eval to verify anyway (the changes are recorded in verify.json).",
            o.baseline,
            o.candidate,
            list.join("\n")
        )));
    }
    let alpha = plan.settings.alpha;
    let mut notes = Vec::new();
    if plan.evaluation.candidate != o.baseline {
        notes.push(format!(
            "the plan was made for run {}, but the baseline here is {}",
            plan.evaluation.candidate, o.baseline
        ));
    }

    // Every target and guardrail slice, measured in one comparison so their
    // q-values share one Benjamini-Hochberg family.
    let mut wanted: Vec<(String, String)> = Vec::new();
    for i in &plan.interventions {
        if let Some(h) = &i.hypothesis {
            for t in &h.targets {
                wanted.push((t.benchmark.clone(), t.slice.clone()));
            }
            for g in &h.guardrails {
                wanted.push((g.benchmark.clone(), g.slice.clone()));
            }
        }
    }
    wanted.sort();
    wanted.dedup();
    let built: Vec<Slice> = wanted.iter().filter_map(|(b, s)| slice_of(ds, b, s)).collect();
    let cmp = slices::compare(ds, base, cand, &built, o.compare);
    let find = |b: &str, s: &str| {
        cmp.slices
            .iter()
            .find(|r| r.benchmark == b && r.slice == s)
            .map(|r| r.paired)
    };

    let mut targets = Vec::new();
    let mut guards: BTreeMap<(String, String), GuardrailCheck> = BTreeMap::new();
    for i in &plan.interventions {
        let Some(h) = &i.hypothesis else { continue };
        for t in &h.targets {
            let measured = find(&t.benchmark, &t.slice);
            let outcome = measured
                .as_ref()
                .map_or(Outcome::Underpowered, |m| judge_target(m, t.min_effect, alpha));
            if measured.is_none() {
                notes.push(format!(
                    "{} target `{}` on {}: no paired item in these runs",
                    h.id, t.slice, t.benchmark
                ));
            }
            targets.push(TargetCheck {
                hypothesis: h.id.clone(),
                intervention: i.id.clone(),
                kind: i.kind.as_str().to_string(),
                statement: h.statement.clone(),
                benchmark: t.benchmark.clone(),
                slice: t.slice.clone(),
                min_effect: t.min_effect,
                measured,
                outcome,
            });
        }
        for g in &h.guardrails {
            let key = (g.benchmark.clone(), g.slice.clone());
            let entry = guards.entry(key).or_insert_with(|| {
                let measured = find(&g.benchmark, &g.slice);
                let outcome = measured
                    .as_ref()
                    .map_or(Outcome::Underpowered, |m| judge_guardrail(m, g.max_drop, alpha));
                GuardrailCheck {
                    hypotheses: Vec::new(),
                    benchmark: g.benchmark.clone(),
                    slice: g.slice.clone(),
                    max_drop: g.max_drop,
                    measured,
                    outcome,
                }
            });
            entry.hypotheses.push(h.id.clone());
        }
    }

    // Collateral: every slice of the evaluation, regressed, not in the plan.
    let defined = slices::slices(ds, o.compare.max_order, o.compare.min_items);
    let all = slices::compare(ds, base, cand, &defined, o.compare);
    let planned: BTreeSet<(&str, &str)> = wanted.iter().map(|(b, s)| (b.as_str(), s.as_str())).collect();
    let mut collateral: Vec<SliceComparison> = all
        .slices
        .into_iter()
        .filter(|r| {
            r.status == Status::Regressed && !planned.contains(&(r.benchmark.as_str(), r.slice.as_str()))
        })
        .collect();
    // Strongest evidence first; ties by name so the order is stable.
    collateral.sort_by(|a, b| {
        a.paired
            .q_value
            .total_cmp(&b.paired.q_value)
            .then(a.paired.delta.total_cmp(&b.paired.delta))
            .then_with(|| (&a.benchmark, &a.slice).cmp(&(&b.benchmark, &b.slice)))
    });

    let guardrails: Vec<GuardrailCheck> = guards.into_values().collect();
    let failed = targets.iter().any(|t| t.outcome.fails()) || guardrails.iter().any(|g| g.outcome.fails());
    Ok(Verification {
        schema_version: 1,
        plan: plan_file,
        samples: o.samples.display().to_string(),
        baseline: o.baseline.to_string(),
        candidate: o.candidate.to_string(),
        alpha,
        result: if failed { "fail" } else { "pass" }.into(),
        targets,
        guardrails,
        collateral,
        eval_changes: changes,
        notes,
    })
}

/// Write `verify.json` and `verify.md` into `out`.
pub fn write(v: &Verification, out: &Path) -> Result<()> {
    crate::error::create_dir(out)?;
    crate::slices::write::write_json(&out.join("verify.json"), v)?;
    crate::error::write_file(
        &out.join("verify.md"),
        crate::report::text::markdown_safe(&markdown::render(v)),
    )
}
