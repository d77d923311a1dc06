//! Inspect AI logs: the real test logs of inspect_ai
//! (`tests/fixtures/samples/inspect-testlogs`), the edge-case fixtures built
//! with Inspect itself (`tests/fixtures/inspect`, README there), and, when
//! `.ci/inspect.sh` has run (`CAPLOOP_INSPECT_LOGS`), a real two-checkpoint
//! run whose candidate hits `max_tokens` on a known subset.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use caploop::ingest::{ingest, Format, IngestOptions};
use caploop::table::SampleTable;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inspect")
        .join(name)
}

fn opts() -> IngestOptions {
    IngestOptions {
        format: Format::Inspect,
        ..IngestOptions::default()
    }
}

fn read(path: &Path) -> (SampleTable, caploop::ingest::IngestReport) {
    ingest(&[path.to_path_buf()], &opts()).unwrap()
}

/// Rows of one (item, epoch) by filter.
fn rows_of<'a>(t: &'a SampleTable, item: &str, sample: u32) -> BTreeMap<&'a str, usize> {
    (0..t.len())
        .filter(|&i| t.item_id[i] == item && t.sample_idx[i] == sample)
        .map(|i| (t.filter[i].as_deref().unwrap_or("-"), i))
        .collect()
}

#[test]
fn every_real_inspect_test_log_ingests_one_row_per_sample() {
    // Samples per file, counted with Python (unique `samples/*.json` members of
    // an .eval, `len(samples)` of a .json log):
    //   python3 -c "import zipfile,json,glob
    //   for f in sorted(glob.glob('tests/fixtures/samples/inspect-testlogs/*')):
    //       n = len({m for m in zipfile.ZipFile(f).namelist() if m.startswith('samples/') and m.endswith('.json')}) \
    //           if f.endswith('.eval') else len(json.load(open(f))['samples'])
    //       print(f, n)"
    // Each has one scorer (or none), so one row per sample.
    let want = [
        (
            "2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval",
            10,
            "openai/gpt-4o-mini",
        ),
        (
            "2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval",
            10,
            "openai/gpt-4o-mini",
        ),
        (
            "2025-05-12T20-28-13-04-00_popularity.json",
            3,
            "openai/gpt-4o-mini",
        ),
        ("log_formats.eval", 1, "ollama/llama3.1"),
        ("log_formats.json", 1, "ollama/llama3.1"),
        ("mmlu-no-summary-choices.eval", 1, "openai/gpt-4o"),
        ("mmlu-summary-choices.eval", 1, "openai/gpt-4o"),
    ];
    let dir = common::samples_dir().join("inspect-testlogs");
    let mut seen = 0;
    for (name, n, model) in want {
        let (t, report) = read(&dir.join(name));
        assert_eq!(t.len(), n, "{name}");
        assert!(report.skipped.is_empty(), "{name}");
        assert_eq!(report.files.len(), 1);
        for i in 0..t.len() {
            assert_eq!(t.run[i], model, "{name}");
            assert_eq!(t.sample_idx[i], 0, "{name}: every log has one epoch");
            // Every sample of these logs stopped by itself and logged its usage.
            assert_eq!(t.finish_reason[i].as_deref(), Some("stop"), "{name}");
            assert!(t.response_tokens[i].is_some(), "{name}");
            assert!(t.response[i].as_deref().is_some_and(|r| !r.is_empty()), "{name}");
            assert!(t.prompt[i].is_some() && t.target[i].is_some(), "{name}");
        }
        seen += 1;
    }
    // Every file of the folder is in the list above.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), seen);
}

