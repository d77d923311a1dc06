//! OpenCompass work folders (FORMATS.md sections 3 and 9):
//! `<work>/predictions/<model_abbr>/<dataset_abbr>[_<shard>].json` and
//! `<work>/results/<model_abbr>/<dataset_abbr>.json`.
//!
//! - **Results with `details`** (written with `dump_details`) give the rows.
//!   The current shape is a list of per-example objects keyed by
//!   `example_abbr` (`<subdivision>_<idx>`, the item key) whose fields are
//!   lists with one value per replica, even when n = 1: one row per replica
//!   (`sample_idx` = replica). Correctness is `correct`, `is_correct` or
//!   `cascade_correct`, the first present. The older shape (keyed "0", "1",
//!   ... with `prompt`, `origin_prediction`, `predictions`, `references`,
//!   `correct`) gives one row per key, item `<dataset_abbr>_<idx>`. When the
//!   details lack the raw response or prompt, they are taken from the
//!   predictions file by position (replica r of example idx is prediction
//!   `r * size + idx`), only when the counts agree.
//! - **Predictions without details** give one row per prediction, item
//!   `<dataset_abbr>_<idx>` (shards concatenated in shard order). A
//!   likelihood (PPL) record is scored as OpenCompass scores it
//!   (`prediction == gold`); a generated one has no correctness in the file:
//!   its row is kept *unscored* (filter `unscored`, not scoring its task)
//!   and the report says so.
//! - `res_length` gives the response tokens; `max_out_len` in
//!   `configs/*.py`, when one value is set there, the generation limit.
//!   Finish reasons are not recorded by OpenCompass.
//!
//! The run id is the model abbr (`--run` overrides), the task the dataset
//! abbr. A `results/<A>_<B>/` folder of a judged comparison holds judge
//! outputs in the predictions shape; they are read as the unscored run
//! `<A>_<B>`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::detect::opencompass_place;
use super::family::family;
use super::sink::Sink;
use super::{pyjson, IngestOptions, IngestReport, Skipped};
use crate::error::{read_text, Error, Result};
use crate::table::SampleRow;

mod predictions;

use predictions::{read_predictions, text_of, Pred};

/// The filter name of rows that have no correctness in the log.
pub const UNSCORED: &str = "unscored";

/// Correctness keys, in the order OpenCompass's evaluator reads them.
const CORRECT_KEYS: [&str; 3] = ["correct", "is_correct", "cascade_correct"];

#[derive(Default)]
struct Dataset {
    /// Prediction shards in shard order (an unsharded file is shard 0).
    predictions: BTreeMap<u32, PathBuf>,
    results: Option<PathBuf>,
}

/// `<dataset>_<n>` shard name -> (dataset, n), when `<dataset>_0.json` is a sibling.
fn shard_of(path: &Path) -> Option<(String, u32)> {
    let stem = path.file_stem()?.to_str()?;
    let (base, n) = stem.rsplit_once('_')?;
    let n: u32 = n.parse().ok()?;
    let first = path.with_file_name(format!("{base}_0.json"));
    (!base.is_empty() && first.is_file()).then(|| (base.to_string(), n))
}

/// Read the OpenCompass files detection found.
pub fn read_files(
    files: &[PathBuf],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    // work folder -> (model, dataset) -> files
    let mut works: BTreeMap<PathBuf, BTreeMap<(String, String), Dataset>> = BTreeMap::new();
    for f in files {
        let Some((work, part)) = opencompass_place(f) else {
            continue;
        };
        if !matches!(part, "predictions" | "results") {
            continue;
        }
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "json" | "jsonl") {
            report.ignored.push(f.display().to_string());
            continue;
        }
        let model = f
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string();
        let ds = works.entry(work.to_path_buf()).or_default();
        if part == "results" {
            ds.entry((model, stem)).or_default().results = Some(f.clone());
            continue;
        }
        if let Some(base) = stem.strip_prefix("tmp_") {
            // An in-progress shard: read only when no finished file exists.
            let done = f.with_file_name(format!("{base}.json"));
            if done.is_file() || f.with_file_name(format!("{base}_0.json")).is_file() {
                continue;
            }
            report.warnings.push(format!(
                "{}: an unfinished OpenCompass prediction file (tmp_*.jsonl), read as it is",
                f.display()
            ));
            ds.entry((model, base.to_string()))
                .or_default()
                .predictions
                .insert(0, f.clone());
            continue;
        }
        let (dataset, shard) = shard_of(f).unwrap_or((stem, 0));
        ds.entry((model, dataset))
            .or_default()
            .predictions
            .insert(shard, f.clone());
    }
    for (work, datasets) in &works {
        let max_out_len = max_out_len(work, report)?;
        for ((model, dataset), files) in datasets {
            read_dataset(model, dataset, files, max_out_len, opts, sink, report)?;
        }
    }
    Ok(())
}

