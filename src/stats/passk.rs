//! Unbiased pass@k estimator of Chen et al., "Evaluating Large Language
//! Models Trained on Code" (2021, the Codex paper): with `n` samples of which
//! `c` are correct, `pass@k = 1 - C(n - c, k) / C(n, k)`.
//!
//! The binomial ratio is evaluated as a product of `min(c, k)` factors in log
//! space, `C(n - c, k) / C(n, k) = Π_{i = n-c+1}^{n} (1 - k / i)
//! = Π_{i = 0}^{k-1} (1 - c / (n - i))`, with `ln_1p` and `exp_m1` so that
//! neither large `n` (1024 and beyond, where the binomials overflow) nor a
//! small result loses precision.
//!
//! Deliberately not here: averaging over items (the caller averages the
//! per-item values) and the biased estimator `1 - (1 - c/n)^k`.

use statrs::function::gamma::ln_gamma;

/// Above this many factors the product gives way to `ln_gamma`, trading a
/// little accuracy (about 1e-9 relative) for bounded time.
const MAX_PRODUCT_TERMS: u32 = 10_000_000;

/// Unbiased pass@k for one item with `n` samples of which `c` are correct.
///
/// Returns `None` when `k == 0`, `n < k` or `c > n`; exactly `Some(1.0)` when
/// `n - c < k` (every draw of `k` contains a correct sample) and
/// `Some(0.0)` when `c == 0`.
pub fn pass_at_k(n: u32, c: u32, k: u32) -> Option<f64> {
    if k == 0 || n < k || c > n {
        return None;
    }
    if n - c < k {
        return Some(1.0);
    }
    if c == 0 {
        return Some(0.0);
    }
    let (nf, cf, kf) = (f64::from(n), f64::from(c), f64::from(k));
    let ln_ratio = if c.min(k) > MAX_PRODUCT_TERMS {
        // ln C(n-c, k) - ln C(n, k)
        ln_gamma(nf - cf + 1.0) - ln_gamma(nf - cf - kf + 1.0) - ln_gamma(nf + 1.0) + ln_gamma(nf - kf + 1.0)
    } else if c <= k {
        // Codex form: Π_{i = n-c+1}^{n} (1 - k / i), summed from i = n down.
        (n - c + 1..=n).rev().map(|i| (-kf / f64::from(i)).ln_1p()).sum()
    } else {
        (0..k).map(|i| (-cf / f64::from(n - i)).ln_1p()).sum::<f64>()
    };
    Some((-ln_ratio.exp_m1()).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn matches_exact_fractions_and_the_codex_formula() {
        // import math
        // from fractions import Fraction
        // import numpy as np
        //
        // def codex(n, c, k):  # Chen et al. (2021), Figure 3
        //     if n - c < k:
        //         return 1.0
        //     return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))
        //
        // def exact(n, c, k):
        //     if n - c < k:
        //         return Fraction(1)
        //     return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))
        //
        // for n, c, k in [(1, 0, 1), (1, 1, 1), (5, 0, 5), (5, 5, 5), (5, 2, 5), (10, 3, 1), (10, 3, 5),
        //                 (128, 7, 64), (200, 1, 1), (200, 1, 100), (1024, 0, 1), (1024, 1, 1), (1024, 1, 512),
        //                 (1024, 3, 10), (1024, 100, 100), (1024, 512, 16), (1024, 1023, 1), (1024, 1024, 1024),
        //                 (1024, 1, 1024), (1024, 2, 1000)]:
        //     print(f"({n}, {c}, {k}, {float(exact(n, c, k))!r}, {float(codex(n, c, k))!r}),")
        let table: [(u32, u32, u32, f64, f64); 20] = [
            (1, 0, 1, 0.0, 0.0),
            (1, 1, 1, 1.0, 1.0),
            (5, 0, 5, 0.0, 0.0),
            (5, 5, 5, 1.0, 1.0),
            (5, 2, 5, 1.0, 1.0),
            (10, 3, 1, 0.3, 0.30000000000000004),
            (10, 3, 5, 0.9166666666666666, 0.9166666666666666),
            (128, 7, 64, 0.9934280775878624, 0.9934280775878624),
            (200, 1, 1, 0.005, 0.0050000000000000044),
            (200, 1, 100, 0.5, 0.5),
            (1024, 0, 1, 0.0, 0.0),
            (1024, 1, 1, 0.0009765625, 0.0009765625),
            (1024, 1, 512, 0.5, 0.5),
            (1024, 3, 10, 0.02903980375291964, 0.02903980375291959),
            (1024, 100, 100, 0.9999803581569784, 0.9999803581569784),
            (1024, 512, 16, 0.9999864530365682, 0.9999864530365682),
            (1024, 1023, 1, 0.9990234375, 0.9990234375),
            (1024, 1024, 1024, 1.0, 1.0),
            (1024, 1, 1024, 1.0, 1.0),
            (1024, 2, 1000, 0.9994730571847508, 0.9994730571847508),
        ];
        for (n, c, k, exact, codex) in table {
            let got = pass_at_k(n, c, k);
            let what = format!("pass@{k} with {c}/{n}");
            let Some(got) = got else {
                panic!("{what}: None");
            };
            // Exact to the last bits; the numpy product loses a few more
            // (1 - prod cancels when the result is small).
            assert_close(got, exact, 1e-14, &what);
            assert_close(got, codex, 1e-12, &what);
        }
    }

    #[test]
    fn undefined_cases_are_none() {
        assert_eq!(pass_at_k(10, 3, 0), None);
        assert_eq!(pass_at_k(4, 1, 5), None);
        assert_eq!(pass_at_k(4, 5, 2), None);
        assert_eq!(pass_at_k(0, 0, 1), None);
    }

    #[test]
    fn boundary_values_are_exact() {
        assert_eq!(pass_at_k(5, 5, 5), Some(1.0)); // n = k, c = n
        assert_eq!(pass_at_k(5, 0, 5), Some(0.0)); // n = k, c = 0
        assert_eq!(pass_at_k(5, 1, 5), Some(1.0)); // n - c < k
        assert_eq!(pass_at_k(1024, 0, 1024), Some(0.0));
        assert_eq!(pass_at_k(1024, 1024, 1), Some(1.0));
    }

    #[test]
    fn pass_at_1_is_the_fraction_correct() {
        for (n, c) in [(1, 1), (10, 3), (128, 77), (1024, 1)] {
            let got = pass_at_k(n, c, 1).unwrap_or(f64::NAN);
            assert_close(got, f64::from(c) / f64::from(n), 1e-15, &format!("{c}/{n}"));
        }
    }

    #[test]
    fn huge_sample_counts_finish_quickly() {
        // More than MAX_PRODUCT_TERMS factors: the ln_gamma form. With c and k
        // both above 1e7 and n < 2^32, C(n - c, k) / C(n, k) < exp(-c k / n)
        // underflows, so pass@k is 1.
        assert_eq!(pass_at_k(40_000_000, 20_000_000, 20_000_000), Some(1.0));
        assert_eq!(pass_at_k(u32::MAX, 20_000_000, 20_000_000), Some(1.0));
        // A huge n with small k: the k-factor product, 400 terms.
        let got = pass_at_k(u32::MAX, 10_000_000, 400).unwrap_or(f64::NAN);
        let expected = 1.0 - (-(1e7_f64 * 400.0) / f64::from(u32::MAX)).exp();
        assert_close(got, expected, 1e-3, "u32::MAX samples");
    }

    proptest! {
        #[test]
        fn is_a_probability(n in 1_u32..2000, c_frac in 0.0_f64..=1.0, k_frac in 0.0_f64..=1.0) {
            let c = (f64::from(n) * c_frac) as u32;
            let k = ((f64::from(n) * k_frac) as u32).max(1);
            let p = pass_at_k(n, c, k);
            prop_assert!(matches!(p, Some(v) if (0.0..=1.0).contains(&v)), "{p:?}");
        }

        #[test]
        fn non_decreasing_in_k_and_c(n in 2_u32..1500, c_frac in 0.0_f64..1.0, k_frac in 0.0_f64..1.0) {
            let c = (f64::from(n) * c_frac) as u32;
            let k = ((f64::from(n) * k_frac) as u32).clamp(1, n - 1);
            let here = pass_at_k(n, c, k).unwrap_or(f64::NAN);
            let more_k = pass_at_k(n, c, k + 1).unwrap_or(f64::NAN);
            let more_c = pass_at_k(n, c + 1, k).unwrap_or(f64::NAN);
            // Up to rounding: the two product forms meet where c == k.
            prop_assert!(more_k >= here - 1e-15, "k: {here} -> {more_k}");
            prop_assert!(more_c >= here - 1e-15, "c: {here} -> {more_c}");
        }
    }
}
