//! The shipped GSM8K operation rules know the usual grade-school wordings of
//! each operation, measured on hand-labelled items they were not written from
//! (`tests/fixtures/phrasings/`, README there): per operation, precision and
//! recall of `operation=<op>` against the labels, printed with
//! `cargo test --test suite phrasings:: -- --nocapture`.

use std::collections::BTreeMap;
use std::path::Path;

use caploop::taxonomy::{ItemRef, TaxonomySet};
use serde_json::Value;

/// The operations the labels use, with the lowest precision and recall the
/// test accepts on the pooled files. Thresholds sit below the measured
/// figures (README of the fixture) so a rule edit that loses a usual wording
/// fails, while one extra miss does not.
const FLOORS: [(&str, f64, f64); 8] = [
    ("fractions", 0.9, 0.9),
    ("geometry_computation", 0.8, 0.8),
    ("modular_arithmetic", 0.9, 0.75),
    ("percentage", 0.8, 0.9),
    ("probability", 0.8, 0.8),
    ("rates", 0.8, 0.8),
    ("ratio", 0.9, 0.85),
    ("averages", 0.6, 0.9),
];

fn items(file: &str) -> Vec<(String, Vec<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/phrasings")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let ops = v["operations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap().to_string())
                .collect();
            (v["question"].as_str().unwrap().to_string(), ops)
        })
        .collect()
}

/// (true positives, false positives, false negatives) per labelled operation.
fn counts(set: &TaxonomySet, items: &[(String, Vec<String>)]) -> BTreeMap<String, (usize, usize, usize)> {
    let op = set.axes().iter().position(|a| a.name == "operation").unwrap();
    let mut out: BTreeMap<String, (usize, usize, usize)> = FLOORS
        .iter()
        .map(|(o, _, _)| (o.to_string(), (0, 0, 0)))
        .collect();
    for (q, labels) in items {
        let meta = serde_json::json!({ "question": q, "answer": "#### 0" }).to_string();
        let tags = set.tag(&ItemRef {
            benchmark: "gsm8k",
            task: "gsm8k",
            prompt: None,
            target: None,
            meta: &meta,
        });
        for (o, c) in out.iter_mut() {
            let tagged = tags.values[op].contains(o);
            let labelled = labels.contains(o);
            match (tagged, labelled) {
                (true, true) => c.0 += 1,
                (true, false) => c.1 += 1,
                (false, true) => c.2 += 1,
                (false, false) => {}
            }
        }
    }
    out
}

fn ratio(a: usize, b: usize) -> f64 {
    if a + b == 0 {
        f64::NAN
    } else {
        a as f64 / (a + b) as f64
    }
}

#[test]
fn labels_use_only_declared_operations() {
    let set =
        TaxonomySet::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies/math.yaml")]).unwrap();
    let op = set.axes().iter().find(|a| a.name == "operation").unwrap();
    for f in ["gsm8k_test.jsonl", "written.jsonl", "heldout.jsonl"] {
        for (q, labels) in items(f) {
            for l in labels {
                assert!(op.values.contains(&l), "{f}: '{l}' is not an operation ({q})");
            }
        }
    }
}

#[test]
fn gsm8k_operation_rules_catch_the_usual_wordings() {
    let set =
        TaxonomySet::load(&[Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies/math.yaml")]).unwrap();
    let mut pooled: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for f in ["gsm8k_test.jsonl", "written.jsonl", "heldout.jsonl"] {
        let its = items(f);
        println!("{f} ({} items)", its.len());
        for (o, (tp, fp, fne)) in counts(&set, &its) {
            println!(
                "  {o:<22} positives {:>2}  tp {tp:>2} fp {fp:>2} fn {fne:>2}  precision {:.2}  recall {:.2}",
                tp + fne,
                ratio(tp, fp),
                ratio(tp, fne)
            );
            let e = pooled.entry(o).or_default();
            e.0 += tp;
            e.1 += fp;
            e.2 += fne;
        }
    }
    println!("pooled");
    let mut asserted = 0;
    for (o, min_p, min_r) in FLOORS {
        let (tp, fp, fne) = pooled[o];
        let (p, r) = (ratio(tp, fp), ratio(tp, fne));
        println!(
            "  {o:<22} positives {:>2}  precision {p:.2}  recall {r:.2}",
            tp + fne
        );
        if tp + fne < 5 {
            println!("    (fewer than 5 labelled items: reported, not asserted)");
            continue;
        }
        asserted += 1;
        assert!(p >= min_p, "{o}: precision {p:.2} < {min_p}");
        assert!(r >= min_r, "{o}: recall {r:.2} < {min_r}");
    }
    assert!(
        asserted >= 7,
        "only {asserted} operations have enough labelled items"
    );
}
