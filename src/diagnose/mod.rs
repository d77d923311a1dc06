//! Diagnosis: is a regression a data problem, and if so, where (DESIGN
//! section 6). Failure modes and format-tolerant re-scoring split each
//! benchmark's paired delta into its content and format parts; SliceLine
//! discovery finds the tag combinations where the loss concentrates; the
//! verdict rules decide `data_out` / `data_in` / `inconclusive`. The output is
//! `evidence.json`. Mapping slices onto data is the plan stage's job.

pub mod evidence;
pub mod failure;
pub mod gaps;
pub mod health;
pub mod lattice;
pub mod markdown;
pub mod rescore;
pub mod rules;
pub mod samples;
pub mod settings;
pub mod verdict;
pub mod weakness;

use std::path::Path;

use crate::error::Result;
use crate::slices::{self, CompareSettings, Comparison, Dataset, Status};
pub use evidence::{
    DiscoveredSlice, Evidence, Fix, PersistentWeakness, RunModes, SliceFormatRates, WeakSlices,
};
pub use settings::{DiagnoseSettings, DiscoverySettings};
pub use verdict::{BenchmarkVerdict, Verdict};

/// The format rates of a slice's member items.
fn slice_format_rates(
    members: &[usize],
    base: &[Option<samples::ItemDiag>],
    cand: &[Option<samples::ItemDiag>],
) -> SliceFormatRates {
    let rates = |d: &[Option<samples::ItemDiag>]| {
        let (mut n, mut a, mut e, mut l, mut r) = (0u32, 0u32, 0u32, 0u32, 0u32);
        for x in members.iter().filter_map(|&i| d.get(i).and_then(Option::as_ref)) {
            n += x.samples;
            a += x.affected;
            e += x.extraction_failed;
            l += x.limit_hit;
            r += x.ran_on;
        }
        let f = |k: u32| f64::from(k) / f64::from(n.max(1));
        (f(a), f(e), f(l), f(r))
    };
    let (ba, be, bl, br) = rates(base);
    let (ca, ce, cl, cr) = rates(cand);
    SliceFormatRates {
        baseline_affected: ba,
        candidate_affected: ca,
        baseline_extraction_failed: be,
        candidate_extraction_failed: ce,
        baseline_limit_hit: bl,
        candidate_limit_hit: cl,
        baseline_ran_on: br,
        candidate_ran_on: cr,
    }
}

fn run_modes(ds: &Dataset, runs: &[usize], diags: &samples::Diags) -> Vec<RunModes> {
    let mut out = Vec::new();
    for &r in runs {
        for b in 0..ds.benchmarks.len() as u32 {
            let mut m = RunModes {
                run: ds.runs[r].clone(),
                benchmark: ds.benchmarks[b as usize].clone(),
                samples: 0,
                correct: 0,
                modes: failure::FailureMode::ALL.iter().map(|x| (*x, 0)).collect(),
            };
            for i in ds.benchmark_items(b) {
                if let Some(d) = diags.get(&r).and_then(|v| v[i].as_ref()) {
                    m.samples += d.samples;
                    m.correct += d.correct;
                    for (k, mode) in failure::FailureMode::ALL.iter().enumerate() {
                        *m.modes.entry(*mode).or_insert(0) += d.modes[k];
                    }
                }
            }
            if m.samples > 0 {
                out.push(m);
            }
        }
    }
    out
}

