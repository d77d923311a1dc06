//! Per-slice statistics of one run (`slices.csv`): items, samples, mean with
//! its 95% interval (Wilson for one binary sample per item, item-clustered
//! otherwise) and unbiased pass@k when items have several samples. Taken by
//! `slices::eval`, all slices at once.

use serde::Serialize;

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
