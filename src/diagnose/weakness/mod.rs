//! The weakness analysis of PAPER.md section 5 (operation-targeted
//! sampling): which features (sets of one to three values of one axis,
//! `operation` by default) the diagnosed run fails on, scored so that the
//! apply stage can weight examples by them.
//!
//! Over a set of items `D` (the diagnostic set, see [`scope`]) with a
//! per-item error in [0, 1] (1 - the run's mean score on the item):
//!
//! - Slices are inclusive: `D(F)` holds the items whose label set contains
//!   every value of `F`. `Err(F)` is the mean error over `D(F)`, `Acc = 1 - Err`.
//! - Pair effect of adding `o` to `u`:
//!   `Δpair(u;o) = (Acc(u,o) - Acc(u)) / Acc(u) x 100` (percent).
//! - Composition effect: `C(u; oi, oj) = r(u,oi,oj) - (r(u,oi) + r(u,oj))`
//!   with `r(u, X) = (Acc(u ∪ X) - Acc(u)) / Acc(u) x 100` the relative effect
//!   (so `r(u,o) = Δpair(u;o)`); negative: the combination is harder than
//!   its parts.
//! - `Weak(F) = ω(F) x (A_raw + A_pair + A_comp)` with
//!   `A_raw = max(0, Err(F) - Err(D))`; `A_pair` (pairs only) the larger of
//!   `max(0, -Δpair(u;o))` and `max(0, -Δpair(o;u))`; `A_comp` (triples
//!   only) the largest `max(0, -C(u; T \ u))` over `u` in `T`; and
//!   `ω(F) = ln(1 + n) x sqrt(n / (n + κ))`, `n = |D(F)|` (the paper's
//!   typesetting is ambiguous: this is the product of a log-size term and a
//!   shrinkage term, read with the natural log).
//!   **Units**: in `Weak` the three terms are fractions (`Δpair / 100`,
//!   `C / 100`), so an error excess of 0.10 and a relative drop of 10% weigh
//!   the same. The paper adds a fraction to percents, which would make
//!   `A_raw` a rounding error next to the others; the ranking of pairs
//!   among pairs and of triples among triples is the same either way.
//!   `Δpair` and `C` are reported in percent, as the paper writes them.
//! - Feature pool: every single value; the pairs with `n >= θ`, of which the
//!   `top_pairs` with the highest `Weak` are kept; the triples that extend a
//!   kept pair with `n >= θ` and `A_comp > 0`; of those, the `top_k` with the
//!   highest `Weak` (and `Weak > 0`) form the pool, rank 1 first. Pairs are
//!   held to the triples' support `θ` too (the paper gives no pair
//!   threshold; a pair of a handful of items has a meaningless `Δpair`).
//!
//! What the paper lacks, added here so that noise is marked as noise (one
//! Benjamini–Hochberg family per kind of test, over every feature
//! evaluated):
//!
//! - each feature's error rate: a 95% Wilson interval, and a two-sided
//!   two-proportion z-test (pooled variance, as `statsmodels`
//!   `proportions_ztest`) of `D(F)` against the rest of `D`;
//! - each pair effect `Δpair(u;o)`: the same z-test of `D(u,o)` against
//!   `D(u) \ D(o)` (accuracy with `o` against without it, inside `u`), with
//!   a Wald 95% interval of that accuracy difference;
//! - each composition effect `C(u; oi, oj)`: `C x Acc(u) / 100` is the
//!   interaction contrast `Acc(u,oi,oj) - Acc(u,oi) - Acc(u,oj) + Acc(u)`, a
//!   linear combination of the accuracies of the four disjoint cells of
//!   `D(u)` split by holding `oi` and `oj`; a Wald z-test of that
//!   contrast, with each cell's variance from `(s + 1) / (m + 2)` (plus-two,
//!   so an all-correct cell does not claim zero variance).
//!
//! A feature's `q_value` is the q-value of the test behind its largest
//! term (`A_raw`: the error test; `A_pair`: the pair test of the direction
//! that gave it; `A_comp`: the composition test of the `u` that gave it);
//! `significant` is `q_value <= fdr`.
//!
//! Fractional errors (pass@k with several samples) enter the tests as
//! fractional counts: an approximation; exact for one sample per item.
//!
//! Not here: choosing the items and errors (the caller), sampling (the
//! apply stage reads the pool from `plan.json`).

pub mod kind;
pub mod markdown;
mod pool;
#[cfg(test)]
mod tests;
pub mod write;

use serde::{Deserialize, Serialize};

pub use kind::{classify, WeaknessKind};

