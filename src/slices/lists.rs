//! Tag list columns of a Parquet batch, read in place.

use polars::prelude::*;

/// The tag list columns of a batch, one per axis, read in place: a row's
/// values are a range of the column's string array (no series per row).
pub struct ListCols {
    cols: Vec<(
        polars_arrow::array::ListArray<i64>,
        polars_arrow::array::Utf8ViewArray,
    )>,
}

impl ListCols {
    /// The columns named `axes` of `df`, each a list of strings.
    pub fn of_frame(df: &DataFrame, axes: &[String]) -> PolarsResult<ListCols> {
        let mut cols = Vec::with_capacity(axes.len());
        for a in axes {
            let ca = df.column(a)?.list()?.rechunk();
            let arr = match ca.downcast_iter().next() {
                Some(arr) => arr.clone(),
                None => polars_arrow::array::ListArray::<i64>::new_empty(
                    ca.dtype().to_arrow(CompatLevel::newest()),
                ),
            };
            let values = arr
                .values()
                .as_any()
                .downcast_ref::<polars_arrow::array::Utf8ViewArray>()
                .cloned()
                .ok_or_else(|| polars_err!(SchemaMismatch: "tag column '{a}' is not a list of strings"))?;
            cols.push((arr, values));
        }
        Ok(ListCols { cols })
    }

    pub fn len(&self) -> usize {
        self.cols.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// Axis `a`'s values in `row` (none for a null list or a null value).
    pub fn values(&self, a: usize, row: usize) -> impl Iterator<Item = &str> + '_ {
        use polars_arrow::array::Array;
        let (list, values) = &self.cols[a];
        let (start, end) = if list.is_valid(row) {
            let (s, e) = list.offsets().start_end(row);
            (s, e)
        } else {
            (0, 0)
        };
        (start..end).filter_map(move |i| values.get(i))
    }
}
