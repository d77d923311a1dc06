//! `weakness.csv`: one row per feature evaluated, pool first by rank.
//! Floats in their shortest round-trip form (`2.8e-43` for tiny p-values);
//! NaN (undefined: an empty side, a zero accuracy) is an empty cell.

use std::path::Path;

use super::{Feature, WeaknessReport};
use crate::error::{Error, Result};

pub const HEADER: [&str; 22] = [
    "axis",
    "feature",
    "order",
    "n",
    "error_rate",
    "ci_low",
    "ci_high",
    "benchmark_error_rate",
    "p_error",
    "q_error",
    "omega",
    "a_raw",
    "a_pair",
    "a_comp",
    "weak",
    "q_value",
    "significant",
    "in_pool",
    "rank",
    "delta_pair",
    "delta_pair_reverse",
    "composition",
];

fn cell(x: f64) -> String {
    if x.is_finite() {
        // Debug: shortest round-trip digits, exponent form for tiny p-values.
        format!("{x:?}")
    } else {
        String::new()
    }
}

/// `Δpair(u;o)` of a pair as `u;o=value` (percent), both directions; the
/// composition effects of a triple as `u=value` joined by spaces.
fn effects(f: &Feature) -> (String, String, String) {
    let pair = |k: usize| {
        f.pair_effects.get(k).map_or(String::new(), |p| {
            format!("{};{}={}", p.base, p.added, cell(p.delta_pair))
        })
    };
    let comp = f
        .composition_effects
        .iter()
        .map(|c| format!("{}={}", c.base, cell(c.c)))
        .collect::<Vec<_>>()
        .join(" ");
    (pair(0), pair(1), comp)
}

/// The CSV text of a report.
pub fn csv_bytes(r: &WeaknessReport) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::usage(format!("weakness.csv: {e}"));
    w.write_record(HEADER).map_err(err)?;
    let a = &r.analysis;
    for f in &a.features {
        let (p0, p1, comp) = effects(f);
        w.write_record([
            a.axis.clone(),
            f.name(),
            f.order.to_string(),
            f.n.to_string(),
            cell(f.error_rate),
            cell(f.ci_low),
            cell(f.ci_high),
            cell(a.error_rate),
            cell(f.p_error),
            cell(f.q_error),
            cell(f.omega),
            cell(f.a_raw),
            cell(f.a_pair),
            cell(f.a_comp),
            cell(f.weak),
            cell(f.q_value),
            f.significant.to_string(),
            f.in_pool.to_string(),
            f.rank.map_or(String::new(), |r| r.to_string()),
            p0,
            p1,
            comp,
        ])
        .map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::usage(format!("weakness.csv: {e}")))
}

/// Write `weakness.csv` (atomically).
pub fn write_csv(path: &Path, r: &WeaknessReport) -> Result<()> {
    crate::error::write_file(path, csv_bytes(r)?)
}
