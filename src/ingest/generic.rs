//! Generic JSONL / CSV / Parquet input through a small YAML column mapping.
//!
//! ```yaml
//! run: ckpt-1200            # constants for fields the file has no column for
//! benchmark: mybench
//! columns:                  # canonical field -> column in the file
//!   item_id: id
//!   response: output
//!   score: acc
//! meta: rest                # rest (default): unmapped columns go to `meta`; none; or a list
//! pass_threshold: 1.0
//! ```
//! Without a mapping the file's columns are taken by their canonical names.
//! Required: run, benchmark, task, item_id (by column or constant), and a
//! score or a correct column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::sink::Sink;
use super::{IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::columns as c;
use crate::table::SampleRow;

/// The mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    pub run: Option<String>,
    pub benchmark: Option<String>,
    pub task: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub meta: MetaColumns,
    pub pass_threshold: Option<f64>,
}

/// Which columns go into `meta`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum MetaColumns {
    #[default]
    #[serde(skip)]
    Rest,
    Keyword(String),
    List(Vec<String>),
}

/// Canonical fields a mapping may name.
const FIELDS: &[&str] = &[
    c::RUN,
    c::BENCHMARK,
    c::TASK,
    c::FILTER,
    c::ITEM_ID,
    c::SAMPLE_IDX,
    c::PROMPT,
    c::TARGET,
    c::RESPONSE,
    c::EXTRACTED,
    c::SCORE,
    c::CORRECT,
    c::FINISH_REASON,
    c::RESPONSE_TOKENS,
    c::PROMPT_HASH,
    c::TASK_VERSION,
    c::MAX_GEN_TOKS,
];

