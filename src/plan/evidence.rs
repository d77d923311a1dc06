//! What the plan reads of `evidence.json`: a tolerant view (unknown fields
//! are ignored) so a plan can be made from any evidence of schema version 1.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct EvidenceView {
    pub schema_version: u32,
    pub baseline: Option<String>,
    pub candidate: String,
    pub verdict: String,
    pub reason: String,
    #[serde(default)]
    pub verdicts: Vec<VerdictView>,
    #[serde(default)]
    pub weak: Vec<WeakView>,
    #[serde(default)]
    pub persistent: Vec<PersistentView>,
    #[serde(default)]
    pub weakness: Option<super::weakness::WeaknessView>,
    #[serde(default)]
    pub settings: Option<super::weakness::SettingsView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VerdictView {
    pub benchmark: String,
    pub verdict: String,
    pub reason: String,
    pub items: usize,
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    pub delta: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub q_value: f64,
    pub format: FormatView,
    pub rescore: RescoreView,
    pub fix: Option<FixView>,
    #[serde(default)]
    pub slices: Vec<SliceView>,
    #[serde(default)]
    pub weakness_kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FormatView {
    pub share_of_drop: f64,
    pub baseline_rate: f64,
    pub candidate_rate: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RescoreView {
    pub recovered_share: f64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FixView {
    pub rule: String,
    pub kind: String,
    pub action: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SliceView {
    pub slice: String,
    pub items: usize,
    pub effect_in: f64,
    pub effect_out: f64,
    pub effect_diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub significant: bool,
    pub candidate_mean: f64,
    #[serde(default)]
    pub example_items: Vec<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WeakView {
    pub run: String,
    pub benchmark: String,
    #[serde(default)]
    pub slices: Vec<SliceView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PersistentView {
    pub benchmark: String,
    pub slice: String,
}

/// `evidence.json` in `path` (a folder) or at `path` (a file).
pub fn evidence_file(path: &Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join("evidence.json")
    } else {
        path.to_path_buf()
    }
}

/// Read and check the evidence.
pub fn load(file: &Path, bytes: &[u8]) -> Result<EvidenceView> {
    let ev: EvidenceView = serde_json::from_slice(bytes).map_err(|e| {
        Error::input(
            file,
            e.line(),
            None,
            format!("not caploop evidence (evidence.json of `caploop diagnose`): {e}"),
        )
    })?;
    if ev.schema_version != 1 {
        return Err(Error::input(
            file,
            0,
            Some("schema_version"),
            format!(
                "evidence schema version {} is not supported (this caploop reads 1)",
                ev.schema_version
            ),
        ));
    }
    Ok(ev)
}
