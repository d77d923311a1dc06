//! Which slices are measured: the whole benchmark (`*`), every tag, and every
//! conjunction of tags up to `max_order` with at least `min_items` items.
//!
//! A conjunction whose items are exactly those of one of its parts says
//! nothing new (e.g. a background that always comes with one operation) and
//! is dropped. Discovery of the most specific failing combinations (a lattice
//! search) is the diagnosis stage's job, not this one.

use std::collections::HashMap;

use super::dataset::Dataset;

/// A slice of one benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slice {
    pub benchmark: u32,
    /// Sorted tag ids; empty for the whole benchmark.
    pub tags: Vec<u32>,
    /// Member item indices, ascending.
    pub items: Vec<u32>,
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
}

/// Every subset of `tags` of size 1..=order.
fn subsets(tags: &[u32], order: usize, out: &mut Vec<Vec<u32>>) {
    fn rec(tags: &[u32], start: usize, order: usize, cur: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        for i in start..tags.len() {
            cur.push(tags[i]);
            out.push(cur.clone());
            if cur.len() < order {
                rec(tags, i + 1, order, cur, out);
            }
            cur.pop();
        }
    }
    rec(tags, 0, order, &mut Vec::new(), out);
}

/// Enumerate the slices of every benchmark, ordered by benchmark then name
/// (`*` first).
pub fn slices(ds: &Dataset, max_order: usize, min_items: usize) -> Vec<Slice> {
    let mut out = Vec::new();
    for b in 0..ds.benchmarks.len() as u32 {
        let all: Vec<u32> = ds.benchmark_items(b).map(|i| i as u32).collect();
        if all.is_empty() {
            continue;
        }
        let mut members: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
        let mut buf = Vec::new();
        for &i in &all {
            buf.clear();
            subsets(&ds.items[i as usize].tags, max_order, &mut buf);
            for s in buf.drain(..) {
                members.entry(s).or_default().push(i);
            }
        }
        let size = |k: &Vec<u32>| members.get(k).map_or(0, Vec::len);
        let mut found: Vec<Slice> = members
            .iter()
            .filter(|(k, v)| v.len() >= min_items && (k.len() == 1 || v.len() < all.len()))
            .filter(|(k, v)| {
                // Drop a conjunction equal to one of its parts with one tag fewer.
                k.len() == 1
                    || (0..k.len()).all(|skip| {
                        let part: Vec<u32> = k
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != skip)
                            .map(|(_, &t)| t)
                            .collect();
                        size(&part) != v.len()
                    })
            })
            .map(|(k, v)| Slice {
                benchmark: b,
                tags: k.clone(),
                items: v.clone(),
            })
            .collect();
        found.sort_by_cached_key(|s| s.name(ds));
        out.push(Slice {
            benchmark: b,
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
        let total: usize = s
            .iter()
            .filter(|s| s.tags.len() == 1)
            .map(|s| s.items.len())
            .sum();
        assert_eq!(total, s[0].items.len());
    }
}
