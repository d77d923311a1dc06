//! Behaviour tests of the taxonomy module through its public API: every
//! condition kind, accumulation and provenance, validation messages with
//! their positions, and the prefiltered matcher against a naive reference.

use std::cell::RefCell;
use std::collections::HashMap;
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

fn set(rules: &str) -> TaxonomySet {
    let text = format!("{AXES}rules:\n{rules}");
    match TaxonomySet::from_yaml_str(Path::new("t.yaml"), &text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n---\n{text}"),
    }
}

fn errors(text: &str) -> Vec<String> {
    match TaxonomySet::from_yaml_str(Path::new("t.yaml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn item<'a>(benchmark: &'a str, task: &'a str) -> ItemRef<'a> {
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
    let s = TaxonomySet::load(&[a, b]).unwrap();
    assert_eq!(s.names(), ["a", "b"]);
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
    assert_eq!(s.rule_count(), 2);
    let tags = s.tag(&item("x", "t"));
    assert_eq!(tags.rules, ["a1", "b1"]);
    assert_eq!(tags.values, [vec!["casework", "ratio"], vec!["terse"]]);
}

// ----------------------------------------------------------------- validation

#[test]
fn several_mistakes_are_all_reported_with_positions() {
    let text = r"name: broken
axes:
  operation: [counting, ratio, counting, unknown]
  Bad-Axis: [x]
rules:
  - id: r1
    when: { benchmark: gsm8k, benchmrk: x }
    add: { operation: modular }
  - id: r1
    when: { prompt_regex: '(unclosed' }
    add: { opration: counting }
  - id: r3
    when: {}
    add: { operation: ratio }
  - id: r4
    when: { task: 'a[' }
    add: { operation: [ratio, unknown] }
    extra: 1
";
    let got = errors(text);
    let want = [
        "t.yaml:3:32: duplicate value 'counting' in axis operation (first at line 3, column 15); list each value once",
        "t.yaml:3:42: axis value `unknown` is reserved for items no rule tagged on an axis; remove it from axis operation",
        "t.yaml:4:3: invalid axis name 'Bad-Axis': use lowercase letters, digits and _ starting with a letter (it becomes a column name)",
        "t.yaml:7:31: unknown field `benchmrk` in a `when` condition; expected one of: benchmark, task, meta, meta_regex, prompt_regex, target_regex",
        "t.yaml:8:23: unknown axis value 'modular' for axis operation; known values: counting, ratio",
        "t.yaml:9:9: duplicate rule id 'r1' (first defined at t.yaml:6:9); rule ids must be unique across all taxonomy files loaded together",
        "t.yaml:10:27: invalid regex '(unclosed': unclosed group at character 1 of the pattern",
        "t.yaml:11:12: unknown axis 'opration' in `add`; known axes: operation",
        "t.yaml:13:11: a `when` condition has no keys, so it would match every item; use at least one of: benchmark, task, meta, meta_regex, prompt_regex, target_regex",
        "t.yaml:16:19: invalid glob 'a[': unclosed character class; missing ']'",
        "t.yaml:17:31: axis value `unknown` is reserved and cannot be added; items with no value on axis operation get it automatically",
        "t.yaml:18:5: unknown field `extra` in a rule; expected one of: id, description, when, add",
    ];
    assert_eq!(got, want);
}

#[test]
fn errors_carry_a_source_excerpt() {
    let text = "name: x\naxes:\n  operation: [ratio]\nrules:\n  - id: a\n    when: { benchmark: b }\n    add: { operation: ratoi }\n";
    let err = TaxonomySet::from_yaml_str(Path::new("x.yaml"), text).unwrap_err();
    assert_eq!(
        err.render(),
        "x.yaml:7:23: unknown axis value 'ratoi' for axis operation; known values: ratio\n  |\n7 |     add: { operation: ratoi }\n  |                       ^\n"
    );
}

#[test]
fn yaml_syntax_errors_have_line_and_column() {
    let got = errors("name: x\naxes:\n  operation: [ratio\nrules: []\n");
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with("t.yaml:4:6: invalid YAML: "), "{got:?}");
}

#[test]
fn wrong_shapes_and_missing_fields_are_reported_together() {
    let text = "name: [x]
axes:
  operation: ratio
  style: [terse]
rules:
  - id: a
    when: gsm8k
    add: { style: terse }
  - when: { benchmark: b }
  - id: c
    when: { meta: [x] }
    add: { style: { v: 1 } }
";
    let got = errors(text);
    let want = [
        "t.yaml:1:7: expected a single value for `name`, found a list",
        "t.yaml:3:14: expected a list of values for axis `operation`, found a single value; e.g. `operation: [a, b]`",
        "t.yaml:7:11: expected a condition map or a list of them for `when`, found a single value; e.g. `when: { benchmark: gsm8k }`",
        "t.yaml:9:5: a rule is missing `id`, `add`; every rule needs `id`, `when` and `add`",
        "t.yaml:11:19: expected a map for `meta` (field -> glob or list of globs), found a list",
        "t.yaml:12:19: expected a value or a list of them for axis `style` in `add`, found a map",
    ];
    assert_eq!(got, want);
}

#[test]
fn duplicate_rule_ids_across_files_name_the_first_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    let body = "axes:\n  operation: [ratio]\nrules:\n  - id: same\n    when: { benchmark: x }\n    add: { operation: ratio }\n";
    std::fs::write(&a, format!("name: a\n{body}")).unwrap();
    std::fs::write(&b, format!("name: b\n{body}")).unwrap();
    let err = TaxonomySet::load(&[a.clone(), b.clone()]).unwrap_err();
    assert_eq!(err.0.len(), 1);
    assert_eq!(err.0[0].file, b);
    assert_eq!((err.0[0].line, err.0[0].col), (5, 9));
    assert_eq!(
        err.0[0].message,
        format!(
            "duplicate rule id 'same' (first defined at {}:5:9); rule ids must be unique across all taxonomy files loaded together",
            a.display()
        )
    );
}

