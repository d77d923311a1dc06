//! Slice discovery: which conjunctions of tags concentrate the errors.
//!
//! A level-wise lattice search over tag conjunctions after SliceLine
//! (S. Sagadeeva and M. Boehm, "SliceLine: Fast, Linear-Algebra-based Slice
//! Finding for ML Model Debugging", SIGMOD 2021). A slice `S` scores
//!
//! ```text
//! sc(S) = alpha * (ē_S / ē - 1) - (1 - alpha) * (n / |S| - 1)
//! ```
//!
//! with `ē` the mean error over all `n` items and `ē_S` the mean error in
//! `S`: high when the slice fails more than average, discounted when it is
//! small. The search returns the `top_k` slices by score among those with
//! `sc > 0`, at least `min_support` items and at most `max_level` tags, and
//! is exact: the pruning below never changes that list (a property test
//! compares it with an exhaustive enumeration).
//!
//! - Level 1 holds the tags with at least `min_support` items. Level `l + 1`
//!   joins two level-`l` slices that share their first `l - 1` tags (each
//!   child generated once, in lexicographic order of tag ids), and keeps the
//!   child only if all its `l + 1` parents survived level `l`. Two values of
//!   one axis may be joined: an item can hold several values on an axis.
//! - Pruning: by support (exact sizes by bitset AND and popcount) and by the
//!   SliceLine score bound. A child has at most the smallest parent size
//!   `s_ub`, error sum `se_ub` and maximum item error `m_ub`, and at least
//!   `min_support` items, so
//!   `sc <= alpha * (min(m_ub, se_ub / min_support) / ē - 1) - (1 - alpha) * (n / s_ub - 1)`.
//!   A slice is not expanded, and a child not evaluated, when that bound is
//!   below the `k`-th best score found so far (or below 0 while fewer than
//!   `k` are known), with a relative slack of 1e-9 so that rounding can never
//!   prune a slice that ties. A child with the same items as one of its
//!   parents (equal size) says nothing new: it is neither a result nor
//!   expanded (all its descendants have the same property).
//! - Children are counted per parent, in parallel with rayon, one level at a
//!   time: by AND-ing the parent's bitset (dense, or its non-zero words when
//!   sparse) with each child tag's bitset and popcounting (errors: popcount
//!   of an error bitset when every error is 0 or 1, else a sum over the set
//!   bits), or, when cheaper (a small parent with many children), by one
//!   pass over the parent's items and their tag lists. Both add the same
//!   errors in the same item order. The threshold only changes between
//!   levels and ties are ordered by name, so the output does not depend on
//!   the thread count or scheduling.
//!
//! The top `k` are then compared with their complement on `effect`:
//! Welch's unequal-variance t-test (Welch–Satterthwaite degrees of freedom,
//! two-sided p from Student's t), with a 95% interval
//! `diff ± 1.959963984540054 * se`. The interval uses the normal quantile
//! for simplicity: at the slice sizes searched it is close to Student's
//! (which is 7% wider at 19 degrees of freedom, 1% at 100).
//!
//! Benjamini–Hochberg q-values are taken over every slice the search
//! evaluated (exact statistics computed, at least `min_support` items), the
//! ones not returned counted at p = 1. The returned slices were picked for
//! their high error out of that family, so q-values over the `k` returned
//! alone are badly optimistic when `effect` tracks the error: on null data
//! (3000 items, 6 axes of 8 values, `alpha = 0.99`) 147 of 200 runs then
//! report a significant slice, against 1 of 200 this way. Slices the bound
//! pruned unseen are not counted, so the correction is approximate.
//!
//! Finally a slice is dropped when a higher-scoring slice already kept is a
//! subset or superset of it (in tags): a planted pair outranks its diluted
//! single tags, and a strong single tag outranks its children that add
//! nothing. Siblings that merely overlap a strong slice (`a & c` next to a
//! planted `a & b`) are kept and may test significant through the shared
//! items.
//!
//! Deliberately not here: reading files, choosing `errors` or `effect` (the
//! caller decides what an error is), sampling, and SliceLine's
//! linear-algebra formulation. Memory: `n / 8` bytes per tag with at least
//! `min_support` items, the items' tag lists (4 bytes per tag), and per
//! worker thread one parent bitset at a time; slices are not kept as bitsets
//! beyond level 1.
//!
//! Input conventions: the three per-item slices should have the same length
//! (items beyond the shortest are ignored); errors are clamped to `[0, 1]`
//! with NaN counted as 0; tag ids outside `tag_names` are ignored;
//! `min_support = 0` is treated as 1. Empty input, no error at all,
//! `top_k = 0`, `max_level = 0` or `min_support` above the item count give an
//! empty result, never a panic.

