//! Imported labels (`caploop tag --labels/--adjudicated`, `caploop labels
//! export`) on the hand-written fixtures of `tests/fixtures/labels/` (see its
//! README): a two-labeler round trip, agreement and Cohen's kappa against
//! scikit-learn, the disagreement file, the adjudicated file taking
//! precedence, located errors (exit 2, nothing written), Parquet labels, and
//! export -> import.
//!
//! Reference kappas, computed once (scikit-learn 1.5.2, python 3):
//!
//! ```python
//! import json, csv
//! from sklearn.metrics import cohen_kappa_score
//! d = 'tests/fixtures/labels/'
//! a = {r['item_id']: r for r in map(json.loads, open(d + 'model-a.jsonl'))}
//! b = {r['doc_hash']: r for r in csv.DictReader(open(d + 'model-b.csv'))}
//! both = sorted(set(a) & set(b))
//! print(cohen_kappa_score([a[i]['task_type'] for i in both], [b[i]['task_type'] for i in both]))
//! # 0.41176470588235303
//! print(cohen_kappa_score([str(a[i]['parametric_need']) for i in both], [b[i]['parametric_need'] for i in both]))
//! # 0.8245614035087719
//! ops = "fact_recall concept_alignment span_extraction evidence_aggregation compare_or_rank option_elimination multi_hop_composition causal_inference temporal_reasoning counting arithmetic_computation equation_formulation symbolic_transformation constraint_tracking physical_state_simulation social_script_simulation algorithm_design code_execution_simulation boundary_case_reasoning".split()
//! print(cohen_kappa_score([v in a[i]['operation'] for i in both for v in ops],
//!                         [v in b[i]['operation'].split(';') for i in both for v in ops]))
//! # 0.8715637674628212  (presence kappa: item x declared value, pooled)
//! ```

use std::collections::BTreeMap;

use predicates::str::contains;
use serde_json::Value;

use crate::common::caploop;
use crate::common::labelled::{fixture, item_tags, json, repo, samples, tag};

fn os<P: AsRef<std::ffi::OsStr> + ?Sized>(p: &P) -> &std::ffi::OsStr {
    p.as_ref()
}

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

fn labels(p: &str) -> Vec<String> {
    p.split(',').map(|s| format!("label:{s}")).collect()
}

fn has_labels(rules: &[String], want: &[String]) -> bool {
    let got: Vec<&String> = rules.iter().filter(|r| r.starts_with("label:")).collect();
    got.len() == want.len() && want.iter().all(|w| got.contains(&w))
}

