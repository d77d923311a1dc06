//! lm-evaluation-harness `--log_samples` output, every layout since v0.4.0
//! (FORMATS.md section 1): JSON-array files up to v0.4.2, JSONL with hashes
//! from v0.4.3, `filter`/`metrics` keys from v0.4.7.
//!
//! Samples files are paired with the results file of the same invocation by
//! their `<date_id>` suffix, which gives the run id (the model name) and the
//! per-task settings. This module reads files; finding them is `ingest`'s job.

pub mod record;
pub mod results;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::value::RawValue;

use self::record::{parse_record, Parsed, RecordContext, RecordError};
use self::results::ResultsFile;
use super::family::family;
use super::sink::Sink;
use super::{IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::SampleRow;

/// A per-sample file of one task.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplesFile {
    pub path: PathBuf,
    pub task: String,
    pub date_id: Option<String>,
}

/// `samples_<task>_<date_id>.jsonl` -> (task, date_id).
pub fn samples_file_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("samples_")?;
    let date = results::date_id(name)?;
    let task = rest
        .strip_suffix(".jsonl")?
        .strip_suffix(date)?
        .strip_suffix('_')?;
    (!task.is_empty()).then_some((task, date))
}

/// For a legacy (<= v0.4.2) file `<model_args>_<task>.jsonl`, the task among
/// `known` whose name ends the file stem (longest match).
pub fn legacy_task<'a>(file_stem: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    known
        .filter(|t| file_stem == t.as_str() || file_stem.ends_with(&format!("_{t}")))
        .max_by_key(|t| t.len())
        .cloned()
}

/// One JSON record of a samples file with its 1-based line.
struct Record<'a> {
    line: usize,
    text: &'a str,
}

fn records<'a>(path: &Path, text: &'a str) -> Result<Vec<Record<'a>>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        // v0.4.0 - v0.4.2: one pretty-printed JSON array.
        let items: Vec<&RawValue> = serde_json::from_str(text)
            .map_err(|e| Error::input(path, e.line(), None, format!("invalid JSON array: {e}")))?;
        let base = text.as_ptr() as usize;
        return Ok(items
            .into_iter()
            .map(|raw| {
                let offset = raw.get().as_ptr() as usize - base;
                let line = 1 + text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count();
                Record {
                    line,
                    text: raw.get(),
                }
            })
            .collect());
    }
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record { line: i + 1, text: l })
        .collect())
}

/// Read the samples files of one run (one invocation of the harness);
/// returns the run id and whether any row was read.
pub fn read_run(
    results: Option<&ResultsFile>,
    files: &[SamplesFile],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<(String, bool)> {
    let mut any = false;
    let run = match (&opts.run, results.and_then(|r| r.model_name.clone())) {
        (Some(r), _) => r.clone(),
        (None, Some(m)) => m,
        (None, None) => {
            let dir = files
                .first()
                .and_then(|f| f.path.parent())
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .unwrap_or("run")
                .to_string();
            report.warnings.push(format!(
                "{}: no results file found beside it; run id taken from its folder ('{dir}'), task settings (version, n-shot, max_gen_toks) unknown; pass --run to name the run",
                files.first().map(|f| f.path.display().to_string()).unwrap_or_default()
            ));
            dir
        }
    };
    for f in files {
        let info = results.and_then(|r| r.tasks.get(&f.task));
        let benchmark = family(&f.task, info.and_then(|i| i.group.as_deref()));
        let bytes = crate::error::read_file(&f.path)?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            Error::input(&f.path, line, None, format!("not UTF-8: {e}"))
        })?;
        let recs = records(&f.path, text)?;
        let ctx = RecordContext {
            run: &run,
            benchmark: &benchmark,
            task: &f.task,
            task_version: info.and_then(|i| i.version.as_deref()),
            n_shot: info.and_then(|i| i.n_shot),
            max_gen_toks: info.and_then(|i| i.max_gen_toks),
            pass_threshold: opts.pass_threshold,
        };
        let display = f.path.display().to_string();
        let parsed: Vec<std::result::Result<Parsed, RecordError>> = recs
            .par_iter()
            .map(|r| parse_record(r.text, &ctx, format!("{display}:{}", r.line)))
            .collect();
        let mut rows = Vec::with_capacity(parsed.len());
        let mut doc_ids = Vec::with_capacity(parsed.len());
        let mut hashed = true;
        for (rec, res) in recs.iter().zip(parsed) {
            match res {
                Ok(p) => {
                    doc_ids.push(p.doc_id);
                    hashed &= p.hashed;
                    rows.push(p.row);
                }
                Err(e) => {
                    let error = Error::input(&f.path, rec.line, e.field, e.message);
                    if opts.skip_bad {
                        report.skipped.push(Skipped::from_error(&error));
                    } else {
                        return Err(error);
                    }
                }
            }
        }
        let filters = info.map(|i| i.filters.as_slice()).unwrap_or(&[]);
        assign_legacy_filters(&mut rows, &doc_ids, filters);
        mark_primary_filter(&mut rows, filters);
        if hashed {
            split_duplicate_docs(&mut rows, &doc_ids);
        }
        report.add_file(&f.path, "lm-eval", &run, &f.task, rows.len());
        any |= !rows.is_empty();
        for row in rows {
            sink.push(row, report)?;
        }
    }
    Ok((run, any))
}

