//! Per (run, item) failure summaries, read from the sample table: failure
//! modes of the scoring filter's failed samples, format-tolerant re-scores,
//! and whether another filter of the same sample got it right.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use polars::prelude::*;

use super::failure::{classify, leaks_template, Detectors, FailedSample, FailureMode};
use super::rescore::Rescorer;
use crate::error::{Error, Result};
use crate::slices::Dataset;
use crate::table::columns as c;
use crate::table::read_parquet_columns;

/// What went wrong with one item in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ItemDiag {
    pub samples: u32,
    pub correct: u32,
    /// Failed samples per mode, in `FailureMode::ALL` order.
    pub modes: [u32; 5],
    /// Samples right under format-tolerant re-scoring (falls back to the
    /// original score where no answer pattern matches).
    pub rescored_correct: u32,
    /// Failed samples whose response leaks a chat-template token.
    pub template_leaks: u32,
}

impl ItemDiag {
    pub fn format_failed(&self) -> u32 {
        self.modes[..4].iter().sum()
    }

    fn add(&mut self, mode: Option<FailureMode>) {
        self.samples += 1;
        match mode {
            None => self.correct += 1,
            Some(m) => self.modes[FailureMode::ALL.iter().position(|x| *x == m).unwrap_or(4)] += 1,
        }
    }
}

/// `diag[run][item]` for the requested runs (indices into `ds.runs`).
pub fn load(
    path: &Path,
    ds: &Dataset,
    runs: &[usize],
    filters: &BTreeMap<String, String>,
    detectors: &Detectors,
    rescorer: &Rescorer,
) -> Result<HashMap<usize, Vec<Option<ItemDiag>>>> {
    let cols = [
        c::RUN,
        c::BENCHMARK,
        c::TASK,
        c::FILTER,
        c::PRIMARY_FILTER,
        c::ITEM_ID,
        c::SAMPLE_IDX,
        c::TARGET,
        c::RESPONSE,
        c::EXTRACTED,
        c::CORRECT,
        c::FINISH_REASON,
        c::RESPONSE_TOKENS,
        c::RESPONSE_CHARS,
        c::MAX_GEN_TOKS,
    ];
    let df = read_parquet_columns(path, &cols)?;
    build(&df, ds, runs, filters, detectors, rescorer).map_err(|e| Error::frame(path, e))
}

fn build(
    df: &DataFrame,
    ds: &Dataset,
    runs: &[usize],
    filters: &BTreeMap<String, String>,
    d: &Detectors,
    rescorer: &Rescorer,
) -> PolarsResult<HashMap<usize, Vec<Option<ItemDiag>>>> {
    let run = df.column(c::RUN)?.str()?;
    let bench = df.column(c::BENCHMARK)?.str()?;
    let task = df.column(c::TASK)?.str()?;
    let filter = df.column(c::FILTER)?.str()?;
    let primary = df.column(c::PRIMARY_FILTER)?.bool()?;
    let item = df.column(c::ITEM_ID)?.str()?;
    let sample = df.column(c::SAMPLE_IDX)?.u32()?;
    let target = df.column(c::TARGET)?.str()?;
    let response = df.column(c::RESPONSE)?.str()?;
    let extracted = df.column(c::EXTRACTED)?.str()?;
    let correct = df.column(c::CORRECT)?.bool()?;
    let finish = df.column(c::FINISH_REASON)?.str()?;
    let tokens = df.column(c::RESPONSE_TOKENS)?.u32()?;
    let chars = df.column(c::RESPONSE_CHARS)?.u32()?;
    let max_toks = df.column(c::MAX_GEN_TOKS)?.u32()?;

    let run_ix: HashMap<&str, usize> = runs.iter().map(|&r| (ds.runs[r].as_str(), r)).collect();
    let bench_ix: HashMap<&str, u32> = ds
        .benchmarks
        .iter()
        .enumerate()
        .map(|(i, b)| (b.as_str(), i as u32))
        .collect();
    let item_ix: HashMap<(u32, &str, &str), usize> = ds
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| ((it.benchmark, it.task.as_str(), it.id.as_str()), i))
        .collect();
    let scoring = |i: usize| -> bool {
        let t = task.get(i).unwrap_or("");
        match filters.get(t) {
            Some(want) => filter.get(i) == Some(want.as_str()),
            None => primary.get(i).unwrap_or(true),
        }
    };
    // Samples that another (non-scoring) filter got right.
    let mut other_ok: HashSet<(usize, usize, u32)> = HashSet::new();
    let locate = |i: usize| -> Option<(usize, usize)> {
        let r = *run_ix.get(run.get(i)?)?;
        let b = *bench_ix.get(bench.get(i)?)?;
        let it = *item_ix.get(&(b, task.get(i)?, item.get(i)?))?;
        Some((r, it))
    };
    let mut rows = Vec::new();
    for i in 0..df.height() {
        let Some((r, it)) = locate(i) else { continue };
        if scoring(i) {
            rows.push((i, r, it));
        } else if correct.get(i).unwrap_or(false) {
            other_ok.insert((r, it, sample.get(i).unwrap_or(0)));
        }
    }
    let mut out: HashMap<usize, Vec<Option<ItemDiag>>> =
        runs.iter().map(|&r| (r, vec![None; ds.items.len()])).collect();
    for (i, r, it) in rows {
        let b = &ds.benchmarks[ds.items[it].benchmark as usize];
        let resp = response.get(i);
        let ext = extracted.get(i);
        // Loglikelihood rows hold the chosen option's index as response and answer.
        let generative = resp.is_some_and(|t| !(Some(t) == ext && t.parse::<u32>().is_ok()));
        let ok = correct.get(i).unwrap_or(false);
        let first = resp.and_then(|t| rescorer.first_answer(b, t));
        let mode = (!ok).then(|| {
            classify(
                &FailedSample {
                    response: resp,
                    extracted: ext,
                    finish_reason: finish.get(i),
                    response_tokens: tokens.get(i),
                    response_chars: chars.get(i).unwrap_or(0),
                    max_gen_toks: max_toks.get(i),
                    other_filter_correct: other_ok.contains(&(r, it, sample.get(i).unwrap_or(0))),
                    first_answer_end: first.map(|f| f.1),
                    generative,
                },
                d,
            )
        });
        let rescored = match (generative, resp, target.get(i)) {
            (true, Some(t), Some(tg)) => rescorer.rescore(b, t, tg).unwrap_or(ok),
            _ => ok,
        };
        let slot = out.get_mut(&r).and_then(|v| v.get_mut(it));
        if let Some(slot) = slot {
            let e = slot.get_or_insert_with(ItemDiag::default);
            e.add(mode);
            if rescored {
                e.rescored_correct += 1;
            }
            if !ok && resp.is_some_and(|t| leaks_template(t, d)) {
                e.template_leaks += 1;
            }
        }
    }
    Ok(out)
}
