//! Resolving raw taxonomy files into one checked, compiled set.
//!
//! Axes of all files are merged first (same name: union of values in
//! first-seen order), so a rules-only file may use axes declared by another
//! file loaded with it. Then every rule is checked against the merged axes,
//! its globs and regexes are compiled, and rule ids are checked for
//! uniqueness across all files. Every problem is recorded; nothing is built
//! when there is any.

use std::collections::HashMap;

use globset::{Glob, GlobBuilder, GlobSetBuilder};
use regex::Regex;

use super::config::{Located, RawAxis, RawCondition, RawRule, RawTaxonomy, CONDITION_FIELDS};
use super::matcher::{CondSpec, MatcherBuilder, SourceSpec, UNKNOWN};
use super::yaml::Pos;
use super::{meta, Axis, RuleInfo, TaxonomySet};
use crate::config::{ConfigErrors, Diagnostics};

/// Axis names that would collide with columns of the sample table (DESIGN
/// section 3) or with `tag_rules`, since each axis becomes a column.
pub const RESERVED_AXIS_NAMES: &[&str] = &[
    "run",
    "benchmark",
    "task",
    "filter",
    "item_id",
    "sample_idx",
    "prompt",
    "target",
    "response",
    "extracted",
    "score",
    "correct",
    "finish_reason",
    "response_tokens",
    "response_chars",
    "meta",
    "tag_rules",
];

/// One parsed file: its index in `Diagnostics` and its raw content.
pub(super) type ParsedFile = (usize, RawTaxonomy);

/// `all_parsed` is false when some file could not be read or parsed; checks
/// about the set as a whole (are there any axes?) are then skipped.
pub(super) fn resolve(
    files: Vec<ParsedFile>,
    all_parsed: bool,
    mut diag: Diagnostics,
) -> Result<TaxonomySet, ConfigErrors> {
    let mut axes = Axes::default();
    for (file, raw) in &files {
        for axis in &raw.axes {
            axes.declare(axis, *file, &mut diag);
        }
    }
    if all_parsed && !diag.has_errors() && axes.list.is_empty() {
        if let Some((file, _)) = files.first() {
            diag.push(
                *file,
                Pos::START,
                "no axes declared; add an `axes` map such as `axes: { operation: [counting, ratio] }`",
            );
        }
    }

    let mut names = Vec::new();
    let mut infos = Vec::new();
    let mut rules = Vec::new();
    let mut ids: HashMap<String, (usize, Pos)> = HashMap::new();
    let mut reads: Vec<(Option<Vec<String>>, String)> = Vec::new();
    for (file, raw) in &files {
        if let Some(name) = &raw.name {
            names.push(name.value.clone());
        }
        for rule in &raw.rules {
            for c in rule.when.iter().flat_map(|w| &w.value) {
                let benchmarks = c
                    .benchmark
                    .as_ref()
                    .map(|b| b.iter().map(|g| g.value.clone()).collect::<Vec<_>>());
                for (field, _) in &c.meta_regex {
                    reads.push((benchmarks.clone(), field.value.clone()));
                }
            }
            if let Some(r) = resolve_rule(rule, *file, &axes, &mut ids, &mut diag) {
                infos.push(RuleInfo {
                    id: r.id.clone(),
                    description: rule.description.clone(),
                    file: diag.path(*file).to_path_buf(),
                    line: rule.pos.line,
                    tags: r
                        .adds
                        .iter()
                        .map(|&(a, v)| {
                            let axis = &axes.list[a];
                            (axis.name.clone(), axis.values[v].clone())
                        })
                        .collect(),
                });
                rules.push(r);
            }
        }
    }
    if diag.has_errors() {
        return Err(diag.into_errors());
    }

    let mut builder = MatcherBuilder::new(&axes.list);
    for r in rules {
        builder.add_rule(&r.id, &r.adds, r.conds);
    }
    match builder.build() {
        Ok(matcher) => Ok(TaxonomySet {
            names,
            axes: axes.list,
            rules: infos,
            reads,
            matcher: std::sync::Arc::new(matcher),
        }),
        Err(e) => {
            // Only resource limits of the automata can fail here.
            let file = files.first().map_or(0, |(f, _)| *f);
            diag.push(
                file,
                Pos::default(),
                format!("cannot build the rule matcher: {e}"),
            );
            Err(diag.into_errors())
        }
    }
}

#[derive(Default)]
struct Axes {
    list: Vec<Axis>,
    index: HashMap<String, usize>,
    values: Vec<HashMap<String, usize>>,
}

