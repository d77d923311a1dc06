//! Corpus manifests (Parquet or JSONL), read in streaming batches.
//!
//! A manifest row is one document: `doc_id` (string), `tokens` (a
//! non-negative integer), `category` (a data-taxonomy path), and an optional
//! label column (a list of strings; null or missing = no labels). Bad rows
//! are errors naming the file, the row (1-based; the line for JSONL) and the
//! field: never skipped.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};

pub const DOC_ID: &str = "doc_id";
pub const TOKENS: &str = "tokens";
pub const CATEGORY: &str = "category";

/// Rows per JSONL batch.
const JSONL_BATCH: usize = 1 << 16;

/// One batch of documents, borrowed from the frame or the parsed lines.
#[derive(Debug, Default)]
pub struct Batch<'a> {
    pub ids: Vec<&'a str>,
    pub tokens: Vec<u64>,
    pub cats: Vec<&'a str>,
    /// Labels of row `i`: `labels[off[i]..off[i + 1]]`.
    pub off: Vec<usize>,
    pub labels: Vec<&'a str>,
}

impl<'a> Batch<'a> {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn labels_of(&self, i: usize) -> &[&'a str] {
        &self.labels[self.off[i]..self.off[i + 1]]
    }
}

/// Is this file JSONL (by extension)?
pub fn is_jsonl(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("jsonl" | "json" | "ndjson")
    )
}

/// The column names of a manifest (JSONL: the keys of its first record).
pub fn columns(path: &Path) -> Result<Vec<String>> {
    if is_jsonl(path) {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        for (n, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| Error::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&line)
                .map_err(|e| Error::input(path, n + 1, None, format!("not JSON: {e}")))?;
            return match v {
                serde_json::Value::Object(m) => Ok(m.keys().cloned().collect()),
                _ => Err(Error::input(
                    path,
                    n + 1,
                    None,
                    "a manifest line must be a JSON object",
                )),
            };
        }
        Ok(Vec::new())
    } else {
        crate::table::parquet_column_names(path)
    }
}

