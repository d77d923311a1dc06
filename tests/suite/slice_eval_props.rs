//! The streaming slice evaluation (`slices::eval`: members found by their
//! tags, every slice accumulated in one pass over the items) against a plain
//! reference that lists each slice's member items first and computes its
//! statistics from the list, as caploop did before. Random datasets with up
//! to eight tags, one to four samples per item, binary and graded scores and
//! items missing from a run; conjunctions up to order three. The two must
//! agree bit for bit (compared through `{:?}`, which prints every f64 in
//! full and tells -0.0 from 0.0).

use std::collections::HashMap;

use caploop::slices::{self, CompareSettings, Dataset, Item, ItemScore, Slice};
use caploop::stats;
use proptest::prelude::*;

/// Per item: tag bitmask, per run (samples, correct, graded sum or None).
type ItemSpec = (u8, [Option<(u32, u32, Option<u8>)>; 2]);

fn dataset(spec: &[ItemSpec], benchmarks: u32) -> Dataset {
    let mut ds = Dataset {
        runs: vec!["base".into(), "cand".into()],
        benchmarks: (0..benchmarks).map(|b| format!("b{b}")).collect(),
        tags: (0..8).map(|t| format!("ax{}=v{t}", t % 3)).collect(),
        axes: vec!["ax0".into(), "ax1".into(), "ax2".into()],
        ..Dataset::default()
    };
    ds.scores = vec![Vec::new(), Vec::new()];
    for (i, (mask, runs)) in spec.iter().enumerate() {
        ds.items.push(Item {
            benchmark: i as u32 % benchmarks,
            task: "t".into(),
            // Ids repeat across items now and then, as doc ids do across tasks.
            id: format!("d{}", i % 23),
            tags: (0..8).filter(|t| mask & (1 << t) != 0).collect(),
        });
        for (r, s) in runs.iter().enumerate() {
            ds.scores[r].push(s.map(|(n, correct, graded)| {
                let correct = correct.min(n);
                ItemScore {
                    n,
                    sum: graded.map_or(f64::from(correct), |g| f64::from(g) / 8.0 * f64::from(n)),
                    correct,
                    binary: graded.is_none(),
                    prompt_hash: None,
                }
            }));
        }
    }
    ds
}

/// The pre-streaming enumeration: every subset of every item's tags.
fn reference_slices(ds: &Dataset, max_order: usize, min_items: usize) -> Vec<(Slice, Vec<u32>)> {
    fn subsets(tags: &[u32], start: usize, order: usize, cur: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
        for i in start..tags.len() {
            cur.push(tags[i]);
            out.push(cur.clone());
            if cur.len() < order {
                subsets(tags, i + 1, order, cur, out);
            }
            cur.pop();
        }
    }
    let mut out = Vec::new();
    for b in 0..ds.benchmarks.len() as u32 {
        let all: Vec<u32> = (0..ds.items.len() as u32)
            .filter(|&i| ds.items[i as usize].benchmark == b)
            .collect();
        if all.is_empty() {
            continue;
        }
        let mut members: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
        for &i in &all {
            let mut buf = Vec::new();
            subsets(
                &ds.items[i as usize].tags,
                0,
                max_order,
                &mut Vec::new(),
                &mut buf,
            );
            for s in buf {
                members.entry(s).or_default().push(i);
            }
        }
        let size = |k: &[u32]| members.get(k).map_or(0, Vec::len);
        let mut found: Vec<(Slice, Vec<u32>)> = members
            .iter()
            .filter(|(k, v)| v.len() >= min_items && (k.len() == 1 || v.len() < all.len()))
            .filter(|(k, v)| {
                k.len() == 1
                    || (0..k.len()).all(|skip| {
                        let part: Vec<u32> = k
                            .iter()
                            .enumerate()
                            .filter(|(j, _)| *j != skip)
                            .map(|(_, &t)| t)
                            .collect();
                        size(&part) != v.len()
                    })
            })
            .map(|(k, v)| {
                let s = Slice {
                    benchmark: b,
                    tags: k.clone(),
                    items: v.len(),
                };
                (s, v.clone())
            })
            .collect();
        found.sort_by_cached_key(|(s, _)| s.name(ds));
        out.push((
            Slice {
                benchmark: b,
                tags: Vec::new(),
                items: all.len(),
            },
            all,
        ));
        out.extend(found);
    }
    out
}

