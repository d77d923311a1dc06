//! The tag columns of a batch (one list column per axis, then
//! `tag_rules`), dictionary-encoded: per row, keys into the values the batch
//! uses, in order of first use. [`super::write`] writes them; readers see
//! plain lists of strings.

use polars::prelude::*;
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField, IntegerType};
use rustc_hash::FxHashMap;

use super::TagSet;

/// One list-of-strings column of a batch, dictionary-encoded: per row the
/// keys of its values into `values`, in order of first use.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct DictList {
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

    pub(super) fn dtype() -> ArrowDataType {
        let dict = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::LargeUtf8), false);
        ArrowDataType::LargeList(Box::new(ArrowField::new("item".into(), dict, true)))
    }

    /// The column chunk's pages: the dictionary, then data pages of whole
    /// rows, each at most [`PAGE_LEVELS`] levels. Written here rather than
    /// by polars' nested writer, whose general Dremel walk over the list
    /// offsets cost more than the rest of the column: a list of keys
    /// without nulls has levels of a fixed shape. `leaf` is the column's
    /// leaf (`optional group (LIST) { repeated group list { optional
    /// binary element } }`: levels up to 3 and 1).
    pub(super) fn pages(
        &self,
        leaf: &polars_parquet::parquet::metadata::Descriptor,
        options: polars_parquet::write::WriteOptions,
    ) -> PolarsResult<Vec<polars_parquet::write::Page>> {
        let version = options.version;
        use polars_parquet::parquet::encoding::hybrid_rle::encode;
        use polars_parquet::parquet::page::{DataPage, DataPageHeader, DataPageHeaderV1, DictPage};
        use polars_parquet::parquet::CowBuffer;
        use polars_parquet::write::{Encoding, Page, Version};
        if (leaf.max_def_level, leaf.max_rep_level) != (3, 1) || version != Version::V1 {
            polars_bail!(ComputeError: "tag column levels ({}, {}) or page version not written by caploop", leaf.max_def_level, leaf.max_rep_level);
        }
        let mut dict = Vec::new();
        for v in &self.values {
            dict.extend_from_slice(&(v.len() as u32).to_le_bytes());
            dict.extend_from_slice(v.as_bytes());
        }
        let mut pages = vec![Page::Dict(DictPage::new(
            CowBuffer::Owned(dict),
            self.values.len(),
            false,
        ))];
        // As polars has them: the dictionary's smallest and largest value
        // (bytewise), no nulls; on every data page.
        let statistics = options.has_statistics().then(|| {
            polars_parquet::parquet::statistics::BinaryStatistics {
                primitive_type: leaf.primitive_type.clone(),
                null_count: Some(0),
                distinct_count: None,
                max_value: self.values.iter().max().map(|v| v.as_bytes().to_vec()),
                min_value: self.values.iter().min().map(|v| v.as_bytes().to_vec()),
            }
            .serialize()
        });
        let bits = |max: u32| 32 - max.leading_zeros();
        let key_bits = bits(self.values.len().saturating_sub(1) as u32);
        let rows = self.offsets.len() - 1;
        let mut row = 0;
        while row < rows {
            // Whole rows, up to PAGE_LEVELS levels (an empty list is one).
            let first = row;
            let mut levels = 0usize;
            while row < rows {
                let n = ((self.offsets[row + 1] - self.offsets[row]) as usize).max(1);
                if levels > 0 && levels + n > PAGE_LEVELS {
                    break;
                }
                levels += n;
                row += 1;
            }
            let lens = (first..row).map(|r| (self.offsets[r + 1] - self.offsets[r]) as usize);
            let rep = lens
                .clone()
                .flat_map(|n| (0..n.max(1)).map(move |k| u32::from(k > 0)));
            let def = lens.flat_map(|n| std::iter::repeat_n(if n == 0 { 1u32 } else { 3 }, n.max(1)));
            let mut buf = Vec::new();
            for (levels, width) in [(rep.collect::<Vec<u32>>(), 1), (def.collect(), 2)] {
                let start = buf.len();
                buf.extend_from_slice(&[0; 4]);
                encode::<u32, _, _>(&mut buf, levels.into_iter(), width)?;
                let len = (buf.len() - start - 4) as u32;
                buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
            }
            let keys = &self.keys[self.offsets[first] as usize..self.offsets[row] as usize];
            buf.push(key_bits as u8);
            encode::<u32, _, _>(&mut buf, keys.iter().copied(), key_bits)?;
            let header = DataPageHeader::V1(DataPageHeaderV1 {
                num_values: levels as i32,
                encoding: Encoding::RleDictionary.into(),
                definition_level_encoding: Encoding::Rle.into(),
                repetition_level_encoding: Encoding::Rle.into(),
                statistics: statistics.clone(),
            });
            pages.push(Page::Data(DataPage::new(
                header,
                CowBuffer::Owned(buf),
                leaf.clone(),
                row - first,
            )));
        }
        Ok(pages)
    }

    /// The column as an Arrow array (what polars' own writer takes).
    #[cfg(test)]
    pub(super) fn into_array(self) -> PolarsResult<Box<dyn polars_arrow::array::Array>> {
        use polars_arrow::array::{DictionaryArray, ListArray, PrimitiveArray, Utf8Array};
        use polars_arrow::offset::OffsetsBuffer;
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
    pub(super) names: Vec<String>,
    pub(super) cols: Vec<DictList>,
}

