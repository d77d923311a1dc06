//! Imported labels: per-item labels made elsewhere (an LLM labeler, a
//! person), read from JSONL, CSV or Parquet, validated against the declared
//! axes, compared between labelers, and applied to the tagged table with
//! their provenance (`label:<labeler>` in `tag_rules`). This is the paper's
//! protocol (PAPER.md section 1): two labelers, agreements kept,
//! disagreements to a person, whose adjudicated labels take precedence.
//!
//! A label record (one JSONL object, CSV row or Parquet row):
//! - `benchmark` (required) and `item_id` or `doc_hash` (the item key of
//!   the sample table: lm-evaluation-harness items are keyed by doc hash);
//! - `labeler` (required): who made the label;
//! - one field per axis: a value, a list of values (JSONL / Parquet list
//!   column), or in CSV `a;b` or a JSON list `["a","b"]`; empty, null or
//!   absent means "not labelled on this axis". Numbers are taken as their
//!   text (`2` is the value `2`);
//! - informational fields, ignored: `task`, `target`, `text`, `candidates`,
//!   `status`, `note` (what `labels export` and the disagreement file write).
//!
//! Any other field is an error naming the file, line and field, as is an
//! undeclared value, an item not in the sample table, or the same labeler
//! labelling an item twice.

pub mod agree;
pub mod apply;
pub mod export;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::taxonomy::{Axis, UNKNOWN_VALUE};

/// Fields of a label record that carry no label.
pub const INFO_FIELDS: &[&str] = &["task", "target", "text", "candidates", "status", "note"];

/// Most errors listed in one message; the rest are counted.
const MAX_ERRORS: usize = 20;

/// The key of an item across runs and tasks: (benchmark, item id).
pub type ItemKey = (String, String);

/// What the sample table says about one item (its first row).
#[derive(Debug, Clone, PartialEq)]
pub struct ItemInfo {
    pub task: String,
    pub target: Option<String>,
    /// The doc fields as JSON text.
    pub meta: String,
}

/// Every item of a sample table, by key, in key order.
pub type ItemIndex = BTreeMap<ItemKey, ItemInfo>;

/// Read the items of a sample table (benchmark, item id, task, target, meta
/// of each item's first row).
pub fn item_index(samples: &Path) -> Result<ItemIndex> {
    use crate::table::columns as c;
    let mut out = ItemIndex::new();
    crate::table::for_each_batch(
        samples,
        &[c::BENCHMARK, c::TASK, c::ITEM_ID, c::TARGET, c::META],
        |df, _| {
            let s = |name: &str| {
                df.column(name)
                    .and_then(|c| c.str().cloned())
                    .map_err(|e| Error::frame(samples, e))
            };
            let (b, t, i, tg, m) = (
                s(c::BENCHMARK)?,
                s(c::TASK)?,
                s(c::ITEM_ID)?,
                s(c::TARGET)?,
                s(c::META)?,
            );
            for r in 0..df.height() {
                let key = (
                    b.get(r).unwrap_or_default().to_string(),
                    i.get(r).unwrap_or_default().to_string(),
                );
                out.entry(key).or_insert_with(|| ItemInfo {
                    task: t.get(r).unwrap_or_default().to_string(),
                    target: tg.get(r).map(str::to_string),
                    meta: m.get(r).unwrap_or_default().to_string(),
                });
            }
            Ok(())
        },
    )?;
    Ok(out)
}

/// One label record as read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelRecord {
    /// `file:line` (line: 1-based line of JSONL / CSV, 1-based row of Parquet).
    pub location: String,
    pub benchmark: String,
    pub item_id: String,
    pub labeler: String,
    /// (axis index, sorted distinct values) for every labelled axis.
    pub values: Vec<(usize, Vec<String>)>,
}

/// Label records of one or more files, validated against the axes and items.
#[derive(Debug, Default)]
pub struct LabelFiles {
    pub records: Vec<LabelRecord>,
    /// (path, SHA-256, records) per file, in the order given.
    pub files: Vec<(PathBuf, String, usize)>,
}