impl Axes {
    fn declare(&mut self, raw: &RawAxis, file: usize, diag: &mut Diagnostics) {
        let name = &raw.name.value;
        if let Some(problem) = axis_name_problem(name) {
            diag.push(file, raw.name.pos, problem);
            return;
        }
        if raw.values.is_empty() {
            diag.push(
                file,
                raw.pos,
                format!("axis `{name}` declares no values; list at least one, e.g. `{name}: [a, b]`"),
            );
        }
        let a = match self.index.get(name) {
            Some(&a) => a,
            None => {
                self.list.push(Axis {
                    name: name.clone(),
                    values: Vec::new(),
                });
                self.values.push(HashMap::new());
                self.index.insert(name.clone(), self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let mut here: HashMap<&str, Pos> = HashMap::new();
        for value in &raw.values {
            let v = value.value.as_str();
            if v == UNKNOWN {
                diag.push(
                    file,
                    value.pos,
                    format!(
                        "axis value `{UNKNOWN}` is reserved for items no rule tagged on an axis; remove it from axis {name}"
                    ),
                );
                continue;
            }
            if let Some(problem) = value_problem(v) {
                diag.push(
                    file,
                    value.pos,
                    format!("invalid value '{v}' for axis {name}: {problem}"),
                );
                continue;
            }
            if let Some(first) = here.insert(v, value.pos) {
                diag.push(
                    file,
                    value.pos,
                    format!(
                        "duplicate value '{v}' in axis {name} (first at line {}, column {}); list each value once",
                        first.line, first.col
                    ),
                );
                continue;
            }
            // Merging with another file's declaration of the same axis.
            if !self.values[a].contains_key(v) {
                self.values[a].insert(v.to_owned(), self.list[a].values.len());
                self.list[a].values.push(v.to_owned());
            }
        }
    }

    fn known_axes(&self) -> String {
        if self.list.is_empty() {
            "none (declare them under `axes`)".to_owned()
        } else {
            join(self.list.iter().map(|a| a.name.as_str()))
        }
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(", ")
}

fn axis_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Some(format!(
            "invalid axis name '{name}': use lowercase letters, digits and _ starting with a letter (it becomes a column name)"
        ));
    }
    if RESERVED_AXIS_NAMES.contains(&name) {
        return Some(format!(
            "axis name '{name}' is a column of the sample table; choose another name (reserved: {})",
            RESERVED_AXIS_NAMES.join(", ")
        ));
    }
    None
}

/// Values appear in slice names (`axis=value & axis=value`), so they must not
/// contain spaces, `=`, `&` or `*`.
fn value_problem(value: &str) -> Option<&'static str> {
    let ok = !value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || "_-./:+".contains(c));
    (!ok).then_some("use letters, digits and _ - . / : + only")
}

struct ResolvedRule {
    id: String,
    adds: Vec<(usize, usize)>,
    conds: Vec<CondSpec>,
}

fn resolve_rule(
    rule: &RawRule,
    file: usize,
    axes: &Axes,
    ids: &mut HashMap<String, (usize, Pos)>,
    diag: &mut Diagnostics,
) -> Option<ResolvedRule> {
    let mut ok = true;
    let id = rule.id.as_ref().map(|id| {
        if id.value.is_empty() || id.value.chars().any(char::is_whitespace) {
            diag.push(
                file,
                id.pos,
                format!(
                    "invalid rule id '{}': use a non-empty id without spaces, e.g. `gsm8k.base`",
                    id.value
                ),
            );
            ok = false;
        } else if let Some(&(first_file, first)) = ids.get(&id.value) {
            let message = format!(
                "duplicate rule id '{}' (first defined at {}:{}:{}); rule ids must be unique across all taxonomy files loaded together",
                id.value,
                diag.path(first_file).display(),
                first.line,
                first.col
            );
            diag.push(file, id.pos, message);
            ok = false;
        } else {
            ids.insert(id.value.clone(), (file, id.pos));
        }
        id.value.clone()
    });

    let mut conds = Vec::new();
    if let Some(when) = &rule.when {
        for c in &when.value {
            match condition(c, file, diag) {
                Some(spec) => conds.push(spec),
                None => ok = false,
            }
        }
    }

    let mut adds = Vec::new();
    if let Some(add) = &rule.add {
        if add.value.is_empty() {
            diag.push(
                file,
                add.pos,
                format!(
                    "`add` is empty; name at least one axis and value (known axes: {})",
                    axes.known_axes()
                ),
            );
            ok = false;
        }
        for entry in &add.value {
            let Some(&a) = axes.index.get(&entry.axis.value) else {
                diag.push(
                    file,
                    entry.axis.pos,
                    format!(
                        "unknown axis '{}' in `add`; known axes: {}",
                        entry.axis.value,
                        axes.known_axes()
                    ),
                );
                ok = false;
                continue;
            };
            let axis = &axes.list[a];
            if entry.values.is_empty() {
                diag.push(
                    file,
                    entry.axis.pos,
                    format!("no value given for axis {} in `add`", axis.name),
                );
                ok = false;
            }
            for value in &entry.values {
                match axes.values[a].get(&value.value) {
                    Some(&v) => adds.push((a, v)),
                    None if value.value == UNKNOWN => {
                        diag.push(
                            file,
                            value.pos,
                            format!(
                                "axis value `{UNKNOWN}` is reserved and cannot be added; items with no value on axis {} get it automatically",
                                axis.name
                            ),
                        );
                        ok = false;
                    }
                    None => {
                        diag.push(
                            file,
                            value.pos,
                            format!(
                                "unknown axis value '{}' for axis {}; known values: {}",
                                value.value,
                                axis.name,
                                join(axis.values.iter().map(String::as_str))
                            ),
                        );
                        ok = false;
                    }
                }
            }
        }
    }

    match (ok, id, &rule.when, &rule.add) {
        (true, Some(id), Some(_), Some(_)) => Some(ResolvedRule { id, adds, conds }),
        _ => None,
    }
}

