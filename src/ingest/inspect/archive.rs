//! Inspect `.eval` archives: a zip of `header.json` (or, for a run still
//! going, `_journal/start.json`) and one member per sample.

use std::io::Read;
use std::path::Path;

use super::{emit, located, nonfinite, one_sample, parse, warn_log, Header, LogContext, Tally};
use crate::error::{Error, Result};
use crate::ingest::sink::Sink;
use crate::ingest::{IngestOptions, IngestReport};

const HEADER: &str = "header.json";
const START: &str = "_journal/start.json";

fn read_member<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    path: &Path,
    name: &str,
) -> Result<String> {
    let mut f = zip
        .by_name(name)
        .map_err(|e| located(path, name, None, format!("cannot open the member: {e}")))?;
    let mut buf = Vec::with_capacity(usize::try_from(f.size()).unwrap_or(0).min(1 << 26));
    f.read_to_end(&mut buf)
        .map_err(|e| located(path, name, None, format!("cannot decompress the member: {e}")))?;
    String::from_utf8(buf).map_err(|e| located(path, name, None, format!("not UTF-8: {e}")))
}

pub(super) fn read_eval(
    path: &Path,
    opts: &IngestOptions,
    sink: &mut Sink<'_>,
    report: &mut IngestReport,
) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        Error::usage(format!(
            "{}: not a readable .eval log (an Inspect log is a zip archive): {e}",
            path.display()
        ))
    })?;
    // Unique names; a repeated name resolves to its last entry.
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let head_member = if names.iter().any(|n| n == HEADER) {
        HEADER
    } else if names.iter().any(|n| n == START) {
        START
    } else {
        return Err(Error::usage(format!(
            "{}: an Inspect .eval log needs '{HEADER}' or '{START}'; this archive has neither",
            path.display()
        )));
    };
    let head_text = read_member(&mut zip, path, head_member)?;
    let head_text = nonfinite::rewrite(&head_text).into_owned();
    let h: Header<'_> = parse(path, head_member, &head_text)?;
    let ctx = LogContext::new(path, head_member, &h, opts)?;
    let mut tally = Tally::default();
    let mut pending = Vec::new();
    for name in names
        .iter()
        .filter(|n| n.starts_with("samples/") && n.ends_with(".json"))
    {
        let text = read_member(&mut zip, path, name);
        if let Some(p) = one_sample(path, name, text, &ctx, opts.skip_bad, &mut tally, report)? {
            pending.push(p);
        }
    }
    emit(pending, &ctx, sink, report, &mut tally)?;
    if head_member == START {
        report.warnings.push(format!(
            "{}: no {HEADER}: an in-progress or crashed log; read the {} samples it holds",
            path.display(),
            tally.samples
        ));
    }
    warn_log(path, &h, &tally, report);
    report.add_file(path, "inspect", &ctx.run, &ctx.task, tally.rows);
    Ok(())
}
