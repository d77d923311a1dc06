//! Quote checks of generic CSV files, before the csv reader sees them. The
//! reader (like most) is lenient where RFC 4180 is strict, and two of its
//! leniencies lose rows or change values without a word:
//!
//! - a quote that opens a field and never closes swallows every line after
//!   it into that field (the reader accepts it at the end of the file);
//! - a stray quote at the start of a field that a later stray quote closes
//!   (`r,b,t,2,0,"hi` ... `r,b,t,3,1,x"`) merges the lines between them
//!   into one field of one record, which then has the right column count;
//! - text after a closing quote (`"5" tall`) is appended to the field with
//!   the quotes dropped.
//!
//! The first and the last are errors outright. A quoted field that spans
//! lines is legitimate (a multi-line response); it is an error only when
//! the lines it would swallow look like records: the line it opens on and
//! every line up to its closing quote, read with the quote taken literally,
//! each have the header's number of fields. A quote in the middle of an
//! unquoted field (`5" tall`) is read literally, as the reader does, and is
//! not an error: nothing is lost.

use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// Where a quoted field opened.
struct Open {
    line: usize,
    field: usize,
    /// Offset in the record's bytes of the line the quote is on.
    line_start: usize,
}

/// The scanner's state between bytes.
#[derive(Clone, Copy, PartialEq)]
enum State {
    /// At the start of a field (after a delimiter or a line end).
    FieldStart,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: a closing quote, or the
    /// first of an escaped pair `""`.
    QuoteInQuoted,
    /// After a closing quote: only a delimiter or a line end may follow.
    Closed,
}

/// Does the file hold a quote at all? (Most CSV files have none.)
fn has_quote(path: &Path) -> Result<bool> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok(false);
        }
        if buf[..n].contains(&b'"') {
            return Ok(true);
        }
    }
}

/// Fields of one line, every quote taken literally.
fn literal_fields(line: &[u8]) -> usize {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    1 + line.iter().filter(|&&b| b == b',').count()
}

/// Check the quotes of a CSV file (see the module docs); `path` names it in
/// errors, with the line and the field (from the header line).
pub fn check(path: &Path) -> Result<()> {
    if !has_quote(path)? {
        return Ok(());
    }
    let header: Vec<String> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .ok()
        .and_then(|mut r| r.records().next())
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default();
    let mut in_header = true;
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bytes = BufReader::with_capacity(1 << 16, f).bytes();
    // The bytes of the current record, for re-reading a multi-line one.
    let mut record: Vec<u8> = Vec::new();
    let (mut line, mut field, mut state) = (1usize, 0usize, State::FieldStart);
    let mut line_start = 0usize;
    let mut open: Option<Open> = None;
    let name = |header: &[String], field: usize| header.get(field).cloned();
    // Whether anything but line ends follows the current position.
    let mut content_after_newline = false;
    let mut seen_newline_in_quote = false;
    for b in bytes {
        let b = b.map_err(|e| Error::io(path, e))?;
        if seen_newline_in_quote && b != b'\n' && b != b'\r' {
            content_after_newline = true;
        }
        record.push(b);
        if state == State::QuoteInQuoted {
            if b == b'"' {
                state = State::Quoted;
                continue;
            }
            state = State::Closed;
        }
        match (state, b) {
            (State::Quoted, b'"') => state = State::QuoteInQuoted,
            (State::Quoted, b'\n') => {
                line += 1;
                line_start = record.len();
                seen_newline_in_quote = true;
            }
            (State::Quoted, _) => {}
            (State::FieldStart, b'"') => {
                state = State::Quoted;
                open = Some(Open {
                    line,
                    field,
                    line_start,
                });
                seen_newline_in_quote = false;
                content_after_newline = false;
            }
            (_, b',') if state != State::Quoted => {
                field += 1;
                state = State::FieldStart;
            }
            (_, b'\n') => {
                if in_header {
                    in_header = false;
                } else if let Some(o) = open.take() {
                    if o.line < line {
                        swallowed(path, &record, &o, line, header.len(), name(&header, o.field))?;
                    }
                }
                open = None;
                record.clear();
                line += 1;
                line_start = 0;
                field = 0;
                state = State::FieldStart;
            }
            (State::Closed, b'\r') => {}
            (State::Closed, _) => {
                let at = open.as_ref().map_or(line, |o| o.line);
                return Err(Error::input(
                    path,
                    line,
                    name(&header, field).as_deref(),
                    format!(
                        "text after the closing quote of a quoted field (opened on line {at}); RFC 4180 ends a quoted field at its closing quote, and a quote inside a field is written \"\" inside a quoted one (\"5\"\" tall\")"
                    ),
                ));
            }
            (_, _) => state = State::Unquoted,
        }
    }
    if matches!(state, State::Quoted) {
        if let Some(o) = open {
            // A quote on the last line with content swallows nothing.
            if content_after_newline {
                return Err(Error::input(
                    path,
                    o.line,
                    name(&header, o.field).as_deref(),
                    "unterminated quote: a quoted field opened on this line never closes, so every line after it would be read into that one field; close the quote (a quote inside a quoted field is written \"\")",
                ));
            }
        }
    }
    Ok(())
}