/// Read and validate label files. `axes` are the declared axes of the
/// tagged table; every record's item must be in `items`. All errors are
/// reported at once (up to 20 listed).
pub fn read(paths: &[PathBuf], axes: &[Axis], items: &ItemIndex) -> Result<LabelFiles> {
    let mut out = LabelFiles::default();
    let mut errors = Vec::new();
    let mut seen: BTreeMap<(String, String, String), String> = BTreeMap::new();
    for path in paths {
        let bytes = crate::error::read_file(path)?;
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&bytes))
        };
        let before = out.records.len();
        let mut on_row = |line: usize, row: std::result::Result<Map<String, Value>, String>| {
            let location = format!("{}:{line}", path.display());
            match row
                .map_err(|e| vec![e])
                .and_then(|r| record(&location, r, axes, items))
            {
                Ok(rec) => {
                    let key = (rec.benchmark.clone(), rec.item_id.clone(), rec.labeler.clone());
                    if let Some(first) = seen.get(&key) {
                        errors.push(format!(
                            "{location}: labeler '{}' labels item '{}' of benchmark '{}' again (first at {first}); one record per labeler and item",
                            rec.labeler, rec.item_id, rec.benchmark
                        ));
                    } else {
                        seen.insert(key, location.clone());
                        out.records.push(rec);
                    }
                }
                Err(problems) => errors.extend(problems.into_iter().map(|e| format!("{location}: {e}"))),
            }
        };
        rows(path, &bytes, &mut on_row)?;
        out.files.push((path.clone(), sha, out.records.len() - before));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        let n = errors.len();
        let mut msg = errors.into_iter().take(MAX_ERRORS).collect::<Vec<_>>().join("\n");
        if n > MAX_ERRORS {
            msg.push_str(&format!("\n... and {} more errors", n - MAX_ERRORS));
        }
        Err(Error::usage(msg))
    }
}

/// Call `f` with every row of a label file as a JSON object (or why it is
/// not one), with its line (row for Parquet).
fn rows(
    path: &Path,
    bytes: &[u8],
    f: &mut dyn FnMut(usize, std::result::Result<Map<String, Value>, String>),
) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "jsonl" | "json" => {
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let rec = match std::str::from_utf8(line) {
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => serde_json::from_str::<Map<String, Value>>(l)
                        .map_err(|e| format!("not a JSON object: {e}")),
                    Err(e) => Err(format!("not UTF-8: {e}")),
                };
                f(i + 1, rec);
            }
            Ok(())
        }
        "csv" => {
            let mut rdr = csv::Reader::from_reader(bytes);
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
                            .map(|(h, v)| (h.to_string(), csv_cell(h, v)))
                            .collect();
                        f(line, Ok(map));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line() as usize);
                        f(line, Err(e.to_string()));
                    }
                }
            }
            Ok(())
        }
        "parquet" => parquet_rows(path, bytes, f),
        _ => Err(Error::usage(format!(
            "{}: label files must be .jsonl, .csv or .parquet",
            path.display()
        ))),
    }
}

/// A CSV cell: empty -> null; a JSON list; else `a;b` split (axis fields)
/// or the text.
fn csv_cell(header: &str, v: &str) -> Value {
    let v = v.trim();
    if v.is_empty() {
        return Value::Null;
    }
    if v.starts_with('[') {
        if let Ok(list @ Value::Array(_)) = serde_json::from_str::<Value>(v) {
            return list;
        }
    }
    if v.contains(';') && !INFO_FIELDS.contains(&header) {
        return Value::Array(
            v.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        );
    }
    Value::String(v.to_string())
}

fn parquet_rows(
    path: &Path,
    bytes: &[u8],
    f: &mut dyn FnMut(usize, std::result::Result<Map<String, Value>, String>),
) -> Result<()> {
    use polars::prelude::*;
    // Page headers checked and polars panics caught: a corrupt file is an
    // error naming it, never a crash.
    let df = crate::table::pages::read_whole(path, bytes)?;
    let mut cols: Vec<(String, Vec<Value>)> = Vec::new();
    for col in df.columns() {
        let name = col.name().to_string();
        let s = col.as_materialized_series().rechunk();
        let bad = |e: PolarsError| Error::frame(path, format!("column '{name}' ({}): {e}", s.dtype()));
        let values: Vec<Value> = match s.dtype() {
            DataType::List(_) => {
                let l = s.list().map_err(bad)?;
                (0..l.len())
                    .map(|i| match l.get_as_series(i) {
                        None => Ok(Value::Null),
                        Some(inner) => {
                            let inner = inner.cast(&DataType::String).map_err(bad)?;
                            Ok(Value::Array(
                                inner
                                    .str()
                                    .map_err(bad)?
                                    .iter()
                                    .flatten()
                                    .map(|x| Value::String(x.to_string()))
                                    .collect(),
                            ))
                        }
                    })
                    .collect::<Result<_>>()?
            }
            _ => {
                let st = s.cast(&DataType::String).map_err(bad)?;
                st.str()
                    .map_err(bad)?
                    .iter()
                    .map(|x| x.map_or(Value::Null, |x| Value::String(x.to_string())))
                    .collect()
            }
        };
        cols.push((name, values));
    }
    for r in 0..df.height() {
        let map = cols.iter().map(|(n, v)| (n.clone(), v[r].clone())).collect();
        f(r + 1, Ok(map));
    }
    Ok(())
}

