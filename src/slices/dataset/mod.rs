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
pub fn load(path: &Path, filters: &BTreeMap<String, String>) -> Result<Dataset> {
    let axes = axes_of(path)?;
    let mut cols: Vec<&str> = SCORE_COLUMNS.to_vec();
    cols.extend(axes.iter().map(String::as_str));
    let mut b = DatasetBuilder::new(axes.clone(), filters);
    crate::table::for_each_batch(path, &cols, |df, _| {
        let view = Columns::of_frame(df, false).map_err(|e| Error::frame(path, e))?;
        let lists = ListCols::of_frame(df, &axes).map_err(|e| Error::frame(path, e))?;
        b.add(&view, &RowTags::Lists(&lists))
            .map_err(|e| Error::frame(path, e))?;
        Ok(())
    })?;
    b.check_filters()?;
    Ok(b.finish())
}

mod builder;
mod item_ids;

pub use super::lists::ListCols;
pub use super::reference::reference;
pub use builder::{DatasetBuilder, RowPlace, RowTags, TaskSettings};
