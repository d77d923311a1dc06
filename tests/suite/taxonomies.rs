//! The shipped evaluation taxonomies (`taxonomies/*.yaml`): they validate
//! through the binary, load together, give hand-checked items exactly their
//! tags (`tests/fixtures/tags/`), cover every lm-evaluation-harness task-name
//! variant of the families they claim, leave the demo's tags alone, and leave
//! few items `unknown` on real lm-evaluation-harness logs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::{caploop, samples_dir};
use caploop::ingest::family::family;
use caploop::ingest::{ingest, IngestOptions};
use caploop::taxonomy::{ItemRef, ItemTags, TaxonomySet, UNKNOWN_VALUE};
use serde_json::Value;

fn taxonomy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies")
}

/// Every shipped taxonomy, in `shipped::TAXONOMIES` order (the demo's order).
fn shipped() -> Vec<PathBuf> {
    caploop::shipped::TAXONOMIES
        .iter()
        .map(|(name, _)| taxonomy_dir().join(name))
        .collect()
}

fn load_shipped() -> TaxonomySet {
    TaxonomySet::load(&shipped()).unwrap()
}

/// Tags one item the way the tag stage does: the benchmark is the task's family.
fn tag(set: &TaxonomySet, task: &str, meta: &str) -> ItemTags {
    let benchmark = family(task, None);
    set.tag(&ItemRef {
        benchmark: &benchmark,
        task,
        prompt: None,
        target: None,
        meta,
    })
}

fn values<'a>(set: &TaxonomySet, tags: &'a ItemTags, axis: &str) -> &'a [String] {
    let k = set.axes().iter().position(|a| a.name == axis).unwrap();
    &tags.values[k]
}

fn is_unknown(v: &[String]) -> bool {
    v.len() == 1 && v[0] == UNKNOWN_VALUE
}

const STANDARD_AXES: [&str; 4] = ["background", "task_type", "operation", "output_constraint"];

#[test]
fn every_yaml_in_taxonomies_is_shipped_with_the_same_text() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(taxonomy_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    let shipped: BTreeSet<String> = caploop::shipped::TAXONOMIES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(on_disk, shipped);
    for (name, text) in caploop::shipped::TAXONOMIES {
        assert_eq!(
            std::fs::read_to_string(taxonomy_dir().join(name)).unwrap(),
            *text,
            "{name}"
        );
    }
}

#[test]
fn caploop_check_accepts_every_shipped_taxonomy() {
    let out = caploop().arg("check").arg(taxonomy_dir()).assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for (name, _) in caploop::shipped::TAXONOMIES {
        assert!(
            stdout.lines().any(|l| l.starts_with("ok") && l.ends_with(name)),
            "{name} not reported ok:\n{stdout}"
        );
    }
}

#[test]
fn shipped_taxonomies_load_together_with_the_standard_axes_first() {
    let set = load_shipped();
    assert_eq!(set.names().len(), caploop::shipped::TAXONOMIES.len());
    let axes: Vec<&str> = set.axes().iter().map(|a| a.name.as_str()).collect();
    assert_eq!(axes[..4], STANDARD_AXES, "{axes:?}");
    for axis in set.axes() {
        for v in &axis.values {
            let snake = v
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            assert!(snake, "axis {} value '{v}' is not lower_snake_case", axis.name);
        }
    }
}

// ------------------------------------------------------------------ hand-checked items

#[derive(Debug)]
struct Example {
    file: String,
    line: usize,
    task: String,
    benchmark: String,
    doc: Value,
    expect: BTreeMap<String, Vec<String>>,
}

fn examples() -> Vec<Example> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tags");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let file = f.file_name().unwrap().to_string_lossy().into_owned();
        for (i, line) in std::fs::read_to_string(&f).unwrap().lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).unwrap();
            let expect = v["expect"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(axis, vals)| {
                    let vals = vals
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string());
                    (axis.clone(), vals.collect())
                })
                .collect();
            out.push(Example {
                file: file.clone(),
                line: i + 1,
                task: v["task"].as_str().unwrap().to_string(),
                benchmark: v["benchmark"].as_str().unwrap().to_string(),
                doc: v["doc"].clone(),
                expect,
            });
        }
    }
    out
}

