//! The evaluation taxonomy: load taxonomy YAML files, validate them, and tag
//! evaluation items with `axis=value` tags (DESIGN sections 1, 4 and 11).
//!
//! A taxonomy declares axes and their values, and rules that add tags to the
//! items their `when` conditions match:
//!
//! ```yaml
//! name: math-reasoning
//! description: optional text
//! axes:
//!   background: [number_theory, everyday_quantities]
//!   operation: [modular_arithmetic, counting]
//! rules:
//!   - id: aime.nt
//!     description: optional sentence saying why
//!     when: { benchmark: "aime*", meta_regex: { problem: '(?i)\bremainder\b' } }
//!     add: { background: number_theory, operation: [modular_arithmetic] }
//! ```
//!
//! Schema, as implemented (unknown fields are errors everywhere):
//! - top level: `name` (required), `description`, `axes`, `rules`.
//! - `axes`: axis name -> list of values. Names are lowercase identifiers
//!   (`[a-z][a-z0-9_]*`) and not one of [`RESERVED_AXIS_NAMES`] (each axis
//!   becomes a column of the tagged table); values use letters, digits and
//!   `_ - . / : +`, are unique within the list, and are never `unknown`
//!   (reserved: an item with no value on an axis gets it). Files loaded
//!   together may declare the same axis: values are merged in first-seen
//!   order, and a file may use axes declared only by another one.
//! - a rule: `id` (required; no spaces; unique across all files loaded
//!   together), `description`, `when` (required), `add` (required).
//! - `when`: one condition map, or a non-empty list of them (any map matching
//!   fires the rule). Every key of a map must hold, and a map needs at least
//!   one key: `benchmark`, `task` (a glob or a list of globs, any matches),
//!   `meta` (field -> glob or list of globs), `meta_regex` (field -> regex),
//!   `prompt_regex`, `target_regex` (a regex; a missing prompt or target
//!   never matches, an empty one is text like any other).
//! - globs follow `globset`: `*` matches any text including `/`, `?` one
//!   character, `[ab]` a class, `{a,b}` alternatives, `\` escapes; a glob
//!   without those is plain equality; matching is case-sensitive.
//! - regexes follow the `regex` crate and match anywhere in the text (anchor
//!   with `^`/`$`); `(?i)` makes them case-insensitive.
//! - meta fields (see `meta.rs`): a dotted path walks nested objects
//!   (`gold.capability`); arrays match if any element matches; numbers and
//!   booleans match as their JSON text (`3`, `1.5`, `true`); null, objects
//!   and missing fields never match; meta that is empty, not JSON, or not a
//!   JSON object has no fields (never an error).
//! - `add`: axis -> value or list of values, all declared.
//! - YAML scalars are taken as written: `yes` is the text `yes`, `1.50` is
//!   `1.50` (not a bool, not `1.5`).
//!
//! All matching rules fire and their tags accumulate; [`ItemTags::rules`] is
//! the provenance, and [`TaxonomySet::rules`] says which tags each rule adds.
//! This module does not read sample tables or write Parquet; the `tag` stage
//! does, calling [`TaxonomySet::tag_all`].

mod config;
mod literals;
mod matcher;
mod meta;
mod resolve;
mod store;
mod yaml;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use crate::config::{ConfigError, ConfigErrors};
pub use resolve::RESERVED_AXIS_NAMES;

use crate::config::Diagnostics;
pub use matcher::TagIds;
use matcher::{Bits, Gate, Matcher};
pub use store::{TagStore, VocabTag};
use yaml::Pos;

/// The value an item gets on an axis no rule gave a value for.
pub const UNKNOWN_VALUE: &str = matcher::UNKNOWN;

/// One axis and its declared values, in first-seen order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<String>,
}

/// A rule as loaded, for reports and provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    pub description: Option<String>,
    /// The file that defines the rule and the line where it starts.
    pub file: PathBuf,
    pub line: usize,
    /// The (axis, value) tags the rule adds when it fires.
    pub tags: Vec<(String, String)>,
}

