//! Closing the loop: a plan verified against the synthetic `after` runs,
//! where the planted weakness is fixed (with a planted collateral
//! regression elsewhere) or not; refusal across a changed evaluation; history.

use crate::common;

use std::path::{Path, PathBuf};

use crate::common::caploop;
use caploop::pipeline::{self, Outcome as PipelineOutcome, PipelineConfig};
use caploop::synth::{self, Scenario, SynthOptions, AFTER_FIXED, AFTER_UNFIXED, COLLATERAL_OP};
use caploop::verify::Outcome;

fn run_loop(dir: &Path, scenario: Scenario, seed: u64) -> PipelineOutcome {
    let planted = synth::generate(&SynthOptions {
        scenario,
        items: 1200,
        samples: 1,
        seed,
        out: dir.join("synth"),
        effect: None,
        after: true,
    })
    .unwrap();
    let mut cfg = PipelineConfig::new(
        vec![PathBuf::from(&planted.logs)],
        common::taxonomies(),
        &planted.baseline,
        &planted.candidate,
    );
    cfg.verify = vec![AFTER_FIXED.into(), AFTER_UNFIXED.into()];
    cfg.history = vec![
        planted.baseline.clone(),
        planted.candidate.clone(),
        AFTER_FIXED.into(),
    ];
    pipeline::run(&cfg, &dir.join("out")).unwrap()
}

#[test]
fn fixed_run_confirms_every_hypothesis_and_unfixed_refutes_the_targeted_one() {
    for (scenario, seed) in [(Scenario::Demo, 7), (Scenario::Ops, 21), (Scenario::Eos, 5)] {
        let dir = tempfile::tempdir().unwrap();
        let o = run_loop(dir.path(), scenario, seed);
        assert!(o.plan.hypotheses().count() >= 1, "{scenario:?}");
        let (fixed, unfixed) = (&o.verifications[0], &o.verifications[1]);
        assert_eq!(fixed.candidate, AFTER_FIXED);
        assert!(!fixed.targets.is_empty());
        for t in &fixed.targets {
            assert_eq!(t.outcome, Outcome::Confirmed, "{scenario:?} fixed: {t:#?}");
        }
        assert!(
            fixed.guardrails.iter().all(|g| g.outcome != Outcome::Broken),
            "{scenario:?}"
        );
        assert!(!fixed.failed());
        for t in &unfixed.targets {
            assert_eq!(t.outcome, Outcome::Refuted, "{scenario:?} unfixed: {t:#?}");
        }
        assert!(unfixed.failed());
        // The planted collateral regression (math only) is reported, and it
        // is outside the plan's targets.
        if scenario != Scenario::Eos {
            let sl = format!("operation={COLLATERAL_OP}");
            assert!(
                fixed
                    .collateral
                    .iter()
                    .any(|c| c.benchmark == "math" && c.slice == sl),
                "{scenario:?}: {:?}",
                fixed.collateral.iter().map(|c| &c.slice).collect::<Vec<_>>()
            );
            assert!(fixed.targets.iter().all(|t| t.slice != sl));
            assert!(
                unfixed.collateral.iter().all(|c| c.slice != sl),
                "no collateral without the fix"
            );
        }
    }
}

#[test]
fn the_cli_gates_on_the_outcome_and_writes_verify_json() {
    let dir = tempfile::tempdir().unwrap();
    run_loop(dir.path(), Scenario::Ops, 21);
    let out = dir.path().join("out");
    let verify = |cand: &str| {
        let mut c = caploop();
        c.arg("verify")
            .arg("--plan")
            .arg(out.join("plan.json"))
            .arg("--samples")
            .arg(out.join("samples.parquet"))
            .args(["--baseline", synth::CANDIDATE, "--candidate", cand, "--out"])
            .arg(dir.path().join(cand));
        c
    };
    verify(AFTER_FIXED).assert().code(0);
    verify(AFTER_UNFIXED)
        .assert()
        .code(1)
        .stdout(predicates::str::contains("refuted"));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(AFTER_UNFIXED).join("verify.json")).unwrap())
            .unwrap();
    assert_eq!(v["result"], "fail");
    assert_eq!(v["targets"][0]["outcome"], "refuted");
    assert!(
        v["targets"][0]["measured"]["ci_high"].as_f64().unwrap()
            < v["targets"][0]["min_effect"].as_f64().unwrap()
    );
}

