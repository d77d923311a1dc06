//! Parquet I/O of the canonical table through polars.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::columns as c;
use super::{SampleTable, TagSet, Tags};
use crate::error::{Error, Result};

fn str_col(name: &str, v: &[String]) -> Column {
    Column::new(name.into(), v)
}

fn opt_str_col(name: &str, v: &[Option<String>]) -> Column {
    Column::new(name.into(), v)
}

/// A batch as a frame, without its tags (the writer takes those apart,
/// as [`super::TagColumns`]).
pub fn frame_of(t: &SampleTable) -> Result<DataFrame> {
    frame(t).map_err(|e| Error::Usage(format!("cannot build the sample table: {e}")))
}

fn frame(t: &SampleTable) -> PolarsResult<DataFrame> {
    let cols = vec![
        str_col(c::RUN, &t.run),
        str_col(c::BENCHMARK, &t.benchmark),
        str_col(c::TASK, &t.task),
        opt_str_col(c::FILTER, &t.filter),
        Column::new(c::PRIMARY_FILTER.into(), &t.primary_filter),
        str_col(c::ITEM_ID, &t.item_id),
        Column::new(c::SAMPLE_IDX.into(), &t.sample_idx),
        opt_str_col(c::PROMPT, &t.prompt),
        opt_str_col(c::TARGET, &t.target),
        opt_str_col(c::RESPONSE, &t.response),
        opt_str_col(c::EXTRACTED, &t.extracted),
        Column::new(c::SCORE.into(), &t.score),
        Column::new(c::CORRECT.into(), &t.correct),
        opt_str_col(c::FINISH_REASON, &t.finish_reason),
        Column::new(c::RESPONSE_TOKENS.into(), &t.response_tokens),
        Column::new(c::RESPONSE_CHARS.into(), &t.response_chars),
        str_col(c::META, &t.meta),
        opt_str_col(c::PROMPT_HASH, &t.prompt_hash),
        opt_str_col(c::TASK_VERSION, &t.task_version),
        Column::new(c::N_SHOT.into(), &t.n_shot),
        Column::new(c::MAX_GEN_TOKS.into(), &t.max_gen_toks),
        str_col(c::SOURCE, &t.source),
    ];
    DataFrame::new(t.len(), cols)
}

/// Write the table (and its tags, when present) to a Parquet file.
pub fn write_parquet(t: &SampleTable, path: &Path) -> Result<()> {
    let df = frame(t).map_err(|e| Error::frame(path, e))?;
    let tags = t
        .tags
        .as_ref()
        .map(|tags| super::TagColumns::from_sets(&tags.axes, &tags.sets, &tags.row_set));
    super::write::write_table(&df, tags.as_ref(), path)
}

/// A reader of a Parquet file that has every one of `columns`.
fn open_checked(path: &Path, columns: &[&str]) -> Result<ParquetReader<File>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = schema_of(path, &mut reader)?;
    let missing: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|name| !schema.contains(name))
        .collect();
    if !missing.is_empty() {
        return Err(Error::frame(
            path,
            format!(
                "not a caploop sample table: missing column(s) {}; write it with `caploop ingest` (and `caploop tag` for tag columns)",
                missing.join(", ")
            ),
        ));
    }
    Ok(reader)
}

/// The schema of a Parquet file (its footer metadata decoded), a polars
/// panic on malformed metadata caught.
pub(crate) fn schema_of(path: &Path, reader: &mut ParquetReader<File>) -> Result<Arc<ArrowSchema>> {
    super::guard::catch(
        path,
        || "its metadata".into(),
        || reader.schema().map_err(|e| Error::frame(path, e)),
    )
}

