//! Reading `evidence.json` back into [`Evidence`] for `caploop plan`:
//! evidence of schema version 1 (older evidence may lack sections, which
//! read as empty; unknown fields are ignored).

use std::path::Path;

use crate::diagnose::Evidence;
use crate::error::Result;

/// `evidence.json` in `path` (a folder) or at `path` (a file).
pub fn evidence_file(path: &Path) -> std::path::PathBuf {
    if path.is_dir() {
        path.join("evidence.json")
    } else {
        path.to_path_buf()
    }
}

/// Read and check the evidence (`bytes` of `file`).
pub fn load(file: &Path, bytes: &[u8]) -> Result<Evidence> {
    crate::json::read_versioned(
        file,
        bytes,
        "evidence",
        "not caploop evidence (evidence.json of `caploop diagnose`)",
        1,
    )
}