use std::borrow::Cow;
use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::stats::{benjamini_hochberg, student_t_two_sided_p};

mod data;
use data::Data;

/// Two-sided 95% quantile of the standard normal, `scipy.stats.norm.ppf(0.975)`.
const Z_95: f64 = 1.959963984540054;

/// Relative slack on the score bound (see the module docs).
const BOUND_SLACK: f64 = 1e-9;

/// What the search looks at.
#[derive(Debug, Clone, Copy)]
pub struct LatticeInput<'a> {
    /// Tag ids of each item (sorted, deduplicated). Tag ids index `tag_names`.
    pub item_tags: &'a [Vec<u32>],
    /// `axis=value`; a slice is named by its sorted predicates joined by " & ".
    pub tag_names: &'a [String],
    /// Per-item error in [0, 1] (e.g. 1 - candidate mean score, or 1.0 when the item regressed).
    pub errors: &'a [f64],
    /// Per-item value compared between the slice and its complement in the significance test
    /// (e.g. the paired delta candidate - baseline, or the error itself when there is no baseline).
    pub effect: &'a [f64],
}

/// Search and test settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatticeSettings {
    /// Weight of the error term against the size term in the score (SliceLine's alpha).
    pub alpha: f64,
    /// Smallest slice considered, in items.
    pub min_support: usize,
    /// Most tags in one conjunction.
    pub max_level: usize,
    /// Slices kept by score before testing and dropping relatives.
    pub top_k: usize,
    /// Benjamini–Hochberg level for `significant`.
    pub fdr: f64,
    /// Example items per slice.
    pub max_examples: usize,
}

impl Default for LatticeSettings {
    fn default() -> Self {
        LatticeSettings {
            alpha: 0.95,
            min_support: 20,
            max_level: 3,
            top_k: 20,
            fdr: 0.05,
            max_examples: 5,
        }
    }
}

/// One discovered slice with its comparison against the complement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundSlice {
    /// Tag ids, ascending.
    pub tags: Vec<u32>,
    /// Tag names sorted and joined by " & ".
    pub name: String,
    pub items: usize,
    pub error_sum: f64,
    pub error_rate: f64,
    pub score: f64,
    /// Number of tags.
    pub level: usize,
    /// Mean effect in the slice.
    pub effect_in: f64,
    /// Mean effect in the complement.
    pub effect_out: f64,
    /// `effect_in - effect_out`.
    pub effect_diff: f64,
    /// 95% interval of `effect_diff` (normal quantile, Welch standard error).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Welch's t-test, two-sided; NaN when a side has fewer than 2 items.
    pub p_value: f64,
    /// Benjamini–Hochberg over every slice the search evaluated (see the module docs).
    pub q_value: f64,
    /// `q_value <= fdr`.
    pub significant: bool,
    /// indices of example items in the slice (largest error first, ties by index)
    pub examples: Vec<u32>,
}

/// The most specific high-error slices, strongest first (score descending,
/// ties by name), with slices related to a stronger one dropped.
pub fn search(input: &LatticeInput, s: &LatticeSettings) -> Vec<FoundSlice> {
    search_with(input, s, Method::Auto)
}

