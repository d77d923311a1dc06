//! `report.html`: the whole report in one self-contained file that opens
//! offline and prints: summary first, then each benchmark with its charts
//! (inline SVG), its regressed and improved slices and example items, then
//! tag coverage, inputs and method.
//!
//! Nothing external: CSS is inline and uses system font stacks, charts are
//! inline SVG without namespace URLs, there is no script and no link out of
//! the page. Every string that comes from a log or a config (benchmark and
//! slice names, item ids, prompts, responses, file names, messages) is
//! escaped, so a response containing `<script>` shows as text.
//!
//! Output is deterministic: no timestamps, no random ids.

mod diagnosis;
mod examples;
mod gaps;
mod plan;
mod verify;
mod weakness;

use examples::examples_html;

use std::fmt::Write;

use super::charts::{self, Chart};
use super::{ExampleItem, ReportInput, Sections};
use crate::report::num::{pct, pp, pp_ci, q4};
use crate::slices::{Comparison, SliceComparison, Status};

/// Rows of a slice table before the rest is left to `comparison.csv`.
const MAX_TABLE_ROWS: usize = 50;
/// Characters kept of each text of an example item.
const PROMPT_CHARS: usize = 700;
const TARGET_CHARS: usize = 300;
const RESPONSE_CHARS: usize = 900;

/// The page's style: system font stacks only (no font file, no URL), and a
/// print stylesheet.
const CSS: &str = include_str!("style.css");

/// Escape text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // NUL is dropped by HTML parsers; show that something was there.
            '\0' => out.push('\u{FFFD}'),
            // Bidi overrides could make a line read otherwise than it is.
            c if crate::report::text::is_bidi_control(c) => out.push_str(&crate::report::text::visible(c)),
            c => out.push(c),
        }
    }
    out
}

/// An id for an in-page anchor.
fn anchor(prefix: &str, name: &str) -> String {
    format!("{prefix}-{}", charts::slug(name))
}

fn badge(st: Status) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", st.as_str())
}

/// The page being written, and the anchors for its table of contents.
struct Page<'c> {
    body: String,
    nav: Vec<(String, String)>,
    charts: Vec<Chart<'c>>,
}

impl Page<'_> {
    fn section(&mut self, id: &str, label: &str) {
        self.nav.push((id.to_string(), label.to_string()));
        let _ = write!(
            self.body,
            "<section id=\"{}\">\n<h2>{}</h2>\n",
            escape(id),
            escape(label)
        );
    }

    fn end(&mut self) {
        self.body.push_str("</section>\n");
    }

    fn figure(&mut self, chart_ix: usize, caption: &str) {
        let svg = match self.charts[chart_ix].svg_inline() {
            Ok(svg) => svg,
            Err(e) => format!("<p class=\"note\">{}</p>", escape(&e.to_string())),
        };
        let _ = write!(
            self.body,
            "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
            escape(caption)
        );
    }
}

