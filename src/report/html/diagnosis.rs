//! The diagnosis section of `report.html`: the verdicts first, then per
//! benchmark the reason, the fix, the content / format split, failure modes
//! per run and the discovered slices.

use std::fmt::Write;

use super::{escape, Page};
use crate::diagnose::{DiscoveredSlice, Verdict};
use crate::report::charts::Chart;
use crate::report::num::{pct, pp};
use crate::report::rows::{example_ids, HealthRow, HEALTH_COLUMNS};
use crate::report::{ReportInput, Sections};

fn verdict_badge(v: Verdict) -> String {
    let class = match v {
        Verdict::DataIn => "improved",
        Verdict::DataOut => "regressed",
        _ => "stable",
    };
    format!("<span class=\"badge {class}\">{}</span>", v.as_str())
}

fn slices_table(page: &mut Page<'_>, caption: &str, rows: &[DiscoveredSlice]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(
        page.body,
        "<table>\n<caption>{}</caption>\n<thead><tr><th>slice</th><th class=\"num\">items</th><th class=\"num\">score</th><th class=\"num\">in slice, pp</th><th class=\"num\">elsewhere, pp</th><th class=\"num\">difference, pp</th><th class=\"num\">95% CI</th><th class=\"num\">q</th><th>significant</th><th>example items</th></tr></thead>\n<tbody>",
        escape(caption)
    );
    for s in rows {
        let _ = writeln!(
            page.body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.3}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">[{}, {}]</td><td class=\"num\">{:.2e}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&s.slice),
            s.items,
            s.score,
            pp(s.effect_in),
            pp(s.effect_out),
            pp(s.effect_diff),
            pp(s.ci_low),
            pp(s.ci_high),
            s.q_value,
            if s.significant { "yes" } else { "no" },
            escape(&example_ids(&s.example_items).join(" "))
        );
    }
    page.body.push_str("</tbody>\n</table>\n");
}

/// Format-health warnings, first on the page.
pub(super) fn warnings(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(e) = sections.diagnosis else { return };
    if e.warnings.is_empty() {
        return;
    }
    page.section("format-warnings", "Format health warnings");
    page.body.push_str("<ul class=\"verdicts\">\n");
    for w in &e.warnings {
        let _ = writeln!(page.body, "<li><b>warning:</b> {}</li>", escape(w));
    }
    page.body.push_str("</ul>\n");
    page.end();
}

/// Format health and the answer audit of every run.
fn health_table(page: &mut Page<'_>, e: &crate::diagnose::Evidence) {
    if e.format_health.is_empty() {
        return;
    }
    page.body.push_str("<h3>Format health and answer audit</h3>\n<table>\n<caption>Every run, whether or not it regressed (scored generative samples). Answer audit as PAPER section 4: gold answer as a prefix of the filtered answer, accepted when it is, an extra suffix after it; lengths in characters, nearest-rank percentiles.</caption>\n<thead><tr>");
    let last = HEALTH_COLUMNS.len() - 1;
    for (i, c) in HEALTH_COLUMNS.iter().enumerate() {
        let class = if (2..last).contains(&i) {
            " class=\"num\""
        } else {
            ""
        };
        let _ = write!(page.body, "<th{class}>{c}</th>");
    }
    page.body.push_str("</tr></thead>\n<tbody>\n");
    for h in &e.format_health {
        let row = HealthRow::of(h);
        let starts: Vec<String> = row
            .suffix_starts
            .iter()
            .map(|(s, n)| format!("<code>{}</code> {n}", escape(s)))
            .collect();
        let _ = write!(
            page.body,
            "<tr><td>{}{}</td><td>{}</td>",
            escape(row.run),
            if row.warned { " ⚠" } else { "" },
            escape(row.benchmark)
        );
        for f in &row.figures {
            let _ = write!(page.body, "<td class=\"num\">{f}</td>");
        }
        let _ = writeln!(
            page.body,
            "<td>{}</td></tr>",
            if starts.is_empty() {
                "–".to_string()
            } else {
                starts.join(", ")
            }
        );
    }
    page.body.push_str("</tbody>\n</table>\n");
}

