//! Per-slice statistics of one run (`slices.csv`): items, samples, mean with
//! its 95% interval (Wilson for one binary sample per item, item-clustered
//! otherwise) and unbiased pass@k when items have several samples.

use serde::Serialize;

use super::dataset::{Dataset, ItemScore};
use super::define::Slice;
use crate::stats;

/// One row of `slices.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SliceStats {
    pub run: String,
    pub benchmark: String,
    pub slice: String,
    pub items: usize,
    pub samples: u64,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// k of `pass_at_k`: the fewest samples any item of the slice has, when > 1.
    pub k: Option<u32>,
    pub pass_at_k: Option<f64>,
    /// pass@k for each configured k (`CompareSettings::pass_k`), in that
    /// order; `None` where some item of the slice has fewer than k samples.
    pub pass_at: Vec<(u32, Option<f64>)>,
}

/// Statistics of `slice` in run `r`.
pub fn measure(ds: &Dataset, r: usize, slice: &Slice, confidence: f64, ks: &[u32]) -> SliceStats {
    let scores: Vec<&ItemScore> = slice
        .items
        .iter()
        .filter_map(|&i| ds.scores[r][i as usize].as_ref())
        .collect();
    let samples: u64 = scores.iter().map(|s| u64::from(s.n)).sum();
    let single_binary = scores.iter().all(|s| s.n == 1 && s.binary);
    let (mean, ci) = if scores.is_empty() {
        (
            f64::NAN,
            stats::Interval {
                low: f64::NAN,
                high: f64::NAN,
            },
        )
    } else if single_binary {
        let correct: u64 = scores.iter().map(|s| u64::from(s.correct)).sum();
        (
            correct as f64 / scores.len() as f64,
            stats::wilson_interval(correct, scores.len() as u64, confidence),
        )
    } else {
        let means: Vec<f64> = scores.iter().map(|s| s.mean()).collect();
        let est = stats::clustered_mean(&means, confidence);
        (est.mean, est.ci)
    };
    let min_n = scores.iter().map(|s| s.n).min();
    let k = min_n.filter(|&k| k > 1);
    // Unbiased pass@k averaged over items; defined only when every item has
    // at least k samples.
    let pass = |k: u32| -> Option<f64> {
        if scores.is_empty() || min_n.is_none_or(|n| n < k) {
            return None;
        }
        let total: f64 = scores
            .iter()
            .filter_map(|s| stats::pass_at_k(s.n, s.correct, k))
            .sum();
        Some(total / scores.len() as f64)
    };
    let pass_at_k = k.and_then(pass);
    let pass_at = ks.iter().map(|&k| (k, pass(k))).collect();
    SliceStats {
        run: ds.runs[r].clone(),
        benchmark: ds.benchmarks[slice.benchmark as usize].clone(),
        slice: slice.name(ds),
        items: scores.len(),
        samples,
        mean,
        ci_low: ci.low,
        ci_high: ci.high,
        k,
        pass_at_k,
        pass_at,
    }
}
