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
    /// Score rows that have no score or correct column by comparing the
    /// extracted answer (`extracted`) with the target (`target`).
    pub score_by: Option<ScoreBy>,
}

/// How `score_by` compares an extracted answer with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreBy {
    /// The same text once surrounding whitespace is trimmed.
    Exact,
    /// The same after lowercasing, dropping punctuation and the articles
    /// a/an/the, and collapsing whitespace (SQuAD's normalisation).
    Normalized,
    /// The same number (commas, `$` and `%` ignored), within 1e-6 relative.
    Numeric,
}

impl ScoreBy {
    /// Does `answer` match `target`?
    pub fn matches(self, answer: &str, target: &str) -> bool {
        match self {
            ScoreBy::Exact => answer.trim() == target.trim(),
            ScoreBy::Normalized => normalize(answer) == normalize(target),
            ScoreBy::Numeric => match (number_of(answer), number_of(target)) {
                (Some(a), Some(t)) => (a - t).abs() <= 1e-6 * t.abs().max(1.0),
                _ => false,
            },
        }
    }
}

fn normalize(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    lower
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn number_of(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '%'))
        .collect();
    t.trim().parse::<f64>().ok().filter(|x| x.is_finite())
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
        let text = crate::config::read_config_text(path)?;
        let m: ColumnMapping = crate::config::parse_yaml(path, &text)?;
        // Every mistake at once, each at its line.
        let mut errors = Vec::new();
        let mut err = |keys: &[&str], message: String| {
            let (line, col) = match crate::settings::locate(&text, keys) {
                (0, _) => crate::settings::locate(&text, &keys[..1]),
                at => at,
            };
            errors.push(crate::config::ConfigError {
                file: path.to_path_buf(),
                line,
                col,
                message,
                excerpt: String::new(),
            });
        };
        for k in m.columns.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            err(
                &["columns", k],
                format!(
                    "unknown field '{k}' under columns; known fields: {}",
                    FIELDS.join(", ")
                ),
            );
        }
        for (k, col) in &m.columns {
            if col.trim().is_empty() {
                err(
                    &["columns", k],
                    format!("columns: '{k}' maps to an empty column name"),
                );
            }
        }
        if let Some(t) = m.pass_threshold {
            if !t.is_finite() {
                err(
                    &["pass_threshold"],
                    format!("pass_threshold: {t} is not a number; give the score at or above which a row is correct, e.g. 1.0"),
                );
            }
        }
        if let MetaColumns::Keyword(k) = &m.meta {
            if k != "rest" && k != "none" {
                err(
                    &["meta"],
                    format!("meta: '{k}' is not valid; use rest, none, or a list of columns"),
                );
            }
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            errors.sort_by_key(|e| (e.line, e.col));
            Err(Error::Config(crate::config::ConfigErrors(errors)))
        }
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
    /// The non-null value of the column a canonical field maps to.
    fn field(&self, m: &ColumnMapping, field: &str) -> Option<Cell<'_>> {
        self.cell(m.column(field))
    }
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
    mapped: &[&str],
    threshold: f64,
    source: String,
) -> std::result::Result<SampleRow, (Option<String>, String)> {
    let get = |field: &str| rec.field(m, field);
    let req =
        |field: &str, constant: &Option<String>| -> std::result::Result<String, (Option<String>, String)> {
            match (get(field), constant) {
                (Some(v), _) if v.text().trim().is_empty() => Err((
                    Some(m.column(field).to_string()),
                    format!("empty; a row needs a non-empty {field}"),
                )),
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
    let correct = match num(c::CORRECT)? {
        Some(x) if x == 0.0 || x == 1.0 => Some(x),
        Some(_) => {
            let shown = get(c::CORRECT).map(|v| v.text()).unwrap_or_default();
            return Err((
                Some(m.column(c::CORRECT).to_string()),
                format!("'{shown}' is not a correctness value; use true/false or 1/0 (a graded value belongs in score)"),
            ));
        }
        None => None,
    };
    let (score, correct) = match (score, correct, m.score_by) {
        (Some(s), Some(cv), _) => (s, cv >= 0.5),
        (Some(s), None, _) => (s, s >= threshold),
        (None, Some(cv), _) => (cv, cv >= 0.5),
        (None, None, Some(by)) => {
            let target = get(c::TARGET).map(|v| v.text()).ok_or_else(|| {
                (
                    Some(m.column(c::TARGET).to_string()),
                    "missing: score_by compares the extracted answer with the target".to_string(),
                )
            })?;
            // No extracted answer (extraction failed) scores 0.
            let ok = get(c::EXTRACTED).is_some_and(|a| by.matches(&a.text(), &target));
            (f64::from(u8::from(ok)), ok)
        }
        (None, None, None) => {
            return Err((
                Some(m.column(c::SCORE).to_string()),
                "missing: a row needs a score or a correct column, or score_by in the column mapping (exact, normalized or numeric) to score the extracted answer against the target".to_string(),
            ))
        }
    };
    if score.is_nan() {
        return Err((
            Some(m.column(c::SCORE).to_string()),
            "is NaN (Python's json writes NaN for a missing value): the record is unscored; give it a score, or use --skip-bad to skip and list it".to_string(),
        ));
    }
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
    let meta = rec.meta(m, mapped);
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

fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(line)
}

/// One JSON object. Python's `json.dumps` writes bare `NaN`, `Infinity` and
/// `-Infinity`, which JSON does not allow: they are read as the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"` (a NaN score makes the record
/// unscored, an error naming the field; in `meta` they stay text). A key
/// given twice keeps its last value, as Python's `json` does.
pub fn parse_object(line: &str) -> std::result::Result<Map<String, Value>, String> {
    match serde_json::from_str::<Map<String, Value>>(line) {
        Ok(m) => Ok(m),
        Err(e) => {
            let fixed = non_finite_as_strings(line);
            if fixed.len() != line.len() {
                if let Ok(m) = serde_json::from_str::<Map<String, Value>>(&fixed) {
                    return Ok(m);
                }
            }
            Err(format!("not a JSON object: {e}"))
        }
    }
}

/// JSON text with bare `NaN`, `Infinity`, `-Infinity` (outside strings)
/// turned into strings.
pub fn non_finite_as_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let (mut i, mut last, mut in_str) = (0, 0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let prev_ok = i == 0 || matches!(b[i - 1], b':' | b',' | b'[' | b' ' | b'\t' | b'\n' | b'\r');
        let tok = ["-Infinity", "Infinity", "NaN"].into_iter().find(|tok| {
            let t = tok.as_bytes();
            prev_ok && b[i..].starts_with(t) && b.get(i + t.len()).is_none_or(|n| !n.is_ascii_alphanumeric())
        });
        match tok {
            Some(tok) => {
                out.push_str(&text[last..i]);
                out.push('"');
                out.push_str(tok);
                out.push('"');
                i += tok.len();
                last = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[last..]);
    out
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
                let line = if i == 0 { strip_bom(&line) } else { &line[..] };
                let rec = match std::str::from_utf8(line) {
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => parse_object(l),
                    Err(e) => Err(format!(
                        "not UTF-8: invalid byte 0x{:02x} at column {}; save the file as UTF-8",
                        line[e.valid_up_to()],
                        e.valid_up_to() + 1
                    )),
                };
                f(i + 1, rec)?;
            }
            Ok(())
        }
        "json" => {
            let bytes = crate::error::read_file(path)?;
            let text = crate::config::text_of(path, bytes)
                .map_err(|e| Error::input(path, e.line, None, e.message))?;
            let fixed;
            let (src, items): (&str, Vec<&serde_json::value::RawValue>) = match serde_json::from_str(&text) {
                Ok(v) => (text.as_str(), v),
                Err(e) => {
                    fixed = non_finite_as_strings(&text);
                    match serde_json::from_str(&fixed) {
                        Ok(v) if fixed.len() > text.len() => (fixed.as_str(), v),
                        _ => {
                            return Err(Error::input(
                                path,
                                e.line(),
                                None,
                                format!("not a JSON array of records: {e}; a generic .json file holds one array of objects (use .jsonl for one object per line)"),
                            ))
                        }
                    }
                }
            };
            // Lines of the records: counted forward once, in order.
            let (mut at, mut line) = (0usize, 1usize);
            for (k, raw) in items.iter().enumerate() {
                let g = raw.get();
                let off = (g.as_ptr() as usize)
                    .saturating_sub(src.as_ptr() as usize)
                    .min(src.len());
                if off >= at {
                    line += src.as_bytes()[at..off].iter().filter(|&&b| b == b'\n').count();
                    at = off;
                }
                let rec = serde_json::from_str::<Map<String, Value>>(g)
                    .map_err(|e| format!("record {} is not a JSON object: {e}", k + 1));
                f(line, rec)?;
            }
            Ok(())
        }
        "csv" => {
            super::csv_quotes::check(path)?;
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
            "{}: generic input must be .jsonl, .json (an array of records), .csv or .parquet",
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
    /// Nested, temporal and other columns: each value as JSON.
    Json(Vec<Value>),
}

/// The columns of a Parquet batch the mapping reads (mapped or `meta`).
struct FrameColumns {
    names: Vec<String>,
    cols: Vec<Col>,
    /// Canonical field -> index of the column it maps to, when present.
    field_ix: rustc_hash::FxHashMap<&'static str, usize>,
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
            field_ix: Default::default(),
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
                // Strict casts: a value that does not fit is an error, never a null.
                dt if dt.is_integer() => match s.strict_cast(&DataType::Int64) {
                    Ok(x) => Col::I64(x.i64().map_err(err)?.clone()),
                    Err(_) => Col::F64(
                        s.cast(&DataType::Float64)
                            .map_err(err)?
                            .f64()
                            .map_err(err)?
                            .clone(),
                    ),
                },
                dt if dt.is_primitive_numeric() || dt.is_decimal() => Col::F64(
                    s.strict_cast(&DataType::Float64)
                        .map_err(err)?
                        .f64()
                        .map_err(err)?
                        .clone(),
                ),
                DataType::String => Col::Str(s.str().map_err(err)?.clone()),
                dt if dt.is_temporal() => match s.cast(&DataType::String) {
                    Ok(x) => Col::Str(x.str().map_err(err)?.clone()),
                    Err(_) => Col::Json(s.iter().map(any_to_json).collect()),
                },
                _ => Col::Json(s.iter().map(any_to_json).collect()),
            };
            if in_meta {
                out.meta.push(out.cols.len());
            }
            out.names.push(name);
            out.cols.push(c);
        }
        for &f in FIELDS {
            if let Some(k) = out.names.iter().position(|n| n == m.column(f)) {
                out.field_ix.insert(f, k);
            }
        }
        Ok(out)
    }
}