type Section = fn(&mut Page<'_>, &ReportInput<'_>, &Sections<'_>);

/// The page's sections in order. Each writes nothing when its data is
/// absent; a later stage's section goes here (see [`Sections`]).
const SECTIONS: &[Section] = &[
    diagnosis::warnings,
    diagnosis::section,
    gaps::section,
    weakness::section,
    plan::section,
    verify::section,
    verify::history,
    summary,
    pairing,
    benchmarks,
    runs,
    coverage,
    inputs,
    method,
];

/// Render the report.
pub fn render(input: &ReportInput<'_>, sections: &Sections<'_>) -> String {
    let mut page = Page {
        body: String::new(),
        nav: Vec::new(),
        charts: charts::plan(input, sections),
    };
    for s in SECTIONS {
        s(&mut page, input, sections);
    }
    let mut out = String::with_capacity(page.body.len() + CSS.len() + 2048);
    let title = escape(&input.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n"
    );
    if let Some(c) = input.comparison {
        let benchmarks = c.pairing.len();
        let _ = writeln!(
            out,
            "<p class=\"lede\">Baseline <b>{}</b>, candidate <b>{}</b>: {} benchmark{}, {} slices compared item by item.</p>",
            escape(&c.baseline),
            escape(&c.candidate),
            benchmarks,
            if benchmarks == 1 { "" } else { "s" },
            c.slices.len()
        );
    }
    out.push_str("</header>\n");
    if page.nav.len() > 1 {
        out.push_str("<nav><ul>\n");
        for (id, label) in &page.nav {
            let _ = writeln!(out, "<li><a href=\"#{}\">{}</a></li>", escape(id), escape(label));
        }
        out.push_str("</ul></nav>\n");
    }
    out.push_str("<main>\n");
    out.push_str(&page.body);
    let _ = write!(
        out,
        "</main>\n<footer>Written by caploop {}.</footer>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}

fn slices_of<'c>(c: &'c Comparison, benchmark: &str) -> impl Iterator<Item = &'c SliceComparison> + 'c {
    let b = benchmark.to_string();
    c.slices
        .iter()
        .filter(move |s| s.benchmark == b && s.slice != "*")
}

/// Slices of `benchmark` with `status`, largest change first.
fn with_status<'c>(c: &'c Comparison, benchmark: &str, status: Status) -> Vec<&'c SliceComparison> {
    let mut v: Vec<&SliceComparison> = slices_of(c, benchmark).filter(|s| s.status == status).collect();
    v.sort_by(|a, b| {
        b.paired
            .delta
            .abs()
            .total_cmp(&a.paired.delta.abs())
            .then_with(|| a.slice.cmp(&b.slice))
    });
    v
}

/// One sentence on a benchmark's overall change, and its slices.
fn verdict(c: &Comparison, o: &SliceComparison) -> String {
    let s = &c.settings;
    let figures = format!(
        "{} → {}, <b>{} pp</b> {}, q = {}",
        pct(o.paired.baseline_mean),
        pct(o.paired.candidate_mean),
        pp(o.paired.delta),
        pp_ci(o.paired.ci_low, o.paired.ci_high),
        q4(o.paired.q_value)
    );
    let eoi = pp(s.effect_of_interest);
    let mde = pp(o.mde);
    let (eoi, mde) = (eoi.trim_start_matches('+'), mde.trim_start_matches('+'));
    let mut out = match o.status {
        Status::Regressed => format!("regressed significantly ({figures})."),
        Status::Improved => format!("improved significantly ({figures})."),
        Status::Stable => format!(
            "no significant change ({figures}); a change of {eoi} pp would have been detected (MDE {mde} pp)."
        ),
        Status::Underpowered => format!(
            "no significant change ({figures}), but too few items to rule out a change of {eoi} pp (MDE {mde} pp)."
        ),
    };
    let total = slices_of(c, &o.benchmark).count();
    let regressed = with_status(c, &o.benchmark, Status::Regressed);
    let improved = with_status(c, &o.benchmark, Status::Improved);
    if total > 0 {
        let _ = write!(
            out,
            " {} of {} slices regressed, {} improved.",
            regressed.len(),
            total,
            improved.len()
        );
    }
    if let Some(top) = regressed.first() {
        let _ = write!(
            out,
            " Largest drop: <code>{}</code> {} pp.",
            escape(&top.slice),
            pp(top.paired.delta)
        );
    }
    if let Some(top) = improved.first() {
        let _ = write!(
            out,
            " Largest gain: <code>{}</code> {} pp.",
            escape(&top.slice),
            pp(top.paired.delta)
        );
    }
    out
}

fn summary(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    let Some(c) = input.comparison else {
        return;
    };
    page.section("summary", "Summary");
    page.body.push_str("<ul class=\"verdicts\">\n");
    for p in &c.pairing {
        if let Some(o) = c.overall(&p.benchmark) {
            let _ = writeln!(
                page.body,
                "<li>{} <a href=\"#{}\"><b>{}</b></a>: {}</li>",
                badge(o.status),
                escape(&anchor("b", &p.benchmark)),
                escape(&p.benchmark),
                verdict(c, o)
            );
        }
    }
    page.body.push_str("</ul>\n<table>\n<thead><tr><th>benchmark</th><th class=\"num\">items</th><th class=\"num\">baseline</th><th class=\"num\">candidate</th><th class=\"num\">delta, pp</th><th class=\"num\">95% CI</th><th class=\"num\">q</th><th>status</th><th class=\"num\">regressed slices</th><th class=\"num\">improved slices</th><th class=\"num\">underpowered slices</th></tr></thead>\n<tbody>\n");
    for p in &c.pairing {
        let Some(o) = c.overall(&p.benchmark) else {
            continue;
        };
        let count = |st| slices_of(c, &p.benchmark).filter(|s| s.status == st).count();
        let _ = writeln!(
            page.body,
            "<tr><td>{}</td>{}<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&p.benchmark),
            paired_cells(&o.paired),
            badge(o.status),
            count(Status::Regressed),
            count(Status::Improved),
            count(Status::Underpowered)
        );
    }
    page.body.push_str("</tbody>\n</table>\n");
    page.end();
}

