//! OLMES (allenai/olmes, `oe_eval`) output folders (FORMATS.md section 10).
//!
//! Files sit flat in the output folder as `task-NNN-<task>-<kind>`:
//! `predictions.jsonl` (one line per doc) gives the rows, joined with
//! `requests.jsonl` (prompt and doc, on (`doc_id`, `idx`)) and
//! `metrics.json` (task and model config). Both joins are checked: every
//! prediction's `task_hash`/`model_hash` must equal the metrics file's
//! (a rerun into the same folder can mix runs), and a request must carry
//! the prediction's `native_id`; a mismatch is an error naming the line.
//!
//! - Item key: `native_id` (stable across runs), not `doc_id` (a position
//!   after subsampling).
//! - Multiple choice (loglikelihood `model_output`, one entry per choice):
//!   one row; the chosen option is `predicted_index_<variant>` of the
//!   primary metric `acc_<variant>` (else the argmax of `sum_logits`).
//! - Generation: one row per `model_output` entry (repeat). The primary
//!   metric scores repeat 0, as OLMES does; a code task's per-entry
//!   `passed` scores every entry; other repeats are scored only when the
//!   primary metric is `exact_match`/`exact_match_simple` without
//!   normalising options (then it is `model_answer == label`, checked to
//!   reproduce repeat 0), else they are kept unscored (filter `unscored`).
//! - Finish reason: a LiteLLM `llm_response.choices[0].finish_reason`, else
//!   `max_tokens_reached` (`length` / `stop`); output tokens `num_tokens`;
//!   the limit `generation_kwargs.max_gen_toks`.
//! - Primary metric: `task_config.primary_metric`; without a metrics file a
//!   fixed order is tried and the report says which was used.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::detect::olmes_name;
use super::family::family;
use super::sink::Sink;
use super::{pyjson, IngestOptions, IngestReport, Skipped};
use crate::error::{read_text, Error, Result};

/// Tried in order when no metrics file names the primary metric.
const PRIMARY_FALLBACK: [&str; 7] = [
    "exact_match",
    "pass_at_1",
    "acc_per_char",
    "acc_raw",
    "exact_match_simple",
    "f1",
    "acc_per_token",
];

#[derive(Default)]
struct Task {
    predictions: Option<PathBuf>,
    requests: Option<PathBuf>,
    metrics: Option<PathBuf>,
}

/// What the metrics file says about the task.
#[derive(Default)]
struct Config {
    task_hash: Option<String>,
    model_hash: Option<String>,
    model: Option<String>,
    primary_metric: Option<String>,
    version: Option<String>,
    num_shots: Option<u32>,
    max_gen_toks: Option<u32>,
    /// `metric_kwargs` sets a normalisation exact match applies.
    normalising: bool,
}

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn u32_of(v: Option<&Value>) -> Option<u32> {
    v?.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn read_config(path: &Path) -> Result<Config> {
    let text = read_text(path)?;
    let v =
        pyjson::parse(&text).map_err(|e| Error::input(path, e.line(), None, format!("invalid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Error::input(
            path,
            1,
            None,
            "expected a JSON object (OLMES task metrics)",
        ));
    }
    let tc = v.get("task_config");
    let mc = v.get("model_config");
    let gk = tc.and_then(|t| t.get("generation_kwargs"));
    let mk = tc.and_then(|t| t.get("metric_kwargs"));
    let normalising = mk.is_some_and(|m| {
        ["ignore_case", "ignore_punctuation"]
            .iter()
            .any(|k| m.get(*k).and_then(Value::as_bool) == Some(true))
            || m.get("regexes_to_ignore")
                .is_some_and(|r| r.as_array().is_some_and(|a| !a.is_empty()))
    });
    Ok(Config {
        task_hash: str_of(v.get("task_hash")),
        model_hash: str_of(v.get("model_hash")),
        model: mc.and_then(|m| str_of(m.get("model"))).or_else(|| {
            mc.and_then(|m| m.get("metadata"))
                .and_then(|m| str_of(m.get("alias")))
        }),
        primary_metric: tc.and_then(|t| str_of(t.get("primary_metric"))),
        version: tc.and_then(|t| str_of(t.get("version"))),
        num_shots: tc.and_then(|t| u32_of(t.get("num_shots"))),
        max_gen_toks: gk.and_then(|g| u32_of(g.get("max_gen_toks"))),
        normalising,
    })
}

/// The request of (doc_id, idx 0): prompt, doc, and its generation limit.
struct Request {
    line: usize,
    native_id: Option<String>,
    prompt: Option<String>,
    doc: String,
    max_gen_toks: Option<u32>,
}

fn read_requests(path: &Path) -> Result<HashMap<i64, Request>> {
    let text = read_text(path)?;
    let mut out = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let v = pyjson::parse(line).map_err(|e| Error::input(path, n, None, format!("invalid JSON: {e}")))?;
        let doc_id = v
            .get("doc_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::input(path, n, Some("doc_id"), "missing or not an integer"))?;
        if v.get("idx").and_then(Value::as_i64).unwrap_or(0) != 0 {
            continue;
        }
        let req = v.get("request");
        let prompt = req.and_then(|r| r.get("context")).map(text_of);
        let doc = v
            .get("doc")
            .filter(|d| d.is_object())
            .map_or_else(|| "{}".to_string(), Value::to_string);
        out.insert(
            doc_id,
            Request {
                line: n,
                native_id: str_of(v.get("native_id")),
                prompt,
                doc,
                max_gen_toks: req
                    .and_then(|r| r.get("generation_kwargs"))
                    .and_then(|g| u32_of(g.get("max_gen_toks"))),
            },
        );
    }
    Ok(out)
}

/// Read the OLMES files detection found, task by task.
pub fn read_files(
    files: &[PathBuf],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let mut tasks: BTreeMap<(PathBuf, String), Task> = BTreeMap::new();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Some((idx, task, kind)) = olmes_name(name) else {
            continue;
        };
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        let key = (dir, format!("{idx:03}\u{0}{task}"));
        let t = tasks.entry(key).or_default();
        match kind {
            "predictions.jsonl" => t.predictions = Some(f.clone()),
            "requests.jsonl" => t.requests = Some(f.clone()),
            "metrics.json" => t.metrics = Some(f.clone()),
            _ => {}
        }
    }
    for ((dir, key), t) in &tasks {
        let task = key.split_once('\u{0}').map_or(key.as_str(), |(_, t)| t);
        let Some(pred) = &t.predictions else {
            report.warnings.push(format!(
                "{}: OLMES task '{task}' has no predictions file; nothing to read",
                dir.display()
            ));
            continue;
        };
        read_task(dir, task, pred, t, opts, sink, report)?;
    }
    Ok(())
}

