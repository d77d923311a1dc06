//! Inspect AI logs: `.eval` archives and `.json` logs (FORMATS.md sections
//! 4 and 9). lighteval 0.12+ writes the same logs, so `--format lighteval`
//! reads them here too.
//!
//! An `.eval` file is a zip: `header.json` (the `EvalLog` without samples)
//! and one `samples/<id>_epoch_<n>.json` per sample and epoch, members
//! deflate- or zstd-compressed (zstd by default since Inspect 0.3.206; a
//! member may hold several zstd frames). A member name written twice is a
//! re-run superseding the first: the last central-directory entry wins, as
//! in Inspect. An in-progress or crashed log has no `header.json`; its
//! `_journal/start.json` has the same eval spec and the samples logged so
//! far are read. A `.json` log is the whole `EvalLog` with `samples` inline.
//!
//! Each sample of each epoch gives one row per scorer ([`sample`] has the
//! field mapping and the score encodings). The run id is the eval's model
//! (`--run` overrides), the task the eval's task name, the item id the
//! sample id, `sample_idx` the epoch minus one.
//!
//! The **primary scorer** (the `primary_filter` rows, the ones that score
//! the task) is the first scorer of the eval spec (`eval.scorers`, then
//! `results.scores`) that a sample of the file was scored by; a dict-valued
//! scorer's first key in key order; failing all that, the first scorer name
//! in alphabetical order. A sample with no score at all is one unscored row
//! under that scorer's name.
//!
//! Left out and counted (in the ingest report's warnings): samples with an
//! `invalidation`. Also warned: unscored samples, a log whose status is not
//! `success`, a log marked `invalidated`, a log without `header.json`.
//! `reductions.json` (epoch-reduced scores) and `summaries.json` (no output
//! in it) are not read: the rows are the samples themselves.

mod archive;
mod nonfinite;
pub mod sample;

use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::sink::Sink;
use super::{family, IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::SampleRow;
use archive::read_eval;
use sample::Sample;

/// The `EvalLog` fields read (from `header.json`, `_journal/start.json` or a
/// `.json` log, where `samples` is inline).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Header<'a> {
    version: Option<Value>,
    status: Option<String>,
    eval: Option<Spec>,
    plan: Option<Plan>,
    results: Option<Results>,
    invalidated: Option<bool>,
    #[serde(borrow)]
    samples: Option<Vec<&'a RawValue>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Spec {
    task: Option<String>,
    task_version: Option<Value>,
    model: Option<String>,
    model_generate_config: Option<Value>,
    scorers: Option<Vec<Named>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Plan {
    config: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Results {
    scores: Option<Vec<ResultScore>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResultScore {
    name: Option<String>,
    scorer: Option<String>,
}

/// Does this `.json` file look like an Inspect log? Its top level starts
/// with `EvalLog`'s keys (`version`, `status`, `eval`, ...); only the first
/// 64 KiB are read.
pub fn looks_like_json_log(path: &Path) -> Result<bool> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = Vec::with_capacity(1 << 16);
    f.take(1 << 16)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let keys = top_level_keys(&String::from_utf8_lossy(&head));
    let has = |k: &str| keys.iter().any(|x| x == k);
    Ok(has("version") && has("eval") && (has("status") || has("plan") || has("samples")))
}

/// Keys of the top-level object found in a (possibly cut) JSON prefix.
fn top_level_keys(text: &str) -> Vec<String> {
    let b = text.trim_start().as_bytes();
    if b.first() != Some(&b'{') {
        return Vec::new();
    }
    let mut keys = Vec::new();
    let (mut depth, mut i) = (0usize, 0usize);
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && b[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if depth == 1 && expect_key && i < b.len() {
                    keys.push(String::from_utf8_lossy(&b[start..i]).into_owned());
                    expect_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

/// Is this file an Inspect log by its name (`.eval`) or content (`.json`)?
pub fn is_log(path: &Path) -> Result<bool> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("eval") => Ok(true),
        Some("json") => looks_like_json_log(path),
        _ => Ok(false),
    }
}

/// A located input error: `file: member 'm': field 'f': message`.
fn located(path: &Path, member: &str, field: Option<&str>, message: impl std::fmt::Display) -> Error {
    Error::usage(match field {
        Some(f) => format!("{}: member '{member}': field '{f}': {message}", path.display()),
        None => format!("{}: member '{member}': {message}", path.display()),
    })
}

fn skipped(path: &Path, member: &str, field: Option<&str>, message: String) -> Skipped {
    Skipped {
        location: format!("{}:{member}", path.display()),
        field: field.map(str::to_string),
        message,
    }
}

/// Parse a member's JSON (bare `NaN`/`Infinity` allowed).
fn parse<'a, T: Deserialize<'a>>(path: &Path, member: &str, text: &'a str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        located(
            path,
            member,
            None,
            format!("invalid JSON at line {} column {}: {e}", e.line(), e.column()),
        )
    })
}

