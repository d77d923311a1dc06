//! Power analysis for paired comparisons: the minimum detectable effect of a
//! slice, and its inverse, the number of items needed to detect an effect.
//!
//! Both use the normal approximation for a two-sided paired test, `MDE =
//! (z_{1-α/2} + z_{power}) sd_diff / sqrt(n)` (e.g. Cohen, "Statistical Power
//! Analysis for the Behavioral Sciences", 1988). A slice whose MDE exceeds the
//! effect of interest is `underpowered`: a non-significant result there is
//! not evidence of stability.
//!
//! Deliberately not here: t-based or exact binomial power, which matter only
//! below a few dozen items, where the slice is underpowered anyway.

use super::normal::normal_quantile;

/// `z_{1-α/2} + z_{power}`, NaN unless `0 < alpha < 1` and `0 < power < 1`.
fn z_sum(alpha: f64, power: f64) -> f64 {
    if !(alpha > 0.0 && alpha < 1.0 && power > 0.0 && power < 1.0) {
        return f64::NAN;
    }
    -normal_quantile(0.5 * alpha) + normal_quantile(power)
}

/// Minimum detectable effect of a two-sided paired test with `n` items,
/// per-item difference standard deviation `sd_diff`, level `alpha` and
/// `power` (e.g. 0.05 and 0.8): `(z_{1-α/2} + z_{power}) sd_diff / sqrt(n)`.
///
/// `alpha` or `power` outside `(0, 1)`, or a negative or NaN `sd_diff`,
/// give NaN; otherwise `n == 0` gives `+inf`.
pub fn minimum_detectable_effect(n: usize, sd_diff: f64, alpha: f64, power: f64) -> f64 {
    let z = z_sum(alpha, power);
    if z.is_nan() || sd_diff.is_nan() || sd_diff < 0.0 {
        return f64::NAN;
    }
    if n == 0 {
        return f64::INFINITY;
    }
    z * sd_diff / (n as f64).sqrt()
}

