//! Diagnosis rules: failure-mode signatures that name a training-side fix
//! (DESIGN section 4). The first rule whose signature the regression shows
//! names the fix of a `data_out` verdict.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::failure::FailureMode;

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisRule {
    pub id: String,
    /// The kind of fix: `termination`, `stop_sequences`, `chat_template`, `answer_extraction`.
    pub fix: String,
    /// Failure modes whose combined rate must have risen by `min_increase`
    /// (candidate minus baseline, share of paired items).
    pub modes: Vec<FailureMode>,
    #[serde(default)]
    pub min_increase: f64,
    /// When set, this share of the candidate's format failures must leak a
    /// chat-template token.
    #[serde(default)]
    pub min_template_share: Option<f64>,
    /// What to do, for people.
    pub action: String,
}

/// The shipped rules, most specific first.
pub fn default_rules() -> Vec<DiagnosisRule> {
    vec![
        DiagnosisRule {
            id: "fix.chat_template".into(),
            fix: "chat_template".into(),
            modes: vec![FailureMode::Runaway, FailureMode::Truncated],
            min_increase: 0.02,
            min_template_share: Some(0.3),
            action: "Responses leak chat-template tokens: check the chat template the evaluation applies against the one the checkpoint was trained with (special tokens, end-of-turn token).".into(),
        },
        DiagnosisRule {
            id: "fix.termination".into(),
            fix: "termination".into(),
            modes: vec![FailureMode::Runaway, FailureMode::Truncated],
            min_increase: 0.02,
            min_template_share: None,
            action: "The model no longer stops after its answer: check that the end-of-sequence token is kept in the loss (not masked) and ends every training document, and that the evaluation's stop sequences (`until`) match the model's output; re-evaluate after restoring them. No data change fixes this.".into(),
        },
        DiagnosisRule {
            id: "fix.answer_extraction".into(),
            fix: "answer_extraction".into(),
            modes: vec![FailureMode::NoAnswer, FailureMode::Empty],
            min_increase: 0.02,
            min_template_share: None,
            action: "Answers are there but not in the form the task's filter extracts: align the answer format (few-shot format, instruction) or the extraction pattern, then re-score.".into(),
        },
    ]
}

/// Per-mode rates of one run (share of paired items whose sample failed so).
pub type ModeRates = BTreeMap<FailureMode, f64>;

/// The first rule the regression matches.
pub fn match_rule<'a>(
    rules: &'a [DiagnosisRule],
    base: &ModeRates,
    cand: &ModeRates,
    template_share: f64,
) -> Option<&'a DiagnosisRule> {
    rules.iter().find(|r| {
        let rate = |m: &ModeRates| {
            r.modes
                .iter()
                .map(|x| m.get(x).copied().unwrap_or(0.0))
                .sum::<f64>()
        };
        rate(cand) - rate(base) >= r.min_increase && r.min_template_share.is_none_or(|s| template_share >= s)
    })
}