/// Settings of the weakness analysis (`diagnose.weakness` in a settings file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WeaknessSettings {
    /// The axis whose values form the features.
    pub axis: String,
    /// κ of the support factor ω (PAPER.md section 5: 50).
    pub kappa: f64,
    /// θ: least support of a pair or a triple (30).
    pub theta: usize,
    /// Pairs kept (by Weak) before triples extend them (30, as K).
    pub top_pairs: usize,
    /// K: features in the pool (30).
    pub top_k: usize,
    /// Benjamini–Hochberg level for `significant`.
    pub fdr: f64,
    /// Axes whose weakness is a concept gap (knowledge).
    pub concept_axes: Vec<String>,
    /// Axes whose weakness is a capability deficit (solving operation).
    pub capability_axes: Vec<String>,
}

impl Default for WeaknessSettings {
    fn default() -> Self {
        WeaknessSettings {
            axis: "operation".into(),
            kappa: 50.0,
            theta: 30,
            top_pairs: 30,
            top_k: 30,
            fdr: 0.05,
            concept_axes: vec!["background".into(), "domain".into(), "subject".into()],
            capability_axes: vec!["operation".into()],
        }
    }
}

/// What the analysis looks at.
#[derive(Debug, Clone, Copy)]
pub struct WeaknessInput<'a> {
    /// Value names; label ids index this.
    pub values: &'a [String],
    /// Each item's label ids (any order, duplicates ignored).
    pub labels: &'a [Vec<u32>],
    /// Each item's error in [0, 1] (NaN counts as 0).
    pub errors: &'a [f64],
}

/// `Δpair(u;o)` with its test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairEffect {
    /// `u`.
    pub base: String,
    /// `o`.
    pub added: String,
    /// `|D(u)|` and `Acc(u)`.
    pub base_items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub base_accuracy: f64,
    /// `Acc(u,o)`.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub accuracy: f64,
    /// `Δpair(u;o)`, percent.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub delta_pair: f64,
    /// `Acc(u,o) - Acc(D(u) \ D(o))` with its Wald 95% interval.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub diff: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
}

/// `C(u; oi, oj)` with its test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositionEffect {
    /// `u`.
    pub base: String,
    /// `oi`, `oj`.
    pub parts: Vec<String>,
    /// `C(u; oi, oj)`, percent.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub c: f64,
    /// The interaction contrast `C x Acc(u) / 100` with its Wald 95% interval.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub contrast: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
}

/// One feature: its slice, its terms, its score and its tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// The values of `F`, sorted.
    pub labels: Vec<String>,
    pub order: usize,
    /// `|D(F)|`.
    pub n: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub error_sum: f64,
    /// `Err(F)` with its 95% Wilson interval.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub error_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    /// Two-proportion z-test of `Err(F)` against the rest of the set.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_error: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_error: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub omega: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub a_raw: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub a_pair: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub a_comp: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub weak: f64,
    /// q-value of the test behind the largest term (see the module docs).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    pub significant: bool,
    /// In the feature pool, and its rank there (1 = highest Weak).
    pub in_pool: bool,
    pub rank: Option<usize>,
    /// Pairs: both directions (`u` = first label, then `u` = second).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pair_effects: Vec<PairEffect>,
    /// Triples: one per `u`, in label order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub composition_effects: Vec<CompositionEffect>,
}

impl Feature {
    /// `a & b & c`.
    pub fn name(&self) -> String {
        self.labels.join(" & ")
    }
}

/// The constants the analysis ran with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Constants {
    pub kappa: f64,
    pub theta: usize,
    pub top_pairs: usize,
    pub top_k: usize,
    pub fdr: f64,
}

/// The analysis of one item set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    pub axis: String,
    pub constants: Constants,
    /// `|D|` and `Err(D)`.
    pub items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub error_rate: f64,
    /// Every feature evaluated (singles, pairs with `n >= θ`, triples
    /// extending a kept pair with `n >= θ`): pool first by rank, then the
    /// rest by Weak (descending), order, name.
    pub features: Vec<Feature>,
}

impl Analysis {
    /// The pool, rank 1 first.
    pub fn pool(&self) -> impl Iterator<Item = &Feature> {
        self.features.iter().filter(|f| f.in_pool)
    }
}

/// `ω(n) = ln(1 + n) x sqrt(n / (n + κ))`.
pub fn omega(n: usize, kappa: f64) -> f64 {
    let n = n as f64;
    if n <= 0.0 {
        return 0.0;
    }
    n.ln_1p() * (n / (n + kappa.max(0.0))).sqrt()
}

/// Run the analysis.
pub fn analyse(input: &WeaknessInput<'_>, axis: &str, s: &WeaknessSettings) -> Analysis {
    pool::analyse(input, axis, s)
}

/// The diagnostic set's weakness, as `evidence.json` carries it. The
/// default (empty axis) stands for evidence written without the analysis.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WeaknessReport {
    /// The run whose errors were analysed.
    pub run: String,
    /// The benchmarks pooled into the diagnostic set.
    pub benchmarks: Vec<String>,
    /// Why these benchmarks.
    pub scope: String,
    #[serde(flatten)]
    pub analysis: Analysis,
}

