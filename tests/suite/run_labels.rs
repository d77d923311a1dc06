//! `caploop run` with a pipeline config's `vocabulary:`, `labels:` and
//! `adjudicated:` on the hand-written fixtures of `tests/fixtures/labels/`
//! (see its README): the run tags in the paper's label space with the
//! labels applied, exactly as `ingest` + `tag --vocabulary --labels
//! --adjudicated` + `compare` do step by step; it writes the label report
//! and the disagreements into its folder; and it refuses, before any output,
//! a vocabulary that misses a taxonomy value and a label file that is not
//! there.

use std::path::{Path, PathBuf};

use predicates::str::contains;

use crate::common::caploop;
use crate::common::labelled::{fixture, item_tags, json, repo, samples, tag};

/// A pipeline config over the fixtures, with `extra` lines appended.
fn config(dir: &Path, extra: &str) -> PathBuf {
    let cfg = dir.join("pipeline.yaml");
    let text = format!(
        "inputs: [{}]\ntaxonomies: [{}]\nbaseline: ckpt-a\ncandidate: ckpt-b\ncompare: {{ min_items: 1 }}\n{extra}",
        fixture("samples.jsonl").display(),
        repo("taxonomies/math.yaml").display(),
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

fn labelled(dir: &Path) -> PathBuf {
    config(
        dir,
        &format!(
            "vocabulary: {}\nlabels: [{}, {}]\nadjudicated: [{}]\n",
            repo("taxonomies/paper/mapping.yaml").display(),
            fixture("model-a.jsonl").display(),
            fixture("model-b.csv").display(),
            fixture("adjudicated.jsonl").display(),
        ),
    )
}

#[test]
fn a_run_with_labels_tags_as_the_tag_stage_does() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    caploop()
        .args(["run", "--config"])
        .arg(labelled(dir.path()))
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("labels: 11 items labelled"))
        .stdout(contains("agreement task_type (model-a vs model-b)"));

    // The same steps one by one.
    let steps = dir.path().join("steps");
    std::fs::create_dir(&steps).unwrap();
    let s = samples(&steps);
    let tagged = steps.join("paper.parquet");
    tag(
        &s,
        &tagged,
        &[
            "--labels".as_ref(),
            fixture("model-a.jsonl").as_os_str(),
            fixture("model-b.csv").as_os_str(),
            "--adjudicated".as_ref(),
            fixture("adjudicated.jsonl").as_os_str(),
            "-q".as_ref(),
        ],
    )
    .success();
    let settings = steps.join("compare.yaml");
    std::fs::write(&settings, "min_items: 1\n").unwrap();
    caploop()
        .args(["compare", "-q", "--samples"])
        .arg(&tagged)
        .args(["--baseline", "ckpt-a", "--candidate", "ckpt-b", "--settings"])
        .arg(&settings)
        .arg("--out")
        .arg(steps.join("cmp"))
        .assert()
        .success();

    let run_tags = item_tags(&out.join("samples.parquet"));
    assert_eq!(run_tags, item_tags(&tagged));
    // The labels were applied, in the paper's axes (README of the fixtures):
    // the person's operation for i01 overrides what the labelers agreed on,
    // and task_type only exists in the paper's label space.
    let (axes, rules) = &run_tags["i01"];
    assert_eq!(
        axes["operation"],
        ["arithmetic_computation", "equation_formulation"]
    );
    assert!(rules.contains(&"label:person".to_string()), "{rules:?}");
    assert!(axes.contains_key("task_type"));
    assert_eq!(axes.get("background"), None, "no finer-vocabulary axis: {axes:?}");

    assert_eq!(
        json(&out.join("comparison.json"))["slices"],
        json(&steps.join("cmp/comparison.json"))["slices"]
    );
    let report = json(&out.join("labels.json"));
    let step_report = json(&steps.join("paper.labels.json"));
    for key in [
        "items_labelled",
        "agreement",
        "applied",
        "disagreements",
        "disagreements_open",
    ] {
        assert_eq!(report[key], step_report[key], "{key}");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("disagreements.jsonl")).unwrap(),
        std::fs::read_to_string(steps.join("paper.disagreements.jsonl")).unwrap()
    );
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("labels.json") && manifest.contains("disagreements.jsonl"));
}

#[test]
fn a_vocabulary_alone_translates_and_reports_no_labels() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cfg = config(
        dir.path(),
        &format!(
            "vocabulary: {}\n",
            repo("taxonomies/paper/mapping.yaml").display()
        ),
    );
    caploop()
        .args(["run", "-q", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let tags = item_tags(&out.join("samples.parquet"));
    assert_eq!(tags.len(), 12);
    for (axes, rules) in tags.values() {
        assert!(axes.contains_key("task_type") && !axes.contains_key("background"));
        assert!(!rules.iter().any(|r| r.starts_with("label:")), "{rules:?}");
    }
    assert!(!out.join("labels.json").exists());
}

#[test]
fn a_bad_vocabulary_or_a_missing_label_file_stops_the_run_before_it_writes() {
    let dir = tempfile::tempdir().unwrap();
    // A vocabulary that maps nothing misses every taxonomy value.
    let vocab = dir.path().join("vocab.yaml");
    let paper = std::fs::read_to_string(repo("taxonomies/paper/mapping.yaml")).unwrap();
    let head = &paper[..paper.find("\nmap:").unwrap()];
    let head = head.replace(
        "target: paper.yaml",
        &format!("target: {}", repo("taxonomies/paper/paper.yaml").display()),
    );
    std::fs::write(&vocab, format!("{head}\nmap: {{}}\n")).unwrap();
    let out = dir.path().join("run");
    caploop()
        .args(["run", "-q", "--config"])
        .arg(config(dir.path(), &format!("vocabulary: {}\n", vocab.display())))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("vocab.yaml"))
        .stderr(contains("no entry for operation="));
    assert!(!out.exists(), "nothing written");

    caploop()
        .args(["run", "-q", "--config"])
        .arg(config(dir.path(), "labels: [no-such-labels.jsonl]\n"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("no-such-labels.jsonl: no such label file"));
    assert!(!out.exists(), "nothing written");

    // A label file where the run writes its label report is refused.
    std::fs::create_dir(&out).unwrap();
    let inside = out.join("labels.json");
    std::fs::copy(fixture("model-a.jsonl"), &inside).unwrap();
    caploop()
        .args(["run", "-q", "--config"])
        .arg(config(dir.path(), &format!("labels: [{}]\n", inside.display())))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(contains("is an input and would be overwritten"));
    assert_eq!(
        std::fs::read(&inside).unwrap(),
        std::fs::read(fixture("model-a.jsonl")).unwrap()
    );
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing else written"
    );
}
