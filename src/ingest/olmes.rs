//! OLMES output folders (placeholder).
use super::sink::Sink;
use super::{IngestOptions, IngestReport};
use crate::error::Result;
use std::path::PathBuf;
pub fn read_files(
    _files: &[PathBuf],
    _opts: &IngestOptions,
    _sink: &mut Sink<'_>,
    _report: &mut IngestReport,
) -> Result<()> {
    Ok(())
}
