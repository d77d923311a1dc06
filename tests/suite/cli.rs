//! The real binary: exit codes, error messages, output files.

use crate::common;

use std::fs;

use crate::common::caploop;
use predicates::prelude::*;

const RESULTS: &str = r#"{"results": {}, "configs": {"gsm8k": {"output_type": "generate_until", "filter_list": [{"name": "strict-match"}], "generation_kwargs": {"max_gen_toks": 256}}}, "versions": {"gsm8k": 3}, "n-shot": {"gsm8k": 5}, "model_name": "m"}"#;

fn good_line(doc_id: usize) -> String {
    format!(
        r##"{{"doc_id": {doc_id}, "doc": {{"question": "q{doc_id}"}}, "target": "1", "arguments": {{"gen_args_0": {{"arg_0": "Q", "arg_1": {{}}}}}}, "resps": [["The answer is 1"]], "filtered_resps": ["1"], "filter": "strict-match", "metrics": ["exact_match"], "doc_hash": "h{doc_id}", "prompt_hash": "p", "exact_match": 1.0}}"##
    )
}

fn logs_with_bad_line(dir: &std::path::Path) -> std::path::PathBuf {
    let run = dir.join("m");
    fs::create_dir_all(&run).unwrap();
    fs::write(run.join("results_2025-01-01T00-00-00.000001.json"), RESULTS).unwrap();
    let bad = r#"{"doc_id": 1, "doc": {"question": "q"}, "resps": [["x"]], "metrics": ["exact_match"], "exact_match": "high"}"#;
    fs::write(
        run.join("samples_gsm8k_2025-01-01T00-00-00.000001.jsonl"),
        format!("{}\n{bad}\n{}\n", good_line(0), good_line(2)),
    )
    .unwrap();
    run
}

#[test]
fn a_malformed_line_fails_with_exit_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    logs_with_bad_line(tmp.path());
    caploop()
        .args(["ingest"])
        .arg(tmp.path())
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "samples_gsm8k_2025-01-01T00-00-00.000001.jsonl:2:",
        ))
        .stderr(predicate::str::contains("metric 'exact_match' is not a number"));
    assert!(!tmp.path().join("s.parquet").exists());
}

#[test]
fn skip_bad_counts_and_lists_the_skipped_line() {
    let tmp = tempfile::tempdir().unwrap();
    logs_with_bad_line(tmp.path());
    let out = tmp.path().join("s.parquet");
    caploop()
        .args(["ingest", "--skip-bad"])
        .arg(tmp.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("2 rows"))
        .stdout(predicate::str::contains("skipped 1 malformed records"));
    let report = fs::read_to_string(out.with_extension("ingest.json")).unwrap();
    assert!(report.contains(".jsonl:2"), "{report}");
    let t = caploop::table::read_parquet(&out).unwrap();
    assert_eq!(t.len(), 2);
}

#[test]
fn a_missing_path_is_an_io_error_with_exit_2() {
    caploop()
        .args(["ingest", "/nonexistent/logs", "--out", "/tmp/x.parquet"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: /nonexistent/logs:"));
}

#[test]
fn check_passes_on_the_shipped_taxonomies() {
    caploop()
        .arg("check")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/taxonomies"))
        .assert()
        .success()
        .stdout(predicate::str::contains("ok"));
}

#[test]
fn check_reports_every_error_of_a_file_with_its_location() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.yaml");
    fs::write(
        &f,
        "name: t\naxes:\n  operation: [counting, modular_arithmetic]\nrules:\n  - id: r1\n    when: { benchmark: gsm8k }\n    add: { operation: modular }\n  - id: r2\n    when: { benchmark: gsm8k }\n    add: { colour: red }\n",
    )
    .unwrap();
    let assert = caploop().arg("check").arg(&f).assert().code(2);
    let err = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(err.contains("bad.yaml:7:"), "{err}");
    assert!(err.contains("modular"), "{err}");
    assert!(
        err.contains("counting, modular_arithmetic"),
        "says what is valid: {err}"
    );
    assert!(err.contains("bad.yaml:10:"), "second error reported too: {err}");
}

#[test]
fn demo_writes_its_outputs_and_is_byte_identical_across_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let files = [
        "samples.parquet",
        "slices.csv",
        "comparison.csv",
        "comparison.json",
        "report.md",
    ];
    let mut first = Vec::new();
    for round in 0..2 {
        caploop()
            .args(["demo", "--items", "600", "--out"])
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("report:"));
        for (i, f) in files.iter().enumerate() {
            let bytes = fs::read(out.join(f)).unwrap();
            assert!(!bytes.is_empty(), "{f} is empty");
            if round == 0 {
                first.push(bytes);
            } else {
                assert!(
                    bytes == first[i],
                    "{f} differs between two runs on the same inputs"
                );
            }
        }
    }
    let report = fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## bbh"));
    assert!(report.contains("## math"));
}

