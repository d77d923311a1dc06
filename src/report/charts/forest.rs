//! Forest plot of one benchmark's slice deltas: a row per slice with the
//! paired delta (candidate − baseline) and its confidence interval, the
//! whole benchmark on top, a zero line and the benchmark's delta as a
//! dashed reference. Filled points are significant after
//! Benjamini–Hochberg (q ≤ FDR); colour says regressed (red) or improved
//! (blue), grey otherwise.
//!
//! With more than [`MAX_ROWS`] slices the plot keeps the significant ones
//! and then the largest other changes, and says how many it shows; every
//! slice is in `comparison.csv` and in the report's tables.

use plotters::prelude::DrawingBackend;

use super::palette as pal;
use super::pen::{fit, width, Anchor, ChartError, Font, Pen};
use crate::report::num::pp;
use crate::slices::{Comparison, SliceComparison, Status};

/// Most slices drawn in one plot.
pub const MAX_ROWS: usize = 40;

const W: f64 = 960.0;
const MARGIN: f64 = 16.0;
const LABEL_W: f64 = 340.0;
const PLOT_X0: f64 = 372.0;
const PLOT_X1: f64 = 732.0;
const DELTA_X: f64 = 748.0;
const ROW_H: f64 = 20.0;
const HEAD_Y: f64 = 70.0;
const ROWS_Y: f64 = 82.0;
/// Space between the whole-benchmark row and the slices.
const GAP: f64 = 8.0;

/// The data of one forest plot.
#[derive(Debug, Clone)]
pub struct Forest<'a> {
    pub benchmark: &'a str,
    pub baseline: &'a str,
    pub candidate: &'a str,
    /// The whole benchmark (slice `*`).
    pub overall: Option<&'a SliceComparison>,
    /// Slices drawn, most negative delta first.
    pub rows: Vec<&'a SliceComparison>,
    /// Slices of the benchmark (without `*`).
    pub total: usize,
    pub fdr: f64,
    pub confidence: f64,
    pub(super) suffix: usize,
}

/// Sort key: most negative delta first, not-a-number last, ties by name.
fn by_delta(a: &SliceComparison, b: &SliceComparison) -> std::cmp::Ordering {
    a.paired
        .delta
        .is_nan()
        .cmp(&b.paired.delta.is_nan())
        .then_with(|| a.paired.delta.total_cmp(&b.paired.delta))
        .then_with(|| a.slice.cmp(&b.slice))
}

/// Size of a change for choosing rows; not-a-number counts as none.
fn magnitude(s: &SliceComparison) -> f64 {
    if s.paired.delta.is_nan() {
        -1.0
    } else {
        s.paired.delta.abs()
    }
}

fn significant(s: &SliceComparison) -> bool {
    matches!(s.status, Status::Regressed | Status::Improved)
}

