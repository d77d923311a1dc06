//! Which harness wrote a file, told by its name, its place in the harness's
//! output layout and its first bytes (`--format auto`), with the reason,
//! so the ingest report can say which format it chose for every file or
//! folder.
//!
//! Signatures, checked in this order:
//! - OLMES: `task-NNN-<task>-{predictions,requests,recorded-inputs}.jsonl`,
//!   `task-NNN-<task>-{metrics,verbose-metrics}.json`, and `metrics-all.jsonl`
//!   / `metrics.json` beside such files.
//! - HELM: any file of a run folder (a folder holding `per_instance_stats.json`
//!   and `scenario_state.json` or `display_predictions.json`).
//! - OpenCompass: a file under `predictions/`, `results/`, `summary/`,
//!   `configs/` or `logs/` of a work folder (a folder with a `predictions/`
//!   or `results/` subfolder whose JSON files hold `origin_prompt`/`prediction`
//!   records or `details`).
//! - Inspect: `.eval` (a zip archive), or a `.json` log starting with
//!   `{"version": .., "status": ..`.
//! - lighteval: `details_<task>_<timestamp>.parquet`.
//! - lm-evaluation-harness: a results file (`results` + `configs` keys), a
//!   `samples_<task>_<date>.jsonl`, or a JSON/JSONL file whose first record
//!   has `doc_id` and `resps` (<= v0.4.2).
//! - generic: any other `.jsonl`, `.csv`, `.parquet` (and `.json` arrays).
//!
//! A folder holding several formats is read whole: every file gets its own
//! format. Adding a reader is one arm in [`super::ingest_into`]'s dispatch.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{lmeval, Format};
use crate::error::{Error, Result};

/// What detection decided for one file (or, for HELM, one run folder).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detected {
    pub path: String,
    pub format: String,
    pub reason: String,
}

/// The name a format goes by in reports (`--format` spelling).
pub fn format_name(f: Format) -> &'static str {
    match f {
        Format::Auto => "auto",
        Format::LmEval => "lm-eval",
        Format::Generic => "generic",
        Format::Inspect => "inspect",
        Format::Lighteval => "lighteval",
        Format::Opencompass => "opencompass",
        Format::Olmes => "olmes",
        Format::Helm => "helm",
    }
}

fn name_of(p: &Path) -> &str {
    p.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn extension(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

/// The first `n` bytes of a file.
fn head(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = f.read(&mut buf[got..]).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(buf)
}

/// `task-NNN-<task>-<kind>` -> (NNN, task, kind).
pub fn olmes_name(name: &str) -> Option<(u32, &str, &'static str)> {
    const KINDS: [&str; 5] = [
        "predictions.jsonl",
        "requests.jsonl",
        "recorded-inputs.jsonl",
        "verbose-metrics.json",
        "metrics.json",
    ];
    let rest = name.strip_prefix("task-")?;
    let (idx, rest) = rest.split_once('-')?;
    if idx.len() < 3 || !idx.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = KINDS.iter().find(|k| rest.ends_with(&format!("-{k}")))?;
    let task = &rest[..rest.len() - kind.len() - 1];
    (!task.is_empty()).then(|| (idx.parse().unwrap_or(0), task, *kind))
}

fn dir_has_olmes_task_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.filter_map(|e| e.ok())
            .any(|e| e.file_name().to_str().and_then(olmes_name).is_some())
    })
}

/// The run folder a HELM file belongs to.
pub fn helm_run_dir(path: &Path) -> Option<&Path> {
    let dir = path.parent()?;
    let stats = dir.join("per_instance_stats.json").is_file();
    let states = dir.join("scenario_state.json").is_file() || dir.join("display_predictions.json").is_file();
    (stats && states).then_some(dir)
}

/// The parts of an OpenCompass work folder.
const OC_PARTS: [&str; 5] = ["predictions", "results", "summary", "configs", "logs"];

