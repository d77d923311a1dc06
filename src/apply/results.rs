//! What `apply` reports: per category and feature, what was asked and
//! what was selected, the rules, totals and output files (`apply.json`).

use serde::Serialize;

use super::select::{CoverRule, MatchRule};
use super::{Feature, Settings};

/// Per category: what was asked and what was selected.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CategoryResult {
    pub category: String,
    pub share: f64,
    /// Target in the budget's unit.
    pub target: u64,
    /// Selected in the budget's unit (tokens x copies, or copies).
    pub selected: u64,
    pub selected_tokens: u64,
    pub selected_docs: u64,
    pub selected_copies: u64,
    pub docs: u64,
    pub tokens: u64,
    /// Weak-feature pool: target, selected (budget unit), documents matched.
    pub match_target: u64,
    pub match_selected: u64,
    pub matched_docs: u64,
    /// Uniform (cover) pool: target and selected (budget unit).
    pub cover_target: u64,
    pub cover_selected: u64,
    /// Below target because the category cannot supply it.
    pub short: u64,
}

/// Per weak feature (over all categories).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FeatureResult {
    pub feature: String,
    pub weak: f64,
    pub matched_docs: u64,
    pub matched_tokens: u64,
    pub selected_docs: u64,
    pub selected_copies: u64,
    pub selected_tokens: u64,
}

/// A category of the corpus the plan does not name (never selected).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Unplanned {
    pub category: String,
    pub docs: u64,
    pub tokens: u64,
}

/// The thresholds the Spark job applies (also what caploop applies).
#[derive(Debug, Clone, Serialize)]
pub struct Rules {
    /// Per category: the cover rule.
    pub cover: Vec<CoverRule>,
    /// Per category, per feature: the match rule.
    pub matched: Vec<Vec<MatchRule>>,
    pub cover_slots: u32,
}

/// `apply.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Applied {
    pub schema_version: u32,
    pub inputs: Vec<crate::plan::InputFile>,
    pub settings: Settings,
    pub axis: Option<String>,
    pub features: Vec<Feature>,
    pub patch_requests: Vec<Feature>,
    pub categories: Vec<CategoryResult>,
    pub feature_results: Vec<FeatureResult>,
    pub unplanned_categories: Vec<Unplanned>,
    pub totals: Totals,
    pub outputs: Outputs,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub docs_read: u64,
    pub target: u64,
    pub selected: u64,
    pub selected_docs: u64,
    pub selected_copies: u64,
    pub selected_tokens: u64,
}

/// The files written and the selection's hashes (for `verify`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outputs {
    pub selection: String,
    pub selection_sha256: String,
    pub ids: String,
    pub ids_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spark_job: Option<String>,
}
