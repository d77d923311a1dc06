//! lm-evaluation-harness `results_<date_id>.json`: the run's name and the
//! per-task settings that the sample rows do not carry (task version, n-shot,
//! generation limit, filter order).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// Settings of one task in one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskInfo {
    pub version: Option<String>,
    pub n_shot: Option<u32>,
    pub max_gen_toks: Option<u32>,
    /// Filter names in the order of the task's `filter_list`.
    pub filters: Vec<String>,
    pub output_type: Option<String>,
    /// The group that lists this task as a subtask, if any.
    pub group: Option<String>,
}

/// What caploop takes from one results file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResultsFile {
    pub path: PathBuf,
    /// The `<date_id>` of the file name, shared with its samples files.
    pub date_id: Option<String>,
    /// The model name, used as the run id unless `--run` is given.
    pub model_name: Option<String>,
    pub tasks: BTreeMap<String, TaskInfo>,
    /// `think_end_token` of the model arguments (v0.4.9.1+): the harness
    /// kept only the text after the last such marker in every response.
    pub think_end_token: Option<String>,
    /// The model backend answers through an API (`*-completions`, ...) and
    /// the harness is older than v0.4.12, which logs a missing answer as
    /// `""`; before it a missing answer became the text `"None"`.
    pub api_none_answers: bool,
}

/// `key=value` of a `model_args` string or dict.
fn model_arg(args: &Value, key: &str) -> Option<String> {
    match args {
        Value::String(s) => s.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        }),
        Value::Object(m) => m.get(key).and_then(as_text),
        _ => None,
    }
}

/// `0.4.11` < `0.4.12`; unparsable parts compare as 0.
fn version_lt(v: &str, than: &[u64]) -> bool {
    let parts: Vec<u64> = v
        .split(['.', '+', '-'])
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        })
        .collect();
    parts.as_slice() < than
}

/// The `<date_id>` suffix of an lm-eval file name (`..._2024-12-23T14-45-44.695233.jsonl`).
pub fn date_id(file_name: &str) -> Option<&str> {
    let stem = file_name
        .strip_suffix(".jsonl")
        .or_else(|| file_name.strip_suffix(".json"))?;
    let (_, tail) = stem.rsplit_once('_')?;
    let b = tail.as_bytes();
    let looks_like_date = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[10] == b'T'
        && b[13] == b'-'
        && b[16] == b'-';
    looks_like_date.then_some(tail)
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn model_from_args(args: &Value) -> Option<String> {
    const KEYS: [&str; 4] = ["pretrained", "model", "path", "model_name"];
    match args {
        Value::String(s) => s.split(',').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            KEYS.contains(&k.trim()).then(|| v.trim().to_string())
        }),
        Value::Object(m) => KEYS.iter().find_map(|k| m.get(*k).and_then(as_text)),
        _ => None,
    }
}

/// True when a JSON value has the shape of an lm-eval results file.
pub fn is_results(v: &Value) -> bool {
    v.get("results").is_some_and(Value::is_object) && v.get("configs").is_some_and(Value::is_object)
}