/// The one `max_out_len` the work folder's configs set, if exactly one.
fn max_out_len(work: &Path, report: &mut IngestReport) -> Result<Option<u32>> {
    let re = regex::Regex::new(r"max_out_len\s*=\s*(\d+)").expect("static regex");
    let mut seen = std::collections::BTreeSet::new();
    let dir = work.join("configs");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "py")) {
        let text = String::from_utf8_lossy(&crate::error::read_file(p)?).into_owned();
        for c in re.captures_iter(&text) {
            if let Ok(n) = c[1].parse::<u32>() {
                seen.insert(n);
            }
        }
    }
    match seen.len() {
        0 => Ok(None),
        1 => Ok(seen.into_iter().next()),
        _ => {
            report.warnings.push(format!(
                "{}: the configs set several max_out_len values ({}); the generation limit of each sample is left unknown",
                dir.display(),
                seen.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ));
            Ok(None)
        }
    }
}

struct Ctx<'a> {
    run: String,
    task: &'a str,
    benchmark: String,
    max_out_len: Option<u32>,
    pass_threshold: f64,
}

impl Ctx<'_> {
    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        item: String,
        sample: u32,
        prompt: Option<String>,
        target: Option<String>,
        response: Option<String>,
        extracted: Option<String>,
        score: Option<f64>,
        tokens: Option<u32>,
        meta: String,
        source: String,
    ) -> SampleRow {
        let chars = response.as_deref().map_or(0, |r| r.chars().count()) as u32;
        SampleRow {
            run: self.run.clone(),
            benchmark: self.benchmark.clone(),
            task: self.task.to_string(),
            filter: score.is_none().then(|| UNSCORED.to_string()),
            primary_filter: score.is_some(),
            item_id: item,
            sample_idx: sample,
            prompt,
            target,
            response,
            extracted,
            score: score.unwrap_or(0.0),
            correct: score.is_some_and(|s| s >= self.pass_threshold),
            finish_reason: None,
            response_tokens: tokens,
            response_chars: chars,
            meta,
            prompt_hash: None,
            task_version: None,
            n_shot: None,
            max_gen_toks: self.max_out_len,
            source,
        }
    }
}

/// A correctness value: a boolean, or a number in [0, 1].
fn correctness(v: &Value) -> std::result::Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(f64::from(u8::from(*b)))),
        Value::Number(n) => match n.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(Some(x)),
            _ => Err(format!("{n} is not a boolean or a number in [0, 1]")),
        },
        other => Err(format!("expected a boolean, found {other}")),
    }
}