fn discover(
    ds: &Dataset,
    items: &[usize],
    errors: &[f64],
    effect: &[f64],
    score: &[f64],
    s: &DiscoverySettings,
    fdr: f64,
) -> Vec<DiscoveredSlice> {
    // A tag every item holds (e.g. the benchmark's output format) cannot
    // separate anything: leave it out so it does not pad conjunctions.
    let mut holders = vec![0usize; ds.tags.len()];
    for &i in items {
        for &t in &ds.items[i].tags {
            holders[t as usize] += 1;
        }
    }
    let item_tags: Vec<Vec<u32>> = items
        .iter()
        .map(|&i| {
            ds.items[i]
                .tags
                .iter()
                .copied()
                .filter(|&t| holders[t as usize] < items.len())
                .collect()
        })
        .collect();
    let input = lattice::LatticeInput {
        item_tags: &item_tags,
        tag_names: &ds.tags,
        errors,
        effect,
    };
    let settings = lattice::LatticeSettings {
        alpha: s.alpha,
        min_support: s.min_support,
        max_level: s.max_level,
        top_k: s.top_k,
        fdr,
        max_examples: s.max_examples,
    };
    lattice::search(&input, &settings)
        .into_iter()
        .map(|f| {
            let member: Vec<bool> = item_tags
                .iter()
                .map(|t| f.tags.iter().all(|x| t.contains(x)))
                .collect();
            let inside: Vec<f64> = effect
                .iter()
                .zip(&member)
                .filter(|(_, m)| **m)
                .map(|(e, _)| *e)
                .collect();
            let scores: Vec<f64> = score
                .iter()
                .zip(&member)
                .filter(|(_, m)| **m)
                .map(|(e, _)| *e)
                .collect();
            let mean = scores.iter().sum::<f64>() / scores.len().max(1) as f64;
            (f, crate::stats::clustered_mean(&inside, 0.95).ci, mean)
        })
        .map(|(f, ci, mean)| DiscoveredSlice {
            slice: f.name,
            level: f.level,
            items: f.items,
            score: f.score,
            error_rate: f.error_rate,
            effect_in: f.effect_in,
            effect_out: f.effect_out,
            effect_diff: f.effect_diff,
            ci_low: f.ci_low,
            ci_high: f.ci_high,
            p_value: f.p_value,
            q_value: f.q_value,
            significant: f.significant,
            in_ci_low: ci.low,
            in_ci_high: ci.high,
            candidate_mean: mean,
            example_items: f
                .examples
                .iter()
                .map(|&k| ds.items[items[k as usize]].id.clone())
                .collect(),
            format_rates: None,
            kind: None,
        })
        .collect()
}

/// Weak slices of the candidate and of every other run (candidate first),
/// and the slices significantly weak in every run that has the benchmark.
fn weak_and_persistent(
    ds: &Dataset,
    cand: usize,
    s: &DiagnoseSettings,
    fdr: f64,
) -> (Vec<WeakSlices>, Vec<PersistentWeakness>) {
    let order: Vec<usize> = std::iter::once(cand)
        .chain((0..ds.runs.len()).filter(|&r| r != cand))
        .collect();
    let mut weak = Vec::new();
    for &r in &order {
        for b in 0..ds.benchmarks.len() as u32 {
            let items: Vec<usize> = ds
                .benchmark_items(b)
                .filter(|&i| ds.scores[r][i].is_some())
                .collect();
            if items.is_empty() {
                continue;
            }
            let y: Vec<f64> = items
                .iter()
                .map(|&i| ds.scores[r][i].map_or(0.0, |x| x.mean()))
                .collect();
            let errors: Vec<f64> = y.iter().map(|v| 1.0 - v).collect();
            let name = ds.benchmarks[b as usize].clone();
            let target = s.targets.get(&name).copied();
            let mut slices = discover(ds, &items, &errors, &y, &y, &s.discovery, fdr);
            for sl in &mut slices {
                sl.kind = Some(weakness::classify(&sl.slice, &s.weakness));
            }
            let below_target = match target {
                Some(t) => slices
                    .iter()
                    .filter(|x| x.in_ci_high < t)
                    .map(|x| x.slice.clone())
                    .collect(),
                None => Vec::new(),
            };
            weak.push(WeakSlices {
                run: ds.runs[r].clone(),
                benchmark: name,
                target,
                slices,
                below_target,
            });
        }
    }
    let mut persistent = Vec::new();
    if order.len() > 1 {
        for b in &ds.benchmarks {
            let per_run: Vec<&WeakSlices> = weak.iter().filter(|w| &w.benchmark == b).collect();
            if per_run.len() < 2 {
                continue;
            }
            for sl in per_run[0]
                .slices
                .iter()
                .filter(|x| x.significant && x.effect_diff < 0.0)
            {
                let found: Vec<f64> = per_run
                    .iter()
                    .filter_map(|w| {
                        w.slices
                            .iter()
                            .find(|x| x.slice == sl.slice && x.significant && x.effect_diff < 0.0)
                            .map(|x| x.effect_in)
                    })
                    .collect();
                if found.len() == per_run.len() {
                    persistent.push(PersistentWeakness {
                        benchmark: b.clone(),
                        slice: sl.slice.clone(),
                        runs: per_run.iter().map(|w| w.run.clone()).collect(),
                        means: found,
                    });
                }
            }
        }
    }
    (weak, persistent)
}

