//! Generic Parquet batches converted column by column into the canonical
//! frame, without building a row.
//!
//! [`super::row_of`] is the reference: for each canonical field it reads
//! one cell, checks it and gives the value. Here each field is read as a
//! whole column slice (a text column the input already holds is passed on
//! as it is, unsliced bytes and all) and checked the same way. Anything the
//! row path would reject or treat specially (an error, a null that needs a
//! constant it does not have, `score_by`, a type other than string, integer,
//! float or bool where a number is read) makes the whole batch `None`, and
//! the caller reads that batch row by row, which gives the exact error or
//! skip. A frame given here is the frame [`crate::table::frame_of`] builds
//! from the rows `row_of` gives (tested in this module and in
//! `tests/suite/stream_props.rs`).

use polars::prelude::*;

use super::frame::{Col, FrameColumns, FrameRecord};
use super::ColumnMapping;
use crate::table::columns as c;

/// What a batch's conversion needs besides its columns.
pub(super) struct Convert<'a> {
    pub mapping: &'a ColumnMapping,
    pub mapped: &'a [&'a str],
    pub threshold: f64,
    /// `--run`: every row's run.
    pub run: Option<&'a str>,
    /// The file as rows name it in `source` (`file:row`).
    pub display: &'a str,
    /// Rows of the file before this batch.
    pub offset: usize,
}

/// The batch `f` (of `len` rows) as a canonical frame, or `None` when some
/// row needs the row path.
pub(super) fn canonical_batch(f: &FrameColumns, len: usize, cv: &Convert<'_>) -> Option<DataFrame> {
    let m = cv.mapping;
    let col = |field: &str| f.field_ix.get(field).map(|&k| &f.cols[k]);
    let run = match cv.run {
        Some(r) => StringChunked::full(c::RUN.into(), r, len),
        None => required(col(c::RUN), &m.run, len)?,
    };
    let benchmark = required(col(c::BENCHMARK), &m.benchmark, len)?;
    let task = required(col(c::TASK), &m.task, len)?;
    let item_id = required(col(c::ITEM_ID), &None, len)?;
    let (score, correct) = scores(col(c::SCORE), col(c::CORRECT), cv.threshold, len)?;
    // `row_of` reads a missing sample index as 0.
    let sample_idx: Vec<u32> = whole(col(c::SAMPLE_IDX), len)?
        .iter()
        .map(|x| x.unwrap_or(0))
        .collect();
    let response = optional(col(c::RESPONSE), len)?;
    let response_chars: Vec<u32> = response
        .iter()
        .map(|r| r.map_or(0, |r| if r.is_ascii() { r.len() } else { r.chars().count() }) as u32)
        .collect();
    let meta = if f.meta.is_empty() {
        StringChunked::full(c::META.into(), "{}", len)
    } else {
        use rayon::prelude::*;
        let rows: Vec<String> = (0..len)
            .into_par_iter()
            .map(|row| super::Record::meta(&FrameRecord { f, row }, m, cv.mapped))
            .collect();
        StringChunked::from_iter_values(c::META.into(), rows.iter().map(String::as_str))
    };
    let mut source = StringChunkedBuilder::new(c::SOURCE.into(), len);
    let mut buf = String::with_capacity(cv.display.len() + 12);
    for row in 0..len {
        use std::fmt::Write;
        buf.clear();
        let _ = write!(buf, "{}:{}", cv.display, cv.offset + row + 1);
        source.append_value(buf.as_str());
    }
    let named = |s: StringChunked, name: &str| s.with_name(name.into()).into_column();
    let cols = vec![
        named(run, c::RUN),
        named(benchmark, c::BENCHMARK),
        named(task, c::TASK),
        named(optional(col(c::FILTER), len)?, c::FILTER),
        Column::new(c::PRIMARY_FILTER.into(), vec![true; len]),
        named(item_id, c::ITEM_ID),
        Column::new(c::SAMPLE_IDX.into(), sample_idx),
        named(optional(col(c::PROMPT), len)?, c::PROMPT),
        named(optional(col(c::TARGET), len)?, c::TARGET),
        named(response, c::RESPONSE),
        named(optional(col(c::EXTRACTED), len)?, c::EXTRACTED),
        Column::new(c::SCORE.into(), score),
        Column::new(c::CORRECT.into(), correct),
        named(optional(col(c::FINISH_REASON), len)?, c::FINISH_REASON),
        whole(col(c::RESPONSE_TOKENS), len)?
            .with_name(c::RESPONSE_TOKENS.into())
            .into_column(),
        Column::new(c::RESPONSE_CHARS.into(), response_chars),
        named(meta, c::META),
        named(optional(col(c::PROMPT_HASH), len)?, c::PROMPT_HASH),
        named(optional(col(c::TASK_VERSION), len)?, c::TASK_VERSION),
        UInt32Chunked::full_null(c::N_SHOT.into(), len).into_column(),
        whole(col(c::MAX_GEN_TOKS), len)?
            .with_name(c::MAX_GEN_TOKS.into())
            .into_column(),
        source.finish().into_column(),
    ];
    let df = DataFrame::new(len, cols).ok()?;
    crate::ingest::batch::canonical(&df)
}

