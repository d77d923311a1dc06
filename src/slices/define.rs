//! Which slices are measured: the whole benchmark (`*`), every tag, and every
//! conjunction of tags up to `max_order` with at least `min_items` items.
//!
//! A conjunction whose items are exactly those of one of its parts says
//! nothing new (e.g. a background that always comes with one operation) and
//! is dropped. Discovery of the most specific failing combinations (a lattice
//! search) is the diagnosis stage's job, not this one.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::dataset::Dataset;

/// A slice of one benchmark: the items whose tags contain `tags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub benchmark: u32,
    /// Sorted tag ids; empty for the whole benchmark.
    pub tags: Vec<u32>,
    /// Number of member items (members are found by their tags, never listed).
    pub items: usize,
}

impl Slice {
    /// The slice's name: its predicates, sorted, joined by ` & `; `*` for all.
    pub fn name(&self, ds: &Dataset) -> String {
        if self.tags.is_empty() {
            "*".to_string()
        } else {
            self.tags
                .iter()
                .map(|&t| ds.tags[t as usize].as_str())
                .collect::<Vec<_>>()
                .join(" & ")
        }
    }

    /// Indices of the member items, ascending (found by a scan: for audits
    /// and tests, not for the evaluation of many slices).
    pub fn members(&self, ds: &Dataset) -> Vec<u32> {
        (0..ds.items.len() as u32)
            .filter(|&i| {
                let it = &ds.items[i as usize];
                it.benchmark == self.benchmark && self.tags.iter().all(|t| it.tags.binary_search(t).is_ok())
            })
            .collect()
    }

    /// The slice of `benchmark` with `tags` (sorted here), its items counted.
    pub fn of(ds: &Dataset, benchmark: u32, mut tags: Vec<u32>) -> Slice {
        tags.sort_unstable();
        tags.dedup();
        let items = ds
            .items
            .iter()
            .filter(|it| it.benchmark == benchmark && tags.iter().all(|t| it.tags.binary_search(t).is_ok()))
            .count();
        Slice {
            benchmark,
            tags,
            items,
        }
    }
}

/// Counts of every conjunction of up to `max_order` tags of one benchmark's
/// items: single tags and pairs in dense tables, larger ones by hash.
struct Counts {
    order: usize,
    single: Vec<u32>,
    /// `tags x tags`, upper triangle, when the benchmark has few enough tags.
    pair: Vec<u32>,
    tags: usize,
    higher: FxHashMap<Vec<u32>, u32>,
}

/// Dense pair tables up to this many tags (`DENSE^2` u32s: 16 MB).
const DENSE: usize = 2048;

impl Counts {
    fn new(tags: usize, order: usize) -> Counts {
        let dense = order >= 2 && tags <= DENSE;
        Counts {
            order,
            single: vec![0; tags],
            pair: if dense { vec![0; tags * tags] } else { Vec::new() },
            tags,
            higher: FxHashMap::default(),
        }
    }

    fn add(&mut self, tags: &[u32], buf: &mut Vec<u32>) {
        let dense = !self.pair.is_empty();
        for (x, &a) in tags.iter().enumerate() {
            self.single[a as usize] += 1;
            if self.order >= 2 {
                for &b in &tags[x + 1..] {
                    if dense {
                        self.pair[a as usize * self.tags + b as usize] += 1;
                    } else {
                        *self.higher.entry(vec![a, b]).or_default() += 1;
                    }
                }
            }
        }
        if self.order >= 3 {
            fn rec(
                tags: &[u32],
                start: usize,
                order: usize,
                cur: &mut Vec<u32>,
                map: &mut FxHashMap<Vec<u32>, u32>,
            ) {
                for i in start..tags.len() {
                    cur.push(tags[i]);
                    if cur.len() >= 3 {
                        match map.get_mut(cur.as_slice()) {
                            Some(c) => *c += 1,
                            None => {
                                map.insert(cur.clone(), 1);
                            }
                        }
                    }
                    if cur.len() < order {
                        rec(tags, i + 1, order, cur, map);
                    }
                    cur.pop();
                }
            }
            buf.clear();
            rec(tags, 0, self.order, buf, &mut self.higher);
        }
    }

    /// Add `other`'s counts (of other items) to these.
    fn merge(&mut self, other: Counts) {
        self.single
            .iter_mut()
            .zip(&other.single)
            .for_each(|(a, b)| *a += b);
        self.pair.iter_mut().zip(&other.pair).for_each(|(a, b)| *a += b);
        for (k, c) in other.higher {
            *self.higher.entry(k).or_default() += c;
        }
    }

    fn get(&self, k: &[u32]) -> usize {
        match k {
            [a] => self.single[*a as usize] as usize,
            [a, b] if !self.pair.is_empty() => self.pair[*a as usize * self.tags + *b as usize] as usize,
            _ => self.higher.get(k).map_or(0, |&c| c as usize),
        }
    }

