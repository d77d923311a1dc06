//! Looking up `meta` fields: an item's `meta` is the JSON object of its
//! original document fields; rules name a field by a dotted path.
//!
//! Semantics (documented in the README through `TaxonomySet`):
//! - `a.b.c` walks nested objects; a key that itself contains a dot cannot be
//!   addressed.
//! - An array met on the way or at the end fans out: the path continues into
//!   every element, and a condition holds if any element matches.
//! - Strings match as themselves; numbers and booleans as their JSON text
//!   (`3`, `1.5`, `true`); `null`, objects and missing fields match nothing.
//! - Text that is empty, not JSON, or not a JSON object has no fields; this
//!   is never an error because one malformed row must not stop a batch.

use std::borrow::Cow;

use serde_json::Value;

/// Parses an item's meta text; `None` means "no fields".
pub(super) fn parse(text: &str) -> Option<Value> {
    if text.trim().is_empty() {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

/// Appends the texts found at `path` under `root` to `out`.
pub(super) fn lookup<'v>(root: &'v Value, path: &[String], out: &mut Vec<Cow<'v, str>>) {
    match path.split_first() {
        None => leaf_texts(root, out),
        Some((head, rest)) => match root {
            Value::Object(map) => {
                if let Some(child) = map.get(head.as_str()) {
                    lookup(child, rest, out);
                }
            }
            Value::Array(items) => {
                for item in items {
                    lookup(item, path, out);
                }
            }
            _ => {}
        },
    }
}

fn leaf_texts<'v>(value: &'v Value, out: &mut Vec<Cow<'v, str>>) {
    match value {
        Value::String(s) => out.push(Cow::Borrowed(s)),
        Value::Number(n) => out.push(Cow::Owned(n.to_string())),
        Value::Bool(b) => out.push(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Array(items) => {
            for item in items {
                leaf_texts(item, out);
            }
        }
        Value::Null | Value::Object(_) => {}
    }
}

/// Splits a dotted path; `None` if a segment is empty (`a..b`, `.a`).
pub(super) fn split_path(path: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    if parts.iter().any(String::is_empty) {
        None
    } else {
        Some(parts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(json: &str, path: &str) -> Vec<String> {
        let Some(root) = parse(json) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        lookup(&root, &split_path(path).unwrap(), &mut out);
        out.into_iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn dotted_paths_walk_nested_objects() {
        let json = r#"{"gold": {"capability": "ratio", "level": 3}}"#;
        assert_eq!(texts(json, "gold.capability"), ["ratio"]);
        assert_eq!(texts(json, "gold.level"), ["3"]);
        assert!(texts(json, "gold.missing").is_empty());
        assert!(texts(json, "gold").is_empty(), "objects match nothing");
    }

    #[test]
    fn arrays_fan_out() {
        let json = r#"{"tags": ["a", 2, true, null], "steps": [{"op": "x"}, {"op": "y"}]}"#;
        assert_eq!(texts(json, "tags"), ["a", "2", "true"]);
        assert_eq!(texts(json, "steps.op"), ["x", "y"]);
    }

    #[test]
    fn malformed_or_non_object_meta_has_no_fields() {
        assert!(texts("", "a").is_empty());
        assert!(texts("{not json", "a").is_empty());
        assert!(texts("[1, 2]", "a").is_empty());
        assert!(texts("\"a\"", "a").is_empty());
    }

    #[test]
    fn empty_segments_are_rejected() {
        assert!(split_path("a..b").is_none());
        assert!(split_path(".a").is_none());
        assert!(split_path("").is_none());
        assert_eq!(split_path("a.b").unwrap(), ["a", "b"]);
    }
}
