//! The paper's label space (`taxonomies/paper/paper.yaml`) and the map from
//! every finer shipped value into it (`taxonomies/paper/mapping.yaml`): the
//! label space is exactly PAPER.md section 1, the map is total over every
//! shipped taxonomy and names only declared values, `caploop check`
//! validates it (and rejects a broken one with located errors), and every
//! shipped family gets paper labels on the hand-checked items of
//! `tests/fixtures/tags/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use caploop::taxonomy::{ItemRef, TaxonomySet, UNKNOWN_VALUE};
use caploop::vocabulary::Vocabulary;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn vocabulary() -> Vocabulary {
    Vocabulary::load(&repo("taxonomies/paper/mapping.yaml")).unwrap()
}

fn shipped() -> TaxonomySet {
    let paths: Vec<PathBuf> = caploop::shipped::TAXONOMIES
        .iter()
        .map(|(n, _)| repo("taxonomies").join(n))
        .collect();
    TaxonomySet::load(&paths).unwrap()
}

/// PAPER.md section 1, copied list by list.
fn paper_space() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let v = |s: &'static str| s.split(", ").collect::<Vec<_>>();
    vec![
        ("background", "language", v("zh, en, mixed, code_mixed")),
        ("background", "parametric_need", v("0, 1, 2, 3")),
        ("background", "contextual_need", v("0, 1, 2, 3")),
        ("background", "context_scope", v("standalone, local_span, multi_sentence, whole_passage, cross_option")),
        (
            "background",
            "discourse_form",
            v("standalone_question, dialogue, narrative, expository, report_news, list_or_table, code_spec"),
        ),
        ("background", "ambiguity_noise", v("low, medium, high")),
        (
            "task_type",
            "task_type",
            v("factual_qa, concept_discrimination, passage_understanding_qa, commonsense_plausibility_judgment, next_event_or_next_step_prediction, logical_reasoning, arithmetic_word_problem, formal_math_problem_solving, code_generation_from_spec, code_comprehension_or_debugging, information_extraction_or_transformation"),
        ),
        (
            "operation",
            "operation",
            v("fact_recall, concept_alignment, span_extraction, evidence_aggregation, compare_or_rank, option_elimination, multi_hop_composition, causal_inference, temporal_reasoning, counting, arithmetic_computation, equation_formulation, symbolic_transformation, constraint_tracking, physical_state_simulation, social_script_simulation, algorithm_design, code_execution_simulation, boundary_case_reasoning"),
        ),
        (
            "output_constraint",
            "answer_form",
            v("mcq_single, mcq_multi, extractive_span, generated_text, exact_numeric, math_expression, code, boolean"),
        ),
        ("output_constraint", "answer_space", v("closed_set, semi_open, open")),
        (
            "output_constraint",
            "scoring_rule",
            v("option_match, exact_match, normalized_text_match, semantic_equivalence, numeric_equivalence, unit_test_pass"),
        ),
        ("output_constraint", "format_rigidity", v("0, 1, 2, 3")),
        ("output_constraint", "exactness", v("0, 1, 2, 3")),
        ("output_constraint", "explanation_required", v("no, optional, yes")),
    ]
}

