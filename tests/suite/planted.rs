//! Planted-effect scenarios from `synth`: the comparison must find what was
//! planted and stay quiet where nothing was.

use crate::common;

use std::path::Path;

use caploop::slices::{self, Comparison, Status};
use caploop::synth::Scenario;

fn run(scenario: Scenario, items: usize, seed: u64) -> Comparison {
    let tmp = tempfile::tempdir().unwrap();
    run_in(tmp.path(), scenario, items, seed)
}

fn run_in(dir: &Path, scenario: Scenario, items: usize, seed: u64) -> Comparison {
    common::compare_scenario(dir, scenario, items, seed, None, false)
}

fn regressed(c: &Comparison, benchmark: &str) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = c
        .slices
        .iter()
        .filter(|s| s.benchmark == benchmark && s.status == Status::Regressed)
        .map(|s| (s.slice.clone(), s.paired.delta))
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1));
    v
}

const PLANTED: &str = "operation=counting & operation=modular_arithmetic";

#[test]
fn ops_scenario_regresses_the_planted_combination_and_nothing_disjoint_from_it() {
    for (items, seed) in [(2000, 1), (3000, 2), (2000, 3)] {
        let tmp = tempfile::tempdir().unwrap();
        let c = run_in(tmp.path(), Scenario::Ops, items, seed);
        let planted = c
            .slices
            .iter()
            .find(|s| s.benchmark == "math" && s.slice == PLANTED)
            .expect("the planted slice is measured");
        assert_eq!(planted.status, Status::Regressed, "seed {seed}");
        assert!(
            planted.paired.delta < -0.2,
            "seed {seed}: delta {}",
            planted.paired.delta
        );
        // Among single tags and pairs, the planted pair (or a slice with
        // nearly the same items) shows the largest drop.
        let r = regressed(&c, "math");
        assert!(
            r.iter().take(3).any(|(name, _)| name == PLANTED),
            "seed {seed}: planted slice not among the 3 largest drops: {r:?}"
        );
        // A regressed slice must hold planted items: nothing disjoint from
        // the planted combination is flagged.
        let ds = slices::load(&tmp.path().join("samples.parquet"), &Default::default()).unwrap();
        let defined = slices::slices(&ds, 2, 20);
        let planted_items: Vec<u32> = defined
            .iter()
            .find(|s| s.name(&ds) == PLANTED)
            .unwrap()
            .members(&ds);
        for (name, _) in &r {
            let s = defined.iter().find(|s| &s.name(&ds) == name).unwrap();
            assert!(
                s.members(&ds)
                    .iter()
                    .any(|i| planted_items.binary_search(i).is_ok()),
                "seed {seed}: {name} regressed but holds no planted item"
            );
        }
    }
}

#[test]
fn null_scenario_flags_nothing_beyond_the_false_alarm_rate() {
    // At FDR 5% a null comparison may raise a false alarm in at most 5% of
    // seeds (tests/suite/calibration.rs measures the rate over 200 seeds); over ten
    // seeds, two or more alarms would be a miscalibration.
    let mut alarms = Vec::new();
    for seed in 10..20 {
        let c = run(Scenario::Null, 1200, seed);
        for b in ["bbh", "math"] {
            let r = regressed(&c, b);
            if !r.is_empty() {
                alarms.push((seed, b, r));
            }
        }
    }
    assert!(alarms.len() <= 1, "{alarms:?}");
}

#[test]
fn eos_scenario_regresses_bbh_as_a_whole() {
    let c = run(Scenario::Eos, 1200, 5);
    let all = c.overall("bbh").unwrap();
    assert_eq!(all.status, Status::Regressed);
    assert!(all.paired.delta < -0.2, "delta {}", all.paired.delta);
    assert!(c.overall("math").is_none());
}

#[test]
fn comparing_a_run_with_itself_finds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let c = common::compare_scenario(tmp.path(), Scenario::Demo, 600, 3, None, true);
    assert!(!c.slices.is_empty());
    for s in &c.slices {
        assert_eq!(s.paired.delta, 0.0, "{}", s.slice);
        assert!(
            matches!(s.status, Status::Stable | Status::Underpowered),
            "{} is {:?}",
            s.slice,
            s.status
        );
        assert_eq!(s.regressed + s.fixed, 0);
    }
}
