use super::pool::{contrast_test, two_proportion_p, wilson, Count};
use super::*;

#[track_caller]
fn close_q(got: f64, want: f64, what: &str) {
    // statsmodels printed to 8 digits.
    assert!((got - want).abs() <= 1e-8, "{what}: got {got}, want {want}");
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// Seven groups of 10 items, errors 0/1 (label set: errors):
/// {a}: 2, {a,b}: 6, {b}: 2, {c}: 5, {a,b,c}: 8, {a,c}: 3, {}: 0.
fn example() -> (Vec<String>, Vec<Vec<u32>>, Vec<f64>) {
    let values = vec!["a".to_string(), "b".to_string(), "c".to_string()];
    let groups: [(&[u32], usize); 7] = [
        (&[0], 2),
        (&[0, 1], 6),
        (&[1], 2),
        (&[2], 5),
        (&[0, 1, 2], 8),
        (&[0, 2], 3),
        (&[], 0),
    ];
    let (mut labels, mut errors) = (Vec::new(), Vec::new());
    for (l, wrong) in groups {
        for k in 0..10 {
            labels.push(l.to_vec());
            errors.push(if k < wrong { 1.0 } else { 0.0 });
        }
    }
    (values, labels, errors)
}

fn settings() -> WeaknessSettings {
    WeaknessSettings {
        theta: 10,
        ..WeaknessSettings::default()
    }
}

fn feature<'a>(a: &'a Analysis, name: &str) -> &'a Feature {
    a.features
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("{name} not evaluated"))
}

