//! The new mixture (DESIGN section 7): category upweight
//! `u_d = sum_s w_s * r_sd`, new share proportional to `p_d * (1 + lambda * u_d)`,
//! each share held between a floor (`floor * p_d`) and a cap
//! (`max_upweight * p_d`, and no more than the category's tokens times
//! `max_epochs` over the budget), then renormalised.
//!
//! Capping and renormalising interact (renormalising after a cap breaks the
//! cap), so the solution is computed as one problem: find the scale `c` with
//! `sum_d clip(c * raw_d, lo_d, hi_d) = 1`. The left side is piecewise linear
//! and non-decreasing in `c`, so `c` is found exactly between two breakpoints.

use serde::{Deserialize, Serialize};

/// Which bound holds a category's new share, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// At `max_upweight` times its base share.
    Cap,
    /// At the tokens it can supply within `max_epochs`.
    Epochs,
    /// At `floor` times its base share.
    Floor,
}

/// The inputs of one category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryInput {
    pub base_share: f64,
    /// Upweight `u_d` (0 for untouched categories).
    pub upweight: f64,
    pub tokens_available: f64,
}

/// The solution for one category.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CategoryShare {
    pub share: f64,
    pub bound: Option<Bound>,
}

/// Mixture settings (a part of the plan settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixtureParams {
    pub lambda: f64,
    pub max_upweight: f64,
    pub floor: f64,
    pub max_epochs: f64,
    pub budget_tokens: f64,
}

/// Why no mixture satisfies the bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Infeasible {
    /// The largest total share the bounds allow (below 1).
    pub max_total: f64,
}

