//! The verdict of one benchmark: split the paired delta into a content part
//! (items whose score no format problem decided in either run: an unbiased
//! comparison, since "format-affected" does not condition on being wrong)
//! and a format part (the rest), both in points with intervals; re-score
//! format-tolerantly; discover the slices where the loss concentrates; and
//! decide `data_out` / `data_in` / `inconclusive` by DESIGN section 6. A
//! benchmark that did not regress as a whole but has regressed slices gets
//! a verdict on those slices. Every sentence is worded from what happened.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::failure::FailureMode;
use super::rules::{match_rule, ModeRates};
use super::samples::ItemDiag;
use super::settings::DiagnoseSettings;
use super::{DiscoveredSlice, Fix};
use crate::report::num::{pp_interval, pp_signed};
use crate::slices::{Dataset, SliceComparison};
use crate::stats;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentSplit {
    /// Items no format problem scored in either run (correct or plainly wrong).
    pub items: usize,
    /// Paired delta on those items.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub delta: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    /// Their part of the benchmark's delta: sum over them / all paired items.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub contribution: f64,
}

/// The format half of the split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormatSplit {
    /// Items format-affected in either run.
    pub items: usize,
    /// What format cost: the affected items' part of the delta (sum over
    /// them / all paired items), with its interval.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub contribution: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    /// Of which: items format-affected in the candidate.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_cost: f64,
    /// Items format-affected in the baseline only.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_only: f64,
    /// Share of the drop the format part explains (contribution / delta),
    /// clamped to [0, 1]; 0 without a drop. Sentences use points instead.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub share_of_drop: f64,
    /// Share of paired samples failing by format (causal attribution), per run.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_rate: f64,
    /// Share of paired samples per failure mode, per run.
    pub baseline_modes: ModeRates,
    pub candidate_modes: ModeRates,
    /// Share of the candidate's format failures that leak a chat-template token.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub template_leak_share: f64,
    /// Items whose score changed between the runs, and how many of them had
    /// a format failure in either run: few flips by format can still carry
    /// the whole net drop.
    pub flipped_items: usize,
    pub flipped_by_format: usize,
}

/// Format-tolerant re-scoring of the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescoreSplit {
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_mean: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub rescored_mean: f64,
    /// Share of the drop recovered by re-scoring.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub recovered_share: f64,
}

/// Everything decided for one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkVerdict {
    pub benchmark: String,
    pub verdict: Verdict,
    /// One sentence a person can check against the numbers below.
    pub reason: String,
    pub items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_mean: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_mean: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub delta: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    /// Regressed slices in the comparison (the whole benchmark excluded).
    pub regressed_slices: usize,
    pub content: ContentSplit,
    pub format: FormatSplit,
    pub rescore: RescoreSplit,
    pub fix: Option<Fix>,
    /// Slices where the regression concentrates (on the regression indicator).
    #[serde(default)]
    pub slices: Vec<DiscoveredSlice>,
    /// Slices where the candidate fails most (on its errors).
    #[serde(default)]
    pub weak_slices: Vec<DiscoveredSlice>,
    /// When the benchmark as a whole did not regress: the regressed slice the
    /// verdict is about.
    pub regressed_slice: Option<RegressedSlice>,
    /// `data_in` only: concept gap, capability deficit or both, and the
    /// slice it was read from (set by the caller, `diagnose::weakness::kind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakness_kind: Option<super::weakness::WeaknessKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weakness_kind_slice: Option<String>,
}

/// A slice that regressed inside a benchmark that did not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressedSlice {
    pub slice: String,
    pub items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub delta: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    /// The rest of the benchmark's paired items and their mean delta.
    pub rest_items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub rest_delta: f64,
    /// The split on the slice's items.
    pub content: ContentSplit,
    pub format: FormatSplit,
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
    /// The benchmark's regressed slices (whole excluded), strongest first,
    /// with their member items.
    pub regressed: Vec<(&'a SliceComparison, Vec<usize>)>,
    pub slices: Vec<DiscoveredSlice>,
    pub weak_slices: Vec<DiscoveredSlice>,
    pub confidence: f64,
    pub fdr: f64,
}

/// One paired item with its failure summaries.
type Pair<'a> = (f64, f64, &'a ItemDiag, &'a ItemDiag);

/// The split of a set of paired items.
struct Split {
    content: ContentSplit,
    format: FormatSplit,
    rescore: RescoreSplit,
    total: f64,
    base_modes: ModeRates,
    cand_modes: ModeRates,
    content_sig_negative: bool,
}