impl ColumnMapping {
    pub fn load(path: &Path) -> Result<ColumnMapping> {
        let m: ColumnMapping = crate::config::load_yaml(path)?;
        let unknown: Vec<&String> = m
            .columns
            .keys()
            .filter(|k| !FIELDS.contains(&k.as_str()))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::usage(format!(
                "{}: unknown field(s) {} under columns; known fields: {}",
                path.display(),
                unknown
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                FIELDS.join(", ")
            )));
        }
        if let MetaColumns::Keyword(k) = &m.meta {
            if k != "rest" && k != "none" {
                return Err(Error::usage(format!(
                    "{}: meta: '{k}' is not valid; use rest, none, or a list of columns",
                    path.display()
                )));
            }
        }
        Ok(m)
    }

    fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.get(field).map(String::as_str).unwrap_or(field)
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Turn one record (column -> JSON value) into a row.
fn row_of(
    rec: &Map<String, Value>,
    m: &ColumnMapping,
    threshold: f64,
    source: String,
) -> std::result::Result<SampleRow, (Option<String>, String)> {
    let get = |field: &str| rec.get(m.column(field)).filter(|v| !v.is_null());
    let req = |field: &str,
               constant: &Option<String>|
     -> std::result::Result<String, (Option<String>, String)> {
        match (get(field), constant) {
            (Some(v), _) => text(v).ok_or_else(|| (Some(m.column(field).to_string()), "empty".to_string())),
            (None, Some(cst)) => Ok(cst.clone()),
            (None, None) => Err((
                Some(m.column(field).to_string()),
                format!("missing; map the '{field}' field in --columns or give it as a constant"),
            )),
        }
    };
    let opt = |field: &str| get(field).and_then(text);
    let num = |field: &str| -> std::result::Result<Option<f64>, (Option<String>, String)> {
        match get(field) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(Value::Bool(b)) => Ok(Some(f64::from(u8::from(*b)))),
            Some(Value::String(s)) => match s.trim() {
                "true" | "True" | "TRUE" => Ok(Some(1.0)),
                "false" | "False" | "FALSE" => Ok(Some(0.0)),
                t => t.parse::<f64>().map(Some).map_err(|_| {
                    (
                        Some(m.column(field).to_string()),
                        format!("'{s}' is not a number"),
                    )
                }),
            },
            Some(v) => Err((Some(m.column(field).to_string()), format!("{v} is not a number"))),
        }
    };
    let score = num(c::SCORE)?;
    let correct = num(c::CORRECT)?;
    let (score, correct) = match (score, correct) {
        (Some(s), Some(cv)) => (s, cv >= 0.5),
        (Some(s), None) => (s, s >= threshold),
        (None, Some(cv)) => (cv, cv >= 0.5),
        (None, None) => {
            return Err((
                Some(m.column(c::SCORE).to_string()),
                "missing: a row needs a score or a correct column".to_string(),
            ))
        }
    };
    if !(0.0..=1.0).contains(&score) {
        return Err((
            Some(m.column(c::SCORE).to_string()),
            format!("{score} is outside [0, 1]"),
        ));
    }
    let to_u32 = |field: &str| -> std::result::Result<Option<u32>, (Option<String>, String)> {
        match num(field)? {
            None => Ok(None),
            Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => Ok(Some(x as u32)),
            Some(x) => Err((
                Some(m.column(field).to_string()),
                format!("{x} is not a non-negative integer"),
            )),
        }
    };
    let mapped: Vec<&str> = FIELDS.iter().map(|f| m.column(f)).collect();
    let meta: Map<String, Value> = match &m.meta {
        MetaColumns::Keyword(k) if k == "rest" => rec
            .iter()
            .filter(|(k, _)| !mapped.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        MetaColumns::Rest => rec
            .iter()
            .filter(|(k, _)| !mapped.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        MetaColumns::Keyword(_) => Map::new(),
        MetaColumns::List(cols) => cols
            .iter()
            .filter_map(|k| rec.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
    };
    let response = opt(c::RESPONSE);
    Ok(SampleRow {
        run: req(c::RUN, &m.run)?,
        benchmark: req(c::BENCHMARK, &m.benchmark)?,
        task: req(c::TASK, &m.task)?,
        filter: opt(c::FILTER),
        primary_filter: true,
        item_id: req(c::ITEM_ID, &None)?,
        sample_idx: to_u32(c::SAMPLE_IDX)?.unwrap_or(0),
        prompt: opt(c::PROMPT),
        target: opt(c::TARGET),
        response_chars: response.as_deref().map_or(0, |r| r.chars().count()) as u32,
        response,
        extracted: opt(c::EXTRACTED),
        score,
        correct,
        finish_reason: opt(c::FINISH_REASON),
        response_tokens: to_u32(c::RESPONSE_TOKENS)?,
        meta: Value::Object(meta).to_string(),
        prompt_hash: opt(c::PROMPT_HASH),
        task_version: opt(c::TASK_VERSION),
        n_shot: None,
        max_gen_toks: to_u32(c::MAX_GEN_TOKS)?,
        source,
    })
}

/// Call `f` with each record of a JSONL or CSV file, in order.
fn for_each_record(
    path: &Path,
    mut f: impl FnMut(usize, std::result::Result<Map<String, Value>, String>) -> Result<()>,
) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "jsonl" => {
            use std::io::BufRead;
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let reader = std::io::BufReader::with_capacity(1 << 20, file);
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(|e| Error::io(path, e))?;
                let rec = match std::str::from_utf8(&line) {
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => serde_json::from_str::<Map<String, Value>>(l)
                        .map_err(|e| format!("not a JSON object: {e}")),
                    Err(e) => Err(format!("not UTF-8: {e}")),
                };
                f(i + 1, rec)?;
            }
            Ok(())
        }
        "csv" => {
            let mut rdr =
                csv::Reader::from_path(path).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
            let headers = rdr
                .headers()
                .map_err(|e| Error::input(path, 1, None, e.to_string()))?
                .clone();
            for rec in rdr.records() {
                match rec {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line() as usize);
                        let map = headers
                            .iter()
                            .zip(r.iter())
                            .map(|(h, v)| {
                                let v = if v.is_empty() {
                                    Value::Null
                                } else {
                                    Value::String(v.to_string())
                                };
                                (h.to_string(), v)
                            })
                            .collect();
                        f(line, Ok(map))?;
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line() as usize);
                        f(line, Err(e.to_string()))?;
                    }
                }
            }
            Ok(())
        }
        _ => Err(Error::usage(format!(
            "{}: generic input must be .jsonl, .csv or .parquet",
            path.display()
        ))),
    }
}

