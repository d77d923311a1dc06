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
struct SliceRow<'a> {
    run: &'a str,
    benchmark: &'a str,
    slice: &'a str,
    items: usize,
    samples: u64,
    mean: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    k: Option<u32>,
    pass_at_k: Option<f64>,
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

pub fn write_slices_csv(path: &Path, rows: &[SliceStats]) -> Result<()> {
    let mut w = csv_writer(path)?;
    for r in rows {
        w.serialize(SliceRow {
            run: &r.run,
            benchmark: &r.benchmark,
            slice: &r.slice,
            items: r.items,
            samples: r.samples,
            mean: num(r.mean),
            ci_low: num(r.ci_low),
            ci_high: num(r.ci_high),
            k: r.k,
            pass_at_k: r.pass_at_k.and_then(num),
        })
        .map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}

pub fn write_comparison_csv(path: &Path, c: &Comparison) -> Result<()> {
    let mut w = csv_writer(path)?;
    for r in &c.slices {
        w.serialize(ComparisonRow {
            benchmark: &r.benchmark,
            slice: &r.slice,
            items: r.items,
            baseline_mean: num(r.baseline_mean),
            candidate_mean: num(r.candidate_mean),
            delta: num(r.delta),
            ci_low: num(r.ci_low),
            ci_high: num(r.ci_high),
            p_value: num(r.p_value),
            q_value: num(r.q_value),
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
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let v = serde_json::to_value(value).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    let text =
        serde_json::to_string_pretty(&v).map_err(|e| Error::usage(format!("{}: {e}", path.display())))?;
    crate::error::write_file(path, text + "\n")
}