/// The weakness of run `cand` over `benchmarks` of `ds` (pooled: the
/// paper's diagnostic set), on the settings' axis. Items the run has no
/// score for are left out; items with no value on the axis stay in `D`.
pub fn of_dataset(
    ds: &crate::slices::Dataset,
    cand: usize,
    benchmarks: &[u32],
    scope: String,
    s: &WeaknessSettings,
) -> WeaknessReport {
    let prefix = format!("{}=", s.axis);
    let unknown = format!("{prefix}{}", crate::taxonomy::UNKNOWN_VALUE);
    // Axis values, by tag id.
    let mut value_of: Vec<Option<u32>> = vec![None; ds.tags.len()];
    let mut values: Vec<String> = Vec::new();
    let mut named: Vec<(usize, &str)> = ds
        .tags
        .iter()
        .enumerate()
        .filter(|(_, t)| t.starts_with(&prefix) && **t != unknown)
        .map(|(i, t)| (i, &t[prefix.len()..]))
        .collect();
    named.sort_by(|a, b| a.1.cmp(b.1));
    for (i, v) in named {
        value_of[i] = Some(values.len() as u32);
        values.push(v.to_string());
    }
    let mut labels = Vec::new();
    let mut errors = Vec::new();
    for &b in benchmarks {
        for i in ds.benchmark_items(b) {
            let Some(score) = ds.scores[cand][i] else { continue };
            labels.push(
                ds.items[i]
                    .tags
                    .iter()
                    .filter_map(|&t| value_of.get(t as usize).copied().flatten())
                    .collect::<Vec<u32>>(),
            );
            errors.push(1.0 - score.mean());
        }
    }
    let analysis = analyse(
        &WeaknessInput {
            values: &values,
            labels: &labels,
            errors: &errors,
        },
        &s.axis,
        s,
    );
    WeaknessReport {
        run: ds.runs[cand].clone(),
        benchmarks: benchmarks
            .iter()
            .map(|&b| ds.benchmarks[b as usize].clone())
            .collect(),
        scope,
        analysis,
    }
}

/// The diagnostic set: with a baseline, the benchmarks whose verdict is
/// `data_in` (the weakness the data should fix); without one, every
/// benchmark. Either way only benchmarks with a value on the axis for at
/// least one item (pooling items the axis does not describe would only
/// dilute `Err(D)`). Returns the benchmark ids and a sentence saying why.
pub fn scope(
    ds: &crate::slices::Dataset,
    data_in: Option<&[&str]>,
    s: &WeaknessSettings,
) -> (Vec<u32>, String) {
    let prefix = format!("{}=", s.axis);
    let unknown = format!("{prefix}{}", crate::taxonomy::UNKNOWN_VALUE);
    let on_axis: Vec<bool> = ds
        .tags
        .iter()
        .map(|t| t.starts_with(&prefix) && *t != unknown)
        .collect();
    let described = |b: u32| {
        ds.benchmark_items(b)
            .any(|i| ds.items[i].tags.iter().any(|&t| on_axis[t as usize]))
    };
    let picked: Vec<u32> = (0..ds.benchmarks.len() as u32)
        .filter(|&b| data_in.is_none_or(|d| d.contains(&ds.benchmarks[b as usize].as_str())))
        .filter(|&b| described(b))
        .collect();
    let why = match data_in {
        Some(_) if picked.is_empty() => format!(
            "no data_in benchmark has a value on `{}`: nothing for targeted data",
            s.axis
        ),
        Some(_) => format!("the data_in benchmarks with values on `{}`, pooled", s.axis),
        None => format!("no baseline: every benchmark with values on `{}`, pooled", s.axis),
    };
    (picked, why)
}

/// `kind: capability_deficit (operation=counting & ...)` for a `data_in` verdict.
pub fn kind_line(v: &super::BenchmarkVerdict) -> Option<String> {
    let k = v.weakness_kind?;
    Some(format!(
        "kind: {} ({}, from {})",
        k.as_str(),
        k.words(),
        v.weakness_kind_slice.as_deref().unwrap_or("?")
    ))
}

/// The pool's top `k` features in a line each, for the terminal.
pub fn summary_lines(r: &WeaknessReport, k: usize) -> Vec<String> {
    let a = &r.analysis;
    if a.pool().next().is_none() {
        return Vec::new();
    }
    let mut out = vec![format!(
        "weakness of {} on `{}` over {} ({} items, error {:.1}%): top features",
        r.run,
        a.axis,
        r.benchmarks.join(", "),
        a.items,
        100.0 * a.error_rate
    )];
    for f in a.pool().take(k) {
        out.push(format!(
            "  {:>2}. {:<48} Weak {:.3}  n={}  error {:.1}%  q = {}{}",
            f.rank.unwrap_or(0),
            f.name(),
            f.weak,
            f.n,
            100.0 * f.error_rate,
            crate::report::num::q3(f.q_value),
            if f.significant {
                ""
            } else {
                "  (noise at this FDR)"
            }
        ));
    }
    out
}
