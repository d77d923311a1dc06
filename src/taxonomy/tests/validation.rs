//! Validation: every mistake of a file reported at once, at `file:line:col`,
//! with what would be valid.

use std::path::Path;

use super::super::*;
use super::{errors, item};

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
colour: red
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
        "t.yaml:19:1: unknown field `colour` in the taxonomy file; expected one of: name, description, axes, rules",
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
