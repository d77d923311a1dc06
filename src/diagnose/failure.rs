//! What every sample shows about its form, and why a failed sample failed
//! (DESIGN section 6), by configurable detectors.
//!
//! Observations are made on every sample, correct or not: extraction
//! failed, the generation limit was hit, the response went on after its
//! first complete answer (and by how much), it loops, it carries exemplar or
//! template markers.
//!
//! A failure is a *format* failure only when the format caused it (causal
//! attribution): the response is `empty`; no answer could be extracted
//! (`no_answer`, e.g. `[invalid]`, or a stricter filter failed where another
//! filter of the same sample succeeded); the limit was hit before any
//! complete answer (`truncated`); or the first complete answer is right and
//! the scored answer is not (`runaway`: the model knew the answer and did
//! not stop). A wrong first answer followed by run-on text is a content
//! failure (`wrong`) that also ran on. Loglikelihood (multiple-choice)
//! samples have no generated text and can only be `wrong`.
//!
//! A sample is *format-affected* when its form, not its content, decided
//! its score, whichever way: extraction failed, the limit came before any
//! answer, or the first complete answer's correctness differs from the
//! score. This does not condition on the sample being wrong, so the items
//! unaffected in both runs give an unbiased content comparison.

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
    /// token of the generation limit counts as reaching it (as does one with
    /// at least as many words as the limit has tokens: a word is at least a
    /// token).
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
            chars_per_token: 4.0,
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
    /// Is the first complete answer right? `None` without one (or without a target).
    pub first_answer_right: Option<bool>,
    /// The first complete answer itself.
    pub first_answer: Option<&'a str>,
}

/// What one sample shows, correct or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observation {
    pub extraction_failed: bool,
    pub limit_hit: bool,
    /// The limit was hit and no complete answer came before it.
    pub limit_before_answer: bool,
    /// Non-whitespace text follows the first complete answer.
    pub ran_on: bool,
    /// Characters after the first complete answer.
    pub tail_chars: u32,
    pub looped: bool,
    /// An exemplar, template or document marker appears.
    pub marker: bool,
    /// Form, not content, decided the score (see the module docs).
    pub affected: bool,
}

/// Observe one sample; `correct` is its score's verdict.
pub fn observe(s: &FailedSample<'_>, correct: bool, d: &Detectors) -> Observation {
    if !s.generative {
        return Observation::default();
    }
    let text = s.response.unwrap_or("");
    let extraction_failed = s
        .extracted
        .is_none_or(|e| d.invalid_answers.iter().any(|i| i == e.trim()));
    let limit_hit = hit_limit(s, d);
    let tail = s.first_answer_end.map(|end| text.get(end..).unwrap_or(""));
    // Closing punctuation after the answer (`The answer is (B).`) is not more text.
    let ran_on = tail.is_some_and(|t| {
        !t.trim_matches(|c: char| c.is_whitespace() || ".,;:!)]}\"'".contains(c))
            .is_empty()
    });
    let limit_before_answer = limit_hit && s.first_answer_end.is_none();
    // Did the form decide the score? Where the filter extracted an answer,
    // compare it with the first complete answer: no correctness involved,
    // so the unaffected items are an unbiased sample. Where the filter kept
    // the whole response (the metric reads it as it is), only the scores
    // can tell: the first answer's correctness differs from the score's.
    let identity = s.extracted.is_some_and(|e| e.trim() == text.trim());
    let differs = match (s.first_answer, identity) {
        (Some(first), false) => {
            let scored = s.extracted.unwrap_or("");
            crate::diagnose::rescore::normalize(scored) != crate::diagnose::rescore::normalize(first)
        }
        (Some(_), true) => s.first_answer_right.is_some_and(|right| right != correct),
        (None, _) => false,
    };
    let affected = extraction_failed || limit_before_answer || differs;
    Observation {
        extraction_failed,
        limit_hit,
        limit_before_answer,
        ran_on,
        tail_chars: tail.map_or(0, |t| t.chars().count() as u32),
        looped: repeats(text, d.repeat_min_chars, d.repeat_min_count),
        marker: d.runaway_markers.iter().any(|m| text.contains(m.as_str())),
        affected,
    }
}

fn hit_limit(s: &FailedSample<'_>, d: &Detectors) -> bool {
    s.finish_reason
        .is_some_and(|r| d.length_reasons.iter().any(|l| l == r))
        || match (s.response_tokens, s.max_gen_toks) {
            (Some(t), Some(m)) => t + 1 >= m,
            (None, Some(m)) => {
                f64::from(s.response_chars) >= d.chars_per_token * f64::from(m)
                    || s.response
                        .is_some_and(|t| t.split_whitespace().count() >= m as usize)
            }
            _ => false,
        }
}

