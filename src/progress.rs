//! Progress of the pipeline's stages, on stderr: a bar (indicatif) when
//! stderr is a terminal, one plain line per finished stage otherwise (logs,
//! CI), nothing with `--quiet`. Stdout stays for results.
//!
//! A stage with a known amount of work shows a bar; with `total` 0 a
//! spinner. Every finished stage reports its elapsed time. Not for
//! messages or warnings: those go through the command's output.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    Bar,
}

/// Where progress goes for one command.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    mode: Mode,
}

impl Progress {
    /// Bars on a terminal, plain lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        };
        Progress { mode }
    }

    /// Start a stage with `total` units of work (0 when unknown).
    pub fn stage(&self, name: &str, total: u64) -> StageBar {
        let bar = (self.mode == Mode::Bar).then(|| {
            let bar = if total > 0 {
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            } else {
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            };
            let template = if total > 0 {
                "{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})"
            } else {
                "{prefix:>12} {spinner} {msg} ({elapsed})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        StageBar {
            name: name.to_string(),
            total,
            pos: AtomicU64::new(0),
            start: Instant::now(),
            mode: self.mode,
            bar,
            finished: false,
        }
    }
}

/// One running stage; report work with [`StageBar::inc`] (from any thread)
/// and end it with [`StageBar::finish`]. Dropped unfinished (an error), it
/// clears its bar and prints nothing.
#[derive(Debug)]
pub struct StageBar {
    name: String,
    total: u64,
    pos: AtomicU64,
    start: Instant,
    mode: Mode,
    bar: Option<ProgressBar>,
    finished: bool,
}

impl StageBar {
    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        self.pos.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Short text after the bar, e.g. the file being read.
    pub fn set_message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }

    /// End the stage and report its elapsed time.
    pub fn finish(mut self) {
        self.finished = true;
        let line = summary_line(
            &self.name,
            self.pos.load(Ordering::Relaxed),
            self.total,
            self.start.elapsed(),
        );
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if self.mode != Mode::Quiet {
            // A closed stderr is no reason to fail the run.
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

impl Drop for StageBar {
    fn drop(&mut self) {
        if !self.finished {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
        }
    }
}

/// `tag: 2400 of 2400 in 0.84 s`, or `tag: done in 0.84 s` without a total.
fn summary_line(name: &str, pos: u64, total: u64, elapsed: Duration) -> String {
    if total > 0 {
        format!("{name}: {pos} of {total} in {}", human(elapsed))
    } else {
        format!("{name}: done in {}", human(elapsed))
    }
}

/// `0.84 s`, `12.3 s`, `2 min 05 s`.
fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2} s")
    } else if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let whole = d.as_secs();
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_time_reads_naturally() {
        assert_eq!(human(Duration::from_millis(840)), "0.84 s");
        assert_eq!(human(Duration::from_millis(12_340)), "12.3 s");
        assert_eq!(human(Duration::from_secs(125)), "2 min 05 s");
    }

    #[test]
    fn summary_line_counts_work_when_known() {
        let d = Duration::from_millis(500);
        assert_eq!(summary_line("tag", 24, 24, d), "tag: 24 of 24 in 0.50 s");
        assert_eq!(summary_line("report", 0, 0, d), "report: done in 0.50 s");
    }

    #[test]
    fn quiet_progress_draws_no_bar() {
        let p = Progress::new(true);
        let s = p.stage("ingest", 10);
        s.inc(3);
        s.set_message("file");
        assert!(s.bar.is_none());
        assert_eq!(s.pos.load(Ordering::Relaxed), 3);
        s.finish();
    }
}