/// One evaluation item to tag. Borrowed so that a batch can be tagged
/// straight from column buffers.
#[derive(Debug, Clone, Copy)]
pub struct ItemRef<'a> {
    pub benchmark: &'a str,
    pub task: &'a str,
    pub prompt: Option<&'a str>,
    pub target: Option<&'a str>,
    /// The item's document fields as a JSON object; may be `{}` or empty.
    /// Text that is not a JSON object is treated as having no fields.
    pub meta: &'a str,
}

/// The tags of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTags {
    /// Per axis, in [`TaxonomySet::axes`] order: the values, sorted and
    /// deduplicated, or `["unknown"]` when no rule gave one.
    pub values: Vec<Vec<String>>,
    /// Ids of the rules that fired, in rule order (files in load order, then
    /// rules in file order).
    pub rules: Vec<String>,
}

/// One or more taxonomy files, validated and compiled for tagging.
pub struct TaxonomySet {
    names: Vec<String>,
    axes: Vec<Axis>,
    rules: Vec<RuleInfo>,
    /// (benchmark globs of the condition, or none; meta field) of every
    /// `meta_regex` condition: the doc fields whose text the rules read.
    reads: Vec<(Option<Vec<String>>, String)>,
    /// Shared with [`Tagger`]s.
    matcher: std::sync::Arc<Matcher>,
}

