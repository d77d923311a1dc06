//! lm-evaluation-harness `--log_samples` output, every layout since v0.4.0
//! (FORMATS.md section 1): JSON-array files up to v0.4.2, JSONL with hashes
//! from v0.4.3, `filter`/`metrics` keys from v0.4.7.
//!
//! Samples files are paired with the results file of the same invocation by
//! their `<date_id>` suffix, which gives the run id (the model name) and the
//! per-task settings. This module reads files; finding them is `ingest`'s job.

pub mod record;
pub mod results;
mod source;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::value::RawValue;

use self::record::{parse_record, Parsed, RecordContext, RecordError};
use self::results::ResultsFile;
use self::source::RecordSource;
use super::family::family;
use super::sink::Sink;
use super::{IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};

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
        let ctx = RecordContext {
            run: &run,
            benchmark: &benchmark,
            task: &f.task,
            task_version: info.and_then(|i| i.version.as_deref()),
            n_shot: info.and_then(|i| i.n_shot),
            max_gen_toks: info.and_then(|i| i.max_gen_toks),
            pass_threshold: opts.pass_threshold,
            think_end: results.and_then(|r| r.think_end_token.as_deref()),
            api_none_answers: results.is_some_and(|r| r.api_none_answers),
        };
        let filters = info.map(|i| i.filters.as_slice()).unwrap_or(&[]);
        let mut tally = Tally::default();
        let rows = read_file(&f.path, &ctx, filters, opts, sink, report, &mut tally)?;
        report.add_file(&f.path, "lm-eval", &run, &f.task, rows);
        if tally.thinking_unfinished > 0 {
            report.warnings.push(format!(
                "{}: {} responses still hold the opening reasoning marker of think_end_token '{}' (the harness keeps the whole text when the closing marker never came): marked finish_reason=length",
                f.path.display(),
                tally.thinking_unfinished,
                ctx.think_end.unwrap_or("")
            ));
        }
        if tally.missing_answers > 0 {
            report.warnings.push(format!(
                "{}: {} missing API answers (null, or \"None\" from an API backend before lm-eval 0.4.12) read as empty responses",
                f.path.display(),
                tally.missing_answers
            ));
        }
        any |= rows > 0;
    }
    Ok((run, any))
}

/// What a first, light pass over a file learns: which filters its rows
/// carry, and which doc hashes several doc ids share.
#[derive(Default)]
struct FileFacts {
    filters_seen: Vec<String>,
    any_filter_key: bool,
    /// Rows per doc id (for pre-v0.4.7 filter assignment).
    max_rows_per_doc: usize,
    all_hashed: bool,
    /// (doc_hash, doc id) -> rank k >= 2 among the hash's doc ids.
    rank: HashMap<(String, String), usize>,
}

/// The few fields the first pass reads; everything else is skipped.
#[derive(serde::Deserialize)]
struct Light<'a> {
    #[serde(borrow)]
    doc_id: Option<&'a RawValue>,
    #[serde(default, borrow)]
    doc_hash: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    filter: Option<std::borrow::Cow<'a, str>>,
}

/// The doc id as [`parse_record`] gives it.
fn doc_key(raw: &RawValue) -> String {
    serde_json::from_str::<serde_json::Value>(raw.get())
        .ok()
        .and_then(|v| record::doc_id_text(&v).ok())
        .unwrap_or_default()
}

