//! Diagnosis on planted scenarios: the same unmodified procedure must reach
//! `data_out` for the end-of-sequence fault (also when the candidate gains on
//! content), `data_in` with the planted combination first for the operations
//! weakness, and nothing for the null scenario; across seeds and sizes.

use crate::common;

use std::path::{Path, PathBuf};

use caploop::diagnose::{Evidence, Verdict};
use caploop::pipeline::{self, PipelineConfig};
use caploop::synth::{self, Scenario, SynthOptions};

fn evidence(scenario: Scenario, items: usize, seed: u64) -> Evidence {
    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario,
        items,
        samples: 1,
        seed,
        out: tmp.path().to_path_buf(),
        effect: None,
        after: false,
    })
    .unwrap();
    let cfg = PipelineConfig::new(
        vec![PathBuf::from(&planted.logs)],
        common::taxonomies(),
        &planted.baseline,
        &planted.candidate,
    );
    pipeline::run(&cfg, &tmp.path().join("out")).unwrap().evidence
}

const PLANTED: &str = "operation=counting & operation=modular_arithmetic";

#[test]
fn eos_is_data_out_with_a_termination_fix_and_a_spread_drop() {
    for (items, seed) in [(600, 1), (1200, 2), (2400, 3)] {
        let e = evidence(Scenario::Eos, items, seed);
        let v = &e.verdicts[0];
        assert_eq!(v.benchmark, "bbh");
        assert_eq!(v.verdict, Verdict::DataOut, "seed {seed}: {}", v.reason);
        assert_eq!(v.fix.as_ref().unwrap().kind, "termination", "seed {seed}");
        assert!(
            v.format.share_of_drop > 0.8,
            "seed {seed}: {}",
            v.format.share_of_drop
        );
        assert!(v.format.candidate_rate > 0.3 && v.format.baseline_rate < 0.01);
        // Spread evenly: no tag combination holds a markedly larger drop.
        let concentrated: Vec<_> = v
            .slices
            .iter()
            .filter(|s| s.significant && s.effect_diff < -0.15)
            .collect();
        assert!(concentrated.is_empty(), "seed {seed}: {concentrated:?}");
    }
}

#[test]
fn eos_with_a_content_gain_is_still_data_out_with_both_deltas_reported() {
    for seed in [4, 5] {
        let e = evidence(Scenario::Mixed, 2400, seed);
        let v = &e.verdicts[0];
        assert_eq!(v.verdict, Verdict::DataOut, "seed {seed}: {}", v.reason);
        assert!(v.delta < 0.0, "a net drop");
        assert!(
            v.content.delta > 0.05 && v.content.p_value < 0.05,
            "the candidate is better on well-formed items"
        );
        assert!(
            v.format.contribution < v.delta,
            "format failures cost more than the whole drop"
        );
        assert!(
            2 * v.format.flipped_by_format < v.format.flipped_items,
            "only a minority of flipped items fail by format: {} of {}",
            v.format.flipped_by_format,
            v.format.flipped_items
        );
    }
}

#[test]
fn ops_is_data_in_with_the_planted_combination_first() {
    for (items, seed) in [(1200, 6), (2400, 7), (4000, 8)] {
        let e = evidence(Scenario::Ops, items, seed);
        let v = e.verdicts.iter().find(|v| v.benchmark == "math").unwrap();
        assert_eq!(v.verdict, Verdict::DataIn, "seed {seed}: {}", v.reason);
        assert!(v.fix.is_none());
        assert_eq!(
            v.slices[0].slice,
            PLANTED,
            "seed {seed}: {:?}",
            v.slices.iter().map(|s| &s.slice).collect::<Vec<_>>()
        );
        assert!(v.slices[0].significant);
        assert!(!v.slices[0].example_items.is_empty());
        assert!(v.format.candidate_rate < 0.01);
    }
}

#[test]
fn null_has_no_verdict_and_no_significant_slice() {
    for seed in [9, 10, 11] {
        let e = evidence(Scenario::Null, 1200, seed);
        // A false alarm on the whole benchmark (at most the FDR's share of
        // comparisons, see tests/suite/calibration.rs) finds no cause: inconclusive.
        assert!(
            matches!(e.verdict, Verdict::None | Verdict::Inconclusive),
            "seed {seed}: {}",
            e.reason
        );
        for v in &e.verdicts {
            assert!(
                matches!(v.verdict, Verdict::None | Verdict::Inconclusive),
                "seed {seed}: {}",
                v.reason
            );
            let sig: Vec<_> = v.slices.iter().filter(|s| s.significant).collect();
            assert!(sig.is_empty(), "seed {seed} {}: {sig:?}", v.benchmark);
        }
    }
}

#[test]
fn phi3_strict_match_failures_are_format_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s.parquet");
    common::caploop()
        .arg("ingest")
        .arg(common::samples_dir().join("phi3-lmeval"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    common::caploop()
        .args([
            "diagnose",
            "--candidate",
            "microsoft/Phi-3-mini-4k-instruct",
            "--samples",
        ])
        .arg(&out)
        .arg("--out")
        .arg(tmp.path().join("d"))
        .assert()
        .success();
    let e: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("d/evidence.json")).unwrap()).unwrap();
    let m = &e["failure_modes"][0];
    assert_eq!(m["samples"], 10);
    assert_eq!(m["correct"], 1);
    // flexible-extract got 8 of the 9 right: those strict-match failures
    // are answers in the wrong form, and the ninth has no `#### n` either.
    assert_eq!(m["modes"]["no_answer"], 9);
    assert_eq!(m["modes"]["wrong"], 0);
}

