//! The command line: one file per subcommand, each thin (args -> library
//! call -> output).

mod apply;
mod check;
mod compare;
mod demo;
mod diagnose;
mod ingest;
mod labels;
mod plan;
mod run;
mod synth;
mod tag;
mod verify;

use std::fmt::Display;
use std::io::Write;

use clap::{Parser, Subcommand};

use crate::error::{ExitCode, Result};

#[derive(Debug, Parser)]
#[command(
    name = "caploop",
    version,
    about = "From per-sample evaluation logs to capability slices, honest checkpoint comparisons and targeted data plans",
    after_help = "Exit codes: 0 success; 1 the run completed and a check failed; 2 the tool could not do its job (bad input, bad config, I/O)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole loop on a built-in synthetic evaluation.
    Demo(demo::Args),
    /// Run the whole pipeline from one pipeline config.
    Run(run::Args),
    /// Read evaluation logs into the canonical sample table (Parquet).
    Ingest(ingest::Args),
    /// Tag every item of a sample table with capability slices.
    Tag(tag::Args),
    /// Compare two runs slice by slice, item by item.
    Compare(compare::Args),
    /// Decide whether a regression is a data problem, and where.
    Diagnose(diagnose::Args),
    /// Turn a diagnosis into a data plan: interventions, mixture, hypotheses.
    Plan(plan::Args),
    /// Write a synthetic evaluation with planted effects.
    Synth(synth::Args),
    /// Check a plan's hypotheses against the next evaluation (exit 1 when one is refuted).
    Verify(verify::Args),
    /// Validate taxonomy, mapping and pipeline configs.
    Check(check::Args),
    /// Imported labels: export the items to label, with the schema and an instruction.
    #[command(subcommand)]
    Labels(labels::Command),
    /// Select documents from a corpus for a plan (mixture, weak features), optionally as a Spark job.
    Apply(apply::Args),
}

/// Where messages go: stdout unless `--quiet`. A closed pipe ends the
/// program quietly with success (like ripgrep).
#[derive(Debug, Clone, Copy)]
pub struct Out {
    pub quiet: bool,
}

impl Out {
    pub fn say(&self, msg: impl Display) {
        if self.quiet {
            return;
        }
        let mut o = std::io::stdout().lock();
        if let Err(e) = writeln!(o, "{msg}") {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }
}

/// Dispatch a parsed command line.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let out = Out { quiet: cli.quiet };
    match cli.command {
        Command::Demo(a) => demo::run(a, out),
        Command::Run(a) => run::run(a, out),
        Command::Ingest(a) => ingest::run(a, out),
        Command::Tag(a) => tag::run(a, out),
        Command::Compare(a) => compare::run(a, out),
        Command::Diagnose(a) => diagnose::run(a, out),
        Command::Plan(a) => plan::run(a, out),
        Command::Synth(a) => synth::run(a, out),
        Command::Verify(a) => verify::run(a, out),
        Command::Check(a) => check::run(a, out),
        Command::Labels(c) => labels::run(c, out),
        Command::Apply(a) => apply::run(a, out),
    }
}

/// The verdicts of a diagnosis, one line per diagnosed benchmark.
pub(crate) fn say_verdicts(e: &crate::diagnose::Evidence, out: Out) {
    for w in &e.warnings {
        out.say(format!("warning: {w}"));
    }
    out.say(format!("diagnosis: {} ({})", e.verdict.as_str(), e.reason));
    for v in e
        .verdicts
        .iter()
        .filter(|v| v.verdict != crate::diagnose::Verdict::None)
    {
        out.say(format!(
            "  {:<12} {:<13} {}",
            v.benchmark,
            v.verdict.as_str(),
            v.reason
        ));
        if let Some(f) = &v.fix {
            out.say(format!("  {:<12} fix: {}", "", f.kind));
        }
        if let Some(line) = crate::diagnose::weakness::kind_line(v) {
            out.say(format!("  {:<12} {line}", ""));
        }
    }
    for line in crate::diagnose::weakness::summary_lines(&e.weakness, 3) {
        out.say(line);
    }
}

/// The interventions of a plan, one line each.
pub(crate) fn say_plan(p: &crate::plan::Plan, out: Out) {
    out.say(format!(
        "plan: {} interventions, {} unmapped weak slices, mixture {}",
        p.interventions.len(),
        p.unmapped.len(),
        if p.mixture.changed { "changed" } else { "unchanged" }
    ));
    for i in &p.interventions {
        out.say(format!("  {:<4} {:<14} {}", i.id, i.kind.as_str(), i.summary));
    }
}

/// The outcome of a verification, one line per check.
pub(crate) fn say_verification(v: &crate::verify::Verification, out: Out) {
    out.say(format!("verify {} -> {}: {}", v.baseline, v.candidate, v.result));
    for t in &v.targets {
        let m = t.measured.as_ref().map_or("not measurable".to_string(), |m| {
            format!(
                "{:+.1} pp [{:+.1}, {:+.1}]",
                100.0 * m.delta,
                100.0 * m.ci_low,
                100.0 * m.ci_high
            )
        });
        out.say(format!(
            "  {:<4} {:<13} {:<8} {} (predicted >= {:+.1} pp): {m}",
            t.hypothesis,
            t.outcome.as_str(),
            t.benchmark,
            t.slice,
            100.0 * t.min_effect
        ));
    }
    for g in &v.guardrails {
        out.say(format!(
            "  guard {:<12} {:<8} {}",
            g.outcome.as_str(),
            g.benchmark,
            g.slice
        ));
    }
    if !v.collateral.is_empty() {
        out.say(format!(
            "  {} collateral regressions outside the plan, first: {} on {}",
            v.collateral.len(),
            v.collateral[0].slice,
            v.collateral[0].benchmark
        ));
    }
}

/// One line per benchmark: the headline of a comparison.
pub(crate) fn summarize(c: &crate::slices::Comparison, out: Out) {
    for p in &c.pairing {
        if let Some(o) = c.overall(&p.benchmark) {
            let regressed = c
                .slices
                .iter()
                .filter(|s| {
                    s.benchmark == p.benchmark
                        && s.slice != "*"
                        && s.status == crate::slices::Status::Regressed
                })
                .count();
            out.say(format!(
                "  {:<12} {:>6} items  {:>5.1}% -> {:>5.1}%  ({:+.1} pp, {})  {} regressed slices",
                p.benchmark,
                o.paired.items,
                100.0 * o.paired.baseline_mean,
                100.0 * o.paired.candidate_mean,
                100.0 * o.paired.delta,
                o.status.as_str(),
                regressed
            ));
        }
    }
}
