//! A vocabulary mapping: from the values of finer taxonomies to another
//! label space (the shipped one: `taxonomies/paper/mapping.yaml`, from every
//! shipped value to the paper's label space in `taxonomies/paper/paper.yaml`),
//! so that an analysis can be read in either vocabulary.
//!
//! ```yaml
//! name: paper-mapping
//! target: paper.yaml                 # the label space, relative to this file
//! groups:                            # the label space's own axes -> its axes (each once)
//!   operation: [operation]
//! multi_label: [operation]           # axes where one item may hold several values
//! map:                               # finer axis -> finer value -> target tags
//!   operation:
//!     modular_arithmetic: { operation: arithmetic_computation }
//!     casework: { operation: [constraint_tracking] }
//!   difficulty:
//!     level_1: {}                    # no counterpart, deliberately
//! ```
//!
//! Tagging in the target vocabulary ([`Vocabulary::translate`]): an item's
//! values are the tags of the target's own rules plus the translation of
//! every finer tag; the rule ids of both are its provenance. The map must be
//! total over the finer taxonomies it is used with ([`Vocabulary::check_total`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::config::{ConfigError, ConfigErrors};
use crate::error::{Error, Result};
use crate::mapping::Located;
use crate::taxonomy::{ItemTags, TaxonomySet, UNKNOWN_VALUE};

/// finer axis -> finer value -> target axis -> values, each with its position.
type RawMap = BTreeMap<String, Spanned<BTreeMap<String, Spanned<BTreeMap<String, Spanned<OneOrMany>>>>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    name: String,
    #[serde(default)]
    description: Option<String>,
    target: Spanned<String>,
    groups: Spanned<BTreeMap<String, Spanned<Vec<Spanned<String>>>>>,
    #[serde(default)]
    multi_label: Vec<Spanned<String>>,
    map: Spanned<RawMap>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// One finer value's entry, with where it is written.
#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    col: usize,
    /// (target axis index, value).
    tags: Vec<(usize, String)>,
}

/// A loaded, validated vocabulary mapping with its target label space.
pub struct Vocabulary {
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub target_file: PathBuf,
    /// The target label space and its own rules.
    pub target: TaxonomySet,
    /// (group, its target axes), groups in the order of their first axis.
    pub groups: Vec<(String, Vec<String>)>,
    pub multi_label: BTreeSet<String>,
    /// (finer axis, finer value) -> entry.
    map: BTreeMap<(String, String), Entry>,
    /// Where each finer axis is written (line, col).
    axis_at: BTreeMap<String, (usize, usize)>,
    map_at: (usize, usize),
    text: String,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("file", &self.file)
            .field("name", &self.name)
            .field("entries", &self.map.len())
            .finish()
    }
}

