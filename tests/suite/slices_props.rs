//! Properties of slice statistics and comparisons over random tables, checked
//! through the whole path (table -> Parquet -> item-level dataset) against a
//! plain reference computed from the rows.

use std::collections::BTreeMap;

use caploop::slices::{self, CompareSettings};
use caploop::table::{SampleRow, SampleTable, TagSet, Tags};
use proptest::prelude::*;

/// (item, run presence mask, samples per run, scores, tag set index)
fn table(spec: &[(u8, u8, Vec<bool>, u8)]) -> SampleTable {
    let sets = vec![
        TagSet {
            values: vec![vec!["a".into()], vec!["x".into()]],
            rules: vec!["r1".into()],
        },
        TagSet {
            values: vec![vec!["a".into(), "b".into()], vec!["unknown".into()]],
            rules: vec!["r2".into()],
        },
        TagSet {
            values: vec![vec!["b".into()], vec!["x".into()]],
            rules: vec![],
        },
    ];
    let mut t = SampleTable::default();
    let mut row_set = Vec::new();
    for (item, (mask, k, scores, set)) in spec.iter().map(|(m, k, s, t)| (*m, *k, s, *t)).enumerate() {
        for (r, run) in ["base", "cand"].iter().enumerate() {
            if mask & (1 << r) == 0 {
                continue;
            }
            for j in 0..k {
                let score = scores[(r * 4 + j as usize) % scores.len()];
                t.push(SampleRow {
                    run: run.to_string(),
                    benchmark: "b".into(),
                    task: "t".into(),
                    primary_filter: true,
                    item_id: format!("i{item}"),
                    sample_idx: u32::from(j),
                    score: f64::from(u8::from(score)),
                    correct: score,
                    meta: "{}".into(),
                    source: "x:1".into(),
                    ..SampleRow::default()
                });
                row_set.push(u32::from(set % 3));
            }
        }
    }
    t.tags = Some(Tags {
        axes: vec!["op".into(), "bg".into()],
        sets,
        row_set,
    });
    t
}

fn spec() -> impl Strategy<Value = Vec<(u8, u8, Vec<bool>, u8)>> {
    prop::collection::vec(
        (1u8..4, 1u8..4, prop::collection::vec(any::<bool>(), 8), 0u8..3),
        1..60,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn comparisons_are_consistent_with_a_plain_reference(spec in spec()) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.parquet");
        let t = table(&spec);
        caploop::table::write_parquet(&t, &path).unwrap();
        let ds = slices::load(&path, &BTreeMap::new()).unwrap();
        let settings = CompareSettings { min_items: 1, ..CompareSettings::default() };
        let defined = slices::slices(&ds, 2, 1);
        let (Ok(b), Ok(c)) = (ds.run_index("base"), ds.run_index("cand")) else { return Ok(()) };
        let cmp = slices::compare(&ds, b, c, &defined, &settings);

        // Reference: item means per run straight from the rows.
        let mut means: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
        for i in 0..t.len() {
            let e = means.entry((t.run[i].clone(), t.item_id[i].clone())).or_insert((0.0, 0.0));
            e.0 += t.score[i];
            e.1 += 1.0;
        }
        let both: Vec<String> = spec.iter().enumerate().filter(|(_, s)| s.0 == 3).map(|(i, _)| format!("i{i}")).collect();
        let Some(all) = cmp.overall("b") else {
            // A benchmark without a paired item has no comparison row.
            prop_assert!(both.is_empty());
            return Ok(());
        };
        prop_assert_eq!(all.paired.items, both.len());
        let mean = |run: &str| both.iter().map(|id| { let (s, n) = means[&(run.to_string(), id.clone())]; s / n }).sum::<f64>() / both.len() as f64;
        if !both.is_empty() {
            prop_assert!((all.paired.baseline_mean - mean("base")).abs() < 1e-12);
            prop_assert!((all.paired.candidate_mean - mean("cand")).abs() < 1e-12);
        }
        let p = &cmp.pairing[0];
        prop_assert_eq!(p.only_baseline, spec.iter().filter(|s| s.0 == 1).count());
        prop_assert_eq!(p.only_candidate, spec.iter().filter(|s| s.0 == 2).count());
        for r in &cmp.slices {
            if r.paired.ci_low.is_finite() {
                prop_assert!(r.paired.ci_low <= r.paired.delta + 1e-12 && r.paired.delta <= r.paired.ci_high + 1e-12, "{:?}", r);
            }
            if r.paired.p_value.is_finite() {
                prop_assert!(r.paired.q_value >= r.paired.p_value - 1e-15 && r.paired.q_value <= 1.0);
            }
            prop_assert!(r.regressed + r.fixed <= r.paired.items);
            prop_assert!(r.regressed_ids.len() <= r.regressed);
        }
        // Slice counts add up: on the single-valued axis `bg`, x and unknown
        // partition the benchmark.
        let stats = slices::measure_all(&ds, &defined, 0.95, &[1, 2]);
        // Unbiased pass@1 is the mean of item means; pass@2 exists only
        // where every item has two samples.
        for st in &stats {
            let (k1, p1) = st.pass_at[0];
            prop_assert_eq!(k1, 1);
            prop_assert!((p1.unwrap() - st.mean).abs() < 1e-12, "{:?}", st);
            let (_, p2) = st.pass_at[1];
            prop_assert_eq!(p2.is_some(), st.k.is_some_and(|k| k >= 2));
            if let (Some(p2), Some(p1)) = (p2, p1) {
                prop_assert!(p2 >= p1 - 1e-12);
            }
        }
        for run in ["base", "cand"] {
            let n = |name: &str| stats.iter().find(|s| s.run == run && s.slice == name).map_or(0, |s| s.items);
            let unknown = spec.iter().filter(|s| s.0 & if run == "base" { 1 } else { 2 } != 0 && s.3 % 3 == 1).count();
            prop_assert_eq!(n("bg=x") + unknown, n("*"));
        }
    }

    #[test]
    fn comparing_a_run_with_itself_changes_nothing(spec in spec()) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("s.parquet");
        caploop::table::write_parquet(&table(&spec), &path).unwrap();
        let ds = slices::load(&path, &BTreeMap::new()).unwrap();
        let Ok(b) = ds.run_index("base") else { return Ok(()) };
        let defined = slices::slices(&ds, 2, 1);
        let cmp = slices::compare(&ds, b, b, &defined, &CompareSettings::default());
        for r in &cmp.slices {
            prop_assert_eq!(r.paired.delta, 0.0);
            prop_assert_eq!(r.regressed + r.fixed, 0);
            prop_assert!(r.status != slices::Status::Regressed && r.status != slices::Status::Improved);
        }
    }
}
