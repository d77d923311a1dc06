//! Streaming evaluation of many slices at once: per-run statistics
//! (`slices.csv`) and the paired comparison (`comparison.csv`) of every
//! slice, without a list of member items per slice.
//!
//! A slice is a benchmark and a set of tags; its members are the items of
//! the benchmark whose tags contain the set. Items are visited once per pass,
//! in ascending order, and each visit enumerates the subsets of the item's
//! tags that are slices (a dense table for single tags and pairs, a hash
//! table above), updating every such slice's accumulators. Memory is one
//! accumulator per slice and run, not one entry per (slice, item): the dense
//! anchor workload (100 overlapping tags, 5000 pairs) holds 150 memberships
//! per item, which at 5M items would be 3 GB of item lists.
//!
//! The first pass takes counts and sums; a second pass runs only when some
//! slice needs it (centred sums of squares of non-binary scores, pass@k at
//! the slice's fewest samples). Each slice's sums are taken in item order,
//! exactly as when its items were collected first, so the statistics are the
//! same bits (see `stats::TwoPass`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::compare::{Comparison, SliceComparison, Status};
use super::dataset::{Dataset, ItemScore};
use super::define::Slice;
use super::measure::SliceStats;
use super::settings::CompareSettings;
use crate::stats::{self, PairedStream, TwoPass};

/// Which slices a dataset's items belong to, per benchmark.
struct Index {
    /// Items of each benchmark, ascending.
    items: Vec<Vec<u32>>,
    /// Slices of each benchmark (indices into the slice list); the lists
    /// below hold positions in this list.
    members: Vec<Vec<u32>>,
    /// Per benchmark: the slices, by tag subset.
    benches: Vec<BenchIndex>,
}

#[derive(Default)]
struct BenchIndex {
    /// Slices with no tags (the whole benchmark).
    all: Vec<u32>,
    /// Largest number of tags of a slice.
    max_order: usize,
    /// Local id of each tag that occurs in a slice of this benchmark.
    local: FxHashMap<u32, u32>,
    /// Single-tag slices by local tag id.
    single: Vec<Vec<u32>>,
    /// Pair slices in a dense `local x local` table (index into `lists`),
    /// or by hash when there are too many tags.
    pair_dense: Vec<u32>,
    pair_hash: FxHashMap<(u32, u32), u32>,
    lists: Vec<Vec<u32>>,
    /// Slices of three or more tags, and the proper prefixes of their tag
    /// lists, for pruning the enumeration.
    higher: FxHashMap<Vec<u32>, Vec<u32>>,
    prefixes: FxHashSet<Vec<u32>>,
}

/// Up to this many distinct tags per benchmark, pairs are found in a dense
/// table (`DENSE^2` u32s at most: 16 MB).
const DENSE: usize = 2048;
const NONE: u32 = u32::MAX;

impl Index {
    fn new(ds: &Dataset, slices: &[Slice]) -> Index {
        let nb = ds.benchmarks.len();
        let mut items = vec![Vec::new(); nb];
        for (i, it) in ds.items.iter().enumerate() {
            items[it.benchmark as usize].push(i as u32);
        }
        let mut benches: Vec<BenchIndex> = (0..nb).map(|_| BenchIndex::default()).collect();
        let mut members = vec![Vec::new(); nb];
        for s in slices {
            let b = &mut benches[s.benchmark as usize];
            b.max_order = b.max_order.max(s.tags.len());
            if s.tags.len() <= 2 {
                for &t in &s.tags {
                    let next = b.local.len() as u32;
                    b.local.entry(t).or_insert(next);
                }
            }
        }
        for b in &mut benches {
            let t = b.local.len();
            b.single = vec![Vec::new(); t];
            if t <= DENSE {
                b.pair_dense = vec![NONE; t * t];
            }
        }
        for (g, s) in slices.iter().enumerate() {
            let mine: &mut Vec<u32> = &mut members[s.benchmark as usize];
            let k = mine.len() as u32;
            mine.push(g as u32);
            let b = &mut benches[s.benchmark as usize];
            match s.tags.as_slice() {
                [] => b.all.push(k),
                [t] => {
                    let l = b.local[t] as usize;
                    b.single[l].push(k);
                }
                [x, y] => {
                    let (lx, ly) = (b.local[x], b.local[y]);
                    let slot = if b.pair_dense.is_empty() {
                        *b.pair_hash.entry((lx, ly)).or_insert_with(|| {
                            b.lists.push(Vec::new());
                            (b.lists.len() - 1) as u32
                        })
                    } else {
                        let at = lx as usize * b.local.len() + ly as usize;
                        if b.pair_dense[at] == NONE {
                            b.lists.push(Vec::new());
                            b.pair_dense[at] = (b.lists.len() - 1) as u32;
                        }
                        b.pair_dense[at]
                    };
                    b.lists[slot as usize].push(k);
                }
                tags => {
                    b.higher.entry(tags.to_vec()).or_default().push(k);
                    for l in 1..tags.len() {
                        b.prefixes.insert(tags[..l].to_vec());
                    }
                }
            }
        }
        Index {
            items,
            members,
            benches,
        }
    }

