//! `plan.md`: each decision in plain words, with its evidence chain
//! (items -> slice -> statistics -> mapping rule -> plan entry -> expected effect).

use std::fmt::Write;

use super::{human_tokens, Intervention, Kind, Plan};
use crate::report::num::{pct_bare, q4_bare};

fn chain(out: &mut String, i: &Intervention) {
    let e = &i.evidence;
    let items = if e.example_items.is_empty() {
        "all paired items of the benchmark".to_string()
    } else {
        e.example_items
            .iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "1. **Items**: {items}.");
    let what = match e.source.as_str() {
        "data_in" => "mean paired change in the slice",
        "weak" => "slice mean minus the rest of the benchmark",
        _ => "paired change of the benchmark",
    };
    let p = e.p_value.map_or(String::new(), |p| format!(", p {}", q4_bare(p)));
    let _ = writeln!(
        out,
        "2. **Slice** `{}` of {}: {} items, mean {:.3}.",
        i.slice, i.benchmark, e.items, e.mean
    );
    let _ = writeln!(
        out,
        "3. **Statistics** ({}): {what} {} points, 95% CI [{}, {}]{p}, q {}.",
        e.source,
        pct_bare(e.effect),
        pct_bare(e.ci_low),
        pct_bare(e.ci_high),
        q4_bare(e.q_value)
    );
    if let Some(m) = &i.mapped {
        let rules: Vec<String> = m
            .rules
            .iter()
            .zip(&m.rationale)
            .map(|(r, why)| format!("`{r}` ({why})"))
            .collect();
        let _ = writeln!(out, "4. **Mapping**: {}.", rules.join("; "));
        let cats: Vec<String> = m
            .categories
            .iter()
            .map(|(c, w)| format!("`{c}` x {w:.2}"))
            .collect();
        let _ = writeln!(
            out,
            "5. **Plan entry**: weakness w = {:.4} spread over {}.",
            m.weakness,
            cats.join(", ")
        );
    }
    if let Some(p) = &i.patch {
        let _ = writeln!(
            out,
            "6. **Patch**: about {} tokens of {}. Why: {}",
            human_tokens(p.tokens),
            p.kind,
            p.why
        );
    }
    if let Some(f) = &i.training_fix {
        let _ = writeln!(
            out,
            "4. **Diagnosis rule** `{}` ({}): format failures explain {}% of the drop; format-tolerant re-scoring recovers {}%.",
            f.rule,
            f.fix,
            pct_bare(f.format_share_of_drop),
            pct_bare(f.recovered_by_rescoring)
        );
        let _ = writeln!(out, "5. **Action**: {}", f.action);
    }
    if let Some(g) = &i.growth {
        let _ = writeln!(
            out,
            "4. **Eval size**: {} items now, {} needed: add {} items of this slice.",
            g.items, g.items_needed, g.add
        );
    }
    if let Some(h) = &i.hypothesis {
        let _ = writeln!(out, "- **Expected effect** ({}): {}", h.id, h.statement);
        for t in &h.targets {
            let need = t.items_needed.map_or("unknown".to_string(), |n| n.to_string());
            let _ = writeln!(
                out,
                "  - target `{}` on {}: +{} points or more; {} items, {} needed to see it.",
                t.slice,
                t.benchmark,
                pct_bare(t.min_effect),
                t.items,
                need
            );
        }
        for g in &h.guardrails {
            let _ = writeln!(
                out,
                "  - guardrail `{}` on {}: must not drop more than {} points.",
                g.slice,
                g.benchmark,
                pct_bare(g.max_drop)
            );
        }
    }
}

