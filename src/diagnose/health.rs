//! Format health of every run, whether or not anything regressed, and the
//! answer audit of `PAPER.md` section 4: per run and benchmark, how often
//! extraction fails, the generation limit is hit, the response runs on past
//! its first complete answer; how often the gold answer starts the filtered
//! answer, is accepted when it does, and carries an extra suffix (with the
//! suffix lengths and the strings that start them). These separate "knew the
//! answer but did not stop" from "did not know the answer".

use serde::{Deserialize, Serialize};

use super::samples::{Diags, HealthAcc};
use crate::slices::Dataset;

/// The answer audit of one run on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerAudit {
    /// Scored generative samples with a target.
    pub samples: u32,
    /// Share whose filtered answer starts with the gold answer.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub gold_prefix: f64,
    /// Among those, the share scored correct.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub accepted_given_prefix: f64,
    /// Among those, the share with a non-blank remainder (an extra suffix).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub extra_suffix: f64,
    /// Suffix length in characters over the gold-prefix samples (0 when none).
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub suffix_len_mean: f64,
    pub suffix_len_p50: u32,
    pub suffix_len_p90: u32,
    /// Filtered-answer length in characters over all audited samples.
    pub answer_len_p50: u32,
    pub answer_len_p90: u32,
    /// The first 12 characters of the suffixes, most frequent first (at most 10).
    pub suffix_starts: Vec<(String, u32)>,
}

/// Format health of one run on one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatHealth {
    pub run: String,
    pub benchmark: String,
    /// Scored samples of generative tasks.
    pub samples: u32,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub accuracy: f64,
    /// What format-tolerant re-scoring (the first complete answer) gives.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub rescored_accuracy: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub extraction_failure_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub truncation_rate: f64,
    /// The limit was hit before any complete answer.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub truncation_before_answer_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub run_on_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub loop_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub marker_rate: f64,
    pub audit: AnswerAudit,
    /// Set when extraction failures pass the configured share.
    pub warning: Option<String>,
}

/// Nearest-rank percentile (sorted values, index ceil(p * m) - 1).
fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

fn share(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn audit(h: &HealthAcc) -> AnswerAudit {
    let mut suffix = h.suffix_lens.clone();
    suffix.sort_unstable();
    let mut answers = h.answer_lens.clone();
    answers.sort_unstable();
    let mut starts: Vec<(String, u32)> = h.suffix_starts.iter().map(|(k, v)| (k.clone(), *v)).collect();
    starts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    starts.truncate(10);
    AnswerAudit {
        samples: h.audited,
        gold_prefix: share(h.gold_prefix, h.audited),
        accepted_given_prefix: share(h.accepted_given_prefix, h.gold_prefix),
        extra_suffix: share(h.extra_suffix, h.gold_prefix),
        suffix_len_mean: if suffix.is_empty() {
            0.0
        } else {
            suffix.iter().map(|&x| f64::from(x)).sum::<f64>() / suffix.len() as f64
        },
        suffix_len_p50: percentile(&suffix, 0.5),
        suffix_len_p90: percentile(&suffix, 0.9),
        answer_len_p50: percentile(&answers, 0.5),
        answer_len_p90: percentile(&answers, 0.9),
        suffix_starts: starts,
    }
}

/// Health of every run and benchmark in the table, ordered by run then
/// benchmark, and the warnings (extraction failures above `max_failure`).
pub fn format_health(ds: &Dataset, diags: &Diags, max_failure: f64) -> (Vec<FormatHealth>, Vec<String>) {
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for ((run, benchmark), h) in &diags.health {
        let run_name = ds.runs[*run].clone();
        let failure = share(h.extraction_failed, h.samples);
        let accuracy = share(h.correct, h.samples);
        let rescored = share(h.rescored_correct, h.samples);
        let warning = (failure > max_failure).then(|| {
            format!(
                "{run_name} on {benchmark}: {} of {} scored samples have no extractable answer (threshold {}); scored accuracy {}, format-tolerant re-scoring of the first complete answer would give {}",
                pct(failure),
                h.samples,
                pct(max_failure),
                pct(accuracy),
                pct(rescored)
            )
        });
        if let Some(w) = &warning {
            warnings.push(w.clone());
        }
        out.push(FormatHealth {
            run: run_name,
            benchmark: benchmark.clone(),
            samples: h.samples,
            accuracy,
            rescored_accuracy: rescored,
            extraction_failure_rate: failure,
            truncation_rate: share(h.limit_hit, h.samples),
            truncation_before_answer_rate: share(h.limit_before_answer, h.samples),
            run_on_rate: share(h.ran_on, h.samples),
            loop_rate: share(h.looped, h.samples),
            marker_rate: share(h.marker, h.samples),
            audit: audit(h),
            warning,
        });
    }
    out.sort_by(|a, b| (&a.run, &a.benchmark).cmp(&(&b.run, &b.benchmark)));
    (out, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        // numpy would interpolate; the paper's audit (and the truth files)
        // use nearest rank: index ceil(p * m) - 1 of the sorted values.
        let v = [0, 0, 3, 20, 344, 1571];
        assert_eq!(percentile(&v, 0.5), 3);
        assert_eq!(percentile(&v, 0.9), 1571);
        assert_eq!(percentile(&[7], 0.5), 7);
        assert_eq!(percentile(&[], 0.9), 0);
    }

    #[test]
    fn the_audit_counts_gold_prefixes_and_suffixes() {
        let mut h = HealthAcc {
            samples: 4,
            ..HealthAcc::default()
        };
        for (a, ok) in [
            ("(B)", true),
            ("(B)<begin_url>http://x", false),
            ("(C)", false),
            ("(B)\n\n", true),
        ] {
            h.audit(Some(a), "(B)", ok);
        }
        let a = audit(&h);
        // 3 of 4 start with the gold answer; 2 of those 3 are accepted; one
        // has a suffix (a blank remainder is none), 19 characters long.
        assert_eq!(a.samples, 4);
        assert!((a.gold_prefix - 0.75).abs() < 1e-12);
        assert!((a.accepted_given_prefix - 2.0 / 3.0).abs() < 1e-12);
        assert!((a.extra_suffix - 1.0 / 3.0).abs() < 1e-12);
        assert!((a.suffix_len_mean - 19.0 / 3.0).abs() < 1e-12);
        assert_eq!((a.suffix_len_p50, a.suffix_len_p90), (0, 19));
        assert_eq!((a.answer_len_p50, a.answer_len_p90), (3, 22));
        assert_eq!(a.suffix_starts, vec![("<begin_url>h".to_string(), 1)]);
    }
}