    /// Call `f(slice)` for every slice item `i` of benchmark `b` belongs to.
    #[inline]
    fn visit(&self, b: usize, tags: &[u32], buf: &mut Vec<u32>, f: &mut impl FnMut(u32)) {
        let bi = &self.benches[b];
        for &s in &bi.all {
            f(s);
        }
        if bi.max_order == 0 {
            return;
        }
        // The item's tags that occur in a slice of order <= 2, by local id
        // (the local order is not the tag order, so pairs are looked up in
        // the slice's own tag order below).
        let n = bi.local.len();
        let dense = !bi.pair_dense.is_empty();
        for (x, &tx) in tags.iter().enumerate() {
            let Some(&lx) = bi.local.get(&tx) else {
                if bi.max_order >= 3 {
                    self.visit_higher(bi, tags, x, buf, f);
                }
                continue;
            };
            for &s in &bi.single[lx as usize] {
                f(s);
            }
            if bi.max_order >= 2 {
                for &ty in &tags[x + 1..] {
                    let Some(&ly) = bi.local.get(&ty) else { continue };
                    let slot = if dense {
                        bi.pair_dense[lx as usize * n + ly as usize]
                    } else {
                        bi.pair_hash.get(&(lx, ly)).copied().unwrap_or(NONE)
                    };
                    if slot != NONE {
                        for &s in &bi.lists[slot as usize] {
                            f(s);
                        }
                    }
                }
            }
            if bi.max_order >= 3 {
                self.visit_higher(bi, tags, x, buf, f);
            }
        }
    }

    /// Slices of three or more tags whose first tag is `tags[x]`.
    fn visit_higher(
        &self,
        bi: &BenchIndex,
        tags: &[u32],
        x: usize,
        buf: &mut Vec<u32>,
        f: &mut impl FnMut(u32),
    ) {
        fn rec(bi: &BenchIndex, tags: &[u32], start: usize, cur: &mut Vec<u32>, f: &mut impl FnMut(u32)) {
            for y in start..tags.len() {
                cur.push(tags[y]);
                if cur.len() >= 3 {
                    if let Some(v) = bi.higher.get(cur.as_slice()) {
                        for &s in v {
                            f(s);
                        }
                    }
                }
                if cur.len() < bi.max_order && bi.prefixes.contains(cur.as_slice()) {
                    rec(bi, tags, y + 1, cur, f);
                }
                cur.pop();
            }
        }
        if bi.higher.is_empty() {
            return;
        }
        buf.clear();
        buf.push(tags[x]);
        if bi.prefixes.contains(buf.as_slice()) {
            rec(bi, tags, x + 1, buf, f);
        }
    }
}

/// Statistics of one slice in one run.
#[derive(Debug, Clone)]
struct MeasureAcc {
    items: usize,
    samples: u64,
    single_binary: bool,
    correct: u64,
    min_n: u32,
    means: TwoPass,
    /// pass@k sums for the slice's own k (when > 1), then each requested k.
    pass: Vec<f64>,
}

impl MeasureAcc {
    fn new(ks: usize) -> Self {
        MeasureAcc {
            items: 0,
            samples: 0,
            single_binary: true,
            correct: 0,
            min_n: u32::MAX,
            means: TwoPass::new(),
            pass: vec![-0.0; ks + 1],
        }
    }

    fn first(&mut self, s: &ItemScore) {
        self.items += 1;
        self.samples += u64::from(s.n);
        self.single_binary &= s.n == 1 && s.binary;
        self.correct += u64::from(s.correct);
        self.min_n = self.min_n.min(s.n);
        self.means.first(s.mean());
    }

    fn needs_second(&self, ks: &[u32]) -> bool {
        self.items > 0 && (!self.single_binary || self.min_n > 1 || ks.iter().any(|&k| self.min_n >= k))
    }