/// Call `f` with each batch of rows of a Parquet file, holding only the
/// given columns (checked to exist), with the row offset of the batch. A
/// batch is a row group, or a slice of [`SLICE_ROWS`] rows of a larger one
/// (a generic file is often written as one group of a million rows; polars
/// decodes a slice for about its share of the group's time). A batch that
/// does not decode (a corrupt data page: a polars error or panic) is an
/// error naming the file, the row group, the rows and the column.
///
/// Batches of at most [`PREFETCH_BYTES`] (uncompressed) are decoded one
/// ahead on a second thread while `f` runs on this one (two are held at
/// once), in order; an error is returned when its batch's turn comes, after
/// `f` has seen every batch before it. A file with a larger batch is read
/// one batch at a time, so it is never held twice.
pub fn for_each_batch(
    path: &Path,
    columns: &[&str],
    mut f: impl FnMut(&DataFrame, usize) -> Result<()>,
) -> Result<()> {
    for_each_prepared(path, columns, |df, _| Ok(df), |df, offset| f(&df, offset))
}

/// [`for_each_batch`], with `prepare` run on each batch first: on the
/// decoding thread, while `f` runs on the batch before (a reader's
/// conversion of a batch to canonical columns overlaps with the sink's
/// work on the last one). `prepare` sees the batches in order; its error,
/// like a decoding error, is returned when its batch's turn comes.
pub fn for_each_prepared<T: Send>(
    path: &Path,
    columns: &[&str],
    prepare: impl Fn(DataFrame, usize) -> Result<T> + Sync,
    mut f: impl FnMut(T, usize) -> Result<()>,
) -> Result<()> {
    let md = metadata(path, columns)?;
    each_unit(
        &md,
        |u| read_unit(path, columns, &md, u).and_then(|df| prepare(df, u.offset)),
        |t, u| f(t, u.offset),
    )
}

/// [`for_each_batch`] of `columns`, each batch with the `extra` columns
/// too when `want_extra()` holds as the reading thread starts on it (a
/// guess: a stage that needs the tags of new items only). `f` gets the
/// batch, its row offset and a frame of the batch's `extra` columns: the
/// batch itself when they were read with it, else read now. Every column
/// is checked to exist first.
pub fn for_each_batch_extra(
    path: &Path,
    columns: &[&str],
    extra: &[&str],
    want_extra: impl Fn() -> bool + Sync,
    mut f: impl FnMut(&DataFrame, usize, &dyn Fn() -> Result<DataFrame>) -> Result<()>,
) -> Result<()> {
    let all: Vec<&str> = columns.iter().chain(extra).copied().collect();
    let md = metadata(path, &all)?;
    let read = |u: &Unit| {
        let with = want_extra();
        read_unit(path, if with { &all } else { columns }, &md, u).map(|df| (df, with))
    };
    each_unit(&md, read, |(df, with), u| {
        // A frame's clone shares its columns.
        f(&df, u.offset, &|| match with {
            true => Ok(df.clone()),
            false => read_unit(path, extra, &md, u),
        })
    })
}

/// The footer of a Parquet file that has every one of `columns`.
fn metadata(path: &Path, columns: &[&str]) -> Result<Arc<polars_parquet::parquet::metadata::FileMetadata>> {
    let mut reader = open_checked(path, columns)?;
    super::guard::catch(
        path,
        || "its metadata".into(),
        || Ok(reader.get_metadata().map_err(|e| Error::frame(path, e))?.clone()),
    )
}

/// Read each [`Unit`] of a file (see [`for_each_batch`]: one ahead on a
/// second thread when they are small enough) and hand it to `f`, in order.
fn each_unit<T: Send>(
    md: &polars_parquet::parquet::metadata::FileMetadata,
    read: impl Fn(&Unit) -> Result<T> + Sync,
    mut f: impl FnMut(T, &Unit) -> Result<()>,
) -> Result<()> {
    let units = units(md);
    if units.iter().any(|u| u.bytes > PREFETCH_BYTES) {
        for u in &units {
            f(read(u)?, u)?;
        }
        return Ok(());
    }
    // A rendezvous: the next batch waits, decoded, until `f` is done.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<(T, usize)>>(0);
    std::thread::scope(|scope| {
        // `tx` moves in: when the reader ends, the channel closes.
        let (units, read) = (&units, &read);
        scope.spawn(move || {
            for (k, u) in units.iter().enumerate() {
                let batch = read(u).map(|t| (t, k));
                let failed = batch.is_err();
                // The receiver is gone when `f` failed: stop reading.
                if tx.send(batch).is_err() || failed {
                    return;
                }
            }
        });
        for batch in rx {
            let (t, k) = batch?;
            f(t, &units[k])?;
        }
        Ok(())
    })
}

