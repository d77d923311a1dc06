//! Calibration by simulation (issue: honest statistics): under the null the
//! share of comparisons reporting any regressed slice stays at or below the
//! FDR level; a planted effect of twice the planted slice's MDE is found in
//! at least 80% of seeds.

use crate::common;

use std::path::Path;

use caploop::slices::{CompareSettings, Comparison, Status};
use caploop::synth::Scenario;

const PLANTED: &str = "operation=counting & operation=modular_arithmetic";

fn run(dir: &Path, scenario: Scenario, items: usize, seed: u64, effect: Option<f64>) -> Comparison {
    common::compare_scenario(dir, scenario, items, seed, effect, false)
}

#[test]
fn null_comparisons_report_a_regression_no_more_often_than_the_fdr() {
    let seeds = 200;
    let mut any = 0;
    let mut slices = 0;
    for seed in 0..seeds {
        let tmp = tempfile::tempdir().unwrap();
        let c = run(tmp.path(), Scenario::Null, 200, 1000 + seed, None);
        slices += c.slices.len();
        if c.slices.iter().any(|s| s.status == Status::Regressed) {
            any += 1;
        }
    }
    let share = any as f64 / seeds as f64;
    eprintln!(
        "null calibration: {any} of {seeds} comparisons ({:.1}%) reported a regressed slice; {:.0} slices tested per comparison; FDR level 5%",
        100.0 * share,
        slices as f64 / seeds as f64
    );
    assert!(share <= CompareSettings::default().fdr, "share {share}");
}

#[test]
fn an_effect_of_twice_the_mde_is_found_in_most_seeds() {
    let items = 3000;
    // The planted slice's MDE, measured on a null comparison of the same size.
    let tmp = tempfile::tempdir().unwrap();
    let null = run(tmp.path(), Scenario::Ops, items, 500, Some(0.0));
    let mde = null
        .slices
        .iter()
        .find(|s| s.benchmark == "math" && s.slice == PLANTED)
        .unwrap()
        .mde;
    assert!(mde > 0.05 && mde < 0.3, "mde {mde}");
    let seeds = 30;
    let mut found = 0;
    for seed in 0..seeds {
        let tmp = tempfile::tempdir().unwrap();
        let c = run(tmp.path(), Scenario::Ops, items, 600 + seed, Some(-2.0 * mde));
        let s = c
            .slices
            .iter()
            .find(|s| s.benchmark == "math" && s.slice == PLANTED)
            .unwrap();
        if s.status == Status::Regressed {
            found += 1;
        }
    }
    eprintln!(
        "power: planted effect {:.3} (2 x MDE {mde:.3}) found in {found} of {seeds} seeds",
        -2.0 * mde
    );
    assert!(found as f64 >= 0.8 * seeds as f64, "found in {found} of {seeds}");
}
