//! Generic Parquet files, row group by row group.
//!
//! A row group whose every row converts is turned into the canonical frame
//! column by column (`columnar.rs`) and cut where the sink would end its
//! batches had it been given the rows one by one ([`Sink::push`]: at
//! `batch_rows` rows or [`BATCH_BYTES`] of text). Each whole batch goes to
//! the sink as one frame and is written as it is; rows left over at the end
//! of a row group are carried into the next. Whatever joins rows the sink
//! already holds (from an earlier file, or a row group read row by row)
//! goes row by row, as does every row group with a row the columnar path
//! does not convert (an error, a skip, a type it leaves to `row_of`). So
//! the batches, hence `samples.parquet`, are the row path's, byte for byte
//! (tested in `tests.rs`).

use polars::prelude::DataFrame;

use super::columnar::{canonical_batch, Convert};
use super::frame::{parquet_plan, FrameColumns, FrameRecord};
use super::{row_of, File, Tally};
use crate::error::{Error, Result};
use crate::ingest::sink::{Sink, BATCH_BYTES};
use crate::ingest::IngestReport;
use crate::table::columns as c;

#[cfg(test)]
thread_local! {
    /// Tests set this to read every row group row by row (the reference).
    pub(super) static ROWS_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Batches handed to the sink as canonical frames.
    pub(super) static COLUMNAR_BATCHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn rows_only() -> bool {
    #[cfg(test)]
    return ROWS_ONLY.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// Canonical rows read but not yet handed to the sink: the start of a
/// batch the sink has no row of.
#[derive(Default)]
struct Carry {
    parts: Vec<DataFrame>,
    rows: usize,
    bytes: usize,
}

/// A batch converted ahead: its mapped columns and, when every row
/// converts, its canonical frame with each row's text bytes.
struct Prepared {
    f: FrameColumns,
    rows: usize,
    whole: Option<(DataFrame, Vec<usize>)>,
}

/// Read one generic Parquet file into the sink.
pub(super) fn read(
    file: &File<'_>,
    tally: &mut Tally,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let path = file.path;
    // polars panics on some malformed Parquet metadata instead of
    // returning an error (found by fuzz/generic_parquet): such a file is
    // an error naming it, never a crash.
    let (cols, dropped, rows) = crate::table::guard::catch(
        path,
        || "its metadata".into(),
        || parquet_plan(path, file.mapping),
    )?;
    report.warnings.extend(dropped);
    sink.reserve(rows);
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let columnar = !sink.short_run_ids && !rows_only();
    let mut carry = Carry::default();
    // Converting a batch (the mapped columns, then the canonical frame and
    // its text lengths) runs on the decoding thread, one batch ahead.
    let prepare = |df: DataFrame, offset: usize| -> Result<Prepared> {
        let t0 = std::time::Instant::now();
        let f = FrameColumns::new(&df, file.mapping).map_err(|m| Error::frame(path, m))?;
        let whole = match columnar {
            true => canonical_batch(
                &f,
                df.height(),
                &Convert {
                    mapping: file.mapping,
                    mapped: file.mapped,
                    threshold: file.threshold,
                    run: file.opts.run.as_deref(),
                    display: file.display,
                    offset,
                },
            ),
            false => None,
        }
        .map(|whole| {
            let lens = text_bytes(&whole);
            (whole, lens)
        });
        crate::trace::add("generic.columns", t0.elapsed());
        Ok(Prepared {
            f,
            rows: df.height(),
            whole,
        })
    };
    let mut tr = std::time::Instant::now();
    crate::table::for_each_prepared(path, &cols, prepare, |batch, offset| {
        crate::trace::add("generic.read", tr.elapsed());
        let Prepared { f, rows, whole } = batch;
        let Some((whole, lens)) = whole else {
            hand_over(&mut carry, sink, report)?;
            return by_rows(file, &f, offset, (0, rows), tally, sink, report);
        };
        // The batch in progress is the sink's (it holds rows) or the carry's.
        let in_sink = |sink: &Sink<'_>| sink.pending().0 > 0;
        let (mut n, mut bytes) = match in_sink(sink) {
            true => sink.pending(),
            false => (carry.rows, carry.bytes),
        };
        let mut from = 0;
        for (i, len) in lens.iter().enumerate() {
            n += 1;
            bytes += len;
            if n < sink.batch_rows() && bytes < BATCH_BYTES {
                continue;
            }
            let to = i + 1;
            if in_sink(sink) {
                by_rows(file, &f, offset, (from, to), tally, sink, report)?;
            } else {
                let part = whole.slice(from as i64, to - from);
                tally.add_frame(&part);
                let batch = match carry.parts.is_empty() {
                    true => part,
                    false => {
                        carry.parts.push(part);
                        concat(std::mem::take(&mut carry).parts)?
                    }
                };
                #[cfg(test)]
                COLUMNAR_BATCHES.with(|c| c.set(c.get() + 1));
                sink.push_canonical(batch, report)?;
            }
            (n, bytes, from) = (0, 0, to);
        }
        if from < whole.height() {
            if in_sink(sink) {
                by_rows(file, &f, offset, (from, whole.height()), tally, sink, report)?;
            } else {
                let part = whole.slice(from as i64, whole.height() - from);
                tally.add_frame(&part);
                carry.rows += part.height();
                carry.bytes += lens[from..].iter().sum::<usize>();
                carry.parts.push(part);
            }
        }
        tr = std::time::Instant::now();
        Ok(())
    })?;
    // The next file's rows join these in the sink, row by row.
    hand_over(&mut carry, sink, report)
}

/// Rows `from..to` of a row group, converted one by one (in parallel, in
/// chunks, handed on in order). Parquet has no lines: errors name the
/// 1-based row.
fn by_rows(
    file: &File<'_>,
    f: &FrameColumns,
    offset: usize,
    (from, to): (usize, usize),
    tally: &mut Tally,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 15;
    for start in (from..to).step_by(CHUNK) {
        let end = (start + CHUNK).min(to);
        let rows: Vec<_> = (start..end)
            .into_par_iter()
            .map(|row| {
                let line = offset + row + 1;
                let rec = FrameRecord { f, row };
                let source = format!("{}:{line}", file.display);
                row_of(&rec, file.mapping, file.mapped, file.threshold, source)
            })
            .collect();
        for (k, res) in rows.into_iter().enumerate() {
            file.take(tally, offset + start + k + 1, res, sink, report)?;
        }
    }
    Ok(())
}

/// Give the carried rows to the sink as rows (already counted in the
/// tally), so that rows read row by row join them.
fn hand_over(carry: &mut Carry, sink: &mut Sink<'_>, report: &mut IngestReport) -> Result<()> {
    for part in std::mem::take(&mut carry.parts) {
        let t = crate::table::table_of_frame(&part)
            .map_err(|e| Error::Usage(format!("cannot read back a batch of samples: {e}")))?;
        for i in 0..t.len() {
            sink.push(t.row(i), report)?;
        }
    }
    *carry = Carry::default();
    Ok(())
}

/// Frames stacked into one, in one chunk per column (as a batch built from
/// rows is).
fn concat(parts: Vec<DataFrame>) -> Result<DataFrame> {
    let mut parts = parts.into_iter();
    let Some(mut out) = parts.next() else {
        unreachable!("a carried batch has a part")
    };
    let unreadable =
        |e: polars::prelude::PolarsError| Error::Usage(format!("cannot join batches of samples: {e}"));
    for p in parts {
        out.vstack_mut(&p).map_err(unreadable)?;
    }
    out.rechunk_mut();
    Ok(out)
}

/// Each row's text bytes as the sink counts them ([`Sink::push`]).
fn text_bytes(whole: &DataFrame) -> Vec<usize> {
    let mut out = vec![0; whole.height()];
    for name in [c::PROMPT, c::RESPONSE, c::TARGET, c::META, c::ITEM_ID] {
        let Some(s) = whole.column(name).ok().and_then(|c| c.str().ok()) else {
            unreachable!("a canonical frame has every text column")
        };
        for (o, v) in out.iter_mut().zip(s.iter()) {
            *o += v.map_or(0, str::len);
        }
    }
    out
}

impl Tally {
    /// The rows of a canonical frame.
    fn add_frame(&mut self, df: &DataFrame) {
        let strs = |name: &str| df.column(name).ok().and_then(|c| c.str().ok().cloned());
        let (Some(runs), Some(tasks)) = (strs(c::RUN), strs(c::TASK)) else {
            unreachable!("a canonical frame has run and task columns")
        };
        let mut last: Option<(&str, &str)> = None;
        for pair in runs.iter().zip(tasks.iter()) {
            let pair = (pair.0.unwrap_or(""), pair.1.unwrap_or(""));
            if last == Some(pair) {
                self.rows += 1;
            } else {
                self.add(pair.0, pair.1);
                last = Some(pair);
            }
        }
    }
}