fn split(pairs: &[Pair<'_>], confidence: f64) -> Split {
    let n = pairs.len().max(1) as f64;
    let affected = |d: &ItemDiag| d.affected > 0;
    let well: Vec<&Pair<'_>> = pairs
        .iter()
        .filter(|p| !affected(p.2) && !affected(p.3))
        .collect();
    let xb: Vec<f64> = well.iter().map(|p| p.0).collect();
    let yb: Vec<f64> = well.iter().map(|p| p.1).collect();
    let content_cmp = stats::paired_means(&xb, &yb, confidence);
    let content_contrib = well.iter().map(|p| p.1 - p.0).sum::<f64>() / n;
    let total = pairs.iter().map(|p| p.1 - p.0).sum::<f64>() / n;
    // The format part as a mean over all paired items of each item's change
    // when it is format-affected (0 otherwise): its interval is a paired t
    // interval of that per-item quantity.
    let z: Vec<f64> = pairs
        .iter()
        .map(|p| {
            if affected(p.2) || affected(p.3) {
                p.1 - p.0
            } else {
                0.0
            }
        })
        .collect();
    let format_cmp = stats::paired_means(&vec![0.0; z.len()], &z, confidence);
    let format_contrib = total - content_contrib;
    let candidate_cost = pairs
        .iter()
        .filter(|p| affected(p.3))
        .map(|p| p.1 - p.0)
        .sum::<f64>()
        / n;
    let bd: Vec<&ItemDiag> = pairs.iter().map(|p| p.2).collect();
    let cd: Vec<&ItemDiag> = pairs.iter().map(|p| p.3).collect();
    let rate = |d: &[&ItemDiag]| {
        let f: u32 = d.iter().map(|x| x.format_failed()).sum();
        let t: u32 = d.iter().map(|x| x.samples).sum();
        f64::from(f) / f64::from(t.max(1))
    };
    let cand_failed: u32 = cd.iter().map(|d| d.format_failed()).sum();
    let leaks: u32 = cd.iter().map(|d| d.template_leaks).sum();
    let rescored_mean = cd
        .iter()
        .map(|d| f64::from(d.rescored_correct) / f64::from(d.samples.max(1)))
        .sum::<f64>()
        / n;
    let candidate_mean = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let drop = -total;
    let recovered_share = if drop > 0.0 {
        ((rescored_mean - candidate_mean) / drop).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let share_of_drop = if drop > 0.0 {
        (-format_contrib / drop).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let flipped: Vec<&Pair<'_>> = pairs.iter().filter(|p| p.0 != p.1).collect();
    let flipped_by_format = flipped.iter().filter(|p| affected(p.2) || affected(p.3)).count();
    Split {
        content_sig_negative: content_cmp.delta < 0.0 && content_cmp.p_value <= 1.0 - confidence,
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
            ci_low: format_cmp.ci.low,
            ci_high: format_cmp.ci.high,
            candidate_cost,
            baseline_only: format_contrib - candidate_cost,
            share_of_drop,
            baseline_rate: rate(&bd),
            candidate_rate: rate(&cd),
            baseline_modes: mode_rates(&bd),
            candidate_modes: mode_rates(&cd),
            template_leak_share: f64::from(leaks) / f64::from(cand_failed.max(1)),
            flipped_items: flipped.len(),
            flipped_by_format,
        },
        rescore: RescoreSplit {
            candidate_mean,
            rescored_mean,
            recovered_share,
        },
        total,
        base_modes: mode_rates(&bd),
        cand_modes: mode_rates(&cd),
    }
}

/// The split in words: format cost, content change, net.
fn split_words(sp: &Split) -> String {
    format!(
        "format problems cost {} pp {} ({} items scored on their form; format-failure rate {:.1}% -> {:.1}%); items answered well-formed in both runs ({}) moved {} pp {}; net {} pp",
        pp_signed(sp.format.contribution),
        pp_interval(sp.format.ci_low, sp.format.ci_high),
        sp.format.items,
        100.0 * sp.format.baseline_rate,
        100.0 * sp.format.candidate_rate,
        sp.content.items,
        pp_signed(sp.content.delta),
        pp_interval(sp.content.ci_low, sp.content.ci_high),
        pp_signed(sp.total)
    )
}

fn pairs_of<'a>(inp: &'a BenchmarkInput<'_>, items: impl Iterator<Item = usize>) -> Vec<Pair<'a>> {
    let ds = inp.ds;
    let mut pairs = Vec::new();
    for i in items {
        if let (Some(x), Some(y), Some(dx), Some(dy)) = (
            ds.scores[inp.base][i],
            ds.scores[inp.cand][i],
            inp.base_diag.get(i).and_then(Option::as_ref),
            inp.cand_diag.get(i).and_then(Option::as_ref),
        ) {
            pairs.push((x.mean(), y.mean(), dx, dy));
        }
    }
    pairs
}

pub fn decide(inp: BenchmarkInput<'_>, s: &DiagnoseSettings) -> BenchmarkVerdict {
    let ds = inp.ds;
    let pairs = pairs_of(&inp, ds.benchmark_items(inp.benchmark));
    let sp = split(&pairs, inp.confidence);
    let concentrated: Vec<&DiscoveredSlice> = inp
        .slices
        .iter()
        .filter(|sl| sl.significant && sl.effect_diff < 0.0)
        .collect();
    let whole_regressed = inp.overall.status == crate::slices::Status::Regressed;
    let drop = -sp.total;
    let mut regressed_slice = None;

    let fix_rule = match_rule(
        &s.rules,
        &sp.base_modes,
        &sp.cand_modes,
        sp.format.template_leak_share,
    );
    let (verdict, reason) = if !whole_regressed && inp.regressed.is_empty() {
        (
            Verdict::None,
            "no slice regressed significantly, the whole benchmark included".to_string(),
        )
    } else if !whole_regressed {
        // A regression inside a benchmark that did not regress: judge the
        // strongest regressed slice against the rest of the benchmark.
        let (row, members) = &inp.regressed[0];
        let inside: std::collections::HashSet<usize> = members.iter().copied().collect();
        let slice_pairs = pairs_of(&inp, members.iter().copied());
        let rest: Vec<f64> = ds
            .benchmark_items(inp.benchmark)
            .filter(|i| !inside.contains(i))
            .filter_map(|i| Some(ds.scores[inp.cand][i]?.mean() - ds.scores[inp.base][i]?.mean()))
            .collect();
        let rest_delta = rest.iter().sum::<f64>() / rest.len().max(1) as f64;
        let ss = split(&slice_pairs, inp.confidence);
        let slice_drop = -ss.total;
        let format_explains = slice_drop > 0.0
            && -ss.format.contribution >= s.format_share_min * slice_drop
            && !ss.content_sig_negative;
        let whole = if inp.overall.status == crate::slices::Status::Improved {
            format!(
                "the benchmark improved {} pp",
                pp_signed(inp.overall.paired.delta)
            )
        } else {
            format!(
                "the benchmark as a whole moved {} pp {} (not significant)",
                pp_signed(inp.overall.paired.delta),
                pp_interval(inp.overall.paired.ci_low, inp.overall.paired.ci_high)
            )
        };
        let head = format!(
            "{whole}, but {} regressed: {} pp {} on {} items (q = {:.2e}) against {} pp on the other {}",
            row.slice,
            pp_signed(row.paired.delta),
            pp_interval(row.paired.ci_low, row.paired.ci_high),
            row.paired.items,
            row.paired.q_value,
            pp_signed(rest_delta),
            rest.len()
        );
        regressed_slice = Some(RegressedSlice {
            slice: row.slice.clone(),
            items: row.paired.items,
            delta: row.paired.delta,
            ci_low: row.paired.ci_low,
            ci_high: row.paired.ci_high,
            q_value: row.paired.q_value,
            rest_items: rest.len(),
            rest_delta,
            content: ss.content.clone(),
            format: ss.format.clone(),
        });
        if format_explains {
            (
                Verdict::DataOut,
                format!("{head}; in the slice, {}; not a data problem", split_words(&ss)),
            )
        } else {
            (
                Verdict::DataIn,
                format!(
                    "{head}; in the slice, {}: a capability loss in that slice",
                    split_words(&ss)
                ),
            )
        }
    } else if drop > 0.0 && sp.format.share_of_drop >= s.format_share_min && !sp.content_sig_negative {
        (
            Verdict::DataOut,
            format!(
                "{}; the loss is in the form of the answers, not a data problem",
                split_words(&sp)
            ),
        )
    } else if drop > 0.0 && sp.rescore.recovered_share >= s.recovery_min && !sp.content_sig_negative {
        (
            Verdict::DataOut,
            format!(
                "re-scoring each response's first complete answer gives {:.1}% instead of {:.1}%, {:.1} of the {:.1} pp drop back; the answers are there, their form is not; {}",
                100.0 * sp.rescore.rescored_mean,
                100.0 * sp.rescore.candidate_mean,
                100.0 * (sp.rescore.rescored_mean - sp.rescore.candidate_mean),
                100.0 * drop,
                split_words(&sp)
            ),
        )
    } else if !concentrated.is_empty()
        && (sp.content_sig_negative
            || (sp.format.candidate_rate - sp.format.baseline_rate).abs() <= s.format_rate_tolerance)
    {
        let top = concentrated[0];
        (
            Verdict::DataIn,
            format!(
                "{}; the loss concentrates in {} ({} items, {} pp against {} pp elsewhere, q = {:.2e})",
                split_words(&sp),
                top.slice,
                top.items,
                pp_signed(top.effect_in),
                pp_signed(top.effect_out),
                top.q_value
            ),
        )
    } else if sp.content_sig_negative {
        (
            Verdict::Inconclusive,
            format!(
                "{}; the content loss is spread across slices (no tag combination concentrates it significantly, or the taxonomy does not separate it)",
                split_words(&sp)
            ),
        )
    } else {
        (
            Verdict::Inconclusive,
            format!("{}; neither part alone is a significant loss", split_words(&sp)),
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
        baseline_mean: o.paired.baseline_mean,
        candidate_mean: o.paired.candidate_mean,
        delta: o.paired.delta,
        ci_low: o.paired.ci_low,
        ci_high: o.paired.ci_high,
        q_value: o.paired.q_value,
        regressed_slices: inp.regressed_slices,
        content: sp.content,
        format: sp.format,
        rescore: sp.rescore,
        fix,
        slices: inp.slices,
        weak_slices: inp.weak_slices,
        regressed_slice,
        weakness_kind: None,
        weakness_kind_slice: None,
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
