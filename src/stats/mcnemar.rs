//! Exact McNemar test: the two-sided exact binomial test on the discordant
//! pairs of a paired binary comparison (McNemar 1947; exact form as in
//! `scipy.stats.binomtest(b, b + c, 0.5)`).
//!
//! Under the null hypothesis each discordant pair is equally likely to go
//! either way, so `min(b, c) ~ Binomial(b + c, 1/2)` and, the distribution
//! being symmetric, the two-sided p-value is `min(1, 2 P(X <= min(b, c)))`.
//! (scipy sums the terms no more probable than the observed one, with a
//! relative slack of 1e-7; for a symmetric binomial that is the same set of
//! terms as long as `b + c` stays below about 2e7.)
//!
//! The point probability uses Loader's saddle-point expansion (C. Loader,
//! "Fast and accurate computation of binomial probabilities", 2000; the
//! algorithm behind R's `dbinom`), which keeps full relative accuracy for
//! `b + c` up to 1e7 and beyond, where factorials overflow and differences
//! of `ln_gamma` values lose eight digits. The tail is then summed downward
//! from that term with the exact ratio of consecutive terms.
//!
//! Deliberately not here: mid-p or continuity-corrected chi-square variants.

use std::f64::consts::PI;

/// Two-sided exact McNemar p-value for `b` pairs that went one way and `c`
/// that went the other, as `scipy.stats.binomtest(b, b + c, 0.5).pvalue`.
///
/// `b + c == 0` and `b == c` give 1. Above 1e12 discordant pairs the exact
/// sum gives way to the normal approximation (relative error below 1e-5).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    if b == c {
        return 1.0;
    }
    let n = b as f64 + c as f64;
    let k = b.min(c) as f64;
    let tail = if n <= MAX_EXACT_PAIRS {
        binomial_lower_tail_half(k, n)
    } else {
        // Normal approximation with continuity correction; for a symmetric
        // binomial its relative error is O(z^4 / n), below 1e-5 here.
        super::normal::normal_cdf((k + 0.5 - 0.5 * n) / (0.5 * n.sqrt()))
    };
    (2.0 * tail).min(1.0)
}

/// Largest number of discordant pairs summed exactly. The tail sum takes
/// about 5 sqrt(n) terms (5e6 here, a few milliseconds); beyond it, and
/// beyond the integers that f64 represents exactly, the normal
/// approximation takes over.
const MAX_EXACT_PAIRS: f64 = 1e12;

/// `P(X <= k)` for `X ~ Binomial(n, 1/2)` and integer-valued `0 <= k < n / 2`.
fn binomial_lower_tail_half(k: f64, n: f64) -> f64 {
    let mut term = binomial_pmf(k, n, 0.5, 0.5);
    let mut sum = term;
    let mut j = k;
    while j > 0.0 && term > 0.0 {
        // pmf(j - 1) / pmf(j) = j / (n - j + 1); the ratios shrink as j
        // falls, so the terms still to come total at most term * r / (1 - r).
        let ratio = j / (n - j + 1.0);
        term *= ratio;
        sum += term;
        if term * ratio <= (1.0 - ratio) * sum * (0.25 * f64::EPSILON) {
            break;
        }
        j -= 1.0;
    }
    sum
}

/// Binomial point probability `P(X = x)` for `X ~ Binomial(n, p)`, `q = 1 - p`,
/// with integer-valued `0 <= x <= n` (Loader 2000).
fn binomial_pmf(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if x == 0.0 {
        return if n == 0.0 { 1.0 } else { (n * q.ln()).exp() };
    }
    if x == n {
        return (n * p.ln()).exp();
    }
    let lc = stirling_error(n)
        - stirling_error(x)
        - stirling_error(n - x)
        - deviance_term(x, n * p)
        - deviance_term(n - x, n * q);
    // ln(2π x (n - x) / n)
    let lf = (2.0 * PI).ln() + x.ln() + (-x / n).ln_1p();
    (lc - 0.5 * lf).exp()
}