/// (work folder, part) for a file inside an OpenCompass work folder.
pub fn opencompass_place(path: &Path) -> Option<(&Path, &'static str)> {
    let mut child = path;
    for anc in path.ancestors().skip(1) {
        let part = name_of(child);
        if let Some(p) = OC_PARTS.iter().find(|p| **p == part) {
            if (anc.join("predictions").is_dir() || anc.join("results").is_dir()) && work_dir_has_oc_json(anc)
            {
                return Some((anc, p));
            }
        }
        child = anc;
    }
    None
}

/// True when one JSON file under `<work>/predictions` or `<work>/results`
/// has an OpenCompass shape (checked on its first bytes).
fn work_dir_has_oc_json(work: &Path) -> bool {
    for part in ["predictions", "results"] {
        let Ok(models) = std::fs::read_dir(work.join(part)) else {
            continue;
        };
        for m in models.filter_map(|e| e.ok()) {
            let Ok(files) = std::fs::read_dir(m.path()) else {
                continue;
            };
            for f in files.filter_map(|e| e.ok()) {
                let p = f.path();
                if matches!(extension(&p), "json" | "jsonl") && head(&p, 1 << 16).is_ok_and(|h| oc_shape(&h))
                {
                    return true;
                }
            }
        }
    }
    false
}

/// OpenCompass prediction or result JSON, by its first bytes.
fn oc_shape(h: &[u8]) -> bool {
    let t = String::from_utf8_lossy(h);
    let t = t.trim_start();
    let Some(rest) = t.strip_prefix('{') else {
        return false;
    };
    let rest = rest.trim_start();
    // Predictions (and judge outputs): keyed by index, records with a prediction.
    let indexed =
        rest.starts_with("\"0\"") && (t.contains("\"prediction\"") || t.contains("\"origin_prompt\""));
    // Results: per-sample details, or metrics only (`{"accuracy": 57.3}`).
    let details = t.contains("\"details\"") && !t.contains("\"configs\"");
    let metrics_only = h.len() < 1 << 16
        && serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(t)
            .is_ok_and(|m| !m.is_empty() && m.values().all(serde_json::Value::is_number));
    indexed || details || metrics_only
}

/// An Inspect JSON log starts with its `version` and `status`.
fn inspect_json_head(h: &[u8]) -> bool {
    let t = String::from_utf8_lossy(h);
    let t = t.trim_start();
    let Some(rest) = t.strip_prefix('{') else {
        return false;
    };
    let rest = rest.trim_start();
    rest.starts_with("\"version\"") && t.contains("\"status\"") && t.contains("\"eval\"")
}

/// An lm-eval samples file by its first record: a JSONL line with `doc_id`
/// and `resps`, or (<= v0.4.2) a JSON array whose first record has them.
fn lmeval_first_record(path: &Path) -> Result<bool> {
    let h = head(path, 1 << 16)?;
    let t = String::from_utf8_lossy(&h);
    let t = t.trim_start();
    let first = if t.starts_with('[') {
        t
    } else {
        t.lines().next().unwrap_or("")
    };
    Ok(first.contains("\"doc_id\"") && first.contains("\"resps\""))
}

