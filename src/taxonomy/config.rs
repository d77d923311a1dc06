//! The raw taxonomy schema: `Raw*` types mirror one YAML file, every value
//! with its position, built from the located tree of `yaml.rs`.
//!
//! This layer checks shape only: known fields, required fields, and that each
//! value is a single value, a list or a map where the schema says so. Unknown
//! fields are errors, like `deny_unknown_fields`, but every one of them is
//! reported, not only the first. Cross-references (axes named by `add`,
//! duplicate ids) and compiling globs and regexes happen in `resolve.rs`.

use super::yaml::{Kind, Node, Pos};
use crate::config::Diagnostics;

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(super) struct Located<T> {
    pub pos: Pos,
    pub value: T,
}

/// One taxonomy file.
#[derive(Debug, Default)]
pub(super) struct RawTaxonomy {
    pub name: Option<Located<String>>,
    pub axes: Vec<RawAxis>,
    pub rules: Vec<RawRule>,
}

/// `axis_name: [value, ...]`
#[derive(Debug)]
pub(super) struct RawAxis {
    pub name: Located<String>,
    /// Position of the value list, for "declares no values".
    pub pos: Pos,
    pub values: Vec<Located<String>>,
}

#[derive(Debug)]
pub(super) struct RawRule {
    /// Position of the rule's map (its first key).
    pub pos: Pos,
    pub id: Option<Located<String>>,
    pub description: Option<String>,
    /// The condition maps (`when` as one map is a list of one); `None` when
    /// `when` is missing or malformed (already reported).
    pub when: Option<Located<Vec<RawCondition>>>,
    pub add: Option<Located<Vec<RawAdd>>>,
}

/// `axis: value` or `axis: [value, ...]` inside `add`.
#[derive(Debug)]
pub(super) struct RawAdd {
    pub axis: Located<String>,
    pub values: Vec<Located<String>>,
}

/// One condition map of `when`: all present keys must hold.
#[derive(Debug, Default)]
pub(super) struct RawCondition {
    pub pos: Pos,
    /// Known keys written, including malformed ones (already reported).
    pub keys: usize,
    pub benchmark: Option<Vec<Located<String>>>,
    pub task: Option<Vec<Located<String>>>,
    /// Field path -> globs (any matches).
    pub meta: Vec<(Located<String>, Vec<Located<String>>)>,
    /// Field path -> one regex.
    pub meta_regex: Vec<(Located<String>, Located<String>)>,
    pub prompt_regex: Option<Located<String>>,
    pub target_regex: Option<Located<String>>,
}

impl RawCondition {
    pub(super) fn is_empty(&self) -> bool {
        self.keys == 0
    }
}

const TOP_FIELDS: &[&str] = &["name", "description", "axes", "rules"];
const RULE_FIELDS: &[&str] = &["id", "description", "when", "add"];
pub(super) const CONDITION_FIELDS: &[&str] = &[
    "benchmark",
    "task",
    "meta",
    "meta_regex",
    "prompt_regex",
    "target_regex",
];

/// Reads one file's tree, reporting every shape error into `diag`.
pub(super) fn parse_taxonomy(root: &Node, diag: &mut Diagnostics, file: usize) -> RawTaxonomy {
    let mut p = Parser { diag, file };
    let mut out = RawTaxonomy::default();
    if matches!(root.kind, Kind::Null) {
        p.err(
            Pos::START,
            "the file is empty; a taxonomy is a map with `name`, `axes` and `rules`",
        );
        return out;
    }
    let Some(entries) = p.fields(root, "the taxonomy file", TOP_FIELDS) else {
        return out;
    };
    for (key, value) in entries {
        match key {
            "name" => out.name = p.string(value, "`name`"),
            "description" => {
                p.optional_string(value, "`description`");
            }
            "axes" => out.axes = p.axes(value),
            "rules" => out.rules = p.rules(value),
            _ => {}
        }
    }
    if out.name.is_none() && !entries_have(root, "name") {
        p.err(
            root.pos,
            "missing required field `name`; give the taxonomy a name, e.g. `name: math-reasoning`",
        );
    }
    out
}

fn entries_have(node: &Node, key: &str) -> bool {
    match &node.kind {
        Kind::Map(entries) => entries
            .iter()
            .any(|(k, _)| matches!(&k.kind, Kind::Scalar(s) if s == key)),
        _ => false,
    }
}