#[test]
fn two_labelers_round_trip_with_agreement_and_disagreements() {
    let tmp = tempfile::tempdir().unwrap();
    let s = samples(tmp.path());
    let plain = tmp.path().join("plain.parquet");
    tag(&s, &plain, &[]).success();
    let out = tmp.path().join("t.parquet");
    tag(
        &s,
        &out,
        &[
            os("--labels"),
            os(&fixture("model-a.jsonl")),
            os(&fixture("model-b.csv")),
        ],
    )
    .success()
    .stdout(contains(
        "agreement task_type (model-a vs model-b): 8 of 10 items agree",
    ));
    let rules_only = item_tags(&plain);
    let got = item_tags(&out);
    assert_eq!(got.len(), 12);

    // Agreed (both labelers, same values): applied, with both as provenance.
    let (i01, r01) = &got["i01"];
    assert_eq!(i01["task_type"], v(&["arithmetic_word_problem"]));
    assert_eq!(i01["operation"], v(&["arithmetic_computation"]));
    assert_eq!(i01["parametric_need"], v(&["0"]));
    assert!(has_labels(r01, &labels("model-a,model-b")), "{r01:?}");
    // i02: operation agreed as a set, written in another order by model-b.
    assert_eq!(
        got["i02"].0["operation"],
        v(&["arithmetic_computation", "equation_formulation"])
    );
    // One labeler only (i11): its labels, its provenance.
    let (i11, r11) = &got["i11"];
    assert_eq!(
        i11["operation"],
        v(&["arithmetic_computation", "equation_formulation"])
    );
    assert!(has_labels(r11, &labels("model-a")), "{r11:?}");
    // Open disagreements keep the rule-derived values of their axis.
    for (item, axis) in [
        ("i02", "parametric_need"),
        ("i03", "operation"),
        ("i06", "operation"),
        ("i08", "task_type"),
        ("i10", "task_type"),
    ] {
        assert_eq!(got[item].0[axis], rules_only[item].0[axis], "{item} {axis}");
    }
    assert_eq!(got["i02"].0["parametric_need"], v(&["unknown"]));
    // i08 and i10 agree on operation, so that axis is applied.
    assert_eq!(got["i10"].0["operation"], v(&["symbolic_transformation"]));
    // Unlabelled item: exactly the rule-derived tags.
    assert_eq!(got["i12"], rules_only["i12"]);
    // Axes nobody labelled keep the rules' values on labelled items.
    assert_eq!(got["i01"].0["scoring_rule"], rules_only["i01"].0["scoring_rule"]);
    assert_eq!(got["i01"].0["scoring_rule"], v(&["normalized_text_match"]));

    let report = json(&tmp.path().join("t.labels.json"));
    assert_eq!(report["labelers"], serde_json::json!(["model-a", "model-b"]));
    assert_eq!(report["items_labelled"], 11);
    assert_eq!(report["disagreements"], 5);
    assert_eq!(report["disagreements_open"], 5);
    let agreement: BTreeMap<String, &Value> = report["agreement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["axis"].as_str().unwrap().to_string(), a))
        .collect();
    // (share, kappa from scikit-learn (module docs), mode, units)
    let want = [
        ("task_type", 0.8, 0.41176470588235303, "nominal", 10),
        ("parametric_need", 0.9, 0.8245614035087719, "nominal", 10),
        ("operation", 0.8, 0.8715637674628212, "presence", 190),
    ];
    for (axis, share, kappa, mode, units) in want {
        let a = agreement[axis];
        assert_eq!(a["items"], 10, "{axis}");
        assert!((a["share"].as_f64().unwrap() - share).abs() < 1e-12, "{axis}");
        assert!(
            (a["kappa"].as_f64().unwrap() - kappa).abs() < 1e-12,
            "{axis}: {}",
            a["kappa"]
        );
        assert_eq!(a["kappa_mode"], mode);
        assert_eq!(a["units"], units);
    }

    let lines: Vec<Value> = std::fs::read_to_string(tmp.path().join("t.disagreements.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["item_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["i02", "i03", "i06", "i08", "i10"]);
    assert_eq!(
        lines[1]["candidates"]["operation"]["model-b"],
        serde_json::json!(["arithmetic_computation", "counting"])
    );
    assert_eq!(
        lines[1]["text"]["question"],
        "How many ways can 3 books be chosen from a shelf of 5?"
    );
    assert!(lines
        .iter()
        .all(|l| l["status"] == "open" && l["labeler"].is_null()));

    // A person fills the disagreement file in (model-a's values, here) and
    // passes it back: it takes precedence and nothing stays open.
    let filled: String = lines
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l["labeler"] = "person".into();
            for (axis, by) in l["candidates"].clone().as_object().unwrap() {
                l[axis] = by["model-a"].clone();
            }
            format!("{l}\n")
        })
        .collect();
    let person = tmp.path().join("person.jsonl");
    std::fs::write(&person, filled).unwrap();
    let out2 = tmp.path().join("t2.parquet");
    tag(
        &s,
        &out2,
        &[
            os("--labels"),
            os(&fixture("model-a.jsonl")),
            os(&fixture("model-b.csv")),
            os("--adjudicated"),
            os(&person),
        ],
    )
    .success();
    let got2 = item_tags(&out2);
    assert_eq!(got2["i06"].0["operation"], v(&["temporal_reasoning"]));
    assert_eq!(got2["i10"].0["task_type"], v(&["formal_math_problem_solving"]));
    assert_eq!(got2["i02"].0["parametric_need"], v(&["0"]));
    assert!(got2["i06"].1.contains(&"label:person".to_string()));
    let report2 = json(&tmp.path().join("t2.labels.json"));
    assert_eq!(report2["disagreements_open"], 0);
    assert_eq!(report2["adjudicators"], serde_json::json!(["person"]));
    // Agreement is the labelers', whatever the adjudication.
    assert_eq!(report2["agreement"], report["agreement"]);
}

