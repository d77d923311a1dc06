//! The weakness analysis (PAPER.md section 5) end to end on planted
//! scenarios: the planted pair of `synth --scenario ops` has the highest
//! Weak(F), is significant, and reaches `plan.json` first; the verdict is a
//! capability deficit; nothing is targeted when nothing regressed.

use crate::common;

use std::path::PathBuf;

use caploop::diagnose::weakness::WeaknessKind;
use caploop::pipeline::{self, PipelineConfig};
use caploop::synth::{self, Scenario, SynthOptions};

fn run(
    scenario: Scenario,
    items: usize,
    seed: u64,
) -> (tempfile::TempDir, pipeline::Outcome, synth::Planted) {
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
    let outcome = pipeline::run(&cfg, &tmp.path().join("out")).unwrap();
    (tmp, outcome, planted)
}

/// The planted pair's values, from the generator's record (`planted.json`).
fn planted_pair(p: &synth::Planted) -> Vec<String> {
    let e = p.effects.iter().find(|e| e.kind == "ops").expect("an ops effect");
    let mut v: Vec<String> = e
        .slice
        .split(" & ")
        .map(|x| {
            x.strip_prefix("operation=")
                .expect("an operation slice")
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn ops_planted_pair_has_the_highest_weakness_and_leads_the_plan() {
    for (items, seed) in [(2000, 1), (3000, 2), (2000, 3)] {
        let (tmp, o, planted) = run(Scenario::Ops, items, seed);
        let want = planted_pair(&planted);
        let w = &o.evidence.weakness;
        assert_eq!(w.benchmarks, ["math"], "seed {seed}: the data_in benchmark");
        assert_eq!(w.analysis.axis, "operation");
        let pool: Vec<_> = w.analysis.pool().collect();
        let top = pool[0];
        assert_eq!(
            top.labels,
            want,
            "seed {seed}: pool {:?}",
            pool.iter().map(|f| f.name()).collect::<Vec<_>>()
        );
        assert_eq!(top.rank, Some(1));
        assert!(
            top.significant && top.q_value < 1e-6,
            "seed {seed}: q {}",
            top.q_value
        );
        // The planted loss is on the pair: both directions of Δpair negative.
        assert!(
            top.pair_effects.iter().all(|p| p.delta_pair < -20.0),
            "{:?}",
            top.pair_effects
        );
        // Highest Weak among every feature evaluated, not only the pool.
        let best_other = w
            .analysis
            .features
            .iter()
            .filter(|f| f.labels != want)
            .map(|f| f.weak)
            .fold(0.0, f64::max);
        assert!(top.weak > best_other, "seed {seed}: {} vs {best_other}", top.weak);

        // The verdict names the kind: the pair is two operations.
        let v = o
            .evidence
            .verdicts
            .iter()
            .find(|v| v.benchmark == "math")
            .unwrap();
        assert_eq!(
            v.weakness_kind,
            Some(WeaknessKind::CapabilityDeficit),
            "seed {seed}"
        );

        // weakness.csv: a header and one row per feature evaluated.
        let csv = std::fs::read_to_string(tmp.path().join("out/weakness.csv")).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("axis,feature,order,n,error_rate"));
        assert_eq!(lines.len(), 1 + w.analysis.features.len());
        assert!(lines[1].starts_with(&format!("operation,{},2,", want.join(" & "))));

        // plan.json: the pool for the apply stage, planted pair first.
        let plan: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("out/plan.json")).unwrap()).unwrap();
        let pw = &plan["weakness"];
        assert_eq!(pw["axis"], "operation");
        assert_eq!(pw["constants"]["kappa"], 50.0);
        assert_eq!(pw["constants"]["theta"], 30);
        assert_eq!(pw["constants"]["top_k"], 30);
        assert_eq!(pw["constants"]["rho"], 1.0);
        assert_eq!(pw["constants"]["d_max"], 2);
        let f0 = &pw["features"][0];
        assert_eq!(f0["labels"], serde_json::json!(want));
        assert_eq!(f0["order"], 2);
        for k in ["n", "error_rate", "weak", "a_raw", "a_pair", "a_comp", "q_value"] {
            assert!(f0[k].is_number(), "{k} in {f0}");
        }
        assert!(pw["features"].as_array().unwrap().len() <= 30);
        // The interventions carry the kind; a capability deficit names its
        // operation opportunity (counting: quantitative_and_symbolic_reasoning).
        let first = &plan["interventions"][0];
        assert_eq!(first["evidence"]["weakness_kind"], "capability_deficit");
        let opp = first["mapped"]["operation_opportunities"].as_array().unwrap();
        assert!(
            opp.iter().any(|x| x == "quantitative_and_symbolic_reasoning"),
            "{opp:?}"
        );

        // The report shows the section.
        let md = std::fs::read_to_string(tmp.path().join("out/report.md")).unwrap();
        assert!(md.contains("## Weakness"), "report.md has no weakness section");
        let html = std::fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
        assert!(
            html.contains("Pair effects"),
            "report.html has no pair-effect heatmap"
        );
    }
}

#[test]
fn null_scenario_targets_nothing() {
    // Nothing regressed: no data_in verdict, so no diagnostic set and no pool.
    let (_tmp, o, _) = run(Scenario::Null, 1200, 11);
    assert!(o.evidence.verdicts.iter().all(|v| v.weakness_kind.is_none()));
    assert!(o.evidence.weakness.benchmarks.is_empty());
    assert_eq!(o.evidence.weakness.analysis.pool().count(), 0);
    assert_eq!(o.plan.weakness.as_ref().map(|w| w.features.len()), Some(0));
}
