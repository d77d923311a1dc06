//! Taxonomy gaps and the usual phrasings, end to end through `caploop run`
//! on GSM8K-style generic logs written here (`gsm8k` benchmark, a `question`
//! doc field, two runs). The truth is the generator's plan: every item has
//! one or two operations, each worded by a template, and the candidate
//! loses (baseline right, candidate wrong) most items that combine
//! `percentage` with a second operation, and nothing elsewhere.
//!
//! - planted in phrases no shipped rule covers ("the rest stay loose"):
//!   the gap search names the phrase, its suggested rule passes
//!   `caploop check`, and with the rule loaded the lattice ranks the
//!   combination first;
//! - planted in the usual grade-school wording of a remainder ("packs them
//!   into boxes of 6 ... left over"): the shipped rules tag it, and the
//!   diagnosis names `operation=modular_arithmetic & operation=percentage`
//!   first, not `operation=percentage` alone.

use std::path::Path;

use crate::common::caploop;
use serde_json::Value;

/// A deterministic hash in [0, 1) of (salt, item).
fn u(salt: u64, i: u64) -> f64 {
    let mut x = salt.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// The operation-free part and the templates of each operation.
fn phrase(op: &str, i: u64, hidden: &str) -> String {
    let n = 10 + (i % 50);
    match op {
        "percentage" => format!(
            "A shop sells {n} toys and gives {} percent off the price.",
            5 + i % 30
        ),
        "ratio" => format!("Ann has twice as many cards as Ben, who has {n}."),
        "rates" => format!("A pump moves {n} liters per hour."),
        "hidden" if hidden == "usual" => {
            format!("She packs the {n} apples into boxes of 6 and keeps the ones left over.")
        }
        // Wording no shipped rule knows.
        _ => format!("She fills jars with {n} buttons and the rest stay loose in a tin."),
    }
}

const OPS: [&str; 4] = ["percentage", "ratio", "rates", "hidden"];

/// Write the two runs; returns the ids of the planted combination's items.
fn write_logs(dir: &Path, items: u64, hidden: &str) -> Vec<String> {
    let mut base = String::new();
    let mut cand = String::new();
    let mut planted = Vec::new();
    for i in 0..items {
        let a = OPS[(u(1, i) * 4.0) as usize];
        let b = OPS[(u(2, i) * 4.0) as usize];
        let mut ops = vec![a];
        if u(3, i) < 0.6 && b != a {
            ops.push(b);
        }
        let q: Vec<String> = ops.iter().map(|o| phrase(o, i, hidden)).collect();
        let question = format!("{} How many are there in all?", q.join(" "));
        let weak = ops.contains(&"percentage") && ops.contains(&"hidden");
        let b_ok = u(4, i) < 0.75;
        // The candidate keeps the baseline's answers except on the planted
        // combination, where it loses 75% of them.
        let c_ok = if weak { b_ok && u(5, i) < 0.25 } else { b_ok };
        if weak {
            planted.push(format!("q{i}"));
        }
        for (run, ok, out) in [("base", b_ok, &mut base), ("cand", c_ok, &mut cand)] {
            let row = serde_json::json!({
                "run": run, "benchmark": "gsm8k", "task": "gsm8k", "item_id": format!("q{i}"),
                "score": if ok { 1.0 } else { 0.0 }, "question": question,
            });
            out.push_str(&row.to_string());
            out.push('\n');
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("base.jsonl"), base).unwrap();
    std::fs::write(dir.join("cand.jsonl"), cand).unwrap();
    planted
}

fn run(dir: &Path, extra_taxonomy: Option<&Path>) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut tax = vec![root.join("taxonomies/math.yaml").display().to_string()];
    if let Some(p) = extra_taxonomy {
        tax.push(p.display().to_string());
    }
    let out = dir.join(if extra_taxonomy.is_some() { "out2" } else { "out1" });
    let cfg = format!(
        "inputs: [{}, {}]\ntaxonomies: [{}]\nbaseline: base\ncandidate: cand\nformat: generic\nout: {}\n",
        dir.join("base.jsonl").display(),
        dir.join("cand.jsonl").display(),
        tax.join(", "),
        out.display()
    );
    let cfg_path = dir.join(format!("pipeline-{}.yaml", extra_taxonomy.is_some()));
    std::fs::write(&cfg_path, cfg).unwrap();
    caploop()
        .args(["run", "--quiet", "--config"])
        .arg(&cfg_path)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join("evidence.json")).unwrap();
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        report.contains("## Taxonomy gaps"),
        "report.md has no gap section"
    );
    serde_json::from_str(&text).unwrap()
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
fn a_combination_worded_in_uncovered_phrases_is_found_and_its_rule_ranks_it_first() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = write_logs(tmp.path(), 1200, "uncovered");
    let e = run(tmp.path(), None);
    let v = gsm8k(&e, "verdicts");
    let best_tag = v["slices"][0]["slice"].as_str().unwrap().to_string();
    // Without a rule for the phrase the tags can only name percentage.
    assert!(
        !best_tag.contains('&') || !best_tag.contains("text"),
        "{best_tag}"
    );
    let g = gsm8k(&e, "gaps");
    assert_eq!(g["fields"], serde_json::json!(["question"]));
    assert_eq!(g["explained_by_tags"], false, "{g:#}");
    let top = &g["gaps"][0];
    let phrases: Vec<&str> = top["phrases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    let slice = top["slice"].as_str().unwrap();
    // The phrase is one of the hidden template's own words, joined with the
    // percentage tag (or the percentage template's words).
    let hidden_words = ["fills", "jars", "buttons", "rest", "stay", "loose", "tin"];
    assert!(
        phrases
            .iter()
            .any(|p| p.split(' ').any(|w| hidden_words.contains(&w))),
        "top gap {slice} names no phrase of the hidden wording"
    );
    assert!(top["score"].as_f64().unwrap() > g["best_tag_score"].as_f64().unwrap());
    assert!(top["q_value"].as_f64().unwrap() <= 0.05);
    // Most of the gap's example items are planted ones (examples are the
    // slice's items with the largest error first: regressed items).
    let examples = top["examples"].as_array().unwrap();
    let in_planted = examples
        .iter()
        .filter(|ex| planted.contains(&ex["item"].as_str().unwrap().to_string()))
        .count();
    assert!(
        !examples.is_empty() && 2 * in_planted > examples.len(),
        "{examples:?}"
    );
    println!(
        "best tag slice {best_tag} (score {:.3}); top gap {slice} ({} items, score {:.3}, q {:.2e}); planted {}",
        g["best_tag_score"].as_f64().unwrap(),
        top["items"],
        top["score"].as_f64().unwrap(),
        top["q_value"].as_f64().unwrap(),
        planted.len()
    );
    // The suggested rule passes `caploop check` and, loaded with the shipped
    // taxonomy, makes the lattice rank the combination first.
    let rule = top["suggested_rule"].as_str().unwrap();
    let rule_path = tmp.path().join("suggested.yaml");
    std::fs::write(&rule_path, rule).unwrap();
    caploop().arg("check").arg(&rule_path).assert().success();
    let e2 = run(tmp.path(), Some(&rule_path));
    let first = gsm8k(&e2, "verdicts")["slices"][0]["slice"]
        .as_str()
        .unwrap()
        .to_string();
    let added = rule
        .lines()
        .find_map(|l| l.trim().strip_prefix("add: { operation: "))
        .unwrap();
    let added = added.trim_end_matches(" }");
    let mut want = ["operation=percentage".to_string(), format!("operation={added}")];
    want.sort();
    println!("with the suggested rule: first slice {first}");
    assert_eq!(
        first,
        want.join(" & "),
        "the lattice does not rank the combination first"
    );
}

#[test]
fn a_remainder_worded_the_grade_school_way_is_named_with_its_partner() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = write_logs(tmp.path(), 1200, "usual");
    let e = run(tmp.path(), None);
    let v = gsm8k(&e, "verdicts");
    assert_eq!(v["verdict"], "data_in");
    let first = &v["slices"][0];
    assert_eq!(
        first["slice"],
        "operation=modular_arithmetic & operation=percentage"
    );
    assert_eq!(first["items"].as_u64().unwrap() as usize, planted.len());
    println!(
        "first slice {} ({} items, planted {})",
        first["slice"],
        first["items"],
        planted.len()
    );
    // The tags explain it: no phrase beats that slice.
    assert_eq!(gsm8k(&e, "gaps")["explained_by_tags"], true);
}