struct Ctx<'a> {
    run: String,
    task: &'a str,
    benchmark: String,
    cfg: Config,
    pass_threshold: f64,
}

#[allow(clippy::too_many_arguments)]
fn read_task(
    dir: &Path,
    task: &str,
    pred_path: &Path,
    t: &Task,
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let cfg = match &t.metrics {
        Some(m) => read_config(m)?,
        None => {
            report.warnings.push(format!(
                "{}: no task-NNN-{task}-metrics.json beside it: task and model hashes not checked, settings (version, shots, max_gen_toks) unknown",
                pred_path.display()
            ));
            Config::default()
        }
    };
    let requests = match &t.requests {
        Some(r) => Some(read_requests(r)?),
        None => {
            report.warnings.push(format!(
                "{}: no requests file beside it (OLMES writes one with save_raw_requests): prompts and docs unknown",
                pred_path.display()
            ));
            None
        }
    };
    let run = match (&opts.run, &cfg.model) {
        (Some(r), _) => r.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => {
            let d = dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("run")
                .to_string();
            report.warnings.push(format!(
                "{}: the model is not known (no metrics file); run id taken from its folder ('{d}'); pass --run to name it",
                pred_path.display()
            ));
            d
        }
    };
    let core = task.split(':').next().unwrap_or(task);
    let ctx = Ctx {
        run,
        task,
        benchmark: family(core, None),
        cfg,
        pass_threshold: opts.pass_threshold,
    };
    let text = read_text(pred_path)?;
    let mut rows = 0usize;
    let mut guessed: Option<String> = None;
    let mut first_hash: Option<(String, String, usize)> = None;
    let mut repeat_check_failed = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i + 1;
        let v = match pyjson::parse(line) {
            Ok(v) => v,
            Err(e) => {
                let e = Error::input(pred_path, n, None, format!("invalid JSON: {e}"));
                if opts.skip_bad {
                    report.skipped.push(Skipped::from_error(&e));
                    continue;
                }
                return Err(e);
            }
        };
        // A hash mismatch is a wrong join, never a bad record to skip.
        check_hashes(pred_path, n, &v, &ctx, t, &mut first_hash)?;
        match parse_prediction(pred_path, n, v, &ctx, requests.as_ref(), t) {
            Ok(p) => {
                if p.guessed_metric && guessed.is_none() {
                    guessed = Some(p.metric.clone());
                }
                repeat_check_failed |= p.repeat_check_failed;
                for row in p.rows {
                    rows += 1;
                    sink.push(row, report)?;
                }
            }
            Err(e) => {
                if opts.skip_bad {
                    report.skipped.push(Skipped::from_error(&e));
                    continue;
                }
                return Err(e);
            }
        }
    }
    if let Some(m) = guessed {
        report.warnings.push(format!(
            "{}: primary metric not known (no metrics file); scored by '{m}', the first of {} present",
            pred_path.display(),
            PRIMARY_FALLBACK.join(", ")
        ));
    }
    if repeat_check_failed {
        report.warnings.push(format!(
            "{}: model_answer == label does not reproduce the logged metric of repeat 0 on some docs; their other repeats are kept unscored",
            pred_path.display()
        ));
    }
    report.add_file(pred_path, "olmes", &ctx.run, task, rows);
    Ok(())
}

mod prediction;

use prediction::{check_hashes, parse_prediction};