/// A text field a row must have (`req` in `row_of`): the column's text, or
/// the constant where it is null or absent; `None` for an empty value, a
/// null without a constant, or a type whose text this path does not write.
fn required(col: Option<&Col>, constant: &Option<String>, len: usize) -> Option<StringChunked> {
    let s = match col {
        None => {
            return constant
                .as_deref()
                .map(|k| StringChunked::full("".into(), k, len))
        }
        Some(c) => text(c)?,
    };
    if s.iter().any(|v| v.is_some_and(|v| v.trim().is_empty())) {
        return None;
    }
    if s.null_count() == 0 {
        return Some(s);
    }
    let k = constant.as_deref()?;
    Some(s.iter().map(|v| Some(v.unwrap_or(k))).collect())
}

/// A text field that may be null (`opt` in `row_of`).
fn optional(col: Option<&Col>, len: usize) -> Option<StringChunked> {
    match col {
        None => Some(StringChunked::full_null("".into(), len)),
        Some(c) => text(c),
    }
}

/// A column's cells as `Cell::text` gives them: strings as they are,
/// integers in decimal. Other types go row by row.
fn text(col: &Col) -> Option<StringChunked> {
    match col {
        Col::Str(s) => Some(s.clone()),
        Col::I64(x) => Some(x.iter().map(|v| v.map(|i| i.to_string())).collect()),
        _ => None,
    }
}

/// The numbers of a column as `Cell::number` reads them; `None` for text
/// (parsed row by row) and JSON.
fn numbers(col: Option<&Col>, len: usize) -> Option<Vec<Option<f64>>> {
    Some(match col {
        None => vec![None; len],
        Some(Col::F64(x)) => x.iter().collect(),
        Some(Col::I64(x)) => x.iter().map(|v| v.map(|i| i as f64)).collect(),
        Some(Col::Bool(x)) => x.iter().map(|v| v.map(|b| f64::from(u8::from(b)))).collect(),
        Some(_) => return None,
    })
}

/// Score and correctness per row, as `row_of` decides them; `None` when a
/// row has neither (an error, or `score_by`), a correctness other than 0
/// or 1, or a score that is NaN or outside [0, 1].
fn scores(
    score: Option<&Col>,
    correct: Option<&Col>,
    threshold: f64,
    len: usize,
) -> Option<(Vec<f64>, Vec<bool>)> {
    let score = numbers(score, len)?;
    let correct = numbers(correct, len)?;
    let mut s_out = Vec::with_capacity(len);
    let mut c_out = Vec::with_capacity(len);
    for (s, cv) in score.into_iter().zip(correct) {
        if cv.is_some_and(|x| x != 0.0 && x != 1.0) {
            return None;
        }
        let (s, ok) = match (s, cv) {
            (Some(s), Some(cv)) => (s, cv >= 0.5),
            (Some(s), None) => (s, s >= threshold),
            (None, Some(cv)) => (cv, cv >= 0.5),
            (None, None) => return None,
        };
        if s.is_nan() || !(0.0..=1.0).contains(&s) {
            return None;
        }
        s_out.push(s);
        c_out.push(ok);
    }
    Some((s_out, c_out))
}

/// A non-negative integer field (`to_u32` in `row_of`), nulls kept.
fn whole(col: Option<&Col>, len: usize) -> Option<UInt32Chunked> {
    let fits = |x: f64| x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX);
    let mut out: Vec<Option<u32>> = Vec::with_capacity(len);
    match col {
        None => return Some(UInt32Chunked::full_null("".into(), len)),
        Some(Col::I64(x)) => {
            for v in x.iter() {
                match v {
                    Some(i) if fits(i as f64) => out.push(Some(i as u32)),
                    Some(_) => return None,
                    None => out.push(None),
                }
            }
        }
        Some(Col::F64(x)) => {
            for v in x.iter() {
                match v {
                    Some(f) if fits(f) => out.push(Some(f as u32)),
                    Some(_) => return None,
                    None => out.push(None),
                }
            }
        }
        Some(_) => return None,
    }
    Some(out.into_iter().collect())
}