impl<'a> Forest<'a> {
    /// The plot of `benchmark`, if the comparison has any row of it.
    pub fn build(c: &'a Comparison, benchmark: &'a str) -> Option<Forest<'a>> {
        let overall = c.overall(benchmark);
        let mut rows: Vec<&SliceComparison> = c
            .slices
            .iter()
            .filter(|s| s.benchmark == benchmark && s.slice != "*")
            .collect();
        if rows.is_empty() && overall.is_none() {
            return None;
        }
        let total = rows.len();
        if rows.len() > MAX_ROWS {
            // Significant first, then the largest changes.
            rows.sort_by(|a, b| {
                significant(b)
                    .cmp(&significant(a))
                    .then_with(|| magnitude(b).total_cmp(&magnitude(a)))
                    .then_with(|| a.slice.cmp(&b.slice))
            });
            rows.truncate(MAX_ROWS);
        }
        rows.sort_by(|a, b| by_delta(a, b));
        Some(Forest {
            benchmark,
            baseline: &c.baseline,
            candidate: &c.candidate,
            overall,
            rows,
            total,
            fdr: c.settings.fdr,
            confidence: c.settings.confidence,
            suffix: 0,
        })
    }

    pub fn title(&self) -> String {
        format!(
            "{}: slice deltas, {} vs {}",
            self.benchmark, self.candidate, self.baseline
        )
    }

    fn n_rows(&self) -> usize {
        self.rows.len() + usize::from(self.overall.is_some())
    }

    fn rows_bottom(&self) -> f64 {
        ROWS_Y + self.n_rows() as f64 * ROW_H + if self.overall.is_some() { GAP } else { 0.0 }
    }

    pub fn size(&self) -> (u32, u32) {
        (W as u32, (self.rows_bottom() + 92.0).ceil() as u32)
    }

    /// Domain of the x axis in percentage points: every point and
    /// interval, and zero, with a little room; within ±100.
    fn domain(&self) -> (f64, f64) {
        let mut lo: f64 = 0.0;
        let mut hi: f64 = 0.0;
        for s in self.rows.iter().copied().chain(self.overall) {
            for v in [s.paired.delta, s.paired.ci_low, s.paired.ci_high] {
                if v.is_finite() {
                    lo = lo.min(100.0 * v);
                    hi = hi.max(100.0 * v);
                }
            }
        }
        let pad = ((hi - lo) * 0.04).max(0.5);
        ((lo - pad).max(-100.0), (hi + pad).min(100.0))
    }

    fn x(&self, pp_value: f64, (lo, hi): (f64, f64)) -> f64 {
        PLOT_X0 + (pp_value - lo) / (hi - lo) * (PLOT_X1 - PLOT_X0)
    }

    pub(super) fn draw<DB: DrawingBackend>(&self, pen: &Pen<'_, DB>) -> Result<(), ChartError> {
        let title = Font::new(15.0, pal::TEXT).bold();
        let small = Font::new(11.0, pal::MUTED);
        let body = Font::new(11.5, pal::TEXT);
        let head = Font::new(11.0, pal::MUTED).bold();

        pen.label(
            &self.title(),
            None,
            W - 2.0 * MARGIN,
            (MARGIN, 20.0),
            title,
            Anchor::Start,
        )?;
        let shown = if self.rows.len() < self.total {
            format!(
                "; {} of {} slices: the significant ones, then the largest changes",
                self.rows.len(),
                self.total
            )
        } else {
            String::new()
        };
        let sub = format!(
            "Candidate minus baseline in percentage points, {:.0}% CI. Filled: q ≤ {} (Benjamini–Hochberg){shown}.",
            100.0 * self.confidence,
            self.fdr
        );
        pen.label(&sub, None, W - 2.0 * MARGIN, (MARGIN, 42.0), small, Anchor::Start)?;

        pen.text("slice", MARGIN, HEAD_Y, head, Anchor::Start)?;
        pen.text(
            "delta, pp",
            (PLOT_X0 + PLOT_X1) / 2.0,
            HEAD_Y,
            head,
            Anchor::Middle,
        )?;
        pen.text("delta [CI]", DELTA_X, HEAD_Y, head, Anchor::Start)?;
        pen.text("items", W - MARGIN, HEAD_Y, head, Anchor::End)?;

        let dom = self.domain();
        let bottom = self.rows_bottom();
        let ticks = nice_ticks(dom.0, dom.1);

        // Row bands, then grid, then marks on top.
        let mut ys = Vec::with_capacity(self.n_rows());
        let mut y = ROWS_Y;
        if self.overall.is_some() {
            ys.push(y + ROW_H / 2.0);
            y += ROW_H + GAP;
        }
        for _ in &self.rows {
            ys.push(y + ROW_H / 2.0);
            y += ROW_H;
        }
        for (i, cy) in ys.iter().enumerate() {
            if i % 2 == 0 {
                pen.fill(
                    MARGIN - 4.0,
                    cy - ROW_H / 2.0,
                    W - MARGIN + 4.0,
                    cy + ROW_H / 2.0,
                    pal::BAND,
                )?;
            }
        }
        for &t in &ticks {
            let x = self.x(t, dom);
            pen.line(
                x,
                ROWS_Y - 2.0,
                x,
                bottom,
                if t == 0.0 { pal::AXIS } else { pal::GRID },
                1.0,
            )?;
        }
        if let Some(o) = self.overall {
            if o.paired.delta.is_finite() {
                pen.dashed_vline(
                    self.x(100.0 * o.paired.delta, dom),
                    ROWS_Y - 2.0,
                    bottom,
                    pal::NEUTRAL,
                    1.0,
                )?;
            }
        }

        let all = self.overall.into_iter().chain(self.rows.iter().copied());
        for (s, &cy) in all.zip(&ys) {
            self.row(pen, s, cy, dom, body)?;
        }

        // Axis.
        pen.line(PLOT_X0, bottom, PLOT_X1, bottom, pal::AXIS, 1.0)?;
        let step = ticks.get(1).zip(ticks.first()).map_or(1.0, |(b, a)| b - a);
        for &t in &ticks {
            let x = self.x(t, dom);
            pen.line(x, bottom, x, bottom + 4.0, pal::AXIS, 1.0)?;
            pen.text(&tick_label(t, step), x, bottom + 14.0, small, Anchor::Middle)?;
        }
        // Direction words either side of zero, where they fit.
        let zero = self.x(0.0, dom);
        let (worse, better) = ("← candidate worse", "candidate better →");
        if zero - PLOT_X0 >= width(worse, small)? + 8.0 {
            pen.text(worse, zero - 8.0, bottom + 32.0, small, Anchor::End)?;
        }
        if PLOT_X1 - zero >= width(better, small)? + 8.0 {
            pen.text(better, zero + 8.0, bottom + 32.0, small, Anchor::Start)?;
        }
        self.legend(pen, bottom + 58.0, small)
    }

    fn row<DB: DrawingBackend>(
        &self,
        pen: &Pen<'_, DB>,
        s: &SliceComparison,
        cy: f64,
        dom: (f64, f64),
        body: Font,
    ) -> Result<(), ChartError> {
        let color = match s.status {
            Status::Regressed => pal::REGRESSED,
            Status::Improved => pal::IMPROVED,
            Status::Stable => pal::NEUTRAL,
            Status::Underpowered => pal::FAINT,
        };
        let is_all = s.slice == "*";
        let name = if is_all { "all items (*)" } else { s.slice.as_str() };
        let tip = super::slice_tooltip(s);
        let font = if is_all { body.bold() } else { body };
        pen.label(name, Some(&tip), LABEL_W, (MARGIN, cy), font, Anchor::Start)?;
        if s.paired.ci_low.is_finite() && s.paired.ci_high.is_finite() {
            let (x0, x1) = (
                self.x(100.0 * s.paired.ci_low, dom),
                self.x(100.0 * s.paired.ci_high, dom),
            );
            pen.line(x0, cy, x1, cy, color, 1.5)?;
            pen.line(x0, cy - 4.0, x0, cy + 4.0, color, 1.5)?;
            pen.line(x1, cy - 4.0, x1, cy + 4.0, color, 1.5)?;
        }
        if s.paired.delta.is_finite() {
            let filled = s.paired.q_value.is_finite() && s.paired.q_value <= self.fdr;
            pen.dot(
                self.x(100.0 * s.paired.delta, dom),
                cy,
                if is_all { 5.0 } else { 4.0 },
                color,
                filled,
            )?;
        }
        let text = format!(
            "{} [{}, {}]",
            pp(s.paired.delta),
            pp(s.paired.ci_low),
            pp(s.paired.ci_high)
        );
        let (text, _) = fit(&text, W - MARGIN - 44.0 - DELTA_X, body)?;
        pen.text_titled(&text, Some(&tip), DELTA_X, cy, font, Anchor::Start)?;
        pen.text(&s.paired.items.to_string(), W - MARGIN, cy, body, Anchor::End)
    }

    fn legend<DB: DrawingBackend>(&self, pen: &Pen<'_, DB>, y: f64, small: Font) -> Result<(), ChartError> {
        let mut x = MARGIN;
        let items: [(&str, Mark); 5] = [
            ("regressed", Mark::Dot(pal::REGRESSED, true)),
            ("improved", Mark::Dot(pal::IMPROVED, true)),
            ("not significant", Mark::Dot(pal::NEUTRAL, false)),
            ("underpowered", Mark::Dot(pal::FAINT, false)),
            ("whole benchmark", Mark::Dashed),
        ];
        for (text, mark) in items {
            match mark {
                Mark::Dot(c, filled) => {
                    pen.line(x, y, x + 16.0, y, c, 1.5)?;
                    pen.dot(x + 8.0, y, 4.0, c, filled)?;
                }
                Mark::Dashed => pen.dashed_vline(x + 8.0, y - 7.0, y + 7.0, pal::NEUTRAL, 1.0)?,
            }
            pen.text(text, x + 22.0, y, small, Anchor::Start)?;
            x += 22.0 + width(text, small)? + 18.0;
        }
        Ok(())
    }
}

