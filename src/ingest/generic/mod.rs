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

use std::path::Path;

use serde_json::{Map, Value};

use super::sink::Sink;
use super::{IngestOptions, IngestReport, Skipped};
use crate::error::{Error, Result};
use crate::table::columns as c;
use crate::table::SampleRow;
mod columnar;
mod frame;
mod mapping;
mod parquet;
mod records;

use mapping::FIELDS;
pub use mapping::{ColumnMapping, MetaColumns, ScoreBy};
use records::for_each_record;
pub use records::{non_finite_as_strings, parse_object};

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

/// Read one generic file into the sink.
pub fn read(path: &Path, opts: &IngestOptions, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    let mapping = match &opts.columns {
        Some(p) => ColumnMapping::load(p)?,
        None => ColumnMapping::default(),
    };
    let threshold = mapping.pass_threshold.unwrap_or(opts.pass_threshold);
    let mapped: Vec<&str> = FIELDS.iter().map(|f| mapping.column(f)).collect();
    let display = path.display().to_string();
    let mut tally = Tally::default();
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let file = File {
        path,
        display: &display,
        opts,
        mapping: &mapping,
        mapped: &mapped,
        threshold,
    };
    if ext == "parquet" {
        parquet::read(&file, &mut tally, sink, report)?;
    } else {
        for_each_record(path, |line, rec| {
            let res = rec
                .map_err(|m| (None, m))
                .and_then(|r| row_of(&r, &mapping, &mapped, threshold, format!("{display}:{line}")));
            file.take(&mut tally, line, res, sink, report)
        })?;
    }
    let Tally { rows, runs, tasks } = tally;
    let join = |s: rustc_hash::FxHashSet<String>| {
        let mut s: Vec<String> = s.into_iter().collect();
        s.sort_unstable();
        s.join(",")
    };
    report.add_file(path, "generic", &join(runs), &join(tasks), rows);
    Ok(())
}

#[cfg(test)]
mod tests;

/// One file being read, and how its records become rows.
struct File<'a> {
    path: &'a Path,
    /// The path as rows name it in `source`.
    display: &'a str,
    opts: &'a IngestOptions,
    mapping: &'a ColumnMapping,
    mapped: &'a [&'a str],
    threshold: f64,
}

impl File<'_> {
    /// Hand one converted record to the sink, or report it (an error, or
    /// a skip under `--skip-bad`) at its line.
    fn take(
        &self,
        tally: &mut Tally,
        line: usize,
        res: std::result::Result<SampleRow, (Option<String>, String)>,
        sink: &mut Sink<'_>,
        report: &mut IngestReport,
    ) -> Result<()> {
        match res {
            Ok(mut row) => {
                if let Some(run) = &self.opts.run {
                    row.run = run.clone();
                }
                tally.add(&row.run, &row.task);
                sink.push(row, report)
            }
            Err((field, message)) => {
                let e = Error::input(self.path, line, field.as_deref(), message);
                if self.opts.skip_bad {
                    report.skipped.push(Skipped::from_error(&e));
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }
}

/// What one file held: rows, runs and tasks.
#[derive(Default)]
struct Tally {
    rows: usize,
    runs: rustc_hash::FxHashSet<String>,
    tasks: rustc_hash::FxHashSet<String>,
}

impl Tally {
    fn add(&mut self, run: &str, task: &str) {
        self.rows += 1;
        if !self.runs.contains(run) {
            self.runs.insert(run.to_string());
        }
        if !self.tasks.contains(task) {
            self.tasks.insert(task.to_string());
        }
    }
}
