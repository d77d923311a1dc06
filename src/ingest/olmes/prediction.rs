//! One OLMES prediction line into rows: the hashes checked against the
//! metrics file, the request joined, the repeats scored.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::super::opencompass::UNSCORED;
use super::{str_of, text_of, u32_of, Ctx, Request, Task, PRIMARY_FALLBACK};
use crate::error::{Error, Result};
use crate::table::SampleRow;

pub(super) struct ParsedDoc {
    pub(super) rows: Vec<SampleRow>,
    pub(super) metric: String,
    pub(super) guessed_metric: bool,
    pub(super) repeat_check_failed: bool,
}

pub(super) fn metric_score(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

/// Refuse a prediction whose task or model hash differs from the metrics
/// file's or from the first line's.
pub(super) fn check_hashes(
    path: &Path,
    n: usize,
    v: &Value,
    ctx: &Ctx<'_>,
    t: &Task,
    first_hash: &mut Option<(String, String, usize)>,
) -> Result<()> {
    let th = str_of(v.get("task_hash"));
    let mh = str_of(v.get("model_hash"));
    for (field, got, want) in [
        ("task_hash", &th, &ctx.cfg.task_hash),
        ("model_hash", &mh, &ctx.cfg.model_hash),
    ] {
        if let (Some(g), Some(w)) = (got, want) {
            if g != w {
                return Err(Error::input(
                    path,
                    n,
                    Some(field),
                    format!(
                        "is {g}, but {} has {w}: the two files come from different runs (a rerun into the same folder?); join refused",
                        t.metrics.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    if let (Some(a), Some(b)) = (&th, &mh) {
        match first_hash {
            None => *first_hash = Some((a.clone(), b.clone(), n)),
            Some((fa, fb, fl)) if fa != a || fb != b => {
                return Err(Error::input(
                    path,
                    n,
                    Some(if fa != a { "task_hash" } else { "model_hash" }),
                    format!("differs from line {fl} of the same file: its lines come from different runs"),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

pub(super) fn parse_prediction(
    path: &Path,
    n: usize,
    v: Value,
    ctx: &Ctx<'_>,
    requests: Option<&HashMap<i64, Request>>,
    t: &Task,
) -> Result<ParsedDoc> {
    let err = |field: &str, msg: String| Error::input(path, n, Some(field), msg);
    let Value::Object(m) = v else {
        return Err(Error::input(path, n, None, "expected a JSON object"));
    };
    let doc_id = m
        .get("doc_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| err("doc_id", "missing or not an integer".into()))?;
    let native_id = str_of(m.get("native_id"))
        .ok_or_else(|| err("native_id", "missing (the item key of OLMES predictions)".into()))?;
    let metrics = match m.get("metrics") {
        Some(Value::Object(x)) => x.clone(),
        _ => return Err(err("metrics", "missing or not an object".into())),
    };
    let outputs = match m.get("model_output") {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err(err("model_output", "missing or not a list".into())),
    };
    let label = m.get("label").cloned().unwrap_or(Value::Null);
    let req = match requests {
        Some(r) => {
            let q = r.get(&doc_id);
            if let Some(q) = q {
                if q.native_id.as_deref().is_some_and(|x| x != native_id) {
                    return Err(err(
                        "native_id",
                        format!(
                            "is {native_id}, but the request of doc_id {doc_id} ({}:{}) has {}: predictions and requests do not match",
                            t.requests.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
                            q.line,
                            q.native_id.as_deref().unwrap_or("")
                        ),
                    ));
                }
            }
            q
        }
        None => None,
    };
    // The primary metric.
    let (metric, guessed) = match &ctx.cfg.primary_metric {
        Some(p) => (p.clone(), false),
        None => (
            PRIMARY_FALLBACK
                .iter()
                .find(|k| metrics.get(**k).is_some_and(|v| metric_score(v).is_some()))
                .map(|s| s.to_string())
                .ok_or_else(|| {
                    err(
                        "metrics",
                        format!("none of {} present", PRIMARY_FALLBACK.join(", ")),
                    )
                })?,
            true,
        ),
    };
    let primary = match metrics.get(&metric) {
        None | Some(Value::Null) => None,
        Some(v) => {
            Some(metric_score(v).ok_or_else(|| err("metrics", format!("'{metric}' is not a number: {v}")))?)
        }
    };
    if let Some(s) = primary {
        if !(0.0..=1.0).contains(&s) {
            return Err(err("metrics", format!("'{metric}' = {s} is outside [0, 1]")));
        }
    }
    let prompt = req.and_then(|q| q.prompt.clone());
    let meta = req.map_or_else(|| "{}".to_string(), |q| q.doc.clone());
    let max_gen = ctx.cfg.max_gen_toks.or_else(|| req.and_then(|q| q.max_gen_toks));
    let generative = outputs.iter().any(|o| o.get("continuation").is_some());
    let target = match &label {
        Value::Null => None,
        Value::Array(a) => a.first().map(text_of),
        other => Some(text_of(other)),
    };
    let base = SampleRow {
        run: ctx.run.clone(),
        benchmark: ctx.benchmark.clone(),
        task: ctx.task.to_string(),
        filter: None,
        primary_filter: true,
        item_id: native_id,
        sample_idx: 0,
        prompt,
        target,
        response: None,
        extracted: None,
        score: 0.0,
        correct: false,
        finish_reason: None,
        response_tokens: None,
        response_chars: 0,
        meta,
        prompt_hash: None,
        task_version: ctx.cfg.version.clone(),
        n_shot: ctx.cfg.num_shots,
        max_gen_toks: None,
        source: format!("{}:{n}", path.display()),
    };
    let finish = |row: &mut SampleRow, score: Option<f64>| {
        match score {
            Some(s) => {
                row.score = s;
                row.correct = s >= ctx.pass_threshold;
            }
            None => {
                row.filter = Some(UNSCORED.to_string());
                row.primary_filter = false;
            }
        }
        row.response_chars = row.response.as_deref().map_or(0, |r| r.chars().count()) as u32;
    };
    let mut rows = Vec::new();
    let mut repeat_check_failed = false;
    if !generative {
        // Multiple choice: one row, the chosen option.
        let variant = metric
            .strip_prefix("acc_")
            .map(|v| format!("predicted_index_{v}"));
        let chosen = variant
            .as_deref()
            .and_then(|k| metrics.get(k))
            .and_then(Value::as_i64)
            .or_else(|| metrics.get("predicted_index_raw").and_then(Value::as_i64))
            .or_else(|| {
                outputs
                    .iter()
                    .enumerate()
                    .filter_map(|(i, o)| o.get("sum_logits").and_then(Value::as_f64).map(|s| (i, s)))
                    .max_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(i, _)| i as i64)
            });
        let mut row = base;
        row.response = chosen.map(|c| c.to_string());
        row.extracted = row.response.clone();
        finish(&mut row, primary);
        rows.push(row);
    } else {
        let exact = matches!(metric.as_str(), "exact_match" | "exact_match_simple") && !ctx.cfg.normalising;
        let answer = |o: &Value| o.get("model_answer").map(text_of);
        let label_text = match &label {
            Value::String(s) => Some(s.clone()),
            _ => None,
        };
        // Does `model_answer == label` reproduce the logged repeat-0 metric?
        let reproduces = exact
            && label_text.is_some()
            && primary.is_some()
            && outputs
                .first()
                .and_then(answer)
                .map(|a| Some(&a) == label_text.as_ref())
                == primary.map(|p| p >= 1.0);
        if exact && outputs.len() > 1 && primary.is_some() && !reproduces {
            repeat_check_failed = true;
        }
        for (i, o) in outputs.iter().enumerate() {
            let mut row = base.clone();
            row.sample_idx = i as u32;
            row.response = o.get("continuation").map(text_of);
            row.extracted = answer(o);
            row.response_tokens = u32_of(o.get("num_tokens"));
            row.max_gen_toks = max_gen;
            row.finish_reason = o
                .get("llm_response")
                .and_then(|r| r.get("choices"))
                .and_then(|c| c.get(0))
                .and_then(|c| str_of(c.get("finish_reason")))
                .or_else(|| {
                    if i == 0 {
                        metrics
                            .get("max_tokens_reached")
                            .and_then(Value::as_bool)
                            .map(|b| if b { "length" } else { "stop" }.to_string())
                    } else {
                        None
                    }
                });
            let score = match o.get("passed").and_then(metric_score) {
                Some(p) => Some(p),
                None if i == 0 => primary,
                None if reproduces => Some(f64::from(u8::from(answer(o) == label_text))),
                None => None,
            };
            finish(&mut row, score);
            rows.push(row);
        }
    }
    Ok(ParsedDoc {
        rows,
        metric,
        guessed_metric: guessed,
        repeat_check_failed,
    })
}
