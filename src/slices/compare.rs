//! Paired comparison of two runs, slice by slice (`comparison.csv`).
//!
//! Only items present in both runs are paired; the others are counted per
//! benchmark, never silently paired. One binary sample per item: exact
//! McNemar; otherwise a paired t-test on item means. Benjamini–Hochberg
//! q-values are taken across every slice of the comparison, and a slice whose
//! minimum detectable effect exceeds the effect of interest is
//! `underpowered`, never `stable`.

use rayon::prelude::*;
use serde::Serialize;

use super::dataset::Dataset;
use super::define::Slice;
use super::settings::CompareSettings;
use crate::stats;

/// The verdict on one slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Regressed,
    Improved,
    Stable,
    Underpowered,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Regressed => "regressed",
            Status::Improved => "improved",
            Status::Stable => "stable",
            Status::Underpowered => "underpowered",
        }
    }
}

/// One row of `comparison.csv`, with the item ids auditors ask for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceComparison {
    pub benchmark: String,
    pub slice: String,
    /// Items present in both runs.
    pub items: usize,
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    pub delta: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub mde: f64,
    pub status: Status,
    /// `mcnemar_exact` or `paired_t`.
    pub method: &'static str,
    /// Items correct in the baseline and wrong in the candidate (binary), or
    /// whose mean score fell (several samples).
    pub regressed: usize,
    pub fixed: usize,
    /// At most `max_listed_items` ids each, largest change first.
    pub regressed_ids: Vec<String>,
    pub fixed_ids: Vec<String>,
}

/// How the two runs' items pair up, per benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pairing {
    pub benchmark: String,
    pub paired: usize,
    pub only_baseline: usize,
    pub only_candidate: usize,
    /// Paired items whose prompt differs between the runs: a change of
    /// prompt, not of model, may explain their deltas.
    pub prompt_changed: usize,
}

/// A whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub baseline: String,
    pub candidate: String,
    pub settings: CompareSettings,
    pub pairing: Vec<Pairing>,
    pub slices: Vec<SliceComparison>,
}

impl Comparison {
    /// The row of the whole benchmark.
    pub fn overall(&self, benchmark: &str) -> Option<&SliceComparison> {
        self.slices
            .iter()
            .find(|s| s.benchmark == benchmark && s.slice == "*")
    }
}

/// Pairing counts of each benchmark.
pub fn pairing(ds: &Dataset, base: usize, cand: usize) -> Vec<Pairing> {
    (0..ds.benchmarks.len() as u32)
        .map(|b| {
            let mut p = Pairing {
                benchmark: ds.benchmarks[b as usize].clone(),
                paired: 0,
                only_baseline: 0,
                only_candidate: 0,
                prompt_changed: 0,
            };
            for i in ds.benchmark_items(b) {
                match (&ds.scores[base][i], &ds.scores[cand][i]) {
                    (Some(x), Some(y)) => {
                        p.paired += 1;
                        if x.prompt_hash.is_some()
                            && y.prompt_hash.is_some()
                            && x.prompt_hash != y.prompt_hash
                        {
                            p.prompt_changed += 1;
                        }
                    }
                    (Some(_), None) => p.only_baseline += 1,
                    (None, Some(_)) => p.only_candidate += 1,
                    (None, None) => {}
                }
            }
            p
        })
        .collect()
}

/// How many changes pass `keep`, and the ids of the `k` largest of them
/// (largest |change| first, ties by id: a total order, so output is stable).
/// A partial selection, not a sort: a slice may hold a million items.
fn largest(changes: &[(f64, &str)], keep: impl Fn(f64) -> bool, k: usize) -> (usize, Vec<String>) {
    let mut v: Vec<(f64, &str)> = changes.iter().copied().filter(|c| keep(c.0)).collect();
    let count = v.len();
    let order =
        |a: &(f64, &str), b: &(f64, &str)| a.0.abs().total_cmp(&b.0.abs()).reverse().then(a.1.cmp(b.1));
    if k < v.len() {
        if k == 0 {
            return (count, Vec::new());
        }
        v.select_nth_unstable_by(k - 1, order);
        v.truncate(k);
    }
    v.sort_by(order);
    (count, v.into_iter().map(|c| c.1.to_string()).collect())
}

