//! The evaluation of a benchmark whose items are all binary (one sample per
//! run, scored 0 or 1), by bitsets instead of a visit per (item, slice).
//!
//! Such a slice's statistics in one run are two counts (scored items, right
//! items: the Wilson interval and pass@1 take nothing else), and its paired
//! comparison four: paired items, items right in the baseline, items that
//! regressed and items that were fixed (McNemar's test takes nothing else),
//! plus the listed ids, which all have a change of size 1 and so are the
//! ones with the smallest ids. With one bitset per tag over the benchmark's
//! items in id order, a slice's members are the AND of its tags' bitsets,
//! each count a popcount, and the listed ids the first set bits of the
//! members that regressed (or were fixed). Every number is an integer, so
//! the result is the streaming evaluation's exactly (the property tests of
//! `slices::eval` compare both with a reference).
//!
//! The generic scale input at 1M rows (5,000 pair slices over 500k items)
//! visits 637M (item, slice) pairs when streamed; here it is 5,000 ANDs of
//! 8k words each.

use rayon::prelude::*;

use super::acc::{CompareAcc, MeasureAcc};
use super::dataset::{Dataset, ItemScore};
use super::define::Slice;

/// Most bytes the bitsets of one benchmark may take; above, the benchmark
/// is streamed (which holds no per-item state). 100 tags over 5M items
/// take 67 MB.
const BUDGET: usize = 256 << 20;
const NONE: u32 = u32::MAX;

/// Set bit `p` of `set`.
fn set(set: &mut [u64], p: usize) {
    set[p / 64] |= 1u64 << (p % 64);
}

/// One benchmark's bitsets, over its items in id order.
struct Bits {
    words: usize,
    /// Items by bit position.
    items: Vec<u32>,
    /// Their ranks ([`super::acc::id_ranks`]), for the listed changes.
    ranks: Vec<u32>,
    /// Per measured run: items scored, items right.
    runs: Vec<[Vec<u64>; 2]>,
    /// For the comparison: items paired, right in the baseline, regressed, fixed.
    pairs: Option<[Vec<u64>; 4]>,
    /// Per tag id: its bitset's index in `sets`, if it occurs in a slice.
    slot: Vec<u32>,
    sets: Vec<Vec<u64>>,
}

/// What to evaluate (as `eval::Request`).
pub(super) struct Want<'a> {
    pub measure: &'a [usize],
    pub compare: Option<(usize, usize)>,
    pub ks: &'a [u32],
    /// Changes listed per sign.
    pub k: usize,
    pub ranks: &'a [u32],
}

fn one_binary(s: &ItemScore) -> bool {
    s.n == 1 && s.binary
}

impl Bits {
    /// The bitsets of benchmark `b` (`items`, ascending) for `slices` (its
    /// own), or `None` when a score to use is not binary or the bitsets
    /// would take more than [`BUDGET`].
    fn new(ds: &Dataset, items: &[u32], slices: &[&Slice], want: &Want<'_>) -> Option<Bits> {
        let score = |r: usize, i: u32| ds.scores[r][i as usize].as_ref();
        let binary = items.iter().all(|&i| {
            want.measure.iter().all(|&r| score(r, i).is_none_or(one_binary))
                && want
                    .compare
                    .is_none_or(|(x, y)| match (score(x, i), score(y, i)) {
                        (Some(x), Some(y)) => one_binary(x) && one_binary(y),
                        _ => true,
                    })
        });
        if !binary {
            return None;
        }
        let mut tag_ids: Vec<u32> = slices.iter().flat_map(|s| s.tags.iter().copied()).collect();
        tag_ids.sort_unstable();
        tag_ids.dedup();
        let words = items.len().div_ceil(64);
        let sets = tag_ids.len() + 2 * want.measure.len() + 4;
        if sets.saturating_mul(words).saturating_mul(8) > BUDGET {
            return None;
        }
        let rank = |i: u32| want.ranks.get(i as usize).copied().unwrap_or(0);
        let mut order: Vec<u32> = items.to_vec();
        // Ties (equal ids) keep the item order; their ids print the same.
        order.sort_by_key(|&i| rank(i));
        let empty = || vec![0u64; words];
        let mut bits = Bits {
            words,
            ranks: order.iter().map(|&i| rank(i)).collect(),
            items: order,
            runs: want.measure.iter().map(|_| [empty(), empty()]).collect(),
            pairs: want.compare.map(|_| [empty(), empty(), empty(), empty()]),
            slot: vec![NONE; ds.tags.len()],
            sets: tag_ids.iter().map(|_| empty()).collect(),
        };
        for (k, &t) in tag_ids.iter().enumerate() {
            if let Some(s) = bits.slot.get_mut(t as usize) {
                *s = k as u32;
            }
        }
        for (p, &i) in bits.items.iter().enumerate() {
            for &t in &ds.items[i as usize].tags {
                match bits.slot.get(t as usize) {
                    Some(&k) if k != NONE => set(&mut bits.sets[k as usize], p),
                    _ => {}
                }
            }
            for (sets, &r) in bits.runs.iter_mut().zip(want.measure) {
                if let Some(s) = score(r, i) {
                    set(&mut sets[0], p);
                    if s.correct == 1 {
                        set(&mut sets[1], p);
                    }
                }
            }
            if let (Some(sets), Some((x, y))) = (bits.pairs.as_mut(), want.compare) {
                if let (Some(x), Some(y)) = (score(x, i), score(y, i)) {
                    set(&mut sets[0], p);
                    if x.correct == 1 {
                        set(&mut sets[1], p);
                    }
                    if y.correct < x.correct {
                        set(&mut sets[2], p);
                    } else if y.correct > x.correct {
                        set(&mut sets[3], p);
                    }
                }
            }
        }
        Some(bits)
    }

