//! Configuration errors: one [`ConfigError`] per mistake, located at
//! `file:line:col`, and [`ConfigErrors`] carrying every error of one load.
//!
//! Loading never stops at the first mistake: the parser and the resolver push
//! into a [`Diagnostics`] collector and the caller gets all errors at once,
//! ordered by file (in the order given) and then by position. This module does
//! not decide how the binary prints errors beyond `Display` and
//! [`ConfigErrors::render`].

use std::fmt;
use std::path::{Path, PathBuf};

/// One mistake in a config file (taxonomy, mapping, settings, pipeline).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.header())]
pub struct ConfigError {
    /// The config file, as given.
    pub file: PathBuf,
    /// 1-based line; 0 when the error has no position (the file cannot be read).
    pub line: usize,
    /// 1-based column in characters; 0 when the error has no position.
    pub col: usize,
    /// What is wrong and what would be valid.
    pub message: String,
    /// The offending source line with a caret under `col`, or empty when the
    /// error has no position. Not part of `Display`; see [`ConfigErrors::render`].
    pub excerpt: String,
}

impl ConfigError {
    /// `file:line:col: message`, or `file: message` without a position.
    fn header(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file.display(), self.message)
        } else {
            format!(
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.col,
                self.message
            )
        }
    }
}

/// Every error found while loading a set of taxonomy files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    /// One error per line, `file:line:col: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// Each error followed by its source excerpt, for people at a terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.0 {
            out.push_str(&e.to_string());
            out.push('\n');
            out.push_str(&e.excerpt);
        }
        out
    }
}

/// A 1-based line and column (in characters); line 0 means "no position".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

impl Pos {
    pub(crate) const START: Pos = Pos { line: 1, col: 1 };
}

/// Collects errors of several files; files are identified by their index in
/// the order they were given.
pub(crate) struct Diagnostics {
    files: Vec<(PathBuf, String)>,
    errors: Vec<(usize, Pos, String)>,
}

impl Diagnostics {
    pub(crate) fn new() -> Self {
        Diagnostics {
            files: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Registers a file and its text (kept for excerpts); returns its index.
    pub(crate) fn add_file(&mut self, path: &Path, text: &str) -> usize {
        self.files.push((path.to_path_buf(), text.to_owned()));
        self.files.len() - 1
    }

    pub(crate) fn path(&self, file: usize) -> &Path {
        &self.files[file].0
    }

    /// Records an error; `Pos::default()` (line 0) means "no position".
    pub(crate) fn push(&mut self, file: usize, pos: Pos, message: impl Into<String>) {
        self.errors.push((file, pos, message.into()));
    }

    pub(crate) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Errors sorted by file order, then line and column; ties keep the order
    /// in which they were found.
    pub(crate) fn into_errors(self) -> ConfigErrors {
        let Diagnostics { files, mut errors } = self;
        errors.sort_by_key(|(file, pos, _)| (*file, *pos));
        let out = errors
            .into_iter()
            .map(|(file, pos, message)| {
                let (path, text) = &files[file];
                ConfigError {
                    file: path.clone(),
                    line: pos.line,
                    col: pos.col,
                    message,
                    excerpt: excerpt(text, pos),
                }
            })
            .collect();
        ConfigErrors(out)
    }
}

/// The source line of `pos` with a caret under its column, rustc style.
pub(crate) fn excerpt(text: &str, pos: Pos) -> String {
    if pos.line == 0 {
        return String::new();
    }
    let Some(line) = text.lines().nth(pos.line - 1) else {
        return String::new();
    };
    let number = pos.line.to_string();
    let pad = " ".repeat(number.len());
    let caret_pad: String = line
        .chars()
        .take(pos.col.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("{pad} |\n{number} | {line}\n{pad} | {caret_pad}^\n")
}
