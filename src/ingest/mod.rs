//! Ingest: evaluation logs in, the canonical sample table out.
//!
//! `ingest` walks the given paths, recognises each file's format (or takes the
//! one given), reads it with the format's reader and checks the result: rows
//! are never dropped silently (a malformed record is an error naming file,
//! line and field; with `skip_bad` it is skipped, counted and listed), and two
//! rows with the same (run, task, item, filter, sample) are an error.
//! Inspect, lighteval and OpenCompass readers are not written yet: such files
//! are reported as unsupported rather than misread.

pub mod family;
pub mod generic;
pub mod lmeval;
pub mod sink;

use std::path::{Path, PathBuf};

pub use sink::{Sink, SinkOptions, SinkOutput};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::table::SampleTable;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Auto,
    LmEval,
    Generic,
    Inspect,
    Lighteval,
    Opencompass,
}

/// How to read the inputs.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub format: Format,
    /// Run id for every file read (overrides the model name of lm-eval logs).
    pub run: Option<String>,
    /// Column mapping for generic files.
    pub columns: Option<PathBuf>,
    /// Skip malformed records (each one counted and listed) instead of failing.
    pub skip_bad: bool,
    /// A score at or above this is `correct`.
    pub pass_threshold: f64,
    /// Shorten run ids to their last path component (`/models/org/x/ckpt`
    /// -> `ckpt`); see [`crate::error::short_run_id`].
    pub short_run_ids: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            format: Format::Auto,
            run: None,
            columns: None,
            skip_bad: false,
            pass_threshold: 1.0,
            short_run_ids: false,
        }
    }
}

/// A record skipped under `--skip-bad`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// `file:line`
    pub location: String,
    pub field: Option<String>,
    pub message: String,
}

impl Skipped {
    pub fn from_error(e: &Error) -> Self {
        match e {
            Error::Input { location, message } => Skipped {
                location: format!("{}:{}", location.path.display(), location.line),
                field: location.field.clone(),
                message: message.clone(),
            },
            other => Skipped {
                location: String::new(),
                field: None,
                message: other.to_string(),
            },
        }
    }
}

/// One file read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRead {
    pub path: String,
    pub format: String,
    pub run: String,
    pub task: String,
    pub rows: usize,
}

/// What ingest did, for the report and for auditors.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    pub files: Vec<FileRead>,
    pub skipped: Vec<Skipped>,
    /// Files under the given folders that are not evaluation logs.
    pub ignored: Vec<String>,
    pub warnings: Vec<String>,
}

impl IngestReport {
    pub fn add_file(&mut self, path: &Path, format: &str, run: &str, task: &str, rows: usize) {
        self.files.push(FileRead {
            path: path.display().to_string(),
            format: format.to_string(),
            run: run.to_string(),
            task: task.to_string(),
            rows,
        });
    }
}

