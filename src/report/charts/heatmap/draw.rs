//! Drawing a [`Heatmap`]: layout from the labels, cells, legend and notes.

use plotters::prelude::DrawingBackend;

use super::super::palette as pal;
use super::super::pen::{width, Anchor, ChartError, Font, Pen};
use super::{Cell, Heatmap};
use crate::report::num::{pct, pp};

const MARGIN: f64 = 16.0;
const CELL_H: f64 = 42.0;
const COL_LABEL_Y: f64 = 84.0;
const CELLS_Y: f64 = 98.0;

impl Heatmap<'_> {
    fn fonts() -> (Font, Font) {
        (Font::new(11.5, pal::TEXT), Font::new(11.0, pal::MUTED).bold())
    }

    /// (row label width, column width), from the labels.
    fn widths(&self) -> (f64, f64) {
        let (body, head) = Self::fonts();
        let label = self
            .rows
            .iter()
            .map(|r| width(r, body).unwrap_or(120.0))
            .fold(width(self.row_axis, head).unwrap_or(80.0), f64::max);
        let col = self
            .cols
            .iter()
            .map(|c| width(c, body).unwrap_or(80.0))
            .fold(0.0, f64::max);
        ((label + 14.0).clamp(90.0, 250.0), (col + 16.0).clamp(92.0, 160.0))
    }

    fn cells_bottom(&self) -> f64 {
        CELLS_Y + self.rows.len() as f64 * CELL_H
    }

    pub fn size(&self) -> (u32, u32) {
        let (label_w, col_w) = self.widths();
        let w = (2.0 * MARGIN + label_w + col_w * self.cols.len() as f64).max(620.0);
        let notes = if self.run.is_none() { 2.0 } else { 1.0 };
        (
            w.ceil() as u32,
            (self.cells_bottom() + 62.0 + 16.0 * notes).ceil() as u32,
        )
    }

    fn color(&self, value: f64) -> plotters::style::RGBColor {
        match self.run {
            None => pal::diverging(value, self.scale),
            Some(_) => pal::sequential(value),
        }
    }

    pub(in crate::report::charts) fn draw<DB: DrawingBackend>(
        &self,
        pen: &Pen<'_, DB>,
    ) -> Result<(), ChartError> {
        let (body, head) = Self::fonts();
        let small = Font::new(11.0, pal::MUTED);
        let (label_w, col_w) = self.widths();
        let w = f64::from(self.size().0);
        let x0 = MARGIN + label_w;

        pen.label(
            &self.title(),
            None,
            w - 2.0 * MARGIN,
            (MARGIN, 20.0),
            Font::new(15.0, pal::TEXT).bold(),
            Anchor::Start,
        )?;
        let sub = match self.run {
            None if self.pairs.is_some() => "Row u, column o: relative change of u's accuracy when o is also needed, in percent, and the items with both.",
            None => "Each cell: items with both tags; candidate minus baseline in percentage points, and the item count.",
            Some(_) => "Each cell: items with both tags; accuracy, and the item count.",
        };
        pen.label(sub, None, w - 2.0 * MARGIN, (MARGIN, 42.0), small, Anchor::Start)?;

        pen.label(
            &format!("{} ↓", self.row_axis),
            None,
            label_w - 8.0,
            (MARGIN, COL_LABEL_Y),
            head,
            Anchor::Start,
        )?;
        let grid_w = col_w * self.cols.len() as f64;
        pen.label(
            &format!("{} →", self.col_axis),
            None,
            grid_w,
            (x0 + grid_w / 2.0, COL_LABEL_Y - 18.0),
            head,
            Anchor::Middle,
        )?;
        for (j, c) in self.cols.iter().enumerate() {
            let cx = x0 + (j as f64 + 0.5) * col_w;
            pen.label(c, None, col_w - 8.0, (cx, COL_LABEL_Y), body, Anchor::Middle)?;
        }
        for (i, r) in self.rows.iter().enumerate() {
            let y = CELLS_Y + i as f64 * CELL_H;
            pen.label(
                r,
                None,
                label_w - 8.0,
                (MARGIN, y + CELL_H / 2.0),
                body,
                Anchor::Start,
            )?;
            for j in 0..self.cols.len() {
                let x = x0 + j as f64 * col_w;
                self.cell(pen, self.cells.get(&(i, j)), x, y, col_w)?;
            }
        }
        self.legend(pen, x0, self.cells_bottom() + 26.0, small)
    }

    fn cell<DB: DrawingBackend>(
        &self,
        pen: &Pen<'_, DB>,
        cell: Option<&Cell>,
        x: f64,
        y: f64,
        col_w: f64,
    ) -> Result<(), ChartError> {
        let (cx, cy) = (x + col_w / 2.0, y + CELL_H / 2.0);
        let Some(cell) = cell else {
            pen.fill(x + 1.0, y + 1.0, x + col_w - 1.0, y + CELL_H - 1.0, pal::EMPTY)?;
            return pen.text("–", cx, cy, Font::new(11.0, pal::MUTED), Anchor::Middle);
        };
        let mut bg = if cell.value.is_finite() {
            self.color(cell.value)
        } else {
            pal::EMPTY
        };
        if cell.items < self.min_items {
            bg = pal::fade(bg, 0.6);
        }
        pen.fill(x + 1.0, y + 1.0, x + col_w - 1.0, y + CELL_H - 1.0, bg)?;
        let ink = if cell.items < self.min_items {
            pal::MUTED
        } else {
            pal::ink_on(bg)
        };
        let value = match self.run {
            None => pp(cell.value),
            Some(_) => pct(cell.value),
        };
        pen.text_titled(
            &value,
            Some(&cell.tooltip),
            cx,
            cy - 7.0,
            Font::new(12.5, ink).bold(),
            Anchor::Middle,
        )?;
        pen.text(
            &format!("n={}", cell.items),
            cx,
            cy + 10.0,
            Font::new(10.0, ink),
            Anchor::Middle,
        )?;
        if cell.significant {
            pen.dot(x + col_w - 9.0, y + 9.0, 3.0, ink, true)?;
        }
        Ok(())
    }

    fn legend<DB: DrawingBackend>(
        &self,
        pen: &Pen<'_, DB>,
        x0: f64,
        y: f64,
        small: Font,
    ) -> Result<(), ChartError> {
        let bar_w = 240.0;
        let steps = 96;
        let (lo, hi) = match self.run {
            None => (-self.scale, self.scale),
            Some(_) => (0.0, 1.0),
        };
        for s in 0..steps {
            let v = lo + (hi - lo) * (s as f64 + 0.5) / steps as f64;
            let xa = x0 + bar_w * s as f64 / steps as f64;
            let xb = x0 + bar_w * (s + 1) as f64 / steps as f64;
            pen.fill(xa, y - 5.0, xb + 0.5, y + 5.0, self.color(v))?;
        }
        pen.frame(x0, y - 5.0, x0 + bar_w, y + 5.0, pal::FAINT, 1.0)?;
        let label = |v: f64| match self.run {
            None if v == 0.0 => "0".to_string(),
            None => format!("{:+.0}", 100.0 * v),
            Some(_) => format!("{:.0}%", 100.0 * v),
        };
        for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let v = lo + (hi - lo) * f;
            let x = x0 + bar_w * f;
            pen.line(x, y + 5.0, x, y + 8.0, pal::AXIS, 1.0)?;
            pen.text(&label(v), x, y + 17.0, small, Anchor::Middle)?;
        }
        let caption = match self.run {
            None if self.pairs.is_some() => "Δpair, %",
            None => "delta, pp",
            Some(_) => "accuracy",
        };
        pen.text(caption, x0 - 10.0, y, small, Anchor::End)?;
        let w = f64::from(self.size().0) - 2.0 * MARGIN;
        for (i, note) in self.notes().iter().enumerate() {
            pen.label(
                note,
                None,
                w,
                (MARGIN, y + 40.0 + 16.0 * i as f64),
                small,
                Anchor::Start,
            )?;
        }
        Ok(())
    }

    /// Lines under the colour bar.
    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.pairs.is_some() {
            notes.push(format!(
                "Red: harder together, blue: easier. Dot: q ≤ {} (two-proportion z-test, Benjamini–Hochberg over all pair effects).",
                self.fdr
            ));
            notes.push("–: fewer items with both than θ (not evaluated).".to_string());
            return notes;
        }
        if self.run.is_none() {
            notes.push(format!(
                "Red: regressed, blue: improved. Dot: q ≤ {} (Benjamini–Hochberg over these cells).",
                self.fdr
            ));
        }
        if self.min_items > 0 {
            notes.push(format!(
                "Faded: fewer than {} items. –: no item has both tags.",
                self.min_items
            ));
        } else {
            notes.push("–: no item has both tags.".to_string());
        }
        notes
    }
}