/// The text of a scalar JSON value (strings as they are, numbers and
/// booleans as their JSON text).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Validate one record.
fn record(
    location: &str,
    row: Map<String, Value>,
    axes: &[Axis],
    items: &ItemIndex,
) -> std::result::Result<LabelRecord, Vec<String>> {
    let one = |e: String| vec![e];
    let text_field = |name: &str| -> std::result::Result<Option<String>, String> {
        match row.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match scalar_text(v) {
                Some(s) if !s.is_empty() => Ok(Some(s)),
                Some(_) => Ok(None),
                None => Err(format!("field '{name}': expected a string, found {v}")),
            },
        }
    };
    let benchmark = text_field("benchmark")
        .map_err(one)?
        .ok_or_else(|| one("field 'benchmark': missing; every label names its benchmark".into()))?;
    let item_id = match (
        text_field("item_id").map_err(one)?,
        text_field("doc_hash").map_err(one)?,
    ) {
        (Some(a), Some(b)) if a != b => {
            return Err(one(format!(
                "fields 'item_id' and 'doc_hash' differ ('{a}' vs '{b}'); give one of them"
            )))
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(one(
                "field 'item_id': missing; give `item_id` (or `doc_hash`) as in the sample table".into(),
            ))
        }
    };
    let labeler = text_field("labeler")
        .map_err(one)?
        .ok_or_else(|| one("field 'labeler': missing; every label names who made it".into()))?;
    if !items.contains_key(&(benchmark.clone(), item_id.clone())) {
        return Err(one(format!(
            "field 'item_id': unknown item '{item_id}' of benchmark '{benchmark}': it is not in the sample table"
        )));
    }
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for (key, v) in &row {
        if matches!(key.as_str(), "benchmark" | "item_id" | "doc_hash" | "labeler")
            || INFO_FIELDS.contains(&key.as_str())
        {
            continue;
        }
        let Some(ix) = axes.iter().position(|a| &a.name == key) else {
            let names: Vec<&str> = axes.iter().map(|a| a.name.as_str()).collect();
            let hint = closest(key, &names)
                .map(|c| format!("did you mean '{c}'? "))
                .unwrap_or_default();
            problems.push(format!(
                "field '{key}': unknown axis '{key}'; {hint}declared axes: {}",
                names.join(", ")
            ));
            continue;
        };
        let list: Vec<String> = match v {
            Value::Null => continue,
            Value::Array(a) => {
                let mut out = Vec::new();
                for x in a {
                    match scalar_text(x) {
                        Some(s) => out.push(s),
                        None => problems.push(format!("field '{key}': expected values, found {x}")),
                    }
                }
                out
            }
            other => match scalar_text(other) {
                Some(s) if s.is_empty() => continue,
                Some(s) => vec![s],
                None => {
                    problems.push(format!(
                        "field '{key}': expected a value or a list of values, found {other}"
                    ));
                    continue;
                }
            },
        };
        let axis = &axes[ix];
        let mut set = BTreeSet::new();
        for s in list {
            if s == UNKNOWN_VALUE {
                problems.push(format!(
                    "field '{key}': `unknown` is reserved; leave the field empty for an axis not labelled"
                ));
            } else if !axis.values.contains(&s) {
                let vals: Vec<&str> = axis.values.iter().map(String::as_str).collect();
                let hint = closest(&s, &vals)
                    .map(|c| format!("did you mean '{c}'? "))
                    .unwrap_or_default();
                problems.push(format!(
                    "field '{key}': unknown axis value '{s}' for axis {key}; {hint}known values: {}",
                    vals.join(", ")
                ));
            } else {
                set.insert(s);
            }
        }
        if !set.is_empty() {
            values.push((ix, set.into_iter().collect()));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    values.sort();
    Ok(LabelRecord {
        location: location.to_string(),
        benchmark,
        item_id,
        labeler,
        values,
    })
}

fn closest<'a>(s: &str, options: &[&'a str]) -> Option<&'a str> {
    options
        .iter()
        .map(|o| (strsim::jaro_winkler(s, o), *o))
        .filter(|(d, _)| *d > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, o)| o)
}
