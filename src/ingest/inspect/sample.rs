//! One Inspect `EvalSample` -> canonical rows, one per scorer (FORMATS.md
//! sections 4.3 and 9).
//!
//! Only the fields the table uses are declared; every one defaults, since
//! Inspect omits fields that are None. Per sample (one epoch of one dataset
//! sample):
//! - response: `output.completion`, else the text parts of the first
//!   choice's message (reasoning parts excluded, as Inspect does);
//! - finish reason: `output.choices[0].stop_reason`, verbatim (`stop`,
//!   `max_tokens`, `model_length`, ...; the detectors read `max_tokens` and
//!   `model_length` as the limit);
//! - response tokens: `output.usage.output_tokens`;
//! - generation limit: `max_tokens` of the sample's last model call, else
//!   the eval's generate config;
//! - one row per scorer (`filter` = the scorer's name) with `Score.answer`
//!   as the extracted answer; a dict value gives one row per key
//!   (`<scorer>/<key>`); a list value scores as the mean of its elements.
//!
//! Score values: numbers as they are; `C` = 1, `P` = 0.5, `I` and `N` = 0;
//! `yes`/`true` = 1, `no`/`false` = 0 (any case); numeric strings parsed;
//! booleans. `NaN`, `Infinity`, a missing score and a `None` dict entry are
//! *unscored*: the row is kept with score NaN and `correct` false, and never
//! scores its task (see `slices::dataset`). Anything else, or a number
//! outside [0, 1], is an error naming the field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The sample fields read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Sample {
    pub id: Value,
    pub epoch: Option<i64>,
    pub input: Value,
    pub choices: Option<Vec<String>>,
    pub target: Value,
    pub output: Option<Output>,
    pub scores: Option<BTreeMap<String, Option<Score>>>,
    pub metadata: Option<Value>,
    pub invalidation: Option<Value>,
    pub error: Option<Value>,
    pub attachments: Option<BTreeMap<String, String>>,
    pub events: Option<Vec<Event>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Output {
    pub choices: Option<Vec<Choice>>,
    pub completion: Option<String>,
    pub usage: Option<Usage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Choice {
    pub message: Option<Message>,
    pub stop_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Message {
    pub role: Option<String>,
    pub content: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub output_tokens: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Score {
    pub value: Value,
    pub answer: Option<String>,
}

/// A transcript event; only model calls' generate config is read (kept as
/// loose values: other event types use these names for other shapes).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Event {
    pub event: Option<Value>,
    pub config: Option<Value>,
}

/// One scorer's verdict on a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// `scorer` or `scorer/key`.
    pub filter: String,
    /// `None` = unscored.
    pub score: Option<f64>,
    pub answer: Option<String>,
}

/// The score of one value, or why it cannot be read.
pub fn value_score(v: &Value) -> Result<Option<f64>, String> {
    let checked = |x: f64| -> Result<Option<f64>, String> {
        if !x.is_finite() {
            Ok(None)
        } else if (0.0..=1.0).contains(&x) {
            Ok(Some(x))
        } else {
            Err(format!(
                "score {x} is outside [0, 1]; caploop reads Inspect scores as C/I/P/N, yes/no, true/false or numbers in [0, 1]"
            ))
        }
    };
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(if *b { 1.0 } else { 0.0 })),
        Value::Number(n) => checked(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => match s.as_str() {
            "C" => Ok(Some(1.0)),
            "P" => Ok(Some(0.5)),
            "I" | "N" => Ok(Some(0.0)),
            _ => {
                let l = s.trim().to_ascii_lowercase();
                match l.as_str() {
                    "yes" | "true" => Ok(Some(1.0)),
                    "no" | "false" => Ok(Some(0.0)),
                    "nan" | "inf" | "infinity" | "-inf" | "-infinity" => Ok(None),
                    _ => match l.parse::<f64>() {
                        Ok(x) => checked(x),
                        Err(_) => Err(format!(
                            "score value {s:?} is not C/I/P/N, yes/no, true/false or a number"
                        )),
                    },
                }
            }
        },
        Value::Array(items) => {
            let mut sum = 0.0;
            let mut n = 0u32;
            for (i, it) in items.iter().enumerate() {
                if matches!(it, Value::Array(_) | Value::Object(_)) {
                    return Err(format!("element {i} of a list score is not a scalar"));
                }
                if let Some(x) = value_score(it).map_err(|e| format!("element {i}: {e}"))? {
                    sum += x;
                    n += 1;
                }
            }
            Ok((n > 0).then(|| sum / f64::from(n)))
        }
        Value::Object(_) => Err("a dict score must be expanded per key".to_string()),
    }
}

/// Every scorer's verdict, in scorer-name order (dict keys in key order).
pub fn scored(scores: &BTreeMap<String, Option<Score>>) -> Result<Vec<Scored>, (String, String)> {
    let mut out = Vec::new();
    for (name, s) in scores {
        let field = format!("scores.{name}.value");
        let Some(s) = s else {
            out.push(Scored {
                filter: name.clone(),
                score: None,
                answer: None,
            });
            continue;
        };
        match &s.value {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    let score = value_score(&m[k]).map_err(|e| (format!("{field}.{k}"), e))?;
                    out.push(Scored {
                        filter: format!("{name}/{k}"),
                        score,
                        answer: s.answer.clone(),
                    });
                }
            }
            v => out.push(Scored {
                filter: name.clone(),
                score: value_score(v).map_err(|e| (field.clone(), e))?,
                answer: s.answer.clone(),
            }),
        }
    }
    Ok(out)
}

