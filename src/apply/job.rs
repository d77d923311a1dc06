//! What a plan asks of `apply`, and the job built from it: the plan's
//! mixture and weak features, the features mapped onto the manifest's label
//! columns, the dominant-feature classifier, and the scan over manifests.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{hash, manifest, mapping, ApplyOptions, Settings, Unit};
use crate::error::{Error, Result};

/// A weak feature of the plan, with its document-side predicate.
#[derive(Debug, Clone, Serialize)]
pub struct Feature {
    /// `a&b` of the evaluation-side labels.
    pub name: String,
    pub eval_labels: Vec<String>,
    pub order: u32,
    pub weak: f64,
    /// The manifest column matched, and the labels a document must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub labels: Vec<String>,
    /// `matched`, or why the feature selects nothing (`patch`: no data-side
    /// counterpart; `not_weighted`: Weak <= 0; `no_labels`: the manifest
    /// lacks the column).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What the plan contributes.
#[derive(Debug, Clone)]
pub(super) struct PlanView {
    pub(super) categories: Vec<(String, f64)>,
    pub(super) budget_tokens: f64,
    pub(super) max_epochs: f64,
    pub(super) axis: Option<String>,
    /// (labels, order, weak) in plan order.
    pub(super) features: Vec<(Vec<String>, u32, f64)>,
    pub(super) rho: Option<f64>,
    pub(super) d_max: Option<u32>,
}

pub(super) fn plan_view(path: &Path, bytes: &[u8]) -> Result<PlanView> {
    let bad = |field: &str, msg: &str| Error::input(path, 1, Some(field), msg.to_string());
    let v: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Error::input(path, e.line(), None, format!("not JSON: {e}")))?;
    let mix = v.get("mixture").ok_or_else(|| {
        bad(
            "mixture",
            "a plan.json needs a mixture (write it with `caploop plan`)",
        )
    })?;
    let cats = mix
        .get("categories")
        .and_then(|c| c.as_array())
        .ok_or_else(|| bad("mixture.categories", "missing or not a list"))?;
    let mut categories = Vec::new();
    for (i, c) in cats.iter().enumerate() {
        let f = format!("mixture.categories[{i}]");
        let name = c
            .get("category")
            .and_then(|x| x.as_str())
            .ok_or_else(|| bad(&format!("{f}.category"), "missing or not a string"))?;
        let share = c
            .get("new_share")
            .and_then(|x| x.as_f64())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| bad(&format!("{f}.new_share"), "missing or not a non-negative number"))?;
        categories.push((name.to_string(), share));
    }
    let budget_tokens = mix.get("budget_tokens").and_then(|x| x.as_f64()).unwrap_or(0.0);
    let max_epochs = v
        .pointer("/settings/max_epochs")
        .and_then(|x| x.as_f64())
        .unwrap_or(1.0);
    let mut out = PlanView {
        categories,
        budget_tokens,
        max_epochs,
        axis: None,
        features: Vec::new(),
        rho: None,
        d_max: None,
    };
    if let Some(w) = v.get("weakness").filter(|w| !w.is_null()) {
        let axis = w
            .get("axis")
            .and_then(|x| x.as_str())
            .ok_or_else(|| bad("weakness.axis", "missing or not a string"))?;
        out.axis = Some(axis.to_string());
        out.rho = w.pointer("/constants/rho").and_then(|x| x.as_f64());
        out.d_max = w
            .pointer("/constants/d_max")
            .and_then(|x| x.as_u64())
            .map(|d| d as u32);
        let feats = w
            .get("features")
            .and_then(|x| x.as_array())
            .ok_or_else(|| bad("weakness.features", "missing or not a list"))?;
        for (i, f) in feats.iter().enumerate() {
            let at = |k: &str| format!("weakness.features[{i}].{k}");
            let labels: Vec<String> = f
                .get("labels")
                .and_then(|x| x.as_array())
                .and_then(|a| a.iter().map(|l| l.as_str().map(str::to_string)).collect())
                .filter(|l: &Vec<String>| !l.is_empty())
                .ok_or_else(|| bad(&at("labels"), "missing or not a non-empty list of strings"))?;
            let weak = f
                .get("weak")
                .and_then(|x| x.as_f64())
                .ok_or_else(|| bad(&at("weak"), "missing or not a number"))?;
            let order = match f.get("order") {
                None => labels.len() as u32,
                Some(o) => o
                    .as_u64()
                    .ok_or_else(|| bad(&at("order"), "not a non-negative integer"))?
                    as u32,
            };
            out.features.push((labels, order, weak));
        }
    }
    Ok(out)
}
/// Everything the passes need.
pub struct Job {
    pub settings: Settings,
    pub categories: Vec<String>,
    pub shares: Vec<f64>,
    /// Features that select, in priority order (largest order, highest Weak, plan order).
    pub features: Vec<Feature>,
    pub label_column: Option<String>,
    cat_index: FxHashMap<String, usize>,
    label_index: FxHashMap<String, u32>,
    /// Per feature: sorted label ids.
    feat_labels: Vec<Vec<u32>>,
    pub cover_slots: u32,
}

