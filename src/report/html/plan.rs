//! The plan section of `report.html`: interventions with their evidence
//! chain and hypotheses, then the mixture before and after.

use std::fmt::Write;

use super::{escape, Page};
use crate::plan::{human_tokens, Bound};
use crate::report::num::{pct, pp};
use crate::report::{ReportInput, Sections};

pub(super) fn section(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(plan) = sections.plan else { return };
    page.section("plan", "Plan");
    let _ = writeln!(
        page.body,
        "<p class=\"lede\">{} interventions, {} unmapped weak slices; mixture {}. Every entry's chain (items → slice → statistics → rule → expected effect) is in <code>plan.md</code>.</p>",
        plan.interventions.len(),
        plan.unmapped.len(),
        if plan.mixture.changed { "changed" } else { "unchanged" }
    );
    if !plan.interventions.is_empty() {
        page.body.push_str("<table>\n<caption>Interventions and what each predicts for the next evaluation</caption>\n<thead><tr><th>id</th><th>kind</th><th>benchmark</th><th>slice</th><th class=\"num\">effect, pp</th><th class=\"num\">q</th><th>rules</th><th>prediction</th></tr></thead>\n<tbody>\n");
        for i in &plan.interventions {
            let rules = i
                .mapped
                .as_ref()
                .map(|m| m.rules.join(", "))
                .or_else(|| i.training_fix.as_ref().map(|f| f.rule.clone()))
                .unwrap_or_default();
            let prediction = match (&i.hypothesis, &i.growth) {
                (Some(h), _) => h.statement.clone(),
                (None, Some(g)) => format!("add {} items ({} → {})", g.add, g.items, g.items_needed),
                _ => String::new(),
            };
            let _ = writeln!(
                page.body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2e}</td><td><code>{}</code></td><td>{}</td></tr>",
                escape(&i.id),
                i.kind.as_str(),
                escape(&i.benchmark),
                escape(&i.slice),
                pp(i.evidence.effect),
                i.evidence.q_value,
                escape(&rules),
                escape(&prediction)
            );
        }
        page.body.push_str("</tbody>\n</table>\n");
    }
    if !plan.unmapped.is_empty() {
        page.body.push_str("<p>Weak slices no mapping rule covers: ");
        let names: Vec<String> = plan
            .unmapped
            .iter()
            .map(|u| format!("<code>{}</code> ({})", escape(&u.slice), escape(&u.benchmark)))
            .collect();
        let _ = writeln!(page.body, "{}.</p>", names.join(", "));
    }
    let m = &plan.mixture;
    let _ = writeln!(
        page.body,
        "<table>\n<caption>Mixture of data taxonomy {} for a {}-token run (changed categories first)</caption>\n<thead><tr><th>category</th><th class=\"num\">base</th><th class=\"num\">new</th><th class=\"num\">change, pp</th><th class=\"num\">tokens</th><th class=\"num\">epochs</th><th>bound</th></tr></thead>\n<tbody>",
        escape(&m.data_taxonomy),
        human_tokens(m.budget_tokens)
    );
    let mut rows: Vec<_> = m.categories.iter().collect();
    rows.sort_by(|a, b| {
        b.change
            .abs()
            .total_cmp(&a.change.abs())
            .then(a.category.cmp(&b.category))
    });
    for r in rows {
        let bound = match r.bound {
            Some(Bound::Cap) => "cap",
            Some(Bound::Epochs) => "epochs",
            Some(Bound::Floor) => "floor",
            None => "",
        };
        let _ = writeln!(
            page.body,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td><td>{bound}</td></tr>",
            escape(&r.category),
            pct(r.base_share),
            pct(r.new_share),
            pp(r.change),
            human_tokens(r.tokens),
            r.epochs
        );
    }
    page.body.push_str("</tbody>\n</table>\n");
}
