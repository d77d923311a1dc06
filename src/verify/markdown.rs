//! `verify.md` and the verification section of the report.

use std::fmt::Write;

use super::Verification;
use crate::report::num::pp_signed;
use crate::stats::PairedDelta;

fn measured(m: &Option<PairedDelta>) -> String {
    match m {
        Some(m) => format!(
            "{} items, {:.3} -> {:.3}, delta {} pp [{}, {}], q {:.2e}",
            m.items,
            m.baseline_mean,
            m.candidate_mean,
            pp_signed(m.delta),
            pp_signed(m.ci_low),
            pp_signed(m.ci_high),
            m.q_value
        ),
        None => "not measurable (no paired item)".into(),
    }
}

/// The verification as a markdown section (`##` headings).
pub fn section(v: &Verification) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Verification: {} -> {}\n\n**{}**: {} of {} targets confirmed, {} refuted, {} underpowered; {} of {} guardrails broken; {} collateral regressions.\n",
        v.baseline,
        v.candidate,
        v.result,
        v.targets.iter().filter(|t| t.outcome == super::Outcome::Confirmed).count(),
        v.targets.len(),
        v.targets.iter().filter(|t| t.outcome == super::Outcome::Refuted).count(),
        v.targets.iter().filter(|t| t.outcome == super::Outcome::Underpowered).count(),
        v.guardrails.iter().filter(|g| g.outcome == super::Outcome::Broken).count(),
        v.guardrails.len(),
        v.collateral.len()
    );
    let _ = writeln!(out, "| hypothesis | target | predicted | measured | outcome |");
    let _ = writeln!(out, "|---|---|---:|---|---|");
    for t in &v.targets {
        let _ = writeln!(
            out,
            "| {} ({}, {}) | `{}` on {} | >= {} pp | {} | **{}** |",
            t.hypothesis,
            t.intervention,
            t.kind,
            t.slice,
            t.benchmark,
            pp_signed(t.min_effect),
            measured(&t.measured),
            t.outcome.as_str()
        );
    }
    if !v.guardrails.is_empty() {
        let _ = writeln!(out, "\n| guardrail | for | may drop | measured | outcome |");
        let _ = writeln!(out, "|---|---|---:|---|---|");
        for g in &v.guardrails {
            let _ = writeln!(
                out,
                "| `{}` on {} | {} | {:.1} pp | {} | **{}** |",
                g.slice,
                g.benchmark,
                g.hypotheses.join(", "),
                100.0 * g.max_drop,
                measured(&g.measured),
                g.outcome.as_str()
            );
        }
    }
    if !v.collateral.is_empty() {
        let _ = writeln!(out, "\nCollateral regressions (outside the plan's slices):\n");
        for c in v.collateral.iter().take(20) {
            let _ = writeln!(
                out,
                "- `{}` on {}: {} items, {} pp [{}, {}], q {:.2e}",
                c.slice,
                c.benchmark,
                c.paired.items,
                pp_signed(c.paired.delta),
                pp_signed(c.paired.ci_low),
                pp_signed(c.paired.ci_high),
                c.paired.q_value
            );
        }
        if v.collateral.len() > 20 {
            let _ = writeln!(out, "- ... {} more in verify.json", v.collateral.len() - 20);
        }
    }
    for c in &v.eval_changes {
        let _ = writeln!(
            out,
            "\nEvaluation change (verified anyway): {}: {}",
            c.benchmark, c.what
        );
    }
    for n in &v.notes {
        let _ = writeln!(out, "\nNote: {n}");
    }
    out.push('\n');
    out
}

/// `verify.md`.
pub fn render(v: &Verification) -> String {
    let mut out = format!(
        "# caploop verification\n\nPlan `{}` (sha256 `{}`), samples `{}`. Alpha {}.\n\n",
        v.plan.path, v.plan.sha256, v.samples, v.alpha
    );
    out.push_str(&section(v));
    out
}
