//! Slices: per-slice statistics of each run and paired comparison of two
//! runs (DESIGN sections 5 and 13). Results are plain serde structs; nothing
//! downstream sees a polars frame.

mod acc;
mod bits;
pub mod compare;
pub mod dataset;
pub mod define;
pub mod eval;
mod lists;
pub mod measure;
pub mod reference;
pub mod settings;
pub mod write;

pub use compare::{Comparison, Pairing, SliceComparison, Status};
pub use dataset::{load, Dataset, Item, ItemScore};
pub use define::{slices, Slice};
pub use eval::{compare, measure_all};
pub use measure::SliceStats;
pub use settings::CompareSettings;