#[test]
fn verify_refuses_a_changed_evaluation_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    run_loop(dir.path(), Scenario::Ops, 21);
    let out = dir.path().join("out");
    // Re-write the unfixed run's math prompts: a new prompt template.
    let logs = dir.path().join("synth/logs").join(AFTER_UNFIXED);
    for e in std::fs::read_dir(&logs).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("samples_minerva_math") {
            let text = std::fs::read_to_string(&p).unwrap();
            let changed: String = text
                .lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["prompt_hash"] =
                        serde_json::Value::from(format!("changed-{}", v["doc_hash"].as_str().unwrap()));
                    v.to_string() + "\n"
                })
                .collect();
            std::fs::write(&p, changed).unwrap();
        }
    }
    let table = dir.path().join("changed.parquet");
    caploop()
        .arg("ingest")
        .arg(dir.path().join("synth/logs"))
        .arg("--out")
        .arg(dir.path().join("raw.parquet"))
        .assert()
        .success();
    let mut tag = caploop();
    tag.arg("tag")
        .arg("--samples")
        .arg(dir.path().join("raw.parquet"))
        .arg("--out")
        .arg(&table);
    for t in common::taxonomies() {
        tag.arg("--taxonomy").arg(t);
    }
    tag.assert().success();
    let run = |allow: bool| {
        let mut c = caploop();
        c.arg("verify")
            .arg("--plan")
            .arg(out.join("plan.json"))
            .arg("--samples")
            .arg(&table)
            .args([
                "--baseline",
                synth::CANDIDATE,
                "--candidate",
                AFTER_UNFIXED,
                "--out",
            ])
            .arg(dir.path().join("v"));
        if allow {
            c.arg("--allow-changed-eval");
        }
        c
    };
    let err = run(false).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(err).unwrap();
    assert!(err.contains("refusing to verify"), "{err}");
    assert!(
        err.contains("math: 1200 paired items have a different prompt"),
        "{err}"
    );
    assert!(!err.contains("bbh:"), "bbh prompts did not change: {err}");
    // Allowed, it verifies and records the change.
    run(true).assert().code(1);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("v/verify.json")).unwrap()).unwrap();
    assert_eq!(v["eval_changes"][0]["benchmark"], "math");
}

#[test]
fn history_shows_when_each_regression_appeared() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_loop(dir.path(), Scenario::Demo, 7);
    let h = o.history.unwrap();
    assert_eq!(h.runs, ["ckpt-1000", "ckpt-2000", AFTER_FIXED]);
    // bbh's run-on regression appears at ckpt-2000; the collateral at the fixed run.
    assert!(h
        .appeared
        .iter()
        .any(|a| a.step == "ckpt-2000" && a.comparison.benchmark == "bbh" && a.comparison.slice == "*"));
    let sl = format!("operation={COLLATERAL_OP}");
    assert!(h
        .appeared
        .iter()
        .any(|a| a.step == AFTER_FIXED && a.comparison.slice == sl));
    assert!(!h
        .appeared
        .iter()
        .any(|a| a.step == "ckpt-2000" && a.comparison.slice == sl));
    // The bbh trajectory drops and recovers.
    let bbh = h
        .trajectories
        .iter()
        .find(|t| t.benchmark == "bbh" && t.slice == "*")
        .unwrap();
    let m: Vec<f64> = bbh.means.iter().map(|x| x.unwrap()).collect();
    assert!(m[1] < m[0] - 0.15 && m[2] > m[1] + 0.15, "{m:?}");
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    for s in [
        "## Plan",
        "## Verification: ckpt-2000 -> ckpt-3000-fixed",
        "## History",
    ] {
        assert!(md.contains(s), "report.md lacks {s}");
    }
}