#[test]
fn the_label_space_is_the_papers() {
    let v = vocabulary();
    let axes: BTreeMap<&str, &Vec<String>> = v
        .target
        .axes()
        .iter()
        .map(|a| (a.name.as_str(), &a.values))
        .collect();
    for (_, axis, values) in paper_space() {
        let got: Vec<&str> = axes[axis].iter().map(String::as_str).collect();
        assert_eq!(got, values, "axis {axis}");
    }
    // The paper's counts: 19 operations, 11 task types.
    assert_eq!(axes["operation"].len(), 19);
    assert_eq!(axes["task_type"].len(), 11);
    // domain: the discipline vocabulary, with the paper's examples.
    for d in ["mathematics", "physics", "law", "history", "finance"] {
        assert!(axes["domain"].iter().any(|x| x == d), "domain {d}");
    }
    // Exactly these 15 sub-attributes, in four groups, each axis once.
    assert_eq!(
        axes.len(),
        paper_space().len() + 1,
        "the paper's sub-attributes plus domain"
    );
    let mut groups: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (g, a, _) in paper_space() {
        groups.entry(g).or_default().insert(a);
    }
    groups.get_mut("background").unwrap().insert("domain");
    let got: BTreeMap<&str, BTreeSet<&str>> = v
        .groups
        .iter()
        .map(|(g, m)| (g.as_str(), m.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(got, groups);
    assert_eq!(v.multi_label, BTreeSet::from(["operation".to_string()]));
}

#[test]
fn the_map_is_total_over_every_shipped_value_and_names_only_paper_labels() {
    let v = vocabulary();
    let known = caploop::shipped::known_axes().unwrap();
    v.check_total(&known, true).unwrap();
    let paper: BTreeMap<String, BTreeSet<String>> = v
        .target
        .axes()
        .iter()
        .map(|a| (a.name.clone(), a.values.iter().cloned().collect()))
        .collect();
    let mut mapped = 0;
    let mut none = Vec::new();
    for (axis, values) in &known {
        for value in values.iter().filter(|x| *x != UNKNOWN_VALUE) {
            let to = v
                .lookup(axis, value)
                .unwrap_or_else(|| panic!("{axis}={value} has no entry"));
            for (a, x) in &to {
                assert!(
                    paper[a].contains(x),
                    "{axis}={value} -> {a}={x} is not a paper label"
                );
            }
            if to.is_empty() {
                none.push(format!("{axis}={value}"));
            }
            mapped += 1;
        }
    }
    // 53 + 10 + 69 + 42 + 7 + 19 + 57 + 16 + 3 + 2 values in the shipped files
    // (python3 -c over taxonomies/*.yaml: sum of distinct values per axis).
    assert!(mapped >= 278, "{mapped}");
    // Every operation and every task type maps to something.
    assert!(none.iter().all(|n| !n.starts_with("operation=")), "{none:?}");
}

fn examples() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo("tests/fixtures/tags"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            out.push((
                v["benchmark"].as_str().unwrap().to_string(),
                v["task"].as_str().unwrap().to_string(),
                v["doc"].to_string(),
            ));
        }
    }
    out
}

#[test]
fn every_shipped_family_gets_paper_labels() {
    let v = vocabulary();
    let fine = shipped();
    let ex = examples();
    let refs: Vec<ItemRef<'_>> = ex
        .iter()
        .map(|(b, t, m)| ItemRef {
            benchmark: b,
            task: t,
            prompt: None,
            target: None,
            meta: m,
        })
        .collect();
    let tagged = v.tag_all(&fine, &refs);
    let fine_tags = fine.tag_all(&refs);
    let ix = |name: &str| v.target.axes().iter().position(|a| a.name == name).unwrap();
    let families: BTreeSet<&str> = ex.iter().map(|(b, _, _)| b.as_str()).collect();
    assert!(families.len() >= 15, "{families:?}");
    for (((b, t, _), tags), f) in ex.iter().zip(&tagged).zip(&fine_tags) {
        let known = |axis: &str| tags.values[ix(axis)] != [UNKNOWN_VALUE];
        for axis in [
            "language",
            "answer_form",
            "answer_space",
            "context_scope",
            "discourse_form",
        ] {
            assert!(known(axis), "{b}/{t}: {axis} unknown");
        }
        // IFEval fits none of the 11 task types nor the six scoring rules.
        if b != "ifeval" {
            for axis in ["task_type", "scoring_rule", "explanation_required"] {
                assert!(known(axis), "{b}/{t}: {axis} unknown");
            }
        }
        // An item with a finer operation has a paper operation.
        let fop = fine.axes().iter().position(|a| a.name == "operation").unwrap();
        if f.values[fop] != [UNKNOWN_VALUE] {
            assert!(known("operation"), "{b}/{t}: operation unknown");
        }
        // Where the finer taxonomies know a domain, the paper's is known.
        if let Some(fd) = fine.axes().iter().position(|a| a.name == "domain") {
            if f.values[fd] != [UNKNOWN_VALUE] {
                assert!(known("domain"), "{b}/{t}: domain unknown");
            }
        }
    }
}