impl Vocabulary {
    /// Load the mapping and its target; every error at `file:line:col`.
    pub fn load(path: &Path) -> Result<Vocabulary> {
        let text = crate::error::read_text(path)?;
        let raw: RawVocabulary = serde_saphyr::from_str(&text)
            .map_err(|e| Error::Config(ConfigErrors(vec![crate::config::yaml_error(path, &text, &e)])))?;
        let target_file = path.parent().unwrap_or(Path::new("")).join(&raw.target.value);
        let target = match TaxonomySet::load(std::slice::from_ref(&target_file)) {
            Ok(t) => t,
            Err(e) => {
                let mut errs = vec![raw.target.error(
                    path,
                    &text,
                    format!(
                        "the target label space {} does not load (errors follow)",
                        target_file.display()
                    ),
                )];
                errs.extend(e.0);
                return Err(Error::Config(ConfigErrors(errs)));
            }
        };
        let mut errs = Vec::new();
        let axes: Vec<&str> = target.axes().iter().map(|a| a.name.as_str()).collect();
        let axis_ix = |a: &str| axes.iter().position(|x| *x == a);
        let known = crate::mapping::known_axes(&target);
        let axis_list = axes.join(", ");

        // groups: every target axis exactly once.
        let mut grouped: BTreeMap<String, String> = BTreeMap::new();
        let mut groups = Vec::new();
        for (group, members) in &raw.groups.value {
            let mut list = Vec::new();
            for m in &members.value {
                if axis_ix(&m.value).is_none() {
                    errs.push(m.error(
                        path,
                        &text,
                        format!(
                            "unknown axis '{}' in group {group}; the target's axes: {axis_list}",
                            m.value
                        ),
                    ));
                } else if let Some(other) = grouped.insert(m.value.clone(), group.clone()) {
                    errs.push(m.error(
                        path,
                        &text,
                        format!(
                            "axis '{}' is in group {other} already; each axis belongs to one group",
                            m.value
                        ),
                    ));
                }
                list.push(m.value.clone());
            }
            groups.push((group.clone(), list));
        }
        let missing: Vec<&str> = axes
            .iter()
            .copied()
            .filter(|a| !grouped.contains_key(*a))
            .collect();
        if !missing.is_empty() {
            errs.push(raw.groups.error(
                path,
                &text,
                format!(
                    "axes in no group: {}; every axis of the target belongs to one group",
                    missing.join(", ")
                ),
            ));
        }
        groups.sort_by_key(|(_, m)| m.first().and_then(|a| axis_ix(a)).unwrap_or(usize::MAX));

        let mut multi_label = BTreeSet::new();
        for m in &raw.multi_label {
            if axis_ix(&m.value).is_none() {
                errs.push(m.error(
                    path,
                    &text,
                    format!(
                        "unknown axis '{}' in multi_label; the target's axes: {axis_list}",
                        m.value
                    ),
                ));
            }
            multi_label.insert(m.value.clone());
        }

        let mut map = BTreeMap::new();
        let mut axis_at = BTreeMap::new();
        for (fine_axis, values) in &raw.map.value {
            let l = values.referenced;
            axis_at.insert(fine_axis.clone(), (l.line() as usize, l.column() as usize));
            for (fine_value, entry) in &values.value {
                let mut tags = Vec::new();
                for (to_axis, to) in &entry.value {
                    let vals = match &to.value {
                        OneOrMany::One(s) => vec![s.clone()],
                        OneOrMany::Many(v) => v.clone(),
                    };
                    let Some(ix) = axis_ix(to_axis) else {
                        errs.push(to.error(
                            path,
                            &text,
                            format!(
                                "{fine_axis}={fine_value} maps to unknown axis '{to_axis}'; the target's axes: {axis_list}"
                            ),
                        ));
                        continue;
                    };
                    if vals.is_empty() {
                        errs.push(to.error(
                            path,
                            &text,
                            format!("{fine_axis}={fine_value}: `{to_axis}` lists no value; write `{{}}` for no counterpart"),
                        ));
                    }
                    for v in vals {
                        let ok = known.get(to_axis).is_some_and(|k| k.contains(&v)) && v != UNKNOWN_VALUE;
                        if !ok {
                            let values = target.axes()[ix].values.join(", ");
                            errs.push(to.error(
                                path,
                                &text,
                                format!(
                                    "{fine_axis}={fine_value} maps to unknown value '{v}' of axis {to_axis}; known values: {values}"
                                ),
                            ));
                        }
                        tags.push((ix, v));
                    }
                }
                let l = entry.referenced;
                map.insert(
                    (fine_axis.clone(), fine_value.clone()),
                    Entry {
                        line: l.line() as usize,
                        col: l.column() as usize,
                        tags,
                    },
                );
            }
        }
        if !errs.is_empty() {
            errs.sort_by_key(|e| (e.line, e.col));
            return Err(Error::Config(ConfigErrors(errs)));
        }
        let r = raw.map.referenced;
        Ok(Vocabulary {
            file: path.to_path_buf(),
            name: raw.name,
            description: raw.description,
            target_file,
            target,
            groups,
            multi_label,
            map,
            axis_at,
            map_at: (r.line() as usize, r.column() as usize),
            text,
        })
    }

