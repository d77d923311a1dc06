//! Planted-effect scenarios from `synth`: the comparison must find what was
//! planted and stay quiet where nothing was.

use std::path::{Path, PathBuf};

use caploop::pipeline::{self, PipelineConfig};
use caploop::slices::{CompareSettings, Comparison, Status};
use caploop::synth::{self, Scenario, SynthOptions};

fn taxonomies() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies");
    vec![dir.join("bbh.yaml"), dir.join("math.yaml")]
}

fn run(scenario: Scenario, items: usize, seed: u64) -> Comparison {
    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario,
        items,
        samples: 1,
        seed,
        out: tmp.path().to_path_buf(),
    })
    .unwrap();
    let cfg = PipelineConfig {
        inputs: vec![PathBuf::from(&planted.logs)],
        format: None,
        columns: None,
        skip_bad: false,
        taxonomies: taxonomies(),
        baseline: planted.baseline,
        candidate: planted.candidate,
        out: None,
        compare: CompareSettings::default(),
    };
    pipeline::run(&cfg, &tmp.path().join("out")).unwrap().comparison
}

fn regressed(c: &Comparison, benchmark: &str) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = c
        .slices
        .iter()
        .filter(|s| s.benchmark == benchmark && s.status == Status::Regressed)
        .map(|s| (s.slice.clone(), s.delta))
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

const PLANTED: &str = "operation=counting & operation=modular_arithmetic";

#[test]
fn ops_scenario_finds_the_planted_combination_first() {
    for (items, seed) in [(2000, 1), (3000, 2), (2000, 3)] {
        let c = run(Scenario::Ops, items, seed);
        let r = regressed(&c, "math");
        assert!(!r.is_empty(), "seed {seed}: nothing regressed");
        assert_eq!(r[0].0, PLANTED, "seed {seed}: largest drop should be the planted slice; got {r:?}");
        // Slices that share no item with the planted combination stay quiet.
        for (name, _) in &r {
            assert!(
                name.contains("counting") || name.contains("modular_arithmetic") || name.contains("number_theory") || name.contains("counting_and_probability") || name == "*",
                "seed {seed}: {name} regressed but holds no planted item"
            );
        }
    }
}

#[test]
fn null_scenario_flags_nothing() {
    for seed in 10..14 {
        let c = run(Scenario::Null, 1200, seed);
        for b in ["bbh", "math"] {
            assert!(regressed(&c, b).is_empty(), "seed {seed}, {b}: {:?}", regressed(&c, b));
        }
    }
}

#[test]
fn eos_scenario_regresses_bbh_as_a_whole() {
    let c = run(Scenario::Eos, 1200, 5);
    let all = c.overall("bbh").unwrap();
    assert_eq!(all.status, Status::Regressed);
    assert!(all.delta < -0.2, "delta {}", all.delta);
    assert!(c.overall("math").is_none());
}

#[test]
fn comparing_a_run_with_itself_finds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Demo,
        items: 600,
        samples: 1,
        seed: 3,
        out: tmp.path().to_path_buf(),
    })
    .unwrap();
    let cfg = PipelineConfig {
        inputs: vec![PathBuf::from(&planted.logs)],
        format: None,
        columns: None,
        skip_bad: false,
        taxonomies: taxonomies(),
        baseline: planted.candidate.clone(),
        candidate: planted.candidate,
        out: None,
        compare: CompareSettings::default(),
    };
    let c = pipeline::run(&cfg, &tmp.path().join("out")).unwrap().comparison;
    assert!(!c.slices.is_empty());
    for s in &c.slices {
        assert_eq!(s.delta, 0.0, "{}", s.slice);
        assert!(matches!(s.status, Status::Stable | Status::Underpowered), "{} is {:?}", s.slice, s.status);
        assert_eq!(s.regressed + s.fixed, 0);
    }
}
