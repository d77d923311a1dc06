//! The verdict of one benchmark: split the paired delta into a content delta
//! (items well-formed in both runs) and a format delta (the rest), re-score
//! format-tolerantly, discover the slices where the loss concentrates, and
//! decide `data_out` / `data_in` / `inconclusive` by DESIGN section 6.

use std::collections::BTreeMap;

use serde::Serialize;

use super::failure::FailureMode;
use super::rules::{match_rule, ModeRates};
use super::samples::ItemDiag;
use super::settings::DiagnoseSettings;
use super::{DiscoveredSlice, Fix};
use crate::slices::{Dataset, SliceComparison};
use crate::stats;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A capability gap concentrated in specific slices: data can fix it.
    DataIn,
    /// An output-format or training-side fault: no data change fixes it.
    DataOut,
    Inconclusive,
    /// The benchmark did not regress (no regressed slice, whole included).
    None,
    /// Overall only: benchmarks reached different verdicts.
    Mixed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::DataIn => "data_in",
            Verdict::DataOut => "data_out",
            Verdict::Inconclusive => "inconclusive",
            Verdict::None => "none",
            Verdict::Mixed => "mixed",
        }
    }
}

/// The content half of the split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentSplit {
    /// Items well-formed in both runs (correct or plainly wrong).
    pub items: usize,
    /// Paired delta on those items.
    pub delta: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    /// Their part of the benchmark's delta: sum over them / all paired items.
    pub contribution: f64,
}

/// The format half of the split.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FormatSplit {
    /// Items with a format failure in either run.
    pub items: usize,
    /// What the change in format failures cost: their part of the delta.
    pub contribution: f64,
    /// Share of the drop the format part explains (contribution / delta).
    pub share_of_drop: f64,
    /// Share of paired samples failing by format, per run.
    pub baseline_rate: f64,
    pub candidate_rate: f64,
    /// Share of paired samples per failure mode, per run.
    pub baseline_modes: ModeRates,
    pub candidate_modes: ModeRates,
    /// Share of the candidate's format failures that leak a chat-template token.
    pub template_leak_share: f64,
    /// Items whose score changed between the runs, and how many of them had
    /// a format failure in either run: few flips by format can still carry
    /// the whole net drop.
    pub flipped_items: usize,
    pub flipped_by_format: usize,
}

/// Format-tolerant re-scoring of the candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RescoreSplit {
    pub candidate_mean: f64,
    pub rescored_mean: f64,
    /// Share of the drop recovered by re-scoring.
    pub recovered_share: f64,
}

/// Everything decided for one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkVerdict {
    pub benchmark: String,
    pub verdict: Verdict,
    /// One sentence a person can check against the numbers below.
    pub reason: String,
    pub items: usize,
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    pub delta: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub q_value: f64,
    /// Regressed slices in the comparison (the whole benchmark excluded).
    pub regressed_slices: usize,
    pub content: ContentSplit,
    pub format: FormatSplit,
    pub rescore: RescoreSplit,
    pub fix: Option<Fix>,
    /// Slices where the regression concentrates (on the regression indicator).
    pub slices: Vec<DiscoveredSlice>,
    /// Slices where the candidate fails most (on its errors).
    pub weak_slices: Vec<DiscoveredSlice>,
}

fn mode_rates(diags: &[&ItemDiag]) -> ModeRates {
    let samples: u32 = diags.iter().map(|d| d.samples).sum();
    FailureMode::ALL
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let n: u32 = diags.iter().map(|d| d.modes[k]).sum();
            (*m, f64::from(n) / f64::from(samples.max(1)))
        })
        .collect()
}

/// Inputs of one benchmark's verdict.
pub struct BenchmarkInput<'a> {
    pub ds: &'a Dataset,
    pub benchmark: u32,
    pub base: usize,
    pub cand: usize,
    pub base_diag: &'a [Option<ItemDiag>],
    pub cand_diag: &'a [Option<ItemDiag>],
    pub overall: &'a SliceComparison,
    pub regressed_slices: usize,
    pub slices: Vec<DiscoveredSlice>,
    pub weak_slices: Vec<DiscoveredSlice>,
    pub confidence: f64,
    pub fdr: f64,
}