fn pairing(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    let Some(c) = input.comparison else {
        return;
    };
    let unpaired: Vec<_> = c
        .pairing
        .iter()
        .filter(|p| p.only_baseline + p.only_candidate + p.prompt_changed > 0)
        .collect();
    if unpaired.is_empty() {
        return;
    }
    page.section("pairing", "Pairing");
    page.body.push_str("<ul>\n");
    for p in unpaired {
        let _ = writeln!(
            page.body,
            "<li><b>{}</b>: {} items only in the baseline and {} only in the candidate (not compared); {} paired items changed prompt between the runs, so their deltas may come from the prompt, not the model.</li>",
            escape(&p.benchmark),
            p.only_baseline,
            p.only_candidate,
            p.prompt_changed
        );
    }
    page.body.push_str("</ul>\n");
    page.end();
}

/// A paired delta's cells: items, baseline, candidate, delta, 95% CI, q.
fn paired_cells(d: &crate::stats::PairedDelta) -> String {
    format!(
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><b>{}</b></td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
        d.items,
        pct(d.baseline_mean),
        pct(d.candidate_mean),
        pp(d.delta),
        pp_ci(d.ci_low, d.ci_high),
        q4(d.q_value)
    )
}

fn slice_table(out: &mut String, rows: &[&SliceComparison]) {
    out.push_str("<table class=\"slices\">\n<thead><tr><th>slice</th><th class=\"num\">items</th><th class=\"num\">baseline</th><th class=\"num\">candidate</th><th class=\"num\">delta, pp</th><th class=\"num\">95% CI</th><th class=\"num\">q</th><th class=\"num\">MDE, pp</th><th class=\"num\">regressed items</th><th class=\"num\">fixed items</th></tr></thead>\n<tbody>\n");
    for r in rows.iter().take(MAX_TABLE_ROWS) {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td>{}<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&r.slice),
            paired_cells(&r.paired),
            pp(r.mde).trim_start_matches('+'),
            r.regressed,
            r.fixed
        );
    }
    out.push_str("</tbody>\n</table>\n");
    if rows.len() > MAX_TABLE_ROWS {
        let _ = writeln!(
            out,
            "<p class=\"note\">…and {} more in <code>comparison.csv</code>.</p>",
            rows.len() - MAX_TABLE_ROWS
        );
    }
}