fn scan_facts(path: &Path, filters: &[String]) -> Result<FileFacts> {
    let mut facts = FileFacts {
        all_hashed: true,
        ..FileFacts::default()
    };
    let mut per_doc: HashMap<String, usize> = HashMap::new();
    // Per doc hash: its doc ids, each with the order it was first seen in
    // (a set: a templated dataset repeats one doc hash under thousands of
    // ids, and a list made this pass quadratic).
    let mut ids_of: HashMap<String, HashMap<String, u32>> = HashMap::new();
    let mut src = RecordSource::open(path)?;
    loop {
        let chunk = src.chunk(path, 1 << 14, 64 << 20)?;
        if chunk.is_empty() {
            break;
        }
        // Parsed in parallel, folded in file order. Unreadable records are
        // reported by the second pass.
        let lights: Vec<_> = chunk
            .par_iter()
            .map(|(_, text)| {
                let l = serde_json::from_str::<Light<'_>>(text).ok()?;
                Some((l.doc_id.map(doc_key).unwrap_or_default(), l))
            })
            .collect();
        for (id, l) in lights.into_iter().flatten() {
            if let Some(f) = &l.filter {
                facts.any_filter_key = true;
                if !facts.filters_seen.iter().any(|x| x == f) {
                    facts.filters_seen.push(f.to_string());
                }
            }
            if filters.len() >= 2 {
                let n = per_doc.entry(id.clone()).or_insert(0);
                *n += 1;
                facts.max_rows_per_doc = facts.max_rows_per_doc.max(*n);
            }
            match &l.doc_hash {
                Some(h) => {
                    if !ids_of.contains_key(h.as_ref()) {
                        ids_of.insert(h.to_string(), HashMap::new());
                    }
                    if let Some(ids) = ids_of.get_mut(h.as_ref()) {
                        let next = ids.len() as u32;
                        ids.entry(id).or_insert(next);
                    }
                }
                None => facts.all_hashed = false,
            }
        }
    }
    if facts.all_hashed {
        for (hash, ids) in ids_of.into_iter().filter(|(_, ids)| ids.len() > 1) {
            let mut ids: Vec<(String, u32)> = ids.into_iter().collect();
            // Numeric ids by value, others as text; equal ones in the order seen.
            ids.sort_by(|(a, first_a), (b, first_b)| {
                match (a.parse::<u64>(), b.parse::<u64>()) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => a.cmp(b),
                }
                .then(first_a.cmp(first_b))
            });
            for (k, (id, _)) in ids.into_iter().enumerate() {
                if k > 0 {
                    facts.rank.insert((hash.clone(), id), k + 1);
                }
            }
        }
    }
    Ok(facts)
}

/// Per-file counts of what the records showed.
#[derive(Default)]
struct Tally {
    thinking_unfinished: usize,
    missing_answers: usize,
}

/// Read one samples file into the sink in two passes (facts, then rows in
/// parallel chunks), so memory follows the chunk, not the file. Returns the
/// rows read.
fn read_file(
    path: &Path,
    ctx: &RecordContext<'_>,
    filters: &[String],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
    tally: &mut Tally,
) -> Result<usize> {
    let facts = scan_facts(path, filters)?;
    // Before v0.4.7 a task with k filters wrote k rows per doc without a
    // `filter` key, in `filter_list` order: the n-th row of a doc gets the
    // n-th filter.
    let legacy = filters.len() >= 2 && !facts.any_filter_key;
    let present: Vec<String> = if legacy {
        filters.iter().take(facts.max_rows_per_doc).cloned().collect()
    } else {
        facts.filters_seen.clone()
    };
    // The task's first filter scores it: the first of `filter_list` that
    // rows carry, else the first filter seen.
    let primary: Option<String> = filters
        .iter()
        .find(|f| present.contains(f))
        .cloned()
        .or_else(|| present.first().cloned());
    let display = path.display().to_string();
    let mut seen_per_doc: HashMap<String, usize> = HashMap::new();
    let mut rows = 0usize;
    let src = RecordSource::open(path)?;
    // The next chunk's lines are read on a second thread while this one's
    // records are parsed and sunk (one chunk ahead, at most 32 MiB).
    std::thread::scope(|scope| -> Result<usize> {
        let (ahead, chunks) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            let mut src = src;
            loop {
                let chunk = src.chunk(path, 1 << 13, 32 << 20);
                let last = chunk.as_ref().map_or(true, Vec::is_empty);
                if ahead.send(chunk).is_err() || last {
                    break;
                }
            }
        });
        for chunk in chunks {
            let chunk = chunk?;
            if chunk.is_empty() {
                break;
            }
            let parsed: Vec<std::result::Result<Parsed, RecordError>> = chunk
                .par_iter()
                .map(|(line, text)| parse_record(text, ctx, format!("{display}:{line}")))
                .collect();
            for ((line, _), res) in chunk.iter().zip(parsed) {
                let p = match res {
                    Ok(p) => p,
                    Err(e) => {
                        let error = Error::input(path, *line, e.field, e.message);
                        if opts.skip_bad {
                            report.skipped.push(Skipped::from_error(&error));
                            continue;
                        }
                        return Err(error);
                    }
                };
                tally.thinking_unfinished += usize::from(p.thinking_unfinished);
                tally.missing_answers += usize::from(p.missing_answer);
                let mut row = p.row;
                if legacy {
                    let n = seen_per_doc.entry(p.doc_id.clone()).or_insert(0);
                    row.filter = filters.get(*n).cloned();
                    *n += 1;
                }
                row.primary_filter = match (&primary, &row.filter) {
                    (Some(pf), Some(f)) => pf == f,
                    _ => true,
                };
                // Benchmarks hold duplicate docs (the same question twice), and
                // the harness gives them the same `doc_hash`. Such items stay
                // distinct: the k-th doc id (in id order) of a shared hash gets
                // the key `<doc_hash>#k` (k >= 2), which pairs across runs as
                // long as the task's doc order is unchanged.
                if facts.all_hashed && !facts.rank.is_empty() {
                    if let Some(&k) = facts.rank.get(&(row.item_id.clone(), p.doc_id.clone())) {
                        row.item_id = format!("{}#{k}", row.item_id);
                    }
                }
                rows += 1;
                sink.push(row, report)?;
            }
        }
        Ok(rows)
    })
}

