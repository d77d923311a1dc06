//! lighteval details parquet (FORMATS.md sections 2 and 9):
//! `details/<model>/<date>/details_<task>_<date>.parquet`, one row per doc.
//!
//! Two schemas:
//! - **0.11 and later**: struct columns `doc` (`Doc`), `model_response`
//!   (`ModelResponse`) and `metric` (`{name: value}`);
//! - **0.10 and earlier**: flat columns `example`, `full_prompt`,
//!   `predictions`, `gold`, `metrics`, `choices`, `gold_index`, `specifics`,
//!   `cont_tokens`, ...; up to 0.7 every cell is a Python `str(...)` repr
//!   (read by [`pyrepr`]).
//!
//! The task is the file name's `<task>` (`lighteval|gsm8k|3` before 0.12.1,
//! `gsm8k|3` after), or `doc.task_name`; the trailing `|<n>` is the few-shot
//! count. The run id is the `<model>` folder above `<date>` (`--run`
//! overrides). The item id is `doc.id`, or (no id: the old schema) the first
//! 16 hex digits of the sha256 of the query (`example`), which is the same
//! text in every checkpoint. lighteval keeps one metric dict per doc, even
//! with several samples: the row keeps the first response and the primary
//! metric (the first of [`METRICS`] present, else the first in name
//! order) as its score; per-sample correctness is not in the file and is
//! not invented. Loglikelihood rows give the chosen option (argmax of the
//! per-choice log-probabilities) as response and extracted answer.
//! Generative rows: `text_post_processed` (reasoning removed) is the
//! extracted answer when present, else the whole response (the metric reads
//! it whole). Output tokens give `response_tokens`; `doc.generation_size`
//! the generation limit. lighteval records no finish reason.
//!
//! lighteval 0.12+ `lighteval eval` writes Inspect logs instead: those go
//! through [`super::inspect`].

pub mod pyrepr;

use std::path::Path;

use polars::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::sink::Sink;
use super::{IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::SampleRow;

/// Metric names tried, in order, for the primary score.
pub const METRICS: &[&str] = &[
    "extractive_match",
    "exact_match",
    "quasi_exact_match",
    "prefix_quasi_exact_match",
    "prefix_exact_match",
    "em",
    "acc",
    "loglikelihood_acc",
    "loglikelihood_acc_norm",
    "acc_norm",
    "pass@1",
    "f1",
];

/// `details_<task>_<date>.parquet` -> `<task>`: the date is
/// `YYYY-MM-DDTHH-MM-SS.ffffff` (the last `_` before it ends the task).
pub fn task_of_file_name(name: &str) -> Option<&str> {
    let stem = name.strip_prefix("details_")?.strip_suffix(".parquet")?;
    let (task, date) = stem.rsplit_once('_')?;
    (date.len() >= 19 && date.as_bytes()[4] == b'-' && date.as_bytes()[10] == b'T' && !task.is_empty())
        .then_some(task)
}

/// Is this a lighteval details file by its name?
pub fn is_details_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| task_of_file_name(n).is_some())
}

/// The few-shot count: the task key's trailing `|<n>` (or `__<n>`).
fn n_shot(task: &str) -> Option<u32> {
    task.rsplit_once('|')
        .or_else(|| task.rsplit_once("__"))
        .and_then(|(_, n)| n.parse().ok())
}

/// One cell as JSON (structs become objects, lists arrays, non-finite floats null).
fn json_of(v: &AnyValue<'_>) -> Value {
    let f = |x: f64| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number);
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(*b),
        AnyValue::String(s) => Value::String((*s).to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::UInt8(x) => Value::from(*x),
        AnyValue::UInt16(x) => Value::from(*x),
        AnyValue::UInt32(x) => Value::from(*x),
        AnyValue::UInt64(x) => Value::from(*x),
        AnyValue::Int8(x) => Value::from(*x),
        AnyValue::Int16(x) => Value::from(*x),
        AnyValue::Int32(x) => Value::from(*x),
        AnyValue::Int64(x) => Value::from(*x),
        AnyValue::Float32(x) => f(f64::from(*x)),
        AnyValue::Float64(x) => f(*x),
        AnyValue::List(s) => Value::Array(s.iter().map(|x| json_of(&x)).collect()),
        AnyValue::Struct(_, _, fields) => {
            let mut m = Map::new();
            for (fld, x) in fields.iter().zip(v._iter_struct_av()) {
                m.insert(fld.name().to_string(), json_of(&x));
            }
            Value::Object(m)
        }
        AnyValue::StructOwned(b) => {
            let (vals, fields) = &**b;
            Value::Object(
                fields
                    .iter()
                    .zip(vals)
                    .map(|(fld, x)| (fld.name().to_string(), json_of(x)))
                    .collect(),
            )
        }
        other => Value::String(other.to_string()),
    }
}