    fn second(&mut self, s: &ItemScore, ks: &[u32]) {
        self.means.second(s.mean());
        let own = Some(self.min_n).filter(|&k| k > 1);
        for (slot, k) in std::iter::once(own)
            .chain(ks.iter().map(|&k| Some(k)))
            .enumerate()
        {
            if let Some(k) = k.filter(|&k| self.min_n >= k) {
                if let Some(p) = stats::pass_at_k(s.n, s.correct, k) {
                    self.pass[slot] += p;
                }
            }
        }
    }

    fn finish(self, ds: &Dataset, r: usize, slice: &Slice, confidence: f64, ks: &[u32]) -> SliceStats {
        let (mean, ci) = if self.items == 0 {
            (
                f64::NAN,
                stats::Interval {
                    low: f64::NAN,
                    high: f64::NAN,
                },
            )
        } else if self.single_binary {
            (
                self.correct as f64 / self.items as f64,
                stats::wilson_interval(self.correct, self.items as u64, confidence),
            )
        } else {
            let est = stats::clustered_mean_of(&self.means, confidence);
            (est.mean, est.ci)
        };
        let min_n = (self.items > 0).then_some(self.min_n);
        let k = min_n.filter(|&k| k > 1);
        let pass = |slot: usize, k: u32| -> Option<f64> {
            if self.items == 0 || min_n.is_none_or(|n| n < k) {
                return None;
            }
            Some(self.pass[slot] / self.items as f64)
        };
        let pass_at_k = k.and_then(|k| pass(0, k));
        let pass_at = ks.iter().enumerate().map(|(j, &k)| (k, pass(j + 1, k))).collect();
        SliceStats {
            run: ds.runs[r].clone(),
            benchmark: ds.benchmarks[slice.benchmark as usize].clone(),
            slice: slice.name(ds),
            items: self.items,
            samples: self.samples,
            mean,
            ci_low: ci.low,
            ci_high: ci.high,
            k,
            pass_at_k,
            pass_at,
        }
    }
}

/// A change kept for the listed ids: larger |change| first, ties by id.
#[derive(Debug, Clone, Copy)]
struct Change<'a> {
    d: f64,
    id: &'a str,
}

impl Ord for Change<'_> {
    /// "Better" (listed earlier) is smaller, so the heap's top is the worst kept.
    fn cmp(&self, o: &Self) -> Ordering {
        self.d
            .abs()
            .total_cmp(&o.d.abs())
            .reverse()
            .then(self.id.cmp(o.id))
    }
}
impl PartialOrd for Change<'_> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for Change<'_> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Change<'_> {}

/// The `k` best changes of one sign, and how many there were.
#[derive(Debug, Clone, Default)]
struct Largest<'a> {
    count: usize,
    heap: BinaryHeap<Change<'a>>,
}

impl<'a> Largest<'a> {
    fn offer(&mut self, c: Change<'a>, k: usize) {
        self.count += 1;
        if k == 0 {
            return;
        }
        if self.heap.len() < k {
            self.heap.push(c);
        } else if let Some(mut top) = self.heap.peek_mut() {
            if c < *top {
                *top = c;
            }
        }
    }

    fn ids(self) -> (usize, Vec<String>) {
        (
            self.count,
            self.heap
                .into_sorted_vec()
                .into_iter()
                .map(|c| c.id.to_string())
                .collect(),
        )
    }
}

/// The paired comparison of one slice.
#[derive(Debug, Clone)]
struct CompareAcc<'a> {
    n: usize,
    binary: bool,
    base_correct: usize,
    means: PairedStream,
    /// Changes by the binary definition (correct minus correct), kept while
    /// every pair so far is binary, and by the mean definition.
    bin_down: Largest<'a>,
    bin_up: Largest<'a>,
    down: Largest<'a>,
    up: Largest<'a>,
}

impl<'a> CompareAcc<'a> {
    fn new() -> Self {
        CompareAcc {
            n: 0,
            binary: true,
            base_correct: 0,
            means: PairedStream::new(),
            bin_down: Largest::default(),
            bin_up: Largest::default(),
            down: Largest::default(),
            up: Largest::default(),
        }
    }

