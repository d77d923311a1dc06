//! The item-level view of a tagged sample table: what every analysis reads.
//!
//! Rows of the scoring filter are folded into one [`ItemScore`] per (run,
//! item); items carry their tags as ids into a sorted tag vocabulary
//! (`axis=value`). Plain Rust over typed columns: one pass, no frames after
//! loading.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::table::columns as c;
use crate::table::view::{Columns, SCORE_COLUMNS};

/// One benchmark item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub benchmark: u32,
    /// Shared by the items of a task.
    pub task: std::sync::Arc<str>,
    pub id: String,
    /// Sorted tag ids (into [`Dataset::tags`]); `unknown` values excluded.
    pub tags: Vec<u32>,
}

/// The samples of one item in one run.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ItemScore {
    pub n: u32,
    pub sum: f64,
    pub correct: u32,
    /// Every score is exactly 0 or 1.
    pub binary: bool,
    /// Hash of the prompt, when the log has one (first sample's).
    pub prompt_hash: Option<u64>,
}

impl ItemScore {
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            self.sum / f64::from(self.n)
        }
    }
}

/// Items, tags and per-run scores.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub runs: Vec<String>,
    pub benchmarks: Vec<String>,
    /// Tag vocabulary, sorted: `axis=value`.
    pub tags: Vec<String>,
    /// Axis names present, in file order.
    pub axes: Vec<String>,
    pub items: Vec<Item>,
    /// `scores[run][item]`
    pub scores: Vec<Vec<Option<ItemScore>>>,
    /// Per benchmark and axis: items whose only value is `unknown`.
    pub unknown: Vec<Vec<usize>>,
    /// Per (run, task): the settings the logs record (scoring rows).
    pub task_settings: BTreeMap<(String, String), TaskSettings>,
}

impl Dataset {
    pub fn run_index(&self, run: &str) -> Result<usize> {
        self.runs.iter().position(|r| r == run).ok_or_else(|| {
            Error::usage(format!(
                "run '{run}' is not in the samples; runs present: {}",
                self.runs.join(", ")
            ))
        })
    }

    /// Items of one benchmark.
    pub fn benchmark_items(&self, b: u32) -> impl Iterator<Item = usize> + '_ {
        self.items
            .iter()
            .enumerate()
            .filter(move |(_, it)| it.benchmark == b)
            .map(|(i, _)| i)
    }
}

pub(super) fn hash_str(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Names of the tag columns of a sample table: every column that is not a
/// base column, when the table is tagged.
pub fn axes_of(path: &Path) -> Result<Vec<String>> {
    let names = crate::table::parquet_column_names(path)?;
    let tagged = names.iter().any(|n| n == c::TAG_RULES);
    Ok(if tagged {
        names
            .iter()
            .filter(|n| !c::BASE.contains(&n.as_str()) && n.as_str() != c::TAG_RULES)
            .cloned()
            .collect()
    } else {
        Vec::new()
    })
}

/// Load a (tagged or untagged) sample table. `filters` overrides the scoring
/// filter per task; otherwise rows marked `primary_filter` score the task.
/// The file is read row group by row group: memory follows the items, not
/// the rows.
///
/// Tags are an item's, so a batch's tag columns are read only when one of
/// its scoring rows holds a new item. They are read ahead with the batch
/// while the batch before had new items (a second run's rows, all of known
/// items, are read without them), and read on demand when the guess was
/// wrong: what is read differs, never the dataset.
pub fn load(path: &Path, filters: &BTreeMap<String, String>) -> Result<Dataset> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let axes = axes_of(path)?;
    let axis_cols: Vec<&str> = axes.iter().map(String::as_str).collect();
    let mut b = DatasetBuilder::new(axes.clone(), filters);
    let new_items = AtomicBool::new(true);
    let want = || new_items.load(Ordering::Relaxed);
    crate::table::for_each_batch_extra(path, &SCORE_COLUMNS, &axis_cols, want, |df, _, read_tags| {
        let frame = |e| Error::frame(path, e);
        let view = Columns::of_frame(df, false).map_err(frame)?;
        let places = b.place(&view);
        let new = b.has_new_items(&places);
        new_items.store(new, Ordering::Relaxed);
        if !new || axes.is_empty() {
            return b.accumulate(&view, &places, &RowTags::None).map_err(frame);
        }
        let lists = ListCols::of_frame(&read_tags()?, &axes).map_err(frame)?;
        b.accumulate(&view, &places, &RowTags::Lists(&lists))
            .map_err(frame)
    })?;
    b.check_filters()?;
    Ok(b.finish())
}

mod builder;
mod item_ids;

pub use super::lists::ListCols;
pub use super::reference::reference;
pub use builder::{DatasetBuilder, RowPlace, RowTags, TaskSettings};
