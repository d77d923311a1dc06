//! Student t distribution: two-sided p-values and quantiles for the paired
//! t-test and the item-clustered mean.
//!
//! Computed here rather than with `statrs::distribution::StudentsT`: statrs
//! 0.18 loses accuracy for large df (1e-8 relative at df = 1e7, through its
//! `erfc` and its 140-term incomplete beta), and its inverse CDF is 7% off at
//! df = 1e7 and does not terminate at df = 1e9. Here the two-sided tail is
//! the regularized incomplete beta `P(|T| > t) = I_x(df/2, 1/2)` with
//! `x = df / (df + t^2)` (Abramowitz & Stegun 26.7.1 with 26.5.27; see
//! `beta.rs`), and the quantile inverts it with a bracketed Newton iteration.
//! Both agree with scipy to about 1e-14 relative for df from 0.5 to 1e12.
//!
//! Deliberately not here: one-sided helpers, the non-central t.

use std::f64::consts::PI;

use super::beta::{beta_reg_half, beta_reg_half_complement, ln_gamma_ratio_half};
use super::normal::{normal_quantile, normal_sf};

/// Two-sided p-value `P(|T| >= |t|)` of Student's t with `df` degrees of
/// freedom, as `2 * scipy.stats.t.sf(abs(t), df)`.
///
/// `df` may be fractional; `df = +inf` is the normal distribution. NaN inputs
/// or `df <= 0` give NaN; `t = 0` gives 1 and `t = ±inf` gives 0.
pub fn student_t_two_sided_p(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let t = t.abs();
    if t == 0.0 {
        return 1.0;
    }
    if t.is_infinite() {
        return 0.0;
    }
    if df.is_infinite() {
        return 2.0 * normal_sf(t);
    }
    let (ln_x, ln_y) = beta_arguments(t, df);
    beta_reg_half(0.5 * df, ln_x, ln_y)
}

/// `P(|T| < t)` for `t > 0` finite and `0 < df < inf`, accurate when small.
fn central_probability(t: f64, df: f64) -> f64 {
    let (ln_x, ln_y) = beta_arguments(t, df);
    beta_reg_half_complement(0.5 * df, ln_x, ln_y)
}

/// `(ln x, ln(1 - x))` with `x = df / (df + t^2)`, for `t > 0` finite and
/// `0 < df < inf`.
fn beta_arguments(t: f64, df: f64) -> (f64, f64) {
    // With r2 = t^2 / df: x = 1 / (1 + r2) and y = 1 - x = r2 / (1 + r2),
    // both as logarithms so that neither cancels. r2 comes from logs only if
    // the direct quotient leaves the normal range, because exp(2 ln r) costs
    // |2 ln r| ulps that the tail p-value would amplify.
    let direct = t * t / df;
    let ln_r2 = if direct.is_normal() {
        direct.ln()
    } else {
        2.0 * t.ln() - df.ln()
    };
    if ln_r2 > 0.0 {
        let inv = if direct.is_normal() {
            1.0 / direct
        } else {
            (-ln_r2).exp()
        };
        let l = inv.ln_1p(); // ln(1 + 1/r2)
        (-(ln_r2 + l), -l)
    } else {
        let r2 = if direct.is_normal() { direct } else { ln_r2.exp() };
        let l = r2.ln_1p(); // ln(1 + r2)
        (-l, ln_r2 - l)
    }
}

/// Quantile of Student's t with `df` degrees of freedom: the `t` with
/// `P(T <= t) = p`, as `scipy.stats.t.ppf(p, df)`.
///
/// `p = 0` / `p = 1` give `-inf` / `+inf`; `p` outside `[0, 1]`, NaN, or
/// `df <= 0` give NaN; `df = +inf` is the normal quantile.
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p == 0.5 {
        return 0.0;
    }
    if df.is_infinite() {
        return normal_quantile(p);
    }
    // Solve for the upper quantile of the smaller tail, then restore the sign.
    let (q, sign) = if p < 0.5 { (p, -1.0) } else { (1.0 - p, 1.0) };
    let magnitude = if df == 1.0 {
        // Cauchy: cot(pi q), from whichever form is well conditioned.
        if q < 0.25 {
            1.0 / (PI * q).tan()
        } else {
            (PI * (0.5 - q)).tan()
        }
    } else if df == 2.0 {
        (1.0 - 2.0 * q) / (2.0 * q * (1.0 - q)).sqrt()
    } else {
        // 2q and |2p - 1| are both exact in floating point.
        solve_for_t(2.0 * q, (2.0 * p - 1.0).abs(), df)
    };
    sign * magnitude
}

