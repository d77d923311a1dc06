//! The tag columns of a batch (one list column per axis, then
//! `tag_rules`), dictionary-encoded: per row, keys into the values the batch
//! uses, in order of first use. [`super::write`] writes them; readers see
//! plain lists of strings.

use polars::prelude::*;
use polars_arrow::array::{Array, DictionaryArray, ListArray, PrimitiveArray, Utf8Array};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField, IntegerType};
use polars_arrow::offset::OffsetsBuffer;
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

    pub(super) fn into_array(self) -> PolarsResult<Box<dyn Array>> {
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