    /// Every counted conjunction with its count.
    fn each(&self, mut f: impl FnMut(&[u32], usize)) {
        for (a, &c) in self.single.iter().enumerate() {
            if c > 0 {
                f(&[a as u32], c as usize);
            }
        }
        for (at, &c) in self.pair.iter().enumerate() {
            if c > 0 {
                f(&[(at / self.tags) as u32, (at % self.tags) as u32], c as usize);
            }
        }
        for (k, &c) in &self.higher {
            f(k, c as usize);
        }
    }
}

const NONE: u32 = u32::MAX;

/// The [`Counts`] of `items`, whose tags have the local ids `local`: in
/// chunks on the rayon pool, added up (counts do not depend on the chunks).
fn count(ds: &Dataset, items: &[usize], local: &[u32], tags: usize, order: usize) -> Counts {
    if order == 0 {
        return Counts::new(tags, order);
    }
    let chunk = items.len().div_ceil(rayon::current_num_threads()).max(1 << 14);
    items
        .par_chunks(chunk)
        .map(|part| {
            let mut counts = Counts::new(tags, order);
            let (mut buf, mut local_tags) = (Vec::new(), Vec::new());
            for &i in part {
                local_tags.clear();
                local_tags.extend(ds.items[i].tags.iter().map(|&t| local[t as usize]));
                counts.add(&local_tags, &mut buf);
            }
            counts
        })
        .reduce_with(|mut a, b| {
            a.merge(b);
            a
        })
        .unwrap_or_else(|| Counts::new(tags, order))
}

/// Enumerate the slices of every benchmark, ordered by benchmark then name
/// (`*` first). Only counts are kept: members are found again by their tags
/// when the slices are measured (`slices::eval`).
pub fn slices(ds: &Dataset, max_order: usize, min_items: usize) -> Vec<Slice> {
    let mut per_bench: Vec<Vec<usize>> = vec![Vec::new(); ds.benchmarks.len()];
    for (i, it) in ds.items.iter().enumerate() {
        per_bench[it.benchmark as usize].push(i);
    }
    let mut out = Vec::new();
    for (b, items) in per_bench.iter().enumerate() {
        if items.is_empty() {
            continue;
        }
        // Tags of this benchmark, renumbered densely in tag order (so local
        // tag lists stay sorted).
        let mut local = vec![NONE; ds.tags.len()];
        for &i in items {
            for &t in &ds.items[i].tags {
                local[t as usize] = 0;
            }
        }
        let mut present: Vec<u32> = Vec::new();
        for (t, l) in local.iter_mut().enumerate() {
            if *l != NONE {
                *l = present.len() as u32;
                present.push(t as u32);
            }
        }
        let counts = count(ds, items, &local, present.len(), max_order);
        let all = items.len();
        let mut found: Vec<Slice> = Vec::new();
        counts.each(|k, n| {
            if n < min_items || (k.len() > 1 && n == all) {
                return;
            }
            // Drop a conjunction equal to one of its parts with one tag fewer
            // (a subset of its items, so equal in size means equal).
            if k.len() > 1 {
                let mut part = Vec::with_capacity(k.len() - 1);
                for skip in 0..k.len() {
                    part.clear();
                    part.extend(k.iter().enumerate().filter(|(j, _)| *j != skip).map(|(_, &t)| t));
                    if counts.get(&part) == n {
                        return;
                    }
                }
            }
            found.push(Slice {
                benchmark: b as u32,
                tags: k.iter().map(|&l| present[l as usize]).collect(),
                items: n,
            });
        });
        found.sort_by_cached_key(|s| s.name(ds));
        out.push(Slice {
            benchmark: b as u32,
            tags: Vec::new(),
            items: all,
        });
        out.extend(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slices::dataset::Item;

    fn ds(items: &[&[u32]]) -> Dataset {
        Dataset {
            benchmarks: vec!["b".into()],
            tags: vec!["a=x".into(), "a=y".into(), "b=z".into()],
            items: items
                .iter()
                .enumerate()
                .map(|(i, t)| Item {
                    benchmark: 0,
                    task: "t".into(),
                    id: i.to_string(),
                    tags: t.to_vec(),
                })
                .collect(),
            ..Dataset::default()
        }
    }

    #[test]
    fn slices_cover_tags_and_pairs_with_enough_items() {
        let d = ds(&[&[0, 2], &[0, 2], &[0], &[1, 2], &[1]]);
        let names: Vec<String> = slices(&d, 2, 2).iter().map(|s| s.name(&d)).collect();
        assert_eq!(names, vec!["*", "a=x", "a=x & b=z", "a=y", "b=z"]);
    }

    #[test]
    fn a_pair_equal_to_its_part_is_dropped() {
        // b=z only ever occurs with a=x: the pair has the same items as b=z.
        let d = ds(&[&[0, 2], &[0, 2], &[0], &[1]]);
        let names: Vec<String> = slices(&d, 2, 1).iter().map(|s| s.name(&d)).collect();
        assert_eq!(names, vec!["*", "a=x", "a=y", "b=z"]);
    }

    #[test]
    fn slice_items_add_up_over_a_partition() {
        let d = ds(&[&[0], &[0], &[1], &[1], &[1]]);
        let s = slices(&d, 1, 1);
        let total: usize = s.iter().filter(|s| s.tags.len() == 1).map(|s| s.items).sum();
        assert_eq!(total, s[0].items);
    }
}
