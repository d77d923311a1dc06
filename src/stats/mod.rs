//! Statistics for caploop: pure functions from counts and scores to
//! estimates, intervals, p-values and power, with no I/O and no knowledge of
//! slices, runs or tables.
//!
//! - [`normal`], [`student_t`]: distribution functions (CDF, p-values,
//!   quantiles), accurate to about 1e-14 where statrs 0.18 is not.
//! - [`interval`]: Wilson interval (Wilson 1927) and the item-clustered mean.
//! - [`passk`]: unbiased pass@k (Chen et al. 2021).
//! - [`mcnemar`]: exact McNemar test (exact binomial test on discordant pairs).
//! - [`paired`]: paired comparison of two runs (McNemar or paired t).
//! - [`fdr`]: Benjamini–Hochberg adjusted p-values (Benjamini & Hochberg 1995).
//! - [`power`]: minimum detectable effect and items needed.
//!
//! Every function is total: invalid input (NaN, empty slices, `n = 0`,
//! impossible counts) gives NaN, `None` or a documented value, never a panic.
//! Reference values in the tests come from scipy 1.17 and statsmodels 0.15.

mod beta;
mod erf;
pub mod fdr;
pub mod interval;
pub mod mcnemar;
pub mod normal;
pub mod paired;
pub mod passk;
pub mod power;
pub mod student_t;

pub use fdr::benjamini_hochberg;
pub use interval::{clustered_mean, clustered_mean_of, wilson_interval, Interval, MeanEstimate, TwoPass};
pub use mcnemar::mcnemar_exact;
pub use normal::{normal_cdf, normal_quantile, normal_sf};
pub use paired::{paired_binary, paired_means, PairedComparison, PairedDelta, PairedMethod, PairedStream};
pub use passk::pass_at_k;
pub use power::{items_needed, minimum_detectable_effect};
pub use student_t::{student_t_quantile, student_t_two_sided_p};

#[cfg(test)]
mod test_support {
    /// Asserts `|got - want| <= rel * |want|`, or `|got| <= rel` when `want == 0`.
    #[track_caller]
    pub(crate) fn assert_close(got: f64, want: f64, rel: f64, what: &str) {
        let ok = if want == 0.0 {
            got.abs() <= rel
        } else {
            (got - want).abs() <= rel * want.abs()
        };
        assert!(ok, "{what}: got {got:e}, want {want:e} (rel tol {rel:e})");
    }
}

#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            prop::num::f64::ANY,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(0.0),
            Just(1.0),
            -2.0_f64..2.0,
        ]
    }

    proptest! {
        #[test]
        fn on_arbitrary_floats(x in any_f64(), y in any_f64(), z in any_f64(), w in any_f64()) {
            let _ = (normal_cdf(x), normal_sf(x), normal_quantile(x));
            let _ = (student_t_two_sided_p(x, y), student_t_quantile(x, y));
            let _ = clustered_mean(&[x, y, z], w);
            let _ = paired_means(&[x, y], &[z, w], x);
            let _ = benjamini_hochberg(&[x, y, z, w]);
            let _ = minimum_detectable_effect(3, x, y, z);
            let _ = items_needed(x, y, z, w);
            let _ = wilson_interval(3, 10, x);
            let _ = paired_binary(10, 5, 2, 1, x);
        }

        #[test]
        fn on_arbitrary_counts(a in any::<u64>(), b in any::<u64>(), c in 0_u64..1_000_000) {
            let _ = mcnemar_exact(a, b);
            let _ = mcnemar_exact(c, a);
            let _ = wilson_interval(a, b, 0.95);
            let (a, b, c) = (a as usize, b as usize, c as usize);
            let _ = paired_binary(a, b, c, c, 0.95);
            let _ = paired_binary(c, c / 2, c / 4, c / 3, 0.95);
        }

        #[test]
        fn on_arbitrary_pass_at_k(n in any::<u32>(), c in any::<u32>(), k in 0_u32..2000) {
            let _ = pass_at_k(n, c, k);
            let _ = pass_at_k(n, k, c);
        }
    }
}
