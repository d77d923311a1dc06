//! Failure-mode breakdown of one diagnosed benchmark: for the baseline and
//! the candidate a horizontal bar of their samples' outcomes, stacked as
//! correct, then the format failures (empty, truncated, runaway, no answer)
//! and last the wrong answers. Format failures are warm (ColorBrewer OrRd),
//! wrong answers a cool blue-grey and correct answers a neutral grey-green,
//! so a grown warm part says at once that the drop is in the format, not in
//! the answers. Every segment wide enough carries its percentage; every
//! percentage is also in the diagnosis table beside the chart.

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;

use super::palette as pal;
use super::pen::{width, Anchor, ChartError, Font, Pen};
use crate::diagnose::failure::FailureMode;
use crate::diagnose::rules::ModeRates;
use crate::diagnose::{BenchmarkVerdict, Evidence, Verdict};
use crate::report::num::pct;

const W: f64 = 820.0;
const MARGIN: f64 = 16.0;
const LABEL_W: f64 = 150.0;
const BAR_X0: f64 = 180.0;
const BAR_X1: f64 = 680.0;
const HEAD_Y: f64 = 70.0;
const ROWS_Y: f64 = 82.0;
const ROW_H: f64 = 44.0;
const BAR_H: f64 = 28.0;
const H: f64 = ROWS_Y + 2.0 * ROW_H + 64.0;

/// Correct answers: a neutral grey-green.
const CORRECT: RGBColor = RGBColor(0xB4, 0xC4, 0xAE);
/// Wrong answers: a cool blue-grey.
const WRONG: RGBColor = RGBColor(0x6E, 0x84, 0x9C);

/// Colour of a failure mode: format failures from ColorBrewer OrRd (light
/// to dark, so they differ in lightness too), wrong answers blue-grey.
fn mode_color(m: FailureMode) -> RGBColor {
    match m {
        FailureMode::Empty => RGBColor(0xFD, 0xD4, 0x9E),
        FailureMode::Truncated => RGBColor(0xFC, 0x8D, 0x59),
        FailureMode::Runaway => RGBColor(0xD7, 0x30, 0x1F),
        FailureMode::NoAnswer => RGBColor(0x7F, 0x00, 0x00),
        FailureMode::Wrong => WRONG,
    }
}

/// The data of one failure-mode chart.
#[derive(Debug, Clone)]
pub struct Failures<'a> {
    pub benchmark: &'a str,
    /// Names of the runs.
    pub baseline: &'a str,
    pub candidate: &'a str,
    pub verdict: &'a BenchmarkVerdict,
    pub(super) suffix: usize,
}

/// One segment of a bar: its name, share and colour.
struct Segment {
    name: &'static str,
    share: f64,
    color: RGBColor,
}

/// A run's bar: correct first, then the modes in [`FailureMode::ALL`]
/// order. Missing or non-finite shares count as zero; correct is what the
/// modes leave.
fn segments(modes: &ModeRates) -> Vec<Segment> {
    let share = |m: &FailureMode| {
        modes
            .get(m)
            .copied()
            .filter(|x| x.is_finite())
            .unwrap_or(0.0)
            .clamp(0.0, 1.0)
    };
    let failed: f64 = FailureMode::ALL.iter().map(share).sum();
    let mut out = vec![Segment {
        name: "correct",
        share: (1.0 - failed).max(0.0),
        color: CORRECT,
    }];
    out.extend(FailureMode::ALL.iter().map(|m| Segment {
        name: m.as_str(),
        share: share(m),
        color: mode_color(*m),
    }));
    out
}

/// Share of samples failing by format.
fn format_share(modes: &ModeRates) -> f64 {
    modes
        .iter()
        .filter(|(m, x)| m.is_format() && x.is_finite())
        .map(|(_, x)| x.max(0.0))
        .sum()
}

