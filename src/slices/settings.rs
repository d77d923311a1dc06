//! Thresholds of the slice and comparison stages; every one is printed in the
//! outputs that depend on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Settings of `compare` (and of the slice statistics it reports).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompareSettings {
    /// Confidence level of every interval.
    pub confidence: f64,
    /// Benjamini–Hochberg false discovery rate across all slices of a comparison.
    pub fdr: f64,
    /// Power for the minimum detectable effect.
    pub power: f64,
    /// The smallest change worth detecting: a slice whose MDE exceeds it is
    /// `underpowered`, never `stable`.
    pub effect_of_interest: f64,
    /// Largest number of tags in a measured conjunction.
    pub max_order: usize,
    /// Fewest items for a slice to be measured.
    pub min_items: usize,
    /// Item ids listed per slice (regressed and fixed), the rest counted.
    pub max_listed_items: usize,
    /// Scoring filter per task, overriding the task's first filter.
    pub filters: BTreeMap<String, String>,
    /// Values of k for which `slices.csv` reports unbiased pass@k (one
    /// `pass_at_<k>` column each), besides pass@k at the slice's fewest samples.
    pub pass_k: Vec<u32>,
}

impl Default for CompareSettings {
    fn default() -> Self {
        CompareSettings {
            confidence: 0.95,
            fdr: 0.05,
            power: 0.8,
            effect_of_interest: 0.05,
            max_order: 2,
            min_items: 20,
            max_listed_items: 50,
            filters: BTreeMap::new(),
            pass_k: Vec::new(),
        }
    }
}
