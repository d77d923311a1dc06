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

/// One cell as the mapping reads it; nulls are never cells.
enum Cell<'a> {
    Str(&'a str),
    Num(f64),
    Int(i64),
    Bool(bool),
    /// Any other JSON value (numbers from JSON keep their exact text).
    Json(&'a Value),
}

impl Cell<'_> {
    /// The cell as text: strings as they are, anything else as JSON.
    fn text(&self) -> String {
        match self {
            Cell::Str(s) => (*s).to_string(),
            Cell::Num(x) => serde_json::Number::from_f64(*x).map_or_else(|| x.to_string(), |n| n.to_string()),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Json(Value::String(s)) => s.clone(),
            Cell::Json(v) => v.to_string(),
        }
    }

    fn number(&self, column: &str) -> std::result::Result<Option<f64>, (Option<String>, String)> {
        let parse = |s: &str| match s.trim() {
            "true" | "True" | "TRUE" => Ok(Some(1.0)),
            "false" | "False" | "FALSE" => Ok(Some(0.0)),
            t => t
                .parse::<f64>()
                .map(Some)
                .map_err(|_| (Some(column.to_string()), format!("'{s}' is not a number"))),
        };
        match self {
            Cell::Str(s) => parse(s),
            Cell::Num(x) => Ok(Some(*x)),
            Cell::Int(i) => Ok(Some(*i as f64)),
            Cell::Bool(b) => Ok(Some(f64::from(u8::from(*b)))),
            Cell::Json(Value::Number(n)) => Ok(n.as_f64()),
            Cell::Json(Value::Bool(b)) => Ok(Some(f64::from(u8::from(*b)))),
            Cell::Json(Value::String(s)) => parse(s),
            Cell::Json(v) => Err((Some(column.to_string()), format!("{v} is not a number"))),
        }
    }
}

/// One input record, whatever the file format.
trait Record {
    /// The non-null value of a column.
    fn cell(&self, column: &str) -> Option<Cell<'_>>;
    /// The `meta` JSON object of the record.
    fn meta(&self, m: &ColumnMapping, mapped: &[&str]) -> String;
}

impl Record for Map<String, Value> {
    fn cell(&self, column: &str) -> Option<Cell<'_>> {
        match self.get(column)? {
            Value::Null => None,
            Value::String(s) => Some(Cell::Str(s)),
            Value::Bool(b) => Some(Cell::Bool(*b)),
            v => Some(Cell::Json(v)),
        }
    }

    fn meta(&self, m: &ColumnMapping, mapped: &[&str]) -> String {
        let meta: Map<String, Value> = match &m.meta {
            MetaColumns::Keyword(k) if k != "rest" => Map::new(),
            MetaColumns::Rest | MetaColumns::Keyword(_) => self
                .iter()
                .filter(|(k, _)| !mapped.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            MetaColumns::List(cols) => cols
                .iter()
                .filter_map(|k| self.get(k).map(|v| (k.clone(), v.clone())))
                .collect(),
        };
        Value::Object(meta).to_string()
    }
}