/// What every row of one log shares.
struct LogContext {
    run: String,
    task: String,
    benchmark: String,
    task_version: Option<String>,
    n_shot: Option<u32>,
    max_tokens: Option<u32>,
    /// Scorer names in the eval spec's order.
    scorer_order: Vec<String>,
    pass_threshold: f64,
}

impl LogContext {
    fn new(path: &Path, member: &str, h: &Header<'_>, opts: &IngestOptions) -> Result<LogContext> {
        let spec = h.eval.as_ref().ok_or_else(|| {
            located(
                path,
                member,
                Some("eval"),
                "missing: an Inspect log names its eval",
            )
        })?;
        let task = spec
            .task
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| located(path, member, Some("eval.task"), "missing or empty"))?;
        let run = match &opts.run {
            Some(r) => r.clone(),
            None => spec.model.clone().filter(|m| !m.is_empty()).ok_or_else(|| {
                located(
                    path,
                    member,
                    Some("eval.model"),
                    "missing or empty; give --run to name the run",
                )
            })?,
        };
        let max_tokens = spec
            .model_generate_config
            .as_ref()
            .and_then(|c| c.get("max_tokens"))
            .and_then(sample::count)
            .or_else(|| {
                h.plan
                    .as_ref()?
                    .config
                    .as_ref()?
                    .get("max_tokens")
                    .and_then(sample::count)
            });
        let mut scorer_order: Vec<String> = Vec::new();
        let mut add = |n: &Option<String>| {
            if let Some(n) = n {
                if !scorer_order.contains(n) {
                    scorer_order.push(n.clone());
                }
            }
        };
        for s in spec.scorers.iter().flatten() {
            add(&s.name);
        }
        for s in h.results.iter().flat_map(|r| r.scores.iter().flatten()) {
            add(&s.scorer);
            add(&s.name);
        }
        Ok(LogContext {
            benchmark: benchmark_of(&task),
            n_shot: n_shot_of(&task),
            task,
            run,
            task_version: spec.task_version.as_ref().map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            max_tokens,
            scorer_order,
            pass_threshold: opts.pass_threshold,
        })
    }
}

/// The benchmark family of an Inspect task name: registry prefixes
/// (`inspect_evals/mmlu_0_shot`) and lighteval's suite and few-shot parts
/// (`lighteval|gsm8k|0`, `gsm8k|5`) are dropped, `:` read as `_`
/// (`mmlu:college_chemistry` is mmlu).
pub fn benchmark_of(task: &str) -> String {
    let short = task.rsplit('/').next().unwrap_or(task);
    let parts: Vec<&str> = short.split('|').collect();
    let base = match parts.as_slice() {
        [_, t, n] if n.parse::<u32>().is_ok() => t,
        [t, n] if n.parse::<u32>().is_ok() => t,
        [_, t] => t,
        _ => &short,
    };
    family::family(&base.replace(':', "_"), None)
}

/// The few-shot count lighteval's Inspect tasks put in their name
/// (`gsm8k_5_shots`) or its task keys end with (`gsm8k|5`).
pub fn n_shot_of(task: &str) -> Option<u32> {
    if let Some(head) = task.strip_suffix("_shots") {
        return head.rsplit_once('_').and_then(|(_, n)| n.parse().ok());
    }
    task.rsplit_once('|').and_then(|(_, n)| n.parse().ok())
}

/// Counts for one log's warnings.
#[derive(Default)]
struct Tally {
    samples: usize,
    rows: usize,
    unscored: usize,
    invalidated: Vec<String>,
}