/// Read the files detection gave to lm-eval: results files, samples files
/// named `samples_<task>_<date>.jsonl`, and legacy (<= v0.4.2) files that
/// take their task from the results file beside them.
pub fn read_files(
    files: &[PathBuf],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let mut results_files = Vec::new();
    let mut samples = Vec::new();
    let mut legacy = Vec::new();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if f.extension().is_some_and(|e| e == "json") {
            if let Some(r) = results::read(f)? {
                results_files.push(r);
                continue;
            }
        }
        match samples_file_name(name) {
            Some((task, date)) => samples.push(SamplesFile {
                path: f.clone(),
                task: task.to_string(),
                date_id: Some(date.to_string()),
            }),
            None => legacy.push(f.clone()),
        }
    }
    for f in legacy {
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let beside: Vec<&ResultsFile> = results_files
            .iter()
            .filter(|r| r.path.parent().map(Path::to_path_buf).unwrap_or_default() == dir)
            .collect();
        let task = beside
            .iter()
            .find_map(|r| legacy_task(stem, r.tasks.keys()))
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: lm-eval sample file whose task cannot be told: its name is not samples_<task>_<date>.jsonl and no results file beside it lists a task that ends its name",
                    f.display()
                ))
            })?;
        let date_id = beside
            .iter()
            .find(|r| r.tasks.contains_key(&task))
            .and_then(|r| r.date_id.clone());
        samples.push(SamplesFile {
            path: f,
            task,
            date_id,
        });
    }
    read_all(&results_files, &samples, opts, sink, report)
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
    // A task the results file lists but no samples file has is not
    // compared: say so rather than let it vanish.
    for r in results_files {
        let dir = r.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let missing: Vec<&str> = r
            .tasks
            .keys()
            .filter(|t| {
                !samples.iter().any(|s| {
                    s.task == **t
                        && s.path.parent().map(Path::to_path_buf).unwrap_or_default() == dir
                        && s.date_id == r.date_id
                })
            })
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            report.warnings.push(format!(
                "{}: {} task(s) listed in this results file have no samples file beside it, so they are not read: {}; run lm-eval with --log_samples, or copy the samples_<task>_<date>.jsonl files too",
                r.path.display(),
                missing.len(),
                missing.join(", ")
            ));
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

    /// Doc ids sharing a doc hash are ranked by numeric id, not as text nor
    /// as first seen; a repeated (doc hash, id) pair counts once.
    #[test]
    fn doc_ids_sharing_a_hash_are_ranked_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samples_t_2024-01-01T00-00-00.jsonl");
        let line = |id: u32, hash: &str| format!("{{\"doc_id\": {id}, \"doc_hash\": \"{hash}\"}}\n");
        let text: String = [(10, "h"), (2, "h"), (10, "h"), (1, "h"), (7, "g")]
            .iter()
            .map(|&(id, h)| line(id, h))
            .collect();
        std::fs::write(&path, text).unwrap();
        let facts = scan_facts(&path, &[]).unwrap();
        assert!(facts.all_hashed);
        let rank = |h: &str, id: &str| facts.rank.get(&(h.to_string(), id.to_string())).copied();
        assert_eq!(rank("h", "1"), None, "the first id keeps the plain key");
        assert_eq!(rank("h", "2"), Some(2));
        assert_eq!(rank("h", "10"), Some(3));
        assert_eq!(rank("g", "7"), None);
        assert_eq!(facts.rank.len(), 2);
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
