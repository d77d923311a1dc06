//! Apply a plan to a corpus (DESIGN section 8, PAPER.md section 5).
//!
//! Three streaming passes over the manifests, none holding the corpus:
//! 1. classify every document (category, dominant weak feature) and build a
//!    histogram of slot keys per pool (match / cover pool of each category);
//! 2. collect only the slots in the histogram bucket(s) where each pool's
//!    target falls, and resolve the exact boundary slot;
//! 3. decide every slot with the integer rules of [`select`] (the same rules
//!    the emitted Spark job runs) and write the selection.
//!
//! Memory: the histograms (a few thousand buckets per pool) and the slots of
//! the boundary buckets, independent of the corpus and of the budget.

pub mod hash;
pub mod manifest;
pub mod mapping;
pub mod output;
pub mod select;
pub mod spark;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{Error, Result};
use select::{bucket, cover_ord, locate, match_ord, resolve, CoverRule, Entry, Histogram, MatchRule};

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Tokens,
    Examples,
}

/// Settings of one application (from the command line, the plan, defaults).
#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub salt: String,
    pub unit: Unit,
    /// Total budget in `unit`.
    pub budget: u64,
    pub rho: f64,
    pub d_max: u32,
    pub epoch_cap: f64,
}

/// The options of `caploop apply`.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: PathBuf,
    pub corpus: Vec<PathBuf>,
    pub out: PathBuf,
    pub budget_tokens: Option<u64>,
    pub budget_examples: Option<u64>,
    pub salt: String,
    pub rho: Option<f64>,
    pub d_max: Option<u32>,
    pub epoch_cap: Option<f64>,
    pub mapping: Option<PathBuf>,
    pub emit_spark: Option<PathBuf>,
}

impl ApplyOptions {
    pub fn new(plan: &Path, corpus: Vec<PathBuf>, out: &Path) -> ApplyOptions {
        ApplyOptions {
            plan: plan.to_path_buf(),
            corpus,
            out: out.to_path_buf(),
            budget_tokens: None,
            budget_examples: None,
            salt: "caploop".into(),
            rho: None,
            d_max: None,
            epoch_cap: None,
            mapping: None,
            emit_spark: None,
        }
    }
}

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
struct PlanView {
    categories: Vec<(String, f64)>,
    budget_tokens: f64,
    max_epochs: f64,
    axis: Option<String>,
    /// (labels, order, weak) in plan order.
    features: Vec<(Vec<String>, u32, f64)>,
    rho: Option<f64>,
    d_max: Option<u32>,
}

