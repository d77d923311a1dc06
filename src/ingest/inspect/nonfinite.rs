//! Bare `NaN`, `Infinity` and `-Infinity` in Inspect's JSON.
//!
//! Inspect serialises its "unscored" marker (a NaN score value) and any
//! other non-finite float as the bare tokens Python's `json` writes, which
//! `serde_json` rejects. Outside strings they are rewritten to `null`
//! before parsing. Only score values are interpreted afterwards, and there
//! a `null` can only have been a non-finite number or a dict entry's `None`:
//! both mean "no score", which the reader keeps as its own state (never 0).
//! Text inside strings is never touched.

use std::borrow::Cow;

/// `text` with every bare non-finite token outside strings replaced by
/// `null`; borrowed unchanged when there is none.
pub fn rewrite(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    // Fast path: no candidate byte at all.
    if !b.iter().any(|&c| c == b'N' || c == b'I') {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut last = 0;
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        let token = match c {
            b'"' => {
                in_str = true;
                i += 1;
                continue;
            }
            b'N' if b[i..].starts_with(b"NaN") => Some((i, 3)),
            b'I' if b[i..].starts_with(b"Infinity") => Some((i, 8)),
            b'-' if b[i..].starts_with(b"-Infinity") => Some((i, 9)),
            _ => None,
        };
        match token {
            Some((start, len)) => {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len() + 16));
                o.push_str(&text[last..start]);
                o.push_str("null");
                i = start + len;
                last = i;
            }
            None => i += 1,
        }
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[last..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_outside_strings_become_null_and_strings_are_kept() {
        let got =
            rewrite(r#"{"v": NaN, "w": [Infinity, -Infinity, 1], "s": "NaN and \"Infinity\"", "n": "x\\"}"#);
        assert_eq!(
            got,
            r#"{"v": null, "w": [null, null, 1], "s": "NaN and \"Infinity\"", "n": "x\\"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert!(v["v"].is_null());
        assert_eq!(v["s"], "NaN and \"Infinity\"");
    }

    #[test]
    fn text_without_tokens_is_borrowed() {
        assert!(matches!(rewrite(r#"{"Name": "In"}"#), Cow::Borrowed(_)));
        assert!(matches!(rewrite("[1, 2]"), Cow::Borrowed(_)));
    }
}
