//! The item-level view of a tagged sample table: what every analysis reads.
//!
//! Rows of the scoring filter are folded into one [`ItemScore`] per (run,
//! item); items carry their tags as ids into a sorted tag vocabulary
//! (`axis=value`). Plain Rust over typed columns: one pass, no frames after
//! loading.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::table::columns as c;
use crate::table::read_parquet_columns;

/// One benchmark item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub benchmark: u32,
    pub task: String,
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
#[derive(Debug, Clone, Default)]
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

fn hash_str(s: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Load a (tagged or untagged) sample table. `filters` overrides the scoring
/// filter per task; otherwise rows marked `primary_filter` score the task.
pub fn load(path: &Path, filters: &std::collections::BTreeMap<String, String>) -> Result<Dataset> {
    let names = crate::table::parquet_column_names(path)?;
    let tagged = names.iter().any(|n| n == c::TAG_RULES);
    let axes: Vec<String> = if tagged {
        names
            .iter()
            .filter(|n| !c::BASE.contains(&n.as_str()) && n.as_str() != c::TAG_RULES)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let mut cols = vec![
        c::RUN,
        c::BENCHMARK,
        c::TASK,
        c::FILTER,
        c::PRIMARY_FILTER,
        c::ITEM_ID,
        c::SCORE,
        c::CORRECT,
        c::PROMPT_HASH,
    ];
    cols.extend(axes.iter().map(String::as_str));
    let df = read_parquet_columns(path, &cols)?;
    build(&df, &axes, filters).map_err(|e| Error::frame(path, e))
}

fn build(
    df: &DataFrame,
    axes: &[String],
    filters: &std::collections::BTreeMap<String, String>,
) -> PolarsResult<Dataset> {
    let run = df.column(c::RUN)?.str()?;
    let bench = df.column(c::BENCHMARK)?.str()?;
    let task = df.column(c::TASK)?.str()?;
    let filter = df.column(c::FILTER)?.str()?;
    let primary = df.column(c::PRIMARY_FILTER)?.bool()?;
    let item = df.column(c::ITEM_ID)?.str()?;
    let score = df.column(c::SCORE)?.f64()?;
    let correct = df.column(c::CORRECT)?.bool()?;
    let phash = df.column(c::PROMPT_HASH)?.str()?;
    let lists: Vec<&ListChunked> = axes
        .iter()
        .map(|a| df.column(a).and_then(|c| c.list()))
        .collect::<PolarsResult<_>>()?;

    let mut ds = Dataset {
        axes: axes.to_vec(),
        ..Dataset::default()
    };
    let mut run_ix: HashMap<String, usize> = HashMap::new();
    let mut bench_ix: HashMap<String, u32> = HashMap::new();
    let mut item_ix: HashMap<(u32, String, String), u32> = HashMap::new();
    let mut tag_ix: HashMap<String, u32> = HashMap::new();
    let mut item_unknown: Vec<Vec<bool>> = Vec::new();
    let mut key = (0u32, String::new(), String::new());

    for i in 0..df.height() {
        let t = task.get(i).unwrap_or("");
        let f = filter.get(i);
        let scoring = match filters.get(t) {
            Some(want) => f == Some(want.as_str()),
            None => primary.get(i).unwrap_or(true),
        };
        if !scoring {
            continue;
        }
        let r = run.get(i).unwrap_or("");
        let r = match run_ix.get(r) {
            Some(&x) => x,
            None => {
                ds.runs.push(r.to_string());
                ds.scores.push(vec![None; ds.items.len()]);
                run_ix.insert(r.to_string(), ds.runs.len() - 1);
                ds.runs.len() - 1
            }
        };
        let b = bench.get(i).unwrap_or("");
        let b = match bench_ix.get(b) {
            Some(&x) => x,
            None => {
                ds.benchmarks.push(b.to_string());
                bench_ix.insert(b.to_string(), ds.benchmarks.len() as u32 - 1);
                ds.benchmarks.len() as u32 - 1
            }
        };
        key.0 = b;
        key.1.clear();
        key.1.push_str(t);
        key.2.clear();
        key.2.push_str(item.get(i).unwrap_or(""));
        let it = match item_ix.get(&key) {
            Some(&x) => x as usize,
            None => {
                let mut tags = Vec::new();
                let mut unknown = vec![false; axes.len()];
                for (a, l) in lists.iter().enumerate() {
                    if let Some(s) = l.get_as_series(i) {
                        let vals: Vec<&str> = s.str()?.iter().flatten().collect();
                        if vals.iter().all(|v| *v == c::UNKNOWN) {
                            unknown[a] = true;
                        }
                        for v in vals.into_iter().filter(|v| *v != c::UNKNOWN) {
                            let name = format!("{}={v}", axes[a]);
                            let next = tag_ix.len() as u32;
                            tags.push(*tag_ix.entry(name).or_insert(next));
                        }
                    }
                }
                tags.sort_unstable();
                tags.dedup();
                ds.items.push(Item {
                    benchmark: b,
                    task: key.1.clone(),
                    id: key.2.clone(),
                    tags,
                });
                item_unknown.push(unknown);
                for s in ds.scores.iter_mut() {
                    s.push(None);
                }
                item_ix.insert(key.clone(), ds.items.len() as u32 - 1);
                ds.items.len() - 1
            }
        };
        let sc = score.get(i).unwrap_or(f64::NAN);
        let slot = ds.scores[r][it].get_or_insert(ItemScore {
            binary: true,
            prompt_hash: phash.get(i).map(hash_str),
            ..ItemScore::default()
        });
        slot.n += 1;
        slot.sum += sc;
        if correct.get(i).unwrap_or(false) {
            slot.correct += 1;
        }
        if sc != 0.0 && sc != 1.0 {
            slot.binary = false;
        }
    }
    // Sort the tag vocabulary and remap ids so every output is ordered by name.
    let mut names: Vec<(String, u32)> = tag_ix.into_iter().collect();
    names.sort();
    let mut remap = vec![0u32; names.len()];
    for (new, (_, old)) in names.iter().enumerate() {
        remap[*old as usize] = new as u32;
    }
    ds.tags = names.into_iter().map(|(n, _)| n).collect();
    for it in ds.items.iter_mut() {
        for t in it.tags.iter_mut() {
            *t = remap[*t as usize];
        }
        it.tags.sort_unstable();
    }
    ds.unknown = vec![vec![0; axes.len()]; ds.benchmarks.len()];
    for (it, unk) in ds.items.iter().zip(&item_unknown) {
        for (a, u) in unk.iter().enumerate() {
            if *u {
                ds.unknown[it.benchmark as usize][a] += 1;
            }
        }
    }
    Ok(ds)
}