/// Solve for the new shares. Categories with `upweight == 0` everywhere give
/// the base mixture back unchanged (bit for bit) when it fits the epoch cap.
pub fn solve(cats: &[CategoryInput], p: &MixtureParams) -> Result<Vec<CategoryShare>, Infeasible> {
    let epoch_cap = |c: &CategoryInput| c.tokens_available * p.max_epochs / p.budget_tokens;
    let hi: Vec<f64> = cats
        .iter()
        .map(|c| (c.base_share * p.max_upweight.max(1.0)).min(epoch_cap(c)))
        .collect();
    // A category that cannot even supply its floor is held at what it can supply.
    let lo: Vec<f64> = cats
        .iter()
        .zip(&hi)
        .map(|(c, h)| (c.base_share * p.floor.clamp(0.0, 1.0)).min(*h))
        .collect();
    let max_total: f64 = hi.iter().sum();
    if max_total < 1.0 - 1e-12 {
        return Err(Infeasible { max_total });
    }
    let untouched = cats.iter().all(|c| c.upweight == 0.0);
    if untouched && cats.iter().all(|c| c.base_share <= epoch_cap(c)) {
        return Ok(cats
            .iter()
            .map(|c| CategoryShare {
                share: c.base_share,
                bound: None,
            })
            .collect());
    }
    let raw: Vec<f64> = cats
        .iter()
        .map(|c| c.base_share * (1.0 + p.lambda * c.upweight.max(0.0)))
        .collect();
    let total = |scale: f64| -> f64 {
        raw.iter()
            .zip(lo.iter().zip(&hi))
            .map(|(r, (l, h))| (scale * r).clamp(*l, *h))
            .sum()
    };
    let mut breaks: Vec<f64> = raw
        .iter()
        .zip(lo.iter().zip(&hi))
        .filter(|(r, _)| **r > 0.0)
        .flat_map(|(r, (l, h))| [l / r, h / r])
        .collect();
    breaks.push(0.0);
    breaks.sort_by(f64::total_cmp);
    breaks.dedup();
    // The first breakpoint where the total reaches 1; on the segment before
    // it the total is linear, with slope the raw weight of the free categories.
    let scale = match breaks.iter().position(|&b| total(b) >= 1.0) {
        None => *breaks.last().unwrap_or(&0.0),
        Some(0) => 0.0,
        Some(k) => {
            let (a, b) = (breaks[k - 1], breaks[k]);
            let mid = 0.5 * (a + b);
            let (fixed, slope) =
                raw.iter()
                    .zip(lo.iter().zip(&hi))
                    .fold((0.0, 0.0), |(f, s), (r, (l, h))| {
                        let v = mid * r;
                        if v <= *l {
                            (f + l, s)
                        } else if v >= *h {
                            (f + h, s)
                        } else {
                            (f, s + r)
                        }
                    });
            if slope > 0.0 {
                ((1.0 - fixed) / slope).clamp(a, b)
            } else {
                b
            }
        }
    };
    let mut out: Vec<CategoryShare> = raw
        .iter()
        .zip(cats)
        .zip(lo.iter().zip(&hi))
        .map(|((r, c), (l, h))| {
            let v = (scale * r).clamp(*l, *h);
            let at = |x: f64| (v - x).abs() <= 1e-12 * x.max(1e-300);
            let bound = if *h < c.base_share * p.max_upweight.max(1.0) && at(*h) {
                Some(Bound::Epochs)
            } else if at(*h) && c.base_share > 0.0 {
                Some(Bound::Cap)
            } else if at(*l) && c.base_share > 0.0 && p.floor > 0.0 {
                Some(Bound::Floor)
            } else {
                None
            };
            CategoryShare { share: v, bound }
        })
        .collect();
    // Float rounding leaves the total a few ulps off 1; give the residue to
    // the largest free category so the shares sum to 1 as closely as floats allow.
    let sum: f64 = out.iter().map(|s| s.share).sum();
    let residue = 1.0 - sum;
    if residue != 0.0 {
        if let Some(k) = (0..out.len())
            .filter(|&k| out[k].bound.is_none() && out[k].share > 0.0)
            .max_by(|&a, &b| out[a].share.total_cmp(&out[b].share).then(b.cmp(&a)))
        {
            out[k].share = (out[k].share + residue).clamp(lo[k], hi[k]);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params() -> MixtureParams {
        MixtureParams {
            lambda: 2.0,
            max_upweight: 3.0,
            floor: 0.5,
            max_epochs: 4.0,
            budget_tokens: 1e12,
        }
    }

    fn cat(share: f64, upweight: f64, tokens: f64) -> CategoryInput {
        CategoryInput {
            base_share: share,
            upweight,
            tokens_available: tokens,
        }
    }

    #[test]
    fn no_upweight_keeps_the_base_mixture_exactly() {
        let cats = [cat(0.5, 0.0, 1e13), cat(0.3, 0.0, 1e13), cat(0.2, 0.0, 1e13)];
        let s = solve(&cats, &params()).unwrap();
        assert_eq!(s.iter().map(|x| x.share).collect::<Vec<_>>(), vec![0.5, 0.3, 0.2]);
    }

    #[test]
    fn a_worked_example() {
        // raw = [0.5, 0.3 * 1.5, 0.2] = [0.5, 0.45, 0.2], sum 1.15: no bound binds.
        let cats = [cat(0.5, 0.0, 1e13), cat(0.3, 0.25, 1e13), cat(0.2, 0.0, 1e13)];
        let s = solve(&cats, &params()).unwrap();
        let want = [0.5 / 1.15, 0.45 / 1.15, 0.2 / 1.15];
        for (a, b) in s.iter().zip(want) {
            assert!((a.share - b).abs() < 1e-12, "{} vs {b}", a.share);
            assert_eq!(a.bound, None);
        }
    }

    #[test]
    fn the_cap_binds_and_the_rest_renormalises() {
        // u = 5 on a 0.1 category: raw 1.1 would be 0.1 * 11, capped at 0.3.
        let cats = [cat(0.1, 5.0, 1e13), cat(0.9, 0.0, 1e13)];
        let s = solve(&cats, &params()).unwrap();
        assert!((s[0].share - 0.3).abs() < 1e-12);
        assert_eq!(s[0].bound, Some(Bound::Cap));
        assert!((s[1].share - 0.7).abs() < 1e-12);
    }

    #[test]
    fn the_epoch_cap_binds() {
        // 0.1 of 1e12 tokens wanted x3, but only 5e10 tokens x 4 epochs = 0.2.
        let cats = [cat(0.1, 5.0, 5e10), cat(0.9, 0.0, 1e13)];
        let s = solve(&cats, &params()).unwrap();
        assert!((s[0].share - 0.2).abs() < 1e-12);
        assert_eq!(s[0].bound, Some(Bound::Epochs));
    }

    #[test]
    fn infeasible_when_tokens_run_out() {
        let cats = [cat(0.5, 0.0, 1e10), cat(0.5, 0.0, 1e10)];
        let e = solve(&cats, &params()).unwrap_err();
        assert!((e.max_total - 0.08).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn shares_sum_to_one_and_bounds_hold(
            parts in prop::collection::vec((0.0f64..1.0, prop_oneof![Just(0.0), 0.0f64..3.0], 1e9f64..1e13), 1..12),
            lambda in 0.0f64..5.0,
            max_upweight in 1.0f64..5.0,
            floor in 0.0f64..1.0,
            max_epochs in 1.0f64..10.0,
        ) {
            let total: f64 = parts.iter().map(|x| x.0).sum();
            prop_assume!(total > 1e-6);
            let cats: Vec<CategoryInput> = parts.iter().map(|(s, u, t)| cat(s / total, *u, *t)).collect();
            let p = MixtureParams { lambda, max_upweight, floor, max_epochs, budget_tokens: 1e12 };
            match solve(&cats, &p) {
                Err(e) => {
                    let cap: f64 = cats.iter().map(|c| (c.base_share * max_upweight).min(c.tokens_available * max_epochs / 1e12)).sum();
                    prop_assert!(cap < 1.0);
                    prop_assert!((e.max_total - cap).abs() < 1e-12);
                }
                Ok(s) => {
                    let sum: f64 = s.iter().map(|x| x.share).sum();
                    prop_assert!((sum - 1.0).abs() < 1e-9, "sum {}", sum);
                    for (c, x) in cats.iter().zip(&s) {
                        let eps = 1e-12;
                        prop_assert!(x.share >= 0.0);
                        prop_assert!(x.share <= c.base_share * max_upweight + eps, "cap");
                        prop_assert!(x.share * 1e12 <= c.tokens_available * max_epochs * (1.0 + 1e-12) + 1.0, "epochs");
                        let floor_share = (c.base_share * floor).min(c.tokens_available * max_epochs / 1e12);
                        prop_assert!(x.share >= floor_share - eps, "floor");
                    }
                    // Upweighted categories never lose share to untouched ones
                    // unless a bound holds them.
                    for (i, a) in cats.iter().enumerate() {
                        for (j, b) in cats.iter().enumerate() {
                            if a.upweight > b.upweight && a.base_share > 0.0 && b.base_share > 0.0
                                && s[i].bound.is_none() && s[j].bound.is_none() {
                                prop_assert!(s[i].share / a.base_share >= s[j].share / b.base_share - 1e-9);
                            }
                        }
                    }
                }
            }
        }
    }
}
