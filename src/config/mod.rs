//! Reading YAML configuration with errors at `file:line:col`.
//!
//! Every user-facing config (taxonomies, mappings, pipeline configs) is YAML
//! read with serde-saphyr, whose errors carry the line and column; this
//! module turns them into [`ConfigErrors`] that name the file. The
//! taxonomy loader's own YAML walk collects its errors in a
//! [`Diagnostics`]; every config reports through the same error types.

use std::path::Path;

use serde::de::DeserializeOwned;

mod errors;

pub(crate) use errors::{excerpt, Diagnostics, Pos};
pub use errors::{ConfigError, ConfigErrors};

use crate::error::{Error, Result};

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
    let excerpt = excerpt(text, Pos { line, col });
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
    let text = read_config_text(path)?;
    parse_yaml(path, &text)
}

/// Parse YAML text read from `path` into `T`.
pub fn parse_yaml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_saphyr::from_str::<T>(text)
        .map_err(|e| Error::Config(ConfigErrors(vec![yaml_error(path, text, &e)])))
}

/// The text of a config file: a UTF-8 byte-order mark is dropped, and bytes
/// that are not UTF-8 are an error at their line and column.
pub fn read_config_text(path: &Path) -> Result<String> {
    let bytes = crate::error::read_file(path)?;
    text_of(path, bytes).map_err(|e| Error::Config(ConfigErrors(vec![e])))
}

/// Bytes as UTF-8 text without a leading byte-order mark, or an error
/// naming the line and column of the first invalid byte.
pub fn text_of(path: &Path, mut bytes: Vec<u8>) -> std::result::Result<String, ConfigError> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
        let line_start = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let col = 1 + String::from_utf8_lossy(&bytes[line_start..at]).chars().count();
        ConfigError {
            file: path.to_path_buf(),
            line,
            col,
            message: format!(
                "not valid UTF-8 (byte 0x{:02x} at byte offset {at}); save the file as UTF-8",
                bytes[at]
            ),
            excerpt: String::new(),
        }
    })
}