pub(super) fn section(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(e) = sections.diagnosis else { return };
    if e.verdicts.is_empty() && e.weak.is_empty() && e.format_health.is_empty() {
        return;
    }
    page.section("diagnosis", "Diagnosis");
    let _ = writeln!(
        page.body,
        "<p class=\"lede\">Overall: {} — {}</p>\n<ul class=\"verdicts\">",
        verdict_badge(e.verdict),
        escape(&e.reason)
    );
    for v in e.verdicts.iter().filter(|v| v.verdict != Verdict::None) {
        let fix = v
            .fix
            .as_ref()
            .map(|f| format!("<br><b>Fix ({}):</b> {}", escape(&f.kind), escape(&f.action)))
            .unwrap_or_default();
        let _ = writeln!(
            page.body,
            "<li>{} <b>{}</b>: {}.{fix}</li>",
            verdict_badge(v.verdict),
            escape(&v.benchmark),
            escape(&v.reason)
        );
    }
    page.body.push_str("</ul>\n");
    for v in e.verdicts.iter().filter(|v| v.verdict != Verdict::None) {
        let _ = writeln!(
            page.body,
            "<h3>{} — {}</h3>",
            escape(&v.benchmark),
            v.verdict.as_str()
        );
        let _ = writeln!(
            page.body,
            "<table>\n<caption>The paired delta split into its content part (items no format problem scored in either run) and its format part, in points of the benchmark with 95% intervals</caption>\n<thead><tr><th></th><th class=\"num\">items</th><th class=\"num\">mean delta, pp</th><th class=\"num\">part of the benchmark's delta, pp</th></tr></thead>\n<tbody>\n<tr><td>all paired items</td><td class=\"num\">{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">{}</td></tr>\n<tr><td>answered well-formed in both runs (content)</td><td class=\"num\">{}</td><td class=\"num\">{} [{}, {}] (p = {:.3})</td><td class=\"num\">{}</td></tr>\n<tr><td>scored on their form in either run (format cost)</td><td class=\"num\">{}</td><td class=\"num\">–</td><td class=\"num\">{} [{}, {}]</td></tr>\n</tbody>\n</table>",
            v.items,
            pp(v.delta),
            pp(v.delta),
            v.content.items,
            pp(v.content.delta),
            pp(v.content.ci_low),
            pp(v.content.ci_high),
            v.content.p_value,
            pp(v.content.contribution),
            v.format.items,
            pp(v.format.contribution),
            pp(v.format.ci_low),
            pp(v.format.ci_high)
        );
        let _ = write!(
            page.body,
            "<table>\n<caption>Failure modes by causal attribution, share of samples (format failures {} → {}; the candidate scores {}, re-scoring its first complete answers gives {})</caption>\n<thead><tr><th>run</th>",
            pct(v.format.baseline_rate),
            pct(v.format.candidate_rate),
            pct(v.rescore.candidate_mean),
            pct(v.rescore.rescored_mean)
        );
        for m in v.format.candidate_modes.keys() {
            let _ = write!(page.body, "<th class=\"num\">{}</th>", m.as_str());
        }
        page.body.push_str("</tr></thead>\n<tbody>\n");
        for (who, modes) in [
            ("baseline", &v.format.baseline_modes),
            ("candidate", &v.format.candidate_modes),
        ] {
            let _ = write!(page.body, "<tr><td>{who}</td>");
            for x in modes.values() {
                let _ = write!(page.body, "<td class=\"num\">{}</td>", pct(*x));
            }
            page.body.push_str("</tr>\n");
        }
        page.body.push_str("</tbody>\n</table>\n");
        let chart = (0..page.charts.len()).find(|&i| match &page.charts[i] {
            Chart::Failures(c) => std::ptr::eq(c.verdict, v),
            _ => false,
        });
        if let Some(i) = chart {
            page.figure(
                i,
                "Share of each run's samples by outcome: correct, format failures (warm colours) and wrong answers (blue-grey). Point at a percentage for its run and mode.",
            );
        }
        slices_table(
            page,
            "Where the regression concentrates (SliceLine on the regression indicator)",
            &v.slices,
        );
        slices_table(
            page,
            "Where the candidate is weakest (SliceLine on its errors; in slice / elsewhere are its accuracy)",
            &v.weak_slices,
        );
    }
    for w in &e.weak {
        let _ = writeln!(
            page.body,
            "<h3>{} — weak slices of {}</h3>",
            escape(&w.benchmark),
            escape(&w.run)
        );
        slices_table(page, "Slices weaker than the rest of the benchmark", &w.slices);
    }
    health_table(page, e);
    page.end();
}
