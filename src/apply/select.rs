//! The selection: pools, slot keys, boundaries, and the integer rules that
//! decide each slot (the same rules the emitted Spark job applies).
//!
//! Every category has two pools. The **match** pool holds the documents
//! whose labels contain one of the plan's weak features (dominant feature
//! F*: largest order, then highest Weak, then plan order); each gets
//! `d_max` slots with Efraimidis-Spirakis keys `-ln(u)/Weak(F*)`. The
//! **cover** pool holds the other documents of the category; each gets
//! `ceil(epoch_cap)` slots with keys `(slot, h)`: whole passes first, the
//! fractional pass in hash order (the mixture's repeats). A pool keeps the
//! shortest prefix of its slots, ordered by (key, doc_id, slot), whose
//! weight (tokens, or 1 per slot when counting examples) reaches its target.

use crate::apply::hash::{es_key, first_true, H_END};

/// Bits of a cover key above the 53-bit hash hold the slot.
pub const COVER_SLOT_SHIFT: u32 = 53;

/// A pool's sort key for one slot, as an order-preserving integer.
#[inline]
pub fn match_ord(h: u64, w: f64) -> u64 {
    es_key(h, w).to_bits()
}

#[inline]
pub fn cover_ord(slot: u32, h: u64) -> u64 {
    ((slot as u64) << COVER_SLOT_SHIFT) | h
}

/// Histogram bucket of a key: 4096 buckets per binade for match keys,
/// 65536 per pass for cover keys.
#[inline]
pub fn bucket(ord: u64, is_match: bool) -> u64 {
    if is_match {
        ord >> 40
    } else {
        ord >> 37
    }
}

/// The last kept slot of a pool, or all / none.
#[derive(Debug, Clone, PartialEq)]
pub enum Boundary {
    None,
    All,
    At { ord: u64, id: String, slot: u32 },
}

/// Integer rule for the slots of one (category, feature) match pool:
/// kept iff `h >= s` or (`h >= t` and `(doc_id, slot) <= (id, slot_max)`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatchRule {
    pub s: u64,
    pub t: u64,
    pub id: String,
    pub slot: u32,
}

impl MatchRule {
    pub fn new(b: &Boundary, w: f64) -> MatchRule {
        match b {
            Boundary::None => MatchRule {
                s: H_END,
                t: H_END,
                id: String::new(),
                slot: 0,
            },
            Boundary::All => MatchRule {
                s: 0,
                t: 0,
                id: String::new(),
                slot: 0,
            },
            Boundary::At { ord, id, slot } => MatchRule {
                s: first_true(|h| match_ord(h, w) < *ord),
                t: first_true(|h| match_ord(h, w) <= *ord),
                id: id.clone(),
                slot: *slot,
            },
        }
    }

    #[inline]
    pub fn kept(&self, h: u64, id: &str, slot: u32) -> bool {
        h >= self.s || (h >= self.t && (id < self.id.as_str() || (id == self.id && slot <= self.slot)))
    }
}

/// Integer rule for the cover pool of a category: slot `k` with hash `h` is
/// kept iff `k < pass` or (`k == pass` and (`h < h_max` or (`h == h_max`
/// and `doc_id <= id`))). `h_max = -1` means no partial pass.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CoverRule {
    pub pass: u32,
    pub h_max: i64,
    pub id: String,
}

impl CoverRule {
    pub fn new(b: &Boundary, slots: u32) -> CoverRule {
        match b {
            Boundary::None => CoverRule {
                pass: 0,
                h_max: -1,
                id: String::new(),
            },
            Boundary::All => CoverRule {
                pass: slots,
                h_max: -1,
                id: String::new(),
            },
            Boundary::At { ord, id, .. } => CoverRule {
                pass: (ord >> COVER_SLOT_SHIFT) as u32,
                h_max: (ord & (H_END - 1)) as i64,
                id: id.clone(),
            },
        }
    }