/// Text of a message content: a string, or the `text` parts of a list
/// joined by newlines (Inspect's `ChatMessage.text`).
pub fn content_text(c: &Value) -> Option<String> {
    match c {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect();
            Some(texts.join("\n"))
        }
        _ => None,
    }
}

/// The input as text: a string, or every message's text, one per paragraph.
pub fn input_text(input: &Value) -> Option<String> {
    match input {
        Value::String(s) => Some(s.clone()),
        Value::Array(msgs) => {
            let texts: Vec<String> = msgs
                .iter()
                .filter_map(|m| m.get("content").and_then(content_text))
                .filter(|t| !t.is_empty())
                .collect();
            Some(texts.join("\n\n"))
        }
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The target as text: a string, or a list's elements joined by ` | `
/// (any of them is accepted by Inspect's scorers).
pub fn target_text(t: &Value) -> Option<String> {
    match t {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => Some(
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(" | "),
        ),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The sample id as text (an integer or a string).
pub fn id_text(id: &Value) -> Result<String, String> {
    match id {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() => Ok(s.clone()),
        _ => Err("expected an integer or a non-empty string".to_string()),
    }
}

/// A non-negative integer that fits `u32` (token counts, limits).
pub fn count(v: &Value) -> Option<u32> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .map(|x| x as u64)
        })
        .and_then(|x| u32::try_from(x).ok())
}

/// `attachment://<hash>` resolved from the sample's attachments.
pub fn resolve(text: String, attachments: Option<&BTreeMap<String, String>>) -> String {
    match (text.strip_prefix("attachment://"), attachments) {
        (Some(hash), Some(a)) => a.get(hash).cloned().unwrap_or(text),
        _ => text,
    }
}

impl Sample {
    /// The response: `output.completion`, else the first choice's text.
    pub fn response(&self) -> Option<String> {
        let out = self.output.as_ref()?;
        let text = match &out.completion {
            Some(c) => Some(c.clone()),
            None => out
                .choices
                .as_ref()
                .and_then(|c| c.first())
                .and_then(|c| c.message.as_ref())
                .and_then(|m| content_text(&m.content)),
        }?;
        Some(resolve(text, self.attachments.as_ref()))
    }

    pub fn stop_reason(&self) -> Option<String> {
        self.output
            .as_ref()?
            .choices
            .as_ref()?
            .first()?
            .stop_reason
            .clone()
    }

    pub fn output_tokens(&self) -> Option<u32> {
        self.output
            .as_ref()?
            .usage
            .as_ref()?
            .output_tokens
            .as_ref()
            .and_then(count)
    }

    /// `max_tokens` of the last model call in the transcript.
    pub fn call_max_tokens(&self) -> Option<u32> {
        self.events
            .as_ref()?
            .iter()
            .rev()
            .filter(|e| e.event.as_ref().and_then(Value::as_str) == Some("model"))
            .find_map(|e| e.config.as_ref()?.get("max_tokens").and_then(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_score_encoding() {
        let cases = [
            (json!("C"), Some(1.0)),
            (json!("P"), Some(0.5)),
            (json!("I"), Some(0.0)),
            (json!("N"), Some(0.0)),
            (json!("Yes"), Some(1.0)),
            (json!("no"), Some(0.0)),
            (json!("TRUE"), Some(1.0)),
            (json!("0.25"), Some(0.25)),
            (json!(true), Some(1.0)),
            (json!(false), Some(0.0)),
            (json!(1), Some(1.0)),
            (json!(0.75), Some(0.75)),
            (json!(null), None),
            (json!("NaN"), None),
            (json!([1, 0, "C", "I"]), Some(0.5)),
            (json!([null, null]), None),
            (json!([]), None),
        ];
        for (v, want) in cases {
            assert_eq!(value_score(&v).unwrap(), want, "{v}");
        }
        assert!(value_score(&json!(7)).unwrap_err().contains("outside [0, 1]"));
        assert!(value_score(&json!("maybe")).unwrap_err().contains("\"maybe\""));
        assert!(value_score(&json!([[1]])).is_err());
    }

    #[test]
    fn dict_scores_give_one_verdict_per_key_in_key_order() {
        let scores: BTreeMap<String, Option<Score>> = serde_json::from_value(json!({
            "multi": {"value": {"b": "C", "a": null}, "answer": "x"},
            "match": {"value": "I", "answer": "y"},
        }))
        .unwrap();
        let got = scored(&scores).unwrap();
        let filters: Vec<&str> = got.iter().map(|s| s.filter.as_str()).collect();
        assert_eq!(filters, ["match", "multi/a", "multi/b"]);
        assert_eq!(got[1].score, None);
        assert_eq!(got[2].score, Some(1.0));
        let bad: BTreeMap<String, Option<Score>> =
            serde_json::from_value(json!({"s": {"value": {"k": 3}}})).unwrap();
        assert_eq!(scored(&bad).unwrap_err().0, "scores.s.value.k");
    }

    #[test]
    fn content_parts_keep_text_and_drop_reasoning() {
        let c = json!([
            {"type": "reasoning", "reasoning": "hmm"},
            {"type": "text", "text": "A"},
            {"type": "text", "text": "B"}
        ]);
        assert_eq!(content_text(&c).as_deref(), Some("A\nB"));
        let input = json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "2+2?"}]}
        ]);
        assert_eq!(input_text(&input).as_deref(), Some("Be brief.\n\n2+2?"));
        assert_eq!(target_text(&json!(["4", "four"])).as_deref(), Some("4 | four"));
    }
}