fn condition(c: &RawCondition, file: usize, diag: &mut Diagnostics) -> Option<CondSpec> {
    if c.is_empty() {
        diag.push(
            file,
            c.pos,
            format!(
                "a `when` condition has no keys, so it would match every item; use at least one of: {}",
                CONDITION_FIELDS.join(", ")
            ),
        );
        return None;
    }
    let mut ok = true;
    let mut globs = |list: &Option<Vec<Located<String>>>, key: &str, diag: &mut Diagnostics| {
        let list = list.as_ref()?;
        if list.is_empty() {
            diag.push(
                file,
                c.pos,
                format!("`{key}` is an empty list; give at least one glob"),
            );
            ok = false;
        }
        let mut out = Vec::new();
        for g in list {
            match compile_glob(&g.value) {
                Ok(glob) => out.push(glob),
                Err(e) => {
                    diag.push(file, g.pos, e);
                    ok = false;
                }
            }
        }
        Some(out)
    };
    let benchmark = globs(&c.benchmark, "benchmark", diag);
    let task = globs(&c.task, "task", diag);

    let mut meta = Vec::new();
    for (field, patterns) in &c.meta {
        let Some(path) = field_path(field, file, diag) else {
            ok = false;
            continue;
        };
        if patterns.is_empty() {
            diag.push(
                file,
                field.pos,
                format!(
                    "meta field `{}` has an empty list; give at least one glob",
                    field.value
                ),
            );
            ok = false;
        }
        let mut set = GlobSetBuilder::new();
        for g in patterns {
            match compile_glob(&g.value) {
                Ok(glob) => {
                    set.add(glob);
                }
                Err(e) => {
                    diag.push(file, g.pos, e);
                    ok = false;
                }
            }
        }
        match set.build() {
            Ok(set) => meta.push((path, set)),
            Err(e) => {
                diag.push(file, field.pos, format!("invalid globs: {e}"));
                ok = false;
            }
        }
    }

    let mut regexes = Vec::new();
    let mut add_regex =
        |source: SourceSpec, pattern: &Located<String>, diag: &mut Diagnostics| match compile_regex(
            &pattern.value,
        ) {
            Ok(regex) => {
                regexes.push((source, pattern.value.clone(), regex));
                true
            }
            Err(e) => {
                diag.push(file, pattern.pos, e);
                false
            }
        };
    for (field, pattern) in &c.meta_regex {
        match field_path(field, file, diag) {
            Some(path) => ok &= add_regex(SourceSpec::Meta(path), pattern, diag),
            None => ok = false,
        }
    }
    if let Some(p) = &c.prompt_regex {
        ok &= add_regex(SourceSpec::Prompt, p, diag);
    }
    if let Some(p) = &c.target_regex {
        ok &= add_regex(SourceSpec::Target, p, diag);
    }

    ok.then_some(CondSpec {
        benchmark,
        task,
        meta,
        regexes,
    })
}

fn field_path(field: &Located<String>, file: usize, diag: &mut Diagnostics) -> Option<Vec<String>> {
    let path = meta::split_path(&field.value);
    if path.is_none() {
        diag.push(
            file,
            field.pos,
            format!(
                "invalid meta field path '{}': use field names joined by dots, e.g. `gold.capability`",
                field.value
            ),
        );
    }
    path
}

/// Globs follow `globset`: `*` also matches `/`, `\` escapes, `{a,b}` is an
/// alternation, and matching is case-sensitive.
pub(super) fn compile_glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("invalid glob '{pattern}': {}", e.kind()))
}

/// Regexes follow the `regex` crate syntax. Syntax errors name the problem
/// and its character position in the pattern.
pub(super) fn compile_regex(pattern: &str) -> Result<Regex, String> {
    if let Err(e) = regex_syntax::Parser::new().parse(pattern) {
        let (kind, span) = match &e {
            regex_syntax::Error::Parse(e) => (e.kind().to_string(), Some(*e.span())),
            regex_syntax::Error::Translate(e) => (e.kind().to_string(), Some(*e.span())),
            other => (other.to_string(), None),
        };
        let at = span.map_or(String::new(), |s| {
            format!(" at character {} of the pattern", s.start.column)
        });
        return Err(format!("invalid regex '{pattern}': {kind}{at}"));
    }
    Regex::new(pattern).map_err(|e| {
        let text = e.to_string();
        let text: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        format!("invalid regex '{pattern}': {}", text.join(" "))
    })
}