/// The items of benchmark `b` in the slice named `name` (`axis=value & ...`).
fn slice_members(ds: &Dataset, b: u32, name: &str) -> Vec<usize> {
    let tags: Option<Vec<u32>> = crate::mapping::parse_slice(name)
        .into_iter()
        .map(|(axis, value)| {
            let t = format!("{axis}={value}");
            ds.tags.iter().position(|x| *x == t).map(|p| p as u32)
        })
        .collect();
    let Some(tags) = tags else { return Vec::new() };
    ds.benchmark_items(b)
        .filter(|&i| tags.iter().all(|t| ds.items[i].tags.contains(t)))
        .collect()
}

/// Diagnose `candidate` against `baseline` (or alone) from a tagged table.
/// Returns the comparison it rests on (when there is a baseline) and the evidence.
pub fn diagnose(
    samples_path: &Path,
    baseline: Option<&str>,
    candidate: &str,
    compare: &CompareSettings,
    s: &DiagnoseSettings,
) -> Result<(Option<Comparison>, Evidence)> {
    let rescorer = rescore::Rescorer::new(&s.rescore_patterns)?;
    let (ds, diags) = samples::load(samples_path, &compare.filters, &s.detectors, &rescorer)?;
    let cand = ds.run_index(candidate)?;
    let base = baseline.map(|b| ds.run_index(b)).transpose()?;
    let comparison = base.map(|b| {
        let defined = slices::slices(&ds, compare.max_order, compare.min_items);
        slices::compare(&ds, b, cand, &defined, compare)
    });
    let mut evidence = diagnose_loaded(&ds, &diags, base, cand, comparison.as_ref(), compare, s);
    drop(diags);
    attach_gaps(
        &mut evidence,
        samples_path,
        &ds,
        &shipped_text_fields,
        compare.fdr,
    )?;
    Ok((comparison, evidence))
}

/// The doc fields the shipped taxonomies' rules read for `benchmark`
/// (each file loaded on its own): what the gap search reads when no
/// taxonomy is given.
pub fn shipped_text_fields(benchmark: &str) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for (name, text) in crate::shipped::TAXONOMIES {
        if let Ok(set) = crate::taxonomy::TaxonomySet::from_yaml_str(Path::new(name), text) {
            out.extend(set.text_fields(benchmark));
        }
    }
    out.into_iter().collect()
}

