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

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::acc::{id_ranks, CompareAcc, MeasureAcc};
use super::bits;
use super::compare::{Comparison, SliceComparison};
use super::dataset::Dataset;
use super::define::Slice;
use super::measure::SliceStats;
use super::settings::CompareSettings;

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
    /// Per local tag: the first and last slice position of its single-tag
    /// slice and of the pairs it comes first in. A range of slices that
    /// misses it skips the tag's pairs (slices are sorted by name, so a
    /// tag's pairs are together and each range holds a part of the tags).
    span: Vec<(u32, u32)>,
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
            b.span = vec![(NONE, 0); t];
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
                    b.widen(l, k);
                }
                [x, y] => {
                    let (lx, ly) = (b.local[x], b.local[y]);
                    b.widen(lx as usize, k);
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

    /// Call `f(slice)` for every slice item `i` of benchmark `b` belongs to,
    /// at least those at positions `range` (others may be skipped).
    #[inline]
    fn visit(&self, b: usize, tags: &[u32], range: (u32, u32), buf: &mut Vec<u32>, f: &mut impl FnMut(u32)) {
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
            let (first, last) = bi.span[lx as usize];
            if last < range.0 || first >= range.1 {
                if bi.max_order >= 3 {
                    self.visit_higher(bi, tags, x, buf, f);
                }
                continue;
            }
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

impl BenchIndex {
    /// Slice position `k` is one of local tag `l`'s (see `span`).
    fn widen(&mut self, l: usize, k: u32) {
        let s = &mut self.span[l];
        *s = (s.0.min(k), s.1.max(k));
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
    let mut index = Index::new(ds, slices);
    let k_list = req.compare.map_or(0, |c| c.2.max_listed_items);
    let ranks = if k_list > 0 { id_ranks(ds) } else { Vec::new() };
    // Benchmarks whose scores are all binary are evaluated by bitsets
    // (their slices leave the streaming evaluation).
    let by_bits = bits::evaluate_binary(
        ds,
        slices,
        &index.items,
        &mut index.members,
        &bits::Want {
            measure: &req.measure,
            compare: req.compare.map(|(x, y, _)| (x, y)),
            ks: req.ks,
            k: k_list,
            ranks: &ranks,
        },
    );
    // Slices are grouped by benchmark, and a benchmark's slices into
    // contiguous groups: each group's accumulators are updated by one
    // thread, in item order, so a slice's sums do not depend on the groups
    // (one benchmark of many slices still uses every core; each group
    // visits the benchmark's items on its own).
    type Part<'a> = Vec<(u32, Vec<SliceStats>, Option<SliceComparison>)>;
    let parts: Vec<Part<'_>> = groups(&index.members, rayon::current_num_threads())
        .into_par_iter()
        .map(|(b, lo, hi)| {
            let mine = &index.members[b][lo..hi];
            if mine.is_empty() {
                return Vec::new();
            }
            let mut meas: Vec<Vec<MeasureAcc>> = req
                .measure
                .iter()
                .map(|_| vec![MeasureAcc::new(req.ks.len()); mine.len()])
                .collect();
            let mut cmp: Vec<CompareAcc> = if req.compare.is_some() {
                vec![CompareAcc::new(); mine.len()]
            } else {
                Vec::new()
            };
            let mut buf = Vec::new();
            // Local positions of the slices in this range an item belongs to.
            let mut hit: Vec<usize> = Vec::new();
            let hits = |i: usize, hit: &mut Vec<usize>, buf: &mut Vec<u32>| {
                hit.clear();
                index.visit(b, &ds.items[i].tags, (lo as u32, hi as u32), buf, &mut |k| {
                    let k = k as usize;
                    if (lo..hi).contains(&k) {
                        hit.push(k - lo);
                    }
                });
            };
            let items = &index.items[b];
            for &i in items {
                let i = i as usize;
                hits(i, &mut hit, &mut buf);
                for (m, &r) in meas.iter_mut().zip(&req.measure) {
                    if let Some(sc) = &ds.scores[r][i] {
                        for &j in &hit {
                            m[j].first(sc);
                        }
                    }
                }
                if let Some((base, cand, _)) = req.compare {
                    if let (Some(x), Some(y)) = (&ds.scores[base][i], &ds.scores[cand][i]) {
                        let rank = ranks.get(i).copied().unwrap_or(0);
                        for &j in &hit {
                            cmp[j].first(x, y, i as u32, rank, k_list);
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
                    hits(i, &mut hit, &mut buf);
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
    for (k, meas, cmp) in by_bits {
        let slice = &slices[k as usize];
        for ((run, m), &r) in meas.into_iter().enumerate().zip(&req.measure) {
            stats[run][k as usize] = Some(m.finish(ds, r, slice, req.confidence, req.ks));
        }
        if let (Some(c), Some((_, _, s))) = (cmp, req.compare) {
            comparisons[k as usize] = Some(c.finish(ds, slice, s));
        }
    }
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

/// The work of [`evaluate`]: (benchmark, first and last local slice
/// position) ranges. With fewer benchmarks than `threads`, a benchmark's
/// slices are split into about `threads / benchmarks` equal ranges.
fn groups(members: &[Vec<u32>], threads: usize) -> Vec<(usize, usize, usize)> {
    let per = (threads / members.len().max(1)).max(1);
    let mut out = Vec::new();
    for (b, m) in members.iter().enumerate() {
        let n = m.len();
        let g = per.min(n).max(1);
        for k in 0..g {
            out.push((b, k * n / g, (k + 1) * n / g));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::groups;

    #[test]
    fn groups_cover_every_slice_once_and_split_few_benchmarks() {
        let members = vec![(0..7).collect::<Vec<u32>>(), Vec::new(), vec![9]];
        // Three benchmarks on eight threads: two ranges each at most.
        let g = groups(&members, 8);
        assert_eq!(g, vec![(0, 0, 3), (0, 3, 7), (1, 0, 0), (2, 0, 1)]);
        // As many benchmarks as threads: one range each.
        assert_eq!(groups(&members, 3), vec![(0, 0, 7), (1, 0, 0), (2, 0, 1)]);
        // One benchmark on two threads.
        assert_eq!(groups(&members[..1], 2), vec![(0, 0, 3), (0, 3, 7)]);
    }
}