/// A record whose quoted field spans lines `o.line..=last`: an error when
/// those lines, read with the quote taken literally, each look like a
/// record of `width` fields (rows that a stray quote would merge).
fn swallowed(
    path: &Path,
    record: &[u8],
    o: &Open,
    last: usize,
    width: usize,
    field: Option<String>,
) -> Result<()> {
    let lines: Vec<&[u8]> = record[o.line_start..]
        .strip_suffix(b"\n")
        .unwrap_or(&record[o.line_start..])
        .split(|&b| b == b'\n')
        .collect();
    if width < 2 || !lines.iter().all(|l| literal_fields(l) == width) {
        return Ok(());
    }
    let merged = if last == o.line + 1 {
        format!("line {last}, which looks like a record of {width} fields, would be read")
    } else {
        format!(
            "lines {}-{last}, which look like records of {width} fields, would be read",
            o.line + 1
        )
    };
    Err(Error::input(
        path,
        o.line,
        field.as_deref(),
        format!(
            "a quote at the start of this field opens a quoted field that closes only on line {last}, so {merged} into this one field; if the quote belongs to the value, quote the whole field and double the quote (\"\"\"hi\"); if the field really holds those lines, write the file as JSONL"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<()> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, text).unwrap();
        check(&p)
    }

    const H: &str = "run,benchmark,task,item_id,score,response";

    #[test]
    fn crlf_quoted_fields_that_span_lines_or_escape_quotes_pass() {
        let t = format!(
            "{H}\r\nr,b,t,1,1,\"multi\r\nline, x\"\r\nr,b,t,2,0,\"q \"\"ok\"\"\"\r\nr,b,t,3,1,5\" tall\r\n"
        );
        assert!(check_text(&t).is_ok());
    }

    #[test]
    fn crlf_stray_quote_merging_a_record_is_located() {
        let t = format!("{H}\r\nr,b,t,1,1,\"hi\r\nr,b,t,2,0,x\"\r\n");
        let e = check_text(&t).unwrap_err().to_string();
        assert!(
            e.contains("x.csv:2: field 'response': a quote at the start"),
            "{e}"
        );
    }

    #[test]
    fn a_stray_quote_on_the_last_line_swallows_nothing() {
        assert!(check_text(&format!("{H}\nr,b,t,1,1,\"oops\n")).is_ok());
        let e = check_text(&format!("{H}\nr,b,t,1,1,\"oops\nr,b,t,2,0,x\n")).unwrap_err();
        assert!(
            e.to_string()
                .contains("x.csv:2: field 'response': unterminated quote"),
            "{e}"
        );
    }
}
