//! Paired comparison of two runs over the items both contain: mean delta
//! (candidate minus baseline), paired standard error, confidence interval and
//! p-value.
//!
//! Single-sample binary scores use the exact McNemar test on the discordant
//! pairs (see [`mcnemar_exact`]) with the paired normal interval for a
//! difference of proportions; several samples per item or non-binary scores
//! use the paired t-test on per-item differences (Student 1908; as
//! `scipy.stats.ttest_rel`). Pairing removes item difficulty from the noise,
//! which is what makes a regression on a few hundred items detectable.
//!
//! Deliberately not here: the verdict (`regressed`, `stable`, ...), which
//! needs the minimum detectable effect and the FDR-adjusted p-value.

use serde::{Deserialize, Serialize};

use super::interval::{normal_critical_value, t_critical_value, Interval, TwoPass};
use super::mcnemar::mcnemar_exact;
use super::student_t::student_t_two_sided_p;

/// Which test produced a [`PairedComparison`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairedMethod {
    /// Exact McNemar (binomial test on discordant pairs), normal interval.
    McNemarExact,
    /// Paired t-test on per-item differences, Student t interval.
    PairedT,
}

/// Result of comparing a candidate run with a baseline on the same items.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedComparison {
    /// Number of paired items.
    pub n: usize,
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    /// `candidate_mean - baseline_mean`.
    pub delta: f64,
    /// Standard error of `delta`; always `sd_diff / sqrt(n)`.
    pub se: f64,
    /// Two-sided confidence interval for `delta`.
    pub ci: Interval,
    /// Two-sided p-value for "no difference".
    pub p_value: f64,
    /// Standard deviation of the per-item differences (ddof = 0 for
    /// [`PairedMethod::McNemarExact`], ddof = 1 for [`PairedMethod::PairedT`]).
    pub sd_diff: f64,
    pub method: PairedMethod,
}

impl PairedComparison {
    fn undefined(n: usize, method: PairedMethod) -> Self {
        PairedComparison {
            n,
            baseline_mean: f64::NAN,
            candidate_mean: f64::NAN,
            delta: f64::NAN,
            se: f64::NAN,
            ci: Interval::UNDEFINED,
            p_value: f64::NAN,
            sd_diff: f64::NAN,
            method,
        }
    }
}

/// The paired difference of a slice between two runs as every stage
/// reports it (`comparison.json`, `verify.json`, each embedding it
/// flattened): [`PairedComparison`]'s figures plus the q-value of its
/// Benjamini-Hochberg family. Undefined numbers are NaN (`null` in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDelta {
    /// Items present in both runs.
    pub items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub baseline_mean: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub candidate_mean: f64,
    /// `candidate_mean - baseline_mean`.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub delta: f64,
    /// Two-sided confidence interval of `delta`.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_low: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub ci_high: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    /// NaN until the family's FDR adjustment sets it.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
}

impl PairedComparison {
    /// The reported figures, before the FDR adjustment (`q_value` NaN).
    pub fn reported(&self) -> PairedDelta {
        PairedDelta {
            items: self.n,
            baseline_mean: self.baseline_mean,
            candidate_mean: self.candidate_mean,
            delta: self.delta,
            ci_low: self.ci.low,
            ci_high: self.ci.high,
            p_value: self.p_value,
            q_value: f64::NAN,
        }
    }
}

