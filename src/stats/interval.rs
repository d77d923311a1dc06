//! Confidence intervals for one run of one slice: the Wilson score interval
//! for a proportion of single-sample binary scores (E. B. Wilson, "Probable
//! inference, the law of succession, and statistical inference", JASA 22,
//! 1927), and the item-clustered mean for items with several samples or
//! non-binary scores (mean of item means, standard error over items, Student
//! t interval).
//!
//! Deliberately not here: Clopper–Pearson or other proportion intervals,
//! bootstrap intervals, weighting items by their sample count.

use super::normal::normal_quantile;
use super::student_t::student_t_quantile;

/// A closed interval `[low, high]`; NaN bounds mean "undefined".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// The undefined interval, both bounds NaN.
    pub const UNDEFINED: Interval = Interval {
        low: f64::NAN,
        high: f64::NAN,
    };

    /// Whether `x` lies in `[low, high]` (false for NaN bounds or NaN `x`).
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }

    /// `high - low`.
    pub fn width(&self) -> f64 {
        self.high - self.low
    }

    /// `center ± half_width`.
    pub(super) fn around(center: f64, half_width: f64) -> Interval {
        Interval {
            low: center - half_width,
            high: center + half_width,
        }
    }
}

/// The two-sided normal critical value `z_{1 - (1 - confidence)/2}`, NaN
/// unless `0 < confidence < 1`. Written as `-Φ⁻¹(α/2)` like statsmodels'
/// `norm.isf(alpha / 2)`.
pub(super) fn normal_critical_value(confidence: f64) -> f64 {
    if !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    -normal_quantile(0.5 * (1.0 - confidence))
}

/// The two-sided Student t critical value with `df` degrees of freedom, NaN
/// unless `0 < confidence < 1` and `df > 0`.
pub(super) fn t_critical_value(confidence: f64, df: f64) -> f64 {
    if !(confidence > 0.0 && confidence < 1.0) {
        return f64::NAN;
    }
    -student_t_quantile(0.5 * (1.0 - confidence), df)
}

/// Wilson score interval for `successes` out of `n` at the given two-sided
/// `confidence` (e.g. 0.95), as
/// `statsmodels.stats.proportion.proportion_confint(successes, n, 1 - confidence, method="wilson")`,
/// including its clipping to `[0, 1]`; the lower bound at `0/n` is exactly 0
/// and the upper bound at `n/n` exactly 1.
///
/// `n == 0` gives `[0, 1]` (nothing is known). `successes > n` or a
/// confidence outside `(0, 1)` gives [`Interval::UNDEFINED`].
pub fn wilson_interval(successes: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval { low: 0.0, high: 1.0 };
    }
    let z = normal_critical_value(confidence);
    if successes > n || z.is_nan() {
        return Interval::UNDEFINED;
    }
    let nobs = n as f64;
    let q = successes as f64 / nobs;
    let z2 = z * z;
    let denom = 1.0 + z2 / nobs;
    let center = (q + z2 / (2.0 * nobs)) / denom;
    let dist = z * (q * (1.0 - q) / nobs + z2 / (4.0 * nobs * nobs)).sqrt() / denom;
    // At 0/n and n/n the bound is exactly 0 or 1; rounding alone would leave
    // it a few ulps inside.
    Interval {
        low: if successes == 0 {
            0.0
        } else {
            (center - dist).clamp(0.0, 1.0)
        },
        high: if successes == n {
            1.0
        } else {
            (center + dist).clamp(0.0, 1.0)
        },
    }
}

/// Mean of per-item scores with its item-clustered standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanEstimate {
    /// Number of items.
    pub n: usize,
    /// Mean of the item means.
    pub mean: f64,
    /// Standard error over items: sample standard deviation (ddof = 1) / sqrt(n).
    pub se: f64,
    /// `mean ± t_{n-1} * se`.
    pub ci: Interval,
}