impl Job {
    /// The dominant feature of a document with these labels.
    #[inline]
    pub(super) fn dominant(&self, labels: &[&str], scratch: &mut Vec<u32>) -> Option<usize> {
        if self.feat_labels.is_empty() || labels.is_empty() {
            return None;
        }
        scratch.clear();
        scratch.extend(labels.iter().filter_map(|l| self.label_index.get(*l).copied()));
        if scratch.is_empty() {
            return None;
        }
        scratch.sort_unstable();
        self.feat_labels
            .iter()
            .position(|f| f.iter().all(|l| scratch.binary_search(l).is_ok()))
    }

    #[inline]
    pub(super) fn weight(&self, tokens: u64) -> u64 {
        match self.settings.unit {
            Unit::Tokens => tokens,
            Unit::Examples => 1,
        }
    }
}

/// One classified document.
pub(super) struct DocRef<'a> {
    pub(super) id: &'a str,
    pub(super) tokens: u64,
    pub(super) cat: usize,
    pub(super) feat: Option<usize>,
    pub(super) seed: u64,
}

/// Call `f` for every document of every manifest, classified.
pub(super) fn scan(
    job: &Job,
    files: &[PathBuf],
    mut unplanned: impl FnMut(&str, u64),
    mut f: impl FnMut(&DocRef<'_>) -> Result<()>,
) -> Result<()> {
    let salt = hash::salt_seed(&job.settings.salt);
    let mut scratch = Vec::new();
    for path in files {
        manifest::for_each_batch(path, job.label_column.as_deref(), |b, _| {
            for i in 0..b.len() {
                let Some(&cat) = job.cat_index.get(b.cats[i]) else {
                    unplanned(b.cats[i], b.tokens[i]);
                    continue;
                };
                let feat = job.dominant(b.labels_of(i), &mut scratch);
                let d = DocRef {
                    id: b.ids[i],
                    tokens: b.tokens[i],
                    cat,
                    feat,
                    seed: hash::chain_str(salt, b.ids[i]),
                };
                f(&d)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Build the job: settings, categories, features mapped onto the manifest.
pub(super) fn make_job(
    opts: &ApplyOptions,
    view: &PlanView,
    mapping: &mapping::PaperMapping,
    manifest_columns: &[String],
) -> Result<(Job, Vec<Feature>, Vec<Feature>)> {
    let (unit, budget) = match (opts.budget_tokens, opts.budget_examples) {
        (Some(_), Some(_)) => {
            return Err(Error::usage(
                "give --budget-tokens or --budget-examples, not both",
            ))
        }
        (Some(t), None) => (Unit::Tokens, t),
        (None, Some(n)) => (Unit::Examples, n),
        (None, None) => (Unit::Tokens, view.budget_tokens.max(0.0).round() as u64),
    };
    let rho = opts.rho.or(view.rho).unwrap_or(1.0);
    if !(rho.is_finite() && (0.0..=1.0).contains(&rho)) {
        return Err(Error::usage(format!("rho must be in [0, 1], got {rho}")));
    }
    let d_max = opts.d_max.or(view.d_max).unwrap_or(2);
    if !(1..=64).contains(&d_max) {
        return Err(Error::usage(format!("d_max must be in 1..=64, got {d_max}")));
    }
    let epoch_cap = opts.epoch_cap.unwrap_or(view.max_epochs);
    if !(epoch_cap.is_finite() && epoch_cap > 0.0 && epoch_cap <= 64.0) {
        return Err(Error::usage(format!(
            "the epoch cap must be in (0, 64], got {epoch_cap}"
        )));
    }
    if opts.salt.is_empty() {
        return Err(Error::usage("the salt must not be empty"));
    }
    let settings = Settings {
        salt: opts.salt.clone(),
        unit,
        budget,
        rho,
        d_max,
        epoch_cap,
    };

    // Features: direct when the manifest has a column named after the axis,
    // else through the paper's mapping.
    let mut features = Vec::new();
    let mut patches = Vec::new();
    let mut label_column: Option<String> = None;
    if let Some(axis) = &view.axis {
        let direct = manifest_columns.iter().any(|c| c == axis);
        for (labels, order, weak) in &view.features {
            let mut f = Feature {
                name: labels.join("&"),
                eval_labels: labels.clone(),
                order: *order,
                weak: *weak,
                column: None,
                labels: Vec::new(),
                status: "matched".into(),
                reason: None,
            };
            if direct {
                f.column = Some(axis.clone());
                f.labels = labels.clone();
            } else {
                match mapping.map_feature(axis, labels) {
                    mapping::Mapped::Labels(col, l) => {
                        f.column = Some(col);
                        f.labels = l;
                    }
                    mapping::Mapped::Patch(why) => {
                        f.status = "patch".into();
                        f.reason = Some(why);
                        patches.push(f.clone());
                        features.push(f);
                        continue;
                    }
                }
            }
            let col = f.column.clone().unwrap_or_default();
            if !(weak.is_finite() && *weak > 0.0) {
                f.status = "not_weighted".into();
                f.reason = Some(format!("Weak = {weak}: only positive weights select"));
            } else if !manifest_columns.contains(&col) {
                f.status = "no_labels".into();
                f.reason = Some(format!("the manifest has no column '{col}' (nor '{axis}')"));
            } else {
                label_column = Some(col);
            }
            features.push(f);
        }
    }
    // Priority: largest order, then highest Weak, then plan order.
    let mut active: Vec<Feature> = features
        .iter()
        .filter(|f| f.status == "matched")
        .cloned()
        .collect();
    active.sort_by(|a, b| b.order.cmp(&a.order).then(b.weak.total_cmp(&a.weak)));
    let mut label_index = FxHashMap::default();
    let feat_labels = active
        .iter()
        .map(|f| {
            let mut ids: Vec<u32> = f
                .labels
                .iter()
                .map(|l| {
                    let n = label_index.len() as u32;
                    *label_index.entry(l.clone()).or_insert(n)
                })
                .collect();
            ids.sort_unstable();
            ids.dedup();
            ids
        })
        .collect();
    let categories: Vec<String> = view.categories.iter().map(|c| c.0.clone()).collect();
    let mut cat_index = FxHashMap::default();
    for (i, c) in categories.iter().enumerate() {
        if cat_index.insert(c.clone(), i).is_some() {
            return Err(Error::input(
                &opts.plan,
                1,
                Some("mixture.categories"),
                format!("category '{c}' appears twice"),
            ));
        }
    }
    let job = Job {
        cover_slots: epoch_cap.ceil() as u32,
        settings,
        shares: view.categories.iter().map(|c| c.1).collect(),
        categories,
        features: active,
        label_column,
        cat_index,
        label_index,
        feat_labels,
    };
    Ok((job, features, patches))
}
