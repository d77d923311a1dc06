//! OpenCompass prediction files (`predictions/<model>/<dataset>_<k>.json`):
//! one entry per sample, keyed by its position.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{read_text, Error, Result};
use crate::ingest::pyjson;

pub(super) fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn opt_text(v: Option<&Value>) -> Option<String> {
    v.filter(|v| !v.is_null()).map(text_of)
}

/// One prediction record.
pub(super) struct Pred {
    pub(super) line: usize,
    pub(super) path: PathBuf,
    pub(super) prompt: Option<String>,
    pub(super) prediction: Option<String>,
    pub(super) gold: Option<Value>,
    pub(super) res_length: Option<u32>,
    /// Likelihood record: `label: X` blocks.
    pub(super) ppl: bool,
    pub(super) meta: serde_json::Map<String, Value>,
}

fn as_u32(v: &Value) -> Option<u32> {
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

fn pred_of(path: &Path, line: usize, v: Value) -> Result<Pred> {
    let Value::Object(mut m) = v else {
        return Err(Error::input(
            path,
            line,
            None,
            "expected a prediction object ({origin_prompt, prediction, ...})",
        ));
    };
    let prompt = m
        .remove("origin_prompt")
        .filter(|v| !v.is_null())
        .map(|v| text_of(&v));
    let prediction = m.remove("prediction");
    let prediction = match prediction {
        Some(Value::Array(a)) => Some(a.first().map(text_of).unwrap_or_default()),
        Some(v) => opt_text(Some(&v)),
        None => None,
    };
    let gold = m.remove("gold");
    let res_length = match m.remove("res_length") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => a.first().and_then(as_u32),
        Some(v) => Some(as_u32(&v).ok_or_else(|| {
            Error::input(
                path,
                line,
                Some("res_length"),
                format!("expected a token count, found {v}"),
            )
        })?),
    };
    let ppl = m.keys().any(|k| k.starts_with("label:"));
    m.remove("in-context examples");
    m.retain(|k, _| !k.starts_with("label:"));
    Ok(Pred {
        line,
        path: path.to_path_buf(),
        prompt,
        prediction,
        gold,
        res_length,
        ppl,
        meta: m,
    })
}

/// Every record of one predictions file, in index order.
pub(super) fn read_predictions(path: &Path) -> Result<Vec<(u64, Pred)>> {
    let text = read_text(path)?;
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "jsonl") {
        for (i, l) in text.lines().enumerate() {
            if l.trim().is_empty() {
                continue;
            }
            let mut v = pyjson::parse(l)
                .map_err(|e| Error::input(path, i + 1, None, format!("invalid JSON: {e}")))?;
            let idx = v
                .as_object_mut()
                .and_then(|m| m.remove("idx"))
                .and_then(|x| x.as_u64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
                .ok_or_else(|| Error::input(path, i + 1, Some("idx"), "missing or not an index"))?;
            out.push((idx, pred_of(path, i + 1, v)?));
        }
    } else {
        let clean = pyjson::sanitize(&text);
        let members = pyjson::ordered_members(&clean).map_err(|e| {
            Error::input(
                path,
                e.line(),
                None,
                format!("expected a JSON object keyed by index: {e}"),
            )
        })?;
        for (k, line, raw) in members {
            let idx: u64 = k
                .parse()
                .map_err(|_| Error::input(path, line, None, format!("key '{k}' is not an index")))?;
            let v: Value = serde_json::from_str(raw.get())
                .map_err(|e| Error::input(path, line, Some(&k), e.to_string()))?;
            out.push((idx, pred_of(path, line, v)?));
        }
    }
    out.sort_by_key(|(i, _)| *i);
    Ok(out)
}