/// Each fixture line is an item as lm-evaluation-harness logs it (task name
/// and `doc`) with its expected tags; an axis the line does not list must be
/// `unknown`. All mismatches are reported at once.
#[test]
fn hand_checked_items_get_exactly_their_tags() {
    let set = load_shipped();
    let examples = examples();
    let mut problems = Vec::new();
    let mut per_family: BTreeMap<&str, usize> = BTreeMap::new();
    for ex in &examples {
        let at = format!("{}:{} ({})", ex.file, ex.line, ex.task);
        assert_eq!(family(&ex.task, None), ex.benchmark, "{at}: family of the task");
        *per_family.entry(ex.benchmark.as_str()).or_default() += 1;
        for axis in ex.expect.keys() {
            assert!(set.axes().iter().any(|a| &a.name == axis), "{at}: no axis {axis}");
        }
        let tags = tag(&set, &ex.task, &ex.doc.to_string());
        for (k, axis) in set.axes().iter().enumerate() {
            let want = ex
                .expect
                .get(&axis.name)
                .cloned()
                .unwrap_or_else(|| vec![UNKNOWN_VALUE.to_string()]);
            if tags.values[k] != want {
                problems.push(format!(
                    "{at}: {} = {:?}, expected {:?} (rules fired: {:?})",
                    axis.name, tags.values[k], want, tags.rules
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let families = [
        "bbh",
        "gsm8k",
        "math",
        "aime",
        "mmlu",
        "mmlu_pro",
        "mmlu_pro_plus",
        "arc",
        "hellaswag",
        "winogrande",
        "musr",
        "gpqa",
        "humaneval",
        "mbpp",
        "ifeval",
    ];
    for f in families {
        let n = per_family.get(f).copied().unwrap_or(0);
        assert!(n >= 5, "family {f}: {n} hand-checked items, want at least 5");
    }
}

// ------------------------------------------------------------------ task-name variants

const BBH_SUBTASKS: [&str; 27] = [
    "boolean_expressions",
    "causal_judgement",
    "date_understanding",
    "disambiguation_qa",
    "dyck_languages",
    "formal_fallacies",
    "geometric_shapes",
    "hyperbaton",
    "logical_deduction_five_objects",
    "logical_deduction_seven_objects",
    "logical_deduction_three_objects",
    "movie_recommendation",
    "multistep_arithmetic_two",
    "navigate",
    "object_counting",
    "penguins_in_a_table",
    "reasoning_about_colored_objects",
    "ruin_names",
    "salient_translation_error_detection",
    "snarks",
    "sports_understanding",
    "temporal_sequences",
    "tracking_shuffled_objects_five_objects",
    "tracking_shuffled_objects_seven_objects",
    "tracking_shuffled_objects_three_objects",
    "web_of_lies",
    "word_sorting",
];

/// Every BBH subtask gets one rule's tags, identical under every task-name
/// variant lm-evaluation-harness uses, and on all four standard axes.
#[test]
fn every_bbh_subtask_is_tagged_under_every_task_name_variant() {
    let set = load_shipped();
    let prefixes = [
        "bbh_cot_fewshot_",
        "bbh_cot_zeroshot_",
        "bbh_fewshot_",
        "bbh_zeroshot_",
        "leaderboard_bbh_",
    ];
    let meta = r#"{"input": "x", "target": "y"}"#;
    for sub in BBH_SUBTASKS {
        let reference = tag(&set, &format!("{}{sub}", prefixes[0]), meta);
        assert_eq!(reference.rules, vec![format!("bbh.{sub}")], "{sub}");
        for axis in STANDARD_AXES {
            assert!(
                !is_unknown(values(&set, &reference, axis)),
                "{sub}: {axis} unknown"
            );
        }
        for p in &prefixes[1..] {
            let task = format!("{p}{sub}");
            assert_eq!(family(&task, None), "bbh", "{task}");
            assert_eq!(tag(&set, &task, meta), reference, "{task}");
        }
    }
}

/// The 57 MMLU subjects, from the task name under every variant or from the
/// doc field `subject`, with lm-evaluation-harness's category sizes.
#[test]
fn every_mmlu_subject_is_tagged_from_the_task_name_or_the_doc() {
    let set = load_shipped();
    let subjects = &set.axes().iter().find(|a| a.name == "subject").unwrap().values;
    assert_eq!(subjects.len(), 57);
    let prefixes = [
        "mmlu_",
        "mmlu_continuation_",
        "mmlu_generative_",
        "mmlu_flan_cot_fewshot_",
        "mmlu_flan_cot_zeroshot_",
        "mmlu_flan_n_shot_generative_",
        "mmlu_flan_n_shot_loglikelihood_",
    ];
    let mut per_category: BTreeMap<String, usize> = BTreeMap::new();
    for s in subjects {
        let by_doc = tag(
            &set,
            "mmlu_unnamed_variant",
            &format!(r#"{{"question": "Q", "subject": "{s}"}}"#),
        );
        let bg = values(&set, &by_doc, "background").to_vec();
        assert_eq!(bg.len(), 1, "{s}: {bg:?}");
        *per_category.entry(bg[0].clone()).or_default() += 1;
        assert_eq!(values(&set, &by_doc, "subject"), std::slice::from_ref(s));
        assert!(!is_unknown(values(&set, &by_doc, "domain")), "{s}");
        for p in prefixes {
            let task = format!("{p}{s}");
            assert_eq!(family(&task, None), "mmlu", "{task}");
            let by_task = tag(&set, &task, r#"{"question": "Q"}"#);
            for axis in [
                "background",
                "domain",
                "subject",
                "task_type",
                "output_constraint",
            ] {
                assert_eq!(
                    values(&set, &by_task, axis),
                    values(&set, &by_doc, axis),
                    "{task} {axis}"
                );
            }
        }
    }
    let expected: BTreeMap<String, usize> = [
        ("stem", 19),
        ("humanities", 13),
        ("social_sciences", 12),
        ("other_disciplines", 13),
    ]
    .into_iter()
    .map(|(c, n)| (c.to_string(), n))
    .collect();
    assert_eq!(per_category, expected);
}

#[test]
fn every_mmlu_pro_category_has_a_background_and_a_domain() {
    let set = load_shipped();
    let categories = [
        "biology",
        "business",
        "chemistry",
        "computer science",
        "economics",
        "engineering",
        "health",
        "history",
        "law",
        "math",
        "other",
        "philosophy",
        "physics",
        "psychology",
    ];
    let mut domains = BTreeSet::new();
    for task in ["leaderboard_mmlu_pro", "mmlu_pro_biology", "mmlu_pro_plus_law"] {
        for c in categories {
            let t = tag(
                &set,
                task,
                &format!(r#"{{"question": "Q", "category": "{c}", "src": "stemez-X"}}"#),
            );
            for axis in STANDARD_AXES.iter().chain(&["domain"]) {
                assert!(!is_unknown(values(&set, &t, axis)), "{task} {c}: {axis}");
            }
            assert!(
                is_unknown(values(&set, &t, "subject")),
                "{task} {c}: not from MMLU"
            );
            domains.insert(values(&set, &t, "domain").to_vec());
        }
    }
    assert_eq!(domains.len(), 14, "one domain per category");
}

#[test]
fn gpqa_musr_and_math_task_variants_map_to_their_slices() {
    let set = load_shipped();
    let gpqa_doc =
        r#"{"Question": "Q", "High-level domain": "Chemistry", "Subdomain": "Chemistry (general)"}"#;
    for (task, subset) in [
        ("gpqa_main_zeroshot", "main"),
        ("gpqa_main_n_shot", "main"),
        ("gpqa_diamond_cot_n_shot", "diamond"),
        ("gpqa_diamond_cot_zeroshot", "diamond"),
        ("gpqa_diamond_generative_n_shot", "diamond"),
        ("gpqa_extended_zeroshot", "extended"),
        ("leaderboard_gpqa_main", "main"),
        ("leaderboard_gpqa_diamond", "diamond"),
        ("leaderboard_gpqa_extended", "extended"),
    ] {
        let t = tag(&set, task, gpqa_doc);
        assert_eq!(values(&set, &t, "gpqa_subset"), [subset], "{task}");
        assert_eq!(values(&set, &t, "domain"), ["chemistry"], "{task}");
        assert_eq!(values(&set, &t, "subdomain"), ["chemistry_general"], "{task}");
    }
    for (task, bg) in [
        ("leaderboard_musr_murder_mysteries", "crime_fiction"),
        ("leaderboard_musr_object_placements", "household_scenes"),
        ("leaderboard_musr_team_allocation", "workplace_teams"),
    ] {
        let t = tag(&set, task, r#"{"narrative": "n", "question": "q"}"#);
        assert_eq!(values(&set, &t, "background"), [bg], "{task}");
        for axis in STANDARD_AXES {
            assert!(!is_unknown(values(&set, &t, axis)), "{task} {axis}");
        }
    }
    let subjects = [
        ("algebra", "Algebra", "algebra"),
        (
            "counting_and_prob",
            "Counting & Probability",
            "counting_and_probability",
        ),
        ("geometry", "Geometry", "geometry"),
        (
            "intermediate_algebra",
            "Intermediate Algebra",
            "intermediate_algebra",
        ),
        ("num_theory", "Number Theory", "number_theory"),
        ("prealgebra", "Prealgebra", "prealgebra"),
        ("precalc", "Precalculus", "precalculus"),
    ];
    for (sub, typ, bg) in subjects {
        for task in [
            format!("hendrycks_math_{sub}"),
            format!("minerva_math_{sub}"),
            format!("leaderboard_math_{sub}_hard"),
        ] {
            let t = tag(
                &set,
                &task,
                &format!(r#"{{"problem": "p", "type": "{typ}", "level": "Level 4"}}"#),
            );
            assert_eq!(values(&set, &t, "background"), [bg], "{task}");
            assert_eq!(values(&set, &t, "difficulty"), ["level_4"], "{task}");
        }
        // MATH-500: `subject` and an integer `level`.
        let t = tag(
            &set,
            "minerva_math500",
            &format!(r#"{{"problem": "p", "subject": "{typ}", "level": 4}}"#),
        );
        assert_eq!(values(&set, &t, "background"), [bg], "math500 {typ}");
        assert_eq!(values(&set, &t, "difficulty"), ["level_4"], "math500 {typ}");
    }
}

/// Every IFEval instruction id gets its own output constraint.
#[test]
fn every_ifeval_instruction_id_has_its_own_output_constraint() {
    let set = load_shipped();
    let ids: Vec<String> = set
        .rules()
        .iter()
        .filter_map(|r| r.id.strip_prefix("ifeval.instruction."))
        .map(|s| s.replacen('.', ":", 1))
        .collect();
    assert_eq!(ids.len(), 25);
    let mut seen = BTreeSet::new();
    for id in &ids {
        let t = tag(
            &set,
            "leaderboard_ifeval",
            &format!(r#"{{"prompt": "p", "instruction_id_list": ["{id}"]}}"#),
        );
        let oc = values(&set, &t, "output_constraint").to_vec();
        assert_eq!(oc.len(), 1, "{id}: {oc:?}");
        assert!(seen.insert(oc[0].clone()), "{id}: {} used twice", oc[0]);
        assert!(!is_unknown(values(&set, &t, "operation")), "{id}");
    }
}

// ------------------------------------------------------------------ demo and real logs

/// The demo loads every shipped taxonomy; the ones beyond bbh and math must
/// not change a tag or a rule id of the demo's synthetic items.
#[test]
fn the_other_taxonomies_leave_the_demo_tags_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let planted = caploop::synth::generate(&caploop::synth::SynthOptions {
        scenario: caploop::synth::Scenario::Demo,
        items: 400,
        samples: 1,
        seed: 7,
        out: tmp.path().join("demo"),
        effect: None,
        after: false,
    })
    .unwrap();
    let (table, _) = ingest(&[PathBuf::from(&planted.logs)], &IngestOptions::default()).unwrap();
    let only =
        TaxonomySet::load(&[taxonomy_dir().join("bbh.yaml"), taxonomy_dir().join("math.yaml")]).unwrap();
    let all = load_shipped();
    for i in 0..table.len() {
        let item = ItemRef {
            benchmark: &table.benchmark[i],
            task: &table.task[i],
            prompt: table.prompt[i].as_deref(),
            target: table.target[i].as_deref(),
            meta: &table.meta[i],
        };
        let (a, b) = (only.tag(&item), all.tag(&item));
        assert_eq!(a.rules, b.rules, "{}", table.meta[i]);
        for (k, axis) in only.axes().iter().enumerate() {
            assert_eq!(
                a.values[k],
                values(&all, &b, &axis.name),
                "{} {}",
                axis.name,
                table.meta[i]
            );
        }
    }
}

/// Per benchmark, the axes whose values the task name or the doc fields
/// determine (regex-derived axes are reported, not asserted).
pub fn determined_axes(benchmark: &str) -> &'static [&'static str] {
    match benchmark {
        "gsm8k" => &["background", "task_type", "operation", "output_constraint"],
        "bbh" | "musr" | "winogrande" => &["background", "task_type", "operation", "output_constraint"],
        "math" => &["background", "task_type", "output_constraint", "difficulty"],
        "arc" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "difficulty",
        ],
        "mmlu" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "domain",
            "subject",
        ],
        "mmlu_pro" | "mmlu_pro_plus" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "domain",
        ],
        "hellaswag" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "context_source",
        ],
        "gpqa" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "domain",
            "subdomain",
        ],
        "ifeval" => &["task_type", "operation", "output_constraint"],
        "humaneval" | "mbpp" | "aime" => &["background", "task_type", "output_constraint"],
        _ => &[],
    }
}

/// The real lm-evaluation-harness logs in `tests/fixtures/samples` (gsm8k,
/// winogrande, mmlu_pro_plus): the unknown share per axis is printed, and
/// must stay under 5% on the axes the doc fields determine.
#[test]
fn few_unknowns_on_real_lm_eval_logs() {
    let dirs: Vec<PathBuf> = ["kt-lmeval", "phi3-lmeval", "pyfade-lmeval"]
        .iter()
        .map(|d| samples_dir().join(d))
        .collect();
    let (mut table, _) = ingest(&dirs, &IngestOptions::default()).unwrap();
    let coverage = caploop::tagging::tag_table(&mut table, &load_shipped());
    let benchmarks: BTreeSet<&str> = coverage.iter().map(|c| c.benchmark.as_str()).collect();
    assert_eq!(
        benchmarks,
        BTreeSet::from(["gsm8k", "mmlu_pro_plus", "winogrande"])
    );
    for c in &coverage {
        let shares: Vec<String> = c
            .unknown
            .iter()
            .map(|(axis, n)| format!("{axis} {:.0}%", 100.0 * *n as f64 / c.items as f64))
            .collect();
        println!(
            "{} ({} items) unknown: {}",
            c.benchmark,
            c.items,
            shares.join(", ")
        );
        for axis in determined_axes(&c.benchmark) {
            let n = c.unknown.iter().find(|(a, _)| a == axis).unwrap().1;
            let share = n as f64 / c.items as f64;
            assert!(
                share < 0.05,
                "{} {axis}: {:.1}% unknown",
                c.benchmark,
                100.0 * share
            );
        }
    }
}
