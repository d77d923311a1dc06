//! A located YAML tree: serde-saphyr parses a document into [`Node`]s that
//! keep the line and column of every key and value.
//!
//! The taxonomy schema is checked against this tree (see `config.rs`) rather
//! than through `#[derive(Deserialize)]` with `deny_unknown_fields`, because a
//! derived deserializer stops at the first unknown field or wrong type, and
//! the contract is to report every mistake of a file at once. Only YAML syntax
//! errors (and duplicate keys, which serde-saphyr rejects) stop a file early.
//! Scalars keep their source text: `yes` stays `yes` and `1.50` stays `1.50`
//! instead of becoming a bool and `1.5`.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned};

pub(super) use crate::config::Pos;

/// One YAML node and where it starts.
#[derive(Debug)]
pub(super) struct Node {
    pub pos: Pos,
    pub kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    /// `~`, `null`, or nothing after a colon.
    Null,
    /// Any scalar as text (strings unquoted, other scalars as written).
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What this node is, for "expected X, found Y" messages.
    pub(super) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::Null => "nothing",
            Kind::Scalar(_) => "a single value",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a map",
        }
    }
}

/// Parses one YAML document. An empty document is `Kind::Null`.
pub(super) fn parse(text: &str) -> Result<Node, (Pos, String)> {
    match serde_saphyr::from_str::<Spanned<RawKind>>(text) {
        Ok(root) => Ok(convert(root, text)),
        Err(err) => {
            let pos = err
                .location()
                .map(|l| Pos {
                    line: usize::try_from(l.line()).unwrap_or(usize::MAX),
                    col: usize::try_from(l.column()).unwrap_or(usize::MAX),
                })
                .unwrap_or_default();
            let raw = serde_saphyr::DefaultMessageFormatter.format_message(err.without_snippet());
            // The formatter's text is not sanitised (see its docs); keep one line.
            let message: String = raw.escape_debug().collect();
            Err((pos, reword(message)))
        }
    }
}

/// Replaces serde-saphyr's developer-facing advice with advice for users.
fn reword(message: String) -> String {
    match message.strip_prefix("duplicate mapping key: ") {
        Some(rest) => {
            let key = rest.split(", set DuplicateKeyPolicy").next().unwrap_or(rest);
            format!("duplicate key '{key}'; a key may appear only once in a map")
        }
        None => format!("invalid YAML: {message}"),
    }
}

/// The parse result before scalars are turned back into their source text.
enum RawKind {
    Null,
    Str(String),
    /// A bool or a number; `shown` is its fallback text when the source text
    /// is not available (e.g. the value comes through an alias).
    Plain {
        shown: String,
    },
    Seq(Vec<Spanned<RawKind>>),
    Map(Vec<(Spanned<RawKind>, Spanned<RawKind>)>),
}

fn convert(node: Spanned<RawKind>, text: &str) -> Node {
    let loc = node.referenced;
    let pos = Pos {
        line: usize::try_from(loc.line()).unwrap_or(usize::MAX),
        col: usize::try_from(loc.column()).unwrap_or(usize::MAX),
    };
    let kind = match node.value {
        RawKind::Null => Kind::Null,
        RawKind::Str(s) => Kind::Scalar(s),
        RawKind::Plain { shown } => {
            let span = loc.span();
            let source = match (span.byte_offset(), span.byte_len()) {
                (Some(off), Some(len)) => usize::try_from(off)
                    .ok()
                    .zip(usize::try_from(off + len).ok())
                    .and_then(|(a, b)| text.get(a..b)),
                _ => None,
            };
            match source {
                // Aliases (`*a`), anchors and tags are not the scalar's text.
                Some(s) if !s.is_empty() && !s.starts_with(['*', '&', '!']) => Kind::Scalar(s.to_owned()),
                _ => Kind::Scalar(shown),
            }
        }
        RawKind::Seq(items) => Kind::Seq(items.into_iter().map(|n| convert(n, text)).collect()),
        RawKind::Map(entries) => Kind::Map(
            entries
                .into_iter()
                .map(|(k, v)| (convert(k, text), convert(v, text)))
                .collect(),
        ),
    };
    Node { pos, kind }
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawKind;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        d.deserialize_any(RawVisitor)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Plain { shown: v.to_string() })
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<RawKind>>()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<RawKind>>()? {
            let value = map.next_value::<Spanned<RawKind>>()?;
            entries.push((key, value));
        }
        Ok(RawKind::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(n: &Node) -> &str {
        match &n.kind {
            Kind::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let root = parse("a:\n  - x\n  - {k: 'v'}\n").unwrap();
        let Kind::Map(entries) = &root.kind else { panic!() };
        let (key, value) = &entries[0];
        assert_eq!(key.pos, Pos { line: 1, col: 1 });
        let Kind::Seq(items) = &value.kind else { panic!() };
        assert_eq!(items[0].pos, Pos { line: 2, col: 5 });
        let Kind::Map(inner) = &items[1].kind else {
            panic!()
        };
        assert_eq!(inner[0].0.pos, Pos { line: 3, col: 6 });
        assert_eq!(scalar(&inner[0].1), "v");
        assert_eq!(inner[0].1.pos, Pos { line: 3, col: 9 });
    }

    #[test]
    fn non_string_scalars_keep_their_source_text() {
        let root = parse("[yes, 1.50, 007, true]").unwrap();
        let Kind::Seq(items) = &root.kind else { panic!() };
        let texts: Vec<&str> = items.iter().map(scalar).collect();
        assert_eq!(texts, ["yes", "1.50", "007", "true"]);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let (pos, message) = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert_eq!(pos, Pos { line: 2, col: 2 });
        assert!(message.starts_with("invalid YAML: "), "{message}");
    }

    #[test]
    fn duplicate_keys_are_reworded() {
        let (pos, message) = parse("a: 1\na: 2\n").unwrap_err();
        assert_eq!(pos, Pos { line: 2, col: 1 });
        assert_eq!(message, "duplicate key 'a'; a key may appear only once in a map");
    }

    #[test]
    fn empty_document_is_null() {
        assert!(matches!(parse("").unwrap().kind, Kind::Null));
        assert!(matches!(parse("# comment\n").unwrap().kind, Kind::Null));
    }
}
