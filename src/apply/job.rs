//! What a plan asks of `apply`, and the job built from it: the plan's
//! mixture and weak features, the features mapped onto the manifest's label
//! columns, the dominant-feature classifier, and the scan over manifests.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{hash, manifest, mapping, ApplyOptions, Settings, Unit};
use crate::error::{Error, Result};
use crate::plan::Plan;

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

/// Read `plan.json` for `apply` and check what the selection needs of it:
/// each category's new share, and each weak feature's labels and Weak.
pub(super) fn read_plan(path: &Path, bytes: &[u8]) -> Result<Plan> {
    let plan = crate::plan::read(path, bytes)?;
    let bad = |field: String, msg: &str| Error::input(path, 1, Some(&field), msg.to_string());
    for (i, c) in plan.mixture.categories.iter().enumerate() {
        if !(c.new_share.is_finite() && c.new_share >= 0.0) {
            return Err(bad(
                format!("mixture.categories[{i}].new_share"),
                "missing or not a non-negative number",
            ));
        }
    }
    for (i, f) in plan.weakness.iter().flat_map(|w| &w.features).enumerate() {
        if f.labels.is_empty() {
            return Err(bad(
                format!("weakness.features[{i}].labels"),
                "missing or not a non-empty list of strings",
            ));
        }
        if f.weak.is_none() {
            return Err(bad(
                format!("weakness.features[{i}].weak"),
                "missing or not a number",
            ));
        }
    }
    Ok(plan)
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
    plan: &Plan,
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
        (None, None) => (Unit::Tokens, plan.mixture.budget_tokens.max(0.0).round() as u64),
    };
    let constants = plan.weakness.as_ref().map(|w| &w.constants);
    let rho = opts.rho.or(constants.map(|c| c.rho)).unwrap_or(1.0);
    if !(rho.is_finite() && (0.0..=1.0).contains(&rho)) {
        return Err(Error::usage(format!("rho must be in [0, 1], got {rho}")));
    }
    let d_max = opts.d_max.or(constants.map(|c| c.d_max)).unwrap_or(2);
    if !(1..=64).contains(&d_max) {
        return Err(Error::usage(format!("d_max must be in 1..=64, got {d_max}")));
    }
    let epoch_cap = opts.epoch_cap.unwrap_or(plan.settings.max_epochs);
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
    if let Some(w) = &plan.weakness {
        let axis = &w.axis;
        let direct = manifest_columns.iter().any(|c| c == axis);
        for pf in &w.features {
            let labels = &pf.labels;
            // Checked by `read_plan`; an order left out is the number of labels.
            let weak = pf.weak.unwrap_or(f64::NAN);
            let order = if pf.order == 0 { labels.len() } else { pf.order } as u32;
            let mut f = Feature {
                name: labels.join("&"),
                eval_labels: labels.clone(),
                order,
                weak,
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
            if !(weak.is_finite() && weak > 0.0) {
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
    let categories: Vec<String> = plan
        .mixture
        .categories
        .iter()
        .map(|c| c.category.clone())
        .collect();
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
        shares: plan.mixture.categories.iter().map(|c| c.new_share).collect(),
        categories,
        features: active,
        label_column,
        cat_index,
        label_index,
        feat_labels,
    };
    Ok((job, features, patches))
}
