//! Paired comparison of two runs, slice by slice (`comparison.csv`); the
//! per-slice statistics are taken by `slices::eval`, all slices at once.
//!
//! Only items present in both runs are paired; the others are counted per
//! benchmark, never silently paired. One binary sample per item: exact
//! McNemar; otherwise a paired t-test on item means. Benjamini–Hochberg
//! q-values are taken across every slice of the comparison, and a slice whose
//! minimum detectable effect exceeds the effect of interest is
//! `underpowered`, never `stable`.

use serde::Serialize;

use super::dataset::Dataset;
use super::settings::CompareSettings;
use crate::stats::{self, PairedDelta};

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
    /// Items, means, delta, interval, p- and q-value.
    #[serde(flatten)]
    pub paired: PairedDelta,
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

/// Q-values across `rows` (Benjamini–Hochberg), a status for each, and the
/// pairing counts: the comparison of `base` with `cand`.
pub(super) fn finish(
    ds: &Dataset,
    base: usize,
    cand: usize,
    rows: Vec<SliceComparison>,
    s: &CompareSettings,
) -> Comparison {
    let mut rows: Vec<SliceComparison> = rows.into_iter().filter(|r| r.paired.items > 0).collect();
    let p: Vec<f64> = rows.iter().map(|r| r.paired.p_value).collect();
    let q = stats::benjamini_hochberg(&p);
    for (r, q) in rows.iter_mut().zip(q) {
        r.paired.q_value = q;
        r.status = if q <= s.fdr && r.paired.delta < 0.0 {
            Status::Regressed
        } else if q <= s.fdr && r.paired.delta > 0.0 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comparison_row_keeps_its_flat_json_keys() {
        let row = SliceComparison {
            benchmark: "bbh".into(),
            slice: "*".into(),
            paired: PairedDelta {
                items: 3,
                baseline_mean: 0.5,
                candidate_mean: 0.25,
                delta: -0.25,
                ci_low: -0.5,
                ci_high: 0.0,
                p_value: f64::NAN,
                q_value: 0.5,
            },
            mde: 0.1,
            status: Status::Stable,
            method: "paired_t",
            regressed: 1,
            fixed: 0,
            regressed_ids: vec!["a".into()],
            fixed_ids: vec![],
        };
        let v = serde_json::to_value(&row).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "benchmark",
            "slice",
            "items",
            "baseline_mean",
            "candidate_mean",
            "delta",
            "ci_low",
            "ci_high",
            "p_value",
            "q_value",
            "mde",
            "status",
            "method",
            "regressed",
            "fixed",
            "regressed_ids",
            "fixed_ids",
        ];
        want.sort_unstable();
        assert_eq!(keys, want);
        assert!(v["p_value"].is_null());
        // The embedded figures read back from the flat row, NaN included.
        let back: PairedDelta = serde_json::from_value(v).unwrap();
        assert_eq!(back.delta, -0.25);
        assert!(back.p_value.is_nan());
    }
}
