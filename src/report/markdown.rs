//! `report.md`: the findings as tables, for a pull request.

use std::fmt::Write;

use super::charts::ChartFile;
use super::ReportInput;
use crate::report::num::{pct, pp_unit, q4};
use crate::report::text::md_cell;
use crate::slices::{SliceComparison, Status};
use crate::stats::PairedDelta;

/// A paired delta's cells: items | baseline | candidate | delta [95% CI] | q.
fn paired_cells(d: &PairedDelta) -> String {
    format!(
        "{} | {} | {} | {} [{}, {}] | {}",
        d.items,
        pct(d.baseline_mean),
        pct(d.candidate_mean),
        pp_unit(d.delta),
        pp_unit(d.ci_low),
        pp_unit(d.ci_high),
        q4(d.q_value)
    )
}

fn slice_table(out: &mut String, rows: &[&SliceComparison]) {
    let _ = writeln!(
        out,
        "| slice | items | baseline | candidate | delta [95% CI] | q | MDE | regressed / fixed items |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---:|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} / {} |",
            md_cell(&r.slice),
            paired_cells(&r.paired),
            pp_unit(r.mde).trim_start_matches('+'),
            r.regressed,
            r.fixed
        );
    }
}

/// Render the report.
pub fn render(input: &ReportInput<'_>) -> String {
    render_linked(input, &[])
}

