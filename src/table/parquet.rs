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

fn frame(t: &SampleTable) -> PolarsResult<DataFrame> {
    match &t.tags {
        Some(tags) => frame_tags(t, Some((&tags.axes, &tags.sets, &tags.row_set))),
        None => frame_tags(t, None),
    }
}

/// Axis names, distinct tag sets, and per row the index of its set.
pub type RowTagSets<'a> = (&'a [String], &'a [TagSet], &'a [u32]);

/// A batch as a frame, with tags given apart from the table.
pub fn frame_with(t: &SampleTable, tags: Option<RowTagSets<'_>>) -> Result<DataFrame> {
    frame_tags(t, tags).map_err(|e| Error::Usage(format!("cannot build the sample table: {e}")))
}

fn frame_tags(t: &SampleTable, tags: Option<RowTagSets<'_>>) -> PolarsResult<DataFrame> {
    let mut cols = vec![
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
    if let Some((axes, sets, row_set)) = tags {
        for (a, axis) in axes.iter().enumerate() {
            let mut b = ListStringChunkedBuilder::new(axis.as_str().into(), t.len(), t.len() * 2);
            for &s in row_set {
                b.append_values_iter(sets[s as usize].values[a].iter().map(String::as_str));
            }
            cols.push(b.finish().into_column());
        }
        let mut b = ListStringChunkedBuilder::new(c::TAG_RULES.into(), t.len(), t.len() * 2);
        for &s in row_set {
            b.append_values_iter(sets[s as usize].rules.iter().map(String::as_str));
        }
        cols.push(b.finish().into_column());
    }
    DataFrame::new(t.len(), cols)
}

/// The `ARROW:schema` metadata of a frame's schema at the oldest Arrow
/// compatibility level: plain `large_string` and `large_list` columns, which
/// pyarrow and pandas read (the newest level declares `string_view`, which
/// pandas cannot convert inside a list).
fn compat_metadata(schema: &Schema) -> KeyValueMetadata {
    use polars::prelude::SchemaExt;
    let arrow = schema.to_arrow(CompatLevel::oldest());
    let kv = polars_parquet::write::schema_to_metadata_key(&arrow);
    KeyValueMetadata::from_static(vec![(kv.key, kv.value.unwrap_or_default())])
}

/// The file a writer fills before it is renamed into place: a run killed
/// midway never leaves a truncated file under the final name.
pub(crate) fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// A Parquet file written batch by batch (one row group per batch), to a
/// temporary name renamed into place by [`SamplesWriter::finish`].
pub struct SamplesWriter {
    inner: Option<BatchedWriter<std::io::BufWriter<File>>>,
    metadata: Option<KeyValueMetadata>,
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    rows: usize,
}

impl SamplesWriter {
    pub fn create(path: &Path) -> Result<SamplesWriter> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        let tmp = temp_path(path);
        Ok(SamplesWriter {
            inner: None,
            metadata: None,
            tmp,
            path: path.to_path_buf(),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Append a batch; every batch must have the first batch's schema.
    pub fn write(&mut self, df: &mut DataFrame) -> Result<()> {
        if df.height() == 0 && self.inner.is_some() {
            return Ok(());
        }
        df.rechunk_mut();
        if self.inner.is_none() {
            let file = File::create(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
            let schema = df.schema().as_ref().clone();
            let md = compat_metadata(&schema);
            self.metadata = Some(md.clone());
            let w = ParquetWriter::new(std::io::BufWriter::with_capacity(1 << 20, file))
                .with_compression(ParquetCompression::Zstd(None))
                .with_key_value_metadata(Some(md))
                .batched(&schema)
                .map_err(|e| Error::frame(&self.path, e))?;
            self.inner = Some(w);
        }
        if let Some(w) = self.inner.as_mut() {
            w.write_batch(df).map_err(|e| Error::frame(&self.path, e))?;
        }
        self.rows += df.height();
        Ok(())
    }

    /// Close the file and move it into place.
    pub fn finish(mut self) -> Result<()> {
        let Some(w) = self.inner.take() else {
            return Err(Error::frame(&self.path, "no rows to write"));
        };
        let done = w.finish().map_err(|e| Error::frame(&self.path, e));
        drop(w);
        if let Err(e) = done {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e);
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

impl Drop for SamplesWriter {
    fn drop(&mut self) {
        // An unfinished writer leaves nothing behind.
        if self.inner.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A [`SamplesWriter`] on its own thread: encoding and compressing a batch
/// overlaps with building the next one. At most one batch waits in the
/// queue, so memory stays bounded.
pub struct BackgroundWriter {
    tx: Option<std::sync::mpsc::SyncSender<DataFrame>>,
    handle: Option<std::thread::JoinHandle<Result<SamplesWriter>>>,
}

impl BackgroundWriter {
    pub fn create(path: &Path) -> Result<BackgroundWriter> {
        let mut w = SamplesWriter::create(path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<DataFrame>(1);
        let handle = std::thread::Builder::new()
            .name("samples-writer".into())
            .spawn(move || -> Result<SamplesWriter> {
                for mut df in rx {
                    w.write(&mut df)?;
                }
                Ok(w)
            })
            .map_err(|e| Error::io(path, e))?;
        Ok(BackgroundWriter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    /// Queue a batch; an error of the writer thread is returned here or by
    /// [`BackgroundWriter::finish`].
    pub fn write(&mut self, df: DataFrame) -> Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(df));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => self.join().map(|_| ()),
        }
    }

    fn join(&mut self) -> Result<SamplesWriter> {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::usage("the samples writer thread panicked")),
            None => Err(Error::usage("the samples writer was already closed")),
        }
    }

    /// Write the remaining batches, close the file and move it into place;
    /// nothing is written when no batch was queued.
    pub fn finish(mut self) -> Result<()> {
        let w = self.join()?;
        if w.rows() > 0 {
            w.finish()
        } else {
            Ok(())
        }
    }
}

/// Write the table (and its tags, when present) to a Parquet file.
pub fn write_parquet(t: &SampleTable, path: &Path) -> Result<()> {
    let df = frame(t).map_err(|e| Error::frame(path, e))?;
    let mut w = SamplesWriter::create(path)?;
    const ROW_GROUP: usize = 1 << 16;
    let mut offset = 0;
    while offset < df.height() || offset == 0 {
        let mut part = df.slice(offset as i64, ROW_GROUP);
        w.write(&mut part)?;
        offset += ROW_GROUP;
        if df.height() == 0 {
            break;
        }
    }
    w.finish()
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

/// Call `f` with each row group of a Parquet file, holding only the given
/// columns (checked to exist), with the row offset of the group. A row
/// group that does not decode (a corrupt data page: a polars error or
/// panic) is an error naming the file, the row group and the column.
pub fn for_each_batch(
    path: &Path,
    columns: &[&str],
    mut f: impl FnMut(&DataFrame, usize) -> Result<()>,
) -> Result<()> {
    let mut reader = open_checked(path, columns)?;
    let md = super::guard::catch(
        path,
        || "its metadata".into(),
        || Ok(reader.get_metadata().map_err(|e| Error::frame(path, e))?.clone()),
    )?;
    let groups = md.row_groups.len();
    let mut offset = 0usize;
    for (k, rg) in md.row_groups.iter().enumerate() {
        let n = rg.num_rows();
        if n == 0 {
            continue;
        }
        // Ok(Err(polars error)) or Err(panic message).
        let read = |cols: &[&str]| -> Result<std::result::Result<PolarsResult<DataFrame>, String>> {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let mut r = ParquetReader::new(file);
            r.set_metadata(md.clone());
            Ok(super::guard::catch_panic(|| {
                r.with_columns(Some(cols.iter().map(|s| s.to_string()).collect()))
                    .with_slice(Some((offset, n)))
                    .finish()
            }))
        };
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        super::pages::check(path, &mut file, &md, k, Some(columns))?;
        let df = match read(columns)? {
            Ok(Ok(df)) => df,
            failed => {
                let mut part = format!(
                    "row group {} of {groups} (rows {}-{})",
                    k + 1,
                    offset + 1,
                    offset + n
                );
                // Name the column that does not decode, reading one at a time.
                for c in columns {
                    if !matches!(read(&[c])?, Ok(Ok(_))) {
                        part = format!("{part}, column '{c}'");
                        break;
                    }
                }
                return Err(match failed {
                    Ok(Err(e)) => Error::frame(path, format!("{part} does not decode: {e}")),
                    Err(cause) => super::guard::malformed(path, &part, &cause),
                    Ok(Ok(_)) => unreachable!("matched above"),
                });
            }
        };
        f(&df, offset)?;
        offset += n;
    }
    Ok(())
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