/// [`diagnose`] on an already loaded dataset, its failure summaries and
/// comparison (which must be of `base` against `cand` when `base` is given).
pub fn diagnose_loaded(
    ds: &Dataset,
    diags: &samples::Diags,
    base: Option<usize>,
    cand: usize,
    comparison: Option<&Comparison>,
    compare: &CompareSettings,
    s: &DiagnoseSettings,
) -> Evidence {
    let candidate = ds.runs[cand].as_str();
    let runs: Vec<usize> = base.into_iter().chain([cand]).collect();
    let (format_health, warnings) = health::format_health(ds, diags, s.format_health_max);
    let empty = Vec::new();
    let cand_diag = diags.get(&cand).unwrap_or(&empty);
    let fdr = compare.fdr;

    let (Some(base), Some(comparison)) = (base, comparison) else {
        let (weak, persistent) = weak_and_persistent(ds, cand, s, fdr);
        let (benchmarks, why) = weakness::scope(ds, None, &s.weakness);
        return Evidence {
            weakness: weakness::of_dataset(ds, cand, &benchmarks, why, &s.weakness),
            schema_version: 1,
            baseline: None,
            candidate: candidate.to_string(),
            settings: s.clone(),
            verdict: Verdict::None,
            reason: "no baseline: weak slices only".into(),
            verdicts: Vec::new(),
            weak,
            persistent,
            failure_modes: run_modes(ds, &runs, diags),
            format_health,
            warnings,
            gaps: Vec::new(),
        };
    };
    let base_diag = diags.get(&base).unwrap_or(&empty);
    let mut verdicts = Vec::new();
    for b in 0..ds.benchmarks.len() as u32 {
        let name = &ds.benchmarks[b as usize];
        let Some(overall) = comparison.overall(name) else {
            continue;
        };
        let mut regressed_rows: Vec<&slices::SliceComparison> = comparison
            .slices
            .iter()
            .filter(|r| &r.benchmark == name && r.slice != "*" && r.status == Status::Regressed)
            .collect();
        let regressed_slices = regressed_rows.len();
        regressed_rows.sort_by(|a, b| {
            a.paired
                .q_value
                .total_cmp(&b.paired.q_value)
                .then(a.paired.delta.total_cmp(&b.paired.delta))
                .then_with(|| a.slice.cmp(&b.slice))
        });
        let regressed: Vec<(&slices::SliceComparison, Vec<usize>)> = regressed_rows
            .into_iter()
            .take(3)
            .map(|r| (r, slice_members(ds, b, &r.slice)))
            .collect();
        let items: Vec<usize> = ds
            .benchmark_items(b)
            .filter(|&i| ds.scores[base][i].is_some() && ds.scores[cand][i].is_some())
            .collect();
        let xy: Vec<(f64, f64)> = items
            .iter()
            .map(|&i| {
                (
                    ds.scores[base][i].map_or(0.0, |v| v.mean()),
                    ds.scores[cand][i].map_or(0.0, |v| v.mean()),
                )
            })
            .collect();
        let regression: Vec<f64> = xy.iter().map(|(x, y)| (x - y).max(0.0)).collect();
        let delta: Vec<f64> = xy.iter().map(|(x, y)| y - x).collect();
        let cand_err: Vec<f64> = xy.iter().map(|(_, y)| 1.0 - y).collect();
        let cand_score: Vec<f64> = xy.iter().map(|(_, y)| *y).collect();
        let mut found = discover(ds, &items, &regression, &delta, &cand_score, &s.discovery, fdr);
        let mut weak = discover(ds, &items, &cand_err, &cand_score, &cand_score, &s.discovery, fdr);
        for sl in found.iter_mut().chain(weak.iter_mut()) {
            let members = slice_members(ds, b, &sl.slice);
            sl.format_rates = Some(slice_format_rates(&members, base_diag, cand_diag));
            sl.kind = Some(weakness::classify(&sl.slice, &s.weakness));
        }
        let mut v = verdict::decide(
            verdict::BenchmarkInput {
                ds,
                benchmark: b,
                base,
                cand,
                base_diag,
                cand_diag,
                overall,
                regressed_slices,
                regressed,
                slices: found,
                weak_slices: weak,
                confidence: compare.confidence,
                fdr,
            },
            s,
        );
        weakness_kind(&mut v, &s.weakness);
        verdicts.push(v);
    }
    let (verdict, reason) = verdict::overall(&verdicts);
    let data_in: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::DataIn)
        .map(|v| v.benchmark.as_str())
        .collect();
    let (benchmarks, why) = weakness::scope(ds, Some(&data_in), &s.weakness);
    let weakness = weakness::of_dataset(ds, cand, &benchmarks, why, &s.weakness);
    Evidence {
        schema_version: 1,
        baseline: Some(ds.runs[base].clone()),
        candidate: candidate.to_string(),
        settings: s.clone(),
        verdict,
        reason,
        verdicts,
        weak: Vec::new(),
        persistent: Vec::new(),
        failure_modes: run_modes(ds, &runs, diags),
        format_health,
        warnings,
        gaps: Vec::new(),
        weakness,
    }
}

/// The kind of a `data_in` verdict's weakness: that of the slice the
/// verdict is about (the regressed slice inside a benchmark that did not
/// regress, else the strongest significant concentration).
fn weakness_kind(v: &mut BenchmarkVerdict, s: &weakness::WeaknessSettings) {
    if v.verdict != Verdict::DataIn {
        return;
    }
    let slice = v.regressed_slice.as_ref().map(|r| r.slice.clone()).or_else(|| {
        v.slices
            .iter()
            .find(|sl| sl.significant && sl.effect_diff < 0.0)
            .map(|sl| sl.slice.clone())
    });
    if let Some(slice) = slice {
        v.weakness_kind = Some(weakness::classify(&slice, s));
        v.weakness_kind_slice = Some(slice);
    }
}

/// Run the gap search ([`gaps`]) for `evidence` (made with a baseline) and
/// store it there. `samples` is the tagged table the dataset was loaded from.
pub fn attach_gaps(
    evidence: &mut Evidence,
    samples_path: &Path,
    ds: &Dataset,
    text_fields: &dyn Fn(&str) -> Vec<String>,
    fdr: f64,
) -> Result<()> {
    let Some(base) = evidence.baseline.as_deref() else {
        return Ok(());
    };
    let base = ds.run_index(base)?;
    let cand = ds.run_index(&evidence.candidate)?;
    let input = gaps::GapInput {
        samples: samples_path,
        ds,
        base,
        cand,
        text_fields,
        best_tag: gaps::best_tags(&evidence.verdicts),
        discovery: &evidence.settings.discovery,
        fdr,
    };
    evidence.gaps = gaps::search(&input, &evidence.settings.gaps)?;
    Ok(())
}