/// Paired comparison of single-sample binary scores on `n` items.
///
/// `baseline_correct` items are correct in the baseline; of those,
/// `regressed` (b) are wrong in the candidate; of the others, `fixed` (c)
/// are correct in the candidate. Then `delta = (c - b) / n`, the paired
/// standard error of a difference of proportions is
/// `se = sqrt(b + c - (c - b)^2 / n) / n`, the interval is `delta ± z se`
/// (normal, not clipped) and `p = mcnemar_exact(b, c)`.
///
/// `n == 0`, or counts that cannot occur (`baseline_correct > n`,
/// `regressed > baseline_correct`, `fixed > n - baseline_correct`), give an
/// all-NaN result. A confidence outside `(0, 1)` gives an undefined interval.
pub fn paired_binary(
    n: usize,
    baseline_correct: usize,
    regressed: usize,
    fixed: usize,
    confidence: f64,
) -> PairedComparison {
    let method = PairedMethod::McNemarExact;
    if n == 0 || baseline_correct > n || regressed > baseline_correct || fixed > n - baseline_correct {
        return PairedComparison::undefined(n, method);
    }
    let nf = n as f64;
    let (b, c) = (regressed as f64, fixed as f64);
    let delta = (c - b) / nf;
    // Variance (ddof = 0) of per-item differences in {-1, 0, 1}.
    let var = ((b + c) / nf - delta * delta).max(0.0);
    let sd_diff = var.sqrt();
    let se = sd_diff / nf.sqrt();
    PairedComparison {
        n,
        baseline_mean: baseline_correct as f64 / nf,
        candidate_mean: (baseline_correct - regressed + fixed) as f64 / nf,
        delta,
        se,
        ci: Interval::around(delta, normal_critical_value(confidence) * se),
        p_value: mcnemar_exact(regressed as u64, fixed as u64),
        sd_diff,
        method,
    }
}

/// Paired t-test of per-item scores (`baseline[i]` and `candidate[i]` belong
/// to the same item), as `scipy.stats.ttest_rel(candidate, baseline)` with
/// its `confidence_interval(confidence)`.
///
/// Edge cases: slices of different lengths (a caller bug) and empty slices
/// give an all-NaN result with `n = 0`. One item gives the means and delta,
/// NaN for everything else. Identical differences on every
/// item (zero variance) give `se = 0`, the point interval `[delta, delta]`
/// and `p = 1` when they are all zero, `p = 0` otherwise. NaN scores make the
/// affected statistics NaN.
pub fn paired_means(baseline: &[f64], candidate: &[f64], confidence: f64) -> PairedComparison {
    if baseline.len() != candidate.len() {
        return PairedComparison::undefined(0, PairedMethod::PairedT);
    }
    let mut p = PairedStream::new();
    baseline.iter().zip(candidate).for_each(|(&b, &c)| p.first(b, c));
    p.end_first();
    baseline.iter().zip(candidate).for_each(|(&b, &c)| p.second(b, c));
    p.finish(confidence)
}

/// [`paired_means`] over a stream of item pairs read twice (see
/// [`TwoPass`]): the same bits as collecting the pairs first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedStream {
    base: TwoPass,
    cand: TwoPass,
    diff: TwoPass,
    first_diff: f64,
    all_equal: bool,
}

impl Default for PairedStream {
    fn default() -> Self {
        Self::new()
    }
}

impl PairedStream {
    pub const fn new() -> Self {
        PairedStream {
            base: TwoPass::new(),
            cand: TwoPass::new(),
            diff: TwoPass::new(),
            first_diff: f64::NAN,
            all_equal: true,
        }
    }

    pub fn first(&mut self, baseline: f64, candidate: f64) {
        let d = candidate - baseline;
        if self.diff.n == 0 {
            self.first_diff = d;
        } else if d != self.first_diff {
            self.all_equal = false;
        }
        self.base.first(baseline);
        self.cand.first(candidate);
        self.diff.first(d);
    }

    pub fn end_first(&mut self) {
        self.base.end_first();
        self.cand.end_first();
        self.diff.end_first();
    }

    pub fn second(&mut self, baseline: f64, candidate: f64) {
        self.diff.second(candidate - baseline);
    }

    /// Pairs seen.
    pub fn n(&self) -> usize {
        self.diff.n
    }