struct Parser<'d> {
    diag: &'d mut Diagnostics,
    file: usize,
}

impl Parser<'_> {
    fn err(&mut self, pos: Pos, message: impl Into<String>) {
        self.diag.push(self.file, pos, message);
    }

    /// The entries of a map whose keys must be among `allowed`; unknown keys
    /// are reported and skipped. `None` if `node` is not a map.
    fn fields<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let entries = self.map(node, what)?;
        let mut out = Vec::new();
        for (key, value) in entries {
            if allowed.contains(&key.value) {
                out.push((key.value, value));
            } else {
                self.err(
                    key.pos,
                    format!(
                        "unknown field `{}` in {what}; expected one of: {}",
                        key.value,
                        allowed.join(", ")
                    ),
                );
            }
        }
        Some(out)
    }

    /// The entries of any map, keys as text. `None` if `node` is not a map.
    fn map<'n>(&mut self, node: &'n Node, what: &str) -> Option<Vec<(Located<&'n str>, &'n Node)>> {
        let Kind::Map(entries) = &node.kind else {
            self.err(
                node.pos,
                format!("expected a map for {what}, found {}", node.describe()),
            );
            return None;
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            match &key.kind {
                Kind::Scalar(s) => out.push((
                    Located {
                        pos: key.pos,
                        value: s.as_str(),
                    },
                    value,
                )),
                _ => self.err(
                    key.pos,
                    format!("expected a name as key in {what}, found {}", key.describe()),
                ),
            }
        }
        Some(out)
    }

    fn string(&mut self, node: &Node, what: &str) -> Option<Located<String>> {
        match &node.kind {
            Kind::Scalar(s) => Some(Located {
                pos: node.pos,
                value: s.clone(),
            }),
            _ => {
                self.err(
                    node.pos,
                    format!("expected a single value for {what}, found {}", node.describe()),
                );
                None
            }
        }
    }

    /// Like `string`, but `~`/nothing means "absent".
    fn optional_string(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.kind {
            Kind::Null => None,
            _ => self.string(node, what).map(|s| s.value),
        }
    }

    /// A single value or a list of single values (`what_one` names one).
    /// `None` when the shape is wrong (already reported).
    fn one_or_many(&mut self, node: &Node, what: &str, what_one: &str) -> Option<Vec<Located<String>>> {
        match &node.kind {
            Kind::Scalar(_) => self.string(node, what).map(|s| vec![s]),
            Kind::Seq(items) => {
                let each = format!("each {what_one} of {what}");
                let values: Vec<_> = items.iter().filter_map(|i| self.string(i, &each)).collect();
                (values.len() == items.len()).then_some(values)
            }
            _ => {
                self.err(
                    node.pos,
                    format!(
                        "expected {what_one} or a list of them for {what}, found {}",
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    fn axes(&mut self, node: &Node) -> Vec<RawAxis> {
        if matches!(node.kind, Kind::Null) {
            return Vec::new();
        }
        let Some(entries) = self.map(node, "`axes` (axis name -> list of values)") else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (name, value) in entries {
            let what = format!("axis `{}`", name.value);
            let values = match &value.kind {
                Kind::Seq(items) => items
                    .iter()
                    .filter_map(|item| self.string(item, &format!("each value of {what}")))
                    .collect(),
                _ => {
                    self.err(
                        value.pos,
                        format!(
                            "expected a list of values for {what}, found {}; e.g. `{}: [a, b]`",
                            value.describe(),
                            name.value
                        ),
                    );
                    continue;
                }
            };
            out.push(RawAxis {
                name: Located {
                    pos: name.pos,
                    value: name.value.to_owned(),
                },
                pos: value.pos,
                values,
            });
        }
        out
    }

    fn rules(&mut self, node: &Node) -> Vec<RawRule> {
        match &node.kind {
            Kind::Null => Vec::new(),
            Kind::Seq(items) => items.iter().filter_map(|item| self.rule(item)).collect(),
            _ => {
                self.err(
                    node.pos,
                    format!("expected a list of rules for `rules`, found {}", node.describe()),
                );
                Vec::new()
            }
        }
    }

    fn rule(&mut self, node: &Node) -> Option<RawRule> {
        let entries = self.fields(node, "a rule", RULE_FIELDS)?;
        let mut rule = RawRule {
            pos: node.pos,
            id: None,
            description: None,
            when: None,
            add: None,
        };
        let mut seen = Vec::new();
        for (key, value) in entries {
            seen.push(key);
            match key {
                "id" => rule.id = self.string(value, "`id`"),
                "description" => rule.description = self.optional_string(value, "`description`"),
                "when" => rule.when = self.when(value),
                "add" => rule.add = self.add(value),
                _ => {}
            }
        }
        let missing: Vec<&str> = ["id", "when", "add"]
            .into_iter()
            .filter(|f| !seen.contains(f))
            .collect();
        if !missing.is_empty() {
            let what = match &rule.id {
                Some(id) => format!("rule '{}'", id.value),
                None => "a rule".to_owned(),
            };
            self.err(
                node.pos,
                format!(
                    "{what} is missing `{}`; every rule needs `id`, `when` and `add`",
                    missing.join("`, `")
                ),
            );
        }
        Some(rule)
    }

    fn when(&mut self, node: &Node) -> Option<Located<Vec<RawCondition>>> {
        let conditions = match &node.kind {
            Kind::Map(_) => vec![self.condition(node)?],
            Kind::Seq(items) => {
                if items.is_empty() {
                    self.err(
                        node.pos,
                        "`when` is an empty list; give a condition map or a list of them",
                    );
                    return None;
                }
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.condition(item));
                }
                out
            }
            _ => {
                self.err(
                    node.pos,
                    format!(
                        "expected a condition map or a list of them for `when`, found {}; e.g. `when: {{ benchmark: gsm8k }}`",
                        node.describe()
                    ),
                );
                return None;
            }
        };
        Some(Located {
            pos: node.pos,
            value: conditions,
        })
    }

    fn condition(&mut self, node: &Node) -> Option<RawCondition> {
        let entries = self.fields(node, "a `when` condition", CONDITION_FIELDS)?;
        let mut c = RawCondition {
            pos: node.pos,
            ..RawCondition::default()
        };
        c.keys = entries.len();
        for (key, value) in entries {
            match key {
                "benchmark" => c.benchmark = self.one_or_many(value, "`benchmark`", "a glob"),
                "task" => c.task = self.one_or_many(value, "`task`", "a glob"),
                "meta" => {
                    let Some(fields) = self.map(value, "`meta` (field -> glob or list of globs)") else {
                        continue;
                    };
                    for (field, globs) in fields {
                        let what = format!("meta field `{}`", field.value);
                        if let Some(globs) = self.one_or_many(globs, &what, "a glob") {
                            c.meta.push((owned(field), globs));
                        }
                    }
                }
                "meta_regex" => {
                    let Some(fields) = self.map(value, "`meta_regex` (field -> regex)") else {
                        continue;
                    };
                    for (field, regex) in fields {
                        let what = format!("`meta_regex` field `{}`", field.value);
                        if let Some(regex) = self.string(regex, &what) {
                            c.meta_regex.push((owned(field), regex));
                        }
                    }
                }
                "prompt_regex" => c.prompt_regex = self.string(value, "`prompt_regex`"),
                "target_regex" => c.target_regex = self.string(value, "`target_regex`"),
                _ => {}
            }
        }
        Some(c)
    }

    fn add(&mut self, node: &Node) -> Option<Located<Vec<RawAdd>>> {
        let entries = self.map(node, "`add` (axis -> value or list of values)")?;
        let mut out = Vec::new();
        let mut well_formed = true;
        for (axis, values) in entries {
            let what = format!("axis `{}` in `add`", axis.value);
            match self.one_or_many(values, &what, "a value") {
                Some(values) => out.push(RawAdd {
                    axis: owned(axis),
                    values,
                }),
                None => well_formed = false,
            }
        }
        // A malformed entry is already reported; checking the rest against
        // axes would only add noise such as "`add` is empty".
        well_formed.then_some(Located {
            pos: node.pos,
            value: out,
        })
    }
}

fn owned(s: Located<&str>) -> Located<String> {
    Located {
        pos: s.pos,
        value: s.value.to_owned(),
    }
}
