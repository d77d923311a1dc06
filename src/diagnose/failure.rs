//! Failure modes of failed samples, by configurable detectors (DESIGN section 6).
//!
//! A failed sample is `empty`, `truncated` (finish reason `length`, or the
//! response reaches the generation limit), `runaway` (it goes on past its
//! answer: a new exemplar or a chat-template token appears, it repeats
//! itself, or its first complete answer comes early and much more text
//! follows), `no_answer` (extraction failed, e.g. `[invalid]`, or a stricter
//! filter failed where another filter of the same sample succeeded), else
//! `wrong`. The first four are format failures; `wrong` is a content failure.
//! Loglikelihood (multiple-choice) samples have no generated text and can
//! only be `wrong`.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Why a sample failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    Empty,
    Truncated,
    Runaway,
    NoAnswer,
    Wrong,
}

impl FailureMode {
    pub const ALL: [FailureMode; 5] = [
        FailureMode::Empty,
        FailureMode::Truncated,
        FailureMode::Runaway,
        FailureMode::NoAnswer,
        FailureMode::Wrong,
    ];

    pub fn is_format(self) -> bool {
        self != FailureMode::Wrong
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureMode::Empty => "empty",
            FailureMode::Truncated => "truncated",
            FailureMode::Runaway => "runaway",
            FailureMode::NoAnswer => "no_answer",
            FailureMode::Wrong => "wrong",
        }
    }
}

/// Detector thresholds; every one is printed in the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detectors {
    /// Text that starts a new exemplar or leaks a template token: a response
    /// containing one ran past its end.
    pub runaway_markers: Vec<String>,
    /// Markers that come from a chat template (a subset of the above).
    pub chat_template_markers: Vec<String>,
    /// A line of at least `repeat_min_chars` seen `repeat_min_count` times is a loop.
    pub repeat_min_chars: usize,
    pub repeat_min_count: usize,
    /// The first complete answer ends within this fraction of the response
    /// and at least `early_min_tail_chars` follow it: the response went on.
    pub early_answer_fraction: f64,
    pub early_min_tail_chars: usize,
    /// Without token counts, a response of at least this many characters per
    /// token of the generation limit counts as reaching it.
    pub chars_per_token: f64,
    /// Finish reasons that mean the limit was hit.
    pub length_reasons: Vec<String>,
    /// Extracted answers that mean extraction failed.
    pub invalid_answers: Vec<String>,
}

impl Default for Detectors {
    fn default() -> Self {
        Detectors {
            runaway_markers: [
                "\n\nQ:",
                "\n\nQuestion:",
                "\n\nProblem:",
                "<|im_end|>",
                "<|im_start|>",
                "<|eot_id|>",
                "<|endoftext|>",
                "</s>",
            ]
            .map(String::from)
            .to_vec(),
            chat_template_markers: [
                "<|im_end|>",
                "<|im_start|>",
                "<|eot_id|>",
                "<|endoftext|>",
                "</s>",
            ]
            .map(String::from)
            .to_vec(),
            repeat_min_chars: 20,
            repeat_min_count: 3,
            early_answer_fraction: 0.5,
            early_min_tail_chars: 200,
            chars_per_token: 3.0,
            length_reasons: ["length", "max_tokens", "model_length"]
                .map(String::from)
                .to_vec(),
            invalid_answers: ["[invalid]", ""].map(String::from).to_vec(),
        }
    }
}

/// What the detectors look at in one failed sample.
pub struct FailedSample<'a> {
    pub response: Option<&'a str>,
    pub extracted: Option<&'a str>,
    pub finish_reason: Option<&'a str>,
    pub response_tokens: Option<u32>,
    pub response_chars: u32,
    pub max_gen_toks: Option<u32>,
    /// Another filter of the same sample scored it correct.
    pub other_filter_correct: bool,
    /// Byte offset where the first complete answer ends, if the
    /// format-tolerant extraction found one.
    pub first_answer_end: Option<usize>,
    /// The task generates text (false for loglikelihood tasks).
    pub generative: bool,
}