/// The top `k` slices by score exactly as SliceLine defines them, for a
/// comparison with the `sliceline` package (tests/suite/sliceline_peer.rs): the
/// two intended differences of [`search`] are switched off, so no slice is
/// dropped for being related to a stronger one, and a child with the same
/// items as a parent is kept (SliceLine keeps it; its score equals the
/// parent's). The third difference, joining two values of one axis, cannot
/// arise when every item holds one value per axis (such a conjunction is
/// empty). Statistics against the complement are computed as in [`search`].
pub fn search_sliceline(input: &LatticeInput, s: &LatticeSettings) -> Vec<FoundSlice> {
    let Some(mut data) = Data::new(input, s) else {
        return Vec::new();
    };
    data.keep_same_items = true;
    let (ranked, evaluated) = data.search_lattice(Method::Auto);
    data.describe(ranked, evaluated)
}

/// How a parent's children are counted. Both give identical numbers (the
/// error sums add the same values in the same item order); `Auto` picks the
/// cheaper per parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Auto,
    /// AND the parent's non-zero bitset words with each child tag's bitset.
    #[cfg_attr(not(test), allow(dead_code))]
    Bitset,
    /// Walk the parent's items once and count every child tag they hold.
    #[cfg_attr(not(test), allow(dead_code))]
    Count,
}

fn search_with(input: &LatticeInput, s: &LatticeSettings, method: Method) -> Vec<FoundSlice> {
    let Some(data) = Data::new(input, s) else {
        return Vec::new();
    };
    let (ranked, evaluated) = data.search_lattice(method);
    drop_subsumed(data.describe(ranked, evaluated))
}

/// A slice during the search.
#[derive(Debug, Clone)]
struct Node {
    tags: Vec<u32>,
    size: usize,
    err: f64,
    max: f64,
    /// Smallest parent size (`n` at level 1): equal to `size` when the slice
    /// has the same items as a parent.
    parent_size: usize,
}

/// A slice in the running top `k`.
#[derive(Debug, Clone, PartialEq)]
struct Ranked {
    tags: Vec<u32>,
    name: String,
    size: usize,
    err: f64,
    score: f64,
}

fn rank_order(a: &Ranked, b: &Ranked) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.tags.cmp(&b.tags))
}

/// Non-zero words of a slice bitset: `(word index, bits)`.
type Words = Vec<(u32, u64)>;

/// The items of a parent slice, in the cheaper of two forms.
enum Members<'a> {
    Dense(Cow<'a, [u64]>),
    Sparse(Words),
}

impl Members<'_> {
    /// Words read per child by the bitset path.
    fn cost(&self) -> usize {
        match self {
            Members::Dense(bits) => bits.len(),
            Members::Sparse(words) => words.len(),
        }
    }

    fn for_each_word(&self, mut f: impl FnMut(usize, u64)) {
        match self {
            Members::Dense(bits) => bits
                .iter()
                .enumerate()
                .filter(|(_, &x)| x != 0)
                .for_each(|(w, &x)| f(w, x)),
            Members::Sparse(words) => words.iter().for_each(|&(w, x)| f(w as usize, x)),
        }
    }
}

/// All tags but the last.
fn prefix(tags: &[u32]) -> &[u32] {
    &tags[..tags.len().saturating_sub(1)]
}

/// Benjamini–Hochberg q-values of `p` (NaN stays NaN) as if the `family`
/// slices the search evaluated had all been tested, the ones not in `p`
/// counted at p = 1. The search picked `p`'s slices for their high error, so
/// the family it picked them from is the honest multiple-testing family.
///
/// With `m` values of which the `t` real ones rank first, BH's running
/// minimum over them is `p_(j) m / j = (m / t) p_(j) t / j` and the 1s clip to
/// 1, so the result is `min(1, bh(p)_i * m / t)`.
fn family_q_values(p: &[f64], family: usize) -> Vec<f64> {
    let tested = p.iter().filter(|p| !p.is_nan()).count();
    let scale = family.max(tested) as f64 / tested.max(1) as f64;
    benjamini_hochberg(p)
        .into_iter()
        .map(|q| if q.is_nan() { q } else { (q * scale).min(1.0) })
        .collect()
}