/// Hand-read from mapping.yaml and paper.yaml for the first item of three
/// families of tests/fixtures/tags (their finer tags are in the fixture's
/// `expect`).
#[test]
fn hand_checked_items_read_the_same_in_the_paper_vocabulary() {
    let v = vocabulary();
    let fine = shipped();
    let ex = examples();
    let first = |bench: &str| ex.iter().find(|(b, _, _)| b == bench).unwrap();
    let check = |bench: &str, expect: &[(&str, &[&str])]| {
        let (b, t, m) = first(bench);
        let item = ItemRef {
            benchmark: b,
            task: t,
            prompt: None,
            target: None,
            meta: m,
        };
        let tags = &v.tag_all(&fine, &[item])[0];
        for (axis, want) in expect {
            let a = v.target.axes().iter().position(|x| x.name == *axis).unwrap();
            assert_eq!(tags.values[a], want.to_vec(), "{bench}: {axis}");
        }
    };
    // gsm8k Janet's ducks: finer operation [arithmetic, rates] ->
    // arithmetic_computation + (equation_formulation, arithmetic_computation);
    // output_constraint integer -> exact_numeric, semi_open; gsm8k's
    // normalising exact match; background everyday_quantities -> mathematics.
    check(
        "gsm8k",
        &[
            ("language", &["en"]),
            ("domain", &["mathematics"]),
            ("task_type", &["arithmetic_word_problem"]),
            ("operation", &["arithmetic_computation", "equation_formulation"]),
            ("answer_form", &["exact_numeric"]),
            ("answer_space", &["semi_open"]),
            ("scoring_rule", &["normalized_text_match"]),
            ("explanation_required", &["optional"]),
        ],
    );
    // mmlu_abstract_algebra: loglikelihood over four options.
    check(
        "mmlu",
        &[
            ("domain", &["mathematics"]),
            ("task_type", &["factual_qa"]),
            ("operation", &["arithmetic_computation", "fact_recall"]),
            ("answer_form", &["mcq_single"]),
            ("answer_space", &["closed_set"]),
            ("scoring_rule", &["option_match"]),
            ("explanation_required", &["no"]),
        ],
    );
    // HumanEval/0: a function from its docstring, run against unit tests.
    check(
        "humaneval",
        &[
            ("language", &["code_mixed"]),
            ("domain", &["computer_science"]),
            ("task_type", &["code_generation_from_spec"]),
            ("answer_form", &["code"]),
            ("scoring_rule", &["unit_test_pass"]),
            ("discourse_form", &["code_spec"]),
        ],
    );
}

fn caploop() -> Command {
    Command::cargo_bin("caploop").unwrap()
}

#[test]
fn check_validates_the_shipped_mapping_and_locates_errors_in_a_broken_one() {
    caploop()
        .arg("check")
        .arg(repo("taxonomies/paper/mapping.yaml"))
        .assert()
        .success()
        .stdout(predicates::str::contains("ok"));
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(repo("taxonomies/paper/paper.yaml"), tmp.path().join("paper.yaml")).unwrap();
    let text = std::fs::read_to_string(repo("taxonomies/paper/mapping.yaml")).unwrap();
    // An undeclared paper value, and a dropped finer value.
    let broken = text
        .replace(
            "modular_arithmetic: { operation: arithmetic_computation }",
            "modular_arithmetic: { operation: modular }",
        )
        .replace("    casework: { operation: constraint_tracking }\n", "");
    assert_ne!(broken, text);
    let line = broken
        .lines()
        .position(|l| l.contains("modular_arithmetic:"))
        .unwrap()
        + 1;
    let f = tmp.path().join("mapping.yaml");
    std::fs::write(&f, &broken).unwrap();
    caploop()
        .arg("check")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!("mapping.yaml:{line}:")))
        .stderr(predicates::str::contains(
            "unknown value 'modular' of axis operation",
        ));
    let fixed = broken.replace("{ operation: modular }", "{ operation: arithmetic_computation }");
    std::fs::write(&f, fixed).unwrap();
    caploop()
        .arg("check")
        .arg(&f)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no entry for operation=casework"));
}

#[test]
fn tag_refuses_a_taxonomy_value_the_map_does_not_cover() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("s.jsonl");
    std::fs::write(
        &logs,
        "{\"run\": \"r\", \"benchmark\": \"gsm8k\", \"task\": \"gsm8k\", \"item_id\": \"1\", \"score\": 1.0, \"question\": \"2+2?\"}\n",
    )
    .unwrap();
    let s = tmp.path().join("s.parquet");
    caploop()
        .arg("ingest")
        .arg(&logs)
        .arg("--out")
        .arg(&s)
        .assert()
        .success();
    let tax = tmp.path().join("mine.yaml");
    std::fs::write(
        &tax,
        "name: mine\naxes:\n  operation: [mental_math]\nrules:\n  - { id: mine.r, when: { benchmark: gsm8k }, add: { operation: mental_math } }\n",
    )
    .unwrap();
    let out = tmp.path().join("t.parquet");
    caploop()
        .arg("tag")
        .arg("--samples")
        .arg(&s)
        .arg("--taxonomy")
        .arg(&tax)
        .arg("--vocabulary")
        .arg(repo("taxonomies/paper/mapping.yaml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no entry for operation=mental_math"));
    assert!(!out.exists());
}