/// The rows of one Parquet batch as records, column by column: mapped
/// columns are cast once per batch; only `meta` columns go through JSON.
fn parquet_batch_records(
    df: &polars::prelude::DataFrame,
    m: &ColumnMapping,
) -> std::result::Result<Vec<Map<String, Value>>, String> {
    use polars::prelude::*;
    let mapped: Vec<&str> = FIELDS.iter().map(|f| m.column(f)).collect();
    let mut out: Vec<Map<String, Value>> = vec![Map::new(); df.height()];
    for col in df.columns() {
        let name = col.name().to_string();
        let is_mapped = mapped.contains(&name.as_str());
        let in_meta = match &m.meta {
            MetaColumns::Rest => !is_mapped,
            MetaColumns::Keyword(k) => k == "rest" && !is_mapped,
            MetaColumns::List(cols) => cols.iter().any(|c| c == &name),
        };
        if !is_mapped && !in_meta {
            continue;
        }
        let s = col.as_materialized_series();
        let fast = if s.dtype().is_primitive_numeric() || s.dtype() == &DataType::Boolean {
            None
        } else {
            s.cast(&DataType::String).ok()
        };
        match (&fast, s.dtype()) {
            (Some(strs), _) => {
                let ca = strs.str().map_err(|e| format!("column '{name}': {e}"))?;
                for (rec, v) in out.iter_mut().zip(ca.iter()) {
                    rec.insert(
                        name.clone(),
                        v.map_or(Value::Null, |x| Value::String(x.to_string())),
                    );
                }
            }
            (None, DataType::Boolean) => {
                let ca = s.bool().map_err(|e| format!("column '{name}': {e}"))?;
                for (rec, v) in out.iter_mut().zip(ca.iter()) {
                    rec.insert(name.clone(), v.map_or(Value::Null, Value::Bool));
                }
            }
            (None, dt) if dt.is_integer() => {
                let ca = s
                    .cast(&DataType::Int64)
                    .map_err(|e| format!("column '{name}': {e}"))?;
                let ca = ca.i64().map_err(|e| format!("column '{name}': {e}"))?;
                for (rec, v) in out.iter_mut().zip(ca.iter()) {
                    rec.insert(name.clone(), v.map_or(Value::Null, Value::from));
                }
            }
            (None, _) => {
                let ca = s
                    .cast(&DataType::Float64)
                    .map_err(|e| format!("column '{name}': {e}"))?;
                let ca = ca.f64().map_err(|e| format!("column '{name}': {e}"))?;
                for (rec, v) in out.iter_mut().zip(ca.iter()) {
                    let j = v
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Value::Null, Value::Number);
                    rec.insert(name.clone(), j);
                }
            }
        }
    }
    Ok(out)
}

/// Read one generic file into the sink.
pub fn read(path: &Path, opts: &IngestOptions, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    let mapping = match &opts.columns {
        Some(p) => ColumnMapping::load(p)?,
        None => ColumnMapping::default(),
    };
    let threshold = mapping.pass_threshold.unwrap_or(opts.pass_threshold);
    let display = path.display().to_string();
    let mut rows = 0usize;
    let mut runs = std::collections::BTreeSet::new();
    let mut tasks = std::collections::BTreeSet::new();
    let mut take = |line: usize,
                    rec: std::result::Result<Map<String, Value>, String>,
                    sink: &mut Sink<'_>,
                    report: &mut IngestReport|
     -> Result<()> {
        let res = rec
            .map_err(|m| (None, m))
            .and_then(|r| row_of(&r, &mapping, threshold, format!("{display}:{line}")));
        match res {
            Ok(mut row) => {
                if let Some(run) = &opts.run {
                    row.run = run.clone();
                }
                if !runs.contains(&row.run) {
                    runs.insert(row.run.clone());
                }
                if !tasks.contains(&row.task) {
                    tasks.insert(row.task.clone());
                }
                rows += 1;
                sink.push(row, report)
            }
            Err((field, message)) => {
                let e = Error::input(path, line, field.as_deref(), message);
                if opts.skip_bad {
                    report.skipped.push(Skipped::from_error(&e));
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "parquet" {
        let cols = crate::table::parquet_column_names(path)?;
        let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
        crate::table::for_each_batch(path, &cols, |df, offset| {
            let recs = parquet_batch_records(df, &mapping).map_err(|m| Error::frame(path, m))?;
            // Parquet has no lines: errors name the 1-based row.
            for (i, rec) in recs.into_iter().enumerate() {
                take(offset + i + 1, Ok(rec), sink, report)?;
            }
            Ok(())
        })?;
    } else {
        for_each_record(path, |line, rec| take(line, rec, sink, report))?;
    }
    let join = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>().join(",");
    report.add_file(path, "generic", &join(runs), &join(tasks), rows);
    Ok(())
}
