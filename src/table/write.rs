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
use polars_arrow::array::{Array, DictionaryArray, ListArray, PrimitiveArray, Utf8Array};
use polars_arrow::datatypes::{ArrowDataType, ArrowSchema, Field as ArrowField, IntegerType};
use polars_arrow::offset::OffsetsBuffer;
use polars_parquet::write::{
    fallible_streaming_iterator, get_dtype_encoding, to_parquet_schema, CompressedPage, CompressionOptions,
    Compressor, DynIter, DynStreamingIterator, Encoding, FileWriter, KeyValue, ParquetType,
    StatisticsOptions, Version, WriteOptions,
};
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::TagSet;
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

/// One list-of-strings column of a batch, dictionary-encoded: per row the
/// keys of its values into `values`, in order of first use.
#[derive(Debug, Default, Clone, PartialEq)]
struct DictList {
    offsets: Vec<i64>,
    keys: Vec<u32>,
    values: Vec<String>,
}

impl DictList {
    fn with_rows(rows: usize) -> DictList {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        DictList {
            offsets,
            keys: Vec::new(),
            values: Vec::new(),
        }
    }

    fn end_row(&mut self) {
        self.offsets.push(self.keys.len() as i64);
    }

    fn dtype() -> ArrowDataType {
        let dict = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::LargeUtf8), false);
        ArrowDataType::LargeList(Box::new(ArrowField::new("item".into(), dict, true)))
    }

    fn into_array(self) -> PolarsResult<Box<dyn Array>> {
        let values = Utf8Array::<i64>::from_slice(&self.values).boxed();
        let dict_dtype =
            ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::LargeUtf8), false);
        let dict = DictionaryArray::<u32>::try_new(dict_dtype, PrimitiveArray::from_vec(self.keys), values)?;
        let offsets: OffsetsBuffer<i64> = self.offsets.try_into()?;
        Ok(ListArray::<i64>::try_new(Self::dtype(), offsets, dict.boxed(), None)?.boxed())
    }
}

/// The tag columns of one batch (one per axis, then `tag_rules`), built
/// apart from the frame and written dictionary-encoded.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TagColumns {
    names: Vec<String>,
    cols: Vec<DictList>,
}

const NONE: u32 = u32::MAX;

impl TagColumns {
    pub fn rows(&self) -> usize {
        self.cols.first().map_or(0, |c| c.offsets.len() - 1)
    }

    /// From the distinct tag sets and each row's index into them.
    pub fn from_sets(axes: &[String], sets: &[TagSet], row_set: &[u32]) -> TagColumns {
        let mut names: Vec<String> = axes.to_vec();
        names.push(super::columns::TAG_RULES.to_string());
        let mut cols = Vec::with_capacity(names.len());
        for col in 0..names.len() {
            fn values_of(s: &TagSet, col: usize) -> &[String] {
                if col < s.values.len() {
                    &s.values[col]
                } else {
                    &s.rules
                }
            }
            let mut out = DictList::with_rows(row_set.len());
            let mut key_of: FxHashMap<&str, u32> = FxHashMap::default();
            // Each set's keys, computed at its first row.
            let mut set_keys: Vec<Option<(usize, usize)>> = vec![None; sets.len()];
            let mut flat: Vec<u32> = Vec::new();
            for &s in row_set {
                let (start, len) = *set_keys[s as usize].get_or_insert_with(|| {
                    let start = flat.len();
                    for v in values_of(&sets[s as usize], col) {
                        let next = out.values.len() as u32;
                        let k = *key_of.entry(v.as_str()).or_insert(next);
                        if k == next {
                            out.values.push(v.clone());
                        }
                        flat.push(k);
                    }
                    (start, flat.len() - start)
                });
                out.keys.extend_from_slice(&flat[start..start + len]);
                out.end_row();
            }
            cols.push(out);
        }
        TagColumns { names, cols }
    }