impl<'a> Failures<'a> {
    /// The chart of `v`, with the runs named.
    pub fn new(v: &'a BenchmarkVerdict, baseline: &'a str, candidate: &'a str) -> Failures<'a> {
        Failures {
            benchmark: &v.benchmark,
            baseline,
            candidate,
            verdict: v,
            suffix: 0,
        }
    }

    /// Charts of every benchmark of `e` with a verdict other than `none`.
    pub fn build(e: &'a Evidence, benchmark: &str) -> Vec<Failures<'a>> {
        e.verdicts
            .iter()
            .filter(|v| v.benchmark == benchmark && v.verdict != Verdict::None)
            .map(|v| Failures::new(v, e.baseline.as_deref().unwrap_or("baseline"), &e.candidate))
            .collect()
    }

    pub fn title(&self) -> String {
        format!("Failure modes: {}", self.benchmark)
    }

    pub fn size(&self) -> (u32, u32) {
        (W as u32, H as u32)
    }

    fn x(share: f64) -> f64 {
        BAR_X0 + share * (BAR_X1 - BAR_X0)
    }

    pub(super) fn draw<DB: DrawingBackend>(&self, pen: &Pen<'_, DB>) -> Result<(), ChartError> {
        let title = Font::new(15.0, pal::TEXT).bold();
        let small = Font::new(11.0, pal::MUTED);
        let body = Font::new(11.5, pal::TEXT);
        let head = Font::new(11.0, pal::MUTED).bold();
        let f = &self.verdict.format;

        pen.label(
            &self.title(),
            None,
            W - 2.0 * MARGIN,
            (MARGIN, 20.0),
            title,
            Anchor::Start,
        )?;
        let sub = format!(
            "Share of each run's samples by outcome. Warm: format failures ({} → {}); blue-grey: wrong answers.",
            pct(format_share(&f.baseline_modes)),
            pct(format_share(&f.candidate_modes))
        );
        pen.label(&sub, None, W - 2.0 * MARGIN, (MARGIN, 42.0), small, Anchor::Start)?;

        pen.text("run", MARGIN, HEAD_Y, head, Anchor::Start)?;
        pen.text(
            "share of samples",
            (BAR_X0 + BAR_X1) / 2.0,
            HEAD_Y,
            head,
            Anchor::Middle,
        )?;
        pen.text("format failures", W - MARGIN, HEAD_Y, head, Anchor::End)?;

        let bottom = ROWS_Y + 2.0 * ROW_H;
        for tick in [0.25, 0.5, 0.75] {
            let x = Self::x(tick);
            pen.line(x, ROWS_Y, x, bottom, pal::GRID, 1.0)?;
        }
        let rows = [
            ("baseline", self.baseline, &f.baseline_modes),
            ("candidate", self.candidate, &f.candidate_modes),
        ];
        for (k, (role, run, modes)) in rows.into_iter().enumerate() {
            let cy = ROWS_Y + (k as f64 + 0.5) * ROW_H;
            self.bar(pen, (role, run), modes, cy, (body, small))?;
        }

        // Axis.
        pen.line(BAR_X0, bottom, BAR_X1, bottom, pal::AXIS, 1.0)?;
        for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let x = Self::x(tick);
            pen.line(x, bottom, x, bottom + 4.0, pal::AXIS, 1.0)?;
            pen.text(
                &format!("{:.0}%", 100.0 * tick),
                x,
                bottom + 14.0,
                small,
                Anchor::Middle,
            )?;
        }
        self.legend(pen, bottom + 42.0, small)
    }

    fn bar<DB: DrawingBackend>(
        &self,
        pen: &Pen<'_, DB>,
        (role, run): (&str, &str),
        modes: &ModeRates,
        cy: f64,
        (body, small): (Font, Font),
    ) -> Result<(), ChartError> {
        pen.text(role, MARGIN, cy - 7.0, body.bold(), Anchor::Start)?;
        pen.label(run, None, LABEL_W, (MARGIN, cy + 8.0), small, Anchor::Start)?;
        let (y0, y1) = (cy - BAR_H / 2.0, cy + BAR_H / 2.0);
        let mut at = 0.0;
        for s in segments(modes) {
            if s.share <= 0.0 {
                continue;
            }
            let (x0, x1) = (Self::x(at), Self::x((at + s.share).min(1.0)));
            at += s.share;
            pen.fill(x0, y0, x1, y1, s.color)?;
            let text = pct(s.share);
            let font = Font::new(10.5, pal::ink_on(s.color));
            if x1 - x0 >= width(&text, font)? + 6.0 {
                let tip = format!("{role} ({run}): {} {} of samples", s.name, text);
                pen.text_titled(&text, Some(&tip), (x0 + x1) / 2.0, cy, font, Anchor::Middle)?;
            }
        }
        pen.frame(BAR_X0, y0, BAR_X1, y1, pal::AXIS, 1.0)?;
        pen.text(
            &pct(format_share(modes)),
            W - MARGIN,
            cy,
            body.bold(),
            Anchor::End,
        )
    }

    fn legend<DB: DrawingBackend>(&self, pen: &Pen<'_, DB>, y: f64, small: Font) -> Result<(), ChartError> {
        let mut x = MARGIN;
        let items = std::iter::once(("correct", CORRECT))
            .chain(FailureMode::ALL.iter().map(|m| (m.as_str(), mode_color(*m))));
        for (text, color) in items {
            pen.fill(x, y - 6.0, x + 12.0, y + 6.0, color)?;
            pen.text(text, x + 18.0, y, small, Anchor::Start)?;
            x += 18.0 + width(text, small)? + 18.0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correct_is_what_the_modes_leave_in_a_fixed_order() {
        let modes: ModeRates = [
            (FailureMode::Wrong, 0.2),
            (FailureMode::Runaway, 0.3),
            (FailureMode::Empty, f64::NAN),
        ]
        .into_iter()
        .collect();
        let s = segments(&modes);
        let names: Vec<&str> = s.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            ["correct", "empty", "truncated", "runaway", "no_answer", "wrong"]
        );
        assert!((s[0].share - 0.5).abs() < 1e-12);
        assert_eq!(s[1].share, 0.0);
        assert!((format_share(&modes) - 0.3).abs() < 1e-12);
    }
}