#[test]
fn several_samples_per_item_go_through_generic_jsonl_with_pass_at_k() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    caploop()
        .args([
            "synth",
            "--scenario",
            "ops",
            "--items",
            "400",
            "--samples",
            "4",
            "--seed",
            "2",
            "--out",
        ])
        .arg(d)
        .assert()
        .success();
    caploop()
        .arg("ingest")
        .arg(d.join("samples.jsonl"))
        .arg("--out")
        .arg(d.join("s.parquet"))
        .assert()
        .success()
        .stdout(predicate::str::contains("3200 rows"));
    caploop()
        .args([
            "tag",
            "--taxonomy",
            concat!(env!("CARGO_MANIFEST_DIR"), "/taxonomies/math.yaml"),
            "--samples",
        ])
        .arg(d.join("s.parquet"))
        .arg("--out")
        .arg(d.join("t.parquet"))
        .assert()
        .success();
    // Tagging while ingesting writes the same file in one pass.
    caploop()
        .arg("ingest")
        .arg(d.join("samples.jsonl"))
        .args([
            "--taxonomy",
            concat!(env!("CARGO_MANIFEST_DIR"), "/taxonomies/math.yaml"),
        ])
        .arg("--out")
        .arg(d.join("u.parquet"))
        .assert()
        .success()
        .stdout(predicate::str::contains("math: 400 items; unknown:"));
    assert!(
        fs::read(d.join("u.parquet")).unwrap() == fs::read(d.join("t.parquet")).unwrap(),
        "ingest --taxonomy differs from ingest then tag"
    );
    // A bad taxonomy stops ingest before any input is read or output written.
    fs::write(d.join("bad.yaml"), "name: x\naxes: [oops\n").unwrap();
    caploop()
        .arg("ingest")
        .arg(d.join("samples.jsonl"))
        .arg("--taxonomy")
        .arg(d.join("bad.yaml"))
        .arg("--out")
        .arg(d.join("v.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.yaml"));
    assert!(!d.join("v.parquet").exists());
    fs::write(d.join("set.yaml"), "pass_k: [1, 4]\nmin_items: 10\n").unwrap();
    compare_ckpts(d, "cmp")
        .arg("--samples")
        .arg(d.join("t.parquet"))
        .arg("--settings")
        .arg(d.join("set.yaml"))
        .assert()
        .success();
    let slices = fs::read_to_string(d.join("cmp/slices.csv")).unwrap();
    assert!(slices.starts_with(
        "run,benchmark,slice,items,samples,mean,ci_low,ci_high,k,pass_at_k,pass_at_1,pass_at_4\n"
    ));
    let all: Vec<&str> = slices.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&all[..5], &["ckpt-1000", "math", "*", "400", "1600"]);
    assert_eq!(all[5], all[10], "pass@1 is the mean of item means");
    assert!(all[11].parse::<f64>().unwrap() > all[10].parse::<f64>().unwrap());
    let cmp = fs::read_to_string(d.join("cmp/comparison.csv")).unwrap();
    let planted = cmp
        .lines()
        .find(|l| l.starts_with("math,operation=counting & operation=modular_arithmetic,"))
        .unwrap();
    assert!(planted.contains(",regressed,paired_t,"), "{planted}");
    // Compared straight from the logs (read, tagged and indexed in memory, no
    // table written): the same outputs, plus the ingest report.
    compare_ckpts(d, "cmp-logs")
        .arg(d.join("samples.jsonl"))
        .args([
            "--taxonomy",
            concat!(env!("CARGO_MANIFEST_DIR"), "/taxonomies/math.yaml"),
        ])
        .arg("--settings")
        .arg(d.join("set.yaml"))
        .assert()
        .success()
        .stdout(predicate::str::contains("math: 400 items; unknown:"))
        .stdout(predicate::str::contains("3200 rows from 1 files"));
    for f in [
        "slices.csv",
        "comparison.csv",
        "comparison.json",
        "report.md",
        "report.html",
    ] {
        assert!(
            fs::read(d.join("cmp").join(f)).unwrap() == fs::read(d.join("cmp-logs").join(f)).unwrap(),
            "{f}: compare from the logs differs from compare --samples"
        );
    }
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(d.join("cmp-logs/ingest.json")).unwrap()).unwrap();
    assert_eq!(report["files"].as_array().unwrap().len(), 1);
    assert!(!d.join("cmp-logs/samples.parquet").exists());
    // Reading options do not apply to a table: refused, nothing written.
    compare_ckpts(d, "cmp-bad")
        .arg("--samples")
        .arg(d.join("t.parquet"))
        .args(["--format", "generic", "--taxonomy"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/taxonomies/math.yaml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--format, --taxonomy read evaluation logs",
        ));
    assert!(!d.join("cmp-bad").exists());
    // Neither a table nor logs.
    caploop()
        .args(["compare", "--baseline", "a", "--candidate", "b", "--out"])
        .arg(d.join("cmp-none"))
        .assert()
        .code(2);
}

