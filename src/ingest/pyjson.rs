//! JSON as Python's `json.dumps` writes it: bare `NaN`, `Infinity` and
//! `-Infinity` are legal there and rejected by serde_json. Readers of
//! Python-written logs (OLMES, HELM, OpenCompass) parse through here: each
//! such token outside a string becomes `null` ("no value", never 0).

use serde_json::Value;

/// Replace bare `NaN` / `Infinity` / `-Infinity` outside strings by `null`.
/// Borrowed when the text has none (the common case).
pub fn sanitize(text: &str) -> std::borrow::Cow<'_, str> {
    let b = text.as_bytes();
    if !b.iter().any(|&c| c == b'N' || c == b'I') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        let token = [&b"-Infinity"[..], b"Infinity", b"NaN"]
            .into_iter()
            .find(|t| b[i..].starts_with(t));
        if let Some(t) = token {
            out.push_str(&text[last..i]);
            out.push_str("null");
            i += t.len();
            last = i;
            continue;
        }
        i += 1;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

/// Parse Python-written JSON.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    serde_json::from_str(&sanitize(text))
}

/// The members of a JSON object in file order, unparsed, with the 1-based
/// line each value starts on. `text` must outlive the result.
pub fn ordered_members(
    text: &str,
) -> Result<Vec<(String, usize, &serde_json::value::RawValue)>, serde_json::Error> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
            let mut v = Vec::new();
            while let Some((k, raw)) = m.next_entry::<String, &'de RawValue>()? {
                v.push((k, raw));
            }
            Ok(v)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let members = (&mut de).deserialize_map(V)?;
    de.end()?;
    let base = text.as_ptr() as usize;
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut at = 0;
    Ok(members
        .into_iter()
        .map(|(k, raw)| {
            let off = raw.get().as_ptr() as usize - base;
            line += bytes[at..off].iter().filter(|&&b| b == b'\n').count();
            at = off;
            (k, line, raw)
        })
        .collect())
}

/// The elements of a JSON array that is a slice of `text`, unparsed, with
/// the 1-based line (in `text`) each starts on.
pub fn array_elements<'a>(
    text: &'a str,
    array: &'a serde_json::value::RawValue,
) -> Result<Vec<(usize, &'a serde_json::value::RawValue)>, serde_json::Error> {
    let items: Vec<&'a serde_json::value::RawValue> = serde_json::from_str(array.get())?;
    let base = text.as_ptr() as usize;
    let bytes = text.as_bytes();
    let start = (array.get().as_ptr() as usize)
        .saturating_sub(base)
        .min(bytes.len());
    let mut line = 1 + bytes[..start].iter().filter(|&&b| b == b'\n').count();
    let mut at = start;
    Ok(items
        .into_iter()
        .map(|raw| {
            let off = (raw.get().as_ptr() as usize)
                .saturating_sub(base)
                .min(bytes.len())
                .max(at);
            line += bytes[at..off].iter().filter(|&&b| b == b'\n').count();
            at = off;
            (line, raw)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_tokens_become_null_but_strings_are_kept() {
        let v = parse(r#"{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity", "d": 1}"#).unwrap();
        assert_eq!(v["a"], Value::Null);
        assert_eq!(v["b"], serde_json::json!([null, null]));
        assert_eq!(v["c"], "NaN Infinity");
        assert_eq!(v["d"], 1);
        assert!(matches!(
            sanitize(r#"{"x": "I said \"NaN\""}"#),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