    fn first(&mut self, x: &ItemScore, y: &ItemScore, id: &'a str, k: usize) {
        self.n += 1;
        let binary = x.n == 1 && y.n == 1 && x.binary && y.binary;
        if self.binary && !binary {
            self.binary = false;
            self.bin_down = Largest::default();
            self.bin_up = Largest::default();
        }
        if self.binary {
            self.base_correct += usize::from(x.correct == 1);
            let d = f64::from(y.correct) - f64::from(x.correct);
            if d < 0.0 {
                self.bin_down.offer(Change { d, id }, k);
            } else if d > 0.0 {
                self.bin_up.offer(Change { d, id }, k);
            }
        }
        let (xm, ym) = (x.mean(), y.mean());
        self.means.first(xm, ym);
        let d = ym - xm;
        if d < 0.0 {
            self.down.offer(Change { d, id }, k);
        } else if d > 0.0 {
            self.up.offer(Change { d, id }, k);
        }
    }

    fn needs_second(&self) -> bool {
        self.n > 0 && !self.binary
    }

    fn second(&mut self, x: &ItemScore, y: &ItemScore) {
        self.means.second(x.mean(), y.mean());
    }

    fn finish(self, ds: &Dataset, slice: &Slice, s: &CompareSettings) -> SliceComparison {
        let n = self.n;
        let (cmp, method, (regressed, regressed_ids), (fixed, fixed_ids)) = if self.binary {
            let (b, c) = (self.bin_down.count, self.bin_up.count);
            (
                stats::paired_binary(n, self.base_correct, b, c, s.confidence),
                "mcnemar_exact",
                self.bin_down.ids(),
                self.bin_up.ids(),
            )
        } else {
            (
                self.means.finish(s.confidence),
                "paired_t",
                self.down.ids(),
                self.up.ids(),
            )
        };
        // MDE: the observed SD of the paired differences; when there is none
        // (no discordant item, or one item) a planning value sqrt(p(1-p)) from
        // the pooled mean with add-one smoothing, so that a tiny or unchanged
        // slice is underpowered rather than stable.
        let sd = if n >= 2 && cmp.sd_diff > 0.0 {
            cmp.sd_diff
        } else {
            let p =
                (cmp.baseline_mean * n as f64 + cmp.candidate_mean * n as f64 + 1.0) / (2.0 * n as f64 + 2.0);
            let p = if p.is_finite() { p } else { 0.5 };
            (p * (1.0 - p)).sqrt()
        };
        let mde = stats::minimum_detectable_effect(n, sd, 1.0 - s.confidence, s.power);
        SliceComparison {
            benchmark: ds.benchmarks[slice.benchmark as usize].clone(),
            slice: slice.name(ds),
            items: n,
            baseline_mean: cmp.baseline_mean,
            candidate_mean: cmp.candidate_mean,
            delta: cmp.delta,
            ci_low: cmp.ci.low,
            ci_high: cmp.ci.high,
            p_value: cmp.p_value,
            q_value: f64::NAN,
            mde,
            status: Status::Stable,
            method,
            regressed,
            fixed,
            regressed_ids,
            fixed_ids,
        }
    }
}

/// What to evaluate: every run's statistics, and optionally one paired comparison.
pub struct Request<'s> {
    pub confidence: f64,
    pub ks: &'s [u32],
    /// Runs to measure (indices into `ds.runs`).
    pub measure: Vec<usize>,
    pub compare: Option<(usize, usize, &'s CompareSettings)>,
}

/// Per-slice results, in slice order: `stats[run position][slice]`.
pub struct Evaluated {
    pub stats: Vec<Vec<SliceStats>>,
    pub comparisons: Vec<SliceComparison>,
}

