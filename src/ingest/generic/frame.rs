//! Rows of generic Parquet files: columns cast once per batch, cells read
//! by index.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Cell, ColumnMapping, MetaColumns, Record, FIELDS};
use crate::error::{Error, Result};

/// One column of a Parquet batch, cast once to a type the mapping reads.
pub(super) enum Col {
    Str(polars::prelude::StringChunked),
    F64(polars::prelude::Float64Chunked),
    I64(polars::prelude::Int64Chunked),
    Bool(polars::prelude::BooleanChunked),
    /// Nested, temporal and other columns: each value as JSON.
    Json(Vec<Value>),
}

/// The columns of a Parquet batch the mapping reads (mapped or `meta`).
pub(super) struct FrameColumns {
    names: Vec<String>,
    pub(super) cols: Vec<Col>,
    /// Canonical field -> index of the column it maps to, when present.
    pub(super) field_ix: rustc_hash::FxHashMap<&'static str, usize>,
    /// Indices of the columns that go into `meta`.
    pub(super) meta: Vec<usize>,
}

impl FrameColumns {
    pub(super) fn new(
        df: &polars::prelude::DataFrame,
        m: &ColumnMapping,
    ) -> std::result::Result<FrameColumns, String> {
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
/// values are not in `meta`), and its number of rows.
pub(super) fn parquet_plan(path: &Path, m: &ColumnMapping) -> Result<(Vec<String>, Vec<String>, usize)> {
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
    let rows = reader.get_metadata().map_err(|e| Error::frame(path, e))?.num_rows;
    Ok((read, dropped, rows))
}

/// Row `row` of a Parquet batch.
pub(super) struct FrameRecord<'f> {
    pub(super) f: &'f FrameColumns,
    pub(super) row: usize,
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
