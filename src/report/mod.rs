//! Reports for people: `report.md` now; HTML and charts grow here.
//!
//! Report code reads only the stages' serde structs, never frames.

pub mod markdown;

use serde::Serialize;

use crate::ingest::IngestReport;
use crate::slices::{Comparison, SliceStats};
use crate::tagging::Coverage;

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReportInput<'a> {
    pub title: String,
    pub ingest: Option<&'a IngestReport>,
    pub coverage: &'a [Coverage],
    pub slices: &'a [SliceStats],
    pub comparison: Option<&'a Comparison>,
}