pub fn decide(inp: BenchmarkInput<'_>, s: &DiagnoseSettings) -> BenchmarkVerdict {
    let ds = inp.ds;
    let mut pairs = Vec::new();
    for i in ds.benchmark_items(inp.benchmark) {
        if let (Some(x), Some(y), Some(dx), Some(dy)) = (
            ds.scores[inp.base][i],
            ds.scores[inp.cand][i],
            inp.base_diag[i].as_ref(),
            inp.cand_diag[i].as_ref(),
        ) {
            pairs.push((x.mean(), y.mean(), dx, dy));
        }
    }
    let n = pairs.len().max(1) as f64;
    let well: Vec<&(f64, f64, &ItemDiag, &ItemDiag)> = pairs
        .iter()
        .filter(|(_, _, dx, dy)| dx.format_failed() == 0 && dy.format_failed() == 0)
        .collect();
    let xb: Vec<f64> = well.iter().map(|p| p.0).collect();
    let yb: Vec<f64> = well.iter().map(|p| p.1).collect();
    let content_cmp = stats::paired_means(&xb, &yb, inp.confidence);
    let content_contrib = well.iter().map(|p| p.1 - p.0).sum::<f64>() / n;
    let total = pairs.iter().map(|p| p.1 - p.0).sum::<f64>() / n;
    let format_contrib = total - content_contrib;
    let bd: Vec<&ItemDiag> = pairs.iter().map(|p| p.2).collect();
    let cd: Vec<&ItemDiag> = pairs.iter().map(|p| p.3).collect();
    let rate = |d: &[&ItemDiag]| {
        let f: u32 = d.iter().map(|x| x.format_failed()).sum();
        let t: u32 = d.iter().map(|x| x.samples).sum();
        f64::from(f) / f64::from(t.max(1))
    };
    let cand_failed: u32 = cd.iter().map(|d| d.format_failed()).sum();
    let leaks: u32 = cd.iter().map(|d| d.template_leaks).sum();
    let template_leak_share = f64::from(leaks) / f64::from(cand_failed.max(1));
    let base_modes = mode_rates(&bd);
    let cand_modes = mode_rates(&cd);
    let rescored_mean = cd
        .iter()
        .map(|d| f64::from(d.rescored_correct) / f64::from(d.samples.max(1)))
        .sum::<f64>()
        / n;
    let candidate_mean = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let drop = -total;
    let recovered_share = if drop > 0.0 {
        (rescored_mean - candidate_mean) / drop
    } else {
        0.0
    };
    let share_of_drop = if drop > 0.0 { -format_contrib / drop } else { 0.0 };
    let (base_rate, cand_rate) = (rate(&bd), rate(&cd));
    let flipped: Vec<&(f64, f64, &ItemDiag, &ItemDiag)> = pairs.iter().filter(|p| p.0 != p.1).collect();
    let flipped_by_format = flipped
        .iter()
        .filter(|p| p.2.format_failed() > 0 || p.3.format_failed() > 0)
        .count();
    let content_sig_negative = content_cmp.delta < 0.0 && content_cmp.p_value <= 1.0 - inp.confidence;
    let concentrated: Vec<&DiscoveredSlice> = inp
        .slices
        .iter()
        .filter(|sl| sl.significant && sl.effect_diff < 0.0)
        .collect();
    let regressed = inp.overall.status == crate::slices::Status::Regressed || inp.regressed_slices > 0;

    let fix_rule = match_rule(&s.rules, &base_modes, &cand_modes, template_leak_share);
    let pct = |x: f64| format!("{:.1}", 100.0 * x);
    let (verdict, reason) = if !regressed {
        (
            Verdict::None,
            "no slice regressed significantly, the whole benchmark included".to_string(),
        )
    } else if drop > 0.0 && share_of_drop >= s.format_share_min && !content_sig_negative {
        (
            Verdict::DataOut,
            format!(
                "format failures explain {}% of the {} pp drop (format-failure rate {}% -> {}%) while items well-formed in both runs changed by {:+.1} pp (p = {:.3}); not a data problem",
                pct(share_of_drop),
                pct(drop),
                pct(base_rate),
                pct(cand_rate),
                100.0 * content_cmp.delta,
                content_cmp.p_value
            ),
        )
    } else if drop > 0.0 && recovered_share >= s.recovery_min {
        (
            Verdict::DataOut,
            format!(
                "format-tolerant re-scoring recovers {}% of the {} pp drop; the answers are there, their form is not",
                pct(recovered_share),
                pct(drop)
            ),
        )
    } else if (cand_rate - base_rate).abs() <= s.format_rate_tolerance && !concentrated.is_empty() {
        let top = concentrated[0];
        (
            Verdict::DataIn,
            format!(
                "format-failure rate unchanged ({}% -> {}%); the loss concentrates in {} ({} items, {:+.1} pp against {:+.1} pp elsewhere, q = {:.2e})",
                pct(base_rate),
                pct(cand_rate),
                top.slice,
                top.items,
                100.0 * top.effect_in,
                100.0 * top.effect_out,
                top.q_value
            ),
        )
    } else if (cand_rate - base_rate).abs() > s.format_rate_tolerance {
        (
            Verdict::Inconclusive,
            format!(
                "format-failure rate moved ({}% -> {}%) but explains only {}% of the drop and re-scoring recovers {}%",
                pct(base_rate),
                pct(cand_rate),
                pct(share_of_drop),
                pct(recovered_share)
            ),
        )
    } else {
        (
            Verdict::Inconclusive,
            "format-failure rate unchanged, but no tag combination concentrates the loss significantly: the drop is spread across slices (or the taxonomy does not separate it)".to_string(),
        )
    };
    let fix = (verdict == Verdict::DataOut).then(|| match fix_rule {
        Some(r) => Fix {
            rule: r.id.clone(),
            kind: r.fix.clone(),
            action: r.action.clone(),
        },
        None => Fix {
            rule: "none".into(),
            kind: "unknown".into(),
            action: "No diagnosis rule matches the failure-mode change; inspect the example responses."
                .into(),
        },
    });
    let o = inp.overall;
    BenchmarkVerdict {
        benchmark: ds.benchmarks[inp.benchmark as usize].clone(),
        verdict,
        reason,
        items: pairs.len(),
        baseline_mean: o.baseline_mean,
        candidate_mean: o.candidate_mean,
        delta: o.delta,
        ci_low: o.ci_low,
        ci_high: o.ci_high,
        q_value: o.q_value,
        regressed_slices: inp.regressed_slices,
        content: ContentSplit {
            items: well.len(),
            delta: content_cmp.delta,
            ci_low: content_cmp.ci.low,
            ci_high: content_cmp.ci.high,
            p_value: content_cmp.p_value,
            contribution: content_contrib,
        },
        format: FormatSplit {
            items: pairs.len() - well.len(),
            contribution: format_contrib,
            share_of_drop,
            baseline_rate: base_rate,
            candidate_rate: cand_rate,
            baseline_modes: base_modes,
            candidate_modes: cand_modes,
            template_leak_share,
            flipped_items: flipped.len(),
            flipped_by_format,
        },
        rescore: RescoreSplit {
            candidate_mean,
            rescored_mean,
            recovered_share,
        },
        fix,
        slices: inp.slices,
        weak_slices: inp.weak_slices,
    }
}

/// The overall verdict from the benchmarks'.
pub fn overall(verdicts: &[BenchmarkVerdict]) -> (Verdict, String) {
    let regressed: Vec<&BenchmarkVerdict> = verdicts.iter().filter(|v| v.verdict != Verdict::None).collect();
    let kinds: BTreeMap<Verdict, Vec<&str>> = regressed.iter().fold(BTreeMap::new(), |mut m, v| {
        m.entry(v.verdict)
            .or_insert_with(Vec::new)
            .push(v.benchmark.as_str());
        m
    });
    let list = kinds
        .iter()
        .map(|(k, bs)| format!("{}: {}", k.as_str(), bs.join(", ")))
        .collect::<Vec<_>>()
        .join("; ");
    match kinds.len() {
        0 => (Verdict::None, "no benchmark regressed".to_string()),
        1 => {
            let (k, _) = kinds
                .iter()
                .next()
                .map(|(k, v)| (*k, v))
                .unwrap_or((Verdict::None, &Vec::new()));
            (k, list)
        }
        _ => (Verdict::Mixed, list),
    }
}
