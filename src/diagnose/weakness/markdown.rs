//! The weakness section of `report.md` (and of `caploop diagnose`'s
//! report): the kind of each `data_in` verdict, the feature pool with its
//! terms and tests, and the strongest pair and composition effects.

use std::fmt::Write;

use super::{Feature, WeaknessReport};
use crate::diagnose::Evidence;
use crate::report::num::{fixed, pct, q3};
use crate::report::rows::weakness_kinds;
use crate::report::text::md_cell;

/// The strongest effect of a feature, in words.
fn effect(f: &Feature) -> String {
    if let Some(p) = f
        .pair_effects
        .iter()
        .min_by(|a, b| a.delta_pair.total_cmp(&b.delta_pair))
    {
        return format!(
            "Δpair({};{}) {}% (q {})",
            md_cell(&p.base),
            md_cell(&p.added),
            fixed(p.delta_pair, 1),
            q3(p.q_value)
        );
    }
    if let Some(c) = f.composition_effects.iter().min_by(|a, b| a.c.total_cmp(&b.c)) {
        return format!(
            "C({}; {}) {}% (q {})",
            md_cell(&c.base),
            md_cell(&c.parts.join(", ")),
            fixed(c.c, 1),
            q3(c.q_value)
        );
    }
    "–".into()
}

/// The section, empty when there is nothing to say.
pub fn section(e: &Evidence) -> String {
    let mut out = String::new();
    let kinds: Vec<String> = weakness_kinds(e)
        .iter()
        .map(|k| {
            format!(
                "- **{}**: {} — {}, from `{}`",
                md_cell(k.benchmark),
                k.kind.as_str(),
                k.kind.words(),
                md_cell(k.slice)
            )
        })
        .collect();
    let w: &WeaknessReport = &e.weakness;
    let a = &w.analysis;
    if kinds.is_empty() && a.pool().next().is_none() {
        return out;
    }
    let _ = writeln!(out, "## Weakness (PAPER.md section 5)\n");
    if !kinds.is_empty() {
        let _ = writeln!(
            out,
            "Kind of each `data_in` weakness (concept gap: a knowledge axis; capability deficit: the solving operation):\n"
        );
        for k in kinds {
            let _ = writeln!(out, "{k}");
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "Features of `{}` for run {} over {} ({}): {} items, error rate {}. κ = {}, θ = {}, {} pairs kept, pool of at most {}; Weak(F) = ln(1+n)·sqrt(n/(n+κ))·(A_raw + A_pair + A_comp), terms as fractions. q: Benjamini–Hochberg, per kind of test, of the test behind the largest term; *noise* when above {}. Every feature evaluated is in `weakness.csv`.\n",
        md_cell(&a.axis),
        md_cell(&w.run),
        md_cell(&w.benchmarks.join(", ")),
        md_cell(&w.scope),
        a.items,
        pct(a.error_rate),
        a.constants.kappa,
        a.constants.theta,
        a.constants.top_pairs,
        a.constants.top_k,
        a.constants.fdr
    );
    if a.pool().next().is_none() {
        return out;
    }
    let _ = writeln!(
        out,
        "| rank | feature | n | error [95% CI] | A_raw | A_pair | A_comp | Weak | strongest effect | q | |"
    );
    let _ = writeln!(out, "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
    for f in a.pool() {
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} [{}, {}] | {} | {} | {} | **{}** | {} | {} | {} |",
            f.rank.unwrap_or(0),
            md_cell(&f.name()),
            f.n,
            pct(f.error_rate),
            pct(f.ci_low),
            pct(f.ci_high),
            fixed(f.a_raw, 3),
            fixed(f.a_pair, 3),
            fixed(f.a_comp, 3),
            fixed(f.weak, 3),
            effect(f),
            q3(f.q_value),
            if f.significant { "" } else { "noise" }
        );
    }
    let _ = writeln!(out);
    out
}
