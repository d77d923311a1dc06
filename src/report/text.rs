//! Text from logs (run ids, item ids, task names, item text) reaches the
//! markdown reports. Markdown renderers pass raw HTML through, so a `<tag>`
//! in a model name or item id would become markup; and bidirectional
//! override characters can make a line read differently from what it says
//! ("Trojan Source"). Every markdown file caploop writes goes through
//! [`markdown_safe`], and every HTML text through `html::escape`, which both
//! show such characters as visible `⟨U+202E⟩` marks.

/// Bidirectional embedding, override and isolate controls (and the Arabic
/// letter mark): invisible, and able to reorder what a reader sees.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// A visible stand-in for an invisible control.
pub fn visible(c: char) -> String {
    format!("⟨U+{:04X}⟩", c as u32)
}

/// Markdown-table cell text: a pipe or a newline would break the table.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `md` with raw HTML disarmed: outside code spans and fenced blocks `<`
/// becomes `&lt;` (a tag can no longer open) and the `&` of an entity
/// (`&name;`, `&#123;`) becomes `&amp;` (none is decoded); code is left alone, since
/// renderers show it literally. Bidi controls are made visible everywhere.
pub fn markdown_safe(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + md.len() / 16);
    let mut fenced = false;
    for line in md.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            push_visible(&mut out, line);
            continue;
        }
        if fenced {
            push_visible(&mut out, line);
            continue;
        }
        // Code spans: a run of n backticks closes at the next run of n.
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut in_code: Option<usize> = None;
        while i < chars.len() {
            let c = chars[i];
            if c == '`' {
                let mut n = 1;
                while i + n < chars.len() && chars[i + n] == '`' {
                    n += 1;
                }
                match in_code {
                    None => in_code = Some(n),
                    Some(m) if m == n => in_code = None,
                    Some(_) => {}
                }
                (0..n).for_each(|_| out.push('`'));
                i += n;
                continue;
            }
            if is_bidi_control(c) {
                out.push_str(&visible(c));
            } else if in_code.is_none() && c == '<' {
                out.push_str("&lt;");
            } else if in_code.is_none() && c == '&' && starts_entity(&chars[i + 1..]) {
                out.push_str("&amp;");
            } else {
                out.push(c);
            }
            i += 1;
        }
    }
    out
}

/// True when `rest` (after an `&`) reads as an entity: `name;` or `#123;`.
fn starts_entity(rest: &[char]) -> bool {
    let body = rest
        .iter()
        .take(33)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    body > 0 && rest.get(body) == Some(&';')
}

fn push_visible(out: &mut String, s: &str) {
    for c in s.chars() {
        if is_bidi_control(c) {
            out.push_str(&visible(c));
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_in_markdown_is_disarmed_outside_code() {
        let md = "run <script>alert(1)</script> & Q&A &amp; &#60; `a<b>` q < 0.05\n```yaml\nx: <y>\n```\n";
        assert_eq!(
            markdown_safe(md),
            "run &lt;script>alert(1)&lt;/script> & Q&A &amp;amp; &amp;#60; `a<b>` q &lt; 0.05\n```yaml\nx: <y>\n```\n"
        );
    }

    #[test]
    fn bidi_overrides_are_made_visible_everywhere() {
        let md = "id a\u{202E}cba `x\u{2066}y`\n```\n\u{202D}\n```\n";
        assert_eq!(
            markdown_safe(md),
            "id a⟨U+202E⟩cba `x⟨U+2066⟩y`\n```\n⟨U+202D⟩\n```\n"
        );
    }

    #[test]
    fn our_own_markdown_is_unchanged() {
        let md = "## Summary\n\n| slice | q |\n|---|---:|\n| `operation=x & y` | 0.01 |\n\n- **I1** `data_patch`: ckpt-1 -> ckpt-2 (+3.0 pp)\n";
        assert_eq!(markdown_safe(md), md);
    }
}