/// Smallest number of items `n >= 1` whose minimum detectable effect is at
/// most `effect`: the inverse of [`minimum_detectable_effect`], about
/// `ceil(((z_{1-α/2} + z_{power}) sd_diff / effect)^2)`.
///
/// Returns `None` when no finite number of items suffices or the question
/// is ill-posed: `effect` not positive or NaN, `sd_diff` negative, infinite
/// or NaN, `alpha` or `power` outside `(0, 1)`, or an answer beyond 2^53.
/// `sd_diff == 0` gives `Some(1)`.
pub fn items_needed(effect: f64, sd_diff: f64, alpha: f64, power: f64) -> Option<usize> {
    let z = z_sum(alpha, power);
    let valid_effect = effect > 0.0;
    let valid_sd = sd_diff.is_finite() && sd_diff >= 0.0;
    if z.is_nan() || !valid_effect || !valid_sd {
        return None;
    }
    if z <= 0.0 || sd_diff == 0.0 {
        // The MDE is at most 0 from the first item on.
        return Some(1);
    }
    let estimate = (z * sd_diff / effect).powi(2).ceil().max(1.0);
    // 2^53: beyond it usize and f64 no longer agree on integers.
    if estimate.is_nan() || estimate > 9_007_199_254_740_992.0 {
        return None;
    }
    let detects = |n: usize| minimum_detectable_effect(n, sd_diff, alpha, power) <= effect;
    // The closed form can be one off either way through rounding; settle it
    // against the MDE itself so the two functions agree exactly. A handful of
    // steps always suffices; the bound only guarantees termination.
    let mut n = estimate as usize;
    for _ in 0..64 {
        if n > 1 && detects(n - 1) {
            n -= 1;
        } else if !detects(n) {
            n += 1;
        } else {
            break;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn mde_and_items_needed_match_reference() {
        // import math
        // from scipy.stats import norm
        // for n, sd, alpha, power in [(100, 0.5, 0.05, 0.8), (1, 1.0, 0.05, 0.8), (400, 0.3, 0.01, 0.9), (12000, 0.42, 0.05, 0.8)]:
        //     z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
        //     print(f"({n}, {sd!r}, {alpha!r}, {power!r}, {float(z * sd / math.sqrt(n))!r}),")
        // for effect, sd, alpha, power in [(0.05, 0.5, 0.05, 0.8), (0.02, 0.42, 0.05, 0.8), (0.1, 0.3, 0.01, 0.9), (0.5, 0.1, 0.05, 0.8)]:
        //     z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
        //     print(f"({effect!r}, {sd!r}, {alpha!r}, {power!r}, {math.ceil((z * sd / effect) ** 2)}),")
        let mde: [(usize, f64, f64, f64, f64); 4] = [
            (100, 0.5, 0.05, 0.8, 0.14007926090564843),
            (1, 1.0, 0.05, 0.8, 2.8015852181129683),
            (400, 0.3, 0.01, 0.9, 0.057860713036402514),
            (12000, 0.42, 0.05, 0.8, 0.010741439945134523),
        ];
        for (n, sd, alpha, power, want) in mde {
            let got = minimum_detectable_effect(n, sd, alpha, power);
            assert_close(got, want, 1e-14, &format!("mde(n={n}, sd={sd})"));
        }
        let needed: [(f64, f64, f64, f64, usize); 4] = [
            (0.05, 0.5, 0.05, 0.8, 785),
            (0.02, 0.42, 0.05, 0.8, 3462),
            (0.1, 0.3, 0.01, 0.9, 134),
            (0.5, 0.1, 0.05, 0.8, 1),
        ];
        for (effect, sd, alpha, power, want) in needed {
            assert_eq!(
                items_needed(effect, sd, alpha, power),
                Some(want),
                "effect {effect} sd {sd}"
            );
        }
    }

    #[test]
    fn edge_cases() {
        assert_eq!(minimum_detectable_effect(0, 0.5, 0.05, 0.8), f64::INFINITY);
        assert_eq!(minimum_detectable_effect(10, 0.0, 0.05, 0.8), 0.0);
        assert!(minimum_detectable_effect(10, f64::NAN, 0.05, 0.8).is_nan());
        assert!(minimum_detectable_effect(10, -1.0, 0.05, 0.8).is_nan());
        assert!(minimum_detectable_effect(10, 0.5, 0.0, 0.8).is_nan());
        assert!(minimum_detectable_effect(10, 0.5, 0.05, 1.0).is_nan());

        assert_eq!(items_needed(0.05, 0.0, 0.05, 0.8), Some(1));
        assert_eq!(items_needed(0.0, 0.5, 0.05, 0.8), None);
        assert_eq!(items_needed(-0.1, 0.5, 0.05, 0.8), None);
        assert_eq!(items_needed(f64::NAN, 0.5, 0.05, 0.8), None);
        assert_eq!(items_needed(0.1, f64::INFINITY, 0.05, 0.8), None);
        assert_eq!(items_needed(0.1, 0.5, 1.5, 0.8), None);
        assert_eq!(items_needed(1e-300, 0.5, 0.05, 0.8), None);
        // Power below alpha/2: the MDE is negative, one item suffices.
        assert_eq!(items_needed(0.1, 0.5, 0.05, 0.01), Some(1));
    }

    proptest! {
        #[test]
        fn items_needed_inverts_the_mde(
            effect in 1e-4_f64..1.0,
            sd in 1e-3_f64..1.0,
            alpha in 0.001_f64..0.2,
            power in 0.5_f64..0.99,
        ) {
            let n = items_needed(effect, sd, alpha, power);
            prop_assert!(n.is_some());
            let n = n.unwrap_or(0);
            prop_assert!(minimum_detectable_effect(n, sd, alpha, power) <= effect);
            if n > 1 {
                prop_assert!(minimum_detectable_effect(n - 1, sd, alpha, power) > effect);
            }
        }

        #[test]
        fn mde_shrinks_with_more_items(n in 1_usize..1_000_000, sd in 0.0_f64..1.0) {
            let here = minimum_detectable_effect(n, sd, 0.05, 0.8);
            let more = minimum_detectable_effect(n + 1, sd, 0.05, 0.8);
            prop_assert!(more <= here);
        }
    }
}
