//! Records of generic JSONL, JSON array and CSV files, one at a time with
//! their line.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

fn strip_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(line)
}

/// One JSON object. Python's `json.dumps` writes bare `NaN`, `Infinity` and
/// `-Infinity`, which JSON does not allow: they are read as the strings
/// `"NaN"`, `"Infinity"`, `"-Infinity"` (a NaN score makes the record
/// unscored, an error naming the field; in `meta` they stay text). A key
/// given twice keeps its last value, as Python's `json` does.
pub fn parse_object(line: &str) -> std::result::Result<Map<String, Value>, String> {
    match serde_json::from_str::<Map<String, Value>>(line) {
        Ok(m) => Ok(m),
        Err(e) => {
            let fixed = non_finite_as_strings(line);
            if fixed.len() != line.len() {
                if let Ok(m) = serde_json::from_str::<Map<String, Value>>(&fixed) {
                    return Ok(m);
                }
            }
            Err(format!("not a JSON object: {e}"))
        }
    }
}

/// JSON text with bare `NaN`, `Infinity`, `-Infinity` (outside strings)
/// turned into strings.
pub fn non_finite_as_strings(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let (mut i, mut last, mut in_str) = (0, 0, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
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
        let prev_ok = i == 0 || matches!(b[i - 1], b':' | b',' | b'[' | b' ' | b'\t' | b'\n' | b'\r');
        let tok = ["-Infinity", "Infinity", "NaN"].into_iter().find(|tok| {
            let t = tok.as_bytes();
            prev_ok && b[i..].starts_with(t) && b.get(i + t.len()).is_none_or(|n| !n.is_ascii_alphanumeric())
        });
        match tok {
            Some(tok) => {
                out.push_str(&text[last..i]);
                out.push('"');
                out.push_str(tok);
                out.push('"');
                i += tok.len();
                last = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Call `f` with each record of a JSONL or CSV file, in order.
pub(super) fn for_each_record(
    path: &Path,
    mut f: impl FnMut(usize, std::result::Result<Map<String, Value>, String>) -> Result<()>,
) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "jsonl" => {
            use std::io::BufRead;
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let reader = std::io::BufReader::with_capacity(1 << 20, file);
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(|e| Error::io(path, e))?;
                let line = if i == 0 { strip_bom(&line) } else { &line[..] };
                let rec = match std::str::from_utf8(line) {
                    Ok(l) if l.trim().is_empty() => continue,
                    Ok(l) => parse_object(l),
                    Err(e) => Err(format!(
                        "not UTF-8: invalid byte 0x{:02x} at column {}; save the file as UTF-8",
                        line[e.valid_up_to()],
                        e.valid_up_to() + 1
                    )),
                };
                f(i + 1, rec)?;
            }
            Ok(())
        }
        "json" => {
            let bytes = crate::error::read_file(path)?;
            let text = crate::config::text_of(path, bytes)
                .map_err(|e| Error::input(path, e.line, None, e.message))?;
            let fixed;
            let (src, items): (&str, Vec<&serde_json::value::RawValue>) = match serde_json::from_str(&text) {
                Ok(v) => (text.as_str(), v),
                Err(e) => {
                    fixed = non_finite_as_strings(&text);
                    match serde_json::from_str(&fixed) {
                        Ok(v) if fixed.len() > text.len() => (fixed.as_str(), v),
                        _ => {
                            return Err(Error::input(
                                path,
                                e.line(),
                                None,
                                format!("not a JSON array of records: {e}; a generic .json file holds one array of objects (use .jsonl for one object per line)"),
                            ))
                        }
                    }
                }
            };
            // Lines of the records: counted forward once, in order.
            let (mut at, mut line) = (0usize, 1usize);
            for (k, raw) in items.iter().enumerate() {
                let g = raw.get();
                let off = (g.as_ptr() as usize)
                    .saturating_sub(src.as_ptr() as usize)
                    .min(src.len());
                if off >= at {
                    line += src.as_bytes()[at..off].iter().filter(|&&b| b == b'\n').count();
                    at = off;
                }
                let rec = serde_json::from_str::<Map<String, Value>>(g)
                    .map_err(|e| format!("record {} is not a JSON object: {e}", k + 1));
                f(line, rec)?;
            }
            Ok(())
        }
        "csv" => {
            super::super::csv_quotes::check(path)?;
            let mut rdr =
                csv::Reader::from_path(path).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
            let headers = rdr
                .headers()
                .map_err(|e| Error::input(path, 1, None, e.to_string()))?
                .clone();
            for rec in rdr.records() {
                match rec {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line() as usize);
                        let map = headers
                            .iter()
                            .zip(r.iter())
                            .map(|(h, v)| {
                                let v = if v.is_empty() {
                                    Value::Null
                                } else {
                                    Value::String(v.to_string())
                                };
                                (h.to_string(), v)
                            })
                            .collect();
                        f(line, Ok(map))?;
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line() as usize);
                        f(line, Err(e.to_string()))?;
                    }
                }
            }
            Ok(())
        }
        _ => Err(Error::usage(format!(
            "{}: generic input must be .jsonl, .json (an array of records), .csv or .parquet",
            path.display()
        ))),
    }
}