/// Keeps `examples` as the `cap` largest errors, ties by smaller index.
fn push_example(examples: &mut Vec<(f64, u32)>, cap: usize, error: f64, index: u32) {
    if cap == 0 {
        return;
    }
    // Items arrive by ascending index, so a tie never displaces a kept item.
    if examples.len() == cap && examples[cap - 1].0 >= error {
        return;
    }
    let at = examples.partition_point(|&(e, _)| e >= error);
    examples.insert(at, (error, index));
    examples.truncate(cap);
}

fn for_each_bit(w: usize, mut bits: u64, mut f: impl FnMut(usize)) {
    while bits != 0 {
        f(w * 64 + bits.trailing_zeros() as usize);
        bits &= bits - 1;
    }
}

fn sort_dedup_tail(v: &mut Vec<u32>, start: usize) {
    v[start..].sort_unstable();
    let mut keep = start;
    for j in start..v.len() {
        if keep == start || v[j] != v[keep - 1] {
            v[keep] = v[j];
            keep += 1;
        }
    }
    v.truncate(keep);
}

/// Whether sorted `a` is a subset of sorted `b`.
fn is_subset(a: &[u32], b: &[u32]) -> bool {
    let mut b = b.iter();
    a.iter().all(|x| b.any(|y| y == x))
}

/// Drops every slice related (subset or superset of tags) to a slice kept
/// before it; `found` is in score order.
fn drop_subsumed(found: Vec<FoundSlice>) -> Vec<FoundSlice> {
    let mut kept: Vec<FoundSlice> = Vec::new();
    for f in found {
        if !kept
            .iter()
            .any(|k| is_subset(&k.tags, &f.tags) || is_subset(&f.tags, &k.tags))
        {
            kept.push(f);
        }
    }
    kept
}

/// Count, mean and sum of squared deviations of one group.
#[derive(Debug, Clone, Default)]
struct Moments {
    n: usize,
    /// The sum until `finish_mean`.
    mean: f64,
    m2: f64,
}

impl Moments {
    fn finish_mean(&mut self) {
        self.mean = if self.n == 0 {
            f64::NAN
        } else {
            self.mean / self.n as f64
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Welch {
    diff: f64,
    ci_low: f64,
    ci_high: f64,
    p: f64,
}

/// Welch's two-sample t-test of `a.mean - b.mean` (unequal variances,
/// Welch–Satterthwaite df), as `scipy.stats.ttest_ind(a, b, equal_var=False)`,
/// with a normal-quantile 95% interval. A side with fewer than 2 items gives
/// NaN. Zero variance on both sides gives p = 1 for no difference, 0 otherwise.
fn welch(a: &Moments, b: &Moments) -> Welch {
    let diff = a.mean - b.mean;
    if a.n < 2 || b.n < 2 {
        return Welch {
            diff,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            p: f64::NAN,
        };
    }
    let (na, nb) = (a.n as f64, b.n as f64);
    let va = a.m2 / (na - 1.0) / na;
    let vb = b.m2 / (nb - 1.0) / nb;
    let se2 = va + vb;
    let se = se2.sqrt();
    let (ci_low, ci_high) = (diff - Z_95 * se, diff + Z_95 * se);
    if se2 == 0.0 {
        let p = if diff.is_nan() {
            f64::NAN
        } else if diff == 0.0 {
            1.0
        } else {
            0.0
        };
        return Welch {
            diff,
            ci_low,
            ci_high,
            p,
        };
    }
    // Scale-free Welch–Satterthwaite, so tiny variances do not underflow.
    let (ra, rb) = (va / se2, vb / se2);
    let df = 1.0 / (ra * ra / (na - 1.0) + rb * rb / (nb - 1.0));
    Welch {
        diff,
        ci_low,
        ci_high,
        p: student_t_two_sided_p(diff / se, df),
    }
}

#[cfg(test)]
mod tests;