#[test]
fn unreadable_and_broken_files_are_reported_with_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "name: [\n").unwrap();
    let err = TaxonomySet::load(&[missing.clone(), broken.clone()]).unwrap_err();
    assert_eq!(err.0.len(), 2);
    assert_eq!(err.0[0].file, missing);
    assert_eq!(err.0[0].line, 0);
    assert!(err.0[0]
        .to_string()
        .starts_with(&format!("{}: cannot read the taxonomy file: ", missing.display())));
    assert_eq!(err.0[1].file, broken);
    assert!(err.0[1].line > 0);
    assert_eq!(err.to_string().lines().count(), 2);
}

#[test]
fn empty_lists_and_files_are_errors() {
    assert_eq!(
        errors(""),
        ["t.yaml:1:1: the file is empty; a taxonomy is a map with `name`, `axes` and `rules`"]
    );
    assert_eq!(
        errors("name: x\n"),
        ["t.yaml:1:1: no axes declared; add an `axes` map such as `axes: { operation: [counting, ratio] }`"]
    );
    let got = errors("name: x\naxes:\n  op: []\nrules:\n  - id: a\n    when: []\n    add: {}\n  - id: b\n    when: { benchmark: [] }\n    add: { op: [] }\n");
    assert_eq!(
        got,
        [
            "t.yaml:3:7: axis `op` declares no values; list at least one, e.g. `op: [a, b]`",
            "t.yaml:6:11: `when` is an empty list; give a condition map or a list of them",
            "t.yaml:7:10: `add` is empty; name at least one axis and value (known axes: op)",
            "t.yaml:9:11: `benchmark` is an empty list; give at least one glob",
            "t.yaml:10:12: no value given for axis op in `add`",
        ]
    );
}

#[test]
fn reserved_axis_names_and_bad_values_are_rejected() {
    let got = errors("name: x\naxes:\n  task: [a]\n  style: ['two words', 'a=b', ok]\n");
    assert_eq!(
        got,
        [
            format!("t.yaml:3:3: axis name 'task' is a column of the sample table; choose another name (reserved: {})", RESERVED_AXIS_NAMES.join(", ")),
            "t.yaml:4:11: invalid value 'two words' for axis style: use letters, digits and _ - . / : + only".to_owned(),
            "t.yaml:4:24: invalid value 'a=b' for axis style: use letters, digits and _ - . / : + only".to_owned(),
        ]
    );
}

#[test]
fn regex_and_meta_path_errors_name_the_problem() {
    let got = errors(
        r"name: x
axes: { op: [a] }
rules:
  - id: r
    when: { meta_regex: { 'gold..x': 'a', ok: '\p{Nope}' }, target_regex: 'a{2,1}' }
    add: { op: a }
",
    );
    assert_eq!(
        got,
        [
            "t.yaml:5:27: invalid meta field path 'gold..x': use field names joined by dots, e.g. `gold.capability`",
            "t.yaml:5:47: invalid regex '\\p{Nope}': Unicode property not found at character 1 of the pattern",
            "t.yaml:5:75: invalid regex 'a{2,1}': invalid repetition count range, the start must be <= the end at character 2 of the pattern",
        ]
    );
}

