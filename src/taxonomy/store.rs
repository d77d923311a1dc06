//! Distinct tag sets of many items, interned compactly: each set's tag and
//! rule ids once, flat, found again by a hash of its content. An item then
//! costs one set index. Strings are built only for the sets a Parquet batch
//! writes, so a taxonomy whose items almost all have their own set (100
//! overlapping rules, millions of items) costs the ids, not the names.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use super::{TagIds, TaxonomySet};

/// One tag of the taxonomy's vocabulary: its axis, `axis=value`, and whether
/// the value is the reserved `unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabTag {
    pub axis: usize,
    pub name: String,
    pub unknown: bool,
}

/// Interned tag sets; see the module docs.
#[derive(Debug, Default)]
pub struct TagStore {
    tags: Vec<u32>,
    rules: Vec<u32>,
    /// End of each set's tags and rules in the flat vectors.
    ends: Vec<(u32, u32)>,
    /// Per set: bit `a` when axis `a` (< 64) has no value but `unknown`.
    unknown: Vec<u64>,
    by_hash: FxHashMap<u64, u32>,
    /// Sets whose hash another set already has (rare).
    collided: FxHashMap<TagIds, u32>,
}

fn content_hash(ids: &TagIds) -> u64 {
    let mut h = FxHasher::default();
    ids.hash(&mut h);
    h.finish()
}

impl TagStore {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn range(&self, s: u32) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (t0, r0) = if s == 0 { (0, 0) } else { self.ends[s as usize - 1] };
        let (t1, r1) = self.ends[s as usize];
        (t0 as usize..t1 as usize, r0 as usize..r1 as usize)
    }

    /// The set's tag ids (the taxonomy's vocabulary).
    pub fn tags(&self, s: u32) -> &[u32] {
        &self.tags[self.range(s).0]
    }

    /// The set's rule ids.
    pub fn rules(&self, s: u32) -> &[u32] {
        &self.rules[self.range(s).1]
    }

    pub fn unknown(&self, s: u32) -> u64 {
        self.unknown[s as usize]
    }

    pub fn ids(&self, s: u32) -> TagIds {
        let (t, r) = self.range(s);
        TagIds {
            tags: self.tags[t].to_vec(),
            rules: self.rules[r].to_vec(),
        }
    }

    fn equals(&self, s: u32, ids: &TagIds) -> bool {
        let (t, r) = self.range(s);
        self.tags[t] == ids.tags[..] && self.rules[r] == ids.rules[..]
    }

    /// The index of `ids`' set, added when new; `true` when it was new.
    pub fn intern(&mut self, ids: TagIds, vocab: &[VocabTag], axes: usize) -> (u32, bool) {
        let h = content_hash(&ids);
        match self.by_hash.get(&h) {
            Some(&s) if self.equals(s, &ids) => return (s, false),
            Some(_) => {
                if let Some(&s) = self.collided.get(&ids) {
                    return (s, false);
                }
            }
            None => {}
        }
        let s = self.ends.len() as u32;
        let mut known = 0u64;
        for &t in &ids.tags {
            let v = &vocab[t as usize];
            if !v.unknown && v.axis < 64 {
                known |= 1 << v.axis;
            }
        }
        let axes = axes.min(64);
        let all = if axes == 64 { u64::MAX } else { (1u64 << axes) - 1 };
        self.tags.extend_from_slice(&ids.tags);
        self.rules.extend_from_slice(&ids.rules);
        self.ends.push((self.tags.len() as u32, self.rules.len() as u32));
        self.unknown.push(all & !known);
        match self.by_hash.entry(h) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(s);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collided.insert(ids, s);
            }
        }
        (s, true)
    }
}

impl TaxonomySet {
    /// Every tag id's axis and name, indexed by id.
    pub fn vocab(&self) -> Vec<VocabTag> {
        self.matcher.vocab(&self.axes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vec<VocabTag> {
        [(0, "op=a", false), (0, "op=unknown", true), (1, "bg=x", false)]
            .iter()
            .map(|&(axis, name, unknown)| VocabTag {
                axis,
                name: name.into(),
                unknown,
            })
            .collect()
    }

    #[test]
    fn equal_sets_are_stored_once_and_read_back() {
        let v = vocab();
        let mut st = TagStore::default();
        let a = TagIds {
            tags: vec![0, 2],
            rules: vec![3],
        };
        let b = TagIds {
            tags: vec![1],
            rules: vec![],
        };
        assert_eq!(st.intern(a.clone(), &v, 2), (0, true));
        assert_eq!(st.intern(b.clone(), &v, 2), (1, true));
        assert_eq!(st.intern(a.clone(), &v, 2), (0, false));
        assert_eq!(st.len(), 2);
        assert_eq!(st.ids(0), a);
        assert_eq!(st.ids(1), b);
        assert_eq!(st.tags(1), &[1]);
        // Set 0 has values on both axes; set 1 only `unknown` on op and
        // nothing on bg.
        assert_eq!(st.unknown(0), 0);
        assert_eq!(st.unknown(1), 0b11);
    }
}