/// A legend entry's symbol.
enum Mark {
    Dot(plotters::style::RGBColor, bool),
    Dashed,
}

/// Round tick positions covering [lo, hi], at most nine, at 1, 2, 2.5
/// or 5 times a power of ten; always including zero when in range.
pub fn nice_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return vec![0.0];
    }
    let raw = (hi - lo) / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| i as f64 * step)
        .map(|t| if t == 0.0 { 0.0 } else { t })
        .collect()
}

fn tick_label(t: f64, step: f64) -> String {
    let whole = |x: f64| (x - x.round()).abs() < 1e-9;
    let decimals = if whole(step) {
        0
    } else if whole(step * 10.0) {
        1
    } else {
        2
    };
    let s = format!("{t:+.decimals$}");
    if t == 0.0 {
        "0".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(nice_ticks(-44.0, 2.0), vec![-40.0, -30.0, -20.0, -10.0, 0.0]);
        assert_eq!(
            nice_ticks(-5.5, 1.8),
            vec![-5.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0]
        );
        assert_eq!(nice_ticks(0.0, 0.0), vec![0.0]);
        assert_eq!(tick_label(-20.0, 10.0), "-20");
        assert_eq!(tick_label(0.0, 10.0), "0");
        assert_eq!(tick_label(2.5, 2.5), "+2.5");
    }
}