/// Mean of item means, standard error over items (`sd` with ddof = 1 divided
/// by `sqrt(n)`), and the two-sided Student t interval `mean ± t_{n-1} se`,
/// as `scipy.stats.t.interval(confidence, n - 1, loc=mean, scale=scipy.stats.sem(x))`.
///
/// Samples of one item are correlated, so the item, not the sample, is the
/// unit of replication: pass one mean per item.
///
/// Edge cases: no items gives NaN mean, se and interval. One item gives its
/// value as the mean but NaN se and an undefined interval: one item says
/// nothing about item-to-item spread, and no interval is better than a
/// made-up one. Equal item means give se 0 and the point interval
/// `[mean, mean]`. Any NaN item mean makes everything NaN. A confidence
/// outside `(0, 1)` gives an undefined interval.
pub fn clustered_mean(item_means: &[f64], confidence: f64) -> MeanEstimate {
    let mut m = TwoPass::new();
    item_means.iter().for_each(|&v| m.first(v));
    m.end_first();
    item_means.iter().for_each(|&v| m.second(v));
    clustered_mean_of(&m, confidence)
}

/// [`clustered_mean`] of values already streamed through `m` (both passes).
pub fn clustered_mean_of(m: &TwoPass, confidence: f64) -> MeanEstimate {
    let n = m.n;
    let (mean, sd) = m.mean_and_sd();
    let se = sd / (n as f64).sqrt();
    let ci = if n >= 2 {
        Interval::around(mean, t_critical_value(confidence, (n - 1) as f64) * se)
    } else {
        Interval::UNDEFINED
    };
    MeanEstimate { n, mean, se, ci }
}

/// Mean and sample standard deviation (ddof = 1) of a stream of values read
/// twice: every value through [`TwoPass::first`], then
/// [`TwoPass::end_first`], then every value again, in the same order, through
/// [`TwoPass::second`]. The mean is NaN for no values and the deviation NaN
/// below two. The sums are taken in stream order, so a slice's statistics are
/// the same bits whether its values were collected first or streamed (the
/// slice evaluation streams them, item by item, into thousands of slices at
/// once).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoPass {
    pub n: usize,
    sum: f64,
    mean: f64,
    ss: f64,
}

impl Default for TwoPass {
    fn default() -> Self {
        Self::new()
    }
}

impl TwoPass {
    pub const fn new() -> Self {
        TwoPass {
            n: 0,
            // -0.0, the neutral element `Iterator::sum` starts from.
            sum: -0.0,
            mean: f64::NAN,
            ss: -0.0,
        }
    }

    pub fn first(&mut self, v: f64) {
        self.n += 1;
        self.sum += v;
    }

    pub fn end_first(&mut self) {
        self.mean = if self.n == 0 {
            f64::NAN
        } else {
            self.sum / self.n as f64
        };
    }

    /// The mean; valid after [`TwoPass::end_first`].
    pub fn mean(&self) -> f64 {
        self.mean
    }

    pub fn second(&mut self, v: f64) {
        self.ss += (v - self.mean) * (v - self.mean);
    }

