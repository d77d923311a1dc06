//! Building a [`Dataset`] batch by batch: rows are placed (provisional
//! run, benchmark, task and item ids), then their scores and their items'
//! tags folded in; [`DatasetBuilder::finish`] orders everything.

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;
use rustc_hash::FxHashMap;

use super::item_ids::ItemIds;
use super::{hash_str, Dataset, Item, ItemScore, ListCols};
use crate::table::columns as c;
use crate::table::view::Columns;

/// Where the tags of a batch's rows come from.
pub enum RowTags<'t> {
    /// An untagged table.
    None,
    /// One list column per axis (a tagged Parquet file).
    Lists(&'t ListCols),
    /// Distinct tag sets and, per provisional item, the index of its set.
    PerItem {
        sets: &'t [crate::table::TagSet],
        item_set: &'t [u32],
    },
    /// Interned tag sets of a taxonomy (ids into `vocab`) and, per
    /// provisional item, the index of its set.
    Store {
        store: &'t crate::taxonomy::TagStore,
        vocab: &'t [crate::taxonomy::VocabTag],
        item_set: &'t [u32],
    },
}

impl RowTags<'_> {
    /// Per axis, the row's values.
    fn values(&self, row: usize, item: u32, axes: usize) -> PolarsResult<Vec<Vec<String>>> {
        Ok(match self {
            RowTags::None => vec![Vec::new(); axes],
            RowTags::PerItem { sets, item_set } => sets[item_set[item as usize] as usize].values.clone(),
            RowTags::Store { .. } => unreachable!("interned tag sets are read by id"),
            RowTags::Lists(lists) => (0..lists.len())
                .map(|a| lists.values(a, row).map(str::to_string).collect())
                .collect(),
        })
    }
}

/// Where a row landed: its run and item under provisional ids (every row
/// gets them, scoring or not), and whether it scores its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowPlace {
    pub run: u32,
    pub bench: u32,
    /// Task index (global over benchmarks).
    pub task: u32,
    pub item: u32,
    pub scoring: bool,
}

/// The settings a task ran with in one run, as the logs record them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskSettings {
    pub versions: BTreeSet<String>,
    pub n_shot: BTreeSet<u32>,
    pub max_gen_toks: BTreeSet<u32>,
    /// Scoring rows without a prompt hash.
    pub unhashed: usize,
}

const NONE: u32 = u32::MAX;

/// Builds a [`Dataset`] batch by batch, in one pass over the rows.
///
/// Items and runs get provisional ids in order of first appearance in any
/// row; they enter the dataset in order of their first scoring row, which
/// is the order a single pass over the whole table gives.
pub struct DatasetBuilder<'s> {
    filters: &'s BTreeMap<String, String>,
    ds: Dataset,
    run_prov: FxHashMap<String, u32>,
    run_of_prov: Vec<u32>,
    bench_prov: FxHashMap<String, u32>,
    bench_of_prov: Vec<u32>,
    /// Per provisional benchmark: task -> task index.
    task_of: Vec<FxHashMap<Box<str>, u32>>,
    /// Per task index: item id -> provisional item id.
    item_prov: ItemIds,
    item_of_prov: Vec<u32>,
    tag_ix: FxHashMap<String, u32>,
    /// Per axis: value -> provisional tag id (a cache of `tag_ix`).
    axis_ix: Vec<FxHashMap<Box<str>, u32>>,
    item_unknown: Vec<u64>,
    task_names: Vec<std::sync::Arc<str>>,
    /// Per tag set of a [`RowTags::PerItem`] source: its ids, computed once.
    set_tags: Vec<Option<(Vec<u32>, u64)>>,
    /// Per vocabulary tag of a [`RowTags::Store`] source: its provisional id.
    vocab_ids: Vec<u32>,
    settings_ix: FxHashMap<(u32, u32), usize>,
    settings: Vec<((u32, u32), TaskSettings)>,
    /// For each task named in `filters`, the filters its rows carry.
    filters_seen: BTreeMap<String, BTreeSet<String>>,
}