fn plan_view(path: &Path, bytes: &[u8]) -> Result<PlanView> {
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

/// The demo's last step: a synthetic labelled corpus (`corpus.parquet`,
/// 20,000 documents) and the plan applied to it (`apply/`, with the Spark
/// job in `apply/spark/`), for a budget of 5M tokens.
pub fn demo_step(out: &Path, seed: u64) -> Result<Applied> {
    let corpus = out.join("corpus.parquet");
    crate::synth::corpus::write_corpus(&crate::synth::corpus::CorpusOptions::new(20_000, seed, &corpus)?)?;
    let mut o = ApplyOptions::new(&out.join("plan.json"), vec![corpus], &out.join("apply"));
    o.budget_tokens = Some(5_000_000);
    o.emit_spark = Some(out.join("apply").join("spark"));
    run(&o)
}

/// Split `budget` by `shares` into integers that sum to the budget (when
/// the shares sum to 1): floors, then one more for the largest remainders
/// (ties to the earlier category).
pub fn apportion(shares: &[f64], budget: u64) -> Vec<u64> {
    let raw: Vec<f64> = shares.iter().map(|s| s * budget as f64).collect();
    let mut out: Vec<u64> = raw.iter().map(|r| r.floor() as u64).collect();
    let sum: u64 = out.iter().sum();
    let total: f64 = shares.iter().sum();
    if (total - 1.0).abs() > 1e-6 || sum >= budget {
        return out;
    }
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| {
        (raw[b] - raw[b].floor())
            .total_cmp(&(raw[a] - raw[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().take((budget - sum) as usize) {
        out[i] += 1;
    }
    out
}

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
    fn dominant(&self, labels: &[&str], scratch: &mut Vec<u32>) -> Option<usize> {
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
    fn weight(&self, tokens: u64) -> u64 {
        match self.settings.unit {
            Unit::Tokens => tokens,
            Unit::Examples => 1,
        }
    }
}

/// One classified document.
struct DocRef<'a> {
    id: &'a str,
    tokens: u64,
    cat: usize,
    feat: Option<usize>,
    seed: u64,
}

/// Call `f` for every document of every manifest, classified.
fn scan(
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
fn make_job(
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

/// Pass 1 statistics.
#[derive(Default)]
struct Stats {
    hist_match: Vec<Histogram>,
    hist_cover: Vec<Histogram>,
    docs: Vec<u64>,
    tokens: Vec<u64>,
    matched_docs: Vec<u64>,
    /// Cover pool weight of one pass.
    cover_single: Vec<u64>,
    feat_docs: Vec<u64>,
    feat_tokens: Vec<u64>,
    unplanned: BTreeMap<String, (u64, u64)>,
    docs_read: u64,
}

/// The whole selection, in memory-bounded passes; returns the rules and the
/// pass-1 statistics' category results (selected fields filled by pass 3).
pub fn run(opts: &ApplyOptions) -> Result<Applied> {
    if opts.corpus.is_empty() {
        return Err(Error::usage("give at least one --corpus manifest"));
    }
    // Never write over an input.
    for name in ["selection.parquet", "ids.tsv", "apply.json", "apply.md"] {
        let target = opts.out.join(name);
        let Ok(t) = target.canonicalize() else { continue };
        for input in opts.corpus.iter().chain(std::iter::once(&opts.plan)) {
            if input.canonicalize().is_ok_and(|i| i == t) {
                return Err(Error::usage(format!(
                    "{}: an input would be overwritten by the output; choose another --out",
                    input.display()
                )));
            }
        }
    }
    let plan_bytes = crate::error::read_file(&opts.plan)?;
    let view = plan_view(&opts.plan, &plan_bytes)?;
    let (mpath, mtext, mapping) = mapping::PaperMapping::load(opts.mapping.as_deref())?;
    // Every manifest must have the same label columns as the first.
    let first_cols = manifest::columns(&opts.corpus[0])?;
    let (job, plan_features, patches) = make_job(opts, &view, &mapping, &first_cols)?;
    if let Some(col) = &job.label_column {
        for c in &opts.corpus[1..] {
            if !manifest::columns(c)?.contains(col) {
                return Err(Error::frame(
                    c,
                    format!(
                        "has no label column '{col}', which {} has; every manifest needs the same columns",
                        opts.corpus[0].display()
                    ),
                ));
            }
        }
    }
    let ncat = job.categories.len();
    let nfeat = job.features.len();
    let d_max = job.settings.d_max;
    let cover_slots = job.cover_slots;
    let weights: Vec<f64> = job.features.iter().map(|f| f.weak).collect();

    // Pass 1.
    let mut st = Stats {
        hist_match: vec![Histogram::default(); ncat],
        hist_cover: vec![Histogram::default(); ncat],
        docs: vec![0; ncat],
        tokens: vec![0; ncat],
        matched_docs: vec![0; ncat],
        cover_single: vec![0; ncat],
        feat_docs: vec![0; nfeat],
        feat_tokens: vec![0; nfeat],
        ..Stats::default()
    };
    let mut unplanned: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut docs_read = 0u64;
    scan(
        &job,
        &opts.corpus,
        |c, t| {
            let e = unplanned.entry(c.to_string()).or_default();
            e.0 += 1;
            e.1 += t;
            docs_read += 1;
        },
        |d| {
            st.docs_read += 1;
            st.docs[d.cat] += 1;
            st.tokens[d.cat] += d.tokens;
            let w = job.weight(d.tokens);
            match d.feat {
                Some(f) => {
                    st.matched_docs[d.cat] += 1;
                    st.feat_docs[f] += 1;
                    st.feat_tokens[f] += d.tokens;
                    for s in 0..d_max {
                        let o = match_ord(hash::h53(d.seed, s), weights[f]);
                        st.hist_match[d.cat].add(bucket(o, true), w);
                    }
                }
                None => {
                    st.cover_single[d.cat] += w;
                    for s in 0..cover_slots {
                        let o = cover_ord(s, hash::h53(d.seed, s));
                        st.hist_cover[d.cat].add(bucket(o, false), w);
                    }
                }
            }
            Ok(())
        },
    )?;
    st.docs_read += docs_read;
    st.unplanned = unplanned;

    // Targets and the buckets to collect.
    let s = &job.settings;
    let mut results: Vec<CategoryResult> = Vec::with_capacity(ncat);
    let mut match_loc = Vec::with_capacity(ncat);
    let mut cover_range: Vec<Option<(u64, u64, u64)>> = Vec::with_capacity(ncat);
    let mut sorted_match = Vec::with_capacity(ncat);
    let mut sorted_cover = Vec::with_capacity(ncat);
    let targets = apportion(&job.shares, s.budget);
    #[allow(clippy::needless_range_loop)]
    for c in 0..ncat {
        let target = targets[c];
        let hm = &st.hist_match[c];
        let q = ((s.rho * target as f64).ceil() as u64).min(hm.total);
        let sm = hm.sorted();
        match_loc.push(locate(&sm, q, hm.total));
        // The weight the match pool will select: exactly q (examples), or in
        // [q, q + max_weight - 1] (tokens).
        let (sel_lo, sel_hi) = if q == 0 {
            (0, 0)
        } else if q >= hm.total {
            (hm.total, hm.total)
        } else {
            (q, q + hm.max_weight.saturating_sub(1))
        };
        let hc = &st.hist_cover[c];
        let cap = ((s.epoch_cap * st.cover_single[c] as f64).floor() as u64).min(hc.total);
        let t_hi = target.saturating_sub(sel_lo).min(cap);
        let t_lo = target.saturating_sub(sel_hi).min(cap);
        let sc = hc.sorted();
        let lo = locate(&sc, t_lo.max(1), hc.total);
        let hi = locate(&sc, t_hi, hc.total);
        cover_range.push(match (lo, hi) {
            (_, None) if t_hi == 0 => None,
            (Some((blo, before)), Some((bhi, _))) => Some((blo, bhi, before)),
            (Some((blo, before)), None) => Some((blo, u64::MAX, before)),
            (None, _) => None,
        });
        sorted_match.push(sm);
        sorted_cover.push(sc);
        results.push(CategoryResult {
            category: job.categories[c].clone(),
            share: job.shares[c],
            target,
            docs: st.docs[c],
            tokens: st.tokens[c],
            match_target: q,
            matched_docs: st.matched_docs[c],
            ..CategoryResult::default()
        });
    }
    drop(sorted_match);
    drop(sorted_cover);

    // Pass 2: the slots of the boundary buckets.
    let mut ent_match: Vec<Vec<Entry>> = vec![Vec::new(); ncat];
    let mut ent_cover: Vec<Vec<Entry>> = vec![Vec::new(); ncat];
    let need_pass2 = match_loc.iter().any(Option::is_some) || cover_range.iter().any(Option::is_some);
    if need_pass2 {
        scan(
            &job,
            &opts.corpus,
            |_, _| {},
            |d| {
                let w = job.weight(d.tokens);
                match d.feat {
                    Some(f) => {
                        if let Some((b, _)) = match_loc[d.cat] {
                            for sl in 0..d_max {
                                let o = match_ord(hash::h53(d.seed, sl), weights[f]);
                                if bucket(o, true) == b {
                                    ent_match[d.cat].push(Entry {
                                        ord: o,
                                        id: d.id.to_string(),
                                        slot: sl,
                                        weight: w,
                                    });
                                }
                            }
                        }
                    }
                    None => {
                        if let Some((lo, hi, _)) = cover_range[d.cat] {
                            for sl in 0..cover_slots {
                                let o = cover_ord(sl, hash::h53(d.seed, sl));
                                let b = bucket(o, false);
                                if b >= lo && b <= hi {
                                    ent_cover[d.cat].push(Entry {
                                        ord: o,
                                        id: d.id.to_string(),
                                        slot: sl,
                                        weight: w,
                                    });
                                }
                            }
                        }
                    }
                }
                Ok(())
            },
        )?;
    }

    // Resolve the boundaries, then the integer rules.
    let mut rules = Rules {
        cover: Vec::new(),
        matched: Vec::new(),
        cover_slots,
    };
    for c in 0..ncat {
        let hm = &st.hist_match[c];
        let before = match_loc[c].map_or(0, |(_, b)| b);
        let (mb, msel) = resolve(&mut ent_match[c], before, results[c].match_target, hm.total);
        ent_match[c] = Vec::new();
        let hc = &st.hist_cover[c];
        let cap = ((s.epoch_cap * st.cover_single[c] as f64).floor() as u64).min(hc.total);
        let t = results[c].target.saturating_sub(msel).min(cap);
        let before = cover_range[c].map_or(0, |(_, _, b)| b);
        let (cb, _) = resolve(&mut ent_cover[c], before, t, hc.total);
        ent_cover[c] = Vec::new();
        results[c].cover_target = t;
        rules.cover.push(CoverRule::new(&cb, cover_slots));
        rules
            .matched
            .push(weights.iter().map(|w| MatchRule::new(&mb, *w)).collect());
    }

    // Pass 3: decide, write.
    crate::error::create_dir(&opts.out)?;
    let mut writer = output::SelectionWriter::create(&opts.out)?;
    let mut feat_res: Vec<FeatureResult> = job
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| FeatureResult {
            feature: f.name.clone(),
            weak: f.weak,
            matched_docs: st.feat_docs[i],
            matched_tokens: st.feat_tokens[i],
            ..FeatureResult::default()
        })
        .collect();
    scan(
        &job,
        &opts.corpus,
        |_, _| {},
        |d| {
            let (copies, key) = decide(&rules, &weights, d, d_max);
            if copies == 0 {
                return Ok(());
            }
            let r = &mut results[d.cat];
            let w = job.weight(d.tokens) * copies as u64;
            match d.feat {
                Some(f) => {
                    r.match_selected += w;
                    let fr = &mut feat_res[f];
                    fr.selected_docs += 1;
                    fr.selected_copies += copies as u64;
                    fr.selected_tokens += d.tokens * copies as u64;
                }
                None => r.cover_selected += w,
            }
            r.selected += w;
            r.selected_docs += 1;
            r.selected_copies += copies as u64;
            r.selected_tokens += d.tokens * copies as u64;
            writer.push(
                d.id,
                copies,
                &job.categories[d.cat],
                d.feat.map(|f| job.features[f].name.as_str()),
                key,
                d.tokens,
            )
        },
    )?;
    let outputs = writer.finish()?;
    let mut totals = Totals {
        docs_read: st.docs_read,
        ..Totals::default()
    };
    for r in results.iter_mut() {
        r.short = r.target.saturating_sub(r.selected);
        totals.target += r.target;
        totals.selected += r.selected;
        totals.selected_docs += r.selected_docs;
        totals.selected_copies += r.selected_copies;
        totals.selected_tokens += r.selected_tokens;
    }

    // Inputs and their hashes.
    let mut inputs = vec![crate::plan::InputFile::new(
        "plan",
        &opts.plan.display().to_string(),
        &plan_bytes,
    )];
    if view.axis.is_some() {
        inputs.push(crate::plan::InputFile::new(
            "mapping",
            &mpath.display().to_string(),
            mtext.as_bytes(),
        ));
    }
    for c in &opts.corpus {
        inputs.push(crate::plan::InputFile {
            role: "corpus".into(),
            path: c.display().to_string(),
            sha256: output::sha256_file(c)?,
        });
    }
    let mut applied = Applied {
        schema_version: 1,
        inputs,
        settings: job.settings.clone(),
        axis: view.axis.clone(),
        features: plan_features,
        patch_requests: patches,
        categories: results,
        feature_results: feat_res,
        unplanned_categories: st
            .unplanned
            .iter()
            .map(|(c, (d, t))| Unplanned {
                category: c.clone(),
                docs: *d,
                tokens: *t,
            })
            .collect(),
        totals,
        outputs,
    };
    if let Some(dir) = &opts.emit_spark {
        let p = spark::emit(dir, &job, &rules)?;
        applied.outputs.spark_job = Some(p.display().to_string());
    }
    crate::slices::write::write_json(&opts.out.join("apply.json"), &applied)?;
    crate::error::write_file(&opts.out.join("apply.md"), output::markdown(&applied))?;
    Ok(applied)
}

/// Copies of one document and its key (smallest kept key; for the cover
/// pool, `u` of slot 0).
#[inline]
fn decide(rules: &Rules, weights: &[f64], d: &DocRef<'_>, d_max: u32) -> (u32, f64) {
    match d.feat {
        Some(f) => {
            let r = &rules.matched[d.cat][f];
            let mut copies = 0;
            let mut key = f64::INFINITY;
            for s in 0..d_max {
                let h = hash::h53(d.seed, s);
                if r.kept(h, d.id, s) {
                    copies += 1;
                    key = key.min(hash::es_key(h, weights[f]));
                }
            }
            (copies, key)
        }
        None => {
            let r = &rules.cover[d.cat];
            let mut copies = 0;
            let mut key = 0.0;
            for s in 0..rules.cover_slots {
                let h = hash::h53(d.seed, s);
                if s == 0 {
                    key = hash::unit(h);
                }
                if r.kept(s, h, d.id) {
                    copies += 1;
                } else if s >= r.pass {
                    break;
                }
            }
            (copies, key)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn apportion_sums_to_the_budget() {
        let t = super::apportion(&[0.5, 0.25, 0.25], 7);
        // 3.5, 1.75, 1.75 -> floors 3, 1, 1; remainders .5, .75, .75: the two .75 get one more.
        assert_eq!(t, vec![3, 2, 2]);
        assert_eq!(super::apportion(&[1.0 / 3.0; 3], 100).iter().sum::<u64>(), 100);
    }
}