    /// From tag ids, without building a string per row: `tags(row)` gives
    /// a row's tag ids and rule ids; `value(t)` a tag's axis and value,
    /// `rule(r)` a rule's id. An axis with no tag gets `unknown`, as
    /// [`crate::taxonomy::TaxonomySet::tags_of`] has it.
    pub fn from_ids<'t>(
        axes: &[String],
        rows: usize,
        tags: impl Fn(usize) -> (&'t [u32], &'t [u32]),
        value: impl Fn(u32) -> (usize, &'t str),
        rule: impl Fn(u32) -> &'t str,
    ) -> TagColumns {
        let mut names: Vec<String> = axes.to_vec();
        names.push(super::columns::TAG_RULES.to_string());
        let mut cols: Vec<DictList> = (0..names.len()).map(|_| DictList::with_rows(rows)).collect();
        let mut tag_key: Vec<u32> = Vec::new();
        let mut rule_key: Vec<u32> = Vec::new();
        let mut unknown_key = vec![NONE; axes.len()];
        let mut seen_axis = vec![false; axes.len()];
        let n = axes.len();
        for row in 0..rows {
            let (ts, rs) = tags(row);
            seen_axis.iter_mut().for_each(|s| *s = false);
            for &t in ts {
                let (a, v) = value(t);
                seen_axis[a] = true;
                let col = &mut cols[a];
                if v == super::columns::UNKNOWN {
                    // A rule may set `unknown` itself: one dictionary value.
                    if unknown_key[a] == NONE {
                        unknown_key[a] = col.values.len() as u32;
                        col.values.push(v.to_string());
                    }
                    col.keys.push(unknown_key[a]);
                    continue;
                }
                if tag_key.len() <= t as usize {
                    tag_key.resize(t as usize + 1, NONE);
                }
                if tag_key[t as usize] == NONE {
                    tag_key[t as usize] = col.values.len() as u32;
                    col.values.push(v.to_string());
                }
                col.keys.push(tag_key[t as usize]);
            }
            for a in 0..n {
                if !seen_axis[a] {
                    let col = &mut cols[a];
                    if unknown_key[a] == NONE {
                        unknown_key[a] = col.values.len() as u32;
                        col.values.push(super::columns::UNKNOWN.to_string());
                    }
                    col.keys.push(unknown_key[a]);
                }
                cols[a].end_row();
            }
            let col = &mut cols[n];
            for &r in rs {
                if rule_key.len() <= r as usize {
                    rule_key.resize(r as usize + 1, NONE);
                }
                if rule_key[r as usize] == NONE {
                    rule_key[r as usize] = col.values.len() as u32;
                    col.values.push(rule(r).to_string());
                }
                col.keys.push(rule_key[r as usize]);
            }
            col.end_row();
        }
        TagColumns { names, cols }
    }

    /// Rows `offset..offset + len` (for writing a table in row groups).
    fn slice(&self, offset: usize, len: usize) -> TagColumns {
        let cols = self
            .cols
            .iter()
            .map(|c| {
                let (a, b) = (c.offsets[offset] as usize, c.offsets[offset + len] as usize);
                let mut out = DictList::with_rows(len);
                let mut key_of = vec![NONE; c.values.len()];
                for r in offset..offset + len {
                    for &k in &c.keys[c.offsets[r] as usize..c.offsets[r + 1] as usize] {
                        if key_of[k as usize] == NONE {
                            key_of[k as usize] = out.values.len() as u32;
                            out.values.push(c.values[k as usize].clone());
                        }
                        out.keys.push(key_of[k as usize]);
                    }
                    out.end_row();
                }
                debug_assert_eq!(out.keys.len(), b - a);
                out
            })
            .collect();
        TagColumns {
            names: self.names.clone(),
            cols,
        }
    }
}

