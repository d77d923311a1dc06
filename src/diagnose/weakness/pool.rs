//! The computation of [`super::analyse`]: counts of every single, pair and
//! (extending) triple, their terms, their tests, and the pool.

use std::collections::BTreeMap;

use super::*;
use crate::stats::{benjamini_hochberg, normal_sf};

/// Two-sided 95% quantile of the standard normal, `scipy.stats.norm.ppf(0.975)`.
const Z_95: f64 = 1.959963984540054;

/// Items and error sum of one slice.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Count {
    pub(super) n: usize,
    pub(super) err: f64,
}

impl Count {
    fn add(&mut self, e: f64) {
        self.n += 1;
        self.err += e;
    }
    fn acc(&self) -> f64 {
        if self.n == 0 {
            f64::NAN
        } else {
            1.0 - self.err / self.n as f64
        }
    }
}

/// 95% Wilson interval of `x` successes in `n` (fractional counts allowed).
pub(super) fn wilson(x: f64, n: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let p = (x / n).clamp(0.0, 1.0);
    let z2 = Z_95 * Z_95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z_95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Two-sided pooled two-proportion z-test of `x1 / n1` against `x2 / n2`,
/// as `statsmodels.stats.proportion.proportions_ztest([x1, x2], [n1, n2])`.
/// NaN when a side is empty; 1 (no difference) or 0 when the pooled
/// variance is zero.
pub(super) fn two_proportion_p(x1: f64, n1: f64, x2: f64, n2: f64) -> f64 {
    if n1 <= 0.0 || n2 <= 0.0 {
        return f64::NAN;
    }
    let diff = x1 / n1 - x2 / n2;
    let p = (x1 + x2) / (n1 + n2);
    let var = p * (1.0 - p) * (1.0 / n1 + 1.0 / n2);
    if var <= 0.0 {
        return if diff.abs() < 1e-15 { 1.0 } else { 0.0 };
    }
    (2.0 * normal_sf(diff.abs() / var.sqrt())).min(1.0)
}

/// Wald 95% interval of `x1 / n1 - x2 / n2` (unpooled).
fn wald_diff(x1: f64, n1: f64, x2: f64, n2: f64) -> (f64, f64, f64) {
    if n1 <= 0.0 || n2 <= 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (p1, p2) = (x1 / n1, x2 / n2);
    let se = (p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2).sqrt();
    let d = p1 - p2;
    (d, d - Z_95 * se, d + Z_95 * se)
}

/// The interaction contrast `A11 - A1. - A.1 + A..` of the four disjoint
/// cells of `D(u)` (index `2 * holds_oi + holds_oj`, successes = accuracy
/// sums), its Wald 95% interval and two-sided p (see the module docs).
pub(super) fn contrast_test(cells: [Count; 4]) -> (f64, f64, f64, f64) {
    let n = |c: usize| cells[c].n as f64;
    let total: f64 = (0..4).map(n).sum();
    let (n1x, nx1) = (n(3) + n(2), n(3) + n(1));
    if n(3) == 0.0 || total == 0.0 {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let w = [
        n(0) / total,
        -n(1) / nx1 + n(1) / total,
        -n(2) / n1x + n(2) / total,
        1.0 - n(3) / n1x - n(3) / nx1 + n(3) / total,
    ];
    let mut contrast = 0.0;
    let mut var = 0.0;
    for c in 0..4 {
        if cells[c].n == 0 {
            continue;
        }
        let succ = n(c) - cells[c].err;
        contrast += w[c] * succ / n(c);
        let pt = (succ + 1.0) / (n(c) + 2.0);
        var += w[c] * w[c] * pt * (1.0 - pt) / n(c);
    }
    let se = var.sqrt();
    let p = if se > 0.0 {
        (2.0 * normal_sf(contrast.abs() / se)).min(1.0)
    } else {
        f64::NAN
    };
    (contrast, contrast - Z_95 * se, contrast + Z_95 * se, p)
}

fn rel(acc: f64, base: f64) -> f64 {
    if base > 0.0 {
        100.0 * (acc - base) / base
    } else {
        f64::NAN
    }
}

/// `max(0, -x / 100)`, NaN counting 0.
fn loss(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        // `+ 0.0`: `max` may return either zero of `max(-0.0, 0.0)`
        // (optimised and debug builds differ); always write 0.
        (-x / 100.0).max(0.0) + 0.0
    }
}

fn sorted_labels(raw: &[u32], n_values: usize) -> Vec<u32> {
    let mut v: Vec<u32> = raw.iter().copied().filter(|&t| (t as usize) < n_values).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Which term of a feature is largest, and the test behind it.
#[derive(Clone, Copy)]
enum Behind {
    Error,
    Pair(usize),
    Comp(usize),
}

pub(super) fn analyse(input: &WeaknessInput<'_>, axis: &str, s: &WeaknessSettings) -> Analysis {
    let nv = input.values.len();
    let n_items = input.labels.len().min(input.errors.len());
    let errs: Vec<f64> = input.errors[..n_items]
        .iter()
        .map(|&e| if e.is_nan() { 0.0 } else { e.clamp(0.0, 1.0) })
        .collect();
    let labels: Vec<Vec<u32>> = input.labels[..n_items]
        .iter()
        .map(|l| sorted_labels(l, nv))
        .collect();
    let total = Count {
        n: n_items,
        err: errs.iter().sum(),
    };
    let err_d = if n_items > 0 {
        total.err / n_items as f64
    } else {
        f64::NAN
    };

    let mut counts: BTreeMap<Vec<u32>, Count> = BTreeMap::new();
    for (l, &e) in labels.iter().zip(&errs) {
        for (i, &a) in l.iter().enumerate() {
            counts.entry(vec![a]).or_default().add(e);
            for &b in &l[i + 1..] {
                counts.entry(vec![a, b]).or_default().add(e);
            }
        }
    }
    let get = |counts: &BTreeMap<Vec<u32>, Count>, k: &[u32]| counts.get(k).copied().unwrap_or_default();
    let name = |ids: &[u32]| {
        ids.iter()
            .map(|&t| input.values[t as usize].clone())
            .collect::<Vec<_>>()
    };

    let base_feature = |ids: &[u32], c: Count| {
        let rate = c.err / c.n as f64;
        let (lo, hi) = wilson(c.err, c.n as f64);
        Feature {
            labels: name(ids),
            order: ids.len(),
            n: c.n,
            error_sum: c.err,
            error_rate: rate,
            ci_low: lo,
            ci_high: hi,
            p_error: two_proportion_p(c.err, c.n as f64, total.err - c.err, (total.n - c.n) as f64),
            q_error: f64::NAN,
            omega: omega(c.n, s.kappa),
            a_raw: (rate - err_d).max(0.0) + 0.0,
            a_pair: 0.0,
            a_comp: 0.0,
            weak: 0.0,
            q_value: f64::NAN,
            significant: false,
            in_pool: false,
            rank: None,
            pair_effects: Vec::new(),
            composition_effects: Vec::new(),
        }
    };

    let mut features: Vec<Feature> = Vec::new();
    let mut behind: Vec<Behind> = Vec::new();
    for (k, c) in counts.iter().filter(|(k, _)| k.len() == 1) {
        features.push(base_feature(k, *c));
        behind.push(Behind::Error);
    }
    // Pairs with support θ.
    let mut pair_idx: Vec<usize> = Vec::new();
    for (k, c) in counts
        .iter()
        .filter(|(k, c)| k.len() == 2 && c.n >= s.theta.max(1))
    {
        let mut f = base_feature(k, *c);
        for (u, o) in [(k[0], k[1]), (k[1], k[0])] {
            let cu = get(&counts, &[u]);
            let acc_u = cu.acc();
            let acc_uo = c.acc();
            // D(u) \ D(o): the rest of u.
            let (rest_n, rest_err) = (cu.n - c.n, cu.err - c.err);
            let succ_uo = c.n as f64 - c.err;
            let succ_rest = rest_n as f64 - rest_err;
            let (diff, lo, hi) = wald_diff(succ_uo, c.n as f64, succ_rest, rest_n as f64);
            f.pair_effects.push(PairEffect {
                base: input.values[u as usize].clone(),
                added: input.values[o as usize].clone(),
                base_items: cu.n,
                base_accuracy: acc_u,
                accuracy: acc_uo,
                delta_pair: rel(acc_uo, acc_u),
                diff,
                ci_low: lo,
                ci_high: hi,
                p_value: two_proportion_p(succ_uo, c.n as f64, succ_rest, rest_n as f64),
                q_value: f64::NAN,
            });
        }
        let (d0, d1) = (
            loss(f.pair_effects[0].delta_pair),
            loss(f.pair_effects[1].delta_pair),
        );
        f.a_pair = d0.max(d1);
        f.weak = f.omega * (f.a_raw + f.a_pair);
        pair_idx.push(features.len());
        behind.push(if f.a_pair > f.a_raw {
            Behind::Pair(usize::from(d1 > d0))
        } else {
            Behind::Error
        });
        features.push(f);
    }
    for f in features.iter_mut().filter(|f| f.order == 1) {
        f.weak = f.omega * f.a_raw;
    }
    let by_weak = |a: &Feature, b: &Feature| {
        b.weak
            .total_cmp(&a.weak)
            .then(b.order.cmp(&a.order))
            .then_with(|| a.labels.cmp(&b.labels))
    };
    let mut kept_pairs: Vec<usize> = pair_idx.clone();
    kept_pairs.sort_by(|&a, &b| by_weak(&features[a], &features[b]));
    kept_pairs.truncate(s.top_pairs);
    let id_of: BTreeMap<&str, u32> = input
        .values
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i as u32))
        .collect();
    let ids = |f: &Feature| -> Vec<u32> { f.labels.iter().map(|l| id_of[l.as_str()]).collect() };
    let kept: Vec<Vec<u32>> = kept_pairs.iter().map(|&i| ids(&features[i])).collect();

    // Triples containing a kept pair: counts, and the four cells of D(u)
    // for each u (holding the other two or not), from one pass.
    let mut triples: BTreeMap<Vec<u32>, Count> = BTreeMap::new();
    if !kept.is_empty() {
        for (l, &e) in labels.iter().zip(&errs) {
            if l.len() < 3 {
                continue;
            }
            for a in 0..l.len() {
                for b in a + 1..l.len() {
                    for c in b + 1..l.len() {
                        let t = [l[a], l[b], l[c]];
                        let extends = kept.iter().any(|p| p.iter().all(|x| t.contains(x)));
                        if extends {
                            triples.entry(t.to_vec()).or_default().add(e);
                        }
                    }
                }
            }
        }
    }
    let evaluated: Vec<(Vec<u32>, Count)> = triples
        .into_iter()
        .filter(|(_, c)| c.n >= s.theta.max(1))
        .collect();
    // The cells need each u's items: one pass over the items per triple
    // is fine at the sizes of a pool (a few hundred triples).
    for (t, c) in evaluated {
        let mut f = base_feature(&t, c);
        let mut best = (0.0, 0usize);
        for (j, &u) in t.iter().enumerate() {
            let others: Vec<u32> = t.iter().copied().filter(|&x| x != u).collect();
            let (oi, oj) = (others[0], others[1]);
            let acc_u = get(&counts, &[u]).acc();
            let key = |a: u32, b: u32| if a < b { vec![a, b] } else { vec![b, a] };
            let r_i = rel(get(&counts, &key(u, oi)).acc(), acc_u);
            let r_j = rel(get(&counts, &key(u, oj)).acc(), acc_u);
            let r_ij = rel(c.acc(), acc_u);
            let cval = r_ij - (r_i + r_j);
            let mut cells = [Count::default(); 4];
            for (l, &e) in labels.iter().zip(&errs) {
                if l.binary_search(&u).is_ok() {
                    let hi = usize::from(l.binary_search(&oi).is_ok());
                    let hj = usize::from(l.binary_search(&oj).is_ok());
                    cells[2 * hi + hj].add(e);
                }
            }
            let (contrast, lo, hi, p) = contrast_test(cells);
            let a = loss(cval);
            if a > best.0 {
                best = (a, j);
            }
            f.composition_effects.push(CompositionEffect {
                base: input.values[u as usize].clone(),
                parts: vec![
                    input.values[oi as usize].clone(),
                    input.values[oj as usize].clone(),
                ],
                c: cval,
                contrast,
                ci_low: lo,
                ci_high: hi,
                p_value: p,
                q_value: f64::NAN,
            });
        }
        f.a_comp = best.0;
        f.weak = f.omega * (f.a_raw + f.a_comp);
        behind.push(if f.a_comp > f.a_raw {
            Behind::Comp(best.1)
        } else {
            Behind::Error
        });
        features.push(f);
    }

    // One BH family per kind of test.
    let q_error = benjamini_hochberg(&features.iter().map(|f| f.p_error).collect::<Vec<_>>());
    for (f, q) in features.iter_mut().zip(q_error) {
        f.q_error = q;
    }
    let pair_p: Vec<f64> = features
        .iter()
        .flat_map(|f| f.pair_effects.iter().map(|p| p.p_value))
        .collect();
    let mut q = benjamini_hochberg(&pair_p).into_iter();
    for p in features.iter_mut().flat_map(|f| f.pair_effects.iter_mut()) {
        p.q_value = q.next().unwrap_or(f64::NAN);
    }
    let comp_p: Vec<f64> = features
        .iter()
        .flat_map(|f| f.composition_effects.iter().map(|p| p.p_value))
        .collect();
    let mut q = benjamini_hochberg(&comp_p).into_iter();
    for p in features.iter_mut().flat_map(|f| f.composition_effects.iter_mut()) {
        p.q_value = q.next().unwrap_or(f64::NAN);
    }
    for (f, b) in features.iter_mut().zip(&behind) {
        f.q_value = match *b {
            Behind::Error => f.q_error,
            Behind::Pair(j) => f.pair_effects[j].q_value,
            Behind::Comp(j) => f.composition_effects[j].q_value,
        };
        f.significant = f.q_value <= s.fdr;
    }

    // The pool: singles, kept pairs, triples with A_comp > 0.
    let kept_set: std::collections::BTreeSet<usize> = kept_pairs.iter().copied().collect();
    let mut candidates: Vec<usize> = (0..features.len())
        .filter(|&i| {
            let f = &features[i];
            f.weak > 0.0
                && match f.order {
                    1 => true,
                    2 => kept_set.contains(&i),
                    _ => f.a_comp > 0.0,
                }
        })
        .collect();
    candidates.sort_by(|&a, &b| by_weak(&features[a], &features[b]));
    candidates.truncate(s.top_k);
    for (r, &i) in candidates.iter().enumerate() {
        features[i].in_pool = true;
        features[i].rank = Some(r + 1);
    }
    features.sort_by(|a, b| match (a.rank, b.rank) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => by_weak(a, b),
    });
    Analysis {
        axis: axis.to_string(),
        constants: Constants {
            kappa: s.kappa,
            theta: s.theta,
            top_pairs: s.top_pairs,
            top_k: s.top_k,
            fdr: s.fdr,
        },
        items: n_items,
        error_rate: err_d,
        features,
    }
}