fn compare_slice(
    ds: &Dataset,
    base: usize,
    cand: usize,
    slice: &Slice,
    s: &CompareSettings,
) -> SliceComparison {
    let mut pairs = Vec::with_capacity(slice.items.len());
    for &i in &slice.items {
        if let (Some(x), Some(y)) = (&ds.scores[base][i as usize], &ds.scores[cand][i as usize]) {
            pairs.push((i, *x, *y));
        }
    }
    let n = pairs.len();
    let binary = pairs
        .iter()
        .all(|(_, x, y)| x.n == 1 && y.n == 1 && x.binary && y.binary);
    let mut changes: Vec<(f64, &str)> = Vec::new();
    let (cmp, method) = if binary {
        let base_correct = pairs.iter().filter(|(_, x, _)| x.correct == 1).count();
        let mut regressed = 0;
        let mut fixed = 0;
        for (i, x, y) in &pairs {
            let d = f64::from(y.correct) - f64::from(x.correct);
            if d != 0.0 {
                changes.push((d, ds.items[*i as usize].id.as_str()));
                if d < 0.0 {
                    regressed += 1;
                } else {
                    fixed += 1;
                }
            }
        }
        (
            stats::paired_binary(n, base_correct, regressed, fixed, s.confidence),
            "mcnemar_exact",
        )
    } else {
        let xb: Vec<f64> = pairs.iter().map(|(_, x, _)| x.mean()).collect();
        let yb: Vec<f64> = pairs.iter().map(|(_, _, y)| y.mean()).collect();
        for (i, x, y) in &pairs {
            let d = y.mean() - x.mean();
            if d != 0.0 {
                changes.push((d, ds.items[*i as usize].id.as_str()));
            }
        }
        (stats::paired_means(&xb, &yb, s.confidence), "paired_t")
    };
    let (regressed, regressed_ids) = largest(&changes, |d| d < 0.0, s.max_listed_items);
    let (fixed, fixed_ids) = largest(&changes, |d| d > 0.0, s.max_listed_items);
    // MDE: the observed SD of the paired differences; when there is none
    // (no discordant item, or one item) a planning value sqrt(p(1-p)) from
    // the pooled mean with add-one smoothing, so that a tiny or unchanged
    // slice is underpowered rather than stable.
    let sd = if n >= 2 && cmp.sd_diff > 0.0 {
        cmp.sd_diff
    } else {
        let p = (cmp.baseline_mean * n as f64 + cmp.candidate_mean * n as f64 + 1.0) / (2.0 * n as f64 + 2.0);
        let p = if p.is_finite() { p } else { 0.5 };
        (p * (1.0 - p)).sqrt()
    };
    let mde = stats::minimum_detectable_effect(n, sd, 1.0 - s.confidence, s.power);
    SliceComparison {
        benchmark: ds.benchmarks[slice.benchmark as usize].clone(),
        slice: slice.name(ds),
        items: n,
        baseline_mean: cmp.baseline_mean,
        candidate_mean: cmp.candidate_mean,
        delta: cmp.delta,
        ci_low: cmp.ci.low,
        ci_high: cmp.ci.high,
        p_value: cmp.p_value,
        q_value: f64::NAN,
        mde,
        status: Status::Stable,
        method,
        regressed,
        fixed,
        regressed_ids,
        fixed_ids,
    }
}

/// Compare run `base` with run `cand` on every slice.
pub fn compare(ds: &Dataset, base: usize, cand: usize, slices: &[Slice], s: &CompareSettings) -> Comparison {
    let mut rows: Vec<SliceComparison> = slices
        .par_iter()
        .map(|sl| compare_slice(ds, base, cand, sl, s))
        .filter(|r| r.items > 0)
        .collect();
    let p: Vec<f64> = rows.iter().map(|r| r.p_value).collect();
    let q = stats::benjamini_hochberg(&p);
    for (r, q) in rows.iter_mut().zip(q) {
        r.q_value = q;
        r.status = if q <= s.fdr && r.delta < 0.0 {
            Status::Regressed
        } else if q <= s.fdr && r.delta > 0.0 {
            Status::Improved
        } else if r.mde.is_nan() || r.mde > s.effect_of_interest {
            Status::Underpowered
        } else {
            Status::Stable
        };
    }
    Comparison {
        baseline: ds.runs[base].clone(),
        candidate: ds.runs[cand].clone(),
        settings: s.clone(),
        pairing: pairing(ds, base, cand),
        slices: rows,
    }
}