/// The pre-streaming per-slice statistics of run `r`, from the member list.
fn reference_measure(ds: &Dataset, r: usize, slice: &Slice, items: &[u32], ks: &[u32]) -> String {
    let scores: Vec<&ItemScore> = items
        .iter()
        .filter_map(|&i| ds.scores[r][i as usize].as_ref())
        .collect();
    let samples: u64 = scores.iter().map(|s| u64::from(s.n)).sum();
    let single_binary = scores.iter().all(|s| s.n == 1 && s.binary);
    let (mean, low, high) = if scores.is_empty() {
        (f64::NAN, f64::NAN, f64::NAN)
    } else if single_binary {
        let correct: u64 = scores.iter().map(|s| u64::from(s.correct)).sum();
        let ci = stats::wilson_interval(correct, scores.len() as u64, 0.95);
        (correct as f64 / scores.len() as f64, ci.low, ci.high)
    } else {
        let means: Vec<f64> = scores.iter().map(|s| s.mean()).collect();
        let est = stats::clustered_mean(&means, 0.95);
        (est.mean, est.ci.low, est.ci.high)
    };
    let min_n = scores.iter().map(|s| s.n).min();
    let k = min_n.filter(|&k| k > 1);
    let pass = |k: u32| -> Option<f64> {
        if scores.is_empty() || min_n.is_none_or(|n| n < k) {
            return None;
        }
        let total: f64 = scores
            .iter()
            .filter_map(|s| stats::pass_at_k(s.n, s.correct, k))
            .sum();
        Some(total / scores.len() as f64)
    };
    let pass_at: Vec<(u32, Option<f64>)> = ks.iter().map(|&k| (k, pass(k))).collect();
    format!(
        "{} {} {} {mean:?} {low:?} {high:?} {k:?} {:?} {pass_at:?}",
        slice.name(ds),
        scores.len(),
        samples,
        k.and_then(pass)
    )
}

/// The pre-streaming paired comparison of one slice, from the member list.
fn reference_compare(ds: &Dataset, slice: &Slice, items: &[u32], s: &CompareSettings) -> String {
    let pairs: Vec<(u32, ItemScore, ItemScore)> = items
        .iter()
        .filter_map(
            |&i| match (&ds.scores[0][i as usize], &ds.scores[1][i as usize]) {
                (Some(x), Some(y)) => Some((i, *x, *y)),
                _ => None,
            },
        )
        .collect();
    let n = pairs.len();
    let binary = pairs
        .iter()
        .all(|(_, x, y)| x.n == 1 && y.n == 1 && x.binary && y.binary);
    let mut changes: Vec<(f64, &str)> = Vec::new();
    let cmp = if binary {
        let base_correct = pairs.iter().filter(|(_, x, _)| x.correct == 1).count();
        let (mut b, mut c) = (0, 0);
        for (i, x, y) in &pairs {
            let d = f64::from(y.correct) - f64::from(x.correct);
            if d != 0.0 {
                changes.push((d, ds.items[*i as usize].id.as_str()));
                if d < 0.0 {
                    b += 1;
                } else {
                    c += 1;
                }
            }
        }
        stats::paired_binary(n, base_correct, b, c, s.confidence)
    } else {
        let xb: Vec<f64> = pairs.iter().map(|(_, x, _)| x.mean()).collect();
        let yb: Vec<f64> = pairs.iter().map(|(_, _, y)| y.mean()).collect();
        for (i, x, y) in &pairs {
            let d = y.mean() - x.mean();
            if d != 0.0 {
                changes.push((d, ds.items[*i as usize].id.as_str()));
            }
        }
        stats::paired_means(&xb, &yb, s.confidence)
    };
    let largest = |keep: &dyn Fn(f64) -> bool| -> (usize, Vec<String>) {
        let mut v: Vec<(f64, &str)> = changes.iter().copied().filter(|c| keep(c.0)).collect();
        v.sort_by(|a, b| a.0.abs().total_cmp(&b.0.abs()).reverse().then(a.1.cmp(b.1)));
        let count = v.len();
        (
            count,
            v.into_iter()
                .take(s.max_listed_items)
                .map(|c| c.1.to_string())
                .collect(),
        )
    };
    let (regressed, regressed_ids) = largest(&|d| d < 0.0);
    let (fixed, fixed_ids) = largest(&|d| d > 0.0);
    format!(
        "{} {n} {:?} {:?} {:?} {:?} {:?} {:?} {regressed} {fixed} {regressed_ids:?} {fixed_ids:?}",
        slice.name(ds),
        cmp.baseline_mean,
        cmp.candidate_mean,
        cmp.delta,
        cmp.ci.low,
        cmp.ci.high,
        cmp.p_value
    )
}

/// The same items with one binary sample per run.
fn binary(spec: &[ItemSpec]) -> Vec<ItemSpec> {
    spec.iter()
        .map(|(mask, runs)| {
            (
                *mask,
                runs.map(|r| r.map(|(_, correct, _)| (1, correct.min(1), None))),
            )
        })
        .collect()
}

