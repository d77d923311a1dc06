//! The verification and history sections of `report.html`.

use std::fmt::Write;

use super::{escape, Page};
use crate::report::num::{pct, pp};
use crate::report::{ReportInput, Sections};
use crate::stats::PairedDelta;
use crate::verify::Outcome;

fn badge(o: Outcome) -> String {
    let class = match o {
        Outcome::Confirmed | Outcome::Held => "improved",
        Outcome::Refuted | Outcome::Broken => "regressed",
        Outcome::Underpowered => "stable",
    };
    format!("<span class=\"badge {class}\">{}</span>", o.as_str())
}

fn cells(m: &Option<PairedDelta>) -> String {
    match m {
        Some(m) => format!(
            "<td class=\"num\">{}</td><td class=\"num\">{} → {}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">[{}, {}]</td><td class=\"num\">{:.2e}</td>",
            m.items,
            pct(m.baseline_mean),
            pct(m.candidate_mean),
            pp(m.delta),
            pp(m.ci_low),
            pp(m.ci_high),
            m.q_value
        ),
        None => "<td colspan=\"5\">no paired item</td>".into(),
    }
}

pub(super) fn section(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    if sections.verifications.is_empty() {
        return;
    }
    page.section("verify", "Verification");
    for v in sections.verifications {
        let _ = writeln!(
            page.body,
            "<h3>{} → {}: {}</h3>",
            escape(&v.baseline),
            escape(&v.candidate),
            if v.failed() { "fail" } else { "pass" }
        );
        page.body.push_str("<table>\n<caption>Hypotheses: predicted improvement against what the new run shows</caption>\n<thead><tr><th>hypothesis</th><th>target</th><th class=\"num\">predicted, pp</th><th class=\"num\">items</th><th class=\"num\">mean</th><th class=\"num\">delta, pp</th><th class=\"num\">95% CI</th><th class=\"num\">q</th><th>outcome</th></tr></thead>\n<tbody>\n");
        for t in &v.targets {
            let _ = writeln!(
                page.body,
                "<tr><td>{} ({})</td><td>{} on {}</td><td class=\"num\">≥ {}</td>{}<td>{}</td></tr>",
                escape(&t.hypothesis),
                escape(&t.kind),
                escape(&t.slice),
                escape(&t.benchmark),
                pp(t.min_effect),
                cells(&t.measured),
                badge(t.outcome)
            );
        }
        for g in &v.guardrails {
            let _ = writeln!(
                page.body,
                "<tr><td>guardrail</td><td>{} on {}</td><td class=\"num\">drop ≤ {}</td>{}<td>{}</td></tr>",
                escape(&g.slice),
                escape(&g.benchmark),
                pp(g.max_drop),
                cells(&g.measured),
                badge(g.outcome)
            );
        }
        page.body.push_str("</tbody>\n</table>\n");
        if !v.collateral.is_empty() {
            let names: Vec<String> = v
                .collateral
                .iter()
                .take(10)
                .map(|c| {
                    format!(
                        "<code>{}</code> on {} ({})",
                        escape(&c.slice),
                        escape(&c.benchmark),
                        pp(c.paired.delta)
                    )
                })
                .collect();
            let _ = writeln!(
                page.body,
                "<p>Collateral regressions outside the plan ({}): {}{}.</p>",
                v.collateral.len(),
                names.join(", "),
                if v.collateral.len() > 10 { ", …" } else { "" }
            );
        }
    }
}

pub(super) fn history(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(h) = sections.history else { return };
    page.section("history", "History");
    let _ = write!(
        page.body,
        "<table>\n<caption>Slice trajectories across {}: the whole benchmarks, then every slice that regressed at some step or is weak throughout</caption>\n<thead><tr><th>benchmark</th><th>slice</th><th class=\"num\">items</th>",
        escape(&h.runs.join(" → "))
    );
    for r in &h.runs {
        let _ = write!(page.body, "<th class=\"num\">{}</th>", escape(r));
    }
    page.body.push_str("</tr></thead>\n<tbody>\n");
    for t in h.trajectories.iter().take(40) {
        let _ = write!(
            page.body,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td>",
            escape(&t.benchmark),
            escape(&t.slice),
            t.items
        );
        for m in &t.means {
            let _ = write!(page.body, "<td class=\"num\">{}</td>", m.map_or("–".into(), pct));
        }
        page.body.push_str("</tr>\n");
    }
    page.body.push_str("</tbody>\n</table>\n<ul>\n");
    for a in h.appeared.iter().take(20) {
        let _ = writeln!(
            page.body,
            "<li>at <b>{}</b> (from {}): {} on {}, {} pp, q {:.2e}</li>",
            escape(&a.step),
            escape(&a.previous),
            escape(&a.comparison.slice),
            escape(&a.comparison.benchmark),
            pp(a.comparison.paired.delta),
            a.comparison.paired.q_value
        );
    }
    page.body.push_str("</ul>\n");
}
