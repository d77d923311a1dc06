//! Reading YAML configuration with errors at `file:line:col`.
//!
//! Every user-facing config (taxonomies, mappings, pipeline configs) is YAML
//! read with serde-saphyr, whose errors carry the line and column; this
//! module turns them into [`ConfigErrors`] that name the file.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::taxonomy::{ConfigError, ConfigErrors};

/// A serde-saphyr error as a located config error.
pub fn yaml_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> ConfigError {
    let (line, col) = e
        .location()
        .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
    let message = e.without_snippet().to_string();
    // The plain message may repeat the location; keep only what follows it.
    let message = message
        .rsplit_once(&format!("line {line} column {col}"))
        .map_or(message.clone(), |(head, _)| {
            head.trim_end_matches([' ', ',', ':']).to_string()
        });
    let excerpt = match text.lines().nth(line.saturating_sub(1)) {
        Some(src) if line > 0 => format!("{src}\n{}^\n", " ".repeat(col.saturating_sub(1))),
        _ => String::new(),
    };
    ConfigError {
        file: path.to_path_buf(),
        line,
        col,
        message,
        excerpt,
    }
}

/// Parse a YAML file into `T` (whose types use `deny_unknown_fields`).
pub fn load_yaml<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = crate::error::read_text(path)?;
    serde_saphyr::from_str::<T>(&text)
        .map_err(|e| Error::Config(ConfigErrors(vec![yaml_error(path, &text, &e)])))
}