#[test]
fn empty_set_loads() {
    let s = TaxonomySet::load(&[]).unwrap();
    assert!(s.axes().is_empty());
    assert_eq!(s.rule_count(), 0);
    let tags = s.tag(&item("b", "t"));
    assert!(tags.values.is_empty() && tags.rules.is_empty());
}

// ------------------------------------------- prefiltered matcher vs reference

/// A small deterministic generator (xorshift64*), enough for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "apple",
    "Apple",
    "pear",
    "mod",
    "modulo",
    "remainder",
    "kilo",
    "\u{212A}ilo",
    "ratio",
    "ſum",
    "SUM",
    "color",
    "colour",
    "x",
    "42",
    "a-b",
    "été",
    "ÉTÉ",
];

fn random_regex(rng: &mut Rng) -> String {
    let w = |rng: &mut Rng| regex::escape(&rng.pick(WORDS).to_lowercase());
    let piece = |rng: &mut Rng| -> String {
        match rng.below(12) {
            0 => format!(r"\b{}\b", w(rng)),
            1 => w(rng),
            2 => format!("(?i){}", w(rng)),
            3 => format!("(?i:{}|{})", w(rng), w(rng)),
            4 => format!("{}|{}", w(rng), w(rng)),
            5 => format!(r"\b{}\b.*\b{}\b", w(rng), w(rng)),
            6 => format!("({})+s?", w(rng)),
            7 => "colou?r".to_owned(),
            8 => r"\d+".to_owned(),
            9 => format!("[a-c]{}", w(rng)),
            10 => format!("^{}", w(rng)),
            _ => format!("(?i)[ks]{}", w(rng)),
        }
    };
    match rng.below(4) {
        0 => format!("{}.*{}", piece(rng), piece(rng)),
        1 => format!("(?:{})|(?:{})", piece(rng), piece(rng)),
        _ => piece(rng),
    }
}

fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(8);
    let mut words: Vec<String> = (0..n).map(|_| rng.pick(WORDS).to_string()).collect();
    if rng.chance(20) {
        words.push(rng.pick(WORDS).to_uppercase());
    }
    words.join(if rng.chance(50) { " " } else { "," })
}

#[derive(Debug, Clone)]
struct Cond {
    benchmark: Option<Vec<String>>,
    task: Option<Vec<String>>,
    meta: Vec<(String, Vec<String>)>,
    meta_regex: Vec<(String, String)>,
    prompt_regex: Option<String>,
    target_regex: Option<String>,
}

fn random_cond(rng: &mut Rng) -> Cond {
    loop {
        let globs = |rng: &mut Rng| {
            let all = ["b*", "bench1", "{b1,c1}", "c?", "*", "z"];
            (0..1 + rng.below(2))
                .map(|_| rng.pick(&all).to_string())
                .collect::<Vec<_>>()
        };
        let fields = ["topic", "tags", "gold.kind", "level", "steps.op"];
        let c = Cond {
            benchmark: rng.chance(40).then(|| globs(rng)),
            task: rng.chance(20).then(|| globs(rng)),
            meta: if rng.chance(30) {
                vec![(
                    rng.pick(&fields).to_string(),
                    vec![rng.pick(&["apple", "*o*", "3", "true", "[ab]*"]).to_string()],
                )]
            } else {
                Vec::new()
            },
            meta_regex: if rng.chance(30) {
                vec![(rng.pick(&fields).to_string(), random_regex(rng))]
            } else {
                Vec::new()
            },
            prompt_regex: rng.chance(60).then(|| random_regex(rng)),
            target_regex: rng.chance(30).then(|| random_regex(rng)),
        };
        let empty = c.benchmark.is_none()
            && c.task.is_none()
            && c.meta.is_empty()
            && c.meta_regex.is_empty()
            && c.prompt_regex.is_none()
            && c.target_regex.is_none();
        if !empty {
            return c;
        }
    }
}