    /// Mean and sample standard deviation (NaN below two values).
    pub fn mean_and_sd(&self) -> (f64, f64) {
        if self.n == 0 {
            return (f64::NAN, f64::NAN);
        }
        if self.n < 2 {
            return (self.mean, f64::NAN);
        }
        (self.mean, (self.ss / (self.n as f64 - 1.0)).sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn wilson_matches_statsmodels() {
        // from statsmodels.stats.proportion import proportion_confint
        // for conf in [0.95, 0.9, 0.99]:
        //     for k, n in [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (7, 20), (50, 100), (1, 1000), (999, 1000), (123456, 1000000)]:
        //         lo, hi = proportion_confint(k, n, alpha=1 - conf, method="wilson")
        //         print(f"({k}, {n}, {conf!r}, {lo!r}, {hi!r}),")
        let table: [(u64, u64, f64, f64, f64); 30] = [
            (0, 1, 0.95, 0.0, 0.7934506856227626),
            (1, 1, 0.95, 0.20654931437723745, 1.0),
            (0, 10, 0.95, 0.0, 0.2775327998628892),
            (10, 10, 0.95, 0.7224672001371107, 0.9999999999999999),
            (3, 10, 0.95, 0.10779126740630099, 0.6032218525388546),
            (7, 20, 0.95, 0.18119182410108206, 0.5671457233147638),
            (50, 100, 0.95, 0.4038315303659956, 0.5961684696340044),
            (1, 1000, 0.95, 0.00017654637062607809, 0.0056425585979579355),
            (999, 1000, 0.95, 0.9943574414020421, 0.9998234536293739),
            (123456, 1000000, 0.95, 0.12281269653142285, 0.12410219641400438),
            (0, 1, 0.9, 0.0, 0.730134051215946),
            (1, 1, 0.9, 0.269865948784054, 1.0),
            (0, 10, 0.9, 0.0, 0.2129419700834071),
            (10, 10, 0.9, 0.7870580299165928, 1.0),
            (3, 10, 0.9, 0.12687658390319784, 0.558300204130165),
            (7, 20, 0.9, 0.202260040056761, 0.5334873111515284),
            (50, 100, 0.9, 0.4188477961125295, 0.5811522038874706),
            (1, 1000, 0.9, 0.00022312384391207085, 0.004469722909368932),
            (999, 1000, 0.9, 0.9955302770906311, 0.9997768761560879),
            (123456, 1000000, 0.9, 0.12291592764104936, 0.12399810986574683),
            (0, 1, 0.99, 0.0, 0.8690224567198142),
            (1, 1, 0.99, 0.13097754328018596, 1.0),
            (0, 10, 0.99, 0.0, 0.3988540933049081),
            (10, 10, 0.99, 0.6011459066950919, 1.0),
            (3, 10, 0.99, 0.07956631652306573, 0.6799753207988974),
            (7, 20, 0.99, 0.1463934413769388, 0.6283381789526871),
            (50, 100, 0.99, 0.37527962504483986, 0.6247203749551602),
            (1, 1000, 0.99, 0.00011741635361832078, 0.008460566219981694),
            (999, 1000, 0.99, 0.9915394337800183, 0.9998825836463816),
            (123456, 1000000, 0.99, 0.12261115289079927, 0.12430584373706008),
        ];
        for (k, n, conf, low, high) in table {
            let ci = wilson_interval(k, n, conf);
            let what = format!("wilson({k}/{n}, {conf})");
            assert_close(ci.low, low, 1e-12, &what);
            assert_close(ci.high, high, 1e-12, &what);
        }
    }

    #[test]
    fn wilson_edge_cases() {
        assert_eq!(wilson_interval(0, 0, 0.95), Interval { low: 0.0, high: 1.0 });
        assert_eq!(wilson_interval(0, 10, 0.95).low, 0.0);
        assert_eq!(wilson_interval(10, 10, 0.95).high, 1.0);
        assert!(wilson_interval(11, 10, 0.95).low.is_nan());
        for bad in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            let ci = wilson_interval(3, 10, bad);
            assert!(ci.low.is_nan() && ci.high.is_nan(), "confidence {bad}");
        }
    }

    #[test]
    fn clustered_mean_matches_scipy() {
        // import numpy as np
        // from scipy import stats
        // cases = [
        //     [0.25, 0.5, 1.0, 0.75, 0.0, 0.5, 0.25, 1.0, 0.75, 0.5],
        //     [0.9, 0.1],
        //     [0.3, 0.3, 0.4],
        //     [0.125 * (i % 9) for i in range(37)],
        // ]
        // for x in cases:
        //     x = np.array(x)
        //     m, se = x.mean(), stats.sem(x)
        //     lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=se)
        //     print(f"(&{list(map(float, x))!r}, {float(m)!r}, {float(se)!r}, {float(lo)!r}, {float(hi)!r}),")
        let table: [(&[f64], f64, f64, f64, f64); 4] = [
            (
                &[0.25, 0.5, 1.0, 0.75, 0.0, 0.5, 0.25, 1.0, 0.75, 0.5],
                0.55,
                0.10408329997330663,
                0.31454721743771025,
                0.7854527825622899,
            ),
            (&[0.9, 0.1], 0.5, 0.4, -4.582481894469878, 5.582481894469878),
            (
                &[0.3, 0.3, 0.4],
                0.3333333333333333,
                0.03333333333333335,
                0.18991157567501787,
                0.47675509099164876,
            ),
            (
                &[
                    0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0, 0.125, 0.25, 0.375, 0.5,
                    0.625, 0.75, 0.875, 1.0, 0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0,
                    0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.0,
                ],
                0.4864864864864865,
                0.05475335937451901,
                0.3754415268054978,
                0.5975314461674752,
            ),
        ];
        for (items, mean, se, low, high) in table {
            let est = clustered_mean(items, 0.95);
            let what = format!("clustered_mean({items:?})");
            assert_eq!(est.n, items.len());
            assert_close(est.mean, mean, 1e-14, &what);
            assert_close(est.se, se, 1e-13, &what);
            assert_close(est.ci.low, low, 1e-12, &what);
            assert_close(est.ci.high, high, 1e-12, &what);
        }
    }

    #[test]
    fn clustered_mean_edge_cases() {
        let empty = clustered_mean(&[], 0.95);
        assert_eq!(empty.n, 0);
        assert!(empty.mean.is_nan() && empty.se.is_nan() && empty.ci.low.is_nan());

        let one = clustered_mean(&[0.75], 0.95);
        assert_eq!((one.n, one.mean), (1, 0.75));
        assert!(one.se.is_nan() && one.ci.low.is_nan() && one.ci.high.is_nan());

        let flat = clustered_mean(&[0.5, 0.5, 0.5], 0.95);
        assert_eq!((flat.mean, flat.se), (0.5, 0.0));
        assert_eq!(flat.ci, Interval { low: 0.5, high: 0.5 });

        let with_nan = clustered_mean(&[0.5, f64::NAN], 0.95);
        assert!(with_nan.mean.is_nan() && with_nan.ci.low.is_nan());

        let bad_conf = clustered_mean(&[0.1, 0.2, 0.4], 1.0);
        assert!(bad_conf.mean > 0.0 && bad_conf.ci.low.is_nan());
    }

    proptest! {
        /// The streamed two passes give the bits of the textbook two-pass
        /// computation over a collected slice.
        #[test]
        fn two_pass_equals_the_collected_computation(v in prop::collection::vec(-1e3_f64..1e3, 0..60)) {
            let mut m = TwoPass::new();
            v.iter().for_each(|&x| m.first(x));
            m.end_first();
            v.iter().for_each(|&x| m.second(x));
            let (mean, sd) = m.mean_and_sd();
            let want_mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
            let want_sd = if v.len() < 2 {
                f64::NAN
            } else {
                let ss: f64 = v.iter().map(|x| (x - want_mean) * (x - want_mean)).sum();
                (ss / (v.len() as f64 - 1.0)).sqrt()
            };
            prop_assert_eq!(format!("{mean:?} {sd:?}"), format!("{want_mean:?} {want_sd:?}"));
        }

        #[test]
        fn wilson_contains_the_estimate(n in 1_u64..100_000, frac in 0.0_f64..=1.0, conf in 0.5_f64..0.999) {
            let k = ((n as f64) * frac).floor() as u64;
            let ci = wilson_interval(k, n, conf);
            let estimate = k as f64 / n as f64;
            prop_assert!(0.0 <= ci.low && ci.high <= 1.0);
            prop_assert!(ci.contains(estimate), "{ci:?} vs {estimate}");
        }

        #[test]
        fn clustered_ci_contains_the_mean(items in prop::collection::vec(0.0_f64..=1.0, 2..200)) {
            let est = clustered_mean(&items, 0.95);
            prop_assert!(est.ci.contains(est.mean), "{est:?}");
            prop_assert!(est.se >= 0.0);
        }
    }
}
