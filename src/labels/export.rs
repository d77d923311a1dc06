//! `caploop labels export`: the items to label, the label schema and a
//! plain-text instruction for an LLM labeler (caploop calls no model).
//!
//! Writes into the output folder:
//! - `items.jsonl`: one object per item, sorted by benchmark and item id:
//!   `benchmark`, `item_id`, `task`, `target`, `text` (the item's own doc
//!   fields, never the few-shot prompt);
//! - `schema.json`: a JSON Schema of one label record (what `tag --labels`
//!   reads back), each axis with its allowed values;
//! - `instructions.txt`: the labelling instruction, with every axis, its
//!   values, whether it takes one value or several, and the output format.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::ItemIndex;
use crate::error::Result;
use crate::taxonomy::Axis;

/// The label space to export: axes, their groups and which take several values.
pub struct LabelSpace {
    pub name: String,
    pub axes: Vec<Axis>,
    /// (group, axes); empty: every axis is its own group.
    pub groups: Vec<(String, Vec<String>)>,
    pub multi_label: std::collections::BTreeSet<String>,
}

/// Write the three files; returns their paths.
pub fn export(
    items: &ItemIndex,
    space: &LabelSpace,
    benchmarks: &[String],
    out: &Path,
) -> Result<Vec<PathBuf>> {
    crate::error::create_dir(out)?;
    let mut lines = String::new();
    let mut n = 0usize;
    for ((benchmark, item_id), info) in items {
        if !benchmarks.is_empty() && !benchmarks.contains(benchmark) {
            continue;
        }
        let text = serde_json::from_str::<Value>(&info.meta).unwrap_or(Value::String(info.meta.clone()));
        let rec = json!({
            "benchmark": benchmark,
            "item_id": item_id,
            "task": info.task,
            "target": info.target,
            "text": text,
        });
        lines.push_str(&rec.to_string());
        lines.push('\n');
        n += 1;
    }
    if n == 0 {
        return Err(crate::Error::usage(format!(
            "no items to export{}",
            if benchmarks.is_empty() {
                String::new()
            } else {
                format!(" for benchmark(s) {}", benchmarks.join(", "))
            }
        )));
    }
    let items_path = out.join("items.jsonl");
    crate::error::write_file(&items_path, lines)?;
    let schema_path = out.join("schema.json");
    let schema =
        serde_json::to_string_pretty(&schema(space)).map_err(|e| crate::Error::usage(e.to_string()))?;
    crate::error::write_file(&schema_path, schema + "\n")?;
    let instr_path = out.join("instructions.txt");
    crate::error::write_file(&instr_path, instructions(space))?;
    Ok(vec![items_path, schema_path, instr_path])
}

/// A JSON Schema (draft 2020-12) of one label record.
pub fn schema(space: &LabelSpace) -> Value {
    let mut props = Map::new();
    props.insert("benchmark".into(), json!({ "type": "string" }));
    props.insert("item_id".into(), json!({ "type": "string" }));
    props.insert("labeler".into(), json!({ "type": "string" }));
    for a in &space.axes {
        let one = json!({ "enum": a.values });
        let v = if space.multi_label.contains(&a.name) {
            json!({ "type": "array", "items": one, "uniqueItems": true })
        } else {
            one
        };
        props.insert(a.name.clone(), v);
    }
    for f in super::INFO_FIELDS {
        props.insert((*f).into(), json!({}));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("caploop label record ({})", space.name),
        "type": "object",
        "required": ["benchmark", "item_id", "labeler"],
        "properties": props,
        "additionalProperties": false,
    })
}

/// The plain-text instruction for an LLM labeler.
pub fn instructions(space: &LabelSpace) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "You label evaluation items for a capability analysis (label space: {}).\n",
        space.name
    );
    let _ = writeln!(
        s,
        "Each line of items.jsonl is one item: its benchmark, item_id, task, the gold answer (target) and the item's own text fields (text). Read the item; do not solve it for its own sake, but judge what answering it takes. Label every axis below from the item alone.\n"
    );
    let _ = writeln!(
        s,
        "For the solving operation, give only the minimal sufficient solving path: the operations without which the item cannot be answered, not every operation a long solution might touch. The output constraint follows the benchmark's actual scoring rule, not an idealised grader. Numeric scales run from 0 (none) to 3 (high).\n"
    );
    let groups: Vec<(String, Vec<String>)> = if space.groups.is_empty() {
        space
            .axes
            .iter()
            .map(|a| (a.name.clone(), vec![a.name.clone()]))
            .collect()
    } else {
        space.groups.clone()
    };
    let _ = writeln!(s, "Axes and allowed values:\n");
    for (group, members) in &groups {
        let _ = writeln!(s, "{group}:");
        for m in members {
            let Some(a) = space.axes.iter().find(|a| &a.name == m) else {
                continue;
            };
            let card = if space.multi_label.contains(m) {
                "one or more values (a list)"
            } else {
                "exactly one value"
            };
            let _ = writeln!(s, "  {m} ({card}): {}", a.values.join(", "));
        }
        let _ = writeln!(s);
    }
    let example_axes: Vec<String> = space
        .axes
        .iter()
        .take(3)
        .map(|a| {
            let v = a.values.first().cloned().unwrap_or_default();
            if space.multi_label.contains(&a.name) {
                format!("\"{}\": [\"{v}\"]", a.name)
            } else {
                format!("\"{}\": \"{v}\"", a.name)
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "Output: one JSON object per item, one per line (JSONL), in any order, with exactly these fields: \"benchmark\" and \"item_id\" copied from the item, \"labeler\" (your model name), and one field per axis above, using only the allowed values written exactly as listed. Leave an axis out (or null) only when the item gives no basis at all for it. Write nothing else.\n"
    );
    let _ = writeln!(
        s,
        "Example line (values illustrative):\n{{\"benchmark\": \"...\", \"item_id\": \"...\", \"labeler\": \"model-name\", {}, ...}}\n",
        example_axes.join(", ")
    );
    let _ = writeln!(
        s,
        "The lines are read back with `caploop tag --labels FILE`; a value outside the lists above is an error."
    );
    s
}