fn benchmarks(page: &mut Page<'_>, input: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(c) = input.comparison else {
        return;
    };
    for p in &c.pairing {
        page.section(&anchor("b", &p.benchmark), &p.benchmark);
        if let Some(o) = c.overall(&p.benchmark) {
            let _ = writeln!(page.body, "<p>{} {}</p>", badge(o.status), verdict(c, o));
        }
        // The failure modes are shown in the diagnosis, beside their table.
        let mine: Vec<usize> = (0..page.charts.len())
            .filter(|&i| page.charts[i].benchmark() == p.benchmark)
            .filter(|&i| !matches!(page.charts[i], Chart::Failures(_)))
            .collect();
        for i in mine {
            let caption = match &page.charts[i] {
                Chart::Forest(_) => "Slice deltas with their confidence intervals. Point at a slice name for the whole name and its numbers; every slice is in comparison.csv.",
                Chart::Heatmap(_) => "An item with two values on one axis counts in both cells, so cells can overlap. Point at a number for the cell's slice and figures.",
                Chart::Failures(_) => "Share of each run's samples by outcome.",
            };
            page.figure(i, caption);
        }
        let regressed = with_status(c, &p.benchmark, Status::Regressed);
        let improved = with_status(c, &p.benchmark, Status::Improved);
        if regressed.is_empty() {
            page.body.push_str("<p>No slice regressed significantly.</p>\n");
        } else {
            page.body
                .push_str("<h3>Regressed slices, largest drop first</h3>\n");
            slice_table(&mut page.body, &regressed);
        }
        if !improved.is_empty() {
            page.body
                .push_str("<h3>Improved slices, largest gain first</h3>\n");
            slice_table(&mut page.body, &improved);
        }
        let examples: Vec<&ExampleItem> = sections
            .examples
            .iter()
            .filter(|e| e.benchmark == p.benchmark)
            .collect();
        if !examples.is_empty() {
            examples_html(&mut page.body, &examples);
        }
        if let Some(top) = regressed.first().filter(|t| !t.regressed_ids.is_empty()) {
            let _ = write!(
                page.body,
                "<details><summary>Items that regressed in <code>{}</code> ({} listed of {})</summary>\n<p class=\"ids\">",
                escape(&top.slice),
                top.regressed_ids.len(),
                top.regressed
            );
            let ids: Vec<String> = top
                .regressed_ids
                .iter()
                .map(|id| format!("<code>{}</code>", escape(id)))
                .collect();
            page.body.push_str(&ids.join(" "));
            page.body.push_str("</p>\n</details>\n");
        }
        page.end();
    }
}

/// Without a comparison: each run's slices, and the accuracy heatmaps.
fn runs(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    if input.comparison.is_some() || (input.slices.is_empty() && page.charts.is_empty()) {
        return;
    }
    page.section("slices", "Slices");
    for i in 0..page.charts.len() {
        if matches!(page.charts[i], Chart::Failures(_))
            || matches!(&page.charts[i], Chart::Heatmap(h) if h.is_pair_effects())
        {
            continue;
        }
        page.figure(
            i,
            "Accuracy of each cell's items. Point at a number for the cell's slice and figures.",
        );
    }
    if !input.slices.is_empty() {
        page.body.push_str("<table class=\"slices\">\n<thead><tr><th>run</th><th>benchmark</th><th>slice</th><th class=\"num\">items</th><th class=\"num\">accuracy</th><th class=\"num\">95% CI</th></tr></thead>\n<tbody>\n");
        for s in input.slices.iter().take(4 * MAX_TABLE_ROWS) {
            let _ = writeln!(
                page.body,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">[{}, {}]</td></tr>",
                escape(&s.run),
                escape(&s.benchmark),
                escape(&s.slice),
                s.items,
                pct(s.mean),
                pct(s.ci_low),
                pct(s.ci_high)
            );
        }
        page.body.push_str("</tbody>\n</table>\n");
        if input.slices.len() > 4 * MAX_TABLE_ROWS {
            let _ = writeln!(
                page.body,
                "<p class=\"note\">…and {} more in <code>slices.csv</code>.</p>",
                input.slices.len() - 4 * MAX_TABLE_ROWS
            );
        }
    }
    page.end();
}

fn coverage(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    let Some(first) = input.coverage.first() else {
        return;
    };
    page.section("coverage", "Tag coverage");
    page.body.push_str("<p>Share of items with no value (<code>unknown</code>) per axis; n/a where no item of the benchmark has a value on the axis (no rule of the taxonomy applies to it).</p>\n<table>\n<thead><tr><th>benchmark</th><th class=\"num\">items</th>");
    for (axis, _) in &first.unknown {
        let _ = write!(page.body, "<th class=\"num\">{}</th>", escape(axis));
    }
    page.body.push_str("</tr></thead>\n<tbody>\n");
    for cov in input.coverage {
        let _ = write!(
            page.body,
            "<tr><td>{}</td><td class=\"num\">{}</td>",
            escape(&cov.benchmark),
            cov.items
        );
        for (_, n) in &cov.unknown {
            let v = if *n == cov.items {
                "n/a".to_string()
            } else {
                pct(*n as f64 / cov.items.max(1) as f64)
            };
            let _ = write!(page.body, "<td class=\"num\">{v}</td>");
        }
        page.body.push_str("</tr>\n");
    }
    page.body.push_str("</tbody>\n</table>\n");
    page.end();
}

