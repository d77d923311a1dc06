//! The weakness section of `report.md` (and of `caploop diagnose`'s
//! report): the kind of each `data_in` verdict, the feature pool with its
//! terms and tests, and the strongest pair and composition effects.

use std::fmt::Write;

use super::{fmt_q, Feature, WeaknessReport};
use crate::diagnose::Evidence;

fn num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "–".into()
    }
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "–".into()
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The strongest effect of a feature, in words.
fn effect(f: &Feature) -> String {
    if let Some(p) = f
        .pair_effects
        .iter()
        .min_by(|a, b| a.delta_pair.total_cmp(&b.delta_pair))
    {
        return format!(
            "Δpair({};{}) {}% (q {})",
            cell(&p.base),
            cell(&p.added),
            num(p.delta_pair, 1),
            fmt_q(p.q_value)
        );
    }
    if let Some(c) = f.composition_effects.iter().min_by(|a, b| a.c.total_cmp(&b.c)) {
        return format!(
            "C({}; {}) {}% (q {})",
            cell(&c.base),
            cell(&c.parts.join(", ")),
            num(c.c, 1),
            fmt_q(c.q_value)
        );
    }
    "–".into()
}

/// The section, empty when there is nothing to say.
pub fn section(e: &Evidence) -> String {
    let mut out = String::new();
    let kinds: Vec<String> = e
        .verdicts
        .iter()
        .filter_map(|v| {
            let k = v.weakness_kind?;
            Some(format!(
                "- **{}**: {} — {}, from `{}`",
                cell(&v.benchmark),
                k.as_str(),
                k.words(),
                cell(v.weakness_kind_slice.as_deref().unwrap_or("?"))
            ))
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
        cell(&a.axis),
        cell(&w.run),
        cell(&w.benchmarks.join(", ")),
        cell(&w.scope),
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
            cell(&f.name()),
            f.n,
            pct(f.error_rate),
            pct(f.ci_low),
            pct(f.ci_high),
            num(f.a_raw, 3),
            num(f.a_pair, 3),
            num(f.a_comp, 3),
            num(f.weak, 3),
            effect(f),
            fmt_q(f.q_value),
            if f.significant { "" } else { "noise" }
        );
    }
    let _ = writeln!(out);
    out
}
