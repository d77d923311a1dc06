//! The column mapping of generic input: which column holds each canonical
//! field, constants, `meta` and how scores are read.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::table::columns as c;

/// The mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    pub run: Option<String>,
    pub benchmark: Option<String>,
    pub task: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub meta: MetaColumns,
    pub pass_threshold: Option<f64>,
    /// Score rows that have no score or correct column by comparing the
    /// extracted answer (`extracted`) with the target (`target`).
    pub score_by: Option<ScoreBy>,
}

/// How `score_by` compares an extracted answer with its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreBy {
    /// The same text once surrounding whitespace is trimmed.
    Exact,
    /// The same after lowercasing, dropping punctuation and the articles
    /// a/an/the, and collapsing whitespace (SQuAD's normalisation).
    Normalized,
    /// The same number (commas, `$` and `%` ignored), within 1e-6 relative.
    Numeric,
}

impl ScoreBy {
    /// Does `answer` match `target`?
    pub fn matches(self, answer: &str, target: &str) -> bool {
        match self {
            ScoreBy::Exact => answer.trim() == target.trim(),
            ScoreBy::Normalized => normalize(answer) == normalize(target),
            ScoreBy::Numeric => match (number_of(answer), number_of(target)) {
                (Some(a), Some(t)) => (a - t).abs() <= 1e-6 * t.abs().max(1.0),
                _ => false,
            },
        }
    }
}

fn normalize(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() {
                c
            } else {
                ' '
            }
        })
        .collect();
    lower
        .split_whitespace()
        .filter(|w| !matches!(*w, "a" | "an" | "the"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn number_of(s: &str) -> Option<f64> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | '$' | '%'))
        .collect();
    t.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Which columns go into `meta`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum MetaColumns {
    #[default]
    #[serde(skip)]
    Rest,
    Keyword(String),
    List(Vec<String>),
}

/// Canonical fields a mapping may name.
pub(super) const FIELDS: &[&str] = &[
    c::RUN,
    c::BENCHMARK,
    c::TASK,
    c::FILTER,
    c::ITEM_ID,
    c::SAMPLE_IDX,
    c::PROMPT,
    c::TARGET,
    c::RESPONSE,
    c::EXTRACTED,
    c::SCORE,
    c::CORRECT,
    c::FINISH_REASON,
    c::RESPONSE_TOKENS,
    c::PROMPT_HASH,
    c::TASK_VERSION,
    c::MAX_GEN_TOKS,
];

impl ColumnMapping {
    pub fn load(path: &Path) -> Result<ColumnMapping> {
        let text = crate::config::read_config_text(path)?;
        let m: ColumnMapping = crate::config::parse_yaml(path, &text)?;
        // Every mistake at once, each at its line.
        let mut errors = Vec::new();
        let mut err = |keys: &[&str], message: String| {
            let (line, col) = match crate::settings::locate(&text, keys) {
                (0, _) => crate::settings::locate(&text, &keys[..1]),
                at => at,
            };
            errors.push(crate::config::ConfigError {
                file: path.to_path_buf(),
                line,
                col,
                message,
                excerpt: String::new(),
            });
        };
        for k in m.columns.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
            err(
                &["columns", k],
                format!(
                    "unknown field '{k}' under columns; known fields: {}",
                    FIELDS.join(", ")
                ),
            );
        }
        for (k, col) in &m.columns {
            if col.trim().is_empty() {
                err(
                    &["columns", k],
                    format!("columns: '{k}' maps to an empty column name"),
                );
            }
        }
        if let Some(t) = m.pass_threshold {
            if !t.is_finite() {
                err(
                    &["pass_threshold"],
                    format!("pass_threshold: {t} is not a number; give the score at or above which a row is correct, e.g. 1.0"),
                );
            }
        }
        if let MetaColumns::Keyword(k) = &m.meta {
            if k != "rest" && k != "none" {
                err(
                    &["meta"],
                    format!("meta: '{k}' is not valid; use rest, none, or a list of columns"),
                );
            }
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            errors.sort_by_key(|e| (e.line, e.col));
            Err(Error::Config(crate::config::ConfigErrors(errors)))
        }
    }

    pub(super) fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.columns.get(field).map(String::as_str).unwrap_or(field)
    }
}