/// A sample's rows, before the primary scorer is known.
struct Pending {
    base: SampleRow,
    scored: Vec<sample::Scored>,
}

fn sample_rows(
    path: &Path,
    member: &str,
    text: &str,
    ctx: &LogContext,
    tally: &mut Tally,
) -> Result<Option<Pending>> {
    let rewritten = nonfinite::rewrite(text);
    let s: Sample = parse(path, member, &rewritten)?;
    let id = sample::id_text(&s.id).map_err(|e| located(path, member, Some("id"), e))?;
    let epoch = match s.epoch {
        None => 1,
        Some(e) if e >= 1 && e <= i64::from(u32::MAX) => e,
        Some(e) => {
            return Err(located(
                path,
                member,
                Some("epoch"),
                format!("{e} is not an epoch (1, 2, ...)"),
            ))
        }
    };
    if s.invalidation.as_ref().is_some_and(|v| !v.is_null()) {
        tally.invalidated.push(format!("{id} epoch {epoch}"));
        return Ok(None);
    }
    let scored = match &s.scores {
        Some(m) => sample::scored(m).map_err(|(field, e)| located(path, member, Some(&field), e))?,
        None => Vec::new(),
    };
    let response = s.response();
    let meta = match &s.metadata {
        Some(m @ Value::Object(_)) => m.to_string(),
        _ => "{}".to_string(),
    };
    let base = SampleRow {
        run: ctx.run.clone(),
        benchmark: ctx.benchmark.clone(),
        task: ctx.task.clone(),
        filter: None,
        primary_filter: false,
        item_id: id,
        sample_idx: (epoch - 1) as u32,
        prompt: sample::input_text(&s.input).map(|t| sample::resolve(t, s.attachments.as_ref())),
        target: sample::target_text(&s.target),
        response_chars: response.as_deref().map_or(0, |r| r.chars().count()) as u32,
        response,
        extracted: None,
        score: f64::NAN,
        correct: false,
        finish_reason: s.stop_reason(),
        response_tokens: s.output_tokens(),
        meta,
        prompt_hash: None,
        task_version: ctx.task_version.clone(),
        n_shot: ctx.n_shot,
        max_gen_toks: s.call_max_tokens().or(ctx.max_tokens),
        source: format!("{}:{member}", path.display()),
    };
    tally.samples += 1;
    Ok(Some(Pending { base, scored }))
}

/// The primary filter of a log's rows (see the module docs).
fn primary_of(order: &[String], pending: &[Pending]) -> Option<String> {
    let mut seen: Vec<&str> = pending
        .iter()
        .flat_map(|p| p.scored.iter().map(|s| s.filter.as_str()))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    for name in order {
        let prefix = format!("{name}/");
        if let Some(f) = seen.iter().find(|f| **f == name || f.starts_with(&prefix)) {
            return Some((*f).to_string());
        }
    }
    seen.first()
        .map(|f| f.to_string())
        .or_else(|| order.first().cloned())
}

fn emit(
    pending: Vec<Pending>,
    ctx: &LogContext,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
    tally: &mut Tally,
) -> Result<()> {
    let primary = primary_of(&ctx.scorer_order, &pending);
    for mut p in pending {
        // A scored sample without the primary scorer is unscored there.
        if let Some(pf) = &primary {
            if !p.scored.is_empty() && !p.scored.iter().any(|s| &s.filter == pf) {
                p.scored.push(sample::Scored {
                    filter: pf.clone(),
                    score: None,
                    answer: None,
                });
            }
        }
        let mut unscored = true;
        let n = p.scored.len();
        if n == 0 {
            let mut row = p.base;
            row.filter = primary.clone();
            row.primary_filter = true;
            tally.rows += 1;
            tally.unscored += 1;
            sink.push(row, report)?;
            continue;
        }
        let mut base = Some(p.base);
        for (k, s) in p.scored.into_iter().enumerate() {
            let mut row = if k + 1 == n {
                base.take().unwrap_or_default()
            } else {
                base.clone().unwrap_or_default()
            };
            row.primary_filter = primary.as_deref() == Some(s.filter.as_str());
            if row.primary_filter {
                unscored = s.score.is_none();
            }
            row.filter = Some(s.filter);
            row.extracted = s.answer;
            row.score = s.score.unwrap_or(f64::NAN);
            row.correct = s.score.is_some_and(|x| x >= ctx.pass_threshold);
            tally.rows += 1;
            sink.push(row, report)?;
        }
        if unscored {
            tally.unscored += 1;
        }
    }
    Ok(())
}