/// What the first batch fixed: every later batch must match it.
struct Open {
    writer: FileWriter<BufWriter<File>>,
    fields: Vec<ParquetType>,
    encodings: Vec<Vec<Encoding>>,
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

const OPTIONS: WriteOptions = WriteOptions {
    statistics: StatisticsOptions {
        min_value: true,
        max_value: true,
        distinct_count: false,
        null_count: true,
        binary_statistics_truncate_length: None,
    },
    version: Version::V1,
    compression: CompressionOptions::Zstd(None),
    data_page_size: None,
};

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
        if let Some(t) = tags {
            for c in t.cols {
                arrays.push(c.into_array().map_err(|e| Error::frame(&self.path, e))?);
            }
        }
        let pages =
            encode(&arrays, &open.fields, &open.encodings).map_err(|e| Error::frame(&self.path, e))?;
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
        let fields = parquet.fields().to_vec();
        let writer = FileWriter::new_with_parquet_schema(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            parquet,
            OPTIONS,
        );
        Ok(Open {
            writer,
            fields,
            encodings,
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

/// Encode and compress every column of a batch, columns in parallel.
fn encode(
    arrays: &[Box<dyn Array>],
    fields: &[ParquetType],
    encodings: &[Vec<Encoding>],
) -> PolarsResult<Vec<Vec<CompressedPage>>> {
    let per_column: Vec<PolarsResult<Vec<Vec<CompressedPage>>>> = arrays
        .par_iter()
        .zip(fields)
        .zip(encodings)
        .map(|((array, field), encoding)| {
            polars_parquet::write::array_to_columns(array, field.clone(), OPTIONS, encoding)?
                .into_iter()
                .map(|pages| {
                    Compressor::new_from_vec(
                        pages.map(|r| {
                            r.map_err(|e| {
                                polars_parquet::read::ParquetError::FeatureNotSupported(e.to_string())
                            })
                        }),
                        OPTIONS.compression,
                        vec![],
                    )
                    .collect::<std::result::Result<Vec<CompressedPage>, _>>()
                    .map_err(PolarsError::from)
                })
                .collect()
        })
        .collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::columns::UNKNOWN;

    /// Tag ids 0..4: (axis, value); tag 4 is an explicit `unknown` on axis 1.
    const VOCAB: [(usize, &str); 5] = [(0, "a"), (0, "b"), (1, "x"), (1, "y"), (1, UNKNOWN)];
    const RULES: [&str; 3] = ["r0", "r1", "r2"];

    fn rows() -> Vec<(Vec<u32>, Vec<u32>)> {
        vec![
            (vec![1, 2], vec![2]),
            (vec![0], vec![0]),          // axis 1 has no value: unknown
            (vec![], vec![]),            // both unknown
            (vec![4, 0, 1], vec![1, 0]), // explicit unknown on axis 1
            (vec![1, 2], vec![2]),
            (vec![3], vec![1]),
        ]
    }

    fn as_set(tags: &[u32], rules: &[u32]) -> TagSet {
        let mut values = vec![Vec::new(); 2];
        for &t in tags {
            let (a, v) = VOCAB[t as usize];
            values[a].push(v.to_string());
        }
        for v in &mut values {
            if v.is_empty() {
                v.push(UNKNOWN.to_string());
            }
        }
        TagSet {
            values,
            rules: rules.iter().map(|&r| RULES[r as usize].to_string()).collect(),
        }
    }

    #[test]
    fn tag_columns_from_ids_equal_those_from_named_sets() {
        let axes = vec!["operation".to_string(), "task_type".to_string()];
        let rows = rows();
        let by_ids = TagColumns::from_ids(
            &axes,
            rows.len(),
            |i| (rows[i].0.as_slice(), rows[i].1.as_slice()),
            |t| VOCAB[t as usize],
            |r| RULES[r as usize],
        );
        // Rows 0 and 4 share a set, as the sink interns them.
        let sets: Vec<TagSet> = rows.iter().map(|(t, r)| as_set(t, r)).collect();
        let row_set: Vec<u32> = vec![0, 1, 2, 3, 0, 5];
        let by_sets = TagColumns::from_sets(&axes, &sets, &row_set);
        assert_eq!(by_ids, by_sets);
        // One dictionary entry per distinct value, `unknown` once per axis.
        assert_eq!(by_ids.cols[1].values, vec!["x", UNKNOWN, "y"]);
        assert_eq!(by_ids.rows(), 6);
    }

    #[test]
    fn tagged_file_reads_back_as_lists_of_strings_and_is_dictionary_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let axes = vec!["operation".to_string(), "task_type".to_string()];
        let rows = rows();
        let tags = TagColumns::from_ids(
            &axes,
            rows.len(),
            |i| (rows[i].0.as_slice(), rows[i].1.as_slice()),
            |t| VOCAB[t as usize],
            |r| RULES[r as usize],
        );
        let df = DataFrame::new(
            rows.len(),
            vec![Column::new(
                "id".into(),
                (0..rows.len() as u32).collect::<Vec<_>>(),
            )],
        )
        .unwrap();
        write_table(&df, Some(&tags), &path).unwrap();
        let back = crate::table::read_parquet_columns(&path, &["id", "operation", "task_type", "tag_rules"])
            .unwrap();
        for (i, (t, r)) in rows.iter().enumerate() {
            let want = as_set(t, r);
            for (col, values) in [
                ("operation", &want.values[0]),
                ("task_type", &want.values[1]),
                ("tag_rules", &want.rules),
            ] {
                let got: Vec<String> = back
                    .column(col)
                    .unwrap()
                    .list()
                    .unwrap()
                    .get_as_series(i)
                    .unwrap()
                    .str()
                    .unwrap()
                    .iter()
                    .map(|v| v.unwrap().to_string())
                    .collect();
                assert_eq!(&got, values, "row {i} column {col}");
            }
        }
        let file = File::open(&path).unwrap();
        let md = polars_parquet::read::read_metadata(&mut std::io::BufReader::new(file)).unwrap();
        let chunk = &md.row_groups[0];
        let ops = chunk
            .parquet_columns()
            .iter()
            .find(|c| c.descriptor().path_in_schema[0].as_str() == "operation")
            .unwrap();
        assert!(
            ops.dictionary_page_offset().is_some(),
            "tag column has no dictionary page"
        );
    }

    #[test]
    fn a_batch_whose_column_types_differ_from_the_first_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let mut w = SamplesWriter::create(&path).unwrap();
        let mut a = DataFrame::new(1, vec![Column::new("x".into(), [1u32])]).unwrap();
        let mut b = DataFrame::new(1, vec![Column::new("x".into(), [1i64])]).unwrap();
        w.write(&mut a).unwrap();
        let e = w.write(&mut b).unwrap_err().to_string();
        assert!(e.contains("x: i64") && e.contains("x: u32"), "{e}");
    }
}