/// Turn one record into a row.
fn row_of(
    rec: &impl Record,
    m: &ColumnMapping,
    threshold: f64,
    source: String,
) -> std::result::Result<SampleRow, (Option<String>, String)> {
    let get = |field: &str| rec.cell(m.column(field));
    let req =
        |field: &str, constant: &Option<String>| -> std::result::Result<String, (Option<String>, String)> {
            match (get(field), constant) {
                (Some(v), _) => Ok(v.text()),
                (None, Some(cst)) => Ok(cst.clone()),
                (None, None) => Err((
                    Some(m.column(field).to_string()),
                    format!("missing; map the '{field}' field in --columns or give it as a constant"),
                )),
            }
        };
    let opt = |field: &str| get(field).map(|v| v.text());
    let num = |field: &str| -> std::result::Result<Option<f64>, (Option<String>, String)> {
        match get(field) {
            None => Ok(None),
            Some(v) => v.number(m.column(field)),
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
    let meta = rec.meta(m, &mapped);
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
        meta,
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

/// One column of a Parquet batch, cast once to a type the mapping reads.
enum Col {
    Str(polars::prelude::StringChunked),
    F64(polars::prelude::Float64Chunked),
    I64(polars::prelude::Int64Chunked),
    Bool(polars::prelude::BooleanChunked),
}

/// The columns of a Parquet batch the mapping reads (mapped or `meta`).
struct FrameColumns {
    names: Vec<String>,
    cols: Vec<Col>,
    /// Indices of the columns that go into `meta`.
    meta: Vec<usize>,
}

impl FrameColumns {
    fn new(df: &polars::prelude::DataFrame, m: &ColumnMapping) -> std::result::Result<FrameColumns, String> {
        use polars::prelude::*;
        let mapped: Vec<&str> = FIELDS.iter().map(|f| m.column(f)).collect();
        let mut out = FrameColumns {
            names: Vec::new(),
            cols: Vec::new(),
            meta: Vec::new(),
        };
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
            let s = col.as_materialized_series().rechunk();
            let err = |e: PolarsError| format!("column '{name}' ({}): {e}", s.dtype());
            let c = match s.dtype() {
                DataType::Boolean => Col::Bool(s.bool().map_err(err)?.clone()),
                dt if dt.is_integer() => {
                    Col::I64(s.cast(&DataType::Int64).map_err(err)?.i64().map_err(err)?.clone())
                }
                dt if dt.is_primitive_numeric() => Col::F64(
                    s.cast(&DataType::Float64)
                        .map_err(err)?
                        .f64()
                        .map_err(err)?
                        .clone(),
                ),
                _ => Col::Str(
                    s.cast(&DataType::String)
                        .map_err(err)?
                        .str()
                        .map_err(err)?
                        .clone(),
                ),
            };
            if in_meta {
                out.meta.push(out.cols.len());
            }
            out.names.push(name);
            out.cols.push(c);
        }
        Ok(out)
    }
}

/// Row `row` of a Parquet batch.
struct FrameRecord<'f> {
    f: &'f FrameColumns,
    row: usize,
}

impl FrameRecord<'_> {
    fn at(&self, k: usize) -> Option<Cell<'_>> {
        match &self.f.cols[k] {
            Col::Str(c) => c.get(self.row).map(Cell::Str),
            Col::F64(c) => c.get(self.row).map(Cell::Num),
            Col::I64(c) => c.get(self.row).map(Cell::Int),
            Col::Bool(c) => c.get(self.row).map(Cell::Bool),
        }
    }
}

impl Record for FrameRecord<'_> {
    fn cell(&self, column: &str) -> Option<Cell<'_>> {
        let k = self.f.names.iter().position(|n| n == column)?;
        self.at(k)
    }

    fn meta(&self, _m: &ColumnMapping, _mapped: &[&str]) -> String {
        if self.f.meta.is_empty() {
            return "{}".to_string();
        }
        let mut obj = Map::new();
        for &k in &self.f.meta {
            let v = match self.at(k) {
                None => Value::Null,
                Some(Cell::Str(s)) => Value::String(s.to_string()),
                Some(Cell::Num(x)) => serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number),
                Some(Cell::Int(i)) => Value::from(i),
                Some(Cell::Bool(b)) => Value::Bool(b),
                Some(Cell::Json(v)) => v.clone(),
            };
            obj.insert(self.f.names[k].clone(), v);
        }
        Value::Object(obj).to_string()
    }
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
                    res: std::result::Result<SampleRow, (Option<String>, String)>,
                    sink: &mut Sink<'_>,
                    report: &mut IngestReport|
     -> Result<()> {
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
        let mut tr = std::time::Instant::now();
        crate::table::for_each_batch(path, &cols, |df, offset| {
            crate::trace::add("generic.read", tr.elapsed());
            let f = FrameColumns::new(df, &mapping).map_err(|m| Error::frame(path, m))?;
            // Parquet has no lines: errors name the 1-based row. Rows are
            // converted in parallel, in chunks, and handed on in order.
            use rayon::prelude::*;
            const CHUNK: usize = 1 << 15;
            for start in (0..df.height()).step_by(CHUNK) {
                let end = (start + CHUNK).min(df.height());
                let rows: Vec<_> = (start..end)
                    .into_par_iter()
                    .map(|row| {
                        let line = offset + row + 1;
                        let rec = FrameRecord { f: &f, row };
                        row_of(&rec, &mapping, threshold, format!("{display}:{line}"))
                    })
                    .collect();
                for (k, res) in rows.into_iter().enumerate() {
                    take(offset + start + k + 1, res, sink, report)?;
                }
            }
            tr = std::time::Instant::now();
            Ok(())
        })?;
    } else {
        for_each_record(path, |line, rec| {
            let res = rec
                .map_err(|m| (None, m))
                .and_then(|r| row_of(&r, &mapping, threshold, format!("{display}:{line}")));
            take(line, res, sink, report)
        })?;
    }
    let join = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>().join(",");
    report.add_file(path, "generic", &join(runs), &join(tasks), rows);
    Ok(())
}