/// Read one sample, or skip it under `--skip-bad`.
fn one_sample(
    path: &Path,
    member: &str,
    text: Result<String>,
    ctx: &LogContext,
    skip_bad: bool,
    tally: &mut Tally,
    report: &mut IngestReport,
) -> Result<Option<Pending>> {
    let got = text.and_then(|t| sample_rows(path, member, &t, ctx, tally));
    match got {
        Ok(p) => Ok(p),
        Err(e) if skip_bad => {
            report.skipped.push(skipped(path, member, None, e.to_string()));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn warn_log(path: &Path, h: &Header<'_>, tally: &Tally, report: &mut IngestReport) {
    let p = path.display();
    match h.status.as_deref() {
        None | Some("success") => {}
        Some(s) => report.warnings.push(format!(
            "{p}: Inspect log status '{s}': only the {} samples it logged are read",
            tally.samples
        )),
    }
    if h.invalidated == Some(true) {
        report.warnings.push(format!(
            "{p}: the log is marked invalidated (some samples were invalidated)"
        ));
    }
    if !tally.invalidated.is_empty() {
        report.warnings.push(format!(
            "{p}: {} invalidated samples left out: {}",
            tally.invalidated.len(),
            tally.invalidated.join(", ")
        ));
    }
    if tally.unscored > 0 {
        report.warnings.push(format!(
            "{p}: {} of {} samples unscored (NaN, Infinity or no score): kept with score NaN, they count in no comparison",
            tally.unscored, tally.samples
        ));
    }
}

/// Read one Inspect log (`.eval` or `.json`) into the sink.
pub fn read(path: &Path, opts: &IngestOptions, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => read_json(path, opts, sink, report),
        _ => read_eval(path, opts, sink, report),
    }
}

fn read_json(
    path: &Path,
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let raw = crate::error::read_text(path)?;
    let text = nonfinite::rewrite(&raw);
    let h: Header<'_> = parse(path, "(log)", &text)?;
    let ctx = LogContext::new(path, "(log)", &h, opts)?;
    let mut tally = Tally::default();
    let mut pending = Vec::new();
    for (i, s) in h.samples.iter().flatten().enumerate() {
        let member = format!("samples[{i}]");
        if let Some(p) = one_sample(
            path,
            &member,
            Ok(s.get().to_string()),
            &ctx,
            opts.skip_bad,
            &mut tally,
            report,
        )? {
            pending.push(p);
        }
    }
    emit(pending, &ctx, sink, report, &mut tally)?;
    warn_log(path, &h, &tally, report);
    report.add_file(path, "inspect", &ctx.run, &ctx.task, tally.rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_map_to_their_family() {
        assert_eq!(benchmark_of("inspect_evals/mmlu_0_shot"), "mmlu");
        assert_eq!(benchmark_of("lighteval|gsm8k|5"), "gsm8k");
        assert_eq!(benchmark_of("gsm8k|3"), "gsm8k");
        assert_eq!(benchmark_of("mmlu:college_chemistry|5"), "mmlu");
        assert_eq!(benchmark_of("popularity"), "popularity");
        assert_eq!(benchmark_of("gsm8k_5_shots"), "gsm8k");
        assert_eq!(n_shot_of("gsm8k_5_shots"), Some(5));
        assert_eq!(n_shot_of("lighteval|gsm8k|3"), Some(3));
        assert_eq!(n_shot_of("popularity"), None);
    }

    #[test]
    fn top_level_keys_of_a_cut_prefix() {
        let k = top_level_keys(
            "{\n \"version\": 2, \"status\": \"success\", \"eval\": {\"task\": \"x\", \"a\": [1, {\"b\"",
        );
        assert_eq!(k, ["version", "status", "eval"]);
        assert!(top_level_keys("[1, 2]").is_empty());
        let lm = top_level_keys(r#"{"results": {"gsm8k": {}}, "versions": {"gsm8k": 3}, "config": {}}"#);
        assert_eq!(lm, ["results", "versions", "config"]);
    }
}