#[test]
fn real_logs_keep_scores_answers_and_the_unscored_state() {
    let dir = common::samples_dir().join("inspect-testlogs");
    // The scored popularity log: header results.scores[match].metrics.accuracy = 0.8.
    let (t, _) = read(&dir.join("2025-02-11T15-18-04-05-00_popularity_mj7khqpMM4GBCfVQozKgzB.eval"));
    assert_eq!(t.correct.iter().filter(|c| **c).count(), 8);
    assert!(t.filter.iter().all(|f| f.as_deref() == Some("match")));
    assert!(t.primary_filter.iter().all(|p| *p));
    // samples/9_epoch_1.json: value "C", answer "Yes", target " Yes", output "Yes", 2 output tokens.
    let i = (0..t.len()).find(|&i| t.item_id[i] == "9").unwrap();
    assert_eq!((t.score[i], t.extracted[i].as_deref()), (1.0, Some("Yes")));
    assert_eq!(
        (t.target[i].as_deref(), t.response[i].as_deref()),
        (Some(" Yes"), Some("Yes"))
    );
    assert_eq!(t.response_tokens[i], Some(2));
    assert_eq!(t.meta[i], r#"{"label_confidence":0.8723909363578994}"#);
    // The unscored log: `scores: {}` on every sample -> unscored, never 0.
    let (t, report) = read(&dir.join("2025-02-11T15-17-00-05-00_popularity_dPiJifoWeEQBrfWsAopzWr.eval"));
    assert!(t.score.iter().all(|s| s.is_nan()));
    assert!(!t.correct.iter().any(|c| *c));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("10 of 10 samples unscored")));
    // mmlu: choice scorer, value "I", answer "C", target "A", output "ANSWER: C", usage 3 tokens.
    let (t, _) = read(&dir.join("mmlu-summary-choices.eval"));
    assert_eq!(t.benchmark[0], "mmlu");
    assert_eq!(t.task[0], "inspect_evals/mmlu_0_shot");
    assert_eq!(t.filter[0].as_deref(), Some("choice"));
    assert_eq!((t.score[0], t.correct[0]), (0.0, false));
    assert_eq!(t.extracted[0].as_deref(), Some("C"));
    assert_eq!(t.target[0].as_deref(), Some("A"));
    assert_eq!(t.response[0].as_deref(), Some("ANSWER: C"));
    assert_eq!(t.response_tokens[0], Some(3));
    assert_eq!(t.meta[0], r#"{"subject":"college_physics"}"#);
    // The cancelled JSON log is read and flagged.
    let (_, report) = read(&dir.join("2025-05-12T20-28-13-04-00_popularity.json"));
    assert!(report.warnings.iter().any(|w| w.contains("status 'cancelled'")));
}

