//! Slice heatmap of one benchmark: one axis of the taxonomy down (e.g. the
//! solving operation), another across (e.g. the task type); each cell is
//! the slice of items with both tags. Colour is the paired delta on a
//! symmetric blue (improved) / red (regressed) scale, or, without a
//! comparison, the accuracy of one run. Every cell prints its number and
//! its item count; a dot marks q ≤ FDR; cells with fewer items than the
//! comparison's `min_items` are faded, since their numbers are noisy.
//!
//! The cells come from [`cell_slices`], not from the measured slices: those
//! drop a conjunction equal to one of its parts (a task whose items all
//! share one operation), which would leave holes in the grid.

use std::collections::{BTreeMap, BTreeSet};

use crate::report::num::{pct, pp, q4};
use crate::report::Grid;
use crate::slices::{Dataset, Slice};

mod draw;

/// The slices of a heatmap of `row_axis` by `col_axis`: per benchmark, one
/// slice for every pair of a `row_axis` tag and a `col_axis` tag that share
/// at least one item, named like every slice (`operation=x & task_type=y`).
/// None is dropped for size or redundancy, so every cell has numbers.
/// Measure them with `slices::measure_all` or compare them with
/// `slices::compare`; the q-values of the latter then count the grid's
/// cells only. Ordered by benchmark, then name.
pub fn cell_slices(ds: &Dataset, row_axis: &str, col_axis: &str) -> Vec<Slice> {
    if row_axis == col_axis {
        return Vec::new();
    }
    // Each tag's side, decided once: 1 row axis, 2 column axis, 0 neither.
    let side: Vec<u8> = ds
        .tags
        .iter()
        .map(|t| match t.split_once('=').map(|(a, _)| a) {
            Some(a) if a == row_axis => 1,
            Some(a) if a == col_axis => 2,
            _ => 0,
        })
        .collect();
    let mut cells: BTreeMap<(u32, u32, u32), usize> = BTreeMap::new();
    let (mut rows, mut cols) = (Vec::new(), Vec::new());
    for item in &ds.items {
        rows.clear();
        cols.clear();
        for &t in &item.tags {
            match side[t as usize] {
                1 => rows.push(t),
                2 => cols.push(t),
                _ => {}
            }
        }
        for &r in &rows {
            for &c in &cols {
                let (a, b) = (r.min(c), r.max(c));
                *cells.entry((item.benchmark, a, b)).or_default() += 1;
            }
        }
    }
    cells
        .into_iter()
        .map(|((benchmark, a, b), items)| Slice {
            benchmark,
            tags: vec![a, b],
            items,
        })
        .collect()
}

/// `(row value, column value)` of a cell slice's name, if it is one.
fn split_cell<'s>(name: &'s str, row_axis: &str, col_axis: &str) -> Option<(&'s str, &'s str)> {
    let (p, q) = name.split_once(" & ")?;
    if q.contains(" & ") {
        return None;
    }
    let (pa, pv) = p.split_once('=')?;
    let (qa, qv) = q.split_once('=')?;
    if pa == row_axis && qa == col_axis {
        Some((pv, qv))
    } else if qa == row_axis && pa == col_axis {
        Some((qv, pv))
    } else {
        None
    }
}

/// One cell's numbers.
#[derive(Debug, Clone)]
struct Cell {
    items: usize,
    /// Delta (comparison) or mean (one run).
    value: f64,
    significant: bool,
    tooltip: String,
}

/// The data of one heatmap.
#[derive(Debug, Clone)]
pub struct Heatmap<'a> {
    pub benchmark: &'a str,
    /// The run shown when colour is accuracy; `None` when it is the delta.
    pub run: Option<&'a str>,
    pub row_axis: &'a str,
    pub col_axis: &'a str,
    pub rows: Vec<&'a str>,
    pub cols: Vec<&'a str>,
    cells: BTreeMap<(usize, usize), Cell>,
    /// Half-width of the delta colour scale (a fraction).
    scale: f64,
    min_items: usize,
    fdr: f64,
    /// `candidate vs baseline`, or the run.
    what: String,
    pub(super) suffix: usize,
    /// Set for the weakness analysis's pair-effect heatmap.
    pub(super) pairs: Option<PairTexts>,
}

/// The texts of a pair-effect heatmap (the weakness analysis).
#[derive(Debug, Clone)]
pub(super) struct PairTexts {
    title: String,
}