    /// The accumulators of `slice`: one per measured run, and the
    /// comparison's, listing up to `k` changes of each sign.
    fn evaluate(
        &self,
        slice: &Slice,
        want: &Want<'_>,
        m: &mut Vec<u64>,
    ) -> (Vec<MeasureAcc>, Option<CompareAcc>) {
        // The members, word by word; simple loops over whole bitsets, which
        // the compiler vectorizes.
        m.clear();
        m.resize(self.words, u64::MAX);
        for &t in &slice.tags {
            match self.slot.get(t as usize) {
                Some(&k) if k != NONE => {
                    for (w, s) in m.iter_mut().zip(&self.sets[k as usize]) {
                        *w &= s;
                    }
                }
                _ => m.iter_mut().for_each(|w| *w = 0),
            }
        }
        let count =
            |s: &[u64]| -> usize { m.iter().zip(s).map(|(a, b)| (a & b).count_ones() as usize).sum() };
        // Right and changed items are scored (paired) items: one AND each.
        let runs: Vec<[usize; 2]> = self.runs.iter().map(|s| [count(&s[0]), count(&s[1])]).collect();
        let pair = self.pairs.as_ref().map(|p| p.each_ref().map(|s| count(s)));
        let list = |s: &[u64]| -> Vec<(u32, u32)> {
            let mut out = Vec::new();
            for (at, (a, b)) in m.iter().zip(s).enumerate() {
                let mut w = a & b;
                while w != 0 && out.len() < want.k {
                    let p = at * 64 + w.trailing_zeros() as usize;
                    out.push((self.ranks[p], self.items[p]));
                    w &= w - 1;
                }
                if out.len() >= want.k {
                    break;
                }
            }
            out
        };
        let measured = runs
            .iter()
            .map(|&[items, right]| MeasureAcc::binary_counts(items, right, want.ks))
            .collect();
        let compared = self.pairs.as_ref().zip(pair).map(|(p, n)| {
            CompareAcc::binary_counts(n[0], n[1], (n[2], list(&p[2])), (n[3], list(&p[3])), want.k)
        });
        (measured, compared)
    }
}

/// Every slice of the benchmarks that [`Bits`] takes, evaluated: (slice
/// index, accumulators). `items[b]` and `members[b]` list benchmark `b`'s
/// items and slices; the slices evaluated here are removed from `members`,
/// so the streaming evaluation skips them.
pub(super) fn evaluate_binary(
    ds: &Dataset,
    slices: &[Slice],
    items: &[Vec<u32>],
    members: &mut [Vec<u32>],
    want: &Want<'_>,
) -> Vec<(u32, Vec<MeasureAcc>, Option<CompareAcc>)> {
    let mut out = Vec::new();
    for (b, mine) in members.iter_mut().enumerate() {
        if mine.is_empty() {
            continue;
        }
        let own: Vec<&Slice> = mine.iter().map(|&s| &slices[s as usize]).collect();
        let Some(bits) = Bits::new(ds, &items[b], &own, want) else {
            continue;
        };
        let done: Vec<_> = mine
            .par_iter()
            .with_min_len(8)
            .map_init(Vec::new, |buf, &s| {
                let (m, c) = bits.evaluate(&slices[s as usize], want, buf);
                (s, m, c)
            })
            .collect();
        out.extend(done);
        mine.clear();
    }
    out
}