/// Parse a results file already read as JSON.
pub fn parse(path: &Path, v: &Value) -> ResultsFile {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let model_name = v
        .get("model_name")
        .and_then(as_text)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            v.get("config")
                .and_then(|c| c.get("model_args"))
                .and_then(model_from_args)
        })
        .or_else(|| v.get("config").and_then(|c| c.get("model")).and_then(as_text));
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    if let Some(Value::Object(gs)) = v.get("group_subtasks") {
        for (group, subs) in gs {
            for sub in subs.as_array().into_iter().flatten() {
                if let Some(s) = sub.as_str() {
                    groups.insert(s.to_string(), group.clone());
                }
            }
        }
    }
    /// lm-evaluation-harness's `max_gen_toks` when a task sets none.
    const LMEVAL_DEFAULT_MAX_GEN_TOKS: u32 = 256;
    let mut tasks = BTreeMap::new();
    if let Some(Value::Object(configs)) = v.get("configs") {
        for (task, cfg) in configs {
            let gen = cfg.get("generation_kwargs");
            let info = TaskInfo {
                version: v
                    .get("versions")
                    .and_then(|x| x.get(task))
                    .and_then(as_text)
                    .or_else(|| {
                        cfg.get("metadata")
                            .and_then(|m| m.get("version"))
                            .and_then(as_text)
                    }),
                n_shot: v
                    .get("n-shot")
                    .and_then(|x| x.get(task))
                    .and_then(Value::as_u64)
                    .or_else(|| cfg.get("num_fewshot").and_then(Value::as_u64))
                    .map(|n| n as u32),
                // Any of the harness's aliases; a generative task that sets
                // none runs with the harness default of 256 tokens.
                max_gen_toks: gen
                    .and_then(|g| {
                        [
                            "max_gen_toks",
                            "max_new_tokens",
                            "max_tokens",
                            "max_completion_tokens",
                        ]
                        .iter()
                        .find_map(|k| g.get(*k).and_then(Value::as_u64))
                    })
                    .map(|n| n as u32)
                    .or_else(|| {
                        (cfg.get("output_type").and_then(Value::as_str) == Some("generate_until"))
                            .then_some(LMEVAL_DEFAULT_MAX_GEN_TOKS)
                    }),
                filters: cfg
                    .get("filter_list")
                    .and_then(Value::as_array)
                    .map(|fl| {
                        fl.iter()
                            .filter_map(|f| f.get("name").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                output_type: cfg.get("output_type").and_then(as_text),
                group: groups.get(task).cloned(),
            };
            tasks.insert(task.clone(), info);
        }
    }
    let config = v.get("config");
    let args = config.and_then(|c| c.get("model_args"));
    let think_end_token = args
        .and_then(|a| model_arg(a, "think_end_token"))
        .filter(|t| !t.is_empty());
    let backend = config
        .and_then(|c| c.get("model"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let api =
        backend.contains("completions") || backend.starts_with("anthropic") || backend.starts_with("openai");
    let old = v
        .get("lm_eval_version")
        .and_then(Value::as_str)
        .is_none_or(|ver| version_lt(ver, &[0, 4, 12]));
    ResultsFile {
        path: path.to_path_buf(),
        date_id: date_id(file_name).map(str::to_string),
        model_name,
        tasks,
        think_end_token,
        api_none_answers: api && old,
    }
}

/// Read a results file; `Ok(None)` when the JSON is not a results file.
pub fn read(path: &Path) -> Result<Option<ResultsFile>> {
    let bytes = crate::error::read_file(path)?;
    let v: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => return Err(Error::input(path, e.line(), None, format!("invalid JSON: {e}"))),
    };
    Ok(is_results(&v).then(|| parse(path, &v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_id_is_the_trailing_timestamp() {
        assert_eq!(
            date_id("samples_leaderboard_bbh_navigate_2024-12-23T14-45-44.695233.jsonl"),
            Some("2024-12-23T14-45-44.695233")
        );
        assert_eq!(
            date_id("gsm8k-phi-3-mini_2025-08-07T11-42-40.066002.json"),
            Some("2025-08-07T11-42-40.066002")
        );
        assert_eq!(date_id("results.json"), None);
        assert_eq!(date_id("samples_gsm8k.jsonl"), None);
    }

    #[test]
    fn thinking_and_api_settings_come_from_the_config() {
        let v: Value = serde_json::json!({"results": {"gsm8k": {"alias": "gsm8k", "name": "gsm8k", "sample_len": 10}},
            "configs": {}, "lm_eval_version": "0.4.11",
            "config": {"model": "local-chat-completions", "model_args": {"model": "m", "think_end_token": "</think>"}}});
        let r = parse(Path::new("r.json"), &v);
        assert_eq!(r.think_end_token.as_deref(), Some("</think>"));
        assert!(r.api_none_answers);
        let v: Value = serde_json::json!({"results": {}, "configs": {}, "lm_eval_version": "0.4.12",
            "config": {"model": "local-chat-completions", "model_args": "model=m,think_end_token=</think>"}});
        let r = parse(Path::new("r.json"), &v);
        assert_eq!(r.think_end_token.as_deref(), Some("</think>"));
        assert!(
            !r.api_none_answers,
            "0.4.12 logs a missing answer as an empty string"
        );
        let v: Value = serde_json::json!({"results": {}, "configs": {}, "config": {"model": "hf", "model_args": "pretrained=m"}});
        let r = parse(Path::new("r.json"), &v);
        assert_eq!(r.think_end_token, None);
        assert!(!r.api_none_answers);
        assert!(version_lt("0.4.9.1", &[0, 4, 12]) && !version_lt("0.5.0.dev1", &[0, 4, 12]));
    }

    #[test]
    fn model_name_falls_back_to_model_args() {
        let v: Value = serde_json::json!({"results": {}, "configs": {},
            "config": {"model_args": "pretrained=org/m,dtype=float16"}});
        assert_eq!(
            parse(Path::new("r.json"), &v).model_name.as_deref(),
            Some("org/m")
        );
    }
}