fn read_dataset(
    model: &str,
    dataset: &str,
    files: &Dataset,
    max_out_len: Option<u32>,
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let ctx = Ctx {
        run: opts.run.clone().unwrap_or_else(|| model.to_string()),
        task: dataset,
        benchmark: family(dataset, None),
        max_out_len,
        pass_threshold: opts.pass_threshold,
    };
    // Predictions, shards concatenated: the global index of a record is the
    // shard's offset plus its own index.
    let mut preds: Vec<Pred> = Vec::new();
    for path in files.predictions.values() {
        let offset = preds.len() as u64;
        for (i, p) in read_predictions(path)? {
            if offset + i != preds.len() as u64 {
                return Err(Error::input(
                    path,
                    p.line,
                    None,
                    format!(
                        "prediction index {i} out of sequence (expected {})",
                        preds.len() as u64 - offset
                    ),
                ));
            }
            preds.push(p);
        }
    }
    if let Some(results) = &files.results {
        if read_details(results, &ctx, &preds, opts, sink, report)? {
            return Ok(());
        }
    }
    if preds.is_empty() {
        return Ok(());
    }
    let mut rows: BTreeMap<&Path, usize> = BTreeMap::new();
    let mut unscored = 0;
    for (idx, p) in preds.iter().enumerate() {
        let target = p.gold.as_ref().filter(|g| !g.is_null()).map(text_of);
        let score = if p.ppl {
            Some(f64::from(u8::from(p.prediction == target)))
        } else {
            None
        };
        unscored += usize::from(score.is_none());
        let mut meta = p.meta.clone();
        if let Some(g) = &p.gold {
            meta.insert("gold".into(), g.clone());
        }
        let row = ctx.row(
            format!("{dataset}_{idx}"),
            0,
            p.prompt.clone(),
            target,
            p.prediction.clone(),
            p.prediction.clone().filter(|_| p.ppl),
            score,
            p.res_length,
            Value::Object(meta).to_string(),
            format!("{}:{}", p.path.display(), p.line),
        );
        sink.push(row, report)?;
        *rows.entry(&p.path).or_default() += 1;
    }
    for path in files.predictions.values() {
        report.add_file(
            path,
            "opencompass",
            &ctx.run,
            dataset,
            rows.get(path.as_path()).copied().unwrap_or(0),
        );
    }
    if unscored > 0 {
        report.warnings.push(format!(
            "OpenCompass {model}/{dataset}: {unscored} generated predictions have no per-sample correctness (no results details; run OpenCompass with dump_details); kept unscored"
        ));
    }
    Ok(())
}