/// Render the plan.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let ev = &plan.evaluation;
    let _ = writeln!(out, "# caploop plan\n");
    let runs = match &ev.baseline {
        Some(b) => format!("`{}` against `{b}`", ev.candidate),
        None => format!("`{}` (no baseline)", ev.candidate),
    };
    let _ = writeln!(out, "Diagnosis of {runs}: **{}**. {}\n", ev.verdict, ev.reason);
    let count = |k: Kind| plan.interventions.iter().filter(|i| i.kind == k).count();
    let _ = writeln!(
        out,
        "{} interventions: {} data upweights, {} data patches, {} training fixes, {} eval growths. {} weak slices unmapped. Mixture {}.\n",
        plan.interventions.len(),
        count(Kind::DataUpweight),
        count(Kind::DataPatch),
        count(Kind::TrainingFix),
        count(Kind::EvalGrowth),
        plan.unmapped.len(),
        if plan.mixture.changed { "changed" } else { "unchanged" }
    );
    let _ = writeln!(out, "## Interventions\n");
    if plan.interventions.is_empty() {
        let _ = writeln!(out, "None: nothing in the evidence calls for a change.\n");
    }
    for i in &plan.interventions {
        let _ = writeln!(out, "### {} `{}`: {}\n", i.id, i.kind.as_str(), i.summary);
        chain(&mut out, i);
        out.push('\n');
    }
    let _ = writeln!(out, "## Mixture\n");
    let m = &plan.mixture;
    let _ = writeln!(
        out,
        "Data taxonomy `{}`, budget {} tokens. {}\n",
        m.data_taxonomy,
        human_tokens(m.budget_tokens),
        if m.changed {
            "Changed categories first."
        } else {
            "No data intervention: the base mixture stands."
        }
    );
    let _ = writeln!(
        out,
        "| category | base share | new share | change | tokens | available | epochs | bound |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|");
    let mut rows: Vec<&super::MixtureRow> = m.categories.iter().collect();
    rows.sort_by(|a, b| {
        b.change
            .abs()
            .total_cmp(&a.change.abs())
            .then(a.category.cmp(&b.category))
    });
    for r in rows {
        let bound = r.bound.map_or("", |b| match b {
            super::Bound::Cap => "cap",
            super::Bound::Epochs => "epochs",
            super::Bound::Floor => "floor",
        });
        let _ = writeln!(
            out,
            "| `{}` | {:.4} | {:.4} | {:+.4} | {} | {} | {:.2} | {bound} |",
            r.category,
            r.base_share,
            r.new_share,
            r.change,
            human_tokens(r.tokens),
            human_tokens(r.tokens_available),
            r.epochs
        );
    }
    out.push('\n');
    let _ = writeln!(out, "## Unmapped weak slices\n");
    if plan.unmapped.is_empty() {
        let _ = writeln!(out, "None: every data slice matched a mapping rule.\n");
    } else {
        let _ = writeln!(out, "No mapping rule covers these; write one to act on them.\n");
        for u in &plan.unmapped {
            let _ = writeln!(
                out,
                "- `{}` on {}: {} items, effect {} points, q {}; items {}",
                u.slice,
                u.benchmark,
                u.evidence.items,
                pct_bare(u.evidence.effect),
                q4_bare(u.evidence.q_value),
                u.evidence.example_items.join(", ")
            );
        }
        out.push('\n');
    }
    if !plan.not_acted.is_empty() {
        let _ = writeln!(out, "## Not acted on\n");
        for n in &plan.not_acted {
            let _ = writeln!(out, "- {} ({}): {}", n.benchmark, n.verdict, n.reason);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Inputs\n");
    for f in &plan.inputs {
        let _ = writeln!(out, "- {} `{}` sha256 `{}`", f.role, f.path, f.sha256);
    }
    out
}

/// The plan's section of `report.md`: what to do, one line per
/// intervention, and where the full chain is.
pub fn section(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Plan\n");
    if plan.interventions.is_empty() {
        let _ = writeln!(
            out,
            "No intervention: nothing in the diagnosis calls for a change.\n"
        );
    }
    for i in &plan.interventions {
        let _ = writeln!(out, "- **{}** `{}`: {}", i.id, i.kind.as_str(), i.summary);
    }
    if !plan.unmapped.is_empty() {
        let _ = writeln!(
            out,
            "- {} weak slices have no mapping rule (listed in plan.md).",
            plan.unmapped.len()
        );
    }
    let changed: Vec<String> = plan
        .mixture
        .categories
        .iter()
        .filter(|c| c.new_share != c.base_share)
        .map(|c| {
            format!(
                "`{}` {:.2}% -> {:.2}%",
                c.category,
                100.0 * c.base_share,
                100.0 * c.new_share
            )
        })
        .collect();
    if changed.is_empty() {
        let _ = writeln!(out, "\nMixture unchanged.");
    } else {
        let shown = changed.len().min(8);
        let _ = writeln!(
            out,
            "\nMixture: {}{}.",
            changed[..shown].join(", "),
            if changed.len() > shown { ", ..." } else { "" }
        );
    }
    let _ = writeln!(
        out,
        "\nThe evidence chain of every entry (items, slice, statistics, rule, expected effect) is in [plan.md](plan.md); the machine-readable plan is plan.json.\n"
    );
    out
}
