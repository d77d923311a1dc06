//! The plan stage on synthetic scenarios with planted effects, its
//! determinism, its schema, and its config errors.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::caploop;
use caploop::mapping::{DataTaxonomy, MappingRules};
use caploop::pipeline::{self, PipelineConfig};
use caploop::plan::{Kind, Plan};
use caploop::synth::{self, Scenario, SynthOptions, PLANTED_OPS};
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// synth -> the whole pipeline (to the plan) in `dir`.
fn pipeline_plan(dir: &Path, scenario: Scenario, items: usize, seed: u64, mapping: Option<PathBuf>) -> Plan {
    let planted = synth::generate(&SynthOptions {
        scenario,
        items,
        samples: 1,
        seed,
        out: dir.join("synth"),
        effect: None,
        after: false,
    })
    .unwrap();
    let mut cfg = PipelineConfig::new(
        vec![PathBuf::from(&planted.logs)],
        common::taxonomies(),
        &planted.baseline,
        &planted.candidate,
    );
    cfg.mapping = mapping;
    pipeline::run(&cfg, &dir.join("out")).unwrap().plan
}

fn shipped() -> (DataTaxonomy, MappingRules) {
    let data = DataTaxonomy::load(&repo("configs/data_taxonomy.yaml")).unwrap();
    let axes = caploop::shipped::known_axes().unwrap();
    let mapping = MappingRules::load(&repo("configs/mapping.yaml"), &data, &axes).unwrap();
    (data, mapping)
}

#[test]
fn ops_upweights_exactly_the_categories_the_rules_tie_to_the_planted_combination() {
    let (data, mapping) = shipped();
    let planted = format!("operation={} & operation={}", PLANTED_OPS[0], PLANTED_OPS[1]);
    let tied = mapping
        .map("math", &planted)
        .expect("the shipped rules map the planted slice");
    let want: BTreeSet<String> = tied
        .weights
        .keys()
        .flat_map(|c| data.leaves_under(c))
        .map(|l| data.leaves[l].path.clone())
        .collect();
    assert!(want.len() >= 3, "{want:?}");
    for seed in [7, 21] {
        let dir = tempfile::tempdir().unwrap();
        let plan = pipeline_plan(dir.path(), Scenario::Ops, 1200, seed, None);
        let ups: Vec<_> = plan
            .interventions
            .iter()
            .filter(|i| i.kind == Kind::DataUpweight)
            .collect();
        assert_eq!(
            ups[0].slice, planted,
            "seed {seed}: the planted slice comes first"
        );
        assert_eq!(ups[0].mapped.as_ref().unwrap().rules, tied.rules);
        let got: BTreeSet<String> = plan
            .mixture
            .categories
            .iter()
            .filter(|c| c.upweight > 0.0)
            .map(|c| c.category.clone())
            .collect();
        assert_eq!(got, want, "seed {seed}");
        for c in &plan.mixture.categories {
            if want.contains(&c.category) {
                assert!(c.new_share > c.base_share, "{} should grow", c.category);
            } else {
                assert!(
                    c.new_share < c.base_share,
                    "{} should shrink to make room",
                    c.category
                );
            }
        }
        assert!(plan.interventions.iter().all(|i| i.kind != Kind::TrainingFix));
        // The hypothesis targets the slice, predicts an improvement and guards the benchmark.
        let h = ups[0].hypothesis.as_ref().unwrap();
        assert_eq!(h.targets[0].slice, planted);
        assert!(h.targets[0].min_effect >= 0.1, "{}", h.targets[0].min_effect);
        assert!(h
            .guardrails
            .iter()
            .any(|g| g.benchmark == "math" && g.slice == "*"));
        let total: f64 = plan.mixture.categories.iter().map(|c| c.new_share).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }
}

