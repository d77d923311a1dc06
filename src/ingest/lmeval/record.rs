//! One lm-evaluation-harness sample record -> one canonical row.
//!
//! A record is one (doc, filter) pair (FORMATS.md section 1.2). Generative
//! tasks give the raw response (`resps[0][0]`) and the filtered answer
//! (`filtered_resps[0]`, kept verbatim, `[invalid]` included); loglikelihood
//! tasks give the chosen option (the argmax of the per-choice log-likelihoods)
//! as both response and extracted answer. With `repeats: N` the harness keeps
//! N responses but one aggregated metric per (doc, filter), so the row keeps
//! the first response and the metric as its score: per-repeat correctness is
//! not in the log and is not invented here.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use serde_json::value::RawValue;
use serde_json::Value;

use crate::table::SampleRow;

/// Metric keys tried, in order, for the row's primary score.
const METRIC_PRIORITY: &[&str] = &[
    "exact_match",
    "acc",
    "pass@1",
    "pass_at_1",
    "prompt_level_strict_acc",
    "math_verify",
    "acc_norm",
    "em",
    "f1",
];

/// Keys of a record that are not metrics.
const NOT_METRICS: &[&str] = &[
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
    "task_name",
    // v0.4.12 results fields and v0.5 per-repeat scores: not metrics.
    "name",
    "alias",
    "sample_len",
    "sample_count",
    "scores_per_repeat",
];

/// The top-level fields of a record, unparsed, in file order. A record has a
/// dozen keys, so a linear scan beats a tree or a hash map (measured: the
/// `BTreeMap` this replaced spent a tenth of ingest in key comparisons).
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'a> Fields<'a> {
    fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Fields<'a>, M::Error> {
                let mut v = Vec::with_capacity(16);
                while let Some((k, raw)) = m.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    v.push((k, raw));
                }
                Ok(Fields(v))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// What a record parse knows about its task.
pub struct RecordContext<'a> {
    pub run: &'a str,
    pub benchmark: &'a str,
    pub task: &'a str,
    pub task_version: Option<&'a str>,
    pub n_shot: Option<u32>,
    pub max_gen_toks: Option<u32>,
    pub pass_threshold: f64,
    /// The run strips reasoning up to this marker (`think_end_token`).
    pub think_end: Option<&'a str>,
    /// A response `"None"` is a missing API answer (pre-v0.4.12 API runs).
    pub api_none_answers: bool,
}

/// Why a record could not be read: the field and what was wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub field: Option<&'static str>,
    pub message: String,
}

fn err(field: &'static str, message: impl Into<String>) -> RecordError {
    RecordError {
        field: Some(field),
        message: message.into(),
    }
}

fn parse_raw(raw: &RawValue, field: &'static str) -> Result<Value, RecordError> {
    serde_json::from_str(raw.get()).map_err(|e| err(field, e.to_string()))
}

fn leaf_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The doc id, an integer or (in some forks) a string.
pub(super) fn doc_id_text(v: &Value) -> Result<String, RecordError> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err(err("doc_id", "expected an integer or a non-empty string")),
    }
}

/// The prompt: `arguments.gen_args_0.arg_0` (v0.4.3+) or `arguments[0][0]` (older).
fn prompt_of(arguments: &Value) -> Option<String> {
    let first = match arguments {
        Value::Object(m) => m.get("gen_args_0").or_else(|| m.values().next())?,
        Value::Array(a) => a.first()?,
        _ => return None,
    };
    let ctx = match first {
        Value::Object(m) => m.get("arg_0")?,
        Value::Array(a) => a.first()?,
        other => other,
    };
    Some(leaf_text(ctx))
}

/// For loglikelihood records: `resps[i]` is `[[logprob, is_greedy]]` per choice.
fn chosen_option(resps: &[Value]) -> Result<Option<usize>, RecordError> {
    let mut best: Option<(usize, f64)> = None;
    for (i, r) in resps.iter().enumerate() {
        let pair = match r {
            Value::Array(a) => match a.first() {
                Some(Value::Array(inner)) => inner.first(),
                Some(x) => Some(x),
                None => None,
            },
            _ => None,
        };
        let Some(lp) = pair else {
            return Err(err(
                "resps",
                format!("choice {i}: expected [[logprob, is_greedy]]"),
            ));
        };
        let lp: f64 = match lp {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) => s.trim().parse().map_err(|_| {
                err(
                    "resps",
                    format!("choice {i}: log-likelihood '{s}' is not a number"),
                )
            })?,
            _ => {
                return Err(err(
                    "resps",
                    format!("choice {i}: log-likelihood is not a number"),
                ))
            }
        };
        if best.is_none_or(|(_, b)| lp > b) {
            best = Some((i, lp));
        }
    }
    Ok(best.map(|(i, _)| i))
}