fn repeats(text: &str, min_chars: usize, min_count: usize) -> bool {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for piece in text
        .split(['\n', '.'])
        .map(str::trim)
        .filter(|l| l.len() >= min_chars)
    {
        let c = counts.entry(piece).or_insert(0);
        *c += 1;
        if *c >= min_count {
            return true;
        }
    }
    false
}

/// The failure mode of a failed sample.
pub fn classify(s: &FailedSample<'_>, d: &Detectors) -> FailureMode {
    if !s.generative {
        return FailureMode::Wrong;
    }
    let text = s.response.unwrap_or("");
    if text.trim().is_empty() {
        return FailureMode::Empty;
    }
    let hit_length = s
        .finish_reason
        .is_some_and(|r| d.length_reasons.iter().any(|l| l == r))
        || match (s.response_tokens, s.max_gen_toks) {
            (Some(t), Some(m)) => t + 1 >= m,
            (None, Some(m)) => f64::from(s.response_chars) >= d.chars_per_token * f64::from(m),
            _ => false,
        };
    if hit_length {
        return FailureMode::Truncated;
    }
    let early = s.first_answer_end.is_some_and(|end| {
        let tail = text.len().saturating_sub(end);
        (end as f64) <= d.early_answer_fraction * text.len() as f64 && tail >= d.early_min_tail_chars
    });
    if d.runaway_markers.iter().any(|m| text.contains(m.as_str()))
        || repeats(text, d.repeat_min_chars, d.repeat_min_count)
        || early
    {
        return FailureMode::Runaway;
    }
    let invalid = s
        .extracted
        .is_none_or(|e| d.invalid_answers.iter().any(|i| i == e.trim()));
    if invalid || s.other_filter_correct {
        return FailureMode::NoAnswer;
    }
    FailureMode::Wrong
}

/// Does the response leak a chat-template token?
pub fn leaks_template(response: &str, d: &Detectors) -> bool {
    d.chat_template_markers
        .iter()
        .any(|m| response.contains(m.as_str()))
}

/// Compile a user pattern, naming it in the error.
pub fn compile(pattern: &str) -> crate::Result<Regex> {
    Regex::new(pattern).map_err(|e| crate::Error::usage(format!("invalid pattern '{pattern}': {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(response: &str) -> FailedSample<'_> {
        FailedSample {
            response: Some(response),
            extracted: Some("7"),
            finish_reason: None,
            response_tokens: None,
            response_chars: response.chars().count() as u32,
            max_gen_toks: Some(256),
            other_filter_correct: false,
            first_answer_end: None,
            generative: true,
        }
    }

    #[test]
    fn modes_follow_their_detectors() {
        let d = Detectors::default();
        assert_eq!(classify(&sample("  "), &d), FailureMode::Empty);
        assert_eq!(classify(&sample("So the answer is 8."), &d), FailureMode::Wrong);
        assert_eq!(
            classify(&sample("So the answer is 8.\n\nQ: next question"), &d),
            FailureMode::Runaway
        );
        assert_eq!(classify(&sample(&"x".repeat(800)), &d), FailureMode::Truncated);
        let mut s = sample("I think it is eight");
        s.extracted = Some("[invalid]");
        assert_eq!(classify(&s, &d), FailureMode::NoAnswer);
        let mut s = sample("The answer is 8");
        s.other_filter_correct = true;
        assert_eq!(classify(&s, &d), FailureMode::NoAnswer);
        let looping = "Let me check that step again.\n".repeat(4);
        assert_eq!(classify(&sample(&looping), &d), FailureMode::Runaway);
        let mut s = sample("The answer is 8.");
        s.finish_reason = Some("length");
        assert_eq!(classify(&s, &d), FailureMode::Truncated);
        let mut s = sample("0");
        s.generative = false;
        assert_eq!(classify(&s, &d), FailureMode::Wrong);
    }

    #[test]
    fn an_early_answer_followed_by_much_text_is_a_runaway() {
        let d = Detectors::default();
        let text = format!("The answer is 8. {}", "and then some more words ".repeat(20));
        let mut s = sample(&text);
        s.first_answer_end = Some(16);
        assert_eq!(classify(&s, &d), FailureMode::Runaway);
        s.first_answer_end = Some(text.len() - 10);
        assert_eq!(classify(&s, &d), FailureMode::Wrong);
    }
}