/// A Parquet value as JSON: structs as objects, lists as arrays, temporal
/// values as their text, non-finite floats as the strings `NaN`, `inf`, `-inf`.
fn any_to_json(av: polars::prelude::AnyValue<'_>) -> Value {
    use polars::prelude::AnyValue as A;
    let float =
        |x: f64| serde_json::Number::from_f64(x).map_or_else(|| Value::String(x.to_string()), Value::Number);
    match av.into_static() {
        A::Null => Value::Null,
        A::Boolean(b) => Value::Bool(b),
        A::String(s) => Value::String(s.to_string()),
        A::StringOwned(s) => Value::String(s.to_string()),
        A::Float32(x) => float(f64::from(x)),
        A::Float64(x) => float(x),
        A::List(series) => Value::Array(series.iter().map(any_to_json).collect()),
        A::StructOwned(payload) => {
            let (values, fields) = *payload;
            Value::Object(
                fields
                    .iter()
                    .zip(values)
                    .map(|(f, v)| (f.name().to_string(), any_to_json(v)))
                    .collect(),
            )
        }
        A::BinaryOwned(b) => Value::String(String::from_utf8_lossy(&b).into_owned()),
        av if av.is_integer() => av
            .extract::<i64>()
            .map(Value::from)
            .or_else(|| av.extract::<u64>().map(Value::from))
            .unwrap_or_else(|| Value::String(av.to_string())),
        av if av.is_float() => av.extract::<f64>().map_or(Value::Null, float),
        av => match av.extract::<f64>() {
            Some(x) if matches!(av, A::Decimal(..)) => float(x),
            _ => Value::String(av.to_string()),
        },
    }
}

