//! The per-slice accumulators of `slices::eval`: one slice's statistics in
//! one run ([`MeasureAcc`]) and its paired comparison ([`CompareAcc`]), fed
//! item by item in item order, finished into the rows of `slices.csv` and
//! `comparison.csv`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::compare::{SliceComparison, Status};
use super::dataset::{Dataset, ItemScore};
use super::define::Slice;
use super::measure::SliceStats;
use super::settings::CompareSettings;
use crate::stats::{self, PairedStream, TwoPass};

/// Statistics of one slice in one run.
#[derive(Debug, Clone)]
pub(super) struct MeasureAcc {
    items: usize,
    samples: u64,
    single_binary: bool,
    correct: u64,
    min_n: u32,
    pub(super) means: TwoPass,
    /// pass@k sums for the slice's own k (when > 1), then each requested k.
    pass: Vec<f64>,
}

impl MeasureAcc {
    pub(super) fn new(ks: usize) -> Self {
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

    pub(super) fn first(&mut self, s: &ItemScore) {
        self.items += 1;
        self.samples += u64::from(s.n);
        self.single_binary &= s.n == 1 && s.binary;
        self.correct += u64::from(s.correct);
        self.min_n = self.min_n.min(s.n);
        self.means.first(s.mean());
    }

    /// The accumulator of a slice whose `items` scored items have one
    /// binary sample each, `right` of them right: what [`Self::first`] and
    /// [`Self::second`] would hold after every item, as far as
    /// [`Self::finish`] reads it (pass@1 sums the 0s and 1s of `right`;
    /// pass@k above 1 is undefined on one sample).
    pub(super) fn binary_counts(items: usize, right: usize, ks: &[u32]) -> Self {
        let mut m = MeasureAcc::new(ks.len());
        m.items = items;
        m.samples = items as u64;
        m.correct = right as u64;
        if items > 0 {
            m.min_n = 1;
            for (slot, &k) in m.pass[1..].iter_mut().zip(ks) {
                if k == 1 {
                    *slot = right as f64;
                }
            }
        }
        m
    }

    pub(super) fn needs_second(&self, ks: &[u32]) -> bool {
        self.items > 0 && (!self.single_binary || self.min_n > 1 || ks.iter().any(|&k| self.min_n >= k))
    }

    pub(super) fn second(&mut self, s: &ItemScore, ks: &[u32]) {
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

    pub(super) fn finish(
        self,
        ds: &Dataset,
        r: usize,
        slice: &Slice,
        confidence: f64,
        ks: &[u32],
    ) -> SliceStats {
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

/// A change kept for the listed ids: larger |change| first, ties by id
/// (by the id's rank among the dataset's ids: the same order as the
/// strings', compared as integers).
#[derive(Debug, Clone, Copy)]
struct Change {
    d: f64,
    rank: u32,
    item: u32,
}

impl Ord for Change {
    /// "Better" (listed earlier) is smaller, so the heap's top is the worst kept.
    fn cmp(&self, o: &Self) -> Ordering {
        self.d
            .abs()
            .total_cmp(&o.d.abs())
            .reverse()
            .then(self.rank.cmp(&o.rank))
    }
}
impl PartialOrd for Change {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl PartialEq for Change {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Change {}

/// The `k` best changes of one sign, and how many there were.
#[derive(Debug, Clone, Default)]
struct Largest {
    count: usize,
    heap: BinaryHeap<Change>,
    /// A copy of the heap's top once it holds `k`: most offers lose to it,
    /// and are decided without reading the heap (one slice's heap is rarely
    /// in cache when thousands of slices are accumulated at once).
    worst: Option<Change>,
}

impl Largest {
    #[inline]
    fn offer(&mut self, c: Change, k: usize) {
        self.count += 1;
        match self.worst {
            Some(w) if c >= w => {}
            _ if k == 0 => {}
            None if self.heap.len() + 1 < k => self.heap.push(c),
            None => {
                self.heap.push(c);
                self.worst = self.heap.peek().copied();
            }
            Some(_) => {
                if let Some(mut top) = self.heap.peek_mut() {
                    *top = c;
                }
                self.worst = self.heap.peek().copied();
            }
        }
    }

    fn ids(self, ds: &Dataset) -> (usize, Vec<String>) {
        (
            self.count,
            self.heap
                .into_sorted_vec()
                .into_iter()
                .map(|c| ds.items[c.item as usize].id.clone())
                .collect(),
        )
    }
}

/// The paired comparison of one slice.
#[derive(Debug, Clone)]
pub(super) struct CompareAcc {
    n: usize,
    binary: bool,
    base_correct: usize,
    pub(super) means: PairedStream,
    /// Changes by the binary definition (correct minus correct), kept while
    /// every pair so far is binary, and by the mean definition.
    bin_down: Largest,
    bin_up: Largest,
    down: Largest,
    up: Largest,
}

impl CompareAcc {
    pub(super) fn new() -> Self {
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

    /// `item` is the item's index in the dataset, `rank` its id's rank
    /// ([`id_ranks`]).
    #[inline]
    pub(super) fn first(&mut self, x: &ItemScore, y: &ItemScore, item: u32, rank: u32, k: usize) {
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
                self.bin_down.offer(Change { d, rank, item }, k);
            } else if d > 0.0 {
                self.bin_up.offer(Change { d, rank, item }, k);
            }
        }
        let (xm, ym) = (x.mean(), y.mean());
        self.means.first(xm, ym);
        let d = ym - xm;
        if d < 0.0 {
            self.down.offer(Change { d, rank, item }, k);
        } else if d > 0.0 {
            self.up.offer(Change { d, rank, item }, k);
        }
    }

    pub(super) fn needs_second(&self) -> bool {
        self.n > 0 && !self.binary
    }

    /// The accumulator of a slice whose `n` paired items are all binary,
    /// from its counts: `right` in the baseline, and the items that
    /// regressed and were fixed (count, and up to `k` of them as (rank,
    /// item)). What [`Self::first`] would hold after every pair, as far
    /// as [`Self::finish`] reads it.
    pub(super) fn binary_counts(
        n: usize,
        right: usize,
        down: (usize, Vec<(u32, u32)>),
        up: (usize, Vec<(u32, u32)>),
        k: usize,
    ) -> Self {
        let listed = |d: f64, (count, items): (usize, Vec<(u32, u32)>)| {
            let mut l = Largest::default();
            for (rank, item) in items {
                l.offer(Change { d, rank, item }, k);
            }
            l.count = count;
            l
        };
        CompareAcc {
            n,
            base_correct: right,
            bin_down: listed(-1.0, down),
            bin_up: listed(1.0, up),
            ..CompareAcc::new()
        }
    }

    pub(super) fn second(&mut self, x: &ItemScore, y: &ItemScore) {
        self.means.second(x.mean(), y.mean());
    }

    pub(super) fn finish(self, ds: &Dataset, slice: &Slice, s: &CompareSettings) -> SliceComparison {
        let n = self.n;
        let (cmp, method, (regressed, regressed_ids), (fixed, fixed_ids)) = if self.binary {
            let (b, c) = (self.bin_down.count, self.bin_up.count);
            (
                stats::paired_binary(n, self.base_correct, b, c, s.confidence),
                "mcnemar_exact",
                self.bin_down.ids(ds),
                self.bin_up.ids(ds),
            )
        } else {
            (
                self.means.finish(s.confidence),
                "paired_t",
                self.down.ids(ds),
                self.up.ids(ds),
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
            paired: stats::PairedDelta {
                items: n,
                ..cmp.reported()
            },
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

/// Each item's rank among the dataset's ids in string order (equal ids,
/// which items of different tasks may have, share a rank): ties between
/// changes break as they would by the strings.
pub(super) fn id_ranks(ds: &Dataset) -> Vec<u32> {
    use rayon::prelude::*;
    let mut order: Vec<u32> = (0..ds.items.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| ds.items[a as usize].id.cmp(&ds.items[b as usize].id));
    let mut rank = vec![0u32; ds.items.len()];
    let mut r = 0u32;
    for (k, w) in order.iter().enumerate() {
        if k > 0 && ds.items[*w as usize].id != ds.items[order[k - 1] as usize].id {
            r += 1;
        }
        rank[*w as usize] = r;
    }
    rank
}
