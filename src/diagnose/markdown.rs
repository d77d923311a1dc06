//! The diagnosis section of `report.md`: verdicts first, with the evidence
//! chain a reviewer can check (deltas, the content / format split, failure
//! modes, re-scoring, discovered slices with example items).

use std::fmt::Write;

use super::{DiscoveredSlice, Evidence};
use crate::report::num::{pct, pp_unit};
use crate::report::rows::{example_ids, HealthRow, HEALTH_COLUMNS};
use crate::report::text::md_cell;

fn slice_table(out: &mut String, rows: &[DiscoveredSlice], what: &str) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| {what} | items | score | in slice | elsewhere | difference [95% CI] | q | scored on their form (baseline -> candidate) | examples |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|---|---|");
    for s in rows {
        let _ = writeln!(
            out,
            "| `{}`{} | {} | {:.3} | {} | {} | {} [{}, {}] | {:.2e} | {} | {} |",
            md_cell(&s.slice),
            if s.significant { " **✓**" } else { "" },
            s.items,
            s.score,
            pp_unit(s.effect_in).trim_start_matches('+'),
            pp_unit(s.effect_out).trim_start_matches('+'),
            pp_unit(s.effect_diff),
            pp_unit(s.ci_low),
            pp_unit(s.ci_high),
            s.q_value,
            s.format_rates.as_ref().map_or("–".to_string(), |f| format!(
                "{} -> {}",
                pct(f.baseline_affected),
                pct(f.candidate_affected)
            )),
            example_ids(&s.example_items)
                .iter()
                .map(|i| format!("`{}`", md_cell(i)))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    let _ = writeln!(out);
}

/// Format-health warnings, for the top of a report.
pub fn warnings(e: &Evidence) -> String {
    let mut out = String::new();
    if e.warnings.is_empty() {
        return out;
    }
    let _ = writeln!(out, "## Format health warnings\n");
    for w in &e.warnings {
        let _ = writeln!(out, "- **warning:** {}", md_cell(w));
    }
    let _ = writeln!(out);
    out
}

/// Format health and the answer audit (PAPER.md section 4) of every run.
fn health(out: &mut String, e: &Evidence) {
    if e.format_health.is_empty() {
        return;
    }
    let _ = writeln!(out, "### Format health and answer audit\n");
    let _ = writeln!(out, "Every run, whether or not it regressed: scored generative samples; extraction failures, generation limit hit, run-on after the first complete answer; accuracy as scored and when the first complete answer is re-scored; the answer audit (gold answer as a prefix of the filtered answer, accepted when it is, an extra suffix after it, suffix and answer lengths in characters, nearest-rank p50/p90).\n");
    let _ = writeln!(out, "| {} |", HEALTH_COLUMNS.join(" | "));
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|"
    );
    for h in &e.format_health {
        let row = HealthRow::of(h);
        let starts: Vec<String> = row
            .suffix_starts
            .iter()
            .map(|(s, n)| format!("`{}` {n}", md_cell(s)))
            .collect();
        let _ = writeln!(
            out,
            "| {}{} | {} | {} | {} |",
            md_cell(row.run),
            if row.warned { " ⚠" } else { "" },
            md_cell(row.benchmark),
            row.figures.join(" | "),
            if starts.is_empty() {
                "–".to_string()
            } else {
                starts.join(", ")
            }
        );
    }
    let _ = writeln!(out);
}

/// Render the diagnosis section.
pub fn render(e: &Evidence) -> String {
    let mut out = String::new();
    out.push_str(&warnings(e));
    let _ = writeln!(out, "## Diagnosis: {}\n", e.verdict.as_str());
    let _ = writeln!(out, "{}\n", md_cell(&e.reason));
    if !e.verdicts.is_empty() {
        let _ = writeln!(out, "| benchmark | verdict | delta | format cost [95% CI] | content: items well-formed in both runs, delta [95% CI] | format failures | re-scored first answers | fix |");
        let _ = writeln!(out, "|---|---|---:|---:|---:|---|---:|---|");
        for v in &e.verdicts {
            let _ = writeln!(
                out,
                "| {} | **{}** | {} | {} [{}, {}] | {} items: {} [{}, {}] | {} -> {} | {} | {} |",
                md_cell(&v.benchmark),
                v.verdict.as_str(),
                pp_unit(v.delta),
                pp_unit(v.format.contribution),
                pp_unit(v.format.ci_low),
                pp_unit(v.format.ci_high),
                v.content.items,
                pp_unit(v.content.delta),
                pp_unit(v.content.ci_low),
                pp_unit(v.content.ci_high),
                pct(v.format.baseline_rate),
                pct(v.format.candidate_rate),
                pct(v.rescore.rescored_mean),
                v.fix
                    .as_ref()
                    .map_or("–".to_string(), |f| format!("`{}`", f.kind))
            );
        }
        let _ = writeln!(out);
    }
    for v in &e.verdicts {
        if v.verdict == super::Verdict::None {
            continue;
        }
        let _ = writeln!(out, "### {} — {}\n", md_cell(&v.benchmark), v.verdict.as_str());
        let _ = writeln!(out, "{}.\n", md_cell(&v.reason));
        if let Some(f) = &v.fix {
            let _ = writeln!(
                out,
                "Fix (`{}`, rule `{}`): {}\n",
                f.kind,
                f.rule,
                md_cell(&f.action)
            );
        }
        let modes: Vec<String> = v
            .format
            .candidate_modes
            .iter()
            .map(|(m, c)| {
                let b = v.format.baseline_modes.get(m).copied().unwrap_or(0.0);
                format!("{} {} -> {}", m.as_str(), pct(b), pct(*c))
            })
            .collect();
        let _ = writeln!(
            out,
            "Failure modes (share of samples, baseline -> candidate): {}.\n",
            modes.join(", ")
        );
        slice_table(&mut out, &v.slices, "where the regression concentrates");
        slice_table(&mut out, &v.weak_slices, "where the candidate is weakest");
    }
    for w in &e.weak {
        let _ = writeln!(
            out,
            "### {} — weak slices of {}\n",
            md_cell(&w.benchmark),
            md_cell(&w.run)
        );
        slice_table(&mut out, &w.slices, "slice");
        if let Some(t) = w.target {
            let _ = writeln!(
                out,
                "Below the target of {}: {}\n",
                pct(t),
                if w.below_target.is_empty() {
                    "none".to_string()
                } else {
                    w.below_target
                        .iter()
                        .map(|x| format!("`{}`", md_cell(x)))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            );
        }
    }
    health(&mut out, e);
    out.push_str(&super::weakness::markdown::section(e));
    if !e.persistent.is_empty() {
        let _ = writeln!(out, "### Weak in every run\n");
        for p in &e.persistent {
            let means: Vec<String> = p
                .runs
                .iter()
                .zip(&p.means)
                .map(|(r, m)| format!("{} {}", md_cell(r), pct(*m)))
                .collect();
            let _ = writeln!(
                out,
                "- **{}** `{}`: {}",
                md_cell(&p.benchmark),
                md_cell(&p.slice),
                means.join(", ")
            );
        }
        let _ = writeln!(out);
    }
    out.push_str(&super::gaps::markdown(&e.gaps));
    out
}
