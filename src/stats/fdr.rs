//! False discovery rate control across all slices tested: Benjamini–Hochberg
//! adjusted p-values (Y. Benjamini and Y. Hochberg, "Controlling the false
//! discovery rate: a practical and powerful approach to multiple testing",
//! JRSS B 57, 1995), as statsmodels' `multipletests(p, method="fdr_bh")`.
//!
//! A slice is significant at FDR level `q` when its adjusted p-value is at
//! most `q`.
//!
//! Deliberately not here: Benjamini–Yekutieli, Storey's q-values or any
//! estimate of the share of true nulls.

/// Benjamini–Hochberg adjusted p-values, in input order.
///
/// With the `m` non-NaN p-values sorted ascending, the adjusted value at
/// rank `i` is `min(1, min_{j >= i} p_(j) m / j)`, computed exactly as
/// statsmodels does (`p / (j / m)`, running minimum from the top, clip at 1).
/// Tied p-values get the same adjusted value. NaN inputs stay NaN and do not
/// count towards `m`. Inputs are assumed to lie in `[0, 1]`; the output
/// never exceeds 1 and is never below its input.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p_values.len()).filter(|&i| !p_values[i].is_nan()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let m = order.len() as f64;

    let mut adjusted = vec![f64::NAN; p_values.len()];
    let mut running_min = f64::INFINITY;
    for (rank0, &index) in order.iter().enumerate().rev() {
        let rank = (rank0 + 1) as f64;
        let raw = p_values[index] / (rank / m);
        running_min = running_min.min(raw);
        adjusted[index] = running_min.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn matches_statsmodels_fdr_bh() {
        // import numpy as np
        // from statsmodels.stats.multitest import multipletests
        // cases = [
        //     [0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 0.04],
        //     [0.5],
        //     [1e-10, 0.5, 0.5, 0.5],
        //     [0.03, 0.03, 0.03],
        //     [0.9, 0.8, 0.7, 0.6],
        //     list(np.round(np.random.default_rng(7).uniform(0, 1, 15) ** 3, 6)),
        // ]
        // for p in cases:
        //     q = multipletests(p, method="fdr_bh")[1]
        //     print(f"(&{list(map(float, p))!r}, &{list(map(float, q))!r}),")
        let table: [(&[f64], &[f64]); 6] = [
            (
                &[0.01, 0.04, 0.03, 0.005, 0.2, 0.04, 0.9, 0.04],
                &[
                    0.04,
                    0.05333333333333334,
                    0.05333333333333334,
                    0.04,
                    0.2285714285714286,
                    0.05333333333333334,
                    0.9,
                    0.05333333333333334,
                ],
            ),
            (&[0.5], &[0.5]),
            (&[1e-10, 0.5, 0.5, 0.5], &[4e-10, 0.5, 0.5, 0.5]),
            (&[0.03, 0.03, 0.03], &[0.03, 0.03, 0.03]),
            (&[0.9, 0.8, 0.7, 0.6], &[0.9, 0.9, 0.9, 0.9]),
            (
                &[
                    0.244253, 0.72225, 0.466721, 0.011422, 0.027045, 0.666605, 0.0, 0.55385, 0.506394,
                    0.10246, 0.027827, 0.021584, 0.016556, 0.088166, 0.128442,
                ],
                &[
                    0.3663795,
                    0.72225,
                    0.6329925,
                    0.0695675,
                    0.0695675,
                    0.7142196428571429,
                    0.0,
                    0.6390576923076923,
                    0.6329925,
                    0.1921125,
                    0.0695675,
                    0.0695675,
                    0.0695675,
                    0.18892714285714285,
                    0.21407,
                ],
            ),
        ];
        for (p, want) in table {
            let got = benjamini_hochberg(p);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert_close(*g, *w, 1e-15, &format!("bh({p:?})"));
            }
        }
    }

    #[test]
    fn nan_inputs_stay_nan_and_do_not_count() {
        // from statsmodels.stats.multitest import multipletests
        // p = [0.02, float("nan"), 0.01, 0.5, float("nan")]
        // kept = [x for x in p if x == x]
        // print(list(map(float, multipletests(kept, method="fdr_bh")[1])))
        let got = benjamini_hochberg(&[0.02, f64::NAN, 0.01, 0.5, f64::NAN]);
        let want = [
            0.030000000000000002,
            f64::NAN,
            0.030000000000000002,
            0.5,
            f64::NAN,
        ];
        for (g, w) in got.iter().zip(want) {
            if w.is_nan() {
                assert!(g.is_nan());
            } else {
                assert_close(*g, w, 1e-15, "bh with NaN");
            }
        }
    }

    #[test]
    fn empty_and_all_nan_inputs() {
        assert!(benjamini_hochberg(&[]).is_empty());
        assert!(benjamini_hochberg(&[f64::NAN, f64::NAN])
            .iter()
            .all(|q| q.is_nan()));
    }

    proptest! {
        #[test]
        fn adjusted_values_are_bounded_and_monotone(p in prop::collection::vec(0.0_f64..=1.0, 0..200)) {
            let q = benjamini_hochberg(&p);
            prop_assert_eq!(q.len(), p.len());
            for i in 0..p.len() {
                prop_assert!(q[i] >= p[i] && q[i] <= 1.0, "p={} q={}", p[i], q[i]);
                for j in 0..p.len() {
                    if p[i] <= p[j] {
                        prop_assert!(q[i] <= q[j], "p {} <= {} but q {} > {}", p[i], p[j], q[i], q[j]);
                    }
                }
            }
        }

        #[test]
        fn input_order_does_not_matter(p in prop::collection::vec(0.0_f64..=1.0, 1..100), rot in 0_usize..100) {
            let q = benjamini_hochberg(&p);
            let k = rot % p.len();
            let mut rotated = p.clone();
            rotated.rotate_left(k);
            let mut q_rotated = benjamini_hochberg(&rotated);
            q_rotated.rotate_right(k);
            prop_assert_eq!(q, q_rotated);
        }
    }
}
