//! HELM run folders (`benchmark_output/runs/<suite>/<run_name>/`, FORMATS.md
//! sections 5 and 9).
//!
//! One row per entry of `per_instance_stats.json` (an instance, a
//! perturbation, a train trial), joined on (`instance_id`, perturbation
//! name, `train_trial_index`) with the request state of `scenario_state.json`
//! (instance, prompt, completions, `max_tokens`) and the entry of
//! `display_predictions.json` (predicted and mapped output). Either of the
//! last two may be missing (HELM releases redact `scenario_state.json`);
//! what they would give is then left empty and the report says so.
//!
//! - Item key: `instance_id`, plus `#<perturbation>` for a perturbed
//!   instance; `sample_idx` is the train trial.
//! - Score: the main metric, the first of [`MAIN_METRICS`] among the
//!   entry's stats (its `mean`).
//! - Extracted answer: `mapped_output` when the adapter maps outputs (an
//!   output that maps to nothing is `""`: an extraction failure), else the
//!   predicted text.
//! - Finish reason: `completions[0].finish_reason.reason`, else the
//!   `finish_reason_*` stat that is 1 (a mapped multiple-choice letter that
//!   ended at its one-token limit is `stop`: the answer is complete); output
//!   tokens `num_output_tokens`; the limit `max_tokens` of the request (else
//!   of the adapter spec).
//! - Run id: the adapter spec's `model_deployment` or `model` (`--run`
//!   overrides); task: the run name without its `model=` argument;
//!   benchmark: the scenario name.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::detect::helm_run_dir;
use super::family::family;
use super::sink::Sink;
use super::{pyjson, IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::SampleRow;

/// Per-instance correctness stats, in the order tried for the main metric.
pub const MAIN_METRICS: [&str; 12] = [
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "exact_match@5",
    "quasi_exact_match@5",
    "math_equiv",
    "math_equiv_chain_of_thought",
    "ifeval_strict_accuracy",
    "f1_score",
    "rouge_l",
    "bleu_4",
];

const FINISH_STATS: [(&str, &str); 4] = [
    ("finish_reason_length", "length"),
    ("finish_reason_stop", "stop"),
    ("finish_reason_endoftext", "endoftext"),
    ("finish_reason_unknown", "unknown"),
];

/// Read the HELM run folders whose files detection found.
pub fn read_files(
    files: &[PathBuf],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let mut dirs: Vec<PathBuf> = files
        .iter()
        .filter_map(|f| helm_run_dir(f).map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        read_run(&d, opts, sink, report)?;
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<(String, Value)> {
    let bytes = crate::error::read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        Error::input(path, line, None, "not UTF-8 text")
    })?;
    let v =
        pyjson::parse(&text).map_err(|e| Error::input(path, e.line(), None, format!("invalid JSON: {e}")))?;
    Ok((text, v))
}

fn str_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn u32_of(v: Option<&Value>) -> Option<u32> {
    v?.as_u64().and_then(|n| u32::try_from(n).ok())
}

/// (instance id, perturbation name, train trial)
type Key = (String, String, u64);

fn key_of(v: &Value, id_field: &str) -> Option<Key> {
    let id = match v.get(id_field)? {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let pert = v
        .get("perturbation")
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let trial = v.get("train_trial_index").and_then(Value::as_u64).unwrap_or(0);
    Some((id, pert, trial))
}

fn read_run(dir: &Path, opts: &IngestOptions, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    let stats_path = dir.join("per_instance_stats.json");
    let state_path = dir.join("scenario_state.json");
    let display_path = dir.join("display_predictions.json");
    let spec_path = dir.join("run_spec.json");
    let spec = if spec_path.is_file() {
        Some(read_json(&spec_path)?.1)
    } else {
        None
    };
    let state = if state_path.is_file() {
        Some(read_json(&state_path)?.1)
    } else {
        report.warnings.push(format!(
            "{}: no scenario_state.json (redacted?): prompts, targets and the generation limit are unknown",
            dir.display()
        ));
        None
    };
    let adapter = spec
        .as_ref()
        .and_then(|s| s.get("adapter_spec"))
        .or_else(|| state.as_ref().and_then(|s| s.get("adapter_spec")));
    let run = opts.run.clone().or_else(|| {
        adapter.and_then(|a| str_of(a.get("model_deployment")).or_else(|| str_of(a.get("model"))))
    });
    let run_name = spec
        .as_ref()
        .and_then(|s| str_of(s.get("name")))
        .unwrap_or_else(|| {
            dir.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("run")
                .to_string()
        });
    let run = match run {
        Some(r) => r,
        None => {
            let m = run_name
                .split([',', ':'])
                .find_map(|kv| kv.strip_prefix("model="))
                .map(str::to_string)
                .unwrap_or_else(|| run_name.clone());
            report.warnings.push(format!(
                "{}: no adapter spec names the model; run id '{m}' taken from the run name",
                dir.display()
            ));
            m
        }
    };
    // The task: the run name without `model=` (and `model_deployment=`).
    let (scenario, args) = run_name.split_once(':').unwrap_or((run_name.as_str(), ""));
    let kept: Vec<&str> = args
        .split(',')
        .filter(|a| !a.is_empty() && !a.starts_with("model=") && !a.starts_with("model_deployment="))
        .collect();
    let task = if kept.is_empty() {
        scenario.to_string()
    } else {
        format!("{scenario}:{}", kept.join(","))
    };
    let benchmark = family(scenario, None);
    let adapter_max = adapter.and_then(|a| u32_of(a.get("max_tokens")));

    // Request states by key (the one without a reference index first).
    let mut states: HashMap<Key, &Value> = HashMap::new();
    if let Some(rs) = state
        .as_ref()
        .and_then(|s| s.get("request_states"))
        .and_then(Value::as_array)
    {
        for r in rs {
            let Some(inst) = r.get("instance") else { continue };
            let Some(mut k) = key_of(inst, "id") else { continue };
            k.2 = r.get("train_trial_index").and_then(Value::as_u64).unwrap_or(0);
            let plain = r.get("reference_index").is_none_or(Value::is_null);
            if plain || !states.contains_key(&k) {
                states.insert(k, r);
            }
        }
    }
    let display = if display_path.is_file() {
        Some(read_json(&display_path)?.1)
    } else {
        None
    };
    let mut shown: HashMap<Key, &Value> = HashMap::new();
    if let Some(d) = display.as_ref().and_then(Value::as_array) {
        for p in d {
            if let Some(k) = key_of(p, "instance_id") {
                shown.entry(k).or_insert(p);
            }
        }
    }
    let (text, stats) = read_json(&stats_path)?;
    if !stats.is_array() {
        return Err(Error::input(
            &stats_path,
            1,
            None,
            "expected a list of per-instance stats",
        ));
    }
    // Lines of each entry, for located errors and the source column.
    let clean = pyjson::sanitize(&text);
    let raw: &serde_json::value::RawValue = serde_json::from_str(&clean)
        .map_err(|e| Error::input(&stats_path, e.line(), None, format!("invalid JSON: {e}")))?;
    let lines: Vec<usize> = pyjson::array_elements(&clean, raw)
        .map_err(|e| Error::input(&stats_path, e.line(), None, e.to_string()))?
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    let entries = stats.as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut rows = 0usize;
    let mut no_state = 0usize;
    for (i, e) in entries.iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(1);
        match entry_row(
            e,
            line,
            &stats_path,
            &states,
            &shown,
            &run,
            &task,
            &benchmark,
            adapter_max,
            opts,
        ) {
            Ok((row, had_state)) => {
                no_state += usize::from(!had_state);
                rows += 1;
                sink.push(row, report)?;
            }
            Err(err) => {
                if opts.skip_bad {
                    report.skipped.push(Skipped::from_error(&err));
                    continue;
                }
                return Err(err);
            }
        }
    }
    if no_state > 0 && state.is_some() {
        report.warnings.push(format!(
            "{}: {no_state} per-instance stats have no request state in scenario_state.json",
            dir.display()
        ));
    }
    report.add_file(&stats_path, "helm", &run, &task, rows);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn entry_row(
    e: &Value,
    line: usize,
    path: &Path,
    states: &HashMap<Key, &Value>,
    shown: &HashMap<Key, &Value>,
    run: &str,
    task: &str,
    benchmark: &str,
    adapter_max: Option<u32>,
    opts: &IngestOptions,
) -> Result<(SampleRow, bool)> {
    let err = |field: &str, msg: String| Error::input(path, line, Some(field), msg);
    let key = key_of(e, "instance_id").ok_or_else(|| err("instance_id", "missing or not a string".into()))?;
    let stats = e
        .get("stats")
        .and_then(Value::as_array)
        .ok_or_else(|| err("stats", "missing or not a list".into()))?;
    let mut by_name: BTreeMap<&str, f64> = BTreeMap::new();
    for s in stats {
        let Some(name) = s.get("name").and_then(|n| n.get("name")).and_then(Value::as_str) else {
            return Err(err("stats", "a stat without name.name".into()));
        };
        let count = s.get("count").and_then(Value::as_f64).unwrap_or(1.0);
        let mean = s.get("mean").and_then(Value::as_f64).or_else(|| {
            s.get("sum")
                .and_then(Value::as_f64)
                .map(|x| if count > 0.0 { x / count } else { x })
        });
        if let Some(m) = mean {
            by_name.entry(name).or_insert(m);
        }
    }
    let (metric, score) = MAIN_METRICS
        .iter()
        .find_map(|m| by_name.get(m).map(|s| (*m, *s)))
        .ok_or_else(|| {
            err(
                "stats",
                format!(
                    "none of the correctness stats {} (found: {})",
                    MAIN_METRICS.join(", "),
                    by_name.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
    if !(0.0..=1.0).contains(&score) {
        return Err(err("stats", format!("{metric} = {score} is outside [0, 1]")));
    }
    let state = states.get(&key).copied();
    let disp = shown.get(&key).copied();
    let completion = state
        .and_then(|s| s.get("result"))
        .and_then(|r| r.get("completions"))
        .and_then(|c| c.get(0));
    let response = disp
        .and_then(|d| d.get("predicted_text"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            completion
                .and_then(|c| c.get("text"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let mapping = state
        .and_then(|s| s.get("output_mapping"))
        .and_then(Value::as_object);
    let extracted = match (disp.and_then(|d| d.get("mapped_output")), mapping) {
        (Some(Value::String(m)), _) => Some(m.clone()),
        // A mapping exists and the output maps to nothing: extraction failed.
        (_, Some(map)) => Some(
            response
                .as_deref()
                .and_then(|r| map.get(r.trim()))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => response.clone(),
    };
    let instance = state.and_then(|s| s.get("instance"));
    let target = instance
        .and_then(|i| i.get("references"))
        .and_then(Value::as_array)
        .and_then(|refs| {
            refs.iter().find(|r| {
                r.get("tags")
                    .and_then(Value::as_array)
                    .is_some_and(|t| t.iter().any(|x| x == "correct"))
            })
        })
        .and_then(|r| r.get("output"))
        .and_then(|o| o.get("text"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let request = state.and_then(|s| s.get("request"));
    let finish_reason = completion
        .and_then(|c| c.get("finish_reason"))
        .and_then(|f| f.get("reason"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            FINISH_STATS
                .iter()
                .find(|(s, _)| by_name.get(s).is_some_and(|v| *v >= 1.0))
                .map(|(_, r)| r.to_string())
        });
    let response_tokens = by_name
        .get("num_output_tokens")
        .map(|t| t.round() as u32)
        .or_else(|| {
            completion
                .and_then(|c| c.get("tokens"))
                .and_then(Value::as_array)
                .map(|t| t.len() as u32)
        });
    // A joint multiple-choice answer is one letter and `max_tokens` is set
    // to fit it: `length` is its normal end (FORMATS.md 5.3). When the
    // letter maps to an option the answer is complete: `stop`.
    let finish_reason = match finish_reason {
        Some(r)
            if r == "length" && mapping.is_some() && extracted.as_deref().is_some_and(|x| !x.is_empty()) =>
        {
            Some("stop".to_string())
        }
        other => other,
    };
    let (id, pert, trial) = key;
    let item_id = if pert.is_empty() {
        id
    } else {
        format!("{id}#{pert}")
    };
    let chars = response.as_deref().map_or(0, |r| r.chars().count()) as u32;
    let row = SampleRow {
        run: run.to_string(),
        benchmark: benchmark.to_string(),
        task: task.to_string(),
        filter: None,
        primary_filter: true,
        item_id,
        sample_idx: u32::try_from(trial).map_err(|_| err("train_trial_index", "too large".into()))?,
        prompt: request
            .and_then(|r| r.get("prompt"))
            .and_then(Value::as_str)
            .map(str::to_string),
        target,
        response,
        extracted,
        score,
        correct: score >= opts.pass_threshold,
        finish_reason,
        response_tokens,
        response_chars: chars,
        meta: instance.map_or_else(|| "{}".to_string(), Value::to_string),
        prompt_hash: None,
        task_version: None,
        n_shot: state.and_then(|s| u32_of(s.get("num_train_instances"))),
        max_gen_toks: request.and_then(|r| u32_of(r.get("max_tokens"))).or(adapter_max),
        source: format!("{}:{line}", path.display()),
    };
    Ok((row, state.is_some()))
}