/// Rows from a results file's `details`; false when it has none (or is in
/// the predictions shape, which the caller reads).
fn read_details(
    path: &Path,
    ctx: &Ctx<'_>,
    preds: &[Pred],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<bool> {
    let text = read_text(path)?;
    let clean = pyjson::sanitize(&text);
    let members = pyjson::ordered_members(&clean)
        .map_err(|e| Error::input(path, e.line(), None, format!("expected a JSON object: {e}")))?;
    let Some((_, dline, details)) = members.iter().find(|(k, _, _)| k == "details") else {
        // A judge comparison (or a results file written in the predictions
        // shape): every member is a prediction record.
        let as_preds = !members.is_empty()
            && members.iter().all(|(k, _, raw)| {
                k.parse::<u64>().is_ok()
                    && raw.get().trim_start().starts_with('{')
                    && raw.get().contains("\"prediction\"")
            });
        if as_preds {
            let mut files = Dataset::default();
            files.predictions.insert(0, path.to_path_buf());
            let mut o = opts.clone();
            o.run = Some(ctx.run.clone());
            read_dataset(&ctx.run, ctx.task, &files, ctx.max_out_len, &o, sink, report)?;
            report.warnings.push(format!(
                "{}: results in the predictions shape (judge outputs), read as rows of run '{}'",
                path.display(),
                ctx.run
            ));
            return Ok(true);
        }
        report.warnings.push(format!(
            "{}: no per-sample details (OpenCompass writes them only with dump_details); aggregate metrics only",
            path.display()
        ));
        return Ok(false);
    };
    let mut rows = 0usize;
    let trimmed = details.get().trim_start();
    if trimmed.starts_with('[') {
        let elems = pyjson::array_elements(&clean, details)
            .map_err(|e| Error::input(path, *dline, Some("details"), e.to_string()))?;
        let size = elems.len();
        for (line, raw) in elems {
            let v: Value = serde_json::from_str(raw.get())
                .map_err(|e| Error::input(path, line, Some("details"), e.to_string()))?;
            rows += detail_rows(path, line, &v, size, ctx, preds, opts, sink, report)?;
        }
    } else if trimmed.starts_with('{') {
        // Older shape: {"0": {prompt, origin_prediction, predictions, references, correct}, ...}
        let members = pyjson::ordered_members(details.get())
            .map_err(|e| Error::input(path, *dline, Some("details"), e.to_string()))?;
        for (k, l, raw) in members {
            let line = dline + l - 1;
            let v: Value = serde_json::from_str(raw.get())
                .map_err(|e| Error::input(path, line, Some("details"), e.to_string()))?;
            let Value::Object(mut m) = v else {
                return Err(Error::input(
                    path,
                    line,
                    Some("details"),
                    "expected an object per example",
                ));
            };
            let idx: usize = match k.parse() {
                Ok(i) => i,
                Err(_) => {
                    return Err(Error::input(
                        path,
                        line,
                        Some("details"),
                        format!("key '{k}' is not an index"),
                    ))
                }
            };
            m.insert(
                "example_abbr".into(),
                Value::String(format!("{}_{idx}", ctx.task)),
            );
            rows += detail_rows(
                path,
                line,
                &Value::Object(m),
                usize::MAX,
                ctx,
                preds,
                opts,
                sink,
                report,
            )?;
        }
    } else {
        return Err(Error::input(
            path,
            *dline,
            Some("details"),
            "expected a list or an object",
        ));
    }
    report.add_file(path, "opencompass", &ctx.run, ctx.task, rows);
    Ok(true)
}

/// One row per replica of one details entry; returns the rows pushed.
#[allow(clippy::too_many_arguments)]
fn detail_rows(
    path: &Path,
    line: usize,
    v: &Value,
    size: usize,
    ctx: &Ctx<'_>,
    preds: &[Pred],
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<usize> {
    let Value::Object(m) = v else {
        return Err(Error::input(
            path,
            line,
            Some("details"),
            "expected an object per example",
        ));
    };
    let item = match m.get("example_abbr") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(Error::input(
                path,
                line,
                Some("example_abbr"),
                "missing or not a string",
            ))
        }
    };
    // Replicas: the length of the correctness list (else of any list field).
    let ckey = CORRECT_KEYS
        .iter()
        .find(|k| m.get(**k).is_some_and(|v| !v.is_null()));
    let n = ckey
        .and_then(|k| m.get(*k))
        .and_then(Value::as_array)
        .map(Vec::len)
        .or_else(|| m.values().find_map(|v| v.as_array().map(Vec::len)))
        .unwrap_or(1)
        .max(1);
    let at = |key: &str, r: usize| -> Option<&Value> {
        match m.get(key)? {
            Value::Array(a) if a.len() == n => a.get(r),
            other => Some(other),
        }
    };
    let first = |keys: &[&str], r: usize| {
        keys.iter()
            .find_map(|k| at(k, r))
            .filter(|v| !v.is_null())
            .map(text_of)
    };
    let idx: Option<usize> = item.rsplit_once('_').and_then(|(_, i)| i.parse().ok());
    let mut rows = 0;
    for r in 0..n {
        let score = match ckey {
            Some(k) => match at(k, r).map(correctness).transpose() {
                Ok(s) => s.flatten(),
                Err(msg) => {
                    let e = Error::input(path, line, Some(k), format!("{item} replica {r}: {msg}"));
                    if opts.skip_bad {
                        report.skipped.push(Skipped::from_error(&e));
                        continue;
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        // The prediction of replica r of this example, when counts agree.
        let pred = match (idx, size) {
            (Some(i), s) if s != usize::MAX && preds.len() == n * s => preds.get(r * s + i),
            (Some(i), usize::MAX) if n == 1 => preds.get(i),
            _ => None,
        };
        let response = first(&["origin_prediction", "prediction"], r)
            .or_else(|| pred.and_then(|p| p.prediction.clone()));
        let prompt = first(&["prompt", "origin_prompt"], r).or_else(|| pred.and_then(|p| p.prompt.clone()));
        let extracted = first(&["predictions", "pred"], r);
        let target = first(&["references", "answer", "reference", "gold"], r);
        let tokens = pred.and_then(|p| p.res_length);
        let mut meta = serde_json::Map::new();
        if let Some(g) = pred.and_then(|p| p.gold.clone()) {
            meta.insert("gold".into(), g);
        }
        let row = ctx.row(
            item.clone(),
            r as u32,
            prompt,
            target,
            response,
            extracted,
            score,
            tokens,
            Value::Object(meta).to_string(),
            format!("{}:{line}", path.display()),
        );
        sink.push(row, report)?;
        rows += 1;
    }
    Ok(rows)
}