#[test]
fn eos_is_a_training_fix_and_no_mixture_change() {
    let dir = tempfile::tempdir().unwrap();
    let plan = pipeline_plan(dir.path(), Scenario::Eos, 1200, 7, None);
    assert_eq!(plan.interventions.len(), 1, "{:#?}", plan.interventions);
    let i = &plan.interventions[0];
    assert_eq!(i.kind, Kind::TrainingFix);
    assert_eq!(i.training_fix.as_ref().unwrap().fix, "termination");
    assert!(!plan.mixture.changed);
    assert!(plan
        .mixture
        .categories
        .iter()
        .all(|c| c.new_share == c.base_share));
    let h = i.hypothesis.as_ref().unwrap();
    assert_eq!(
        (h.targets[0].benchmark.as_str(), h.targets[0].slice.as_str()),
        ("bbh", "*")
    );
}

#[test]
fn a_weak_slice_no_rule_maps_is_listed_as_unmapped() {
    let dir = tempfile::tempdir().unwrap();
    let only_bbh = dir.path().join("mapping.yaml");
    std::fs::write(
        &only_bbh,
        "name: bbh-only\nrules:\n  - id: m.bbh\n    when: { benchmark: bbh }\n    then: [ { category: books, weight: 1.0 } ]\n    rationale: everything bbh to books\n",
    )
    .unwrap();
    let plan = pipeline_plan(dir.path(), Scenario::Ops, 1200, 7, Some(only_bbh));
    let planted = format!("operation={} & operation={}", PLANTED_OPS[0], PLANTED_OPS[1]);
    assert!(plan
        .unmapped
        .iter()
        .any(|u| u.slice == planted && u.benchmark == "math"));
    assert!(plan.interventions.iter().all(|i| i.kind != Kind::DataUpweight));
    assert!(!plan.mixture.changed);
}

#[test]
fn same_inputs_give_a_byte_identical_plan_with_hashed_inputs() {
    let dir = tempfile::tempdir().unwrap();
    pipeline_plan(dir.path(), Scenario::Demo, 600, 3, None);
    let evidence = dir.path().join("out/evidence.json");
    let mut outputs = Vec::new();
    for k in 0..2 {
        let out = dir.path().join(format!("plan{k}"));
        caploop()
            .args(["plan", "--evidence"])
            .arg(&evidence)
            .arg("--data-taxonomy")
            .arg(repo("configs/data_taxonomy.yaml"))
            .arg("--mapping")
            .arg(repo("configs/mapping.yaml"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        outputs.push((
            std::fs::read(out.join("plan.json")).unwrap(),
            std::fs::read(out.join("plan.md")).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1]);
    let plan: Value = serde_json::from_slice(&outputs[0].0).unwrap();
    use sha2::Digest;
    for f in plan["inputs"].as_array().unwrap() {
        let path = f["path"].as_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(
            f["sha256"].as_str().unwrap(),
            hex::encode(sha2::Sha256::digest(&bytes)),
            "{path}"
        );
    }
    let roles: Vec<&str> = plan["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["evidence", "data_taxonomy", "mapping"]);
}

/// A JSON Schema subset validator (the keywords schemas/plan.schema.json uses).
fn validate(schema: &Value, root: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/$defs/").expect("local refs only");
        return validate(&root["$defs"][name], root, v, at, errs);
    }
    let type_ok = |t: &str| match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("type {other}"),
    };
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(t) => errs.push(format!("{at}: not {t}: {v}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(t.as_str().unwrap())) => {
            errs.push(format!("{at}: none of {ts:?}: {v}"))
        }
        _ => {}
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            errs.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if x < min {
            errs.push(format!("{at}: {x} < {min}"));
        }
    }
    if let (Some(max), Some(x)) = (schema.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if x > max {
            errs.push(format!("{at}: {x} > {max}"));
        }
    }
    if let (Some(p), Some(s)) = (schema.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !regex::Regex::new(p).unwrap().is_match(s) {
            errs.push(format!("{at}: {s} does not match {p}"));
        }
    }
    if let Some(obj) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                errs.push(format!("{at}: missing {r}"));
            }
        }
        for (k, x) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(s, root, x, &format!("{at}.{k}"), errs),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errs.push(format!("{at}: unexpected {k}")),
                    Some(s @ Value::Object(_)) => validate(s, root, x, &format!("{at}.{k}"), errs),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, root, x, &format!("{at}[{i}]"), errs);
        }
    }
}

