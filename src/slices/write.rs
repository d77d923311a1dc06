//! `slices.csv`, `comparison.csv` and `comparison.json`.
//!
//! Floats are written in Rust's shortest round-trip form (stable across runs);
//! NaN (no data) is an empty cell in CSV and `null` in JSON.

use std::path::Path;

use serde::Serialize;

use super::compare::Comparison;
use super::measure::SliceStats;
use crate::error::{Error, Result};

fn num(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

#[derive(Serialize)]
struct ComparisonRow<'a> {
    benchmark: &'a str,
    slice: &'a str,
    items: usize,
    baseline_mean: Option<f64>,
    candidate_mean: Option<f64>,
    delta: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    p_value: Option<f64>,
    q_value: Option<f64>,
    mde: Option<f64>,
    status: &'a str,
    method: &'a str,
    regressed: usize,
    fixed: usize,
    regressed_ids: String,
    fixed_ids: String,
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    if let Some(parent) = path.parent() {
        crate::error::create_dir(parent)?;
    }
    csv::Writer::from_path(path).map_err(|e| Error::usage(format!("{}: {e}", path.display())))
}

fn csv_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::usage(format!("{}: {e}", path.display()))
}

pub fn write_slices_csv(path: &Path, rows: &[SliceStats], ks: &[u32]) -> Result<()> {
    let mut w = csv_writer(path)?;
    let cell = |x: Option<f64>| x.and_then(num).map_or(String::new(), |v| v.to_string());
    let mut header: Vec<String> = [
        "run",
        "benchmark",
        "slice",
        "items",
        "samples",
        "mean",
        "ci_low",
        "ci_high",
        "k",
        "pass_at_k",
    ]
    .map(String::from)
    .to_vec();
    header.extend(ks.iter().map(|k| format!("pass_at_{k}")));
    w.write_record(&header).map_err(|e| csv_err(path, e))?;
    for r in rows {
        let mut rec = vec![
            r.run.clone(),
            r.benchmark.clone(),
            r.slice.clone(),
            r.items.to_string(),
            r.samples.to_string(),
            cell(Some(r.mean)),
            cell(Some(r.ci_low)),
            cell(Some(r.ci_high)),
            r.k.map_or(String::new(), |k| k.to_string()),
            cell(r.pass_at_k),
        ];
        rec.extend(r.pass_at.iter().map(|(_, v)| cell(*v)));
        w.write_record(&rec).map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

pub fn write_comparison_csv(path: &Path, c: &Comparison) -> Result<()> {
    let mut w = csv_writer(path)?;
    for r in &c.slices {
        w.serialize(ComparisonRow {
            benchmark: &r.benchmark,
            slice: &r.slice,
            items: r.paired.items,
            baseline_mean: num(r.paired.baseline_mean),
            candidate_mean: num(r.paired.candidate_mean),
            delta: num(r.paired.delta),
            ci_low: num(r.paired.ci_low),
            ci_high: num(r.paired.ci_high),
            p_value: num(r.paired.p_value),
            q_value: num(r.paired.q_value),
            mde: num(r.mde),
            status: r.status.as_str(),
            method: r.method,
            regressed: r.regressed,
            fixed: r.fixed,
            regressed_ids: r.regressed_ids.join(";"),
            fixed_ids: r.fixed_ids.join(";"),
        })
        .map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

/// Write any serialisable result as pretty JSON (NaN becomes null).
/// A value as the pretty JSON text [`write_json`] writes.
pub fn json_bytes<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let v = serde_json::to_value(value).map_err(|e| Error::usage(format!("cannot serialise: {e}")))?;
    let text =
        serde_json::to_string_pretty(&v).map_err(|e| Error::usage(format!("cannot serialise: {e}")))?;
    Ok((text + "\n").into_bytes())
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let v = serde_json::to_value(value).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    let text =
        serde_json::to_string_pretty(&v).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    crate::error::write_file(path, text + "\n")
}