fn metric_value(name: &str, v: &Value) -> Result<f64, RecordError> {
    match v {
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64().ok_or_else(|| RecordError {
            field: None,
            message: format!("metric '{name}' is not a finite number"),
        }),
        _ => Err(RecordError {
            field: None,
            message: format!("metric '{name}' is not a number or a boolean (found {v})"),
        }),
    }
}

fn score_of(map: &Fields<'_>) -> Result<f64, RecordError> {
    let listed: Option<Vec<String>> = match map.get("metrics") {
        Some(raw) => Some(serde_json::from_str(raw.get()).map_err(|e| err("metrics", e.to_string()))?),
        None => None,
    };
    let candidates: Vec<&str> = match &listed {
        Some(l) => l.iter().map(String::as_str).collect(),
        None => map.keys().filter(|k| !NOT_METRICS.contains(k)).collect(),
    };
    let name = METRIC_PRIORITY
        .iter()
        .copied()
        .find(|m| candidates.contains(m) && map.contains_key(m))
        .or_else(|| {
            candidates.iter().copied().find(|m| {
                map.get(m).is_some_and(|raw| {
                    matches!(
                        raw.get().as_bytes().first(),
                        Some(b'0'..=b'9' | b'-' | b't' | b'f')
                    )
                })
            })
        })
        .ok_or_else(|| RecordError {
            field: Some("metrics"),
            message: format!(
                "no numeric metric found (looked for {}{})",
                METRIC_PRIORITY.join(", "),
                if candidates.is_empty() {
                    String::new()
                } else {
                    format!(" and the record's own: {}", candidates.join(", "))
                }
            ),
        })?;
    let raw = map
        .get(name)
        .ok_or_else(|| err("metrics", format!("metric '{name}' is listed but absent")))?;
    let v: Value = serde_json::from_str(raw.get()).map_err(|e| RecordError {
        field: None,
        message: format!("metric '{name}': {e}"),
    })?;
    let s = metric_value(name, &v)?;
    if !(0.0..=1.0).contains(&s) {
        return Err(RecordError {
            field: None,
            message: format!("metric '{name}' = {s} is outside [0, 1]"),
        });
    }
    Ok(s)
}

/// A parsed record: its row and the harness's doc id.
pub struct Parsed {
    pub row: SampleRow,
    pub doc_id: String,
    /// The item key came from `doc_hash` (not from task + doc id).
    pub hashed: bool,
    /// The response still holds the opening reasoning marker: the closing
    /// marker never came (the limit cut the reasoning).
    pub thinking_unfinished: bool,
    /// A missing API answer read as an empty response.
    pub missing_answer: bool,
}

/// The opening marker of a closing one: `</think>` -> `<think>`.
fn opening_marker(end: &str) -> Option<String> {
    end.strip_prefix("</").map(|rest| format!("<{rest}"))
}

