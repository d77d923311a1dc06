//! The library's error type and the exit codes it maps to.
//!
//! Every error says what was wrong, where (file, line, field when known) and,
//! where there is one, what to do next. Findings (a slice too small to judge,
//! a refuted hypothesis) are not errors: they are results.

use std::fmt;
use std::path::{Path, PathBuf};

/// Documented exit codes (DESIGN section 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// The run completed and every check passed.
    Ok = 0,
    /// The run completed and a check failed (e.g. a refuted hypothesis).
    CheckFailed = 1,
    /// The tool could not do its job: bad input, bad config, I/O.
    Failed = 2,
}

/// A location in an input file: `path:line`, optionally with the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    /// 1-based line (or 1-based row for Parquet input).
    pub line: usize,
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)?;
        if let Some(field) = &self.field {
            write!(f, ": field '{field}'")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A malformed input record.
    #[error("{location}: {message}")]
    Input { location: Location, message: String },
    /// One or more configuration errors, each at `file:line:col`.
    #[error("{0}")]
    Config(crate::config::ConfigErrors),
    /// Reading or writing a file failed.
    /// (The message includes the OS error; it is not repeated as a cause.)
    #[error("{}: {cause}", path.display())]
    Io { path: PathBuf, cause: std::io::Error },
    /// Parquet / frame errors, with the file they concern.
    #[error("{}: {message}", path.display())]
    Frame { path: PathBuf, message: String },
    /// `filters:` entries naming a task or filter the sample table does not
    /// have: (task, message) each. Where the settings file is known,
    /// [`crate::settings::locate_filters`] turns them into `file:line:col`
    /// errors.
    #[error("{}", .0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join("\n"))]
    Filters(Vec<(String, String)>),
    /// The inputs are individually valid but cannot be used together, or an
    /// argument is wrong. The message says what to do.
    #[error("{0}")]
    Usage(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(path: &Path, line: usize, field: Option<&str>, message: impl Into<String>) -> Self {
        Error::Input {
            location: Location {
                path: path.to_path_buf(),
                line,
                field: field.map(str::to_string),
            },
            message: message.into(),
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }

    pub fn frame(path: &Path, err: impl fmt::Display) -> Self {
        Error::Frame {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }
}

impl From<crate::config::ConfigErrors> for Error {
    fn from(e: crate::config::ConfigErrors) -> Self {
        Error::Config(e)
    }
}

/// Read a whole file, mapping the error to one that names the path.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Read a whole UTF-8 file (a leading byte-order mark dropped; bytes that
/// are not UTF-8 are an error at their line and column).
pub fn read_text(path: &Path) -> Result<String> {
    crate::config::read_config_text(path)
}

/// Write a file, creating its parent folder. The bytes go to a temporary
/// file beside it that is renamed into place, so a killed run never leaves
/// a truncated file under the final name.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    std::fs::write(&tmp, contents).map_err(|e| Error::io(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// A run id (or any user text) made safe as one path component: path
/// separators, `..`, control characters and leading dots are replaced, so
/// `verify-<run>` never leaves `--out` nor nests folders.
pub fn safe_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    while out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// A short run id: the last component of a model path (`/models/org/x/ckpt`
/// -> `ckpt`, `pretrained=/m/ckpt,dtype=bf16` -> `ckpt`), made safe as a
/// file name by [`safe_name`].
pub fn short_run_id(s: &str) -> String {
    let s = match s.find("pretrained=") {
        Some(i) => s[i + "pretrained=".len()..].split(',').next().unwrap_or(""),
        None => s,
    };
    let last = s
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    safe_name(if last.is_empty() { s } else { last })
}

/// Create a folder and its parents.
pub fn create_dir(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))
}
