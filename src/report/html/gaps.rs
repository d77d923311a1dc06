//! The taxonomy-gap section: phrases of the items' own text where the
//! regression concentrates more than in any tag slice, with the suggested rule.

use std::fmt::Write;

use super::{escape, Page};
use crate::report::{ReportInput, Sections};

pub(super) fn section(page: &mut Page<'_>, _: &ReportInput<'_>, sections: &Sections<'_>) {
    let Some(e) = sections.diagnosis else { return };
    if e.gaps.is_empty() {
        return;
    }
    page.section("gaps", "Taxonomy gaps");
    page.body.push_str("<p>Word uni/bigrams of each item's own doc fields, searched with the tags on the regression indicator. A gap is a significant slice holding a phrase that scores above the best tag slice.</p>\n");
    for g in &e.gaps {
        let _ = writeln!(
            page.body,
            "<h3>{}</h3>\n<p>Fields {}; {} items, {} regressed; {} phrases. Best tag slice: {} (score {:.3}).</p>",
            escape(&g.benchmark),
            escape(&g.fields.join(", ")),
            g.items,
            g.regressed_items,
            g.features,
            escape(g.best_tag_slice.as_deref().unwrap_or("none")),
            g.best_tag_score
        );
        if g.explained_by_tags {
            page.body.push_str("<p>No phrase concentrates the regression more than the best tag slice: the tags explain it.</p>\n");
            continue;
        }
        page.body.push_str("<table>\n<tr><th>slice</th><th>items</th><th>regressed share</th><th>delta in</th><th>delta out</th><th>q</th><th>score</th></tr>\n");
        for x in &g.gaps {
            let _ = writeln!(
                page.body,
                "<tr><td><code>{}</code></td><td>{}</td><td>{:.2}</td><td>{:+.3}</td><td>{:+.3}</td><td>{:.2e}</td><td>{:.3}</td></tr>",
                escape(&x.slice),
                x.items,
                x.error_rate,
                x.effect_in,
                x.effect_out,
                x.q_value,
                x.score
            );
        }
        page.body.push_str("</table>\n");
        if let Some(x) = g.gaps.first() {
            page.body.push_str("<ul>\n");
            for ex in &x.examples {
                let _ = writeln!(
                    page.body,
                    "<li><code>{}</code>: {}</li>",
                    escape(&ex.item),
                    escape(&ex.text)
                );
            }
            page.body
                .push_str("</ul>\n<p>Suggested rule (passes <code>caploop check</code>):</p>\n");
            let _ = writeln!(page.body, "<pre>{}</pre>", escape(&x.suggested_rule));
        }
    }
    page.end();
}