impl std::fmt::Debug for TaxonomySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaxonomySet")
            .field("names", &self.names)
            .field("axes", &self.axes)
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl TaxonomySet {
    /// Loads and validates taxonomy files together. Every error of every
    /// file is returned at once. No files gives an empty set.
    pub fn load(paths: &[PathBuf]) -> Result<TaxonomySet, ConfigErrors> {
        let mut diag = Diagnostics::new();
        let mut files = Vec::new();
        let mut all_parsed = true;
        for path in paths {
            let read = std::fs::read(path)
                .map_err(|e| format!("cannot read the taxonomy file: {e}"))
                .and_then(|b| {
                    crate::config::text_of(path, b)
                        .map_err(|e| format!("line {}, column {}: {}", e.line, e.col, e.message))
                });
            match read {
                Ok(text) => {
                    let f = diag.add_file(path, &text);
                    match parse_file(&mut diag, f, &text) {
                        Some(raw) => files.push((f, raw)),
                        None => all_parsed = false,
                    }
                }
                Err(e) => {
                    let f = diag.add_file(path, "");
                    diag.push(f, Pos::default(), e);
                    all_parsed = false;
                }
            }
        }
        resolve::resolve(files, all_parsed, diag)
    }

    /// Loads one taxonomy from text; `file` is only used in error messages.
    pub fn from_yaml_str(file: &Path, text: &str) -> Result<TaxonomySet, ConfigErrors> {
        let mut diag = Diagnostics::new();
        let f = diag.add_file(file, text);
        let parsed = parse_file(&mut diag, f, text);
        let all_parsed = parsed.is_some();
        resolve::resolve(parsed.map(|raw| (f, raw)).into_iter().collect(), all_parsed, diag)
    }

    /// The `name` of each file, in load order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The doc (meta) fields whose text some rule matches with a regex for
    /// items of `benchmark`, sorted: the item's own text as the taxonomy
    /// reads it (never the prompt).
    pub fn text_fields(&self, benchmark: &str) -> Vec<String> {
        let mut out = std::collections::BTreeSet::new();
        for (globs, field) in &self.reads {
            let applies = match globs {
                None => true,
                Some(g) => g
                    .iter()
                    .any(|p| resolve::compile_glob(p).is_ok_and(|g| g.compile_matcher().is_match(benchmark))),
            };
            if applies {
                out.insert(field.clone());
            }
        }
        out.into_iter().collect()
    }

    /// All rules in evaluation order.
    pub fn rules(&self) -> &[RuleInfo] {
        &self.rules
    }

    /// Tags one item. For many items prefer [`TaxonomySet::tag_all`], which
    /// evaluates benchmark and task globs once per distinct string.
    pub fn tag(&self, item: &ItemRef<'_>) -> ItemTags {
        let bench = self.matcher.bench_mask(item.benchmark);
        let task = self.matcher.task_mask(item.task);
        let mut scratch = self.matcher.scratch();
        self.matcher.tag(
            item,
            Gate {
                bench: &bench,
                task: &task,
            },
            &mut scratch,
        )
    }

    /// Tags items in parallel (rayon). The output is in input order and does
    /// not depend on the number of threads.
    pub fn tag_all(&self, items: &[ItemRef<'_>]) -> Vec<ItemTags> {
        self.tag_all_ids(items)
            .iter()
            .map(|t| self.matcher.names(t))
            .collect()
    }

    /// The tags behind [`TaxonomySet::tag_all_ids`]'s ids.
    pub fn tags_of(&self, ids: &TagIds) -> ItemTags {
        self.matcher.names(ids)
    }

    /// A tag id's axis and value (without the axis name).
    pub fn tag_value(&self, t: u32) -> (usize, &str) {
        self.matcher.tag_value(t)
    }

    /// A rule index's id.
    pub fn rule_id(&self, r: u32) -> &str {
        self.matcher.rule_id(r)
    }

    /// [`TaxonomySet::tag_all`] as ids, without building strings per item.
    pub fn tag_all_ids(&self, items: &[ItemRef<'_>]) -> Vec<TagIds> {
        tag_all_ids(&self.matcher, items)
    }

    /// A handle that tags items on another thread, owning what it needs.
    pub fn tagger(&self) -> Tagger {
        Tagger(std::sync::Arc::clone(&self.matcher))
    }
}

/// [`TaxonomySet::tag_all_ids`] without a borrow of the set: a `'static`
/// handle on its compiled rules, for a thread that outlives the caller's
/// borrow (the sink matches one batch while it folds the last).
#[derive(Clone)]
pub struct Tagger(std::sync::Arc<Matcher>);

impl Tagger {
    /// The same ids as [`TaxonomySet::tag_all_ids`] of the set it came from.
    pub fn tag_all_ids(&self, items: &[ItemRef<'_>]) -> Vec<TagIds> {
        tag_all_ids(&self.0, items)
    }
}

fn tag_all_ids(matcher: &Matcher, items: &[ItemRef<'_>]) -> Vec<TagIds> {
    let bench = distinct_masks(items.iter().map(|i| i.benchmark), |s| matcher.bench_mask(s));
    let task = distinct_masks(items.iter().map(|i| i.task), |s| matcher.task_mask(s));
    items
        .par_iter()
        .map_init(
            || matcher.scratch(),
            |scratch, item| {
                // Both maps hold every item's strings (built just above),
                // so indexing cannot fail.
                let gate = Gate {
                    bench: &bench[item.benchmark],
                    task: &task[item.task],
                };
                matcher.tag_ids(item, gate, scratch)
            },
        )
        .collect()
}

fn distinct_masks<'a>(
    strings: impl Iterator<Item = &'a str>,
    mask: impl Fn(&str) -> Bits,
) -> rustc_hash::FxHashMap<&'a str, Bits> {
    let mut out = rustc_hash::FxHashMap::default();
    for s in strings {
        out.entry(s).or_insert_with(|| mask(s));
    }
    out
}

/// Parses one file's text into its raw form; `None` on a YAML syntax error
/// (already reported).
fn parse_file(diag: &mut Diagnostics, f: usize, text: &str) -> Option<config::RawTaxonomy> {
    match yaml::parse(text) {
        Ok(root) => Some(config::parse_taxonomy(&root, diag, f)),
        Err((pos, message)) => {
            diag.push(f, pos, message);
            None
        }
    }
}