fn inputs(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    let Some(ing) = input.ingest else {
        return;
    };
    page.section("inputs", "Inputs");
    let rows: usize = ing.files.iter().map(|f| f.rows).sum();
    let _ = writeln!(
        page.body,
        "<p>{} files, {} rows read; {} records skipped; {} files ignored.</p>",
        ing.files.len(),
        rows,
        ing.skipped.len(),
        ing.ignored.len()
    );
    for w in &ing.warnings {
        let _ = writeln!(page.body, "<p class=\"warning\">Warning: {}</p>", escape(w));
    }
    if !ing.skipped.is_empty() {
        page.body.push_str("<h3>Skipped records (<code>--skip-bad</code>)</h3>\n<table>\n<thead><tr><th>where</th><th>field</th><th>problem</th></tr></thead>\n<tbody>\n");
        for s in ing.skipped.iter().take(MAX_TABLE_ROWS) {
            let _ = writeln!(
                page.body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&s.location),
                s.field.as_deref().map(escape).unwrap_or_default(),
                escape(&s.message)
            );
        }
        page.body.push_str("</tbody>\n</table>\n");
        if ing.skipped.len() > MAX_TABLE_ROWS {
            let _ = writeln!(
                page.body,
                "<p class=\"note\">…and {} more in <code>ingest.json</code>.</p>",
                ing.skipped.len() - MAX_TABLE_ROWS
            );
        }
    }
    if !ing.files.is_empty() {
        let _ = writeln!(
            page.body,
            "<details><summary>Files read ({})</summary>\n<table>\n<thead><tr><th>file</th><th>format</th><th>run</th><th>task</th><th class=\"num\">rows</th></tr></thead>\n<tbody>",
            ing.files.len()
        );
        for f in &ing.files {
            let _ = writeln!(
                page.body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                escape(&f.path),
                escape(&f.format),
                escape(&f.run),
                escape(&f.task),
                f.rows
            );
        }
        page.body.push_str("</tbody>\n</table>\n</details>\n");
    }
    if !ing.ignored.is_empty() {
        let _ = writeln!(
            page.body,
            "<details><summary>Files ignored, not evaluation logs ({})</summary>\n<ul>",
            ing.ignored.len()
        );
        for f in &ing.ignored {
            let _ = writeln!(page.body, "<li><code>{}</code></li>", escape(f));
        }
        page.body.push_str("</ul>\n</details>\n");
    }
    page.end();
}

fn method(page: &mut Page<'_>, input: &ReportInput<'_>, _: &Sections<'_>) {
    let Some(c) = input.comparison else {
        return;
    };
    let s = &c.settings;
    page.section("method", "Method");
    let _ = writeln!(
        page.body,
        "<p>Runs are paired over the items present in both. Per slice: exact McNemar test (one sample per item) or paired t-test on item means; {:.0}% confidence intervals; Benjamini–Hochberg q-values across all {} slices at a false discovery rate of {}. A slice is <i>regressed</i> or <i>improved</i> when q ≤ {}, and <i>underpowered</i> rather than <i>stable</i> when its minimum detectable effect (power {}) exceeds {} pp.</p>",
        100.0 * s.confidence,
        c.slices.len(),
        s.fdr,
        s.fdr,
        s.power,
        pp(s.effect_of_interest).trim_start_matches('+')
    );
    let _ = writeln!(
        page.body,
        "<p>Slices: every tag and every conjunction of up to {} tags with at least {} items; a conjunction with exactly the items of one of its parts is left out.</p>",
        s.max_order, s.min_items
    );
    if !s.filters.is_empty() {
        page.body.push_str("<p>Scoring filters: ");
        let f: Vec<String> = s
            .filters
            .iter()
            .map(|(task, filter)| format!("<code>{}</code> → <code>{}</code>", escape(task), escape(filter)))
            .collect();
        page.body.push_str(&f.join(", "));
        page.body.push_str(".</p>\n");
    }
    page.body.push_str("<p>Beside this report: <code>comparison.csv</code> (every slice compared, with item ids), <code>slices.csv</code> (every slice of every run), <code>charts/</code> (the charts as SVG and PNG) and <code>report.md</code> (these findings as tables, for a pull request).</p>\n");
    page.end();
}