/// Can this build read a Parquet column of this Arrow type? (polars panics
/// on some types instead of returning an error, so they are checked first.)
fn readable(dt: &polars::prelude::ArrowDataType) -> bool {
    use polars::prelude::ArrowDataType as A;
    match dt {
        A::Float16
        | A::Int128
        | A::UInt128
        | A::FixedSizeList(..)
        | A::FixedSizeBinary(_)
        | A::Decimal256(..)
        | A::Interval(_)
        | A::Union(_)
        | A::Extension(_)
        | A::Unknown => false,
        A::Decimal(p, _) => *p <= 38,
        A::Dictionary(_, v, _) => readable(v),
        A::List(f) | A::LargeList(f) | A::Map(f, _) => readable(&f.dtype),
        A::Struct(fs) => fs.iter().all(|f| readable(&f.dtype)),
        _ => true,
    }
}

/// The columns of a Parquet file to read, and the message for each column
/// of a type caploop cannot read (an error when mapped, else a warning: its
/// values are not in `meta`).
fn parquet_plan(path: &Path, m: &ColumnMapping) -> Result<(Vec<String>, Vec<String>)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    use polars::prelude::SerReader;
    let mut reader = polars::prelude::ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| Error::frame(path, e))?;
    let mapped: Vec<&str> = FIELDS.iter().map(|f| m.column(f)).collect();
    let mut read = Vec::new();
    let mut dropped = Vec::new();
    for (name, field) in schema.iter() {
        if readable(&field.dtype) {
            read.push(name.to_string());
            continue;
        }
        let what = format!(
            "column '{name}' has Parquet/Arrow type {:?}, which caploop cannot read; cast it (e.g. to float64, int64 or string) when writing the file",
            field.dtype
        );
        if mapped.contains(&name.as_str()) {
            return Err(Error::frame(path, what));
        }
        let in_meta = match &m.meta {
            MetaColumns::Rest => true,
            MetaColumns::Keyword(k) => k == "rest",
            MetaColumns::List(cols) => cols.iter().any(|c| c == name.as_str()),
        };
        if in_meta {
            dropped.push(format!("{}: {what}; its values are not in meta", path.display()));
        }
    }
    Ok((read, dropped))
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
            Col::Json(c) => match &c[self.row] {
                Value::Null => None,
                v => Some(Cell::Json(v)),
            },
        }
    }
}

impl Record for FrameRecord<'_> {
    fn cell(&self, column: &str) -> Option<Cell<'_>> {
        let k = self.f.names.iter().position(|n| n == column)?;
        self.at(k)
    }

    fn field(&self, m: &ColumnMapping, field: &str) -> Option<Cell<'_>> {
        match self.f.field_ix.get(field) {
            Some(&k) => self.at(k),
            None => self.cell(m.column(field)),
        }
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
    let mapped: Vec<&str> = FIELDS.iter().map(|f| mapping.column(f)).collect();
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
        // polars panics on some malformed Parquet metadata instead of
        // returning an error (found by fuzz/generic_parquet): such a file is
        // an error naming it, never a crash.
        let (cols, dropped) =
            crate::table::guard::catch(path, || "its metadata".into(), || parquet_plan(path, &mapping))?;
        report.warnings.extend(dropped);
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
                        row_of(&rec, &mapping, &mapped, threshold, format!("{display}:{line}"))
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
                .and_then(|r| row_of(&r, &mapping, &mapped, threshold, format!("{display}:{line}")));
            take(line, res, sink, report)
        })?;
    }
    let join = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>().join(",");
    report.add_file(path, "generic", &join(runs), &join(tasks), rows);
    Ok(())
}