/// A task a results file lists without a samples file is named in a warning,
/// never silently left out.
#[test]
fn tasks_without_samples_files_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::samples_dir().join("pyfade-lmeval/gsm8k");
    let results = "results_2025-09-09T13-31-53.431753.json";
    let samples = "samples_gsm8k_2025-09-09T13-31-53.431753.jsonl";
    fs::copy(src.join(samples), tmp.path().join(samples)).unwrap();
    let mut r: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(src.join(results)).unwrap()).unwrap();
    let gsm = r["configs"]["gsm8k"].clone();
    r["configs"]["arc_easy"] = gsm;
    fs::write(tmp.path().join(results), r.to_string()).unwrap();
    caploop()
        .arg("ingest")
        .arg(tmp.path())
        .arg("--out")
        .arg(tmp.path().join("out/s.parquet"))
        .assert()
        .success();
    let report = fs::read_to_string(tmp.path().join("out/s.ingest.json")).unwrap();
    assert!(
        report.contains("no samples file beside it, so they are not read: arc_easy"),
        "{report}"
    );
}

/// Log text reaches report.md and plan.md as text: a model name holding a
/// tag is not markup, and a bidi override is shown, in markdown and HTML.
#[test]
fn hostile_run_ids_are_text_in_every_report() {
    let tmp = tempfile::tempdir().unwrap();
    let rows: String = (0..60)
        .flat_map(|i| {
            [("<img src=x onerror=alert(1)>", i % 2 == 0), ("cand\u{202E}txt", i % 3 == 0)]
                .into_iter()
                .map(move |(run, ok)| {
                    format!(
                        "{{\"run\": {}, \"benchmark\": \"b\", \"task\": \"t\", \"item_id\": \"{i}\", \"prompt\": \"q{i}\", \"score\": {}}}\n",
                        serde_json::to_string(run).unwrap(),
                        u8::from(ok)
                    )
                })
        })
        .collect();
    fs::write(tmp.path().join("s.jsonl"), rows).unwrap();
    fs::write(
        tmp.path().join("cols.yaml"),
        "columns: {run: run, benchmark: benchmark, task: task, item_id: item_id, prompt: prompt, score: score}\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    caploop()
        .arg("ingest")
        .arg(tmp.path().join("s.jsonl"))
        .args(["--format", "generic", "--columns"])
        .arg(tmp.path().join("cols.yaml"))
        .arg("--out")
        .arg(out.join("s.parquet"))
        .assert()
        .success();
    caploop()
        .args(["compare", "--samples"])
        .arg(out.join("s.parquet"))
        .args([
            "--baseline",
            "<img src=x onerror=alert(1)>",
            "--candidate",
            "cand\u{202E}txt",
            "--out",
        ])
        .arg(out.join("cmp"))
        .assert()
        .success();
    let md = fs::read_to_string(out.join("cmp/report.md")).unwrap();
    let html = fs::read_to_string(out.join("cmp/report.html")).unwrap();
    assert!(!md.contains("<img"), "{md}");
    assert!(md.contains("&lt;img"), "{md}");
    assert!(!md.contains('\u{202E}') && md.contains("⟨U+202E⟩"), "{md}");
    assert!(!html.contains("<img"), "raw tag in report.html");
    if let Some(at) = html.find('\u{202E}') {
        panic!(
            "raw bidi override in report.html: {}",
            &html[at.saturating_sub(200)..at + 3]
        );
    }
    assert!(html.contains("⟨U+202E⟩"), "no bidi mark in report.html");
}

/// `caploop compare` of the synth checkpoints into `d/out`.
fn compare_ckpts(d: &std::path::Path, out: &str) -> assert_cmd::Command {
    let mut c = caploop();
    c.args([
        "compare",
        "--baseline",
        "ckpt-1000",
        "--candidate",
        "ckpt-2000",
        "--out",
    ])
    .arg(d.join(out));
    c
}