#[test]
fn hand_computed_example_gives_the_papers_terms_and_scores() {
    // By hand: N = 70, 26 errors, Err(D) = 26/70 = 0.371428...
    // D(a) = {a},{a,b},{a,b,c},{a,c}: 40 items, 19 errors, Acc 0.525.
    // D(b): 30 items, 16 errors, Acc 7/15. D(c): 30 items, 16 errors.
    // D(a,b): 20 items, 14 errors, Acc 0.3. D(a,c): 20, 11, Acc 0.45.
    // D(b,c) = D(a,b,c): 10 items, 8 errors, Acc 0.2.
    // Δpair(a;b) = (0.3 - 0.525) / 0.525 x 100 = -42.857142857;
    // Δpair(b;a) = (0.3 - 7/15) / (7/15) x 100 = -35.714285714.
    // A_raw(a,b) = 0.7 - 26/70 = 0.328571428; A_pair(a,b) = 0.428571428.
    // ω(20) = ln(21) sqrt(20/70) = 1.627...; Weak(a,b) = ω (A_raw + A_pair).
    // C(a; b, c) = r(a,b,c) - r(a,b) - r(a,c)
    //            = (0.2-0.525)/0.525 - (0.3-0.525)/0.525 - (0.45-0.525)/0.525 (x100)
    //            = -61.904761905 + 42.857142857 + 14.285714286 = -4.761904762;
    // C(b; a, c) = -57.142857 + 35.714286 + 57.142857 = 35.714285714;
    // C(c; a, b) = -57.142857 + 3.5714286 + 57.142857 = 3.571428571;
    // A_comp(a,b,c) = 0.047619048, A_raw(a,b,c) = 0.8 - 26/70.
    // The numbers below, from the same formulas in Python (this repo's
    // target/venv-sliceline, statsmodels 0.15.0, scipy 1.17.1):
    //   om = lambda n: math.log(1+n)*math.sqrt(n/(n+50))
    //   proportions_ztest([e, E-e], [n, N-n])[1]           # error tests
    //   proportions_ztest([s_uo, s_rest], [n_uo, n_rest])[1]  # pair tests
    //   multipletests(p, method='fdr_bh')[1]                # q-values
    let (values, labels, errors) = example();
    let a = analyse(
        &WeaknessInput {
            values: &values,
            labels: &labels,
            errors: &errors,
        },
        "operation",
        &settings(),
    );
    assert_eq!(a.items, 70);
    close(a.error_rate, 26.0 / 70.0, "Err(D)");

    let ab = feature(&a, "a & b");
    assert_eq!(ab.n, 20);
    close(ab.error_rate, 0.7, "Err(a,b)");
    close(ab.pair_effects[0].delta_pair, -42.857142857142854, "Δpair(a;b)");
    close(ab.pair_effects[1].delta_pair, -35.7142857142857, "Δpair(b;a)");
    close(ab.a_raw, 0.3285714285714285, "A_raw(a,b)");
    close(ab.a_pair, 0.4285714285714285, "A_pair(a,b)");
    close(ab.omega, (21f64).ln() * (20.0f64 / 70.0).sqrt(), "ω(20)");
    close(ab.weak, 1.2321483122862513, "Weak(a,b)");
    close(ab.p_error, 0.00032034003316070493, "p_error(a,b)");
    close(ab.pair_effects[0].p_value, 0.004377229666547475, "pair test a;b");
    close(ab.pair_effects[1].p_value, 0.00966062299748495, "pair test b;a");
    // The pair family: ab (2 directions), ac (2), bc (2).
    close_q(ab.pair_effects[0].q_value, 0.02626338, "q a;b");
    // A_pair beats A_raw, and came from a;b: its q is the feature's.
    close(ab.q_value, ab.pair_effects[0].q_value, "q(a,b)");
    assert!(ab.significant);

    let ac = feature(&a, "a & c");
    close(ac.weak, 0.5230818306875599, "Weak(a,c)");
    close_q(ac.pair_effects[0].q_value, 0.41061313, "q a;c");
    let bc = feature(&a, "b & c");
    close(bc.weak, 0.9789366458313132, "Weak(b,c)");

    let abc = feature(&a, "a & b & c");
    let c: Vec<f64> = abc.composition_effects.iter().map(|x| x.c).collect();
    close(c[0], -4.761904761904773, "C(a;b,c)");
    close(c[1], 35.71428571428571, "C(b;a,c)");
    close(c[2], 3.5714285714285836, "C(c;a,b)");
    close(abc.a_comp, 0.047619047619047734, "A_comp(a,b,c)");
    close(abc.weak, 0.46616030753872073, "Weak(a,b,c)");
    // The contrast is C x Acc(u) / 100: for u = b, 35.714 x 7/15 / 100.
    close(
        abc.composition_effects[1].contrast,
        0.16666666666666663,
        "contrast b",
    );
    close(
        abc.composition_effects[1].p_value,
        0.003609346935945442,
        "comp test b",
    );
    close_q(abc.composition_effects[1].q_value, 0.01082804, "comp q b");

    close(feature(&a, "a").weak, 0.2564133093676783, "Weak(a)");
    close(feature(&a, "b").weak, 0.34046614138570414, "Weak(b)");
    close(feature(&a, "b").p_error, 0.015188049983388803, "p_error(b)");

    // The pool by Weak: a&b 1.232, b&c 0.979, a&c 0.523, a&b&c 0.466,
    // b 0.340 = c 0.340 (tie by name), a 0.256.
    let pool: Vec<String> = a.pool().map(Feature::name).collect();
    assert_eq!(pool, ["a & b", "b & c", "a & c", "a & b & c", "b", "c", "a"]);
    assert_eq!(
        a.pool().map(|f| f.rank.unwrap()).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
}

#[test]
fn the_pool_keeps_top_pairs_top_k_and_support() {
    let (values, labels, errors) = example();
    let input = WeaknessInput {
        values: &values,
        labels: &labels,
        errors: &errors,
    };
    // θ = 11 drops b & c (10 items) and every triple.
    let s = WeaknessSettings {
        theta: 11,
        ..WeaknessSettings::default()
    };
    let a = analyse(&input, "operation", &s);
    assert!(a.features.iter().all(|f| f.name() != "b & c" && f.order < 3));
    // One pair kept: a & b; the triple a,b,c extends it (θ = 10).
    let s = WeaknessSettings {
        theta: 10,
        top_pairs: 1,
        top_k: 3,
        ..WeaknessSettings::default()
    };
    let a = analyse(&input, "operation", &s);
    let pool: Vec<String> = a.pool().map(Feature::name).collect();
    assert_eq!(pool, ["a & b", "a & b & c", "b"]);
    // b & c is evaluated (in weakness.csv) but not in the pool.
    assert!(!feature(&a, "b & c").in_pool);
}

#[test]
fn empty_and_degenerate_inputs_give_no_pool_and_no_panic() {
    let values = vec!["a".to_string()];
    for (labels, errors) in [
        (vec![], vec![]),
        (vec![vec![0]], vec![0.0]),
        (vec![vec![0], vec![]], vec![1.0, 1.0]),
        (vec![vec![0, 7]], vec![f64::NAN]),
    ] {
        let a = analyse(
            &WeaknessInput {
                values: &values,
                labels: &labels,
                errors: &errors,
            },
            "operation",
            &settings(),
        );
        assert_eq!(a.pool().count(), 0, "{labels:?} {errors:?}");
    }
}

#[test]
fn omega_is_the_documented_product() {
    close(omega(0, 50.0), 0.0, "ω(0)");
    close(omega(50, 50.0), (51f64).ln() * 0.5f64.sqrt(), "ω(50)");
    assert!(omega(1000, 50.0) > omega(100, 50.0));
}

#[test]
fn tests_match_statsmodels_and_scipy() {
    // statsmodels.stats.proportion.proportions_ztest([30, 45], [100, 120])[1]
    //   = 0.24258357934832098
    close(
        two_proportion_p(30.0, 100.0, 45.0, 120.0),
        0.24258357934832098,
        "z-test",
    );
    // statsmodels.stats.proportion.proportion_confint(7, 20, method='wilson')
    //   = (0.18119182410108203, 0.5671457233147638)
    let (lo, hi) = wilson(7.0, 20.0);
    close(lo, 0.18119182410108203, "wilson low");
    close(hi, 0.5671457233147638, "wilson high");
    // A zero contrast (no interaction: every cell at the same accuracy).
    let cell = |n: usize, err: f64| Count { n, err };
    let (c, _, _, p) = contrast_test([cell(10, 5.0), cell(10, 5.0), cell(10, 5.0), cell(10, 5.0)]);
    close(c, 0.0, "no interaction");
    close(p, 1.0, "p of no interaction");
}