/// What `make_fixtures.py` gave its run: items q1, q_2, q3 (targets 4, 7,
/// 10), two epochs, scorers `grade` (first: primary; NaN on q3) and
/// `pattern`; q_2's output runs to `max_tokens` (8) with no answer.
fn check_fixture_rows(t: &SampleTable, name: &str) {
    assert_eq!(t.len(), 12, "{name}: 3 items x 2 epochs x 2 scorers");
    for item in ["q1", "q_2", "q3"] {
        for epoch in 0..2 {
            let r = rows_of(t, item, epoch);
            assert_eq!(
                r.keys().copied().collect::<Vec<_>>(),
                ["grade", "pattern"],
                "{name} {item}"
            );
            let (g, p) = (r["grade"], r["pattern"]);
            assert!(t.primary_filter[g] && !t.primary_filter[p], "{name}");
            assert_eq!(t.run[g], "mockllm/fixture");
            assert_eq!(t.task[g], t.benchmark[g]);
            assert_eq!(t.max_gen_toks[g], Some(8), "{name}");
            assert_eq!(t.meta[g], r#"{"kind":"sum"}"#);
            match item {
                "q1" => {
                    assert_eq!(t.response[g].as_deref(), Some("ANSWER: 4"), "{name}");
                    assert_eq!((t.score[g], t.correct[g]), (1.0, true));
                    assert_eq!(t.extracted[p].as_deref(), Some("4"));
                    assert_eq!(t.finish_reason[g].as_deref(), Some("stop"));
                    assert_eq!(t.response_tokens[g], Some(2));
                }
                "q_2" => {
                    assert_eq!(t.finish_reason[g].as_deref(), Some("max_tokens"), "{name}");
                    assert_eq!(t.response_tokens[g], Some(7));
                    assert_eq!((t.score[g], t.correct[g]), (0.0, false));
                    assert_eq!((t.score[p], t.extracted[p].as_deref()), (0.0, None));
                    assert_eq!(t.target[g].as_deref(), Some("7"));
                }
                _ => {
                    // Score.unscored(): a bare NaN in the log.
                    assert!(t.score[g].is_nan(), "{name}: q3 is unscored, not 0");
                    assert!(!t.correct[g]);
                    assert_eq!((t.score[p], t.correct[p]), (1.0, true));
                    assert_eq!(t.prompt[g].as_deref(), Some("What is 5 + 5?"));
                }
            }
        }
    }
}

#[test]
fn zstd_multi_frame_deflate_and_json_logs_read_the_same() {
    // multiframe.eval: zstd members (method 93) of several frames each
    // (written with Inspect's frame cap lowered to 512 bytes).
    let f = std::fs::File::open(fixture("multiframe.eval")).unwrap();
    let mut z = zip::ZipArchive::new(f).unwrap();
    let m = z.by_name("samples/q_2_epoch_1.json").unwrap();
    assert_eq!(m.compression(), zip::CompressionMethod::Zstd);
    drop(m);
    let raw = std::fs::read(fixture("multiframe.eval")).unwrap();
    let frames = raw.windows(4).filter(|w| *w == [0x28, 0xb5, 0x2f, 0xfd]).count();
    assert!(frames > z.len(), "{frames} zstd frames in {} members", z.len());
    let mut tables = Vec::new();
    for name in ["multiframe.eval", "deflate.eval", "nan.json"] {
        let (t, report) = read(&fixture(name));
        check_fixture_rows(&t, name);
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("2 of 6 samples unscored")),
            "{name}"
        );
        tables.push(t);
    }
    // Same samples whatever the container: equal but for the source column.
    let strip = |t: &SampleTable| {
        let mut t = t.clone();
        t.source.clear();
        let mut rows: Vec<String> = (0..t.len())
            .map(|i| {
                format!(
                    "{:?}",
                    (
                        &t.item_id[i],
                        t.sample_idx[i],
                        &t.filter[i],
                        t.score[i].to_bits(),
                        &t.response[i],
                        &t.extracted[i]
                    )
                )
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(strip(&tables[0]), strip(&tables[1]));
    assert_eq!(strip(&tables[0]), strip(&tables[2]));
}

#[test]
fn in_progress_superseded_and_invalidated_logs() {
    let (t, report) = read(&fixture("in-progress.eval"));
    check_fixture_rows(&t, "in-progress.eval");
    assert!(report.warnings.iter().any(|w| w.contains("no header.json")));

    // superseded.eval appends a second `samples/q1_epoch_1.json` (output
    // "ANSWER: 5", grade 0): the last entry wins, no duplicate row.
    let (t, _) = read(&fixture("superseded.eval"));
    assert_eq!(t.len(), 12);
    let r = rows_of(&t, "q1", 0);
    assert_eq!(t.response[r["grade"]].as_deref(), Some("ANSWER: 5"));
    assert_eq!(t.score[r["grade"]], 0.0);
    assert_eq!(t.extracted[r["pattern"]].as_deref(), Some("5"));
    assert_eq!(
        t.response[rows_of(&t, "q1", 1)["grade"]].as_deref(),
        Some("ANSWER: 4")
    );

    // invalidated.eval: q1 epoch 2 carries an `invalidation`: left out, counted.
    let (t, report) = read(&fixture("invalidated.eval"));
    assert_eq!(t.len(), 10);
    assert!(rows_of(&t, "q1", 1).is_empty());
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("1 invalidated samples left out: q1 epoch 2")));
}

