//! Behaviour tests of the taxonomy module through its public API: every
//! condition kind, accumulation and provenance (here), validation messages
//! with their positions (`validation.rs`), and the prefiltered matcher
//! against a naive reference (`reference.rs`).

mod reference;
mod validation;

use std::path::{Path, PathBuf};

use super::*;

const AXES: &str = "
name: t
axes:
  background: [number_theory, geometry, everyday_quantities]
  task_type: [word_problem, competition]
  operation: [modular_arithmetic, counting, casework, ratio]
  output_constraint: [integer, mc_letter]
";

pub(super) fn set(rules: &str) -> TaxonomySet {
    let text = format!("{AXES}rules:\n{rules}");
    match TaxonomySet::from_yaml_str(Path::new("t.yaml"), &text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

pub(super) fn errors(text: &str) -> Vec<String> {
    match TaxonomySet::from_yaml_str(Path::new("t.yaml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

pub(super) fn item<'a>(benchmark: &'a str, task: &'a str) -> ItemRef<'a> {
    ItemRef {
        benchmark,
        task,
        prompt: None,
        target: None,
        meta: "{}",
    }
}

/// The tags of one axis, by name.
fn on<'s>(set: &TaxonomySet, tags: &'s ItemTags, axis: &str) -> Vec<&'s str> {
    let a = set
        .axes()
        .iter()
        .position(|x| x.name == axis)
        .unwrap_or_else(|| panic!("no axis {axis}"));
    tags.values[a].iter().map(String::as_str).collect()
}

fn fired(set: &TaxonomySet, item: ItemRef<'_>) -> Vec<String> {
    set.tag(&item).rules
}

// ---------------------------------------------------------------- conditions

#[test]
fn benchmark_glob_and_glob_list() {
    let s = set("
  - id: aime
    when: { benchmark: 'aime*' }
    add: { task_type: competition }
  - id: list
    when: { benchmark: [gsm8k, 'svamp?'] }
    add: { task_type: word_problem }
");
    assert_eq!(fired(&s, item("aime_2024", "x")), ["aime"]);
    assert_eq!(fired(&s, item("gsm8k", "x")), ["list"]);
    assert_eq!(fired(&s, item("svamp1", "x")), ["list"]);
    assert!(fired(&s, item("svamp", "x")).is_empty());
    assert!(
        fired(&s, item("AIME", "x")).is_empty(),
        "globs are case-sensitive"
    );
}

#[test]
fn task_glob_and_slash_in_names() {
    let s = set("
  - id: date
    when: { task: 'bbh*date*' }
    add: { operation: casework }
");
    assert_eq!(
        fired(&s, item("bbh", "bbh_cot_fewshot_date_understanding")),
        ["date"]
    );
    assert_eq!(fired(&s, item("bbh", "bbh/date")), ["date"], "* matches /");
    assert!(fired(&s, item("bbh", "bbh_logic")).is_empty());
}

#[test]
fn meta_equality_glob_numbers_and_bools() {
    let s = set("
  - id: eq
    when: { meta: { subject: algebra } }
    add: { operation: ratio }
  - id: glob
    when: { meta: { subject: ['number*', geometry] } }
    add: { operation: counting }
  - id: num
    when: { meta: { level: 5, hard: true } }
    add: { task_type: competition }
");
    let with = |meta| ItemRef {
        meta,
        ..item("math", "t")
    };
    assert_eq!(fired(&s, with(r#"{"subject": "algebra"}"#)), ["eq"]);
    assert!(fired(&s, with(r#"{"subject": "algebra_2"}"#)).is_empty());
    assert_eq!(fired(&s, with(r#"{"subject": "number theory"}"#)), ["glob"]);
    assert_eq!(fired(&s, with(r#"{"subject": "geometry"}"#)), ["glob"]);
    assert_eq!(fired(&s, with(r#"{"level": 5, "hard": true}"#)), ["num"]);
    assert!(fired(&s, with(r#"{"level": "5", "hard": false}"#)).is_empty());
    assert!(fired(&s, with(r#"{"level": 5.0, "hard": true}"#)).is_empty());
}

#[test]
fn meta_regex_condition() {
    let s = set(r"
  - id: nt
    when: { meta_regex: { problem: '(?i)\bremainder\b|\bmod\b' } }
    add: { background: number_theory }
");
    let with = |meta| ItemRef {
        meta,
        ..item("aime", "t")
    };
    assert_eq!(
        fired(&s, with(r#"{"problem": "Find the REMAINDER when..."}"#)),
        ["nt"]
    );
    assert_eq!(fired(&s, with(r#"{"problem": "Compute 7 mod 3"}"#)), ["nt"]);
    assert!(fired(&s, with(r#"{"problem": "a model of"}"#)).is_empty());
    assert!(fired(&s, with(r#"{"question": "remainder"}"#)).is_empty());
}

#[test]
fn prompt_and_target_regex_and_missing_text() {
    let s = set(r"
  - id: mc
    when: { target_regex: '^[A-E]$' }
    add: { output_constraint: mc_letter }
  - id: int
    when: { prompt_regex: '(?i)how many' }
    add: { output_constraint: integer }
");
    let it = |prompt, target| ItemRef {
        prompt,
        target,
        ..item("b", "t")
    };
    assert_eq!(fired(&s, it(Some("How many apples?"), Some("C"))), ["mc", "int"]);
    assert_eq!(
        fired(&s, it(Some("Which one?"), Some("12"))),
        Vec::<String>::new()
    );
    assert!(fired(&s, it(None, None)).is_empty(), "missing text never matches");
    // An empty text is present: a regex that matches empty text matches it.
    let e = set("
  - id: any
    when: { prompt_regex: '^$' }
    add: { output_constraint: integer }
");
    assert_eq!(fired(&e, it(Some(""), None)), ["any"]);
    assert!(fired(&e, it(None, None)).is_empty());
}

#[test]
fn keys_of_one_map_must_all_hold() {
    let s = set(r"
  - id: both
    when: { benchmark: gsm8k, prompt_regex: 'percent', meta: { split: test } }
    add: { operation: ratio }
");
    let it = |benchmark, prompt, meta| ItemRef {
        prompt: Some(prompt),
        meta,
        ..item(benchmark, "t")
    };
    assert_eq!(
        fired(&s, it("gsm8k", "20 percent", r#"{"split":"test"}"#)),
        ["both"]
    );
    assert!(fired(&s, it("gsm8k", "20 percent", r#"{"split":"train"}"#)).is_empty());
    assert!(fired(&s, it("gsm8k", "a fifth", r#"{"split":"test"}"#)).is_empty());
    assert!(fired(&s, it("math", "20 percent", r#"{"split":"test"}"#)).is_empty());
}

#[test]
fn list_of_maps_is_an_or() {
    let s = set(r"
  - id: either
    when:
      - { benchmark: gsm8k }
      - { task: 'mmlu_*math*', meta: { answer: '[0-9]*' } }
    add: { operation: counting }
");
    assert_eq!(fired(&s, item("gsm8k", "main")), ["either"]);
    let mmlu = ItemRef {
        meta: r#"{"answer": "42"}"#,
        ..item("mmlu", "mmlu_college_math")
    };
    assert_eq!(fired(&s, mmlu), ["either"]);
    let wrong = ItemRef {
        meta: r#"{"answer": "B"}"#,
        ..item("mmlu", "mmlu_college_math")
    };
    assert!(fired(&s, wrong).is_empty());
    // Both maps holding still fires the rule once.
    let both = ItemRef {
        meta: r#"{"answer": "1"}"#,
        ..item("gsm8k", "mmlu_math")
    };
    assert_eq!(fired(&s, both), ["either"]);
}

// ------------------------------------------------------- tags and provenance

#[test]
fn tags_accumulate_sorted_and_deduplicated_with_provenance() {
    let s = set(r"
  - id: a
    when: { benchmark: gsm8k }
    add: { operation: [ratio, counting], background: everyday_quantities }
  - id: b
    when: { prompt_regex: 'remainder' }
    add: { operation: [modular_arithmetic, counting] }
  - id: c
    when: { benchmark: other }
    add: { operation: casework }
");
    let it = ItemRef {
        prompt: Some("the remainder"),
        ..item("gsm8k", "t")
    };
    let tags = s.tag(&it);
    assert_eq!(
        on(&s, &tags, "operation"),
        ["counting", "modular_arithmetic", "ratio"]
    );
    assert_eq!(on(&s, &tags, "background"), ["everyday_quantities"]);
    assert_eq!(tags.rules, ["a", "b"]);
    // Provenance of each tag is recoverable from the rules that fired.
    let from: Vec<&str> = s
        .rules()
        .iter()
        .filter(|r| tags.rules.contains(&r.id))
        .filter(|r| r.tags.contains(&("operation".into(), "counting".into())))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(from, ["a", "b"]);
}

#[test]
fn axes_without_a_value_are_unknown() {
    let s = set("
  - id: a
    when: { benchmark: gsm8k }
    add: { task_type: word_problem }
");
    let tags = s.tag(&item("gsm8k", "t"));
    assert_eq!(
        tags.values,
        [
            vec!["unknown"],
            vec!["word_problem"],
            vec!["unknown"],
            vec!["unknown"]
        ]
    );
    let none = s.tag(&item("math", "t"));
    assert!(none.values.iter().all(|v| v == &[UNKNOWN_VALUE]));
    assert!(none.rules.is_empty());
}

#[test]
fn dotted_meta_paths_and_array_fields() {
    let s = set("
  - id: gold
    when: { meta: { gold.capability: ratio } }
    add: { operation: ratio }
  - id: tags
    when: { meta: { tags: 'geo*' } }
    add: { background: geometry }
  - id: steps
    when: { meta_regex: { steps.op: '^mod' } }
    add: { operation: modular_arithmetic }
");
    let with = |meta| ItemRef {
        meta,
        ..item("b", "t")
    };
    let json = r#"{"gold": {"capability": "ratio"}, "tags": ["algebra", "geometry"],
                   "steps": [{"op": "add"}, {"op": "modulo"}]}"#;
    assert_eq!(fired(&s, with(json)), ["gold", "tags", "steps"]);
    assert!(fired(&s, with(r#"{"gold": "ratio", "tags": [], "steps": []}"#)).is_empty());
    assert!(fired(&s, with(r#"{"gold": {"capability": null}}"#)).is_empty());
}

#[test]
fn malformed_meta_has_no_fields_and_never_panics() {
    let s = set("
  - id: m
    when: { meta: { a: '*' } }
    add: { operation: ratio }
  - id: b
    when: { benchmark: x }
    add: { operation: counting }
");
    for meta in ["", "{", "[1,2]", "null", "\"a\"", "{\"a\": }", "\u{0}"] {
        let it = ItemRef {
            meta,
            ..item("x", "t")
        };
        assert_eq!(fired(&s, it), ["b"], "meta {meta:?}");
    }
    let ok = ItemRef {
        meta: r#"{"a": "anything"}"#,
        ..item("x", "t")
    };
    assert_eq!(fired(&s, ok), ["m", "b"]);
}

#[test]
fn unicode_case_folding_is_not_missed_by_the_prefilter() {
    let s = set("
  - id: kilo
    when: { prompt_regex: '(?i)kilo' }
    add: { operation: ratio }
");
    for prompt in ["KILO", "kilo", "\u{212A}ilo", "a Kilogram"] {
        let it = ItemRef {
            prompt: Some(prompt),
            ..item("b", "t")
        };
        assert_eq!(fired(&s, it), ["kilo"], "{prompt}");
    }
}

#[test]
fn tagging_is_idempotent_and_deterministic() {
    let s = set(r"
  - id: a
    when: { prompt_regex: '\bone\b.*\btwo\b' }
    add: { operation: counting }
  - id: b
    when: [{ benchmark: 'g*' }, { meta: { k: v } }]
    add: { operation: ratio, task_type: word_problem }
");
    let prompts = ["one and two", "two and one", "one two", ""];
    let metas = [r#"{"k":"v"}"#, "{}"];
    let benches = ["gsm8k", "math"];
    let mut items = Vec::new();
    for i in 0..500 {
        items.push(ItemRef {
            benchmark: benches[i % 2],
            task: "t",
            prompt: Some(prompts[i % 4]),
            target: None,
            meta: metas[i % 3 % 2],
        });
    }
    let first = s.tag_all(&items);
    let again = s.tag_all(&items);
    assert_eq!(first, again);
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| s.tag_all(&items));
    assert_eq!(first, one_thread);
    let singles: Vec<ItemTags> = items.iter().map(|i| s.tag(i)).collect();
    assert_eq!(first, singles);
    assert!(s.tag_all(&[]).is_empty());
}

#[test]
fn several_files_merge_axes_and_concatenate_rules() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(
        &a,
        "name: a\naxes:\n  operation: [ratio, counting]\nrules:\n  - id: a1\n    when: { benchmark: x }\n    add: { operation: ratio }\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "name: b\naxes:\n  operation: [casework, ratio]\n  style: [terse]\nrules:\n  - id: b1\n    when: { benchmark: x }\n    add: { operation: casework, style: terse }\n",
    )
    .unwrap();
    // A rules-only file may use axes and values declared by the others.
    let c = dir.path().join("c.yaml");
    std::fs::write(
        &c,
        "name: c\nrules:\n  - id: c1\n    when: { task: t }\n    add: { style: terse, operation: counting }\n",
    )
    .unwrap();
    let s = TaxonomySet::load(&[a, b, c]).unwrap();
    assert_eq!(s.names(), ["a", "b", "c"]);
    assert_eq!(
        s.axes(),
        [
            Axis {
                name: "operation".into(),
                values: vec!["ratio".into(), "counting".into(), "casework".into()]
            },
            Axis {
                name: "style".into(),
                values: vec!["terse".into()]
            }
        ]
    );
    assert_eq!(s.rule_count(), 3);
    let tags = s.tag(&item("x", "t"));
    assert_eq!(tags.rules, ["a1", "b1", "c1"]);
    assert_eq!(
        tags.values,
        [vec!["casework", "counting", "ratio"], vec!["terse"]]
    );
}

#[test]
fn load_accepts_the_design_example() {
    let text = r#"name: math-reasoning
description: optional text
axes:
  background: [number_theory, geometry, algebra, everyday_quantities]
  task_type: [word_problem, competition]
  operation: [modular_arithmetic, counting, casework, ratio, linear_equation]
  output_constraint: [integer, expression, mc_letter, free_text]
rules:
  - id: aime.nt
    description: optional sentence saying why
    when: { benchmark: "aime*", meta_regex: { problem: '(?i)\bremainder\b|\bmod\b' } }
    add: { background: number_theory, operation: [modular_arithmetic] }
  - id: gsm8k.base
    when: { benchmark: gsm8k }
    add: { background: everyday_quantities, task_type: word_problem, output_constraint: integer }
"#;
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("math.yaml");
    std::fs::write(&path, text).unwrap();
    let s = TaxonomySet::load(&[path]).unwrap();
    assert_eq!(s.rule_count(), 2);
    assert_eq!(
        s.rules()[0].description.as_deref(),
        Some("optional sentence saying why")
    );
    assert_eq!(s.rules()[1].line, 13);
    let aime = ItemRef {
        meta: r#"{"problem": "What is the remainder when 2^10 is divided by 7?"}"#,
        ..item("aime24", "aime24")
    };
    let tags = s.tag(&aime);
    assert_eq!(tags.rules, ["aime.nt"]);
    assert_eq!(
        tags.values,
        [
            vec!["number_theory"],
            vec!["unknown"],
            vec!["modular_arithmetic"],
            vec!["unknown"]
        ]
    );
}
