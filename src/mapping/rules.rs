//! Mapping rules: `when <slice predicate> then <data categories with
//! weights>`, each with a rationale sentence a reviewer can judge, and
//! optionally a request for new targeted data (a patch).
//!
//! A rule matches a slice of a benchmark when the benchmark matches one of
//! its globs and, for every axis it names, the slice holds one of the listed
//! values. Of the rules that match a slice, the most specific (most axes
//! named) apply, and their weights are averaged: each slice hands out at
//! most one unit of weight, however many rules describe it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::data::DataTaxonomy;
use super::Located;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: String,
    #[serde(default)]
    description: Option<String>,
    rules: Spanned<Vec<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    when: Spanned<BTreeMap<String, Spanned<OneOrMany>>>,
    then: Spanned<Vec<RawTarget>>,
    rationale: Spanned<String>,
    #[serde(default)]
    patch: Option<RawPatch>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    category: Spanned<String>,
    weight: Spanned<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPatch {
    kind: String,
    tokens: Spanned<f64>,
    why: String,
}

/// New targeted data a rule asks for.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Patch {
    /// What data to create or collect.
    pub kind: String,
    pub tokens: f64,
    pub why: String,
}

/// One mapping rule.
#[derive(Debug, Clone)]
pub struct MappingRule {
    pub id: String,
    pub file: PathBuf,
    pub line: usize,
    /// Benchmark globs; empty means any benchmark.
    pub benchmarks: Vec<String>,
    matchers: Vec<globset::GlobMatcher>,
    /// Axis -> accepted values.
    pub when: BTreeMap<String, Vec<String>>,
    /// (category path, weight).
    pub then: Vec<(String, f64)>,
    pub rationale: String,
    pub patch: Option<Patch>,
}

impl MappingRule {
    /// Whether the rule covers `slice` (parsed predicates) of `benchmark`.
    pub fn matches(&self, benchmark: &str, slice: &[(String, String)]) -> bool {
        let bench_ok = self.matchers.is_empty() || self.matchers.iter().any(|m| m.is_match(benchmark));
        bench_ok
            && self
                .when
                .iter()
                .all(|(axis, values)| slice.iter().any(|(a, v)| a == axis && values.contains(v)))
    }

    /// How many axes the rule names: the more, the more specific.
    pub fn specificity(&self) -> usize {
        self.when.len()
    }
}

/// A loaded, validated set of mapping rules.
#[derive(Debug, Clone)]
pub struct MappingRules {
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub rules: Vec<MappingRule>,
}

/// What a slice maps to: the applied rules and the weight per category.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceMapping {
    pub rules: Vec<String>,
    /// Category path -> weight (averaged over the applied rules).
    pub weights: BTreeMap<String, f64>,
}

/// Parse a slice name (`a=b & c=d`, `*` for the whole benchmark) into its predicates.
pub fn parse_slice(slice: &str) -> Vec<(String, String)> {
    if slice.trim() == "*" {
        return Vec::new();
    }
    slice
        .split(" & ")
        .filter_map(|p| p.split_once('='))
        .map(|(a, v)| (a.trim().to_string(), v.trim().to_string()))
        .collect()
}

impl MappingRules {
    /// Load and validate against the data taxonomy and the known axis values
    /// of the evaluation taxonomies (`unknown` is always a known value).
    pub fn load(
        path: &Path,
        data: &DataTaxonomy,
        axes: &BTreeMap<String, BTreeSet<String>>,
    ) -> crate::Result<MappingRules> {
        let text = crate::error::read_text(path)?;
        Self::from_yaml_str(path, &text, data, axes)
    }