fn starts_with_bracket(path: &Path) -> Result<bool> {
    let h = head(path, 1 << 10)?;
    Ok(h.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['))
}

/// The format of one file, with the reason; `None` when it is not an
/// evaluation log caploop reads.
pub fn detect(path: &Path) -> Result<Option<(Format, String)>> {
    let name = name_of(path);
    let ext = extension(path);
    if let Some((_, task, kind)) = olmes_name(name) {
        return Ok(Some((
            Format::Olmes,
            format!("OLMES task-NNN-<task>-{kind} (task {task})"),
        )));
    }
    if matches!(name, "metrics-all.jsonl" | "metrics.json")
        && path.parent().is_some_and(dir_has_olmes_task_files)
    {
        return Ok(Some((
            Format::Olmes,
            format!("OLMES run summary {name} beside task-NNN-* files"),
        )));
    }
    if let Some(dir) = helm_run_dir(path) {
        return Ok(Some((
            Format::Helm,
            format!(
                "HELM run folder {} (per_instance_stats.json + scenario_state.json/display_predictions.json)",
                name_of(dir)
            ),
        )));
    }
    // lm-eval output is often written under a folder named `results`: its
    // own signatures win over the OpenCompass layout.
    let lm_named = ext == "jsonl" && lmeval::samples_file_name(name).is_some();
    let oc = if lm_named { None } else { opencompass_place(path) };
    if let Some((_, part)) =
        oc.filter(|_| !(ext == "json" && lmeval::results::read(path).is_ok_and(|r| r.is_some())))
    {
        let role = match part {
            "predictions" | "results" => "per-sample records",
            "configs" => "only max_out_len is read",
            _ => "aggregate or log, not read",
        };
        return Ok(Some((
            Format::Opencompass,
            format!("OpenCompass work folder, {part}/ ({role})"),
        )));
    }
    match ext {
        "eval" => {
            let h = head(path, 4)?;
            if h.starts_with(b"PK") {
                return Ok(Some((Format::Inspect, "Inspect .eval log (zip archive)".into())));
            }
            return Err(Error::input(
                path,
                1,
                None,
                "an .eval file that is not a zip archive (Inspect logs are)",
            ));
        }
        "parquet" if name.starts_with("details_") => {
            return Ok(Some((
                Format::Lighteval,
                "lighteval details_<task>_<timestamp>.parquet".into(),
            )));
        }
        "json" => {
            if inspect_json_head(&head(path, 1 << 12)?) || super::inspect::is_log(path)? {
                return Ok(Some((
                    Format::Inspect,
                    "Inspect JSON log (version, status, eval)".into(),
                )));
            }
            if lmeval::results::read(path)?.is_some() {
                return Ok(Some((
                    Format::LmEval,
                    "lm-eval results file (results + configs)".into(),
                )));
            }
            if lmeval_first_record(path)? {
                return Ok(Some((
                    Format::LmEval,
                    "lm-eval <= v0.4.2 samples (JSON array of doc_id/resps records)".into(),
                )));
            }
            if starts_with_bracket(path)? {
                return Ok(Some((
                    Format::Generic,
                    "generic JSON array (no harness signature)".into(),
                )));
            }
            return Ok(None);
        }
        "jsonl" => {
            if lmeval::samples_file_name(name).is_some() {
                return Ok(Some((
                    Format::LmEval,
                    "lm-eval samples_<task>_<date>.jsonl".into(),
                )));
            }
            if lmeval_first_record(path)? {
                return Ok(Some((
                    Format::LmEval,
                    "lm-eval samples (first record has doc_id and resps)".into(),
                )));
            }
            return Ok(Some((
                Format::Generic,
                "generic .jsonl (no harness signature)".into(),
            )));
        }
        "csv" | "parquet" => {
            return Ok(Some((
                Format::Generic,
                format!("generic .{ext} (no harness signature)"),
            )));
        }
        _ => {}
    }
    Ok(None)
}

/// Files grouped by the format that reads them, in a stable order.
#[derive(Debug, Default)]
pub struct Plan {
    pub groups: std::collections::BTreeMap<Format, Vec<PathBuf>>,
    pub detected: Vec<Detected>,
    pub ignored: Vec<String>,
}

/// Decide the format of every file. With a format forced, a file detected
/// as another one (or as nothing) is an error, except that `generic` takes
/// any `.jsonl`/`.csv`/`.parquet`/`.json`. With `auto`, a file that is not an
/// evaluation log is ignored when it was found in a folder, an error when
/// it was named.
pub fn plan(files: &[PathBuf], given: &[PathBuf], forced: Format) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut helm_dirs_seen = std::collections::BTreeSet::new();
    for f in files {
        let found = detect(f)?;
        let chosen = match (forced, &found) {
            (Format::Auto, Some((fmt, why))) => Some((*fmt, why.clone())),
            (Format::Generic, Some((Format::Generic | Format::LmEval, _)))
                if matches!(extension(f), "jsonl" | "csv" | "parquet") =>
            {
                Some((Format::Generic, "generic (--format generic)".to_string()))
            }
            (Format::Generic, _) if extension(f) == "json" => {
                Some((Format::Generic, "generic (--format generic)".to_string()))
            }
            (want, Some((fmt, why))) if want == *fmt => Some((*fmt, why.clone())),
            // lighteval >= 0.12 writes Inspect logs; older ones details parquet
            // (whatever the file is called).
            (Format::Lighteval, Some((Format::Inspect, why))) => {
                Some((Format::Lighteval, format!("{why}, written by lighteval")))
            }
            (Format::Lighteval, _) if extension(f) == "parquet" => Some((
                Format::Lighteval,
                "lighteval details (--format lighteval)".to_string(),
            )),
            _ => None,
        };
        match chosen {
            Some((fmt, why)) => {
                if fmt == Format::Helm {
                    let dir = helm_run_dir(f).unwrap_or(f).to_path_buf();
                    if helm_dirs_seen.insert(dir.clone()) {
                        plan.detected.push(Detected {
                            path: dir.display().to_string(),
                            format: format_name(fmt).into(),
                            reason: why,
                        });
                    }
                } else {
                    plan.detected.push(Detected {
                        path: f.display().to_string(),
                        format: format_name(fmt).into(),
                        reason: why,
                    });
                }
                plan.groups.entry(fmt).or_default().push(f.clone());
            }
            None => {
                if forced != Format::Auto || given.iter().any(|p| p == f) {
                    let looks = match &found {
                        Some((fmt, why)) => format!("it looks like {} ({why})", format_name(*fmt)),
                        None => "no evaluation-log signature found".to_string(),
                    };
                    return Err(Error::usage(format!(
                        "{}: not a recognised {} file: {looks}; give the right --format (or auto) and, for generic files, --columns",
                        f.display(),
                        match forced {
                            Format::Auto => "evaluation log",
                            other => format_name(other),
                        }
                    )));
                }
                plan.ignored.push(f.display().to_string());
            }
        }
    }
    Ok(plan)
}

/// What to print about detection: one line per file when there are few,
/// else one line per folder and format (every file is in the report).
pub fn summary(detected: &[Detected]) -> Vec<String> {
    if detected.len() <= 12 {
        return detected
            .iter()
            .map(|d| format!("format {}: {} ({})", d.format, d.path, d.reason))
            .collect();
    }
    let mut per: std::collections::BTreeMap<(String, &str), usize> = std::collections::BTreeMap::new();
    for d in detected {
        let p = Path::new(&d.path);
        // A HELM entry is its run folder already.
        let dir = if d.format == "helm" {
            p
        } else {
            p.parent().unwrap_or(p)
        };
        *per.entry((dir.display().to_string(), d.format.as_str()))
            .or_default() += 1;
    }
    per.into_iter()
        .map(|((dir, f), n)| {
            format!(
                "format {f}: {dir} ({n} {})",
                if n == 1 { "entry" } else { "entries" }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn olmes_names_split_index_task_and_kind() {
        assert_eq!(
            olmes_name("task-000-arc_challenge:mc-predictions.jsonl"),
            Some((0, "arc_challenge:mc", "predictions.jsonl"))
        );
        assert_eq!(
            olmes_name("task-012-gsm8k::olmes-verbose-metrics.json"),
            Some((12, "gsm8k::olmes", "verbose-metrics.json"))
        );
        assert_eq!(olmes_name("task-01-x-metrics.json"), None);
        assert_eq!(olmes_name("task-001--metrics.json"), None);
        assert_eq!(olmes_name("samples_gsm8k_2024-01-01T00-00-00.0.jsonl"), None);
    }

    #[test]
    fn inspect_json_logs_are_told_by_their_first_keys() {
        assert!(inspect_json_head(
            br#"{"version": 2, "status": "success", "eval": {"task": "x"}"#
        ));
        assert!(!inspect_json_head(br#"{"results": {}, "configs": {}}"#));
    }
}