/// A cell that may be a Python repr (lighteval <= 0.7): parsed when it
/// looks like a list, dict or tuple.
fn unrepr(v: Value) -> Value {
    match &v {
        Value::String(s) if matches!(s.trim_start().as_bytes().first(), Some(b'[' | b'{' | b'(')) => {
            pyrepr::parse(s).unwrap_or(v)
        }
        _ => v,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn first(v: &Value) -> &Value {
    match v {
        Value::Array(a) => a.first().unwrap_or(&Value::Null),
        other => other,
    }
}

fn short_hash(s: &str) -> String {
    hex::encode(&Sha256::digest(s.as_bytes())[..8])
}

/// Index of the largest log-probability (first of ties); `None` when empty.
fn argmax(xs: &[Value]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in xs.iter().enumerate() {
        let v = match x {
            Value::Array(pair) => pair.first().and_then(Value::as_f64),
            other => other.as_f64(),
        }?;
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// What one record gives, before it becomes a row.
struct Fields {
    item_id: String,
    prompt: Option<String>,
    target: Option<String>,
    response: Option<String>,
    extracted: Option<String>,
    metrics: Value,
    response_tokens: Option<u32>,
    max_gen_toks: Option<u32>,
    meta: String,
    task_name: Option<String>,
}

fn target_of(choices: &Value, gold_index: &Value, gold: Option<&Value>) -> Option<String> {
    let choices = choices.as_array();
    match (choices, first(gold_index).as_u64()) {
        (Some(c), Some(g)) if (g as usize) < c.len() => text(&c[g as usize]),
        _ => gold.map(first).and_then(text),
    }
}

fn meta_of(v: Option<&Value>) -> String {
    match v {
        Some(m @ Value::Object(_)) => m.to_string(),
        _ => "{}".to_string(),
    }
}

/// The 0.11+ record: `doc`, `model_response`, `metric`.
fn new_schema(rec: &Map<String, Value>) -> Result<Fields, (String, String)> {
    let doc = rec.get("doc").cloned().unwrap_or(Value::Null);
    let resp = rec.get("model_response").cloned().unwrap_or(Value::Null);
    let query = doc.get("query").and_then(text);
    let id = doc.get("id").and_then(text).filter(|s| !s.is_empty());
    let item_id = match (id, &query) {
        (Some(id), _) => id,
        (None, Some(q)) => short_hash(q),
        (None, None) => {
            return Err((
                "doc.id".into(),
                "missing, and no doc.query to key the item on".into(),
            ))
        }
    };
    let texts = resp
        .get("text")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (response, extracted) = match texts.first() {
        Some(t) => {
            let r = text(t);
            let post = resp
                .get("text_post_processed")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(text);
            (r.clone(), post.or(r))
        }
        None => {
            let lp = resp
                .get("logprobs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let chosen = argmax(&lp).map(|i| i.to_string());
            (chosen.clone(), chosen)
        }
    };
    let response_tokens = resp
        .get("output_tokens")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_array)
        .filter(|t| !t.is_empty())
        .map(|t| t.len() as u32);
    let prompt = match resp.get("input") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(msgs)) if !msgs.is_empty() => Some(
            msgs.iter()
                .filter_map(|m| m.get("content").and_then(text))
                .collect::<Vec<_>>()
                .join("\n\n"),
        ),
        _ => query.clone(),
    };
    Ok(Fields {
        item_id,
        prompt,
        target: target_of(
            doc.get("choices").unwrap_or(&Value::Null),
            doc.get("gold_index").unwrap_or(&Value::Null),
            None,
        ),
        response,
        extracted,
        metrics: rec.get("metric").cloned().unwrap_or(Value::Null),
        response_tokens,
        max_gen_toks: doc
            .get("generation_size")
            .and_then(Value::as_u64)
            .and_then(|x| u32::try_from(x).ok()),
        meta: meta_of(doc.get("specific")),
        task_name: doc.get("task_name").and_then(text).filter(|s| !s.is_empty()),
    })
}

/// The <= 0.10 flat record.
fn old_schema(rec: &Map<String, Value>) -> Result<Fields, (String, String)> {
    let get = |k: &str| rec.get(k).cloned().map(unrepr).unwrap_or(Value::Null);
    let example = text(&get("example")).or_else(|| text(&get("full_prompt")));
    let Some(example) = example else {
        return Err((
            "example".into(),
            "missing: the old details schema keys items on it".into(),
        ));
    };
    let preds = get("predictions");
    let (response, extracted) = match preds.as_array().and_then(|a| a.first()) {
        Some(Value::Array(_)) => {
            let chosen = argmax(preds.as_array().map_or(&[][..], Vec::as_slice)).map(|i| i.to_string());
            (chosen.clone(), chosen)
        }
        Some(v) => (text(v), text(v)),
        None => match &preds {
            Value::String(s) => (Some(s.clone()), Some(s.clone())),
            _ => (None, None),
        },
    };
    let response_tokens = get("cont_tokens")
        .as_array()
        .and_then(|a| a.first().cloned())
        .and_then(|t| t.as_array().map(|t| t.len() as u32))
        .filter(|n| *n > 0);
    let gold = get("gold");
    Ok(Fields {
        item_id: short_hash(&example),
        prompt: text(&get("full_prompt")).or(Some(example)),
        target: target_of(&get("choices"), &get("gold_index"), Some(&gold)),
        response,
        extracted,
        metrics: get("metrics"),
        response_tokens,
        max_gen_toks: None,
        meta: meta_of(Some(&get("specifics"))),
        task_name: None,
    })
}

/// The primary metric and its score in [0, 1] (`None`: unscored).
fn primary_metric(m: &Value) -> Result<(String, Option<f64>), (String, String)> {
    let Value::Object(map) = m else {
        return Err(("metric".into(), "missing or not a dict of metric values".into()));
    };
    let name = METRICS
        .iter()
        .find(|k| map.contains_key(**k))
        .map(|k| k.to_string())
        .or_else(|| map.keys().min().cloned())
        .ok_or_else(|| ("metric".to_string(), "no metric in the dict".to_string()))?;
    let score =
        super::inspect::sample::value_score(&map[&name]).map_err(|e| (format!("metric.{name}"), e))?;
    Ok((name, score))
}

/// The run id: `--run`, else the model folder above the date folder.
fn run_of(path: &Path, opts: &IngestOptions) -> Option<String> {
    if let Some(r) = &opts.run {
        return Some(r.clone());
    }
    let date_dir = path.parent()?;
    let model = date_dir.parent()?.file_name()?.to_str()?;
    Some(model.to_string())
}

/// Read one details parquet file into the sink.
pub fn read(path: &Path, opts: &IngestOptions, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let file_task = task_of_file_name(name);
    let run = run_of(path, opts).ok_or_else(|| {
        Error::usage(format!(
            "{}: cannot tell the run: lighteval writes details/<model>/<date>/details_<task>_<date>.parquet; give --run",
            path.display()
        ))
    })?;
    // Page headers checked and polars panics caught: a corrupt file is an
    // error naming it, never a crash.
    let df = crate::table::pages::read_whole(path, &crate::error::read_file(path)?)?;
    let cols = df.columns();
    let names: Vec<String> = cols.iter().map(|c| c.name().to_string()).collect();
    let new = names.iter().any(|n| n == "doc") && names.iter().any(|n| n == "model_response");
    if !new && !names.iter().any(|n| n == "example" || n == "full_prompt") {
        return Err(Error::frame(
            path,
            format!(
                "not a lighteval details file: expected columns doc/model_response/metric (0.11+) or example/predictions/metrics (<= 0.10), found {}",
                names.join(", ")
            ),
        ));
    }
    let mut rows = 0usize;
    let mut task_seen = String::new();
    for i in 0..df.height() {
        let line = i + 1;
        let mut rec = Map::new();
        for (c, n) in cols.iter().zip(&names) {
            let v = c.get(i).map_err(|e| Error::frame(path, e))?;
            rec.insert(n.clone(), json_of(&v));
        }
        let got = if new { new_schema(&rec) } else { old_schema(&rec) }.and_then(|f| {
            let (metric, score) = primary_metric(&f.metrics)?;
            Ok((f, metric, score))
        });
        let (f, metric, score) = match got {
            Ok(x) => x,
            Err((field, message)) => {
                if opts.skip_bad {
                    report.skipped.push(Skipped {
                        location: format!("{}:{line}", path.display()),
                        field: Some(field),
                        message,
                    });
                    continue;
                }
                return Err(Error::input(path, line, Some(&field), message));
            }
        };
        let task = f
            .task_name
            .clone()
            .or_else(|| file_task.map(str::to_string))
            .unwrap_or_else(|| "lighteval".to_string());
        if task_seen.is_empty() {
            task_seen = task.clone();
        }
        let row = SampleRow {
            run: run.clone(),
            benchmark: super::inspect::benchmark_of(&task),
            n_shot: n_shot(&task),
            task,
            filter: Some(metric),
            primary_filter: true,
            item_id: f.item_id,
            sample_idx: 0,
            prompt: f.prompt,
            target: f.target,
            response_chars: f.response.as_deref().map_or(0, |r| r.chars().count()) as u32,
            response: f.response,
            extracted: f.extracted,
            score: score.unwrap_or(f64::NAN),
            correct: score.is_some_and(|s| s >= opts.pass_threshold),
            finish_reason: None,
            response_tokens: f.response_tokens,
            meta: f.meta,
            prompt_hash: None,
            task_version: None,
            max_gen_toks: f.max_gen_toks,
            source: format!("{}:{line}", path.display()),
        };
        sink.push(row, report)?;
        rows += 1;
    }
    report.add_file(path, "lighteval", &run, &task_seen, rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_keys_with_and_without_a_suite() {
        assert_eq!(
            task_of_file_name("details_lighteval|gsm8k|3_2025-01-02T03-04-05.123456.parquet"),
            Some("lighteval|gsm8k|3")
        );
        assert_eq!(
            task_of_file_name("details_gsm8k|3_2026-01-02T03-04-05.123456.parquet"),
            Some("gsm8k|3")
        );
        assert_eq!(task_of_file_name("details_x.parquet"), None);
        assert_eq!(n_shot("lighteval|gsm8k|3"), Some(3));
        assert_eq!(n_shot("mmlu__college_chemistry__5"), Some(5));
    }
}