    pub fn from_yaml_str(
        path: &Path,
        text: &str,
        data: &DataTaxonomy,
        axes: &BTreeMap<String, BTreeSet<String>>,
    ) -> crate::Result<MappingRules> {
        let raw: RawMapping = super::parse(path, text)?;
        let mut errs = Vec::new();
        let mut at = |l: &dyn Located, msg: String| errs.push(l.error(path, text, msg));
        let mut rules = Vec::new();
        let mut ids = BTreeSet::new();
        if raw.rules.value.is_empty() {
            at(&raw.rules, "rules: at least one mapping rule is needed".into());
        }
        for r in raw.rules.value {
            let id = r.id.value.clone();
            if id.trim().is_empty() {
                at(&r.id, "rule id must not be empty".into());
            } else if !ids.insert(id.clone()) {
                at(&r.id, format!("duplicate rule id '{id}'"));
            }
            let mut when = BTreeMap::new();
            let mut benchmarks = Vec::new();
            let mut matchers = Vec::new();
            for (key, value) in r.when.value {
                let vals = value.value.into_vec();
                if vals.is_empty() {
                    at(&value.referenced, format!("`{key}` needs at least one value"));
                }
                if key == "benchmark" {
                    for g in &vals {
                        match globset::Glob::new(g) {
                            Ok(glob) => matchers.push(glob.compile_matcher()),
                            Err(e) => at(&value.referenced, format!("invalid benchmark glob '{g}': {e}")),
                        }
                    }
                    benchmarks = vals;
                    continue;
                }
                match axes.get(&key) {
                    None => at(
                        &value.referenced,
                        format!(
                            "unknown axis '{key}' in rule '{id}'; known axes: benchmark, {}",
                            axes.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ),
                    Some(known) => {
                        for v in &vals {
                            if !known.contains(v) {
                                let hint = closest(v, known.iter().map(String::as_str))
                                    .map(|c| format!("did you mean '{c}'? "))
                                    .unwrap_or_default();
                                at(
                                    &value.referenced,
                                    format!(
                                        "unknown axis value '{v}' for axis {key}; {hint}known values: {}",
                                        list(known)
                                    ),
                                );
                            }
                        }
                    }
                }
                when.insert(key, vals);
            }
            if r.then.value.is_empty() {
                at(&r.then, format!("rule '{id}' maps to no category"));
            }
            let mut then = Vec::new();
            let mut total = 0.0;
            let then_at = r.then.referenced;
            for t in r.then.value {
                let cat = t.category.value.clone();
                if !data.contains(&cat) {
                    at(&t.category, unknown_category(&cat, data));
                }
                let w = t.weight.value;
                if !(w > 0.0 && w <= 1.0) {
                    at(
                        &t.weight,
                        format!("weight of '{cat}' must be in (0, 1], found {w}"),
                    );
                }
                total += w;
                then.push((cat, w));
            }
            if total > 1.0 + 1e-9 {
                at(
                    &then_at,
                    format!("the weights of rule '{id}' sum to {total}; they may sum to at most 1"),
                );
            }
            if r.rationale.value.trim().is_empty() {
                at(&r.rationale, format!("rule '{id}' needs a rationale sentence"));
            }
            let patch = r.patch.map(|p| {
                if !(p.tokens.value > 0.0 && p.tokens.value.is_finite()) {
                    at(
                        &p.tokens,
                        format!("patch tokens must be a positive number, found {}", p.tokens.value),
                    );
                }
                Patch {
                    kind: p.kind,
                    tokens: p.tokens.value,
                    why: p.why,
                }
            });
            rules.push(MappingRule {
                id,
                file: path.to_path_buf(),
                line: r.id.referenced.line() as usize,
                benchmarks,
                matchers,
                when,
                then,
                rationale: r.rationale.value,
                patch,
            });
        }
        if errs.is_empty() {
            Ok(MappingRules {
                file: path.to_path_buf(),
                name: raw.name,
                description: raw.description,
                rules,
            })
        } else {
            errs.sort_by_key(|a| (a.line, a.col));
            Err(crate::Error::Config(crate::config::ConfigErrors(errs)))
        }
    }

    /// The rules that apply to `slice` of `benchmark`, and its category weights.
    pub fn map(&self, benchmark: &str, slice: &str) -> Option<SliceMapping> {
        let preds = parse_slice(slice);
        let hits: Vec<&MappingRule> = self
            .rules
            .iter()
            .filter(|r| r.matches(benchmark, &preds))
            .collect();
        let best = hits.iter().map(|r| r.specificity()).max()?;
        let applied: Vec<&MappingRule> = hits.into_iter().filter(|r| r.specificity() == best).collect();
        let n = applied.len() as f64;
        let mut weights = BTreeMap::new();
        for r in &applied {
            for (c, w) in &r.then {
                *weights.entry(c.clone()).or_insert(0.0) += w / n;
            }
        }
        Some(SliceMapping {
            rules: applied.iter().map(|r| r.id.clone()).collect(),
            weights,
        })
    }

    pub fn rule(&self, id: &str) -> Option<&MappingRule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn list(values: &BTreeSet<String>) -> String {
    const MAX: usize = 30;
    let mut s: Vec<&str> = values.iter().map(String::as_str).take(MAX).collect();
    if values.len() > MAX {
        s.push("...");
    }
    s.join(", ")
}

/// The known name closest to `name`, when it is close enough to be a typo.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(a.1)))
        .map(|(_, k)| k)
}

fn unknown_category(cat: &str, data: &DataTaxonomy) -> String {
    match closest(cat, data.paths.iter().map(String::as_str)) {
        Some(c) => format!(
            "unknown data category '{cat}' (data taxonomy '{}'); did you mean '{c}'?",
            data.name
        ),
        None => {
            let top: BTreeSet<&str> = data
                .paths
                .iter()
                .map(|p| p.split('/').next().unwrap_or(p))
                .collect();
            format!(
                "unknown data category '{cat}' (data taxonomy '{}'); categories are paths under: {}",
                data.name,
                top.into_iter().collect::<Vec<_>>().join(", ")
            )
        }
    }
}