fn yaml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn cond_yaml(c: &Cond) -> String {
    let mut parts = Vec::new();
    if let Some(g) = &c.benchmark {
        parts.push(format!("benchmark: {}", yaml_list(g)));
    }
    if let Some(g) = &c.task {
        parts.push(format!("task: {}", yaml_list(g)));
    }
    if !c.meta.is_empty() {
        let m: Vec<String> = c
            .meta
            .iter()
            .map(|(f, g)| format!("{f}: {}", yaml_list(g)))
            .collect();
        parts.push(format!("meta: {{ {} }}", m.join(", ")));
    }
    if !c.meta_regex.is_empty() {
        let m: Vec<String> = c
            .meta_regex
            .iter()
            .map(|(f, r)| format!("{f}: {}", q(r)))
            .collect();
        parts.push(format!("meta_regex: {{ {} }}", m.join(", ")));
    }
    if let Some(r) = &c.prompt_regex {
        parts.push(format!("prompt_regex: {}", q(r)));
    }
    if let Some(r) = &c.target_regex {
        parts.push(format!("target_regex: {}", q(r)));
    }
    format!("{{ {} }}", parts.join(", "))
}

/// Field texts by the documented meta semantics, written independently of `meta.rs`.
fn reference_field(meta: &str, path: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &[&str], out: &mut Vec<String>) {
        use serde_json::Value as V;
        match (v, path) {
            (V::Array(items), _) => items.iter().for_each(|i| walk(i, path, out)),
            (V::String(s), []) => out.push(s.clone()),
            (V::Number(n), []) => out.push(n.to_string()),
            (V::Bool(b), []) => out.push(b.to_string()),
            (V::Object(m), [head, rest @ ..]) => {
                if let Some(child) = m.get(*head) {
                    walk(child, rest, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_str(meta) {
        let parts: Vec<&str> = path.split('.').collect();
        walk(&v, &parts, &mut out);
    }
    out
}

thread_local! {
    static GLOBS: RefCell<HashMap<String, globset::GlobMatcher>> = RefCell::new(HashMap::new());
    static REGEXES: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// The reference compiles each glob on its own with the documented options.
fn glob(g: &str, s: &str) -> bool {
    GLOBS.with(|m| {
        m.borrow_mut()
            .entry(g.to_owned())
            .or_insert_with(|| {
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .unwrap()
                    .compile_matcher()
            })
            .is_match(s)
    })
}

/// The reference runs every regex on every text, without a prefilter.
fn re(r: &str, s: &str) -> bool {
    REGEXES.with(|m| {
        m.borrow_mut()
            .entry(r.to_owned())
            .or_insert_with(|| regex::Regex::new(r).unwrap())
            .is_match(s)
    })
}

fn reference_holds(c: &Cond, it: &ItemRef<'_>) -> bool {
    c.benchmark
        .as_ref()
        .is_none_or(|gs| gs.iter().any(|g| glob(g, it.benchmark)))
        && c.task
            .as_ref()
            .is_none_or(|gs| gs.iter().any(|g| glob(g, it.task)))
        && c.meta.iter().all(|(f, gs)| {
            reference_field(it.meta, f)
                .iter()
                .any(|v| gs.iter().any(|g| glob(g, v)))
        })
        && c.meta_regex
            .iter()
            .all(|(f, r)| reference_field(it.meta, f).iter().any(|v| re(r, v)))
        && c.prompt_regex
            .as_ref()
            .is_none_or(|r| it.prompt.is_some_and(|p| re(r, p)))
        && c.target_regex
            .as_ref()
            .is_none_or(|r| it.target.is_some_and(|t| re(r, t)))
}

fn random_meta(rng: &mut Rng) -> String {
    if rng.chance(10) {
        return rng.pick(&["", "{", "[]", "null"]).to_string();
    }
    let mut fields = Vec::new();
    let s = |rng: &mut Rng| serde_json::to_string(&random_text(rng)).unwrap();
    if rng.chance(70) {
        fields.push(format!("\"topic\": {}", s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"tags\": [{}, {}, 3]", s(rng), s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"gold\": {{\"kind\": {}}}", s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"level\": {}", rng.pick(&["3", "true", "\"apple\""])));
    }
    if rng.chance(50) {
        fields.push(format!(
            "\"steps\": [{{\"op\": {}}}, {{\"op\": {}}}]",
            s(rng),
            s(rng)
        ));
    }
    format!("{{{}}}", fields.join(", "))
}

struct OwnedItem {
    benchmark: String,
    task: String,
    prompt: Option<String>,
    target: Option<String>,
    meta: String,
}

impl OwnedItem {
    fn as_ref(&self) -> ItemRef<'_> {
        ItemRef {
            benchmark: &self.benchmark,
            task: &self.task,
            prompt: self.prompt.as_deref(),
            target: self.target.as_deref(),
            meta: &self.meta,
        }
    }
}

#[test]
fn prefiltered_matcher_equals_naive_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // (item, rule) pairs where a rule with a text regex fired / did not.
    let (mut regex_fired, mut regex_quiet) = (0, 0);
    for round in 0..30 {
        let mut rules = Vec::new();
        let mut yaml = String::from("name: p\naxes:\n  op: [v0, v1, v2, v3, v4, v5]\nrules:\n");
        for r in 0..40 {
            let conds: Vec<Cond> = (0..1 + rng.below(2)).map(|_| random_cond(&mut rng)).collect();
            let value = format!("v{}", rng.below(6));
            let when: Vec<String> = conds.iter().map(cond_yaml).collect();
            yaml.push_str(&format!(
                "  - id: r{r}\n    when: [{}]\n    add: {{ op: {value} }}\n",
                when.join(", ")
            ));
            rules.push((format!("r{r}"), conds, value));
        }
        let s =
            TaxonomySet::from_yaml_str(Path::new("p.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));

        let owned: Vec<OwnedItem> = (0..300)
            .map(|_| OwnedItem {
                benchmark: rng.pick(&["b1", "bench1", "c1", "z", "other"]).to_string(),
                task: rng.pick(&["b1", "c2", "t"]).to_string(),
                prompt: rng.chance(90).then(|| random_text(&mut rng)),
                target: rng.chance(70).then(|| random_text(&mut rng)),
                meta: random_meta(&mut rng),
            })
            .collect();
        let items: Vec<ItemRef<'_>> = owned.iter().map(OwnedItem::as_ref).collect();
        let got = s.tag_all(&items);
        for (it, tags) in items.iter().zip(&got) {
            let mut want_rules = Vec::new();
            let mut want_values = Vec::new();
            for (id, conds, value) in &rules {
                let holds = conds.iter().any(|c| reference_holds(c, it));
                if holds {
                    want_rules.push(id.clone());
                    want_values.push(value.clone());
                }
                if conds.iter().any(|c| c.prompt_regex.is_some()) {
                    if holds {
                        regex_fired += 1;
                    } else {
                        regex_quiet += 1;
                    }
                }
            }
            want_values.sort();
            want_values.dedup();
            if want_values.is_empty() {
                want_values.push("unknown".into());
            }
            assert_eq!(tags.rules, want_rules, "round {round}, item {it:?}\n{yaml}");
            assert_eq!(tags.values, [want_values], "round {round}, item {it:?}");
        }
    }
    eprintln!("regex rules fired {regex_fired} times, stayed quiet {regex_quiet} times");
    assert!(regex_fired > 1000 && regex_quiet > 1000);
}

#[test]
fn prefilter_handles_many_word_pair_rules() {
    // The benchmark shape: `\bA\b.*\bB\b` over a vocabulary, checked against
    // plain regexes on every text.
    let mut rng = Rng(7);
    let vocab: Vec<String> = (0..50).map(|i| format!("w{i}x")).collect();
    let mut yaml = String::from("name: p\naxes:\n  op: [v]\nrules:\n");
    let mut patterns = Vec::new();
    for r in 0..100 {
        let p = format!(r"\b{}\b.*\b{}\b", rng.pick(&vocab), rng.pick(&vocab));
        yaml.push_str(&format!(
            "  - id: r{r}\n    when: {{ prompt_regex: '{p}' }}\n    add: {{ op: v }}\n"
        ));
        patterns.push((format!("r{r}"), regex::Regex::new(&p).unwrap()));
    }
    let s = TaxonomySet::from_yaml_str(Path::new("p.yaml"), &yaml).unwrap();
    let prompts: Vec<String> = (0..2000)
        .map(|_| {
            (0..10)
                .map(|_| rng.pick(&vocab).clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let items: Vec<ItemRef<'_>> = prompts
        .iter()
        .map(|p| ItemRef {
            prompt: Some(p),
            ..item("b", "t")
        })
        .collect();
    for (it, tags) in items.iter().zip(s.tag_all(&items)) {
        let want: Vec<String> = patterns
            .iter()
            .filter(|(_, re)| re.is_match(it.prompt.unwrap_or_default()))
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(tags.rules, want);
    }
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
