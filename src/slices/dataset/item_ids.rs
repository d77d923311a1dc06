//! Item ids -> provisional item ids, per task, for [`super::DatasetBuilder`].
//!
//! Each id is held once, in one string, and the tables hold only ids into
//! it (a boxed key per item cost an allocation and 16 bytes more each).
//! Logs list items in the same order in every run and keep an item's
//! samples together, so the item of the last row, and the one after it, are
//! tried before any hashing: they are in cache, the table's slots are not.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

#[derive(Debug, Default)]
pub(super) struct ItemIds {
    /// Per task index: its items' provisional ids, by the hash of their id.
    tables: Vec<HashTable<u32>>,
    /// The ids one after another: item `p`'s ends at `ends[p]`.
    keys: String,
    ends: Vec<usize>,
    /// Per provisional item: its task index.
    task: Vec<u32>,
    /// The item looked up last, if any.
    last: Option<u32>,
}

fn key<'k>(keys: &'k str, ends: &[usize], p: u32) -> &'k str {
    let p = p as usize;
    let start = if p == 0 { 0 } else { ends[p - 1] };
    &keys[start..ends[p]]
}

fn hash(id: &str) -> u64 {
    FxBuildHasher.hash_one(id)
}

impl ItemIds {
    /// Provisional items so far.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Task indices so far.
    pub fn tasks(&self) -> usize {
        self.tables.len()
    }

    /// A new task, with the next task index.
    pub fn add_task(&mut self) {
        self.tables.push(HashTable::new());
    }

    /// The id of provisional item `p`.
    pub fn id(&self, p: u32) -> &str {
        key(&self.keys, &self.ends, p)
    }

    /// The provisional id of item `id` of task `t`, and whether it is new
    /// (new items get the next id).
    pub fn get_or_insert(&mut self, t: u32, id: &str) -> (u32, bool) {
        let guesses = match self.last {
            Some(l) => [Some(l), l.checked_add(1)],
            None => [Some(0), None],
        };
        for g in guesses.into_iter().flatten() {
            if (g as usize) < self.len() && self.task[g as usize] == t && self.id(g) == id {
                self.last = Some(g);
                return (g, false);
            }
        }
        let h = hash(id);
        let (keys, ends) = (&self.keys, &self.ends);
        let table = &mut self.tables[t as usize];
        if let Some(&p) = table.find(h, |&p| key(keys, ends, p) == id) {
            self.last = Some(p);
            return (p, false);
        }
        let p = u32::try_from(self.ends.len()).expect("fewer than 2^32 items");
        table.insert_unique(h, p, |&q| hash(key(keys, ends, q)));
        self.keys.push_str(id);
        self.ends.push(self.keys.len());
        self.task.push(t);
        self.last = Some(p);
        (p, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_found_in_any_order_and_per_task() {
        let mut ids = ItemIds::default();
        ids.add_task();
        ids.add_task();
        let first: Vec<(u32, bool)> = ["a", "b", "c", "a"]
            .iter()
            .map(|k| ids.get_or_insert(0, k))
            .collect();
        assert_eq!(first, [(0, true), (1, true), (2, true), (0, false)]);
        // The same id in another task is another item.
        assert_eq!(ids.get_or_insert(1, "a"), (3, true));
        // In order (the guesses), backwards and at random (the tables).
        for (k, p) in [
            ("a", 0),
            ("b", 1),
            ("c", 2),
            ("c", 2),
            ("b", 1),
            ("a", 0),
            ("c", 2),
        ] {
            assert_eq!(ids.get_or_insert(0, k), (p, false), "{k}");
        }
        assert_eq!(ids.get_or_insert(1, "a"), (3, false));
        assert_eq!(ids.get_or_insert(1, "b"), (4, true));
        // A guess with the right id but another task is not taken.
        assert_eq!(ids.get_or_insert(0, "a"), (0, false));
        assert_eq!(ids.get_or_insert(1, "b"), (4, false));
        assert_eq!((ids.len(), ids.tasks()), (5, 2));
        assert_eq!([ids.id(0), ids.id(2), ids.id(3), ids.id(4)], ["a", "c", "a", "b"]);
        // An empty id, and many ids (the tables grow and rehash from the keys).
        assert_eq!(ids.get_or_insert(0, ""), (5, true));
        for n in 0..10_000u32 {
            assert_eq!(ids.get_or_insert(1, &format!("x{n}")), (6 + n, true));
        }
        for n in (0..10_000u32).rev() {
            assert_eq!(ids.get_or_insert(1, &format!("x{n}")), (6 + n, false));
        }
        assert_eq!(ids.get_or_insert(0, ""), (5, false));
        assert_eq!(ids.id(5), "");
    }
}