/// `ln(n!) - [ (n + 1/2) ln n - n + ln(2π)/2 ]` for integer-valued `n >= 1`.
fn stirling_error(n: f64) -> f64 {
    // Exact values for n = 1..=15, computed with 50-digit decimal arithmetic:
    // ln(n!) - (n + 1/2) ln(n) + n - ln(2π)/2.
    const SMALL: [f64; 15] = [
        0.08106146679532726,
        0.0413406959554093,
        0.02767792568499834,
        0.020790672103765093,
        0.016644691189821193,
        0.013876128823070748,
        0.01189670994589177,
        0.010411265261972096,
        0.009255462182712733,
        0.00833056343336287,
        0.007573675487951841,
        0.00694284010720953,
        0.006408994188004207,
        0.0059513701127588475,
        0.005554733551962801,
    ];
    if n <= 15.0 {
        // n is a positive integer here, so the index is in range.
        return SMALL.get((n as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    }
    // Stirling series 1/(12n) - 1/(360n^3) + 1/(1260n^5) - 1/(1680n^7) + 1/(1188n^9).
    const S0: f64 = 1.0 / 12.0;
    const S1: f64 = 1.0 / 360.0;
    const S2: f64 = 1.0 / 1260.0;
    const S3: f64 = 1.0 / 1680.0;
    const S4: f64 = 1.0 / 1188.0;
    let nn = n * n;
    if n > 500.0 {
        (S0 - S1 / nn) / n
    } else if n > 80.0 {
        (S0 - (S1 - S2 / nn) / nn) / n
    } else if n > 35.0 {
        (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / n
    } else {
        (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / n
    }
}

/// Deviance term `x ln(x / m) + m - x`, computed without cancellation when
/// `x` is close to `m` (Loader's `bd0`).
fn deviance_term(x: f64, m: f64) -> f64 {
    if (x - m).abs() < 0.1 * (x + m) {
        // x ln(x/m) + m - x = (x - m) v + 2 x Σ_{j>=1} v^(2j+1) / (2j + 1),
        // with v = (x - m) / (x + m).
        let v = (x - m) / (x + m);
        let mut sum = (x - m) * v;
        if sum.abs() < f64::MIN_POSITIVE {
            return sum;
        }
        let v2 = v * v;
        let mut ej = 2.0 * x * v;
        for j in 1..1000 {
            ej *= v2;
            let next = sum + ej / f64::from(2 * j + 1);
            if next == sum {
                return next;
            }
            sum = next;
        }
        return sum;
    }
    x * (x / m).ln() + m - x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn matches_scipy_binomtest() {
        // from scipy.stats import binomtest
        // cases = [(0,1),(1,0),(0,5),(3,10),(10,3),(7,7),(10,11),(12,30),(0,30),(1,60),(200,260),(0,1100),
        //          (49800,50200),(49000,51000),(45000,55000),(50000,50001),(50000,50002),(4_999_000,5_001_000),(4_990_000,5_010_000)]
        // for b, c in cases:
        //     print(f"({b}, {c}, {binomtest(b, b + c, 0.5).pvalue!r}),")
        let table: [(u64, u64, f64); 19] = [
            (0, 1, 1.0),
            (1, 0, 1.0),
            (0, 5, 0.0625),
            (3, 10, 0.09228515625),
            (10, 3, 0.09228515625),
            (7, 7, 1.0),
            (10, 11, 1.0),
            (12, 30, 0.007915897334896727),
            (0, 30, 1.862645149230957e-09),
            (1, 60, 5.377642775528102e-17),
            (200, 260, 0.0058839224731039984),
            (0, 1100, 0.0),
            (49800, 50200, 0.2070389717642225),
            (49000, 51000, 2.5887160383468943e-10),
            (45000, 55000, 8.600341645712794e-220),
            (50000, 50001, 1.0),
            (50000, 50002, 0.9974768990165606),
            (4999000, 5001000, 0.5272958562067155),
            (4990000, 5010000, 2.5448004911550766e-10),
        ];
        for (b, c, want) in table {
            assert_close(mcnemar_exact(b, c), want, 1e-12, &format!("b={b} c={c}"));
        }
    }

    #[test]
    fn no_discordant_pairs_gives_one() {
        assert_eq!(mcnemar_exact(0, 0), 1.0);
    }

    #[test]
    fn counts_near_u64_max_do_not_panic() {
        let p = mcnemar_exact(u64::MAX, u64::MAX - 1);
        assert!((0.0..=1.0).contains(&p));
        assert_eq!(mcnemar_exact(0, u64::MAX), 0.0);
        // On both sides of the switch to the normal approximation.
        let exact = mcnemar_exact(500_000_000_000 - 1_000_000, 500_000_000_000 + 1_000_000);
        let approx = mcnemar_exact(500_000_000_001 - 1_000_000, 500_000_000_001 + 1_000_000);
        assert_close(approx, exact, 1e-4, "continuity at 1e12 pairs");
    }

    #[test]
    fn point_probabilities_match_scipy() {
        // from scipy.stats import binom
        // for k, n, p in [(3, 10, 0.5), (0, 7, 0.3), (7, 7, 0.3), (1234, 5000, 0.25), (5_000_123, 10_000_000, 0.5)]:
        //     print(f"({k}.0, {n}.0, {p!r}, {float(binom.pmf(k, n, p))!r}),")
        let table = [
            (3.0, 10.0, 0.5, 0.1171875),
            (0.0, 7.0, 0.3, 0.08235430000000003),
            (7.0, 7.0, 0.3, 0.00021869999999999995),
            (1234.0, 5000.0, 0.25, 0.011410377820885307),
            (5000123.0, 10000000.0, 0.5, 0.0002515509504093486),
        ];
        for (k, n, p, want) in table {
            assert_close(
                binomial_pmf(k, n, p, 1.0 - p),
                want,
                1e-13,
                &format!("pmf({k}; {n}, {p})"),
            );
        }
    }

    proptest! {
        #[test]
        fn p_value_is_symmetric_and_a_probability(b in 0_u64..5000, c in 0_u64..5000) {
            let p = mcnemar_exact(b, c);
            prop_assert!((0.0..=1.0).contains(&p));
            prop_assert_eq!(p, mcnemar_exact(c, b));
        }

        #[test]
        fn more_lopsided_is_more_significant(b in 0_u64..2000, c in 0_u64..2000) {
            // Moving one discordant pair from the minority to the majority
            // side can only lower the p-value.
            prop_assume!(b < c);
            prop_assert!(mcnemar_exact(b, c + 1) <= mcnemar_exact(b, c));
        }
    }
}