    pub fn finish(&self, confidence: f64) -> PairedComparison {
        let method = PairedMethod::PairedT;
        let n = self.diff.n;
        if n == 0 {
            return PairedComparison::undefined(0, method);
        }
        let nf = n as f64;
        let baseline_mean = self.base.mean();
        let candidate_mean = self.cand.mean();
        // Identical differences on every item (zero variance), taken exactly:
        // a computed variance could be a few ulps off zero.
        let constant = (n >= 2 && self.all_equal).then_some(self.first_diff);
        let (delta, sd_diff, se, ci, p_value) = if let Some(d) = constant {
            // The t statistic is 0/0 or ±inf.
            let p = if d == 0.0 { 1.0 } else { 0.0 };
            (d, 0.0, 0.0, Interval::around(d, 0.0), p)
        } else {
            let (delta, sd) = self.diff.mean_and_sd();
            let se = sd / nf.sqrt();
            let df = (n as f64) - 1.0;
            let ci = if n >= 2 {
                Interval::around(delta, t_critical_value(confidence, df) * se)
            } else {
                Interval::UNDEFINED
            };
            let p = if n >= 2 {
                student_t_two_sided_p(delta / se, df)
            } else {
                f64::NAN
            };
            (delta, sd, se, ci, p)
        };
        PairedComparison {
            n,
            baseline_mean,
            candidate_mean,
            delta,
            se,
            ci,
            p_value,
            sd_diff,
            method,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    /// baseline, candidate, delta, sd_diff, p-value, ci low, ci high.
    type TtestRow = (&'static [f64], &'static [f64], f64, f64, f64, f64, f64);
    /// n, baseline correct, b, c, delta, se, ci low, ci high, p-value.
    type BinaryRow = (usize, usize, usize, usize, f64, f64, f64, f64, f64);

    #[test]
    fn paired_means_matches_scipy_ttest_rel() {
        // import numpy as np
        // from scipy import stats
        // cases = [
        //     ([0.2, 0.5, 0.9, 0.4, 0.7, 0.1, 0.6, 0.8], [0.3, 0.4, 1.0, 0.6, 0.7, 0.3, 0.9, 0.8]),
        //     ([0.25, 0.5, 1.0, 0.75, 0.0, 0.5, 0.25, 1.0, 0.75, 0.5], [0.25, 0.25, 0.75, 0.75, 0.0, 0.25, 0.0, 1.0, 0.5, 0.5]),
        //     ([0.0, 1.0], [0.5, 0.75]),
        //     ([0.125 * (i % 9) for i in range(40)], [0.125 * ((i * 7 + 3) % 9) for i in range(40)]),
        // ]
        // for base, cand in cases:
        //     r = stats.ttest_rel(cand, base)
        //     ci = r.confidence_interval(0.95)
        //     d = np.array(cand) - np.array(base)
        //     print(f"(&{base!r}, &{cand!r}, {float(d.mean())!r}, {float(d.std(ddof=1))!r}, "
        //           f"{float(r.pvalue)!r}, {float(ci.low)!r}, {float(ci.high)!r}),")
        let table: [TtestRow; 4] = [
            (
                &[0.2, 0.5, 0.9, 0.4, 0.7, 0.1, 0.6, 0.8],
                &[0.3, 0.4, 1.0, 0.6, 0.7, 0.3, 0.9, 0.8],
                0.09999999999999999,
                0.13093073414159542,
                0.06758329382337001,
                -0.009460833026711316,
                0.2094608330267113,
            ),
            (
                &[0.25, 0.5, 1.0, 0.75, 0.0, 0.5, 0.25, 1.0, 0.75, 0.5],
                &[0.25, 0.25, 0.75, 0.75, 0.0, 0.25, 0.0, 1.0, 0.5, 0.5],
                -0.125,
                0.13176156917368248,
                0.014956363910414222,
                -0.2192565484499252,
                -0.030743451550074782,
            ),
            (
                &[0.0, 1.0],
                &[0.5, 0.75],
                0.125,
                0.5303300858899106,
                0.7951672353008665,
                -4.63982677606551,
                4.88982677606551,
            ),
            (
                &[
                    0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0, 0.125, 0.25, 0.375, 0.5,
                    0.625, 0.75, 0.875, 1.0, 0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0,
                    0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0, 0.125, 0.25, 0.375,
                ],
                &[
                    0.375, 0.125, 1.0, 0.75, 0.5, 0.25, 0.0, 0.875, 0.625, 0.375, 0.125, 1.0, 0.75, 0.5,
                    0.25, 0.0, 0.875, 0.625, 0.375, 0.125, 1.0, 0.75, 0.5, 0.25, 0.0, 0.875, 0.625, 0.375,
                    0.125, 1.0, 0.75, 0.5, 0.25, 0.0, 0.875, 0.625, 0.375, 0.125, 1.0, 0.75,
                ],
                0.0375,
                0.43962396518983216,
                0.5926187710761046,
                -0.10309856505021173,
                0.17809856505021174,
            ),
        ];
        for (base, cand, delta, sd, p, low, high) in table {
            let r = paired_means(base, cand, 0.95);
            let what = format!("ttest_rel on {} items", base.len());
            assert_eq!(r.n, base.len());
            assert_eq!(r.method, PairedMethod::PairedT);
            assert_close(r.delta, delta, 1e-13, &what);
            assert_close(r.sd_diff, sd, 1e-13, &what);
            assert_close(r.se, sd / (base.len() as f64).sqrt(), 1e-13, &what);
            assert_close(r.p_value, p, 1e-11, &what);
            assert_close(r.ci.low, low, 1e-11, &what);
            assert_close(r.ci.high, high, 1e-11, &what);
            assert_close(r.candidate_mean - r.baseline_mean, delta, 1e-12, &what);
        }
    }

    #[test]
    fn paired_means_edge_cases() {
        let empty = paired_means(&[], &[], 0.95);
        assert_eq!(empty.n, 0);
        assert!(empty.delta.is_nan() && empty.p_value.is_nan());

        let mismatched = paired_means(&[0.1, 0.2], &[0.3], 0.95);
        assert_eq!(mismatched.n, 0);
        assert!(mismatched.delta.is_nan() && mismatched.p_value.is_nan());

        let one = paired_means(&[0.25], &[0.75], 0.95);
        assert_eq!((one.n, one.delta), (1, 0.5));
        assert!(one.se.is_nan() && one.p_value.is_nan() && one.ci.low.is_nan());

        // Zero variance of the differences.
        let same = paired_means(&[0.1, 0.7, 0.4], &[0.1, 0.7, 0.4], 0.95);
        assert_eq!((same.delta, same.se, same.p_value), (0.0, 0.0, 1.0));
        assert_eq!(same.ci, Interval { low: 0.0, high: 0.0 });
        let shifted = paired_means(&[0.0, 0.25, 0.5], &[0.25, 0.5, 0.75], 0.95);
        assert_eq!((shifted.delta, shifted.se, shifted.p_value), (0.25, 0.0, 0.0));

        let with_nan = paired_means(&[0.1, f64::NAN, 0.3], &[0.2, 0.2, 0.2], 0.95);
        assert!(with_nan.delta.is_nan() && with_nan.p_value.is_nan());
    }

    #[test]
    fn paired_binary_matches_reference() {
        // import numpy as np
        // from scipy.stats import binomtest, norm
        // for n, base_ok, b, c in [(200, 120, 15, 5), (12, 6, 0, 4), (1000, 700, 40, 41), (50, 50, 10, 0)]:
        //     d = np.array([-1] * b + [1] * c + [0] * (n - b - c))
        //     se = d.std(ddof=0) / np.sqrt(n)
        //     z = norm.ppf(0.975)
        //     p = binomtest(b, b + c, 0.5).pvalue if b + c > 0 else 1.0
        //     print(f"({n}, {base_ok}, {b}, {c}, {float(d.mean())!r}, {float(se)!r}, "
        //           f"{float(d.mean() - z * se)!r}, {float(d.mean() + z * se)!r}, {float(p)!r}),")
        let table: [BinaryRow; 4] = [
            (
                200,
                120,
                15,
                5,
                -0.05,
                0.022079402165819613,
                -0.09327483304518211,
                -0.006725166954817896,
                0.04138946533203125,
            ),
            (
                12,
                6,
                0,
                4,
                0.3333333333333333,
                0.13608276348795434,
                0.06661601798026057,
                0.6000506486864061,
                0.125,
            ),
            (
                1000,
                700,
                40,
                41,
                0.001,
                0.008999944444272975,
                -0.01663956697363638,
                0.018639566973636383,
                1.0,
            ),
            (
                50,
                50,
                10,
                0,
                -0.2,
                0.0565685424949238,
                -0.3108723059479742,
                -0.08912769405202578,
                0.001953125,
            ),
        ];
        for (n, base_ok, b, c, delta, se, low, high, p) in table {
            let r = paired_binary(n, base_ok, b, c, 0.95);
            let what = format!("n={n} b={b} c={c}");
            assert_eq!(r.method, PairedMethod::McNemarExact);
            assert_close(r.delta, delta, 1e-14, &what);
            assert_close(r.se, se, 1e-13, &what);
            assert_close(r.ci.low, low, 1e-13, &what);
            assert_close(r.ci.high, high, 1e-13, &what);
            assert_close(r.p_value, p, 1e-12, &what);
            assert_close(r.baseline_mean, base_ok as f64 / n as f64, 1e-15, &what);
            assert_close(r.candidate_mean - r.baseline_mean, delta, 1e-14, &what);
            assert_close(r.sd_diff, se * (n as f64).sqrt(), 1e-13, &what);
        }
    }

    #[test]
    fn paired_binary_rejects_impossible_counts() {
        for (n, ok, b, c) in [(0, 0, 0, 0), (10, 11, 0, 0), (10, 5, 6, 0), (10, 5, 0, 6)] {
            let r = paired_binary(n, ok, b, c, 0.95);
            assert!(
                r.delta.is_nan() && r.p_value.is_nan() && r.ci.low.is_nan(),
                "{n} {ok} {b} {c}"
            );
        }
        let r = paired_binary(10, 5, 0, 0, 0.95);
        assert_eq!((r.delta, r.se, r.p_value), (0.0, 0.0, 1.0));
    }

    proptest! {
        #[test]
        fn comparing_scores_with_themselves_finds_nothing(scores in prop::collection::vec(0.0_f64..=1.0, 2..300)) {
            let r = paired_means(&scores, &scores, 0.95);
            prop_assert_eq!(r.delta, 0.0);
            prop_assert_eq!(r.p_value, 1.0);
            prop_assert_eq!(r.ci, Interval { low: 0.0, high: 0.0 });
        }

        #[test]
        fn comparing_binary_run_with_itself_finds_nothing(n in 1_usize..100_000, frac in 0.0_f64..=1.0) {
            let correct = ((n as f64) * frac) as usize;
            let r = paired_binary(n, correct, 0, 0, 0.95);
            prop_assert_eq!(r.delta, 0.0);
            prop_assert_eq!(r.p_value, 1.0);
            prop_assert_eq!(r.baseline_mean, r.candidate_mean);
        }

        #[test]
        fn intervals_contain_delta(
            base in prop::collection::vec(0.0_f64..=1.0, 2..100),
            shift in prop::collection::vec(-0.5_f64..=0.5, 100),
        ) {
            let cand: Vec<f64> = base.iter().zip(&shift).map(|(b, s)| b + s).collect();
            let r = paired_means(&base, &cand, 0.9);
            prop_assert!(r.ci.contains(r.delta), "{r:?}");
            prop_assert!((0.0..=1.0).contains(&r.p_value));
        }

        #[test]
        fn binary_interval_contains_delta(n in 1_usize..10_000, ok in 0.0_f64..=1.0, b in 0.0_f64..=1.0, c in 0.0_f64..=1.0) {
            let correct = ((n as f64) * ok) as usize;
            let regressed = ((correct as f64) * b) as usize;
            let fixed = (((n - correct) as f64) * c) as usize;
            let r = paired_binary(n, correct, regressed, fixed, 0.95);
            prop_assert!(r.ci.contains(r.delta), "{r:?}");
            prop_assert!(r.se >= 0.0);
        }
    }
}