#[test]
fn without_a_baseline_weakness_that_persists_across_runs_is_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Ops,
        items: 2400,
        samples: 1,
        seed: 12,
        out: tmp.path().to_path_buf(),
        effect: None,
        after: false,
    })
    .unwrap();
    let tax = Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies");
    let taxonomy = caploop::taxonomy::TaxonomySet::load(&[tax.join("math.yaml")]).unwrap();
    let (mut table, _) =
        caploop::ingest::ingest(&[PathBuf::from(&planted.logs)], &Default::default()).unwrap();
    caploop::tagging::tag_table(&mut table, &taxonomy);
    let path = tmp.path().join("s.parquet");
    caploop::table::write_parquet(&table, &path).unwrap();
    let mut settings = caploop::diagnose::DiagnoseSettings::default();
    settings.targets.insert("math".into(), 0.9);
    let (cmp, e) =
        caploop::diagnose::diagnose(&path, None, &planted.candidate, &Default::default(), &settings).unwrap();
    assert!(cmp.is_none());
    assert_eq!(e.weak.len(), 2, "the candidate and the other run");
    assert_eq!(e.weak[0].run, planted.candidate);
    // Hard problems are weak in both checkpoints; the planted combination
    // only in the candidate.
    let persistent: Vec<&str> = e.persistent.iter().map(|p| p.slice.as_str()).collect();
    assert!(persistent.contains(&"difficulty=level_5"), "{persistent:?}");
    assert!(!persistent.contains(&PLANTED), "{persistent:?}");
    let cand = &e.weak[0];
    assert!(cand.slices.iter().any(|s| s.slice == PLANTED && s.significant));
    assert!(
        cand.below_target.iter().any(|s| s == "difficulty=level_5"),
        "{:?}",
        cand.below_target
    );
}

/// A candidate that improves the benchmark as a whole (+14 pp) while one
/// tagged slice loses 50 pp: the verdict is about that slice, worded as an
/// improvement with a regression inside, with the slice's own figures.
/// Planted by construction (no sampling): 100 `op=hard` items go from 80 to
/// 30 right, the other 400 from 200 to 320 right, all answers well-formed.
#[test]
fn a_regressed_slice_inside_an_improved_benchmark_gets_its_own_verdict() {
    use caploop::table::{SampleRow, SampleTable, TagSet, Tags};
    let mut t = SampleTable::default();
    let mut row_set = Vec::new();
    let sets = vec![
        TagSet {
            values: vec![vec!["hard".into()], vec!["x".into()]],
            rules: vec!["r.hard".into()],
        },
        TagSet {
            values: vec![vec!["easy".into()], vec!["x".into()]],
            rules: vec!["r.easy".into()],
        },
        TagSet {
            values: vec![vec!["easy".into()], vec!["y".into()]],
            rules: vec!["r.easy".into()],
        },
    ];
    for i in 0..500usize {
        let hard = i < 100;
        let (base_ok, cand_ok) = if hard {
            (i < 80, i < 30)
        } else {
            let k = i - 100;
            (k < 200, k < 320)
        };
        for (run, ok) in [("base", base_ok), ("cand", cand_ok)] {
            let answer = if ok { "7" } else { "8" };
            t.push(SampleRow {
                run: run.into(),
                benchmark: "gsm8k".into(),
                task: "gsm8k".into(),
                filter: Some("strict-match".into()),
                primary_filter: true,
                item_id: format!("gsm8k:{i}"),
                prompt: Some(format!("Question {i}?")),
                target: Some("#### 7".into()),
                response: Some(format!("Step. #### {answer}")),
                extracted: Some(answer.into()),
                score: f64::from(u8::from(ok)),
                correct: ok,
                response_chars: 14,
                meta: "{}".into(),
                max_gen_toks: Some(256),
                source: format!("x.jsonl:{}", i + 1),
                ..SampleRow::default()
            });
            row_set.push(if hard { 0 } else { 1 + (i % 2) as u32 });
        }
    }
    t.tags = Some(Tags {
        axes: vec!["operation".into(), "background".into()],
        sets,
        row_set,
    });
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("samples.parquet");
    caploop::table::write_parquet(&t, &path).unwrap();
    let (_, e) = caploop::diagnose::diagnose(
        &path,
        Some("base"),
        "cand",
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    let v = &e.verdicts[0];
    assert!((v.delta - 0.14).abs() < 1e-9, "{}", v.delta);
    assert_eq!(v.verdict, Verdict::DataIn, "{}", v.reason);
    let r = v.regressed_slice.as_ref().expect("the regressed slice");
    assert_eq!(r.slice, "operation=hard");
    assert_eq!(r.items, 100);
    assert!((r.delta + 0.5).abs() < 1e-9, "{}", r.delta);
    assert_eq!(r.rest_items, 400);
    assert!((r.rest_delta - 0.3).abs() < 1e-9, "{}", r.rest_delta);
    assert_eq!(r.format.items, 0);
    assert!((r.content.delta + 0.5).abs() < 1e-9);
    assert!(
        v.reason.starts_with("the benchmark improved +14.0 pp"),
        "{}",
        v.reason
    );
    assert!(
        v.reason.contains("operation=hard regressed: -50.0 pp"),
        "{}",
        v.reason
    );
    assert!(!v.reason.contains("explain"), "{}", v.reason);
    // Nothing format-related is claimed and no run is warned about.
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}
