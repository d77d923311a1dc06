//! Standard normal distribution: CDF, survival function and quantile, used
//! for Wilson intervals, the paired binary interval and power analysis.
//!
//! The CDF and survival function use Cody's rational approximations (see
//! `erf.rs`), accurate to a few ulps over the whole range; the quantile wraps
//! statrs' `erfc_inv` (Boost-derived, equally accurate).
//!
//! Deliberately not here: non-standard parameterisations (callers shift and
//! scale), densities, random sampling.

use std::f64::consts::SQRT_2;

use statrs::function::erf::erfc_inv;

use super::erf::normal_upper_tail;

/// Standard normal cumulative distribution function `P(Z <= x)`. NaN gives NaN.
pub fn normal_cdf(x: f64) -> f64 {
    normal_upper_tail(-x)
}

/// Standard normal survival function `P(Z > x)`, accurate in the upper tail
/// where `1 - normal_cdf(x)` would cancel. NaN gives NaN.
pub fn normal_sf(x: f64) -> f64 {
    normal_upper_tail(x)
}

/// Standard normal quantile (inverse CDF): the `z` with `P(Z <= z) = p`.
///
/// `p = 0` gives `-inf`, `p = 1` gives `+inf`, `p` outside `[0, 1]` or NaN
/// gives NaN.
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    -SQRT_2 * erfc_inv(2.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn normal_cdf_matches_scipy() {
        // from scipy.stats import norm
        // for x in [-30.0, -10.0, -5.0, -1.96, -1.0, -0.3, 0.0, 0.3, 1.0, 1.96, 3.0, 8.0]:
        //     print(f"({x!r}, {float(norm.cdf(x))!r}),")
        let table = [
            (-30.0, 4.906713927147908e-198),
            (-10.0, 7.61985302416047e-24),
            (-5.0, 2.866515718791933e-07),
            (-1.96, 0.024997895148220435),
            (-1.0, 0.15865525393145707),
            (-0.3, 0.3820885778110474),
            (0.0, 0.5),
            (0.3, 0.6179114221889526),
            (1.0, 0.8413447460685429),
            (1.96, 0.9750021048517795),
            (3.0, 0.9986501019683699),
            (8.0, 0.9999999999999993),
        ];
        for (x, want) in table {
            assert_close(normal_cdf(x), want, 1e-13, &format!("normal_cdf({x})"));
        }
    }

    #[test]
    fn normal_quantile_matches_scipy() {
        // from scipy.stats import norm
        // for p in [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.025, 0.1, 0.3, 0.5, 0.7, 0.9, 0.975, 0.999]:
        //     print(f"({p!r}, {float(norm.ppf(p))!r}),")
        let table = [
            (1e-300, -37.0470962993612),
            (1e-20, -9.262340089798409),
            (1e-10, -6.361340902404056),
            (1e-05, -4.264890793922825),
            (0.001, -3.090232306167813),
            (0.025, -1.9599639845400545),
            (0.1, -1.2815515655446004),
            (0.3, -0.5244005127080409),
            (0.5, 0.0),
            (0.7, 0.5244005127080407),
            (0.9, 1.2815515655446004),
            (0.975, 1.959963984540054),
            (0.999, 3.090232306167813),
        ];
        for (p, want) in table {
            assert_close(normal_quantile(p), want, 1e-14, &format!("normal_quantile({p})"));
        }
    }

    #[test]
    fn normal_edge_cases() {
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(-0.1).is_nan());
        assert!(normal_quantile(1.1).is_nan());
        assert!(normal_quantile(f64::NAN).is_nan());
        assert!(normal_cdf(f64::NAN).is_nan());
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_sf(f64::INFINITY), 0.0);
    }

    proptest! {
        #[test]
        fn normal_quantile_inverts_cdf(p in 1e-300_f64..1.0) {
            let back = normal_cdf(normal_quantile(p));
            prop_assert!((back - p).abs() <= 1e-13 * p.min(1.0 - p).max(1e-3), "p={p} back={back}");
        }
    }
}