/// Parse one record (one JSON object) into a row. `source` is `file:line`.
pub fn parse_record(text: &str, ctx: &RecordContext<'_>, source: String) -> Result<Parsed, RecordError> {
    let map: Fields<'_> = serde_json::from_str(text).map_err(|e| RecordError {
        field: None,
        message: format!("not a JSON object: {e}"),
    })?;
    let get = |k: &'static str| map.get(k).ok_or_else(|| err(k, "missing"));
    let doc_id = doc_id_text(&parse_raw(get("doc_id")?, "doc_id")?)?;
    let doc = get("doc")?;
    if !doc.get().trim_start().starts_with('{') {
        return Err(err("doc", "expected a JSON object"));
    }
    let resps = match parse_raw(get("resps")?, "resps")? {
        Value::Array(a) => a,
        _ => return Err(err("resps", "expected a list")),
    };
    let filtered = match map.get("filtered_resps") {
        Some(raw) => parse_raw(raw, "filtered_resps")?,
        None => Value::Null,
    };
    let target = match map.get("target") {
        Some(raw) => match parse_raw(raw, "target")? {
            Value::Null => None,
            v => Some(leaf_text(&v)),
        },
        None => None,
    };
    let prompt = match map.get("arguments") {
        Some(raw) => prompt_of(&parse_raw(raw, "arguments")?),
        None => None,
    };
    let filter = match map.get("filter") {
        Some(raw) => match parse_raw(raw, "filter")? {
            Value::String(s) => Some(s),
            Value::Null => None,
            _ => return Err(err("filter", "expected a string")),
        },
        None => None,
    };
    let hash = |k: &'static str| -> Result<Option<String>, RecordError> {
        match map.get(k) {
            Some(raw) => match parse_raw(raw, k)? {
                Value::String(s) => Ok(Some(s)),
                Value::Null => Ok(None),
                _ => Err(err(k, "expected a string")),
            },
            None => Ok(None),
        }
    };
    let doc_hash = hash("doc_hash")?;
    let prompt_hash = hash("prompt_hash")?;
    let score = score_of(&map)?;

    // Loglikelihood records have [logprob, is_greedy] pairs as leaves.
    let first = resps.first().and_then(|r| r.as_array()).and_then(|r| r.first());
    let (response, extracted) = match first {
        Some(Value::Array(_)) => {
            let chosen = chosen_option(&resps)?.map(|i| i.to_string());
            (chosen.clone(), chosen)
        }
        Some(v) => {
            let extracted = match &filtered {
                Value::Array(a) => a.first().map(|f| match f {
                    Value::Array(inner) => inner.first().map(leaf_text).unwrap_or_default(),
                    other => leaf_text(other),
                }),
                Value::Null => None,
                other => Some(leaf_text(other)),
            };
            // A null answer (an API model that returned no content) is an
            // empty response, as lm-eval v0.4.12 logs it.
            let text = if v.is_null() { String::new() } else { leaf_text(v) };
            (Some(text), extracted)
        }
        None => (None, None),
    };
    let generative = matches!(first, Some(v) if !v.is_array());
    let missing_answer = generative
        && (first.is_some_and(Value::is_null)
            || (ctx.api_none_answers && response.as_deref() == Some("None")));
    let response = if missing_answer {
        Some(String::new())
    } else {
        response
    };
    let thinking_unfinished = generative
        && ctx
            .think_end
            .and_then(opening_marker)
            .is_some_and(|open| response.as_deref().is_some_and(|r| r.contains(&open)));
    let response_chars = response.as_deref().map_or(0, |r| r.chars().count()) as u32;
    let hashed = doc_hash.is_some();
    let row = SampleRow {
        run: ctx.run.to_string(),
        benchmark: ctx.benchmark.to_string(),
        task: ctx.task.to_string(),
        filter,
        primary_filter: false,
        item_id: doc_hash.unwrap_or_else(|| format!("{}:{doc_id}", ctx.task)),
        sample_idx: 0,
        prompt,
        target,
        response,
        extracted,
        score,
        correct: score >= ctx.pass_threshold,
        // The harness keeps the whole text when the closing reasoning marker
        // is missing: the generation limit cut the reasoning.
        finish_reason: thinking_unfinished.then(|| "length".to_string()),
        response_tokens: None,
        response_chars,
        meta: doc.get().to_string(),
        prompt_hash,
        task_version: ctx.task_version.map(str::to_string),
        n_shot: ctx.n_shot,
        max_gen_toks: ctx.max_gen_toks,
        source,
    };
    Ok(Parsed {
        row,
        doc_id,
        hashed,
        thinking_unfinished,
        missing_answer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RecordContext<'static> {
        RecordContext {
            run: "m",
            benchmark: "gsm8k",
            task: "gsm8k",
            task_version: Some("3"),
            n_shot: Some(5),
            max_gen_toks: Some(256),
            pass_threshold: 1.0,
            think_end: None,
            api_none_answers: false,
        }
    }

    #[test]
    fn stripped_reasoning_missing_answers_and_results_fields() {
        let mut c = ctx();
        c.think_end = Some("</think>");
        c.api_none_answers = true;
        // The marker never came: the harness kept the whole text.
        let cut = r#"{"doc_id": 1, "doc": {}, "resps": [["<think>Let me count 1, 2, 3"]], "filtered_resps": ["[invalid]"], "exact_match": 0.0}"#;
        let p = parse_record(cut, &c, "f:1".into()).unwrap();
        assert!(p.thinking_unfinished);
        assert_eq!(p.row.finish_reason.as_deref(), Some("length"));
        // Stripped as the harness does: the answer only, nothing inferred.
        let ok = r#"{"doc_id": 2, "doc": {}, "resps": [["The answer is 7"]], "filtered_resps": ["7"], "exact_match": 1.0}"#;
        let p = parse_record(ok, &c, "f:2".into()).unwrap();
        assert!(!p.thinking_unfinished);
        assert_eq!(p.row.finish_reason, None);
        // Missing API answers: null, and "None" before v0.4.12.
        for (line, resp) in [
            (
                r#"{"doc_id": 3, "doc": {}, "resps": [[null]], "filtered_resps": ["[invalid]"], "exact_match": 0.0}"#,
                "null",
            ),
            (
                r#"{"doc_id": 4, "doc": {}, "resps": [["None"]], "filtered_resps": ["[invalid]"], "exact_match": 0.0}"#,
                "None",
            ),
            (
                r#"{"doc_id": 5, "doc": {}, "resps": [[""]], "filtered_resps": [""], "exact_match": 0.0}"#,
                "empty",
            ),
        ] {
            let p = parse_record(line, &c, "f:3".into()).unwrap();
            assert_eq!(p.row.response.as_deref(), Some(""), "{resp}");
            assert_eq!(p.row.response_chars, 0);
        }
        c.api_none_answers = false;
        let p = parse_record(
            r#"{"doc_id": 4, "doc": {}, "resps": [["None"]], "exact_match": 0.0}"#,
            &c,
            "f:4".into(),
        )
        .unwrap();
        assert_eq!(
            p.row.response.as_deref(),
            Some("None"),
            "a local model may answer None"
        );
        // Without a metrics list, v0.4.12 fields are not taken for metrics.
        let line = r#"{"doc_id": 6, "doc": {}, "resps": [["x"]], "name": "gsm8k", "sample_len": 10, "sample_count": 10, "alias": "g", "f1": 0.5}"#;
        let p = parse_record(line, &c, "f:6".into()).unwrap();
        assert_eq!(p.row.score, 0.5);
    }

    #[test]
    fn generative_record_keeps_raw_and_filtered_answers() {
        let line = r#"{"doc_id": 3, "doc": {"question": "q"}, "target": "7", "arguments": {"gen_args_0": {"arg_0": "Q: q\nA:", "arg_1": {"until": ["Q:"]}}}, "resps": [["It is 7. #### 7"]], "filtered_resps": ["7"], "filter": "strict-match", "metrics": ["exact_match"], "doc_hash": "abc", "prompt_hash": "p", "exact_match": 1.0}"#;
        let r = parse_record(line, &ctx(), "f:1".into()).unwrap().row;
        assert_eq!(r.item_id, "abc");
        assert_eq!(r.response.as_deref(), Some("It is 7. #### 7"));
        assert_eq!(r.extracted.as_deref(), Some("7"));
        assert_eq!(r.prompt.as_deref(), Some("Q: q\nA:"));
        assert_eq!(r.filter.as_deref(), Some("strict-match"));
        assert_eq!(r.meta, r#"{"question": "q"}"#);
        assert!(r.correct);
        assert_eq!(r.response_chars, 15);
    }

    #[test]
    fn loglikelihood_record_chooses_the_argmax_option() {
        let line = r#"{"doc_id": 0, "doc": {}, "target": "2", "arguments": {"gen_args_0": {"arg_0": "c", "arg_1": " a"}}, "resps": [[["-3.0", "False"]], [["-1.5", "False"]], [["-0.5", "True"]]], "filtered_resps": [["-3.0", "False"], ["-1.5", "False"], ["-0.5", "True"]], "acc": 1.0}"#;
        let r = parse_record(line, &ctx(), "f:1".into()).unwrap().row;
        assert_eq!(r.response.as_deref(), Some("2"));
        assert_eq!(r.item_id, "gsm8k:0");
        assert!(r.correct);
    }

    #[test]
    fn errors_name_the_field() {
        let missing = r#"{"doc": {}, "resps": [], "exact_match": 1}"#;
        let e = parse_record(missing, &ctx(), "f:1".into()).err().unwrap();
        assert_eq!(e.field, Some("doc_id"));
        let bad_metric =
            r#"{"doc_id": 1, "doc": {}, "resps": [["x"]], "metrics": ["exact_match"], "exact_match": "yes"}"#;
        let e = parse_record(bad_metric, &ctx(), "f:1".into()).err().unwrap();
        assert!(e.message.contains("exact_match"), "{}", e.message);
        let out_of_range = r#"{"doc_id": 1, "doc": {}, "resps": [["x"]], "exact_match": 3}"#;
        let e = parse_record(out_of_range, &ctx(), "f:1".into()).err().unwrap();
        assert!(e.message.contains("outside [0, 1]"), "{}", e.message);
    }
}