#[test]
fn unscored_samples_count_in_no_comparison() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s.parquet");
    common::caploop()
        .args([
            "ingest",
            fixture("nan.json").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let ds = caploop::slices::load(&out, &BTreeMap::new()).unwrap();
    let ids: Vec<&str> = ds.items.iter().map(|i| i.id.as_str()).collect();
    // q3 has only NaN primary scores: it scores nowhere; q1, q_2 score both epochs.
    assert_eq!(ids, ["q1", "q_2"]);
    for s in ds.scores[0].iter().flatten() {
        assert_eq!(s.n, 2);
        assert!(s.mean().is_finite());
    }
}

#[test]
fn auto_detects_inspect_logs_by_extension_and_content() {
    for name in ["multiframe.eval", "nan.json"] {
        let (t, report) = ingest(&[fixture(name)], &IngestOptions::default()).unwrap();
        assert_eq!(t.len(), 12, "{name}");
        assert_eq!(report.files[0].format, "inspect");
    }
}

#[test]
fn corrupt_inputs_give_located_errors_and_exit_2() {
    let cases = [
        ("truncated.eval", "not a readable .eval log"),
        ("not-a-zip.eval", "not a zip archive"),
        ("no-header.eval", "needs 'header.json' or '_journal/start.json'"),
        (
            "bad-json.eval",
            "member 'samples/q1_epoch_1.json': invalid JSON at line 1",
        ),
        (
            "bad-score.eval",
            "member 'samples/q_2_epoch_1.json': field 'scores.grade.value': score 7 is outside [0, 1]",
        ),
    ];
    for (name, want) in cases {
        let path = fixture("corrupt").join(name);
        let err = ingest(std::slice::from_ref(&path), &opts())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(&path.display().to_string()), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        let tmp = tempfile::tempdir().unwrap();
        common::caploop()
            .args(["ingest", path.to_str().unwrap(), "--format", "inspect", "--out"])
            .arg(tmp.path().join("s.parquet"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(want));
    }
    // --skip-bad skips the bad sample, counts it, and keeps the rest.
    let o = IngestOptions {
        skip_bad: true,
        ..opts()
    };
    let (t, report) = ingest(&[fixture("corrupt").join("bad-score.eval")], &o).unwrap();
    assert_eq!(t.len(), 10);
    assert_eq!(report.skipped.len(), 1);
    assert!(report.skipped[0]
        .location
        .ends_with("bad-score.eval:samples/q_2_epoch_1.json"));
}

// ---- the real run of .ci/inspect.sh ----

fn ci_logs() -> Option<PathBuf> {
    match std::env::var_os("CAPLOOP_INSPECT_LOGS") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI must run .ci/inspect.sh and set CAPLOOP_INSPECT_LOGS")
        }
        None => {
            eprintln!("skipped: set CAPLOOP_INSPECT_LOGS (see .ci/run) to run the real Inspect test");
            None
        }
    }
}

fn plan(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap()
}

/// The score the plan gives one scorer's value (FORMATS.md section 9).
fn planned_score(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::Number(n) => n.as_f64(),
        Value::String(s) => Some(match s.as_str() {
            "C" | "yes" => 1.0,
            "P" => 0.5,
            _ => 0.0,
        }),
        _ => panic!("no scalar: {v}"),
    }
}

