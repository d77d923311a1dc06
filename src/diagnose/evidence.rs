//! The types of `evidence.json`: what `diagnose` writes and `plan` reads
//! back (see [`Evidence`] for what may be missing). Computing them is the
//! job of the parent module.

use serde::{Deserialize, Serialize};

use super::settings::DiagnoseSettings;
use super::verdict::{BenchmarkVerdict, Verdict};
use super::{failure, gaps, health, weakness};

/// A training-side fix named by a diagnosis rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fix {
    pub rule: String,
    pub kind: String,
    pub action: String,
}

/// A discovered slice with its statistics against its complement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveredSlice {
    pub slice: String,
    pub level: usize,
    pub items: usize,
    /// SliceLine score (error lift traded against size).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub score: f64,
    /// Mean of the searched error (regression indicator or candidate error).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub error_rate: f64,
    /// Mean effect in the slice and outside it, their difference with a 95% CI.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect_in: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect_out: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect_diff: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    pub significant: bool,
    /// 95% t-interval of the effect in the slice (for a target comparison).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub in_ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub in_ci_high: f64,
    /// The diagnosed run's mean score in the slice.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_mean: f64,
    #[serde(default)]
    pub example_items: Vec<String>,
    /// Format observations of the slice's samples, per run (with a baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_rates: Option<SliceFormatRates>,
    /// Concept gap, capability deficit, both or other, from the axes the
    /// slice names (`weakness::kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<weakness::WeaknessKind>,
}

/// Share of a slice's samples with each format observation, per run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceFormatRates {
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_affected: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_affected: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_extraction_failed: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_extraction_failed: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_limit_hit: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_limit_hit: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_ran_on: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_ran_on: f64,
}

/// Weak slices of one benchmark when there is no baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeakSlices {
    pub run: String,
    pub benchmark: String,
    /// The configured target mean of the benchmark, if any.
    pub target: Option<f64>,
    /// Discovered slices, weak relative to the rest of the benchmark.
    #[serde(default)]
    pub slices: Vec<DiscoveredSlice>,
    /// Discovered slices whose whole interval lies below the target.
    #[serde(default)]
    pub below_target: Vec<String>,
}

/// A weakness found in every run of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersistentWeakness {
    pub benchmark: String,
    pub slice: String,
    pub runs: Vec<String>,
    /// The slice's mean in each run, in `runs` order.
    pub means: Vec<f64>,
}

/// Failure modes of one run on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunModes {
    pub run: String,
    pub benchmark: String,
    pub samples: u32,
    pub correct: u32,
    /// Failed samples per mode.
    pub modes: std::collections::BTreeMap<failure::FailureMode, u32>,
}

/// `evidence.json`. `plan` reads it back: everything but the identity and
/// the verdict may be missing (older evidence of schema version 1) and then
/// reads as empty; unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub schema_version: u32,
    pub baseline: Option<String>,
    pub candidate: String,
    #[serde(default)]
    pub settings: DiagnoseSettings,
    pub verdict: Verdict,
    pub reason: String,
    #[serde(default)]
    pub verdicts: Vec<BenchmarkVerdict>,
    /// Without a baseline: weak slices relative to each benchmark, for the
    /// candidate and every other run in the table.
    #[serde(default)]
    pub weak: Vec<WeakSlices>,
    /// Without a baseline, with several runs: slices significantly weak in every run.
    #[serde(default)]
    pub persistent: Vec<PersistentWeakness>,
    /// Failure modes of every diagnosed run, per benchmark.
    #[serde(default)]
    pub failure_modes: Vec<RunModes>,
    /// Format health and the answer audit of every run, per benchmark,
    /// whether or not anything regressed.
    #[serde(default)]
    pub format_health: Vec<health::FormatHealth>,
    /// Format-health warnings (extraction failures above
    /// `settings.format_health_max`), also printed and shown first in the report.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Taxonomy gaps: phrases of the items' own text where the regression
    /// concentrates more than in any tag slice (see [`gaps`]).
    #[serde(default)]
    pub gaps: Vec<gaps::BenchmarkGaps>,
    /// The weakness analysis of the candidate over the diagnostic set
    /// (PAPER.md section 5); its rows are also `weakness.csv`.
    #[serde(default)]
    pub weakness: weakness::WeaknessReport,
}