#[test]
fn the_adjudicated_file_wins_over_labels_and_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let s = samples(tmp.path());
    let out = tmp.path().join("t.parquet");
    tag(
        &s,
        &out,
        &[
            os("--labels"),
            os(&fixture("model-a.jsonl")),
            os(&fixture("model-b.csv")),
            os("--adjudicated"),
            os(&fixture("adjudicated.jsonl")),
        ],
    )
    .success();
    let got = item_tags(&out);
    // i08: labelers disagree on task_type; the person's value.
    assert_eq!(got["i08"].0["task_type"], v(&["arithmetic_word_problem"]));
    // i03: labelers disagree on operation; the person's value.
    assert_eq!(got["i03"].0["operation"], v(&["counting"]));
    // i01: labelers agree on [arithmetic_computation]; the person's wins.
    assert_eq!(
        got["i01"].0["operation"],
        v(&["arithmetic_computation", "equation_formulation"])
    );
    assert!(got["i01"].1.contains(&"label:person".to_string()));
    // Other axes of adjudicated items keep the labelers' agreed values.
    assert_eq!(got["i01"].0["task_type"], v(&["arithmetic_word_problem"]));
    let report = json(&tmp.path().join("t.labels.json"));
    assert_eq!(report["disagreements"], 5);
    assert_eq!(report["disagreements_open"], 3, "i02, i06, i10 remain");
    let lines = std::fs::read_to_string(tmp.path().join("t.disagreements.jsonl")).unwrap();
    let status: BTreeMap<String, String> = lines
        .lines()
        .map(|l| {
            let l: Value = serde_json::from_str(l).unwrap();
            (
                l["item_id"].as_str().unwrap().into(),
                l["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(status["i03"], "adjudicated");
    assert_eq!(status["i08"], "adjudicated");
    assert_eq!(status["i06"], "open");
    // Same inputs, same outputs, byte for byte.
    let again = tmp.path().join("u.parquet");
    tag(
        &s,
        &again,
        &[
            os("--labels"),
            os(&fixture("model-a.jsonl")),
            os(&fixture("model-b.csv")),
            os("--adjudicated"),
            os(&fixture("adjudicated.jsonl")),
        ],
    )
    .success();
    for ext in ["labels.json", "disagreements.jsonl", "parquet"] {
        assert_eq!(
            std::fs::read(tmp.path().join(format!("t.{ext}"))).unwrap(),
            std::fs::read(tmp.path().join(format!("u.{ext}"))).unwrap(),
            "{ext}"
        );
    }
}

#[test]
fn bad_labels_are_located_errors_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let s = samples(tmp.path());
    let ok = r#"{"benchmark": "gsm8k", "item_id": "i01", "labeler": "x", "operation": ["counting"]}"#;
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "value.jsonl",
            r#"{"benchmark": "gsm8k", "item_id": "i02", "labeler": "x", "operation": ["counting", "modular"]}"#,
            &[
                "value.jsonl:2: field 'operation': unknown axis value 'modular' for axis operation",
                "known values: fact_recall",
            ],
        ),
        (
            "axis.jsonl",
            r#"{"benchmark": "gsm8k", "item_id": "i02", "labeler": "x", "operatoin": "counting"}"#,
            &["axis.jsonl:2: field 'operatoin': unknown axis 'operatoin'; did you mean 'operation'?"],
        ),
        (
            "item.jsonl",
            r#"{"benchmark": "gsm8k", "item_id": "i99", "labeler": "x"}"#,
            &["item.jsonl:2: field 'item_id': unknown item 'i99' of benchmark 'gsm8k'"],
        ),
        (
            "json.jsonl",
            r#"{"benchmark": "gsm8k", "#,
            &["json.jsonl:2: not a JSON object"],
        ),
        (
            "who.jsonl",
            r#"{"benchmark": "gsm8k", "item_id": "i02", "operation": "counting"}"#,
            &["who.jsonl:2: field 'labeler': missing"],
        ),
        (
            "twice.jsonl",
            ok,
            &["twice.jsonl:2: labeler 'x' labels item 'i01' of benchmark 'gsm8k' again (first at"],
        ),
        (
            "fine.jsonl",
            r#"{"benchmark": "gsm8k", "item_id": "i02", "labeler": "x", "operation": "modular_arithmetic"}"#,
            &["unknown axis value 'modular_arithmetic' for axis operation"],
        ),
    ];
    for (name, second, messages) in cases {
        let f = tmp.path().join(name);
        std::fs::write(&f, format!("{ok}\n{second}\n")).unwrap();
        let out = tmp.path().join("bad.parquet");
        let mut a = tag(&s, &out, &[os("--labels"), os(&f)]).code(2);
        for m in *messages {
            a = a.stderr(contains(*m));
        }
        assert!(
            !out.exists() && !tmp.path().join("bad.labels.json").exists(),
            "{name}: wrote output"
        );
    }
    // Every error of a file at once.
    let f = tmp.path().join("many.jsonl");
    std::fs::write(
        &f,
        "{\"benchmark\": \"gsm8k\", \"item_id\": \"i98\", \"labeler\": \"x\"}\n{\"benchmark\": \"gsm8k\", \"item_id\": \"i01\", \"labeler\": \"x\", \"task_type\": \"essay\"}\n",
    )
    .unwrap();
    tag(&s, &tmp.path().join("bad.parquet"), &[os("--labels"), os(&f)])
        .code(2)
        .stderr(contains("many.jsonl:1: field 'item_id': unknown item 'i98'"))
        .stderr(contains(
            "many.jsonl:2: field 'task_type': unknown axis value 'essay'",
        ));
    // Not a label format; a missing file.
    let f = tmp.path().join("labels.txt");
    std::fs::write(&f, ok).unwrap();
    tag(&s, &tmp.path().join("bad.parquet"), &[os("--labels"), os(&f)])
        .code(2)
        .stderr(contains(
            "labels.txt: label files must be .jsonl, .csv or .parquet",
        ));
    tag(
        &s,
        &tmp.path().join("bad.parquet"),
        &[os("--labels"), os(&tmp.path().join("none.jsonl"))],
    )
    .code(2)
    .stderr(contains("none.jsonl"));
    // CSV: the line of the record.
    let f = tmp.path().join("b.csv");
    std::fs::write(
        &f,
        "benchmark,item_id,labeler,operation\ngsm8k,i01,x,counting\ngsm8k,i02,x,counting;modular\n",
    )
    .unwrap();
    tag(&s, &tmp.path().join("bad.parquet"), &[os("--labels"), os(&f)])
        .code(2)
        .stderr(contains(
            "b.csv:3: field 'operation': unknown axis value 'modular'",
        ));
    // Without a vocabulary the finer axes are the declared ones.
    let f = tmp.path().join("fine.jsonl");
    std::fs::write(
        &f,
        r#"{"benchmark": "gsm8k", "item_id": "i01", "labeler": "x", "operation": "modular_arithmetic"}"#,
    )
    .unwrap();
    let out = tmp.path().join("fine.parquet");
    caploop()
        .arg("tag")
        .arg("--samples")
        .arg(&s)
        .arg("--taxonomy")
        .arg(repo("taxonomies/math.yaml"))
        .arg("--labels")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(item_tags(&out)["i01"].0["operation"], v(&["modular_arithmetic"]));
}

