//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// `../shared/samples` beside the repository (CI clones it there).
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// Non-empty lines of a file: the records of a JSONL file.
pub fn records(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

pub fn caploop() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("caploop").unwrap()
}