fn repeats(text: &str, min_chars: usize, min_count: usize) -> bool {
    // `min_count` pieces of `min_chars` bytes do not fit in a shorter text.
    if text.len() < min_chars.saturating_mul(min_count) {
        return false;
    }
    let mut counts: rustc_hash::FxHashMap<&str, usize> = rustc_hash::FxHashMap::default();
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

/// The failure mode of a failed sample, by causal attribution (see the
/// module docs).
pub fn classify(s: &FailedSample<'_>, d: &Detectors) -> FailureMode {
    classify_observed(s, &observe(s, false, d))
}

/// [`classify`] with the sample's [`observe`] already at hand (what it
/// reads of the observation does not depend on correctness).
pub fn classify_observed(s: &FailedSample<'_>, o: &Observation) -> FailureMode {
    if !s.generative {
        return FailureMode::Wrong;
    }
    let text = s.response.unwrap_or("");
    if text.trim().is_empty() {
        return FailureMode::Empty;
    }
    // The limit came first: the model never got to an answer (whatever the
    // filter then made of the text).
    if o.limit_before_answer {
        return FailureMode::Truncated;
    }
    if o.extraction_failed {
        return FailureMode::NoAnswer;
    }
    if s.first_answer_right == Some(true) {
        // The model's own first answer was right; what was scored is not.
        return FailureMode::Runaway;
    }
    if s.other_filter_correct {
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
            extracted: Some("8"),
            finish_reason: None,
            response_tokens: None,
            response_chars: response.chars().count() as u32,
            max_gen_toks: Some(256),
            other_filter_correct: false,
            first_answer_end: None,
            generative: true,
            first_answer_right: None,
            first_answer: None,
        }
    }

    #[test]
    fn failures_are_format_failures_only_when_the_format_caused_them() {
        let d = Detectors::default();
        assert_eq!(classify(&sample("  "), &d), FailureMode::Empty);
        assert_eq!(classify(&sample("So the answer is 8."), &d), FailureMode::Wrong);
        // A wrong first answer that runs on is still a content failure.
        let text = "So the answer is 8.\n\nQ: next question";
        let mut s = sample(text);
        s.first_answer_end = Some(18);
        s.first_answer_right = Some(false);
        assert_eq!(classify(&s, &d), FailureMode::Wrong);
        assert!(observe(&s, false, &d).ran_on);
        // A right first answer, then the extraction took the run-on's answer.
        s.first_answer_right = Some(true);
        assert_eq!(classify(&s, &d), FailureMode::Runaway);
        // The limit before any answer.
        assert_eq!(classify(&sample(&"x".repeat(1100)), &d), FailureMode::Truncated);
        assert_eq!(classify(&sample(&"x ".repeat(256)), &d), FailureMode::Truncated);
        let mut s = sample("I think it is eight");
        s.extracted = Some("[invalid]");
        assert_eq!(classify(&s, &d), FailureMode::NoAnswer);
        let mut s = sample("The answer is 8");
        s.other_filter_correct = true;
        assert_eq!(classify(&s, &d), FailureMode::NoAnswer);
        let mut s = sample("The answer is 8.");
        s.finish_reason = Some("length");
        assert_eq!(classify(&s, &d), FailureMode::Truncated);
        let mut s = sample("0");
        s.generative = false;
        assert_eq!(classify(&s, &d), FailureMode::Wrong);
    }

    #[test]
    fn a_scored_first_answer_that_runs_on_is_not_affected() {
        let d = Detectors::default();
        let text = "#### 7\n\nQuestion: more\n#### 9";
        let mut s = sample(text);
        s.extracted = Some("7");
        s.first_answer = Some("7");
        s.first_answer_end = Some(6);
        s.first_answer_right = Some(true);
        let o = observe(&s, true, &d);
        assert!(o.ran_on && !o.affected && !o.extraction_failed);
        assert_eq!(o.tail_chars, text.chars().count() as u32 - 6);
        // The extraction took the run-on's answer: affected, right or wrong.
        s.extracted = Some("9");
        assert!(observe(&s, false, &d).affected);
        s.first_answer_right = Some(false);
        assert!(observe(&s, false, &d).affected);
        // A filter that keeps the whole response: the scores decide.
        let mut s = sample("(E)<begin_url>http://x");
        s.extracted = s.response;
        s.first_answer = Some("(E)");
        s.first_answer_end = Some(3);
        s.first_answer_right = Some(true);
        assert!(observe(&s, false, &d).affected);
        assert!(!observe(&s, true, &d).affected);
        // Whitespace after the answer is not a run-on.
        let mut s = sample("(E)\n\n");
        s.first_answer = Some("(E)");
        s.first_answer_end = Some(3);
        s.first_answer_right = Some(true);
        assert!(!observe(&s, true, &d).ran_on);
    }
}
