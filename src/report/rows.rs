//! What `report.md` and `report.html` both show of the diagnosis, prepared
//! once: the format-health rows (column names and figures) and the
//! weakness kind of each verdict. Each renderer escapes text for its own
//! format and lays out its own table; nothing here knows markdown or HTML.

use crate::diagnose::health::FormatHealth;
use crate::diagnose::weakness::WeaknessKind;
use crate::diagnose::Evidence;
use crate::report::num::pct;

/// The columns of the format-health table, in order.
pub const HEALTH_COLUMNS: [&str; 14] = [
    "run",
    "benchmark",
    "samples",
    "no answer",
    "limit hit",
    "run-on",
    "accuracy",
    "re-scored",
    "gold prefix",
    "accepted given prefix",
    "extra suffix",
    "suffix mean / p50 / p90",
    "answer p50 / p90",
    "suffixes start with",
];

/// One row of the format-health table; text (run, benchmark, suffixes) is
/// raw, for the renderer to escape.
pub struct HealthRow<'a> {
    pub run: &'a str,
    /// Extraction failures passed the configured share.
    pub warned: bool,
    pub benchmark: &'a str,
    /// The columns from `samples` to `answer p50 / p90`, rendered.
    pub figures: [String; 11],
    /// The three most frequent suffix starts (newlines shown as `\n`) and their counts.
    pub suffix_starts: Vec<(String, u32)>,
}

impl<'a> HealthRow<'a> {
    pub fn of(h: &'a FormatHealth) -> HealthRow<'a> {
        let a = &h.audit;
        HealthRow {
            run: &h.run,
            warned: h.warning.is_some(),
            benchmark: &h.benchmark,
            figures: [
                h.samples.to_string(),
                pct(h.extraction_failure_rate),
                pct(h.truncation_rate),
                pct(h.run_on_rate),
                pct(h.accuracy),
                pct(h.rescored_accuracy),
                pct(a.gold_prefix),
                pct(a.accepted_given_prefix),
                pct(a.extra_suffix),
                format!(
                    "{:.1} / {} / {}",
                    a.suffix_len_mean, a.suffix_len_p50, a.suffix_len_p90
                ),
                format!("{} / {}", a.answer_len_p50, a.answer_len_p90),
            ],
            suffix_starts: a
                .suffix_starts
                .iter()
                .take(3)
                .map(|(s, n)| (s.replace('\n', "\\n"), *n))
                .collect(),
        }
    }
}

/// A weakness kind a verdict states.
pub struct KindRow<'a> {
    pub benchmark: &'a str,
    pub kind: WeaknessKind,
    /// The slice the kind was read from (`?` when not recorded).
    pub slice: &'a str,
}

/// The verdicts that state a weakness kind, in verdict order.
pub fn weakness_kinds(e: &Evidence) -> Vec<KindRow<'_>> {
    e.verdicts
        .iter()
        .filter_map(|v| {
            Some(KindRow {
                benchmark: &v.benchmark,
                kind: v.weakness_kind?,
                slice: v.weakness_kind_slice.as_deref().unwrap_or("?"),
            })
        })
        .collect()
}

/// The first three example item ids of a slice, each cut to at most 12
/// bytes (at a character boundary).
pub fn example_ids(items: &[String]) -> Vec<&str> {
    let cut = |i: &'_ String| -> usize {
        let mut end = i.len().min(12);
        while !i.is_char_boundary(end) {
            end -= 1;
        }
        end
    };
    items.iter().take(3).map(|i| &i[..cut(i)]).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_ids_are_cut_at_a_character_boundary() {
        let ids = [
            "0123456789abcdef".to_string(),
            "ab".into(),
            "ééééééé".into(),
            "x".into(),
        ];
        assert_eq!(super::example_ids(&ids), ["0123456789ab", "ab", "éééééé"]);
    }
}
