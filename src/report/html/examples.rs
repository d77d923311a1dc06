//! Example items in `report.html`: excerpts of what the model saw and said,
//! escaped, the prompt keeping its end (where the question is).

use std::fmt::Write;

use super::*;

/// The first `n` characters of `s`, and how many were left out.
fn head(s: &str, n: usize) -> (String, usize) {
    let total = s.chars().count();
    (s.chars().take(n).collect(), total.saturating_sub(n))
}

/// The last `n` characters of `s`, and how many were left out.
fn tail(s: &str, n: usize) -> (String, usize) {
    let total = s.chars().count();
    let skip = total.saturating_sub(n);
    (s.chars().skip(skip).collect(), skip)
}

fn text_block(out: &mut String, label: &str, text: Option<&str>, keep_end: bool, n: usize) {
    let Some(text) = text else {
        return;
    };
    let (shown, cut) = if keep_end { tail(text, n) } else { head(text, n) };
    let note = if cut == 0 {
        String::new()
    } else if keep_end {
        format!(" <span class=\"note\">(last {n} characters; {cut} before)</span>")
    } else {
        format!(" <span class=\"note\">(first {n} characters; {cut} more)</span>")
    };
    let _ = writeln!(
        out,
        "<div class=\"text\"><div class=\"label\">{}{note}</div><pre>{}{}{}</pre></div>",
        escape(label),
        if cut > 0 && keep_end { "…" } else { "" },
        escape(&shown),
        if cut > 0 && !keep_end { "…" } else { "" }
    );
}

fn score(x: Option<f64>) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string(),
        _ => "–".to_string(),
    }
}

pub(super) fn examples_html(out: &mut String, examples: &[&ExampleItem]) {
    out.push_str("<h3>Example items</h3>\n");
    let mut slices: Vec<&str> = Vec::new();
    for e in examples {
        if !slices.contains(&e.slice.as_str()) {
            slices.push(&e.slice);
        }
    }
    for slice in slices {
        let _ = writeln!(out, "<h4><code>{}</code></h4>", escape(slice));
        for e in examples.iter().filter(|e| e.slice == slice) {
            let _ = write!(
                out,
                "<article class=\"example\">\n<p class=\"item\">item <code>{}</code>",
                escape(&e.item_id)
            );
            if e.baseline_score.is_some() || e.candidate_score.is_some() {
                let _ = write!(
                    out,
                    " · score {} → {}",
                    score(e.baseline_score),
                    score(e.candidate_score)
                );
            }
            out.push_str("</p>\n");
            text_block(out, "Prompt", e.prompt.as_deref(), true, PROMPT_CHARS);
            text_block(out, "Target", e.target.as_deref(), false, TARGET_CHARS);
            out.push_str("<div class=\"pair\">\n");
            text_block(
                out,
                "Baseline response",
                e.baseline_response.as_deref(),
                false,
                RESPONSE_CHARS,
            );
            text_block(
                out,
                "Candidate response",
                e.candidate_response.as_deref(),
                false,
                RESPONSE_CHARS,
            );
            out.push_str("</div>\n</article>\n");
        }
    }
}