    #[inline]
    pub fn kept(&self, slot: u32, h: u64, id: &str) -> bool {
        let h = h as i64;
        slot < self.pass
            || (slot == self.pass && (h < self.h_max || (h == self.h_max && id <= self.id.as_str())))
    }
}

/// Per-pool histogram of slot weights by key bucket.
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    pub buckets: rustc_hash::FxHashMap<u64, u64>,
    /// Sum of all slot weights.
    pub total: u64,
    /// The largest weight of one slot.
    pub max_weight: u64,
}

impl Histogram {
    #[inline]
    pub fn add(&mut self, b: u64, w: u64) {
        *self.buckets.entry(b).or_insert(0) += w;
        self.total += w;
        self.max_weight = self.max_weight.max(w);
    }

    /// Sorted (bucket, weight).
    pub fn sorted(&self) -> Vec<(u64, u64)> {
        let mut v: Vec<(u64, u64)> = self.buckets.iter().map(|(b, w)| (*b, *w)).collect();
        v.sort_unstable();
        v
    }
}

/// Where a target falls: the bucket holding the slot that reaches it, and
/// the weight of all buckets before it. `None` when the target is 0 or at
/// least the total (no boundary search needed).
pub fn locate(sorted: &[(u64, u64)], target: u64, total: u64) -> Option<(u64, u64)> {
    if target == 0 || target >= total {
        return None;
    }
    let mut cum = 0u64;
    for (b, w) in sorted {
        if cum + w >= target {
            return Some((*b, cum));
        }
        cum += w;
    }
    None
}

/// A slot collected because its bucket may hold the boundary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub ord: u64,
    pub id: String,
    pub slot: u32,
    pub weight: u64,
}

/// The boundary of a pool for `target`, from the entries of the buckets
/// `[lo, ..]` (sorted in place) and the weight before bucket `lo`; with the
/// weight selected. `total` is the pool's whole weight.
pub fn resolve(entries: &mut [Entry], before: u64, target: u64, total: u64) -> (Boundary, u64) {
    if target == 0 {
        return (Boundary::None, 0);
    }
    if target >= total {
        return (Boundary::All, total);
    }
    entries.sort_unstable();
    let mut cum = before;
    for e in entries.iter() {
        cum += e.weight;
        if cum >= target {
            return (
                Boundary::At {
                    ord: e.ord,
                    id: e.id.clone(),
                    slot: e.slot,
                },
                cum,
            );
        }
    }
    // Unreachable when the collected buckets cover the target.
    (Boundary::All, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_rule_whole_and_partial_passes() {
        let r = CoverRule::new(
            &Boundary::At {
                ord: cover_ord(1, 100),
                id: "m".into(),
                slot: 1,
            },
            3,
        );
        assert!(r.kept(0, u64::MAX >> 11, "z"));
        assert!(r.kept(1, 99, "z"));
        assert!(r.kept(1, 100, "a") && r.kept(1, 100, "m") && !r.kept(1, 100, "n"));
        assert!(!r.kept(1, 101, "a"));
        assert!(!r.kept(2, 0, "a"));
        let none = CoverRule::new(&Boundary::None, 3);
        assert!(!none.kept(0, 0, ""));
        let all = CoverRule::new(&Boundary::All, 3);
        assert!(all.kept(2, H_END - 1, "zzz"));
    }

    #[test]
    fn match_rule_is_the_key_order() {
        let w = 2.5;
        let h0 = 1u64 << 50;
        let ord = match_ord(h0, w);
        let r = MatchRule::new(
            &Boundary::At {
                ord,
                id: "k".into(),
                slot: 0,
            },
            w,
        );
        for h in [0, h0 - 1, h0, h0 + 1, H_END - 1] {
            let k = match_ord(h, w);
            let by_key = k < ord || (k == ord && ("k", 0) <= ("k", 0));
            assert_eq!(r.kept(h, "k", 0), by_key, "h = {h}");
            let by_key_later = k < ord;
            assert_eq!(r.kept(h, "l", 0), by_key_later, "h = {h}");
        }
    }
}
