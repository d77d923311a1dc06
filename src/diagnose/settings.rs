//! Settings of the diagnosis stage; every threshold is printed in the evidence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::failure::Detectors;
use super::rules::{default_rules, DiagnosisRule};

/// Slice discovery (SliceLine) parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoverySettings {
    /// Weight of error lift against size in the SliceLine score.
    pub alpha: f64,
    pub min_support: usize,
    pub max_level: usize,
    pub top_k: usize,
    pub max_examples: usize,
}

impl Default for DiscoverySettings {
    fn default() -> Self {
        DiscoverySettings {
            alpha: 0.95,
            min_support: 20,
            max_level: 3,
            top_k: 20,
            max_examples: 5,
        }
    }
}

/// Settings of `diagnose`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiagnoseSettings {
    /// `data_out` when the format delta explains at least this share of the drop
    /// (and the content delta is not significantly negative).
    pub format_share_min: f64,
    /// `data_out` when format-tolerant re-scoring recovers at least this share of the drop.
    pub recovery_min: f64,
    /// Format-failure rates count as unchanged within this difference.
    pub format_rate_tolerance: f64,
    /// Format health: warn when a run's extraction failures on a benchmark
    /// pass this share of its scored samples.
    pub format_health_max: f64,
    pub detectors: Detectors,
    /// Answer patterns per benchmark family for re-scoring (`*` for the rest).
    pub rescore_patterns: BTreeMap<String, Vec<String>>,
    pub rules: Vec<DiagnosisRule>,
    pub discovery: DiscoverySettings,
    /// Without a baseline: a target mean per benchmark; discovered slices
    /// whose interval lies wholly below it are listed as below target.
    pub targets: BTreeMap<String, f64>,
    /// Taxonomy gaps: the lexical search over the items' own text.
    pub gaps: super::gaps::GapSettings,
    /// The weakness analysis of PAPER.md section 5 (axis, κ, θ, pool sizes)
    /// and the axes that make a weakness a concept gap or a capability deficit.
    pub weakness: super::weakness::WeaknessSettings,
}

impl Default for DiagnoseSettings {
    fn default() -> Self {
        DiagnoseSettings {
            format_share_min: 0.5,
            recovery_min: 0.5,
            format_rate_tolerance: 0.02,
            format_health_max: 0.05,
            detectors: Detectors::default(),
            rescore_patterns: super::rescore::default_patterns(),
            rules: default_rules(),
            discovery: DiscoverySettings::default(),
            targets: BTreeMap::new(),
            gaps: super::gaps::GapSettings::default(),
            weakness: super::weakness::WeaknessSettings::default(),
        }
    }
}
