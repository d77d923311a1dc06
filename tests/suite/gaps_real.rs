//! The motivating case on logs written by the real harness
//! (lm-eval 0.4.13, `tests/lmeval/gaps_case.py`, run by `.ci/gaps.sh`):
//! gsm8k, 1,000 docs, a candidate weak only on docs that combine a
//! percentage with a remainder worded "packs N cookies into boxes of k and
//! eats the cookies left over". Truth from the script's plan
//! (`gaps_truth.json` beside the logs). Skips with a note when
//! `CAPLOOP_GAPS_LOGS` is unset.
//!
//! - shipped taxonomies: the diagnosis names
//!   `operation=modular_arithmetic & operation=percentage` first, with
//!   exactly the planted docs, and no phrase beats it;
//! - the taxonomy before the phrasings (`tests/fixtures/gaps/`): the
//!   diagnosis names `operation=percentage` alone (every percentage doc),
//!   and the gap search finds the planted docs through a phrase of the
//!   remainder's wording, with a suggested rule that passes `caploop check`.

use std::path::{Path, PathBuf};

use crate::common::caploop;
use serde_json::Value;

fn logs() -> Option<PathBuf> {
    match std::env::var_os("CAPLOOP_GAPS_LOGS") {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            eprintln!("note: CAPLOOP_GAPS_LOGS is not set (run .ci/gaps.sh DIR); skipping");
            None
        }
    }
}

fn diagnose(logs: &Path, taxonomy: &Path, out: &Path) -> Value {
    let cfg = format!(
        "inputs: [{}, {}]\ntaxonomies: [{}]\nbaseline: caploop/scripted-gaps-base\ncandidate: caploop/scripted-gaps-cand\nout: {}\n",
        logs.join("caploop__scripted-gaps-base").display(),
        logs.join("caploop__scripted-gaps-cand").display(),
        taxonomy.display(),
        out.display()
    );
    let p = out.with_extension("yaml");
    std::fs::write(&p, cfg).unwrap();
    caploop()
        .args(["run", "--quiet", "--config"])
        .arg(&p)
        .assert()
        .success();
    serde_json::from_str(&std::fs::read_to_string(out.join("evidence.json")).unwrap()).unwrap()
}

fn gsm8k<'a>(e: &'a Value, key: &str) -> &'a Value {
    e[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["benchmark"] == "gsm8k")
        .unwrap()
}

#[test]
fn the_combination_is_named_on_real_harness_logs() {
    let Some(logs) = logs() else { return };
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(logs.join("gaps_truth.json")).unwrap()).unwrap();
    let planted = truth["planted_doc_ids"].as_array().unwrap().len();
    let percentage = truth["percentage_doc_ids"].as_array().unwrap().len();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();

    let now = diagnose(&logs, &root.join("taxonomies/math.yaml"), &tmp.path().join("now"));
    let v = gsm8k(&now, "verdicts");
    assert_eq!(v["verdict"], "data_in");
    let first = &v["slices"][0];
    println!(
        "shipped rules: {} ({} items, candidate mean {:.2}); planted {planted}",
        first["slice"],
        first["items"],
        first["candidate_mean"].as_f64().unwrap()
    );
    assert_eq!(
        first["slice"],
        "operation=modular_arithmetic & operation=percentage"
    );
    assert_eq!(first["items"].as_u64().unwrap() as usize, planted);
    assert_eq!(gsm8k(&now, "gaps")["explained_by_tags"], true);

    let before = diagnose(
        &logs,
        &root.join("tests/fixtures/gaps/math_before_phrasings.yaml"),
        &tmp.path().join("before"),
    );
    let v = gsm8k(&before, "verdicts");
    let first = &v["slices"][0];
    println!(
        "rules before: {} ({} items); {percentage} percentage docs",
        first["slice"], first["items"]
    );
    assert_eq!(first["slice"], "operation=percentage");
    assert_eq!(first["items"].as_u64().unwrap() as usize, percentage);
    let g = gsm8k(&before, "gaps");
    assert_eq!(g["explained_by_tags"], false);
    let top = &g["gaps"][0];
    println!(
        "gap search: {} ({} items, score {:.2} > {:.2})",
        top["slice"],
        top["items"],
        top["score"].as_f64().unwrap(),
        g["best_tag_score"].as_f64().unwrap()
    );
    assert_eq!(top["items"].as_u64().unwrap() as usize, planted);
    let remainder_words = ["packs", "cookies", "into", "boxes", "eats", "left", "over"];
    let phrases = top["phrases"].as_array().unwrap();
    assert!(phrases.iter().any(|p| p
        .as_str()
        .unwrap()
        .split(' ')
        .any(|w| remainder_words.contains(&w))));
    let rule = tmp.path().join("suggested.yaml");
    std::fs::write(&rule, top["suggested_rule"].as_str().unwrap()).unwrap();
    caploop().arg("check").arg(&rule).assert().success();
}