fn item_spec() -> impl Strategy<Value = ItemSpec> {
    let run = prop::option::weighted(0.9, (1u32..5, 0u32..5, prop::option::weighted(0.3, 0u8..9)));
    (any::<u8>(), [run.clone(), run])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn streaming_slices_equal_the_listed_reference(
        spec in prop::collection::vec(item_spec(), 1..120),
        benchmarks in 1u32..3,
        max_order in 1usize..4,
        min_items in 1usize..4,
        max_listed in 0usize..4,
        threads in 1usize..5,
        one_binary in any::<bool>(),
    ) {
        // Slices are split across the pool's threads (a benchmark's into
        // ranges when there are more threads than benchmarks): any split.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        // One binary sample per item and run: such benchmarks are
        // evaluated by bitsets, not streamed.
        let spec = if one_binary { binary(&spec) } else { spec };
        let ds = dataset(&spec, benchmarks);
        let reference = reference_slices(&ds, max_order, min_items);
        let defined = slices::slices(&ds, max_order, min_items);
        let want: Vec<&Slice> = reference.iter().map(|(s, _)| s).collect();
        prop_assert_eq!(defined.iter().collect::<Vec<_>>(), want);

        let ks = [1, 2, 3];
        let stats = pool.install(|| slices::measure_all(&ds, &defined, 0.95, &ks));
        let got: Vec<String> = stats
            .iter()
            .map(|s| format!(
                "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                s.slice, s.items, s.samples, s.mean, s.ci_low, s.ci_high, s.k, s.pass_at_k, s.pass_at
            ))
            .collect();
        let mut want = Vec::new();
        for r in 0..2 {
            for (s, items) in &reference {
                let scored = items.iter().any(|&i| ds.scores[r][i as usize].is_some());
                if scored {
                    want.push(reference_measure(&ds, r, s, items, &ks));
                }
            }
        }
        prop_assert_eq!(got, want);

        let settings = CompareSettings { max_listed_items: max_listed, ..CompareSettings::default() };
        let cmp = pool.install(|| slices::compare(&ds, 0, 1, &defined, &settings));
        let got: Vec<String> = cmp
            .slices
            .iter()
            .map(|c| format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {:?} {:?}",
                c.slice, c.paired.items, c.paired.baseline_mean, c.paired.candidate_mean, c.paired.delta, c.paired.ci_low, c.paired.ci_high,
                c.paired.p_value, c.regressed, c.fixed, c.regressed_ids, c.fixed_ids
            ))
            .collect();
        let want: Vec<String> = reference
            .iter()
            .filter(|(_, items)| items.iter().any(|&i| {
                ds.scores[0][i as usize].is_some() && ds.scores[1][i as usize].is_some()
            }))
            .map(|(s, items)| reference_compare(&ds, s, items, &settings))
            .collect();
        prop_assert_eq!(got, want);
    }

    /// Slices given by hand (a grid cell, a target) are found by their tags
    /// whatever their order, including ones `slices()` would not define.
    #[test]
    fn explicit_slices_find_their_members(
        spec in prop::collection::vec(item_spec(), 1..80),
        picks in prop::collection::vec(prop::collection::btree_set(0u32..8, 0..4), 1..6),
        threads in 1usize..5,
        one_binary in any::<bool>(),
    ) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let spec = if one_binary { binary(&spec) } else { spec };
        let ds = dataset(&spec, 1);
        let given: Vec<Slice> = picks.iter().map(|t| Slice::of(&ds, 0, t.iter().copied().collect())).collect();
        let settings = CompareSettings::default();
        let cmp = pool.install(|| slices::compare(&ds, 0, 1, &given, &settings));
        let want: Vec<String> = given
            .iter()
            .map(|s| {
                let items: Vec<u32> = (0..ds.items.len() as u32)
                    .filter(|&i| s.tags.iter().all(|t| ds.items[i as usize].tags.contains(t)))
                    .collect();
                prop_assert_eq!(items.len(), s.items);
                Ok((s, items))
            })
            .collect::<Result<Vec<_>, TestCaseError>>()?
            .into_iter()
            .filter(|(_, items)| items.iter().any(|&i| {
                ds.scores[0][i as usize].is_some() && ds.scores[1][i as usize].is_some()
            }))
            .map(|(s, items)| reference_compare(&ds, s, &items, &settings))
            .collect();
        let got: Vec<String> = cmp
            .slices
            .iter()
            .map(|c| format!(
                "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {} {} {:?} {:?}",
                c.slice, c.paired.items, c.paired.baseline_mean, c.paired.candidate_mean, c.paired.delta, c.paired.ci_low, c.paired.ci_high,
                c.paired.p_value, c.regressed, c.fixed, c.regressed_ids, c.fixed_ids
            ))
            .collect();
        prop_assert_eq!(got, want);
    }
}
