//! Ingest: evaluation logs in, the canonical sample table out.
//!
//! `ingest` walks the given paths, recognises each file's format (or takes the
//! one given), reads it with the format's reader and checks the result: rows
//! are never dropped silently (a malformed record is an error naming file,
//! line and field; with `skip_bad` it is skipped, counted and listed), and two
//! rows with the same (run, task, item, filter, sample) are an error.
//! Formats are told apart by `detect`. Inspect AI logs (`.eval`, and
//! `.json` with `EvalLog`'s keys) are read by [`inspect`], lighteval details
//! parquet by [`lighteval`].

mod batch;
pub mod csv_quotes;
pub mod detect;
pub mod family;
pub mod generic;
pub mod helm;
pub mod inspect;
pub mod lighteval;
pub mod lmeval;
pub mod olmes;
pub mod opencompass;
pub mod pyjson;
mod seen;
pub mod sink;

use std::path::{Path, PathBuf};

pub use sink::{Sink, SinkOptions, SinkOutput};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::table::SampleTable;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Format {
    Auto,
    LmEval,
    Generic,
    Inspect,
    Lighteval,
    Opencompass,
    Olmes,
    Helm,
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
    /// The format chosen for every file (HELM: every run folder), and why.
    pub detected: Vec<detect::Detected>,
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

/// Read every evaluation log under `paths` into one in-memory table (for
/// tests and small inputs; the pipeline streams through [`ingest_into`]).
pub fn ingest(paths: &[PathBuf], opts: &IngestOptions) -> Result<(SampleTable, IngestReport)> {
    let filters = std::collections::BTreeMap::new();
    let (out, report) = ingest_into(
        paths,
        opts,
        SinkOptions {
            collect: true,
            skip_bad: opts.skip_bad,
            ..SinkOptions::new(&filters)
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
    if !opts.pass_threshold.is_finite() {
        return Err(Error::usage(format!(
            "--pass-threshold {} is not a number; give the score at or above which a row is correct, e.g. 1.0",
            opts.pass_threshold
        )));
    }
    let files = walk(paths)?;
    let plan = detect::plan(&files, paths, opts.format)?;
    let mut report = IngestReport {
        detected: plan.detected,
        ignored: plan.ignored,
        ..IngestReport::default()
    };
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
    // One arm per reader; every reader gets the files detected as its format.
    for (format, group) in &plan.groups {
        match format {
            Format::LmEval => lmeval::read_files(group, opts, &mut sink, &mut report)?,
            Format::Generic => {
                for f in group {
                    generic::read(f, opts, &mut sink, &mut report)?;
                }
            }
            Format::Olmes => olmes::read_files(group, opts, &mut sink, &mut report)?,
            Format::Helm => helm::read_files(group, opts, &mut sink, &mut report)?,
            Format::Opencompass => opencompass::read_files(group, opts, &mut sink, &mut report)?,
            Format::Inspect => {
                for f in group {
                    inspect::read(f, opts, &mut sink, &mut report)?;
                }
            }
            Format::Lighteval => {
                for f in group {
                    // lighteval >= 0.12 writes Inspect logs.
                    if matches!(f.extension().and_then(|e| e.to_str()), Some("eval" | "json")) {
                        inspect::read(f, opts, &mut sink, &mut report)?;
                    } else {
                        lighteval::read(f, opts, &mut sink, &mut report)?;
                    }
                }
            }
            Format::Auto => {}
        }
    }
    let out = crate::trace::time("sink.finish", || sink.finish(&mut report))?;
    if out.rows == 0 {
        return Err(Error::usage(format!(
            "no samples found in {}; caploop reads lm-evaluation-harness, Inspect AI, lighteval, OLMES, HELM and OpenCompass outputs and generic .jsonl/.csv/.parquet files",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok((out, report))
}