/// Every file under the given paths, in a stable order.
fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
        if meta.is_dir() {
            // Symlinked files and folders are followed (model caches and
            // data-versioning tools link them); a link loop is an error.
            for entry in walkdir::WalkDir::new(p).follow_links(true).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    let path = e.path().unwrap_or(p).to_path_buf();
                    if let Some(anc) = e.loop_ancestor() {
                        return Error::usage(format!(
                            "{}: symbolic link loop (it leads back to {}); remove the link or give the folders separately",
                            path.display(),
                            anc.display()
                        ));
                    }
                    Error::io(&path, e.into())
                })?;
                if entry.file_type().is_file() {
                    out.push(entry.into_path());
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn extension(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

fn first_line_looks_like_lmeval(path: &Path) -> Result<bool> {
    use std::io::{BufRead, BufReader};
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(f);
    let mut line = String::new();
    while reader.read_line(&mut line).map_err(|e| Error::io(path, e))? > 0 {
        let t = line.trim();
        if !t.is_empty() {
            if t.starts_with('[') {
                // A JSON array is an lm-eval (<= v0.4.2) samples file when its
                // records are lm-eval's; else a generic array of records.
                let mut head = vec![0u8; 1 << 16];
                let n = std::io::Read::read(&mut reader, &mut head).map_err(|e| Error::io(path, e))?;
                let head = format!("{t}{}", String::from_utf8_lossy(&head[..n]));
                return Ok(head.contains("\"doc_id\"") || head.len() < 3);
            }
            return Ok(t.contains("\"doc_id\"") && t.contains("\"resps\""));
        }
        line.clear();
    }
    Ok(false)
}

/// Read every evaluation log under `paths` into one in-memory table (for
/// tests and small inputs; the pipeline streams through [`ingest_into`]).
pub fn ingest(paths: &[PathBuf], opts: &IngestOptions) -> Result<(SampleTable, IngestReport)> {
    let filters = std::collections::BTreeMap::new();
    let (out, report) = ingest_into(
        paths,
        opts,
        SinkOptions {
            out: None,
            taxonomy: None,
            filters: &filters,
            diagnosis: None,
            collect: true,
            skip_bad: opts.skip_bad,
            batch_rows: crate::ingest::sink::BATCH_ROWS,
        },
    )?;
    Ok((out.table.unwrap_or_default(), report))
}

/// Read every evaluation log under `paths` into a [`Sink`]: rows are
/// checked, tagged, indexed and written batch by batch.
pub fn ingest_into(
    paths: &[PathBuf],
    opts: &IngestOptions,
    sink_opts: SinkOptions<'_>,
) -> Result<(SinkOutput, IngestReport)> {
    if matches!(
        opts.format,
        Format::Inspect | Format::Lighteval | Format::Opencompass
    ) {
        return Err(Error::usage(format!(
            "the {:?} reader is not implemented yet; convert the logs to JSONL and use --format generic with a --columns mapping",
            opts.format
        )));
    }
    if !opts.pass_threshold.is_finite() {
        return Err(Error::usage(format!(
            "--pass-threshold {} is not a number; give the score at or above which a row is correct, e.g. 1.0",
            opts.pass_threshold
        )));
    }
    let files = walk(paths)?;
    let mut report = IngestReport::default();
    let mut results_files = Vec::new();
    let mut lm_samples = Vec::new();
    let mut legacy: Vec<PathBuf> = Vec::new();
    let mut generic_files = Vec::new();
    for f in &files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let ext = extension(f);
        let lm_ok = matches!(opts.format, Format::Auto | Format::LmEval);
        let gen_ok = matches!(opts.format, Format::Auto | Format::Generic);
        if lm_ok && ext == "json" {
            if let Some(r) = lmeval::results::read(f)? {
                results_files.push(r);
                continue;
            }
            if first_line_looks_like_lmeval(f)? {
                legacy.push(f.clone());
                continue;
            }
        }
        if lm_ok && ext == "jsonl" {
            if let Some((task, date)) = lmeval::samples_file_name(name) {
                lm_samples.push(lmeval::SamplesFile {
                    path: f.clone(),
                    task: task.to_string(),
                    date_id: Some(date.to_string()),
                });
                continue;
            }
            if first_line_looks_like_lmeval(f)? {
                legacy.push(f.clone());
                continue;
            }
        }
        if gen_ok && matches!(ext, "jsonl" | "json" | "csv" | "parquet") {
            generic_files.push(f.clone());
            continue;
        }
        if opts.format != Format::Auto || paths.iter().any(|p| p == f) {
            return Err(Error::usage(format!(
                "{}: not a recognised {} file; give --format and, for generic files, --columns",
                f.display(),
                match opts.format {
                    Format::LmEval => "lm-evaluation-harness",
                    Format::Generic => "generic (.jsonl, .json, .csv, .parquet)",
                    _ => "evaluation log",
                }
            )));
        }
        report.ignored.push(f.display().to_string());
    }
    // Legacy (<= v0.4.2) files take their task from the results.json beside them.
    for f in legacy {
        let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let beside: Vec<&lmeval::results::ResultsFile> = results_files
            .iter()
            .filter(|r| r.path.parent().map(Path::to_path_buf).unwrap_or_default() == dir)
            .collect();
        let task = beside
            .iter()
            .find_map(|r| lmeval::legacy_task(stem, r.tasks.keys()))
            .ok_or_else(|| {
                Error::usage(format!(
                    "{}: lm-eval sample file whose task cannot be told: its name is not samples_<task>_<date>.jsonl and no results file beside it lists a task that ends its name",
                    f.display()
                ))
            })?;
        let date_id = beside
            .iter()
            .find(|r| r.tasks.contains_key(&task))
            .and_then(|r| r.date_id.clone());
        lm_samples.push(lmeval::SamplesFile {
            path: f,
            task,
            date_id,
        });
    }
    // Refuse to overwrite an input with the output.
    if let Some(out) = sink_opts.out {
        if let Ok(o) = std::fs::canonicalize(out) {
            for f in &files {
                if std::fs::canonicalize(f).ok().as_ref() == Some(&o) {
                    return Err(Error::usage(format!(
                        "{}: the output would overwrite an input; choose another --out",
                        out.display()
                    )));
                }
            }
        }
    }
    let mut sink = Sink::new(sink_opts)?;
    sink.short_run_ids = opts.short_run_ids;
    lmeval::read_all(&results_files, &lm_samples, opts, &mut sink, &mut report)?;
    for f in &generic_files {
        generic::read(f, opts, &mut sink, &mut report)?;
    }
    let out = sink.finish(&mut report)?;
    if out.rows == 0 {
        return Err(Error::usage(format!(
            "no samples found in {}; caploop reads lm-evaluation-harness --log_samples folders and generic .jsonl/.csv/.parquet files",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok((out, report))
}