#[test]
fn plan_json_follows_the_documented_schema() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo("schemas/plan.schema.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The demo scenario has every kind of intervention but an unmapped slice.
    pipeline_plan(dir.path(), Scenario::Demo, 1200, 7, None);
    let plan: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/plan.json")).unwrap()).unwrap();
    let kinds: BTreeSet<&str> = plan["interventions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("training_fix") && kinds.contains("data_upweight") && kinds.contains("data_patch")
    );
    let mut errs = Vec::new();
    validate(&schema, &schema, &plan, "plan", &mut errs);
    assert!(errs.is_empty(), "{errs:#?}");
    // The validator is not vacuous: a wrong kind and an extra key are caught.
    let mut bad = plan.clone();
    bad["interventions"][0]["kind"] = Value::from("data_magic");
    bad["mixture"]["extra"] = Value::from(1);
    let mut errs = Vec::new();
    validate(&schema, &schema, &bad, "plan", &mut errs);
    assert_eq!(errs.len(), 2, "{errs:#?}");
}

/// Write `text` to `path`, run `caploop check` on it, and assert exit code 2
/// with every wanted `line:col: message` fragment on stderr.
fn assert_check_errors(path: &Path, text: &str, wants: &[&str]) {
    std::fs::write(path, text).unwrap();
    let out = caploop()
        .arg("check")
        .arg(path)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    for want in wants {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
}

#[test]
fn config_mistakes_are_all_reported_with_their_locations() {
    let dir = tempfile::tempdir().unwrap();
    assert_check_errors(
        &dir.path().join("data.yaml"),
        "name: d\nbudget_tokens: -5\ncategories:\n  - id: web\n    share: 0.5\n    children:\n      - { id: a, share: 0.2, tokens: 1e9 }\n      - { id: a, share: 1.2 }\n",
        &[
            ":2:16: budget_tokens must be a positive number",
            ":4:3: the leaf shares of the base mixture sum to 1.400000, not 1",
            ":5:12: 'web' has children",
            ":8:15: duplicate category 'a' under 'web'",
            ":8:15: leaf category 'web/a' needs `tokens`",
            ":8:25: share of 'web/a' must be between 0 and 1, found 1.2",
        ],
    );
    assert_check_errors(
        &dir.path().join("mapping.yaml"),
        "name: bad\nrules:\n  - id: r1\n    when: { operation: [modular, counting], colour: red }\n    then:\n      - { category: math/competiton, weight: 0.5 }\n      - { category: web/math, weight: 1.5 }\n    rationale: because\n  - id: r1\n    when: { benchmark: math }\n    then: [ { category: web, weight: 0.0 } ]\n    rationale: ok\n",
        &[
            ":4:24: unknown axis value 'modular' for axis operation; did you mean 'modular_arithmetic'?",
            ":4:53: unknown axis 'colour'",
            ":6:7: the weights of rule 'r1' sum to 2",
            ":6:21: unknown data category 'math/competiton'",
            "did you mean 'math/competition'?",
            ":7:39: weight of 'web/math' must be in (0, 1], found 1.5",
            ":9:9: duplicate rule id 'r1'",
            ":11:38: weight of 'web' must be in (0, 1], found 0",
        ],
    );
}

#[test]
fn everything_shipped_passes_check() {
    caploop()
        .arg("check")
        .arg(repo("configs"))
        .arg(repo("taxonomies"))
        .assert()
        .success();
}

#[test]
fn the_shipped_diagnosis_rules_are_the_defaults() {
    #[derive(serde::Deserialize)]
    struct S {
        diagnose: caploop::diagnose::DiagnoseSettings,
    }
    let s: S = caploop::config::load_yaml(&repo("configs/diagnosis.yaml")).unwrap();
    assert_eq!(s.diagnose.rules, caploop::diagnose::rules::default_rules());
}