#[test]
fn parquet_labels_read_like_jsonl() {
    use polars::prelude::*;
    let tmp = tempfile::tempdir().unwrap();
    let s = samples(tmp.path());
    // model-a.jsonl as Parquet: operation a list column, parametric_need integers.
    let recs: Vec<Value> = std::fs::read_to_string(fixture("model-a.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let col = |k: &str| -> Vec<String> { recs.iter().map(|r| r[k].as_str().unwrap().to_string()).collect() };
    let ops: Vec<Series> = recs
        .iter()
        .map(|r| {
            let o: Vec<&str> = r["operation"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect();
            Series::new("".into(), o)
        })
        .collect();
    let need: Vec<i64> = recs
        .iter()
        .map(|r| r["parametric_need"].as_i64().unwrap())
        .collect();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("benchmark".into(), col("benchmark")),
        Column::new("item_id".into(), col("item_id")),
        Column::new("labeler".into(), col("labeler")),
        Column::new("task_type".into(), col("task_type")),
        Column::new("operation".into(), ops),
        Column::new("parametric_need".into(), need),
    ])
    .unwrap();
    let pq = tmp.path().join("model-a.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let (o1, o2) = (tmp.path().join("j.parquet"), tmp.path().join("p.parquet"));
    tag(
        &s,
        &o1,
        &[
            os("--labels"),
            os(&fixture("model-a.jsonl")),
            os(&fixture("model-b.csv")),
        ],
    )
    .success();
    tag(&s, &o2, &[os("--labels"), os(&pq), os(&fixture("model-b.csv"))]).success();
    assert_eq!(item_tags(&o1), item_tags(&o2));
    assert_eq!(
        json(&tmp.path().join("j.labels.json"))["agreement"],
        json(&tmp.path().join("p.labels.json"))["agreement"]
    );
}

#[test]
fn export_writes_items_schema_and_instruction_that_import_back() {
    let tmp = tempfile::tempdir().unwrap();
    let s = samples(tmp.path());
    let dir = tmp.path().join("export");
    caploop()
        .args(["labels", "export", "--samples"])
        .arg(&s)
        .arg("--vocabulary")
        .arg(repo("taxonomies/paper/mapping.yaml"))
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    let items: Vec<Value> = std::fs::read_to_string(dir.join("items.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 12 items in two runs: each once, sorted by id, with its own text.
    let ids: Vec<&str> = items.iter().map(|i| i["item_id"].as_str().unwrap()).collect();
    assert_eq!(ids, (1..=12).map(|i| format!("i{i:02}")).collect::<Vec<_>>());
    assert_eq!(
        items[0]["text"]["question"],
        "A baker makes 24 rolls and sells 15. How many rolls are left?"
    );
    let schema = json(&dir.join("schema.json"));
    assert_eq!(schema["properties"]["operation"]["type"], "array");
    assert_eq!(
        schema["properties"]["operation"]["items"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        19
    );
    assert_eq!(
        schema["properties"]["task_type"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert_eq!(
        schema["required"],
        serde_json::json!(["benchmark", "item_id", "labeler"])
    );
    let text = std::fs::read_to_string(dir.join("instructions.txt")).unwrap();
    for needle in [
        "minimal sufficient solving path",
        "operation (one or more values (a list)): fact_recall,",
        "task_type (exactly one value): factual_qa,",
        "background:\n  language (exactly one value): zh, en, mixed, code_mixed",
        "output_constraint:",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    // An LLM's answer in that format imports: every item labelled.
    let answer: String = items
        .iter()
        .map(|i| {
            format!(
                "{}\n",
                serde_json::json!({"benchmark": i["benchmark"], "item_id": i["item_id"], "labeler": "llm",
                                   "task_type": "arithmetic_word_problem", "operation": ["arithmetic_computation"],
                                   "language": "en", "format_rigidity": 2})
            )
        })
        .collect();
    let f = tmp.path().join("llm.jsonl");
    std::fs::write(&f, answer).unwrap();
    let out = tmp.path().join("t.parquet");
    tag(&s, &out, &[os("--labels"), os(&f)]).success();
    let got = item_tags(&out);
    assert!(got
        .values()
        .all(|(a, r)| a["format_rigidity"] == v(&["2"]) && r.contains(&"label:llm".to_string())));
    // Export needs a label space.
    caploop()
        .args(["labels", "export", "--samples"])
        .arg(&s)
        .arg("--out")
        .arg(tmp.path().join("x"))
        .assert()
        .code(2)
        .stderr(contains("give the label space"));
}