#[test]
fn real_inspect_run_reads_as_the_task_was_given() {
    let Some(dir) = ci_logs() else { return };
    let p = plan(&dir);
    let (t, report) = ingest(std::slice::from_ref(&dir), &IngestOptions::default()).unwrap();
    assert!(report.skipped.is_empty());
    let epochs = p["epochs"].as_u64().unwrap() as u32;
    let max_tokens = p["max_tokens"].as_u64().unwrap() as u32;
    for (run, r) in p["runs"].as_object().unwrap() {
        // Inspect's current release writes zstd members.
        let log = dir.join(r["log"].as_str().unwrap());
        let mut z = zip::ZipArchive::new(std::fs::File::open(&log).unwrap()).unwrap();
        assert_eq!(
            z.by_name("header.json").unwrap().compression(),
            zip::CompressionMethod::Zstd
        );
        let samples = r["samples"].as_object().unwrap();
        let rows: Vec<usize> = (0..t.len()).filter(|&i| t.run[i] == *run).collect();
        // One row per sample, epoch and scorer; a dict scorer (verdict) one per key.
        assert_eq!(rows.len(), samples.len() * epochs as usize * 5, "{run}");
        for &i in &rows {
            let s = &samples[&t.item_id[i]];
            assert_eq!(t.task[i], "arith");
            assert!(t.sample_idx[i] < epochs);
            assert_eq!(
                t.response[i].as_deref(),
                s["response"].as_str(),
                "{run} {}",
                t.item_id[i]
            );
            assert_eq!(t.finish_reason[i].as_deref(), s["stop_reason"].as_str());
            assert_eq!(
                t.response_tokens[i],
                s["output_tokens"].as_u64().map(|n| n as u32)
            );
            assert_eq!(t.target[i].as_deref(), s["target"].as_str());
            assert_eq!(t.prompt[i].as_deref(), s["input"].as_str());
            assert_eq!(t.max_gen_toks[i], Some(max_tokens));
            let f = t.filter[i].as_deref().unwrap();
            assert_eq!(t.primary_filter[i], f == "pattern", "{f}");
            let (scorer, key) = f.split_once('/').map_or((f, None), |(a, b)| (a, Some(b)));
            let sc = &s["scores"][scorer];
            let value = match key {
                Some(k) => &sc["value"][k],
                None => &sc["value"],
            };
            match planned_score(value) {
                None => assert!(t.score[i].is_nan(), "{run} {} {f}: unscored", t.item_id[i]),
                Some(x) => assert_eq!(t.score[i], x, "{run} {} {f}", t.item_id[i]),
            }
            assert_eq!(t.correct[i], t.score[i] == 1.0);
            if scorer != "includes" {
                assert_eq!(
                    t.extracted[i].as_deref(),
                    sc["answer"].as_str(),
                    "{run} {} {f}",
                    t.item_id[i]
                );
            }
        }
    }
}

#[test]
fn max_tokens_on_a_known_subset_is_data_out_with_the_termination_fix() {
    let Some(dir) = ci_logs() else { return };
    let p = plan(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("samples.parquet");
    let filters = BTreeMap::new();
    caploop::ingest::ingest_into(
        std::slice::from_ref(&dir),
        &IngestOptions::default(),
        caploop::ingest::SinkOptions {
            out: Some(&out),
            index: true,
            ..caploop::ingest::SinkOptions::new(&filters)
        },
    )
    .unwrap();
    let (_, ev) = caploop::diagnose::diagnose(
        &out,
        Some("mockllm/ckpt-base"),
        "mockllm/ckpt-noeos",
        &caploop::slices::CompareSettings::default(),
        &caploop::diagnose::DiagnoseSettings::default(),
    )
    .unwrap();
    let v = ev.verdicts.iter().find(|v| v.benchmark == "arith").unwrap();
    assert_eq!(v.verdict, caploop::diagnose::Verdict::DataOut, "{}", v.reason);
    assert_eq!(v.fix.as_ref().unwrap().kind, "termination", "{}", v.reason);
    // The drop is exactly the items that ran to the limit (their base answer
    // was right): count them from the plan.
    let base = &p["runs"]["mockllm/ckpt-base"]["samples"];
    let cand = &p["runs"]["mockllm/ckpt-noeos"]["samples"];
    let n = base.as_object().unwrap().len() as f64;
    let lost = base
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, s)| {
            s["scores"]["pattern"]["value"] == "C" && cand[id.as_str()]["stop_reason"] == "max_tokens"
        })
        .count() as f64;
    assert!(lost > 0.0);
    assert!(
        (v.delta + lost / n).abs() < 1e-9,
        "delta {} vs -{lost}/{n}",
        v.delta
    );
    assert!((v.content.delta).abs() < 1e-9, "content {}", v.content.delta);
}
