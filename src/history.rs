//! History: a checkpoint series of the same evaluation in one view.
//! Per-slice trajectories, regressions that appeared at a given step (each
//! step compared item by item with the one before, q-values per step), and
//! weaknesses that persist: slices whose whole interval lies below their
//! benchmark's mean in every run of the series.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::slices::{self, CompareSettings, Dataset, SliceComparison, Status};

/// One slice's mean at every run of the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trajectory {
    pub benchmark: String,
    pub slice: String,
    /// Items in the slice (largest over the runs).
    pub items: usize,
    /// Mean per run, in series order; None where the run lacks the slice.
    pub means: Vec<Option<f64>>,
}

/// A regression that appeared at one step of the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appeared {
    pub step: String,
    pub previous: String,
    pub comparison: SliceComparison,
}

/// A slice weak in every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Persistent {
    pub benchmark: String,
    pub slice: String,
    pub means: Vec<f64>,
    pub benchmark_means: Vec<f64>,
}

/// `history.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub runs: Vec<String>,
    /// The whole benchmarks first, then every slice that regressed at some
    /// step or is persistently weak.
    pub trajectories: Vec<Trajectory>,
    pub appeared: Vec<Appeared>,
    pub persistent: Vec<Persistent>,
}

/// The history of `series` (run ids in training order).
pub fn history(ds: &Dataset, series: &[String], s: &CompareSettings) -> Result<History> {
    if series.len() < 2 {
        return Err(Error::usage("history needs at least two runs in the series"));
    }
    let idx: Vec<usize> = series.iter().map(|r| ds.run_index(r)).collect::<Result<_>>()?;
    let defined = slices::slices(ds, s.max_order, s.min_items);
    let stats = slices::measure_all(ds, &defined, s.confidence, &[]);
    let mut by: BTreeMap<(&str, &str), BTreeMap<&str, &slices::SliceStats>> = BTreeMap::new();
    for st in &stats {
        by.entry((st.benchmark.as_str(), st.slice.as_str()))
            .or_default()
            .insert(st.run.as_str(), st);
    }
    let mut appeared = Vec::new();
    for w in idx.windows(2) {
        let c = slices::compare(ds, w[0], w[1], &defined, s);
        for r in c.slices.into_iter().filter(|r| r.status == Status::Regressed) {
            appeared.push(Appeared {
                step: ds.runs[w[1]].clone(),
                previous: ds.runs[w[0]].clone(),
                comparison: r,
            });
        }
    }
    let mut persistent = Vec::new();
    for ((bench, slice), per_run) in &by {
        if *slice == "*" {
            continue;
        }
        let Some(whole) = by.get(&(*bench, "*")) else {
            continue;
        };
        let rows: Option<Vec<(f64, f64, f64)>> = series
            .iter()
            .map(|r| {
                Some((
                    per_run.get(r.as_str())?.ci_high,
                    per_run.get(r.as_str())?.mean,
                    whole.get(r.as_str())?.mean,
                ))
            })
            .collect();
        if let Some(rows) = rows {
            if rows.iter().all(|(hi, _, b)| hi < b) {
                persistent.push(Persistent {
                    benchmark: bench.to_string(),
                    slice: slice.to_string(),
                    means: rows.iter().map(|r| r.1).collect(),
                    benchmark_means: rows.iter().map(|r| r.2).collect(),
                });
            }
        }
    }
    let mut wanted: Vec<(String, String)> = by
        .keys()
        .filter(|(_, sl)| *sl == "*")
        .map(|(b, sl)| (b.to_string(), sl.to_string()))
        .collect();
    let mut extra: BTreeSet<(String, String)> = BTreeSet::new();
    for a in &appeared {
        extra.insert((a.comparison.benchmark.clone(), a.comparison.slice.clone()));
    }
    for p in &persistent {
        extra.insert((p.benchmark.clone(), p.slice.clone()));
    }
    wanted.extend(extra.into_iter().filter(|(_, sl)| sl != "*"));
    let trajectories = wanted
        .into_iter()
        .map(|(b, sl)| {
            let per_run = by.get(&(b.as_str(), sl.as_str()));
            let means: Vec<Option<f64>> = series
                .iter()
                .map(|r| per_run.and_then(|m| m.get(r.as_str())).map(|st| st.mean))
                .collect();
            let items = per_run.map_or(0, |m| m.values().map(|st| st.items).max().unwrap_or(0));
            Trajectory {
                benchmark: b,
                slice: sl,
                items,
                means,
            }
        })
        .collect();
    Ok(History {
        runs: series.to_vec(),
        trajectories,
        appeared,
        persistent,
    })
}

/// The history section of `report.md`.
pub fn markdown(h: &History) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## History: {}\n", h.runs.join(" -> "));
    let _ = write!(out, "| benchmark | slice | items |");
    for r in &h.runs {
        let _ = write!(out, " {r} |");
    }
    let _ = write!(out, "\n|---|---|---:|");
    for _ in &h.runs {
        out.push_str("---:|");
    }
    out.push('\n');
    for t in h.trajectories.iter().take(40) {
        let _ = write!(out, "| {} | `{}` | {} |", t.benchmark, t.slice, t.items);
        for m in &t.means {
            match m {
                Some(m) => {
                    let _ = write!(out, " {:.1}% |", 100.0 * m);
                }
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    if h.trajectories.len() > 40 {
        let _ = writeln!(
            out,
            "\n{} more trajectories in history.json.",
            h.trajectories.len() - 40
        );
    }
    let _ = writeln!(out, "\nRegressions by the step where they appeared:\n");
    if h.appeared.is_empty() {
        let _ = writeln!(out, "- none");
    }
    for a in h.appeared.iter().take(30) {
        let c = &a.comparison;
        let _ = writeln!(
            out,
            "- at {} (from {}): `{}` on {}, {:+.1} pp [{:+.1}, {:+.1}], q {:.2e}",
            a.step,
            a.previous,
            c.slice,
            c.benchmark,
            100.0 * c.paired.delta,
            100.0 * c.paired.ci_low,
            100.0 * c.paired.ci_high,
            c.paired.q_value
        );
    }
    if !h.persistent.is_empty() {
        let _ = writeln!(
            out,
            "\nWeak in every run (whole interval below the benchmark mean):\n"
        );
        for p in &h.persistent {
            let means: Vec<String> = p.means.iter().map(|m| format!("{:.1}%", 100.0 * m)).collect();
            let _ = writeln!(out, "- `{}` on {}: {}", p.slice, p.benchmark, means.join(" -> "));
        }
    }
    out.push('\n');
    out
}