const NONE: u32 = u32::MAX;

/// Levels per data page of a tag column (polars cuts its pages near 1 MiB).
pub(super) const PAGE_LEVELS: usize = 1 << 18;

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
        // Per tag id, once seen: its axis and its key there (a tag whose
        // value is `unknown` shares the axis's `unknown` key).
        let mut tag_key: Vec<(u32, u32)> = Vec::new();
        let mut rule_key: Vec<u32> = Vec::new();
        let mut unknown_key = vec![NONE; axes.len()];
        let mut seen_axis = vec![false; axes.len()];
        let n = axes.len();
        for row in 0..rows {
            let (ts, rs) = tags(row);
            seen_axis.iter_mut().for_each(|s| *s = false);
            for &t in ts {
                if tag_key.len() <= t as usize {
                    tag_key.resize(t as usize + 1, (NONE, NONE));
                }
                if tag_key[t as usize].1 == NONE {
                    let (a, v) = value(t);
                    let col = &mut cols[a];
                    let key = if v == super::columns::UNKNOWN {
                        // A rule may set `unknown` itself: one dictionary value.
                        if unknown_key[a] == NONE {
                            unknown_key[a] = col.values.len() as u32;
                            col.values.push(v.to_string());
                        }
                        unknown_key[a]
                    } else {
                        col.values.push(v.to_string());
                        col.values.len() as u32 - 1
                    };
                    tag_key[t as usize] = (a as u32, key);
                }
                let (a, key) = tag_key[t as usize];
                seen_axis[a as usize] = true;
                cols[a as usize].keys.push(key);
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
    pub(super) fn slice(&self, offset: usize, len: usize) -> TagColumns {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::columns::UNKNOWN;
    use crate::table::write::write_table;
    use crate::table::SamplesWriter;
    use std::fs::File;

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

    /// Lists of a read-back column, row by row (a null list as `None`).
    fn lists(df: &DataFrame, col: &str) -> Vec<Option<Vec<String>>> {
        let ca = df.column(col).unwrap().list().unwrap().clone();
        (0..ca.len())
            .map(|i| {
                ca.get_as_series(i)
                    .map(|s| s.str().unwrap().iter().map(|v| v.unwrap().to_string()).collect())
            })
            .collect()
    }

    #[test]
    fn tag_pages_read_back_as_written_across_pages_and_empty_lists() {
        // 200,000 rows of 0 to 4 values: more levels than one page holds,
        // empty lists among them, and a column with no value at all.
        let rows = 200_000usize;
        let mut used = DictList::with_rows(rows);
        let mut empty = DictList::with_rows(rows);
        used.values = (0..37).map(|k| format!("v{k}")).collect();
        let mut want = Vec::new();
        for r in 0..rows {
            let n = (r * 7 + r / 13) % 5;
            let keys: Vec<u32> = (0..n).map(|k| ((r * 31 + k * 17) % 37) as u32).collect();
            want.push(Some(
                keys.iter()
                    .map(|&k| used.values[k as usize].clone())
                    .collect::<Vec<_>>(),
            ));
            used.keys.extend(&keys);
            used.end_row();
            empty.end_row();
        }
        assert!(used.keys.len() > PAGE_LEVELS, "the column spans pages");
        let tags = TagColumns {
            names: vec!["operation".into(), super::super::columns::TAG_RULES.into()],
            cols: vec![used, empty],
        };
        let df = DataFrame::new(
            rows,
            vec![Column::new("id".into(), (0..rows as u32).collect::<Vec<_>>())],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        write_table(&df, Some(&tags), &path).unwrap();
        let back = crate::table::read_parquet_columns(&path, &["id", "operation", "tag_rules"]).unwrap();
        assert_eq!(lists(&back, "operation"), want);
        assert_eq!(lists(&back, "tag_rules"), vec![Some(Vec::new()); rows]);
        // The same columns through polars' own nested writer read back the same.
        let reference = dir.path().join("ref.parquet");
        let mut frame = df.clone();
        for (name, col) in tags.names.iter().zip(tags.cols.clone()) {
            let arr = col.into_array().unwrap();
            let s = Series::from_arrow(name.as_str().into(), arr).unwrap();
            let s = s.cast(&DataType::List(Box::new(DataType::String))).unwrap();
            frame.with_column(s.into_column()).unwrap();
        }
        ParquetWriter::new(File::create(&reference).unwrap())
            .finish(&mut frame)
            .unwrap();
        let theirs =
            crate::table::read_parquet_columns(&reference, &["id", "operation", "tag_rules"]).unwrap();
        assert!(theirs.equals_missing(&back));
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