    fn error_at(&self, (line, col): (usize, usize), message: String) -> ConfigError {
        let excerpt = crate::config::excerpt(&self.text, crate::config::Pos { line, col });
        ConfigError {
            file: self.file.clone(),
            line,
            col,
            message,
            excerpt,
        }
    }

    /// Every value of `fine` (axis -> values; `unknown` is skipped) has an
    /// entry. With `exact`, every entry also names a value of `fine` (no stale
    /// entries). Errors at the mapping's axis (or `map:`) position.
    pub fn check_total(&self, fine: &BTreeMap<String, BTreeSet<String>>, exact: bool) -> Result<()> {
        let mut errs = Vec::new();
        for (axis, values) in fine {
            let missing: Vec<&str> = values
                .iter()
                .map(String::as_str)
                .filter(|v| *v != UNKNOWN_VALUE && !self.map.contains_key(&(axis.clone(), v.to_string())))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let at = self.axis_at.get(axis).copied().unwrap_or(self.map_at);
            errs.push(self.error_at(
                at,
                format!(
                    "no entry for {axis}={}; every value of the finer taxonomies needs one (`value: {{ axis: value }}`, or `value: {{}}` for no counterpart)",
                    missing.join(format!(", {axis}=").as_str())
                ),
            ));
        }
        if exact {
            for ((axis, value), e) in &self.map {
                if !fine.get(axis).is_some_and(|v| v.contains(value)) {
                    errs.push(self.error_at(
                        (e.line, e.col),
                        format!("{axis}={value} is not a value of any taxonomy checked with this mapping; remove the entry or check it with the taxonomy that declares it"),
                    ));
                }
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            errs.sort_by_key(|e| (e.line, e.col));
            Err(Error::Config(ConfigErrors(errs)))
        }
    }

    /// The target tags of one finer tag (`None`: no entry).
    pub fn lookup(&self, axis: &str, value: &str) -> Option<Vec<(String, String)>> {
        let axes = self.target.axes();
        self.map.get(&(axis.to_string(), value.to_string())).map(|e| {
            e.tags
                .iter()
                .map(|(ix, v)| (axes[*ix].name.clone(), v.clone()))
                .collect()
        })
    }

    /// Tag items with the finer taxonomies `fine` and translate them (see
    /// [`Vocabulary::translate`]); in input order.
    pub fn tag_all(&self, fine: &TaxonomySet, items: &[crate::taxonomy::ItemRef<'_>]) -> Vec<ItemTags> {
        let names: Vec<String> = fine.axes().iter().map(|a| a.name.clone()).collect();
        let tagged = fine.tag_all(items);
        let own = self.target.tag_all(items);
        tagged
            .iter()
            .zip(&own)
            .map(|(f, o)| self.translate(&names, f, o))
            .collect()
    }

    /// An item's tags in the target vocabulary: `own` (the target's rules,
    /// in target axis order) plus the translation of `fine` (in `fine_axes`
    /// order). Provenance: the target's rules, then the finer rules.
    pub fn translate(&self, fine_axes: &[String], fine: &ItemTags, own: &ItemTags) -> ItemTags {
        let n = self.target.axes().len();
        let mut values: Vec<BTreeSet<String>> = vec![BTreeSet::new(); n];
        for (a, vals) in own.values.iter().enumerate() {
            values[a].extend(vals.iter().filter(|v| *v != UNKNOWN_VALUE).cloned());
        }
        for (axis, vals) in fine_axes.iter().zip(&fine.values) {
            for v in vals {
                if let Some(e) = self.map.get(&(axis.clone(), v.clone())) {
                    for (ix, to) in &e.tags {
                        values[*ix].insert(to.clone());
                    }
                }
            }
        }
        let mut rules = own.rules.clone();
        for r in &fine.rules {
            if !rules.contains(r) {
                rules.push(r.clone());
            }
        }
        ItemTags {
            values: values
                .into_iter()
                .map(|s| {
                    if s.is_empty() {
                        vec![UNKNOWN_VALUE.to_string()]
                    } else {
                        s.into_iter().collect()
                    }
                })
                .collect(),
            rules,
        }
    }
}
