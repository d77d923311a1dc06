//! The data taxonomy: a tree of pretraining-data categories (source / domain
//! / quality label, any depth). Leaves carry the base mixture share and the
//! tokens available; inner nodes group them. A category is named by its path,
//! `web/math/high`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Located;
use crate::config::ConfigError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    name: String,
    #[serde(default)]
    description: Option<String>,
    /// Tokens the next training run consumes: shares become token counts.
    budget_tokens: Spanned<f64>,
    categories: Spanned<Vec<RawCategory>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: Spanned<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    share: Option<Spanned<f64>>,
    #[serde(default)]
    tokens: Option<Spanned<f64>>,
    #[serde(default)]
    children: Vec<RawCategory>,
}

/// A leaf category of the base mixture.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    pub path: String,
    pub description: Option<String>,
    /// Share of the base mixture's tokens.
    pub share: f64,
    /// Tokens available in the corpus for this category.
    pub tokens: f64,
}

/// A loaded, validated data taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct DataTaxonomy {
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub budget_tokens: f64,
    /// Leaves in file order.
    pub leaves: Vec<Leaf>,
    /// Every category path, inner nodes included, in file order.
    pub paths: Vec<String>,
}

/// Shares of the base mixture must sum to one within this tolerance.
pub const SHARE_TOLERANCE: f64 = 1e-6;

impl DataTaxonomy {
    /// Load and validate; every mistake of the file is reported.
    pub fn load(path: &Path) -> crate::Result<DataTaxonomy> {
        let text = crate::error::read_text(path)?;
        Self::from_yaml_str(path, &text)
    }

    pub fn from_yaml_str(path: &Path, text: &str) -> crate::Result<DataTaxonomy> {
        let raw: RawTaxonomy = super::parse(path, text)?;
        let mut errs = Vec::new();
        let mut at = |l: &dyn Located, msg: String| errs.push(l.error(path, text, msg));
        let budget = raw.budget_tokens.value;
        if !(budget.is_finite() && budget > 0.0) {
            at(
                &raw.budget_tokens,
                format!("budget_tokens must be a positive number of tokens, found {budget}"),
            );
        }
        let mut t = DataTaxonomy {
            file: path.to_path_buf(),
            name: raw.name,
            description: raw.description,
            budget_tokens: budget,
            leaves: Vec::new(),
            paths: Vec::new(),
        };
        if raw.categories.value.is_empty() {
            at(
                &raw.categories,
                "categories: at least one category is needed".into(),
            );
        }
        walk(&raw.categories.value, "", &mut t, &mut at);
        let total: f64 = t.leaves.iter().map(|l| l.share).sum();
        if !t.leaves.is_empty() && (total - 1.0).abs() > SHARE_TOLERANCE {
            at(
                &raw.categories,
                format!("the leaf shares of the base mixture sum to {total:.6}, not 1"),
            );
        }
        if errs.is_empty() {
            Ok(t)
        } else {
            Err(crate::Error::Config(crate::config::ConfigErrors(sorted(errs))))
        }
    }

    /// The leaves at or under `path` (a leaf or an inner node).
    pub fn leaves_under(&self, path: &str) -> Vec<usize> {
        self.leaves
            .iter()
            .enumerate()
            .filter(|(_, l)| l.path == path || l.path.strip_prefix(path).is_some_and(|r| r.starts_with('/')))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn contains(&self, path: &str) -> bool {
        self.paths.iter().any(|p| p == path)
    }
}

fn sorted(mut errs: Vec<ConfigError>) -> Vec<ConfigError> {
    errs.sort_by_key(|a| (a.line, a.col));
    errs
}

fn walk(cats: &[RawCategory], prefix: &str, t: &mut DataTaxonomy, at: &mut dyn FnMut(&dyn Located, String)) {
    let mut seen: Vec<&str> = Vec::new();
    for c in cats {
        let id = c.id.value.as_str();
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !valid {
            at(
                &c.id,
                format!("category id '{id}' must be lower-case letters, digits, '_' or '-' (no '/')"),
            );
        }
        if seen.contains(&id) {
            at(
                &c.id,
                format!(
                    "duplicate category '{id}' under '{}'",
                    prefix.trim_end_matches('/')
                ),
            );
        }
        seen.push(id);
        let path = format!("{prefix}{id}");
        t.paths.push(path.clone());
        if c.children.is_empty() {
            let share = c.share.as_ref().map(|s| s.value);
            let tokens = c.tokens.as_ref().map(|s| s.value);
            match (&c.share, share) {
                (None, _) => at(
                    &c.id,
                    format!("leaf category '{path}' needs `share` (its base mixture share)"),
                ),
                (Some(s), Some(v)) if !(0.0..=1.0).contains(&v) || !v.is_finite() => {
                    at(s, format!("share of '{path}' must be between 0 and 1, found {v}"))
                }
                _ => {}
            }
            match (&c.tokens, tokens) {
                (None, _) => at(
                    &c.id,
                    format!("leaf category '{path}' needs `tokens` (tokens available)"),
                ),
                (Some(s), Some(v)) if !(v >= 0.0 && v.is_finite()) => at(
                    s,
                    format!("tokens of '{path}' must be a non-negative number, found {v}"),
                ),
                _ => {}
            }
            t.leaves.push(Leaf {
                path,
                description: c.description.clone(),
                share: share.unwrap_or(0.0),
                tokens: tokens.unwrap_or(0.0),
            });
        } else {
            if let Some(s) = &c.share {
                at(
                    s,
                    format!(
                        "'{path}' has children: its share is the sum of theirs, give `share` on the leaves"
                    ),
                );
            }
            if let Some(s) = &c.tokens {
                at(s, format!("'{path}' has children: give `tokens` on the leaves"));
            }
            walk(&c.children, &format!("{path}/"), t, at);
        }
    }
}
