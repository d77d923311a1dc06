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
mod job;
pub mod manifest;
pub mod mapping;
pub mod output;
mod results;
pub mod select;
pub mod spark;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use job::{make_job, read_plan, scan, DocRef};
pub use job::{Feature, Job};
pub use results::{Applied, CategoryResult, FeatureResult, Outputs, Rules, Totals, Unplanned};
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

/// For `verify --apply`: the selection's SHA-256 recorded in `apply.json`,
/// after checking that the selection was made from this plan (the plan's
/// SHA-256 among its inputs).
pub fn check_applied(plan: &Path, apply_json: &Path) -> Result<String> {
    let bytes = crate::error::read_file(apply_json)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::input(apply_json, e.line(), None, format!("not JSON: {e}")))?;
    let recorded = v["inputs"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["role"] == "plan"))
        .and_then(|i| i["sha256"].as_str())
        .ok_or_else(|| {
            Error::input(
                apply_json,
                1,
                Some("inputs"),
                "no plan input recorded (write it with `caploop apply`)",
            )
        })?;
    let sel = v["outputs"]["selection_sha256"]
        .as_str()
        .ok_or_else(|| Error::input(apply_json, 1, Some("outputs.selection_sha256"), "missing"))?;
    let actual = output::sha256_file(plan)?;
    if actual != recorded {
        return Err(Error::usage(format!(
            "{} was made from another plan (sha256 {recorded}) than {} (sha256 {actual})",
            apply_json.display(),
            plan.display()
        )));
    }
    Ok(sel.to_string())
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
    let plan = read_plan(&opts.plan, &plan_bytes)?;
    let (mpath, mtext, mapping) = mapping::PaperMapping::load(opts.mapping.as_deref())?;
    // Every manifest must have the same label columns as the first.
    let first_cols = manifest::columns(&opts.corpus[0])?;
    let (job, plan_features, patches) = make_job(opts, &plan, &mapping, &first_cols)?;
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
    if plan.weakness.is_some() {
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
        axis: plan.weakness.as_ref().map(|w| w.axis.clone()),
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
    crate::error::write_file(
        &opts.out.join("apply.md"),
        crate::report::text::markdown_safe(&output::markdown(&applied)),
    )?;
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
