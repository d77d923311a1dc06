//! Parquet output, batch by batch: the sample table and every other frame
//! caploop writes (selections, corpora).
//!
//! Frames go through polars-parquet's file writer directly rather than
//! polars' batched writer so that tag columns can be written
//! dictionary-encoded: a row's tags are keys into the few hundred values its
//! batch uses, not dozens of strings per row (polars dictionary-encodes only
//! flat columns). The file's Arrow schema still declares plain
//! `large_list<large_string>` columns at the oldest compatibility level, so
//! pyarrow, pandas, DuckDB and polars read them as lists of strings; the
//! dictionary is a page encoding, invisible to readers.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_arrow::array::Array;
use polars_arrow::datatypes::{ArrowSchema, Field as ArrowField};
use polars_parquet::write::{
    fallible_streaming_iterator, get_dtype_encoding, to_parquet_schema, CompressedPage, CompressionOptions,
    Compressor, DynIter, DynStreamingIterator, Encoding, FileWriter, KeyValue, ParquetType,
    StatisticsOptions, Version, WriteOptions, ZstdLevel,
};
use rayon::prelude::*;

use super::tagcols::{DictList, TagColumns};
use crate::error::{Error, Result};

/// The `ARROW:schema` metadata of a frame's schema at the oldest Arrow
/// compatibility level: plain `large_string` and `large_list` columns, which
/// pyarrow and pandas read (the newest level declares `string_view`, which
/// pandas cannot convert inside a list).
fn compat_metadata(schema: &Schema) -> KeyValue {
    use polars::prelude::SchemaExt;
    let arrow = schema.to_arrow(CompatLevel::oldest());
    polars_parquet::write::schema_to_metadata_key(&arrow)
}

/// The file a writer fills before it is renamed into place: a run killed
/// midway never leaves a truncated file under the final name.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// What the first batch fixed: every later batch must match it.
struct Open {
    writer: FileWriter<BufWriter<File>>,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
    /// The leaf of each tag column (after the frame's columns).
    tag_leaves: Vec<polars_parquet::parquet::metadata::Descriptor>,
    metadata: KeyValue,
    columns: Vec<String>,
}

/// A Parquet file written batch by batch (one row group per batch), to a
/// temporary name renamed into place by [`SamplesWriter::finish`].
pub struct SamplesWriter {
    inner: Option<Open>,
    tmp: PathBuf,
    path: PathBuf,
    rows: usize,
}

fn options() -> WriteOptions {
    WriteOptions {
        statistics: StatisticsOptions {
            min_value: true,
            max_value: true,
            distinct_count: false,
            null_count: true,
            binary_statistics_truncate_length: None,
        },
        version: Version::V1,
        // Level 1, not zstd's default 3: on the anchor benchmark 0.3 s of
        // a 3 s ingest saved for files 3% larger.
        compression: CompressionOptions::Zstd(ZstdLevel::try_new(1).ok()),
        data_page_size: None,
    }
}