/// Render the report with links to the chart files written by
/// `charts::write_all`, under the benchmark each shows.
pub fn render_linked(input: &ReportInput<'_>, charts: &[ChartFile]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", md_cell(&input.title));
    if let Some(c) = input.comparison {
        let _ = writeln!(
            out,
            "Baseline **{}** vs candidate **{}**. Paired over items present in both runs; exact McNemar (one sample per item) or paired t on item means; Benjamini–Hochberg at FDR {} across all {} slices; a slice is `underpowered` when its minimum detectable effect (power {}) exceeds {}.\n",
            md_cell(&c.baseline),
            md_cell(&c.candidate),
            c.settings.fdr,
            c.slices.len(),
            c.settings.power,
            pp_unit(c.settings.effect_of_interest).trim_start_matches('+')
        );
        let _ = writeln!(out, "## Summary\n");
        let _ = writeln!(out, "| benchmark | items | baseline | candidate | delta [95% CI] | q | status | regressed slices | improved slices | underpowered slices |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|---:|---|---:|---:|---:|");
        for p in &c.pairing {
            let Some(o) = c.overall(&p.benchmark) else {
                continue;
            };
            let count = |st: Status| {
                c.slices
                    .iter()
                    .filter(|s| s.benchmark == p.benchmark && s.slice != "*" && s.status == st)
                    .count()
            };
            let _ = writeln!(
                out,
                "| {} | {} | **{}** | {} | {} | {} |",
                md_cell(&p.benchmark),
                paired_cells(&o.paired),
                o.status.as_str(),
                count(Status::Regressed),
                count(Status::Improved),
                count(Status::Underpowered)
            );
        }
        let _ = writeln!(out);
        let unpaired: Vec<_> = c
            .pairing
            .iter()
            .filter(|p| p.only_baseline + p.only_candidate + p.prompt_changed > 0)
            .collect();
        if !unpaired.is_empty() {
            let _ = writeln!(out, "### Pairing\n");
            for p in unpaired {
                let _ = writeln!(
                    out,
                    "- **{}**: {} items only in the baseline and {} only in the candidate (not compared); {} paired items changed prompt between the runs, so their deltas may come from the prompt, not the model.",
                    md_cell(&p.benchmark),
                    p.only_baseline,
                    p.only_candidate,
                    p.prompt_changed
                );
            }
            let _ = writeln!(out);
        }
        for p in &c.pairing {
            let rows: Vec<&SliceComparison> =
                c.slices.iter().filter(|s| s.benchmark == p.benchmark).collect();
            let mut regressed: Vec<&SliceComparison> = rows
                .iter()
                .copied()
                .filter(|s| s.status == Status::Regressed && s.slice != "*")
                .collect();
            regressed.sort_by(|a, b| {
                a.paired
                    .delta
                    .total_cmp(&b.paired.delta)
                    .then(a.slice.cmp(&b.slice))
            });
            let mut improved: Vec<&SliceComparison> = rows
                .iter()
                .copied()
                .filter(|s| s.status == Status::Improved && s.slice != "*")
                .collect();
            improved.sort_by(|a, b| {
                b.paired
                    .delta
                    .total_cmp(&a.paired.delta)
                    .then(a.slice.cmp(&b.slice))
            });
            let _ = writeln!(out, "## {}\n", md_cell(&p.benchmark));
            let links: Vec<String> = charts
                .iter()
                .filter(|f| f.benchmark == p.benchmark)
                .map(|f| {
                    let title = md_cell(&f.title).replace(['[', ']'], "");
                    format!("[{title}]({}) ([PNG]({}))", f.svg, f.png)
                })
                .collect();
            if !links.is_empty() {
                let _ = writeln!(out, "Charts: {}.\n", links.join(", "));
            }
            if regressed.is_empty() {
                let _ = writeln!(out, "No slice regressed significantly.\n");
            } else {
                let _ = writeln!(out, "Regressed slices, largest drop first:\n");
                slice_table(&mut out, &regressed[..regressed.len().min(15)]);
                if regressed.len() > 15 {
                    let _ = writeln!(out, "\n…and {} more in `comparison.csv`.", regressed.len() - 15);
                }
                let _ = writeln!(out);
                if let Some(top) = regressed.first() {
                    if !top.regressed_ids.is_empty() {
                        let _ = writeln!(
                            out,
                            "Items that regressed in `{}` (first {} of {}): {}\n",
                            md_cell(&top.slice),
                            top.regressed_ids.len().min(10),
                            top.regressed,
                            top.regressed_ids
                                .iter()
                                .take(10)
                                .map(|s| format!("`{}`", md_cell(s)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                }
            }
            if !improved.is_empty() {
                let _ = writeln!(out, "Improved slices:\n");
                slice_table(&mut out, &improved[..improved.len().min(10)]);
                let _ = writeln!(out);
            }
        }
    }
    if !input.coverage.is_empty() {
        let _ = writeln!(out, "## Tag coverage\n");
        let axes: Vec<&str> = input.coverage[0]
            .unknown
            .iter()
            .map(|(a, _)| a.as_str())
            .collect();
        let _ = writeln!(
            out,
            "Share of items with no value (`unknown`) per axis; n/a where no item of the benchmark has a value on the axis (no rule of the taxonomy applies to it).\n"
        );
        let _ = writeln!(out, "| benchmark | items | {} |", axes.join(" | "));
        let _ = writeln!(out, "|---|---:|{}", "---:|".repeat(axes.len()));
        for cov in input.coverage {
            let shares: Vec<String> = cov
                .unknown
                .iter()
                .map(|(_, n)| {
                    if *n == cov.items {
                        "n/a".to_string()
                    } else {
                        pct(*n as f64 / cov.items.max(1) as f64)
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md_cell(&cov.benchmark),
                cov.items,
                shares.join(" | ")
            );
        }
        let _ = writeln!(out);
    }
    if let Some(ing) = input.ingest {
        let _ = writeln!(out, "## Inputs\n");
        let rows: usize = ing.files.iter().map(|f| f.rows).sum();
        let _ = writeln!(
            out,
            "{} files, {} rows read; {} records skipped; {} files ignored.\n",
            ing.files.len(),
            rows,
            ing.skipped.len(),
            ing.ignored.len()
        );
        if !ing.skipped.is_empty() {
            let _ = writeln!(out, "Skipped records (`--skip-bad`):\n");
            for s in ing.skipped.iter().take(50) {
                let _ = writeln!(
                    out,
                    "- `{}`{}: {}",
                    md_cell(&s.location),
                    s.field
                        .as_ref()
                        .map(|f| format!(" field `{}`", md_cell(f)))
                        .unwrap_or_default(),
                    md_cell(&s.message)
                );
            }
            if ing.skipped.len() > 50 {
                let _ = writeln!(out, "- …and {} more in `ingest.json`", ing.skipped.len() - 50);
            }
            let _ = writeln!(out);
        }
        for w in &ing.warnings {
            let _ = writeln!(out, "- warning: {}", md_cell(w));
        }
        if !ing.warnings.is_empty() {
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(
        out,
        "Files: `slices.csv` (every slice of every run), `comparison.csv` (every slice compared, with item ids), `samples.parquet` (the tagged sample table){}.",
        if charts.is_empty() {
            ""
        } else {
            ", `report.html` (this report with its charts, one file) and `charts/` (SVG and PNG)"
        }
    );
    out
}
