//! Slices: per-slice statistics of each run and paired comparison of two
//! runs (DESIGN sections 5 and 13). Results are plain serde structs; nothing
//! downstream sees a polars frame.

pub mod compare;
pub mod dataset;
pub mod define;
pub mod measure;
pub mod reference;
pub mod settings;
pub mod write;

pub use compare::{compare, Comparison, Pairing, SliceComparison, Status};
pub use dataset::{load, Dataset, Item, ItemScore};
pub use define::{slices, Slice};
pub use measure::{measure, SliceStats};
pub use settings::CompareSettings;

/// Statistics of every slice in every run, ordered by run, benchmark, slice.
pub fn measure_all(ds: &Dataset, slices: &[Slice], confidence: f64, ks: &[u32]) -> Vec<SliceStats> {
    use rayon::prelude::*;
    (0..ds.runs.len())
        .flat_map(|r| slices.iter().map(move |s| (r, s)))
        .collect::<Vec<_>>()
        .par_iter()
        .map(|(r, s)| measure(ds, *r, s, confidence, ks))
        .filter(|s| s.items > 0)
        .collect()
}
