//! The weakness section of `report.html`: the kind of each `data_in`
//! verdict, the pair-effect heatmap and the feature pool (PAPER.md section 5).

use std::fmt::Write;

use super::{escape, Page};
use crate::report::charts::Chart;
use crate::report::num::{fixed, pct, q3};
use crate::report::rows::weakness_kinds;
use crate::report::{ReportInput, Sections};

pub(super) fn section(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(e) = sections.diagnosis else { return };
    let w = &e.weakness;
    let a = &w.analysis;
    let kinds = weakness_kinds(e);
    if kinds.is_empty() && a.pool().next().is_none() {
        return;
    }
    page.section("weakness", "Weakness");
    if !kinds.is_empty() {
        page.body.push_str("<ul class=\"verdicts\">\n");
        for k in kinds {
            let _ = writeln!(
                page.body,
                "<li><b>{}</b>: <b>{}</b> — {}, from <code>{}</code></li>",
                escape(k.benchmark),
                k.kind.as_str(),
                escape(k.kind.words()),
                escape(k.slice)
            );
        }
        page.body.push_str("</ul>\n");
    }
    let _ = writeln!(
        page.body,
        "<p>Features of <code>{}</code> (one to three values) for run <b>{}</b> over {} ({}): {} items, error rate {}. Weak(F) = ln(1+n)·sqrt(n/(n+κ))·(A_raw + A_pair + A_comp) with κ = {}, θ = {}; the pool keeps every single value, the top {} pairs, the triples extending them with a composition loss, at most {} features. q: Benjamini–Hochberg per kind of test (error rate against the rest: two-proportion z-test; pair effect: z-test within u; composition: Wald test of the interaction contrast).</p>",
        escape(&a.axis),
        escape(&w.run),
        escape(&w.benchmarks.join(", ")),
        escape(&w.scope),
        a.items,
        pct(a.error_rate),
        a.constants.kappa,
        a.constants.theta,
        a.constants.top_pairs,
        a.constants.top_k
    );
    let chart = (0..page.charts.len()).find(|&i| match &page.charts[i] {
        Chart::Heatmap(h) => h.is_pair_effects(),
        _ => false,
    });
    if let Some(i) = chart {
        page.figure(
            i,
            "Pair effects: how much u's accuracy changes, relative, when o is also needed. Point at a number for the accuracies and q.",
        );
    }
    if a.pool().next().is_none() {
        page.end();
        return;
    }
    page.body.push_str("<table>\n<caption>The feature pool, highest Weak first (every feature evaluated is in weakness.csv)</caption>\n<thead><tr><th class=\"num\">rank</th><th>feature</th><th class=\"num\">n</th><th class=\"num\">error</th><th class=\"num\">95% CI</th><th class=\"num\">A_raw</th><th class=\"num\">A_pair</th><th class=\"num\">A_comp</th><th class=\"num\">Weak</th><th class=\"num\">q</th><th>significant</th></tr></thead>\n<tbody>\n");
    for f in a.pool() {
        let _ = writeln!(
            page.body,
            "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">{}</td><td>{}</td></tr>",
            f.rank.unwrap_or(0),
            escape(&f.name()),
            f.n,
            pct(f.error_rate),
            pct(f.ci_low),
            pct(f.ci_high),
            fixed(f.a_raw, 3),
            fixed(f.a_pair, 3),
            fixed(f.a_comp, 3),
            fixed(f.weak, 3),
            q3(f.q_value),
            if f.significant { "yes" } else { "no (noise)" }
        );
    }
    page.body.push_str("</tbody>\n</table>\n");
    page.end();
}