/// Before v0.4.7 a task with k filters wrote k rows per doc without a
/// `filter` key, in `filter_list` order: the n-th row of a doc gets the n-th filter.
fn assign_legacy_filters(rows: &mut [SampleRow], doc_ids: &[String], filters: &[String]) {
    if filters.len() < 2 || doc_ids.len() != rows.len() || rows.iter().any(|r| r.filter.is_some()) {
        return;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (row, id) in rows.iter_mut().zip(doc_ids) {
        let n = seen.entry(id.as_str()).or_insert(0);
        row.filter = filters.get(*n).cloned();
        *n += 1;
    }
}

/// Benchmarks hold duplicate docs (the same question twice), and the harness
/// gives them the same `doc_hash`. Such items stay distinct: the k-th doc id
/// (in id order) of a shared hash gets the key `<doc_hash>#k` (k >= 2), which
/// pairs across runs as long as the task's doc order is unchanged.
fn split_duplicate_docs(rows: &mut [SampleRow], doc_ids: &[String]) {
    let mut ids_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (row, id) in rows.iter().zip(doc_ids) {
        let ids = ids_of.entry(row.item_id.as_str()).or_default();
        if !ids.contains(&id.as_str()) {
            ids.push(id);
        }
    }
    let rank: HashMap<(String, String), usize> = ids_of
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .flat_map(|(hash, mut ids)| {
            ids.sort_by(|a, b| match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(x), Ok(y)) => x.cmp(&y),
                _ => a.cmp(b),
            });
            ids.into_iter()
                .enumerate()
                .map(move |(k, id)| ((hash.to_string(), id.to_string()), k + 1))
        })
        .collect();
    if rank.is_empty() {
        return;
    }
    for (row, id) in rows.iter_mut().zip(doc_ids) {
        if let Some(&k) = rank.get(&(row.item_id.clone(), id.clone())) {
            if k > 1 {
                row.item_id = format!("{}#{k}", row.item_id);
            }
        }
    }
}

/// The task's first filter scores it: the first of `filter_list` when the
/// results file gives it and rows carry it, else the first filter seen.
fn mark_primary_filter(rows: &mut [SampleRow], filters: &[String]) {
    let present = |f: &str| rows.iter().any(|r| r.filter.as_deref() == Some(f));
    let primary: Option<String> = filters
        .iter()
        .find(|f| present(f))
        .cloned()
        .or_else(|| rows.iter().find_map(|r| r.filter.clone()));
    for r in rows.iter_mut() {
        r.primary_filter = match (&primary, &r.filter) {
            (Some(p), Some(f)) => p == f,
            _ => true,
        };
    }
}

/// Group samples files by folder and `date_id`, pair each group with its
/// results file, and read them.
pub fn read_all(
    results_files: &[ResultsFile],
    samples: &[SamplesFile],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let mut groups: BTreeMap<(PathBuf, Option<String>), Vec<SamplesFile>> = BTreeMap::new();
    for s in samples {
        let dir = s.path.parent().map(Path::to_path_buf).unwrap_or_default();
        groups
            .entry((dir, s.date_id.clone()))
            .or_default()
            .push(s.clone());
    }
    let mut seen: BTreeMap<(String, String), PathBuf> = BTreeMap::new();
    for ((dir, date), files) in &groups {
        let results = results_files.iter().find(|r| {
            r.path.parent().map(Path::to_path_buf).unwrap_or_default() == *dir && r.date_id == *date
        });
        let (run, any) = read_run(results, files, opts, sink, report)?;
        // The same (run, task) from two invocations would pair unrelated rows.
        for f in files {
            if !any {
                break;
            }
            if let Some(prev) = seen.insert((run.clone(), f.task.clone()), f.path.clone()) {
                if prev != f.path {
                    return Err(Error::usage(format!(
                        "run '{run}' has task '{}' in two invocations ({} and {}); ingest them separately with --run to give each its own run id",
                        f.task,
                        prev.display(),
                        f.path.display()
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_file_names_give_task_and_date() {
        assert_eq!(
            samples_file_name("samples_leaderboard_bbh_navigate_2024-12-23T14-45-44.695233.jsonl"),
            Some(("leaderboard_bbh_navigate", "2024-12-23T14-45-44.695233"))
        );
        assert_eq!(samples_file_name("samples_.jsonl"), None);
        assert_eq!(samples_file_name("results_2024-12-23T14-45-44.695233.json"), None);
    }

    #[test]
    fn legacy_files_name_their_task_at_the_end() {
        let known = [
            "gsm8k".to_string(),
            "mmlu_astronomy".to_string(),
            "astronomy".to_string(),
        ];
        assert_eq!(
            legacy_task("pretrained__org__m_mmlu_astronomy", known.iter()).as_deref(),
            Some("mmlu_astronomy")
        );
        assert_eq!(legacy_task("x_unrelated", known.iter()), None);
    }
}