/// A round upper bound for the colour scale.
fn nice_scale(max_abs: f64) -> f64 {
    [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0]
        .into_iter()
        .find(|s| *s >= max_abs - 1e-12)
        .unwrap_or(1.0)
}

impl<'a> Heatmap<'a> {
    /// The heatmaps of `benchmark`: one of deltas with a comparison, else
    /// one of accuracy per run. None when the grid has no cell there.
    pub fn build(grid: &Grid<'a>, benchmark: &'a str) -> Vec<Heatmap<'a>> {
        let (row_axis, col_axis) = (grid.rows, grid.cols);
        let mut out = Vec::new();
        if let Some(c) = grid.comparison {
            let mut cells = Vec::new();
            for s in c.slices.iter().filter(|s| s.benchmark == benchmark) {
                if let Some((r, k)) = split_cell(&s.slice, row_axis, col_axis) {
                    let significant = s.paired.q_value.is_finite() && s.paired.q_value <= c.settings.fdr;
                    let tooltip = super::slice_tooltip(s);
                    cells.push((
                        r,
                        k,
                        Cell {
                            items: s.paired.items,
                            value: s.paired.delta,
                            significant,
                            tooltip,
                        },
                    ));
                }
            }
            let min_items = c.settings.min_items;
            let solid = cells
                .iter()
                .filter(|(_, _, x)| x.items >= min_items && x.value.is_finite())
                .map(|(_, _, x)| x.value.abs())
                .fold(f64::NAN, f64::max);
            let any = cells
                .iter()
                .filter(|(_, _, x)| x.value.is_finite())
                .map(|(_, _, x)| x.value.abs())
                .fold(0.0, f64::max);
            let scale = nice_scale(if solid.is_nan() { any } else { solid });
            let what = format!("{} vs {}", c.candidate, c.baseline);
            out.extend(Self::assemble(
                grid,
                benchmark,
                None,
                cells,
                scale,
                min_items,
                c.settings.fdr,
                what,
            ));
        } else {
            let mut runs: Vec<&'a str> = Vec::new();
            for s in grid.stats.iter().filter(|s| s.benchmark == benchmark) {
                if !runs.contains(&s.run.as_str()) {
                    runs.push(&s.run);
                }
            }
            for run in runs {
                let mut cells = Vec::new();
                for s in grid
                    .stats
                    .iter()
                    .filter(|s| s.benchmark == benchmark && s.run == run)
                {
                    if let Some((r, k)) = split_cell(&s.slice, row_axis, col_axis) {
                        let tooltip = format!(
                            "{}\n{}: {} [{}, {}], {} items",
                            s.slice,
                            run,
                            pct(s.mean),
                            pct(s.ci_low),
                            pct(s.ci_high),
                            s.items
                        );
                        cells.push((
                            r,
                            k,
                            Cell {
                                items: s.items,
                                value: s.mean,
                                significant: false,
                                tooltip,
                            },
                        ));
                    }
                }
                out.extend(Self::assemble(
                    grid,
                    benchmark,
                    Some(run),
                    cells,
                    1.0,
                    0,
                    0.0,
                    run.to_string(),
                ));
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        grid: &Grid<'a>,
        benchmark: &'a str,
        run: Option<&'a str>,
        cells: Vec<(&'a str, &'a str, Cell)>,
        scale: f64,
        min_items: usize,
        fdr: f64,
        what: String,
    ) -> Option<Heatmap<'a>> {
        if cells.is_empty() {
            return None;
        }
        let rows: Vec<&str> = cells
            .iter()
            .map(|c| c.0)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let cols: Vec<&str> = cells
            .iter()
            .map(|c| c.1)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let index = |v: &[&str], x: &str| v.iter().position(|y| *y == x).unwrap_or(0);
        let cells = cells
            .into_iter()
            .map(|(r, k, cell)| ((index(&rows, r), index(&cols, k)), cell))
            .collect();
        Some(Heatmap {
            benchmark,
            run,
            row_axis: grid.rows,
            col_axis: grid.cols,
            rows,
            cols,
            cells,
            scale,
            min_items,
            fdr,
            what,
            suffix: 0,
            pairs: None,
        })
    }