/// The largest batch (uncompressed) [`for_each_batch`] decodes ahead:
/// caploop's own tables hold at most 65,536 rows and 32 MiB of text a group.
pub const PREFETCH_BYTES: usize = 64 << 20;

/// Rows of a larger row group [`for_each_batch`] reads at a time: the
/// sink's batch (so a generic file's slices are its batches).
pub const SLICE_ROWS: usize = crate::ingest::sink::BATCH_ROWS;

/// One read of [`for_each_batch`]: rows `offset..offset + rows` of the
/// file, in row group `group` (whose pages are checked with its first
/// slice), about `bytes` uncompressed.
struct Unit {
    group: usize,
    first: bool,
    offset: usize,
    rows: usize,
    bytes: usize,
}

fn units(md: &polars_parquet::parquet::metadata::FileMetadata) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut offset = 0usize;
    for (k, g) in md.row_groups.iter().enumerate() {
        let n = g.num_rows();
        let mut done = 0;
        while done < n {
            let rows = SLICE_ROWS.min(n - done);
            out.push(Unit {
                group: k,
                first: done == 0,
                offset: offset + done,
                rows,
                bytes: (g.total_byte_size() as u128 * rows as u128 / n as u128) as usize,
            });
            done += rows;
        }
        offset += n;
    }
    out
}

/// One [`Unit`] of a Parquet file, as a frame.
fn read_unit(
    path: &Path,
    columns: &[&str],
    md: &std::sync::Arc<polars_parquet::parquet::metadata::FileMetadata>,
    u: &Unit,
) -> Result<DataFrame> {
    let groups = md.row_groups.len();
    // Ok(Err(polars error)) or Err(panic message).
    let read = |cols: &[&str]| -> Result<std::result::Result<PolarsResult<DataFrame>, String>> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut r = ParquetReader::new(file);
        r.set_metadata(md.clone());
        Ok(super::guard::catch_panic(|| {
            r.with_columns(Some(cols.iter().map(|s| s.to_string()).collect()))
                .with_slice(Some((u.offset, u.rows)))
                .finish()
        }))
    };
    if u.first {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        super::pages::check(path, &mut file, md, u.group, Some(columns))?;
    }
    match read(columns)? {
        Ok(Ok(df)) => Ok(df),
        failed => {
            let mut part = format!(
                "row group {} of {groups} (rows {}-{})",
                u.group + 1,
                u.offset + 1,
                u.offset + u.rows
            );
            // Name the column that does not decode, reading one at a time.
            for c in columns {
                if !matches!(read(&[c])?, Ok(Ok(_))) {
                    part = format!("{part}, column '{c}'");
                    break;
                }
            }
            Err(match failed {
                Ok(Err(e)) => Error::frame(path, format!("{part} does not decode: {e}")),
                Err(cause) => super::guard::malformed(path, &part, &cause),
                Ok(Ok(_)) => unreachable!("matched above"),
            })
        }
    }
}

/// Read some columns of a Parquet file as a polars frame, checking that they exist.
pub fn read_parquet_columns(path: &Path, columns: &[&str]) -> Result<DataFrame> {
    let mut reader = open_checked(path, columns)?;
    let md = super::guard::catch(
        path,
        || "its metadata".into(),
        || Ok(reader.get_metadata().map_err(|e| Error::frame(path, e))?.clone()),
    )?;
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    for k in 0..md.row_groups.len() {
        super::pages::check(path, &mut file, &md, k, Some(columns))?;
    }
    super::guard::catch(
        path,
        || "a data page".into(),
        || {
            reader
                .with_columns(Some(columns.iter().map(|s| s.to_string()).collect()))
                .finish()
                .map_err(|e| Error::frame(path, e))
        },
    )
}