/// Evaluate `slices` (any list: enumerated, grid cells, a few targets).
pub fn evaluate(ds: &Dataset, slices: &[Slice], req: &Request<'_>) -> Evaluated {
    let index = Index::new(ds, slices);
    let k_list = req.compare.map_or(0, |c| c.2.max_listed_items);
    // Slices are grouped by benchmark: each benchmark's accumulators are
    // updated by one thread, in item order.
    type Part<'a> = Vec<(u32, Vec<SliceStats>, Option<SliceComparison>)>;
    let parts: Vec<Part<'_>> = (0..ds.benchmarks.len())
        .into_par_iter()
        .map(|b| {
            let mine = &index.members[b];
            if mine.is_empty() {
                return Vec::new();
            }
            let mut meas: Vec<Vec<MeasureAcc>> = req
                .measure
                .iter()
                .map(|_| vec![MeasureAcc::new(req.ks.len()); mine.len()])
                .collect();
            let mut cmp: Vec<CompareAcc<'_>> = if req.compare.is_some() {
                vec![CompareAcc::new(); mine.len()]
            } else {
                Vec::new()
            };
            let mut buf = Vec::new();
            // Local positions of the slices an item belongs to.
            let mut hit: Vec<usize> = Vec::new();
            let items = &index.items[b];
            for &i in items {
                let i = i as usize;
                hit.clear();
                index.visit(b, &ds.items[i].tags, &mut buf, &mut |k| hit.push(k as usize));
                for (m, &r) in meas.iter_mut().zip(&req.measure) {
                    if let Some(sc) = &ds.scores[r][i] {
                        for &j in &hit {
                            m[j].first(sc);
                        }
                    }
                }
                if let Some((base, cand, _)) = req.compare {
                    if let (Some(x), Some(y)) = (&ds.scores[base][i], &ds.scores[cand][i]) {
                        let id = ds.items[i].id.as_str();
                        for &j in &hit {
                            cmp[j].first(x, y, id, k_list);
                        }
                    }
                }
            }
            for m in meas.iter_mut().flatten() {
                m.means.end_first();
            }
            for c in &mut cmp {
                c.means.end_first();
            }
            let second_meas: Vec<Vec<bool>> = meas
                .iter()
                .map(|m| m.iter().map(|a| a.needs_second(req.ks)).collect())
                .collect();
            let second_cmp: Vec<bool> = cmp.iter().map(CompareAcc::needs_second).collect();
            if second_meas.iter().flatten().any(|&x| x) || second_cmp.iter().any(|&x| x) {
                for &i in items {
                    let i = i as usize;
                    hit.clear();
                    index.visit(b, &ds.items[i].tags, &mut buf, &mut |k| hit.push(k as usize));
                    for ((m, need), &r) in meas.iter_mut().zip(&second_meas).zip(&req.measure) {
                        if let Some(sc) = &ds.scores[r][i] {
                            for &j in &hit {
                                if need[j] {
                                    m[j].second(sc, req.ks);
                                }
                            }
                        }
                    }
                    if let Some((base, cand, _)) = req.compare {
                        if let (Some(x), Some(y)) = (&ds.scores[base][i], &ds.scores[cand][i]) {
                            for &j in &hit {
                                if second_cmp[j] {
                                    cmp[j].second(x, y);
                                }
                            }
                        }
                    }
                }
            }
            let mut meas: Vec<std::vec::IntoIter<MeasureAcc>> =
                meas.into_iter().map(Vec::into_iter).collect();
            let mut cmp = cmp.into_iter();
            mine.iter()
                .map(|&k| {
                    let slice = &slices[k as usize];
                    let stats = meas
                        .iter_mut()
                        .zip(&req.measure)
                        .map(|(m, &r)| {
                            let a = m.next().expect("one accumulator per slice");
                            a.finish(ds, r, slice, req.confidence, req.ks)
                        })
                        .collect();
                    let c = req.compare.map(|(_, _, s)| {
                        cmp.next()
                            .expect("one accumulator per slice")
                            .finish(ds, slice, s)
                    });
                    (k, stats, c)
                })
                .collect()
        })
        .collect();
    let mut stats: Vec<Vec<Option<SliceStats>>> =
        req.measure.iter().map(|_| vec![None; slices.len()]).collect();
    let mut comparisons: Vec<Option<SliceComparison>> = vec![None; slices.len()];
    for (k, st, c) in parts.into_iter().flatten() {
        for (run, s) in st.into_iter().enumerate() {
            stats[run][k as usize] = Some(s);
        }
        comparisons[k as usize] = c;
    }
    Evaluated {
        stats: stats
            .into_iter()
            .map(|v| v.into_iter().flatten().collect())
            .collect(),
        comparisons: comparisons.into_iter().flatten().collect(),
    }
}

/// Statistics of every slice in every run, ordered by run, then slice.
pub fn measure_all(ds: &Dataset, slices: &[Slice], confidence: f64, ks: &[u32]) -> Vec<SliceStats> {
    let req = Request {
        confidence,
        ks,
        measure: (0..ds.runs.len()).collect(),
        compare: None,
    };
    evaluate(ds, slices, &req)
        .stats
        .into_iter()
        .flatten()
        .filter(|s| s.items > 0)
        .collect()
}

/// Compare run `base` with run `cand` on every slice: q-values across the
/// slices given, a status for each.
pub fn compare(ds: &Dataset, base: usize, cand: usize, slices: &[Slice], s: &CompareSettings) -> Comparison {
    let req = Request {
        confidence: s.confidence,
        ks: &[],
        measure: Vec::new(),
        compare: Some((base, cand, s)),
    };
    let rows = evaluate(ds, slices, &req).comparisons;
    super::compare::finish(ds, base, cand, rows, s)
}