/// Call `f` with every batch of `path`, with the 1-based number of its first
/// row. `label` is the label column to read, if any.
pub fn for_each_batch(
    path: &Path,
    label: Option<&str>,
    mut f: impl FnMut(&Batch<'_>, usize) -> Result<()>,
) -> Result<()> {
    if is_jsonl(path) {
        jsonl_batches(path, label, &mut f)
    } else {
        parquet_batches(path, label, &mut f)
    }
}

fn parquet_batches(
    path: &Path,
    label: Option<&str>,
    f: &mut dyn FnMut(&Batch<'_>, usize) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = crate::table::guard::catch(
        path,
        || "its metadata".into(),
        || reader.schema().map_err(|e| Error::frame(path, e)),
    )?;
    let mut cols = vec![DOC_ID, TOKENS, CATEGORY];
    if let Some(l) = label {
        if schema.contains(l) {
            cols.push(l);
        }
    }
    let missing: Vec<&str> = cols[..3]
        .iter()
        .copied()
        .filter(|c| !schema.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(Error::frame(
            path,
            format!(
                "not a corpus manifest: missing column(s) {} (a manifest has doc_id, tokens, category and optional label columns)",
                missing.join(", ")
            ),
        ));
    }
    drop(reader);
    let label = (cols.len() == 4).then(|| cols[3]);
    crate::table::for_each_batch(path, &cols, |df, offset| {
        frame_batch(path, df, label, offset + 1, f)
    })
}

fn frame_batch(
    path: &Path,
    df: &DataFrame,
    label: Option<&str>,
    first: usize,
    f: &mut dyn FnMut(&Batch<'_>, usize) -> Result<()>,
) -> Result<()> {
    let fe = |e: PolarsError| Error::frame(path, e);
    let col_err = |name: &str, want: &str| {
        Error::frame(
            path,
            format!(
                "column '{name}' has type {}, expected {want}",
                df.column(name).map(|c| c.dtype().to_string()).unwrap_or_default()
            ),
        )
    };
    let ids = df
        .column(DOC_ID)
        .map_err(fe)?
        .str()
        .map_err(|_| col_err(DOC_ID, "string"))?;
    let cats = df
        .column(CATEGORY)
        .map_err(fe)?
        .str()
        .map_err(|_| col_err(CATEGORY, "string"))?;
    let tok_col = df.column(TOKENS).map_err(fe)?;
    if !tok_col.dtype().is_integer() {
        return Err(col_err(TOKENS, "an integer"));
    }
    let tok = tok_col.cast(&DataType::Int64).map_err(fe)?;
    let tok = tok.i64().map_err(fe)?;
    let mut b = Batch::default();
    let n = df.height();
    b.ids.reserve(n);
    b.cats.reserve(n);
    b.tokens.reserve(n);
    for (i, ((id, c), t)) in ids.iter().zip(cats.iter()).zip(tok.iter()).enumerate() {
        let row = first + i;
        let id = id.ok_or_else(|| Error::input(path, row, Some(DOC_ID), "doc_id is null"))?;
        let c = c.ok_or_else(|| Error::input(path, row, Some(CATEGORY), "category is null"))?;
        let t = match t {
            Some(t) if t >= 0 => t as u64,
            Some(t) => {
                return Err(Error::input(
                    path,
                    row,
                    Some(TOKENS),
                    format!("tokens is negative ({t})"),
                ))
            }
            None => return Err(Error::input(path, row, Some(TOKENS), "tokens is null")),
        };
        b.ids.push(id);
        b.cats.push(c);
        b.tokens.push(t);
    }
    b.off.reserve(n + 1);
    b.off.push(0);
    let lc_holder;
    let inner;
    match label {
        Some(name) => {
            let col = df.column(name).map_err(fe)?;
            let lc = col.list().map_err(|_| col_err(name, "a list of strings"))?;
            lc_holder = lc.rechunk();
            let arr = lc_holder.downcast_as_array();
            inner = lc_holder.get_inner();
            let vals = inner.str().map_err(|_| col_err(name, "a list of strings"))?;
            let offs = arr.offsets().as_slice();
            let valid = arr.validity();
            let vals: Vec<Option<&str>> = vals.iter().collect();
            for i in 0..n {
                if valid.is_none_or(|v| v.get_bit(i)) {
                    for (j, v) in vals[offs[i] as usize..offs[i + 1] as usize].iter().enumerate() {
                        match v {
                            Some(s) => b.labels.push(s),
                            None => {
                                return Err(Error::input(
                                    path,
                                    first + i,
                                    Some(name),
                                    format!("label {} is null", j + 1),
                                ))
                            }
                        }
                    }
                }
                b.off.push(b.labels.len());
            }
            f(&b, first)
        }
        None => {
            b.off.resize(n + 1, 0);
            f(&b, first)
        }
    }
}

/// One JSONL record, owned.
struct Owned {
    id: String,
    tokens: u64,
    cat: String,
    labels: Vec<String>,
}

fn jsonl_batches(
    path: &Path,
    label: Option<&str>,
    f: &mut dyn FnMut(&Batch<'_>, usize) -> Result<()>,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rows: Vec<Owned> = Vec::with_capacity(JSONL_BATCH);
    let mut first = 1usize;
    let flush = |rows: &mut Vec<Owned>, first: usize, f: &mut dyn FnMut(&Batch<'_>, usize) -> Result<()>| {
        let mut b = Batch::default();
        b.off.push(0);
        for r in rows.iter() {
            b.ids.push(&r.id);
            b.cats.push(&r.cat);
            b.tokens.push(r.tokens);
            b.labels.extend(r.labels.iter().map(String::as_str));
            b.off.push(b.labels.len());
        }
        let out = f(&b, first);
        rows.clear();
        out
    };
    let mut line_no = 0usize;
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        line_no += 1;
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        if rows.is_empty() {
            first = line_no;
        }
        rows.push(parse_line(path, line_no, &line, label)?);
        if rows.len() == JSONL_BATCH {
            flush(&mut rows, first, f)?;
        }
    }
    if !rows.is_empty() {
        flush(&mut rows, first, f)?;
    }
    Ok(())
}

fn parse_line(path: &Path, n: usize, line: &str, label: Option<&str>) -> Result<Owned> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| Error::input(path, n, None, format!("not JSON: {e}")))?;
    let serde_json::Value::Object(m) = v else {
        return Err(Error::input(
            path,
            n,
            None,
            "a manifest line must be a JSON object",
        ));
    };
    let s = |k: &str| -> Result<String> {
        match m.get(k) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(Error::input(
                path,
                n,
                Some(k),
                format!("expected a string, found {other}"),
            )),
            None => Err(Error::input(path, n, Some(k), "missing")),
        }
    };
    let id = s(DOC_ID)?;
    let cat = s(CATEGORY)?;
    let tokens = match m.get(TOKENS) {
        Some(t) => t.as_u64().ok_or_else(|| {
            Error::input(
                path,
                n,
                Some(TOKENS),
                format!("expected a non-negative integer, found {t}"),
            )
        })?,
        None => return Err(Error::input(path, n, Some(TOKENS), "missing")),
    };
    let mut labels = Vec::new();
    if let Some(l) = label {
        match m.get(l) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::Array(a)) => {
                for (j, x) in a.iter().enumerate() {
                    match x.as_str() {
                        Some(s) => labels.push(s.to_string()),
                        None => {
                            return Err(Error::input(
                                path,
                                n,
                                Some(l),
                                format!("label {} is not a string: {x}", j + 1),
                            ))
                        }
                    }
                }
            }
            Some(other) => {
                return Err(Error::input(
                    path,
                    n,
                    Some(l),
                    format!("expected a list of strings, found {other}"),
                ))
            }
        }
    }
    Ok(Owned {
        id,
        tokens,
        cat,
        labels,
    })
}
