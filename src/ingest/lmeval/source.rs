//! Reading a samples file's records: JSONL streamed chunk by chunk, a
//! legacy (v0.4.0 - v0.4.2) JSON array read whole.

use std::path::Path;

use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// One JSON record of a samples file with its 1-based line.
struct Record<'a> {
    line: usize,
    text: &'a str,
}

fn records<'a>(path: &Path, text: &'a str) -> Result<Vec<Record<'a>>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        // v0.4.0 - v0.4.2: one pretty-printed JSON array.
        let items: Vec<&RawValue> = serde_json::from_str(text)
            .map_err(|e| Error::input(path, e.line(), None, format!("invalid JSON array: {e}")))?;
        let base = text.as_ptr() as usize;
        return Ok(items
            .into_iter()
            .map(|raw| {
                let offset = raw.get().as_ptr() as usize - base;
                let line = 1 + text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count();
                Record {
                    line,
                    text: raw.get(),
                }
            })
            .collect());
    }
    Ok(text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record { line: i + 1, text: l })
        .collect())
}

/// Records of a samples file, chunk by chunk: JSONL is streamed line by
/// line; a legacy JSON-array file is read whole (they are small).
pub(super) enum RecordSource {
    Lines(std::io::Lines<std::io::BufReader<std::fs::File>>, usize),
    Array(std::vec::IntoIter<(usize, String)>),
}

impl RecordSource {
    pub(super) fn open(path: &Path) -> Result<RecordSource> {
        use std::io::{BufRead, Read};
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut head = [0u8; 256];
        let n = file.read(&mut head).map_err(|e| Error::io(path, e))?;
        let array = head[..n]
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| b == b'[');
        if array {
            let bytes = crate::error::read_file(path)?;
            let text = utf8(path, &bytes)?;
            let recs: Vec<(usize, String)> = records(path, text)?
                .into_iter()
                .map(|r| (r.line, r.text.to_string()))
                .collect();
            return Ok(RecordSource::Array(recs.into_iter()));
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(RecordSource::Lines(
            std::io::BufReader::with_capacity(1 << 20, file).lines(),
            0,
        ))
    }

    /// The next records, at most `max` of them or `max_bytes` of text;
    /// empty at the end.
    pub(super) fn chunk(
        &mut self,
        path: &Path,
        max: usize,
        max_bytes: usize,
    ) -> Result<Vec<(usize, String)>> {
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < max && bytes < max_bytes {
            let next = match self {
                RecordSource::Array(it) => it.next(),
                RecordSource::Lines(lines, line) => loop {
                    match lines.next() {
                        None => break None,
                        Some(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                            return Err(Error::input(path, *line + 1, None, "not UTF-8 text"));
                        }
                        Some(Err(e)) => return Err(Error::io(path, e)),
                        Some(Ok(l)) => {
                            *line += 1;
                            if !l.trim().is_empty() {
                                break Some((*line, l));
                            }
                        }
                    }
                },
            };
            match next {
                Some(r) => {
                    bytes += r.1.len();
                    out.push(r);
                }
                None => break,
            }
        }
        Ok(out)
    }
}

fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        Error::input(path, line, None, format!("not UTF-8: {e}"))
    })
}