/// The `t > 0` with `P(|T| >= t) = tail`, given also `central = 1 - tail`
/// (each exact from the caller's `p`). Newton's method on the logarithm of
/// whichever of the two is smaller, hence computed to full relative
/// accuracy, kept inside a bracket that shrinks with every step so that it
/// always terminates.
fn solve_for_t(tail: f64, central: f64, df: f64) -> f64 {
    // Solving on the central probability near t = 0 keeps relative accuracy
    // for p close to 1/2, where the tail is close to 1.
    let use_central = central < 0.5;
    let value = |t: f64| {
        if use_central {
            central_probability(t, df)
        } else {
            student_t_two_sided_p(t, df)
        }
    };
    let target = if use_central { central } else { tail };
    let ln_target = target.ln();
    // The value moves away from the target as t grows iff `beyond` holds.
    let beyond = |v: f64| {
        if use_central {
            v >= target
        } else {
            v <= target
        }
    };

    // Cornish–Fisher expansion around the normal quantile as a first guess.
    let z = -normal_quantile(0.5 * tail);
    let (z2, z3) = (z * z, z * z * z);
    let guess = z + (z3 + z) / (4.0 * df) + (5.0 * z3 * z2 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df);
    let mut t = if guess.is_finite() && guess > 0.0 {
        guess
    } else {
        1.0
    };

    // Bracket: `beyond` fails at lo and holds at hi.
    let mut lo = 0.0_f64;
    let mut hi = t;
    let mut doublings = 0;
    while !beyond(value(hi)) {
        lo = hi;
        hi *= 2.0;
        doublings += 1;
        if !hi.is_finite() || doublings > 2100 {
            return f64::INFINITY;
        }
    }
    if t <= lo || t > hi {
        t = 0.5 * (lo + hi);
    }

    let ln_density_const = ln_gamma_ratio_half(0.5 * df) - 0.5 * (df * PI).ln();
    let sign = if use_central { 1.0 } else { -1.0 };
    for _ in 0..200 {
        let v = value(t);
        if v == target {
            return t;
        }
        if beyond(v) {
            hi = t;
        } else {
            lo = t;
        }
        // d/dt ln v(t) = ±2 f(t) / v(t), with f the t density.
        let ln_f = ln_density_const - 0.5 * (df + 1.0) * (t * t / df).ln_1p();
        let slope = sign * 2.0 * (ln_f - v.ln()).exp();
        let mut next = t - (v.ln() - ln_target) / slope;
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        if (next - t).abs() <= 2.0 * f64::EPSILON * t {
            return next;
        }
        t = next;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::test_support::assert_close;
    use proptest::prelude::*;

    #[test]
    fn student_t_p_values_match_scipy() {
        // from scipy.stats import t
        // for df in [1.0, 2.0, 3.0, 5.0, 10.0, 29.0, 30.0, 100.0, 1e3, 1e5, 1e7]:
        //     for x in [0.1, 1.0, 1.96, 3.0, 5.0, 10.0, 40.0]:
        //         print(f"({df!r}, {x!r}, {float(2 * t.sf(x, df))!r}),")
        let table = [
            (1.0, 0.1, 0.936548965138893),
            (1.0, 1.0, 0.5000000000000001),
            (1.0, 1.96, 0.3003428917760331),
            (1.0, 3.0, 0.20483276469913345),
            (1.0, 5.0, 0.1256659163780024),
            (1.0, 10.0, 0.06345103486110713),
            (1.0, 40.0, 0.015912179824051624),
            (2.0, 0.1, 0.9294654384141402),
            (2.0, 1.0, 0.4226497308103742),
            (2.0, 1.96, 0.18905730960173228),
            (2.0, 3.0, 0.09546596626670913),
            (2.0, 5.0, 0.037749551350623724),
            (2.0, 10.0, 0.00985245702332569),
            (2.0, 40.0, 0.0006244146721847406),
            (3.0, 0.1, 0.9266523488008059),
            (3.0, 1.0, 0.3910022189557705),
            (3.0, 1.96, 0.14485220856485365),
            (3.0, 3.0, 0.0576688856224373),
            (3.0, 5.0, 0.015392438073302294),
            (3.0, 10.0, 0.0021283990584141503),
            (3.0, 40.0, 3.4380680789158506e-05),
            (5.0, 0.1, 0.9242301411546604),
            (5.0, 1.0, 0.3632174676491229),
            (5.0, 1.96, 0.10728795250529416),
            (5.0, 3.0, 0.030099247897462586),
            (5.0, 5.0, 0.004104715980053323),
            (5.0, 10.0, 0.00017094757574296363),
            (5.0, 40.0, 1.8411962171772954e-07),
            (10.0, 0.1, 0.9223207185644082),
            (10.0, 1.0, 0.34089313230206),
            (10.0, 1.96, 0.07843624024769971),
            (10.0, 3.0, 0.01334365502256957),
            (10.0, 5.0, 0.0005373336027564527),
            (10.0, 10.0, 1.5895531755964125e-06),
            (10.0, 40.0, 2.2808577430857535e-12),
            (29.0, 0.1, 0.9210324444873739),
            (29.0, 1.0, 0.32558198801619365),
            (29.0, 1.96, 0.05966779551959133),
            (29.0, 3.0, 0.005499192133903412),
            (29.0, 5.0, 2.536631573542329e-05),
            (29.0, 10.0, 6.599862576433525e-11),
            (29.0, 40.0, 6.346877329729342e-27),
            (30.0, 0.1, 0.9210096117902712),
            (30.0, 1.0, 0.3253086154260302),
            (30.0, 1.96, 0.05934231289605049),
            (30.0, 3.0, 0.005389964065651945),
            (30.0, 5.0, 2.32966854670078e-05),
            (30.0, 10.0, 4.575251408229618e-11),
            (30.0, 40.0, 1.3726045194406417e-27),
            (100.0, 0.1, 0.9205445310958512),
            (100.0, 1.0, 0.31972415578412333),
            (100.0, 1.96, 0.05277890136622966),
            (100.0, 3.0, 0.0034079153433294465),
            (100.0, 5.0, 2.450173413503802e-06),
            (100.0, 10.0, 9.90168898459413e-17),
            (100.0, 40.0, 2.462107602140071e-63),
            (1000.0, 0.1, 0.9203643690236041),
            (1000.0, 1.0, 0.31755241808467255),
            (1000.0, 1.96, 0.050273184955748736),
            (1000.0, 3.0, 0.0027667090442381925),
            (1000.0, 5.0, 6.767256364648635e-07),
            (1000.0, 10.0, 1.6670702958600137e-22),
            (1000.0, 40.0, 1.0478852155173272e-209),
            (100000.0, 0.1, 0.9203445259067263),
            (100000.0, 1.0, 0.3173129275641102),
            (100000.0, 1.96, 0.04999856319430168),
            (100000.0, 3.0, 0.0027004608840647234),
            (100000.0, 5.0, 5.742701678641679e-07),
            (100000.0, 10.0, 1.5633015300207252e-23),
            (100000.0, 40.0, 0.0),
            (10000000.0, 0.1, 0.9203443274505524),
            (10000000.0, 1.0, 0.31731053205998605),
            (10000000.0, 1.96, 0.04999581802531423),
            (10000000.0, 3.0, 0.0026998027110371635),
            (10000000.0, 5.0, 5.733128075008536e-07),
            (10000000.0, 10.0, 1.5243592290273597e-23),
            (10000000.0, 40.0, 0.0),
        ];
        for (df, t, want) in table {
            assert_close(
                student_t_two_sided_p(t, df),
                want,
                1e-12,
                &format!("t={t} df={df}"),
            );
            assert_close(
                student_t_two_sided_p(-t, df),
                want,
                1e-12,
                &format!("t=-{t} df={df}"),
            );
        }
    }

    #[test]
    fn student_t_quantiles_match_scipy() {
        // from scipy.stats import t
        // for df in [1.0, 2.0, 3.0, 7.0, 30.0, 1e3, 1e6]:
        //     for p in [1e-10, 0.025, 0.3, 0.6, 0.975, 0.995]:
        //         print(f"({df!r}, {p!r}, {float(t.ppf(p, df))!r}),")
        let table = [
            (1.0, 1e-10, -3183098861.8379064),
            (1.0, 0.025, -12.706204736174705),
            (1.0, 0.3, -0.7265425280053609),
            (1.0, 0.6, 0.32491969623290634),
            (1.0, 0.975, 12.706204736174694),
            (1.0, 0.995, 63.656741162871526),
            (2.0, 1e-10, -70710.67810804816),
            (2.0, 0.025, -4.302652729749464),
            (2.0, 0.3, -0.6172133998483678),
            (2.0, 0.6, 0.2886751345948128),
            (2.0, 0.975, 4.302652729749462),
            (2.0, 0.995, 9.924843200918287),
            (3.0, 1e-10, -2225.769284683093),
            (3.0, 0.025, -3.1824463052837086),
            (3.0, 0.3, -0.5843897274398188),
            (3.0, 0.6, 0.2766706623326898),
            (3.0, 0.975, 3.1824463052837078),
            (3.0, 0.995, 5.840909309733355),
            (7.0, 1e-10, -53.83557948467374),
            (7.0, 0.025, -2.3646242515927844),
            (7.0, 0.3, -0.5491096579472854),
            (7.0, 0.6, 0.2631668613520229),
            (7.0, 0.975, 2.364624251592784),
            (7.0, 0.995, 3.4994832973504924),
            (30.0, 1e-10, -9.377489780407144),
            (30.0, 0.025, -2.042272456301238),
            (30.0, 0.3, -0.5300190039065046),
            (30.0, 0.6, 0.2556053649519128),
            (30.0, 0.975, 2.0422724563012378),
            (30.0, 0.995, 2.7499956535672254),
            (1000.0, 1e-10, -6.427876283134213),
            (1000.0, 0.025, -1.9623390808264085),
            (1000.0, 0.3, -0.524567707309227),
            (1000.0, 0.6, 0.25341451583949876),
            (1000.0, 0.975, 1.9623390808264083),
            (1000.0, 0.995, 2.580754698065951),
            (1000000.0, 1e-10, -6.361406848876743),
            (1000000.0, 0.025, -1.9599663568141072),
            (1000000.0, 0.3, -0.5244006798602092),
            (1000000.0, 0.6, 0.25334717053784184),
            (1000000.0, 0.975, 1.959966356814107),
            (1000000.0, 0.995, 2.5758342201053344),
        ];
        for (df, p, want) in table {
            assert_close(student_t_quantile(p, df), want, 1e-12, &format!("p={p} df={df}"));
        }
    }

    #[test]
    fn student_t_quantiles_near_one_half_match_mpmath() {
        // scipy's t.ppf keeps only ~1e-7 relative accuracy in t when p is
        // within 1e-12 of 1/2, so these references come from mpmath:
        // import mpmath as mp
        // mp.mp.dps = 50
        //
        // def cdf(t, df):
        //     x = df / (df + t * t)
        //     tail = mp.betainc(df / 2, mp.mpf(1) / 2, 0, x, regularized=True) / 2
        //     return 1 - tail if t > 0 else tail
        //
        // for df in [1.0, 3.0, 7.0, 40.0, 1e4]:
        //     for p in [0.5 + 1e-12, 0.5 + 1e-8, 0.4999, 0.51]:
        //         start = (mp.mpf(p) - mp.mpf(0.5)) * 2.5
        //         t = mp.findroot(lambda t: cdf(t, mp.mpf(df)) - mp.mpf(p), start)
        //         print(f"({df!r}, {p!r}, {float(t)!r}),")
        let table = [
            (1.0, 0.500000000001, 3.141523156156375e-12),
            (1.0, 0.50000001, 3.141592669375541e-08),
            (1.0, 0.4999, -0.0003141592756943707),
            (1.0, 0.51, 0.03142626604335118),
            (3.0, 0.500000000001, 2.7206388598084885e-12),
            (3.0, 0.50000001, 2.720699060022185e-08),
            (3.0, 0.4999, -0.00027206990911047337),
            (3.0, 0.51, 0.027211467049118022),
            (7.0, 0.500000000001, 2.597402815356406e-12),
            (7.0, 0.50000001, 2.5974602886972633e-08),
            (7.0, 0.4999, -0.00025974603090254505),
            (7.0, 0.51, 0.02597794156951689),
            (40.0, 0.500000000001, 2.5222863216179647e-12),
            (40.0, 0.50000001, 2.5223421328385597e-08),
            (40.0, 0.4999, -0.00025223421475788893),
            (40.0, 0.51, 0.025226163291361306),
            (10000.0, 0.500000000001, 2.506635488805659e-12),
            (10000.0, 0.50000001, 2.5066909537166087e-08),
            (10000.0, 0.4999, -0.0002506690967374758),
            (10000.0, 0.51, 0.02506953538314083),
        ];
        for (df, p, want) in table {
            assert_close(student_t_quantile(p, df), want, 1e-13, &format!("p={p} df={df}"));
        }
    }

    #[test]
    fn student_t_edge_cases() {
        assert_eq!(student_t_two_sided_p(0.0, 5.0), 1.0);
        assert_eq!(student_t_two_sided_p(f64::INFINITY, 5.0), 0.0);
        assert!(student_t_two_sided_p(f64::NAN, 5.0).is_nan());
        assert!(student_t_two_sided_p(1.0, 0.0).is_nan());
        assert!(student_t_two_sided_p(1.0, -3.0).is_nan());
        assert!(student_t_two_sided_p(1.0, f64::NAN).is_nan());
        assert_close(
            student_t_two_sided_p(1.96, f64::INFINITY),
            2.0 * normal_sf(1.96),
            1e-15,
            "df=inf",
        );
        assert_eq!(student_t_quantile(0.5, 4.0), 0.0);
        assert_eq!(student_t_quantile(0.0, 4.0), f64::NEG_INFINITY);
        assert_eq!(student_t_quantile(1.0, 4.0), f64::INFINITY);
        assert!(student_t_quantile(0.975, 0.0).is_nan());
        assert!(student_t_quantile(f64::NAN, 4.0).is_nan());
        assert_close(
            student_t_quantile(0.975, f64::INFINITY),
            normal_quantile(0.975),
            1e-15,
            "df=inf",
        );
        // Huge df must neither hang (statrs' inverse CDF does at 1e9) nor drift.
        assert_close(
            student_t_quantile(0.975, 1e9),
            normal_quantile(0.975),
            1e-8,
            "df=1e9",
        );
        assert_close(
            student_t_quantile(0.975, 1e15),
            normal_quantile(0.975),
            1e-12,
            "df=1e15",
        );
        // Extreme arguments stay finite or 0, without panicking.
        // Heavy tails: at df = 0.5, p ~ t^(-1/2) even at t = 1e300.
        let p = student_t_two_sided_p(1e300, 0.5);
        assert!(p > 1e-151 && p < 1e-150, "{p}");
        assert!(student_t_two_sided_p(1e-300, 1e-300) > 0.0);
        assert!(student_t_quantile(1e-300, 0.05).is_infinite());
    }

    proptest! {
        #[test]
        fn t_quantile_inverts_p_value(p in 1e-12_f64..0.5, df in 0.5_f64..1e8) {
            let t = student_t_quantile(p, df);
            let back = 0.5 * student_t_two_sided_p(t, df);
            prop_assert!((back - p).abs() <= 1e-10 * p, "p={p} df={df} t={t} back={back}");
        }

        #[test]
        fn t_p_value_is_a_probability(t in -1e6_f64..1e6, df in 1e-3_f64..1e12) {
            let p = student_t_two_sided_p(t, df);
            prop_assert!((0.0..=1.0).contains(&p), "t={t} df={df} p={p}");
        }

    }
}