/// Names of the columns in a Parquet file.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = ParquetReader::new(file);
    let schema = schema_of(path, &mut reader)?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

fn strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<String>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or_default().to_string())
        .collect())
}

fn opt_strings(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<String>>> {
    Ok(df
        .column(name)?
        .str()?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

fn opt_u32s(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<u32>>> {
    Ok(df.column(name)?.u32()?.iter().collect())
}

fn list_values(ca: &ListChunked, row: usize) -> PolarsResult<Vec<String>> {
    match ca.get_as_series(row) {
        Some(s) => Ok(s.str()?.iter().flatten().map(str::to_string).collect()),
        None => Ok(Vec::new()),
    }
}

/// Read a whole sample table, with its tags when the file has tag columns.
/// `axes` names the tag columns to read; `None` reads the standard axes
/// present in the file plus any other list column except `tag_rules`.
pub fn read_parquet(path: &Path) -> Result<SampleTable> {
    let names = column_names(path)?;
    let base: Vec<&str> = c::BASE.to_vec();
    let mut wanted: Vec<&str> = base.clone();
    let has_tags = names.iter().any(|n| n == c::TAG_RULES);
    let axis_names: Vec<String> = if has_tags {
        names
            .iter()
            .filter(|n| !c::BASE.contains(&n.as_str()) && n.as_str() != c::TAG_RULES)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    wanted.extend(axis_names.iter().map(String::as_str));
    if has_tags {
        wanted.push(c::TAG_RULES);
    }
    let df = read_parquet_columns(path, &wanted)?;
    from_frame(&df, &axis_names, has_tags).map_err(|e| Error::frame(path, e))
}

/// The base columns of a frame as an (untagged) table.
pub fn table_of_frame(df: &DataFrame) -> PolarsResult<SampleTable> {
    from_frame(df, &[], false)
}

fn from_frame(df: &DataFrame, axes: &[String], has_tags: bool) -> PolarsResult<SampleTable> {
    let mut t = SampleTable {
        run: strings(df, c::RUN)?,
        benchmark: strings(df, c::BENCHMARK)?,
        task: strings(df, c::TASK)?,
        filter: opt_strings(df, c::FILTER)?,
        primary_filter: df
            .column(c::PRIMARY_FILTER)?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect(),
        item_id: strings(df, c::ITEM_ID)?,
        sample_idx: df
            .column(c::SAMPLE_IDX)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect(),
        prompt: opt_strings(df, c::PROMPT)?,
        target: opt_strings(df, c::TARGET)?,
        response: opt_strings(df, c::RESPONSE)?,
        extracted: opt_strings(df, c::EXTRACTED)?,
        score: df
            .column(c::SCORE)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(f64::NAN))
            .collect(),
        correct: df
            .column(c::CORRECT)?
            .bool()?
            .iter()
            .map(|v| v.unwrap_or(false))
            .collect(),
        finish_reason: opt_strings(df, c::FINISH_REASON)?,
        response_tokens: opt_u32s(df, c::RESPONSE_TOKENS)?,
        response_chars: df
            .column(c::RESPONSE_CHARS)?
            .u32()?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect(),
        meta: strings(df, c::META)?,
        prompt_hash: opt_strings(df, c::PROMPT_HASH)?,
        task_version: opt_strings(df, c::TASK_VERSION)?,
        n_shot: opt_u32s(df, c::N_SHOT)?,
        max_gen_toks: opt_u32s(df, c::MAX_GEN_TOKS)?,
        source: strings(df, c::SOURCE)?,
        tags: None,
    };
    if has_tags {
        let lists: Vec<&ListChunked> = axes
            .iter()
            .map(|a| df.column(a).and_then(|c| c.list()))
            .collect::<PolarsResult<_>>()?;
        let rules = df.column(c::TAG_RULES)?.list()?;
        let mut by_item: HashMap<(String, String, String), u32> = HashMap::new();
        let mut by_set: HashMap<TagSet, u32> = HashMap::new();
        let mut tags = Tags {
            axes: axes.to_vec(),
            ..Tags::default()
        };
        for row in 0..t.len() {
            let key = (
                t.benchmark[row].clone(),
                t.task[row].clone(),
                t.item_id[row].clone(),
            );
            let set = match by_item.get(&key) {
                Some(&s) => s,
                None => {
                    let set = TagSet {
                        values: lists
                            .iter()
                            .map(|l| list_values(l, row))
                            .collect::<PolarsResult<_>>()?,
                        rules: list_values(rules, row)?,
                    };
                    let next = tags.sets.len() as u32;
                    let s = *by_set.entry(set.clone()).or_insert(next);
                    if s == next {
                        tags.sets.push(set);
                    }
                    by_item.insert(key, s);
                    s
                }
            };
            tags.row_set.push(set);
        }
        t.tags = Some(tags);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of rows numbered from 0 (`i` = the row number, `s` = "row
    /// i"), one row group of each size in `groups`.
    fn numbered(path: &Path, groups: &[i64]) {
        let file = File::create(path).unwrap();
        let mut w = None;
        let mut start = 0;
        for &n in groups {
            let i: Vec<i64> = (start..start + n).collect();
            let s: Vec<String> = i.iter().map(|i| format!("row {i}")).collect();
            let df = DataFrame::new(
                n as usize,
                vec![Column::new("i".into(), i), Column::new("s".into(), s)],
            )
            .unwrap();
            let w = w.get_or_insert_with(|| {
                ParquetWriter::new(file.try_clone().unwrap())
                    .batched(df.schema())
                    .unwrap()
            });
            w.write_batch(&df).unwrap();
            start += n;
        }
        w.unwrap().finish().unwrap();
    }

    fn group_rows(path: &Path) -> Vec<usize> {
        let md = ParquetReader::new(File::open(path).unwrap())
            .get_metadata()
            .unwrap()
            .clone();
        md.row_groups.iter().map(|g| g.num_rows()).collect()
    }

    /// (offset, rows) of every batch, checking each holds its own rows.
    fn batches(path: &Path) -> Vec<(usize, usize)> {
        let mut seen = Vec::new();
        for_each_batch(path, &["i", "s"], |df, offset| {
            let i: Vec<i64> = df
                .column("i")
                .unwrap()
                .i64()
                .unwrap()
                .into_no_null_iter()
                .collect();
            let want: Vec<i64> = (offset as i64..(offset + df.height()) as i64).collect();
            assert_eq!(i, want, "the batch at row {offset} holds other rows");
            let s = df.column("s").unwrap().str().unwrap();
            assert_eq!(s.get(0), Some(format!("row {offset}").as_str()));
            seen.push((offset, df.height()));
            Ok(())
        })
        .unwrap();
        seen
    }

    #[test]
    fn large_row_groups_are_read_in_slices_of_their_rows() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.parquet");
        numbered(&one, &[150_000]);
        assert_eq!(group_rows(&one), vec![150_000]);
        assert_eq!(
            batches(&one),
            vec![
                (0, SLICE_ROWS),
                (SLICE_ROWS, SLICE_ROWS),
                (2 * SLICE_ROWS, 150_000 - 2 * SLICE_ROWS)
            ]
        );
        // Slices never straddle groups; small groups are read whole.
        let three = dir.path().join("three.parquet");
        numbered(&three, &[70_000, 10_000, 65_536]);
        assert_eq!(group_rows(&three), vec![70_000, 10_000, 65_536]);
        assert_eq!(
            batches(&three),
            vec![
                (0, SLICE_ROWS),
                (SLICE_ROWS, 70_000 - SLICE_ROWS),
                (70_000, 10_000),
                (80_000, 65_536)
            ]
        );
    }
}