impl<'s> DatasetBuilder<'s> {
    pub fn new(axes: Vec<String>, filters: &'s BTreeMap<String, String>) -> DatasetBuilder<'s> {
        DatasetBuilder {
            filters,
            ds: Dataset {
                axes,
                ..Dataset::default()
            },
            run_prov: FxHashMap::default(),
            run_of_prov: Vec::new(),
            bench_prov: FxHashMap::default(),
            bench_of_prov: Vec::new(),
            task_of: Vec::new(),
            item_prov: ItemIds::default(),
            item_of_prov: Vec::new(),
            tag_ix: FxHashMap::default(),
            axis_ix: Vec::new(),
            item_unknown: Vec::new(),
            task_names: Vec::new(),
            set_tags: Vec::new(),
            vocab_ids: Vec::new(),
            settings_ix: FxHashMap::default(),
            settings: Vec::new(),
            filters_seen: BTreeMap::new(),
        }
    }

    /// A `filters:` entry naming a task or filter the table does not have
    /// would silently drop that task's items: the error lists what exists.
    pub fn check_filters(&self) -> crate::error::Result<()> {
        let mut bad = Vec::new();
        for (task, want) in self.filters {
            match self.filters_seen.get(task) {
                None => bad.push((
                    task.clone(),
                    format!(
                        "filters: task '{task}' is not in the sample table; its tasks: {}",
                        self.task_names
                            .iter()
                            .map(|t| &**t)
                            .collect::<BTreeSet<&str>>()
                            .into_iter()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Some(seen) if !seen.contains(want) => bad.push((
                    task.clone(),
                    format!(
                        "filters: task '{task}' has no filter '{want}'; its filters: {}",
                        seen.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
                    ),
                )),
                Some(_) => {}
            }
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(crate::error::Error::Filters(bad))
        }
    }

    /// Does row `i` score its task? An unscored row (score NaN: an Inspect
    /// sample without a score) never does.
    pub fn scoring(&self, cols: &Columns<'_>, i: usize) -> bool {
        if cols.score[i].is_nan() {
            return false;
        }
        match self.filters.get(cols.task[i]) {
            Some(want) => cols.filter[i] == Some(want.as_str()),
            None => cols.primary_filter[i],
        }
    }

    /// Add a batch; returns where each row landed.
    pub fn add(&mut self, cols: &Columns<'_>, tags: &RowTags<'_>) -> PolarsResult<Vec<RowPlace>> {
        let places = self.place(cols);
        self.accumulate(cols, &places, tags)?;
        Ok(places)
    }

    /// Does a scoring row of these (placed, not yet accumulated) rows hold
    /// an item the dataset does not have yet? Only such rows' tags are read.
    pub fn has_new_items(&self, places: &[RowPlace]) -> bool {
        places
            .iter()
            .any(|p| p.scoring && self.item_of_prov[p.item as usize] == NONE)
    }

    /// Provisional ids of every row of a batch (nothing is scored yet).
    pub fn place(&mut self, cols: &Columns<'_>) -> Vec<RowPlace> {
        let mut places = Vec::with_capacity(cols.len);
        // Rows come run by run: a row with the previous row's run and
        // benchmark has their ids without a lookup (and its task's, when
        // that is the same too).
        let mut prev: Option<(usize, (u32, u32, u32))> = None;
        for i in 0..cols.len {
            let scoring = self.scoring(cols, i);
            if !self.filters.is_empty() && self.filters.contains_key(cols.task[i]) {
                let seen = self.filters_seen.entry(cols.task[i].to_string()).or_default();
                let f = cols.filter[i].unwrap_or("(none)");
                if !seen.contains(f) {
                    seen.insert(f.to_string());
                }
            }
            let ids = match prev {
                Some((j, ids)) if cols.run[j] == cols.run[i] && cols.benchmark[j] == cols.benchmark[i] => {
                    match cols.task[j] == cols.task[i] {
                        true => ids,
                        false => (ids.0, ids.1, self.task(ids.1, cols.task[i])),
                    }
                }
                _ => self.run_bench_task(cols, i),
            };
            prev = Some((i, ids));
            let (run, bench, task) = ids;
            places.push(RowPlace {
                run,
                bench,
                task,
                item: self.item(task, cols.item_id[i]),
                scoring,
            });
        }
        places
    }

    /// Provisional run, benchmark and task ids of row `i`.
    fn run_bench_task(&mut self, cols: &Columns<'_>, i: usize) -> (u32, u32, u32) {
        let r = match self.run_prov.get(cols.run[i]) {
            Some(&x) => x,
            None => {
                let x = self.run_of_prov.len() as u32;
                self.run_prov.insert(cols.run[i].to_string(), x);
                self.run_of_prov.push(NONE);
                x
            }
        };
        let bp = match self.bench_prov.get(cols.benchmark[i]) {
            Some(&x) => x,
            None => {
                let x = self.bench_of_prov.len() as u32;
                self.bench_prov.insert(cols.benchmark[i].to_string(), x);
                self.bench_of_prov.push(NONE);
                self.task_of.push(FxHashMap::default());
                x
            }
        };
        (r, bp, self.task(bp, cols.task[i]))
    }

    /// The index of task `task` of provisional benchmark `bp`.
    fn task(&mut self, bp: u32, task: &str) -> u32 {
        let tasks = &mut self.task_of[bp as usize];
        match tasks.get(task) {
            Some(&x) => x,
            None => {
                let x = self.item_prov.tasks() as u32;
                tasks.insert(task.into(), x);
                self.task_names.push(task.into());
                self.item_prov.add_task();
                x
            }
        }
    }

    /// The provisional id of item `id` of task index `t`.
    fn item(&mut self, t: u32, id: &str) -> u32 {
        let (x, new) = self.item_prov.get_or_insert(t, id);
        if new {
            self.item_of_prov.push(NONE);
        }
        x
    }

    /// Provisional items seen so far.
    pub fn provisional_items(&self) -> usize {
        self.item_of_prov.len()
    }

    /// Score the rows of a placed batch.
    pub fn accumulate(
        &mut self,
        cols: &Columns<'_>,
        places: &[RowPlace],
        tags: &RowTags<'_>,
    ) -> PolarsResult<()> {
        // Rows come task by task: the last row's settings entry is tried first.
        let mut last_settings: Option<((u32, u32), usize)> = None;
        for (i, pl) in places.iter().enumerate() {
            if !pl.scoring {
                continue;
            }
            let (r, bp, t, p) = (pl.run, pl.bench, pl.task, pl.item);
            let run = match self.run_of_prov[r as usize] {
                NONE => {
                    self.ds.runs.push(cols.run[i].to_string());
                    self.ds.scores.push(vec![None; self.ds.items.len()]);
                    let x = self.ds.runs.len() as u32 - 1;
                    self.run_of_prov[r as usize] = x;
                    x
                }
                x => x,
            } as usize;
            let b = match self.bench_of_prov[bp as usize] {
                NONE => {
                    self.ds.benchmarks.push(cols.benchmark[i].to_string());
                    let x = self.ds.benchmarks.len() as u32 - 1;
                    self.bench_of_prov[bp as usize] = x;
                    x
                }
                x => x,
            };
            let it = match self.item_of_prov[p as usize] {
                NONE => {
                    let (ids, unknown) = match tags {
                        RowTags::PerItem { sets, item_set } => {
                            let set = item_set[p as usize] as usize;
                            if self.set_tags.len() <= set {
                                self.set_tags.resize(set + 1, None);
                            }
                            match &self.set_tags[set] {
                                Some(x) => x.clone(),
                                None => {
                                    let x = self.tag_ids(&sets[set].values);
                                    self.set_tags[set] = Some(x.clone());
                                    x
                                }
                            }
                        }
                        RowTags::Store {
                            store,
                            vocab,
                            item_set,
                        } => {
                            let set = item_set[p as usize];
                            let mut ids = Vec::with_capacity(store.tags(set).len());
                            for &t in store.tags(set) {
                                let v = &vocab[t as usize];
                                if !v.unknown {
                                    ids.push(self.vocab_tag(t, &v.name));
                                }
                            }
                            ids.sort_unstable();
                            ids.dedup();
                            (ids, store.unknown(set))
                        }
                        RowTags::Lists(lists) => self.tag_ids_lists(lists, i),
                        _ => {
                            let values = tags.values(i, p, self.ds.axes.len())?;
                            self.tag_ids(&values)
                        }
                    };
                    self.new_item(b, t, ids, unknown);
                    let x = self.ds.items.len() as u32 - 1;
                    self.item_of_prov[p as usize] = x;
                    x
                }
                x => x,
            } as usize;
            let sc = cols.score[i];
            let slot = self.ds.scores[run][it].get_or_insert(ItemScore {
                binary: true,
                prompt_hash: cols.prompt_hash[i].map(hash_str),
                ..ItemScore::default()
            });
            slot.n += 1;
            slot.sum += sc;
            if cols.correct[i] {
                slot.correct += 1;
            }
            if sc != 0.0 && sc != 1.0 {
                slot.binary = false;
            }
            let key = (run as u32, t);
            let k = match last_settings {
                Some((last, k)) if last == key => k,
                _ => match self.settings_ix.get(&key) {
                    Some(&k) => k,
                    None => {
                        let k = self.settings.len();
                        self.settings_ix.insert(key, k);
                        self.settings.push((key, TaskSettings::default()));
                        k
                    }
                },
            };
            last_settings = Some((key, k));
            let e = &mut self.settings[k].1;
            if let Some(v) = cols.task_version[i] {
                if !e.versions.contains(v) {
                    e.versions.insert(v.to_string());
                }
            }
            if let Some(n) = cols.n_shot[i] {
                e.n_shot.insert(n);
            }
            if let Some(n) = cols.max_gen_toks[i] {
                e.max_gen_toks.insert(n);
            }
            if cols.prompt_hash[i].is_none() {
                e.unhashed += 1;
            }
        }
        Ok(())
    }

    /// The provisional id of vocabulary tag `t` named `name` (`axis=value`).
    fn vocab_tag(&mut self, t: u32, name: &str) -> u32 {
        if self.vocab_ids.len() <= t as usize {
            self.vocab_ids.resize(t as usize + 1, NONE);
        }
        if self.vocab_ids[t as usize] == NONE {
            let next = self.tag_ix.len() as u32;
            let id = *self.tag_ix.entry(name.to_string()).or_insert(next);
            self.vocab_ids[t as usize] = id;
        }
        self.vocab_ids[t as usize]
    }

    /// The provisional id of value `v` of axis `a`.
    fn axis_tag(&mut self, a: usize, v: &str) -> u32 {
        if self.axis_ix.len() <= a {
            self.axis_ix.resize_with(a + 1, FxHashMap::default);
        }
        if let Some(&x) = self.axis_ix[a].get(v) {
            return x;
        }
        let name = format!("{}={v}", self.ds.axes[a]);
        let next = self.tag_ix.len() as u32;
        let id = *self.tag_ix.entry(name).or_insert(next);
        self.axis_ix[a].insert(v.into(), id);
        id
    }

    /// [`DatasetBuilder::tag_ids`] of a row of tag list columns.
    fn tag_ids_lists(&mut self, lists: &ListCols, row: usize) -> (Vec<u32>, u64) {
        let mut tags = Vec::new();
        let mut unknown = 0u64;
        for a in 0..lists.len() {
            let mut known = false;
            for v in lists.values(a, row) {
                if v != c::UNKNOWN {
                    known = true;
                    tags.push(self.axis_tag(a, v));
                }
            }
            if !known && a < 64 {
                unknown |= 1 << a;
            }
        }
        tags.sort_unstable();
        tags.dedup();
        (tags, unknown)
    }

    /// Provisional tag ids of per-axis values, and the axes that are `unknown`.
    fn tag_ids(&mut self, values: &[Vec<String>]) -> (Vec<u32>, u64) {
        let mut tags = Vec::new();
        let mut unknown = 0u64;
        let mut name = String::new();
        for (a, vals) in values.iter().enumerate() {
            if vals.iter().all(|v| v == c::UNKNOWN) && a < 64 {
                unknown |= 1 << a;
            }
            for v in vals.iter().filter(|v| *v != c::UNKNOWN) {
                name.clear();
                name.push_str(&self.ds.axes[a]);
                name.push('=');
                name.push_str(v);
                let next = self.tag_ix.len() as u32;
                let id = match self.tag_ix.get(name.as_str()) {
                    Some(&x) => x,
                    None => {
                        self.tag_ix.insert(name.clone(), next);
                        next
                    }
                };
                tags.push(id);
            }
        }
        tags.sort_unstable();
        tags.dedup();
        (tags, unknown)
    }

    /// A new item; its id is filled in by [`DatasetBuilder::finish`] from
    /// the interner's keys, so each id is held once while building.
    fn new_item(&mut self, b: u32, task: u32, tags: Vec<u32>, unknown: u64) {
        self.ds.items.push(Item {
            benchmark: b,
            task: self.task_names[task as usize].clone(),
            id: String::new(),
            tags,
        });
        self.item_unknown.push(unknown);
        for s in self.ds.scores.iter_mut() {
            s.push(None);
        }
    }

    /// Provisional run and item ids -> dataset indices.
    pub fn index_maps(&self) -> (Vec<u32>, Vec<u32>) {
        (self.run_of_prov.clone(), self.item_of_prov.clone())
    }

    pub fn finish(mut self) -> Dataset {
        for (prov, &it) in self.item_of_prov.iter().enumerate() {
            if it != NONE {
                self.ds.items[it as usize].id = self.item_prov.id(prov as u32).to_string();
            }
        }
        // Sort the tag vocabulary and remap ids so every output is ordered by name.
        let mut names: Vec<(String, u32)> = self.tag_ix.into_iter().collect();
        names.sort();
        let mut remap = vec![0u32; names.len()];
        for (new, (_, old)) in names.iter().enumerate() {
            remap[*old as usize] = new as u32;
        }
        let ds = &mut self.ds;
        ds.tags = names.into_iter().map(|(n, _)| n).collect();
        for it in ds.items.iter_mut() {
            for t in it.tags.iter_mut() {
                *t = remap[*t as usize];
            }
            it.tags.sort_unstable();
        }
        ds.unknown = vec![vec![0; ds.axes.len()]; ds.benchmarks.len()];
        for (it, unk) in ds.items.iter().zip(&self.item_unknown) {
            for a in 0..ds.axes.len().min(64) {
                if unk & (1 << a) != 0 {
                    ds.unknown[it.benchmark as usize][a] += 1;
                }
            }
        }
        for ((r, t), v) in std::mem::take(&mut self.settings) {
            let key = (
                ds.runs[r as usize].clone(),
                self.task_names[t as usize].to_string(),
            );
            let e: &mut TaskSettings = ds.task_settings.entry(key).or_default();
            e.versions.extend(v.versions);
            e.n_shot.extend(v.n_shot);
            e.max_gen_toks.extend(v.max_gen_toks);
            e.unhashed += v.unhashed;
        }
        self.ds
    }
}
