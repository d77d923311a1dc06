//! The reference one-pass build of a [`Dataset`] over a whole frame, kept to
//! check the streaming [`super::dataset::DatasetBuilder`] against (tests
//! only: it holds every row in memory). Deliberately written without the
//! builder's machinery (no provisional ids, no batches).

use std::collections::HashMap;

use polars::prelude::*;

use super::dataset::{hash_str, Dataset, Item, ItemScore};
use crate::table::columns as c;

/// The reference one-pass build over a whole frame, kept to check the
/// streaming builder against (tests only; it holds every row in memory).
#[doc(hidden)]
pub fn reference(
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
        if !scoring || score.get(i).is_some_and(f64::is_nan) {
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
                    task: key.1.as_str().into(),
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