impl SamplesWriter {
    pub fn create(path: &Path) -> Result<SamplesWriter> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        Ok(SamplesWriter {
            inner: None,
            tmp: temp_path(path),
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
        self.write_tagged(df, None)
    }

    /// Append a batch and its tag columns (appended after the frame's).
    pub fn write_tagged(&mut self, df: &mut DataFrame, tags: Option<TagColumns>) -> Result<()> {
        if df.height() == 0 && self.inner.is_some() {
            return Ok(());
        }
        if let Some(t) = &tags {
            if t.rows() != df.height() {
                return Err(Error::frame(
                    &self.path,
                    format!("{} tag rows for a batch of {} rows", t.rows(), df.height()),
                ));
            }
        }
        df.rechunk_mut();
        let tag_names: Vec<String> = tags.as_ref().map(|t| t.names.clone()).unwrap_or_default();
        if self.inner.is_none() {
            self.inner = Some(self.open(df, &tag_names)?);
        }
        let Some(open) = self.inner.as_mut() else {
            unreachable!("opened above")
        };
        let columns = column_list(df, &tag_names);
        if columns != open.columns {
            return Err(Error::frame(
                &self.path,
                format!(
                    "a batch has columns {} where the first had {}",
                    columns.join(", "),
                    open.columns.join(", ")
                ),
            ));
        }
        if df.height() == 0 {
            // The schema is written; an empty batch adds no row group.
            return Ok(());
        }
        let mut arrays: Vec<Box<dyn Array>> = Vec::new();
        for batch in df.iter_chunks(CompatLevel::newest(), false) {
            arrays.extend(batch.into_arrays());
        }
        let tags = tags.map(|t| t.cols).unwrap_or_default();
        let pages = encode(&arrays, &tags, open).map_err(|e| Error::frame(&self.path, e))?;
        let group = DynIter::new(pages.iter().map(|col| {
            Ok(DynStreamingIterator::new(fallible_streaming_iterator::convert(
                col.iter().map(PolarsResult::Ok),
            )))
        }));
        open.writer
            .write(df.height() as u64, group)
            .map_err(|e| Error::frame(&self.path, e))?;
        self.rows += df.height();
        Ok(())
    }

    fn open(&self, df: &DataFrame, tag_names: &[String]) -> Result<Open> {
        use polars::prelude::SchemaExt;
        let file = File::create(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        // The schema readers see: tags as lists of strings.
        let mut declared = df.schema().as_ref().clone();
        for n in tag_names {
            declared.with_column(n.as_str().into(), DataType::List(Box::new(DataType::String)));
        }
        let metadata = compat_metadata(&declared);
        // The schema written: tags as lists of dictionary keys.
        let mut fields: Vec<ArrowField> = df
            .schema()
            .to_arrow(CompatLevel::newest())
            .iter_values()
            .cloned()
            .collect();
        for n in tag_names {
            fields.push(ArrowField::new(n.as_str().into(), DictList::dtype(), true));
        }
        let schema: ArrowSchema = fields.iter().cloned().collect();
        let parquet = to_parquet_schema(&schema).map_err(|e| Error::frame(&self.path, e))?;
        let encodings = fields.iter().map(|f| get_dtype_encoding(&f.dtype)).collect();
        let tag_leaves = tag_names
            .iter()
            .map(|n| {
                let leaf = parquet
                    .columns()
                    .iter()
                    .find(|c| c.path_in_schema.first().is_some_and(|p| p.as_str() == n.as_str()));
                match leaf {
                    Some(c) => Ok(c.descriptor.clone()),
                    None => Err(Error::frame(
                        &self.path,
                        format!("no Parquet leaf for tag column '{n}'"),
                    )),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let fields = parquet.fields().to_vec();
        let writer = FileWriter::new_with_parquet_schema(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            parquet,
            options(),
        );
        Ok(Open {
            writer,
            fields,
            encodings,
            tag_leaves,
            metadata,
            columns: column_list(df, tag_names),
        })
    }

    /// Close the file and move it into place.
    pub fn finish(mut self) -> Result<()> {
        let Some(mut open) = self.inner.take() else {
            return Err(Error::frame(&self.path, "no rows to write"));
        };
        let done = open
            .writer
            .end(Some(vec![open.metadata.clone()]))
            .map_err(|e| Error::frame(&self.path, e));
        drop(open);
        if let Err(e) = done {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e);
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// A batch's columns as `name: type`, for checking every batch against the
/// first (a file has one schema).
fn column_list(df: &DataFrame, tag_names: &[String]) -> Vec<String> {
    df.columns()
        .iter()
        .map(|c| format!("{}: {}", c.name(), c.dtype()))
        .chain(tag_names.iter().map(|n| format!("{n}: tags")))
        .collect()
}

/// Encode and compress every column of a batch (the frame's arrays, then
/// the tag columns), columns in parallel.
fn encode(
    arrays: &[Box<dyn Array>],
    tags: &[DictList],
    open: &Open,
) -> PolarsResult<Vec<Vec<CompressedPage>>> {
    let compress =
        |pages: Vec<PolarsResult<polars_parquet::write::Page>>| -> PolarsResult<Vec<CompressedPage>> {
            Compressor::new_from_vec(
                pages.into_iter().map(|r| {
                    r.map_err(|e| polars_parquet::read::ParquetError::FeatureNotSupported(e.to_string()))
                }),
                options().compression,
                vec![],
            )
            .collect::<std::result::Result<Vec<CompressedPage>, _>>()
            .map_err(PolarsError::from)
        };
    let frame = arrays.par_iter().zip(&open.fields).zip(&open.encodings).map(
        |((array, field), encoding)| -> PolarsResult<Vec<Vec<CompressedPage>>> {
            polars_parquet::write::array_to_columns(array, field.clone(), options(), encoding)?
                .into_iter()
                .map(|pages| compress(pages.collect()))
                .collect()
        },
    );
    let tagged =
        tags.par_iter()
            .zip(&open.tag_leaves)
            .map(|(col, leaf)| -> PolarsResult<Vec<Vec<CompressedPage>>> {
                let pages = col.pages(leaf, options())?;
                Ok(vec![compress(pages.into_iter().map(Ok).collect())?])
            });
    let per_column: Vec<PolarsResult<Vec<Vec<CompressedPage>>>> = frame.chain(tagged).collect();
    let mut out = Vec::new();
    for c in per_column {
        out.extend(c?);
    }
    Ok(out)
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
    tx: Option<std::sync::mpsc::SyncSender<(DataFrame, Option<TagColumns>)>>,
    handle: Option<std::thread::JoinHandle<Result<SamplesWriter>>>,
}

impl BackgroundWriter {
    pub fn create(path: &Path) -> Result<BackgroundWriter> {
        let mut w = SamplesWriter::create(path)?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<(DataFrame, Option<TagColumns>)>(1);
        let handle = std::thread::Builder::new()
            .name("samples-writer".into())
            .spawn(move || -> Result<SamplesWriter> {
                for (mut df, tags) in rx {
                    w.write_tagged(&mut df, tags)?;
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
        self.write_tagged(df, None)
    }

    /// Queue a batch with its tag columns.
    pub fn write_tagged(&mut self, df: DataFrame, tags: Option<TagColumns>) -> Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send((df, tags)));
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

/// Write a table in row groups of `ROW_GROUP` rows, its tags (when present)
/// dictionary-encoded.
pub(super) fn write_table(df: &DataFrame, tags: Option<&TagColumns>, path: &Path) -> Result<()> {
    const ROW_GROUP: usize = 1 << 16;
    let mut w = SamplesWriter::create(path)?;
    let mut offset = 0;
    loop {
        let len = ROW_GROUP.min(df.height() - offset);
        let mut part = df.slice(offset as i64, len);
        w.write_tagged(&mut part, tags.map(|t| t.slice(offset, len)))?;
        offset += len;
        if offset >= df.height() {
            break;
        }
    }
    w.finish()
}