    /// The pair-effect heatmap of a weakness analysis: row `u`, column `o`,
    /// colour and number `Δpair(u;o)` (percent, as a fraction of 1 so the
    /// delta scale applies), a dot when its q ≤ the analysis's FDR. Only
    /// pairs with at least θ items were evaluated; the rest show `–`.
    pub fn pair_effects(
        w: &'a crate::diagnose::weakness::WeaknessReport,
        label: &'a str,
    ) -> Option<Heatmap<'a>> {
        let a = &w.analysis;
        let mut cells = Vec::new();
        for f in a.features.iter().filter(|f| f.order == 2) {
            for p in &f.pair_effects {
                let significant = p.q_value.is_finite() && p.q_value <= a.constants.fdr;
                let tooltip = format!(
                    "Δpair({};{}) = {}%: accuracy {} with it against {} for {} alone ({} items), q = {}",
                    p.base,
                    p.added,
                    pp(p.delta_pair / 100.0),
                    pct(p.accuracy),
                    pct(p.base_accuracy),
                    p.base,
                    f.n,
                    q4(p.q_value)
                );
                cells.push((
                    p.base.as_str(),
                    p.added.as_str(),
                    Cell {
                        items: f.n,
                        value: p.delta_pair / 100.0,
                        significant,
                        tooltip,
                    },
                ));
            }
        }
        let max_abs = cells
            .iter()
            .filter(|c| c.2.value.is_finite())
            .map(|c| c.2.value.abs())
            .fold(0.0, f64::max);
        let grid = Grid {
            rows: &a.axis,
            cols: &a.axis,
            comparison: None,
            stats: &[],
        };
        let mut h = Self::assemble(
            &grid,
            label,
            None,
            cells,
            nice_scale(max_abs),
            0,
            a.constants.fdr,
            w.run.clone(),
        )?;
        h.pairs = Some(PairTexts {
            title: format!(
                "Pair effects Δpair(u;o) on {}, {} ({})",
                a.axis,
                w.run,
                w.benchmarks.join(", ")
            ),
        });
        Some(h)
    }

    /// Whether this is the weakness analysis's pair-effect heatmap.
    pub fn is_pair_effects(&self) -> bool {
        self.pairs.is_some()
    }

    pub fn title(&self) -> String {
        if let Some(p) = &self.pairs {
            return p.title.clone();
        }
        match self.run {
            None => format!(
                "{}: delta by {} and {}, {}",
                self.benchmark, self.row_axis, self.col_axis, self.what
            ),
            Some(run) => format!(
                "{}: accuracy by {} and {}, {}",
                self.benchmark, self.row_axis, self.col_axis, run
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slices::Item;

    #[test]
    fn cell_names_split_either_way_round() {
        assert_eq!(
            split_cell("operation=counting & task_type=mc", "operation", "task_type"),
            Some(("counting", "mc"))
        );
        assert_eq!(
            split_cell("operation=counting & task_type=mc", "task_type", "operation"),
            Some(("mc", "counting"))
        );
        assert_eq!(split_cell("operation=counting", "operation", "task_type"), None);
        assert_eq!(
            split_cell("background=x & operation=y", "operation", "task_type"),
            None
        );
    }

    #[test]
    fn every_pair_of_tags_with_items_is_a_cell() {
        let ds = Dataset {
            benchmarks: vec!["b".into()],
            tags: vec![
                "operation=add".into(),
                "operation=mul".into(),
                "task_type=mc".into(),
                "task_type=open".into(),
            ],
            items: vec![
                Item {
                    benchmark: 0,
                    task: "t".into(),
                    id: "1".into(),
                    tags: vec![0, 2],
                },
                Item {
                    benchmark: 0,
                    task: "t".into(),
                    id: "2".into(),
                    tags: vec![0, 1, 2],
                },
                Item {
                    benchmark: 0,
                    task: "t".into(),
                    id: "3".into(),
                    tags: vec![1],
                },
            ],
            ..Dataset::default()
        };
        let cells = cell_slices(&ds, "operation", "task_type");
        let got: Vec<(String, usize)> = cells.iter().map(|s| (s.name(&ds), s.items)).collect();
        assert_eq!(
            got,
            vec![
                ("operation=add & task_type=mc".to_string(), 2),
                ("operation=mul & task_type=mc".to_string(), 1),
            ]
        );
        assert!(cell_slices(&ds, "operation", "operation").is_empty());
    }
}
