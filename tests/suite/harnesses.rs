//! OLMES, HELM and OpenCompass readers and format detection, on the real
//! OpenCompass and OLMES files in `tests/fixtures/samples` /
//! `tests/fixtures/olmes-real` and on fixtures built with the harnesses' own
//! classes (`tests/fixtures/{olmes,helm,opencompass-details}`, each README
//! says how). Expected values come from the generators' PLAN comments or
//! from the Python one-liners quoted beside them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{caploop, samples_dir};
use caploop::ingest::{ingest, Format, IngestOptions};
use caploop::table::SampleTable;
use predicates::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (item, sample) -> row index, for one run and task.
fn rows_of(t: &SampleTable, task: &str) -> BTreeMap<(String, u32), usize> {
    (0..t.len())
        .filter(|&i| t.task[i] == task)
        .map(|i| ((t.item_id[i].clone(), t.sample_idx[i]), i))
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

// ---------------------------------------------------------------- OpenCompass

#[test]
fn every_real_opencompass_file_gives_one_row_per_logged_sample() {
    // python3 -c "import json,glob; [print(f.split('/')[-2], len(json.load(open(f))))
    //   for f in sorted(glob.glob('tests/fixtures/samples/opencompass-corev2/*/*/*/*.json'))]"
    // -> baichuan2-7b-chat-hf 8, qwen-7b-chat-hf 8, baichuan2-7b-chat-hf_qwen-7b-chat-hf 8
    let dir = samples_dir().join("opencompass-corev2");
    let (t, report) = ingest(std::slice::from_ref(&dir), &IngestOptions::default()).unwrap();
    assert_eq!(report.files.len(), 3);
    for f in &report.files {
        assert_eq!(f.format, "opencompass");
        // Counted independently: the top-level members of the JSON object.
        let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&f.path).unwrap()).unwrap();
        assert_eq!(f.rows, v.as_object().unwrap().len(), "{}", f.path);
    }
    assert_eq!(t.len(), 24);
    let runs: std::collections::BTreeSet<&str> = t.run.iter().map(String::as_str).collect();
    assert_eq!(
        runs.into_iter().collect::<Vec<_>>(),
        [
            "baichuan2-7b-chat-hf",
            "baichuan2-7b-chat-hf_qwen-7b-chat-hf",
            "qwen-7b-chat-hf"
        ]
    );
    // No correctness in these files: every row is kept, unscored, and says so.
    assert!((0..t.len()).all(|i| t.filter[i].as_deref() == Some("unscored") && !t.primary_filter[i]));
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("no per-sample correctness")));
    // Item keys `<dataset>_<idx>`, the same for both models (pairable).
    let qwen: Vec<&str> = (0..t.len())
        .filter(|&i| t.run[i] == "qwen-7b-chat-hf")
        .map(|i| t.item_id[i].as_str())
        .collect();
    assert_eq!(qwen.len(), 8);
    assert_eq!(qwen[0], "COREV2_6A__0");
    let i = (0..t.len())
        .find(|&i| t.run[i] == "qwen-7b-chat-hf" && t.item_id[i] == "COREV2_6A__0")
        .unwrap();
    assert_eq!(t.response[i].as_deref(), Some("球最初会向上行进。\n"));
    assert!(t.prompt[i].as_deref().unwrap().contains("如果我在空中垂直抛球"));
    assert!(t.meta[i].contains("知识-社会常识"), "{}", t.meta[i]);
    // Detection names every file, the summary csv included, as OpenCompass.
    assert_eq!(report.detected.len(), 4);
    assert!(report.detected.iter().all(|d| d.format == "opencompass"));
    assert!(report
        .detected
        .iter()
        .any(|d| d.path.ends_with("report.csv") && d.reason.contains("not read")));
}

#[test]
fn opencompass_details_give_one_row_per_replica_with_all_three_correctness_keys() {
    // From make_fixture.py's PLAN; counts re-derived by
    // python3 -c "import json,glob
    // for f in sorted(glob.glob('tests/fixtures/opencompass-details/*/results/m1/*.json')):
    //   d=json.load(open(f))['details']
    //   print(f, sum(len(next(x[k] for k in ('correct','is_correct','cascade_correct') if k in x)) for x in d)
    //         if isinstance(d,list) else len(d))"
    // -> arc 2, gsm8k 6, math 2, race 3
    let (t, report) = ingest(
        &[fixtures().join("opencompass-details")],
        &IngestOptions::default(),
    )
    .unwrap();
    let per_task: BTreeMap<&str, usize> = report.files.iter().map(|f| (f.task.as_str(), f.rows)).collect();
    assert_eq!(
        per_task,
        BTreeMap::from([("arc", 2), ("gsm8k", 6), ("math", 2), ("race", 3)])
    );
    assert_eq!(t.len(), 13);
    assert!(t.run.iter().all(|r| r == "m1"));
    let gsm = rows_of(&t, "gsm8k");
    let score = |m: &BTreeMap<(String, u32), usize>, item: &str, s: u32| t.score[m[&(item.to_string(), s)]];
    // `correct` lists, one value per replica.
    assert_eq!([score(&gsm, "gsm8k_0", 0), score(&gsm, "gsm8k_0", 1)], [1.0, 0.0]);
    assert_eq!([score(&gsm, "gsm8k_1", 0), score(&gsm, "gsm8k_1", 1)], [1.0, 1.0]);
    assert_eq!([score(&gsm, "gsm8k_2", 0), score(&gsm, "gsm8k_2", 1)], [0.0, 0.0]);
    // The raw response and prompt come from the predictions file (replica r
    // of example i is prediction r * 3 + i); res_length gives the tokens.
    let i = gsm[&("gsm8k_0".to_string(), 1)];
    assert_eq!(t.response[i].as_deref(), Some("1+1=3"));
    assert_eq!(t.extracted[i].as_deref(), Some("3"));
    assert_eq!(t.target[i].as_deref(), Some("2"));
    assert_eq!(t.prompt[i].as_deref(), Some("Question: 1+1?\nAnswer:"));
    let cut = gsm[&("gsm8k_2".to_string(), 0)];
    assert_eq!(
        (t.response_tokens[cut], t.max_gen_toks[cut]),
        (Some(32), Some(32))
    );
    assert_eq!(t.extracted[cut].as_deref(), Some(""));
    // `is_correct` and `cascade_correct`.
    let math = rows_of(&t, "math");
    assert_eq!([score(&math, "math_0", 0), score(&math, "math_1", 0)], [1.0, 0.0]);
    let race = rows_of(&t, "race");
    assert_eq!(
        (0..3).map(|s| score(&race, "race_0", s)).collect::<Vec<_>>(),
        [1.0, 0.0, 1.0]
    );
    // The older index-keyed details shape.
    let arc = rows_of(&t, "arc");
    assert_eq!([score(&arc, "arc_0", 0), score(&arc, "arc_1", 0)], [1.0, 0.0]);
    assert!(t.primary_filter.iter().all(|&p| p), "every row here is scored");
    assert!(t
        .source
        .iter()
        .all(|s| s.contains("/results/m1/") && s.rsplit(':').next().unwrap().parse::<u32>().is_ok()));
}

// ---------------------------------------------------------------------- OLMES

#[test]
fn olmes_predictions_join_requests_and_metrics() {
    // From make_fixture.py's PLAN: gsm8k 3 docs x 2 repeats, arc_easy:mc 3 docs.
    let (t, report) = ingest(&[fixtures().join("olmes/run1")], &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), 9);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(t.run.iter().all(|r| r == "olmo-1b-step1000"));
    let gsm = rows_of(&t, "gsm8k");
    // native_id is the item key, not doc_id.
    let keys: std::collections::BTreeSet<&str> = gsm.keys().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys.into_iter().collect::<Vec<_>>(),
        ["gsm8k-11", "gsm8k-2", "gsm8k-7"]
    );
    let at = |item: &str, s: u32| gsm[&(item.to_string(), s)];
    let scores = |item: &str| [t.score[at(item, 0)], t.score[at(item, 1)]];
    // Repeat 0 by the logged exact_match; repeat 1 by model_answer == label.
    assert_eq!(scores("gsm8k-7"), [1.0, 0.0]);
    assert_eq!(scores("gsm8k-11"), [0.0, 1.0]);
    assert_eq!(scores("gsm8k-2"), [0.0, 1.0]);
    let cut = at("gsm8k-2", 0);
    assert_eq!(t.finish_reason[cut].as_deref(), Some("length"));
    assert_eq!(
        (t.response_tokens[cut], t.max_gen_toks[cut]),
        (Some(16), Some(16))
    );
    assert_eq!(t.extracted[cut].as_deref(), Some(""));
    assert_eq!(t.finish_reason[at("gsm8k-7", 0)].as_deref(), Some("stop"));
    let i = at("gsm8k-7", 1);
    assert_eq!(t.response[i].as_deref(), Some("It is 8"));
    assert_eq!(t.extracted[i].as_deref(), Some("8"));
    assert_eq!(t.target[i].as_deref(), Some("7"));
    // Prompt and doc from the requests file; settings from metrics.json.
    assert_eq!(t.prompt[i].as_deref(), Some("Question: What is 5 + 2?\nAnswer:"));
    assert!(
        t.meta[i].contains("\"question\":\"What is 5 + 2?\""),
        "{}",
        t.meta[i]
    );
    assert_eq!(t.task_version[i].as_deref(), Some("0.1"));
    assert_eq!(t.benchmark[i], "gsm8k");
    // Multiple choice: one row, the option chosen by acc_raw's predicted index.
    let arc = rows_of(&t, "arc_easy:mc");
    assert_eq!(arc.len(), 3);
    let b = arc[&("arc-b".to_string(), 0)];
    assert_eq!(
        (t.response[b].as_deref(), t.target[b].as_deref(), t.score[b]),
        (Some("2"), Some("0"), 0.0)
    );
    assert_eq!(t.n_shot[b], Some(5));
    assert_eq!(t.benchmark[b], "arc");
    assert_eq!(
        t.score[arc[&("arc-a".to_string(), 0)]] + t.score[arc[&("arc-c".to_string(), 0)]],
        2.0
    );
    assert!(report.detected.iter().all(|d| d.format == "olmes"));
}

#[test]
fn a_real_olmes_predictions_file_reads_without_its_companions() {
    // python3 -c "import json; print([json.loads(l)['metrics']['acc_per_char'] for l in
    //   open('tests/fixtures/olmes-real/task-000-arc_challenge:mc-predictions.jsonl')])"
    // -> [1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1]
    let dir = fixtures().join("olmes-real");
    let (t, report) = ingest(std::slice::from_ref(&dir), &IngestOptions::default()).unwrap();
    let file = dir.join("task-000-arc_challenge:mc-predictions.jsonl");
    let lines: Vec<serde_json::Value> = fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(t.len(), lines.len());
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(t.item_id[i], l["native_id"].as_str().unwrap());
        assert_eq!(t.score[i], l["metrics"]["acc_per_char"].as_f64().unwrap());
        assert_eq!(t.target[i], Some(l["label"].to_string()));
    }
    assert_eq!(t.score.iter().sum::<f64>(), 8.0);
    assert!(report
        .warnings
        .iter()
        .any(|w| w.contains("scored by 'acc_per_char'")));
    assert!(report.warnings.iter().any(|w| w.contains("no requests file")));
}

#[test]
fn olmes_files_from_different_runs_are_not_joined() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    copy_dir(&fixtures().join("olmes/run1"), &dir);
    let metrics = dir.join("task-000-gsm8k-metrics.json");
    let text = fs::read_to_string(&metrics).unwrap();
    fs::write(
        &metrics,
        text.replace(
            "a97cbc8e2007171cd854076350d5a016",
            "00000000000000000000000000000000",
        ),
    )
    .unwrap();
    caploop()
        .args(["ingest"])
        .arg(&dir)
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("task-000-gsm8k-predictions.jsonl:1"))
        .stderr(predicate::str::contains("task_hash"))
        .stderr(predicate::str::contains("different runs"));
    // --skip-bad does not skip a wrong join.
    caploop()
        .args(["ingest", "--skip-bad"])
        .arg(&dir)
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .code(2);
    assert!(!tmp.path().join("s.parquet").exists());
    // Within one file: a line from another model.
    fs::write(&metrics, text).unwrap();
    fs::remove_file(&metrics).unwrap();
    let pred = dir.join("task-000-gsm8k-predictions.jsonl");
    let lines: Vec<String> = fs::read_to_string(&pred)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mixed = [
        lines[0].clone(),
        lines[1].replace(
            "7552aa5ef73329f3c2001beb770c7b60",
            "ffffffffffffffffffffffffffffffff",
        ),
        lines[2].clone(),
    ];
    fs::write(&pred, mixed.join("\n") + "\n").unwrap();
    caploop()
        .args(["ingest"])
        .arg(&dir)
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("task-000-gsm8k-predictions.jsonl:2"))
        .stderr(predicate::str::contains("model_hash"))
        .stderr(predicate::str::contains("line 1"));
}

// ----------------------------------------------------------------------- HELM

#[test]
fn helm_run_folders_give_one_row_per_instance_stats_entry() {
    // python3 -c "import json,glob; print(sum(len(json.load(open(f))) for f in
    //   glob.glob('tests/fixtures/helm/benchmark_output/runs/v1/*/per_instance_stats.json')))" -> 7
    let (t, report) = ingest(&[fixtures().join("helm")], &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), 7);
    assert_eq!(report.files.len(), 2);
    assert!(t.run.iter().all(|r| r == "openai/gpt2"));
    // One detection per run folder.
    assert_eq!(report.detected.len(), 2);
    assert!(report
        .detected
        .iter()
        .all(|d| d.format == "helm" && !d.path.ends_with(".json")));
    let mc = rows_of(&t, "mmlu:subject=geography,method=multiple_choice_joint");
    assert_eq!(mc.len(), 4);
    let m = |id: &str| mc[&(id.to_string(), 0)];
    // The main metric (exact_match) as the score; mapped outputs extracted.
    assert_eq!(
        ["id0", "id1", "id2", "id3"].map(|i| t.score[m(i)]),
        [1.0, 0.0, 0.0, 1.0]
    );
    assert_eq!(t.extracted[m("id0")].as_deref(), Some("Rome"));
    assert_eq!(t.target[m("id0")].as_deref(), Some("Rome"));
    assert_eq!(t.response[m("id0")].as_deref(), Some(" B"));
    // "E" maps to no option: an extraction failure, and its one-token
    // `length` stays `length`; a mapped letter at its 1-token limit is `stop`.
    assert_eq!(t.extracted[m("id2")].as_deref(), Some(""));
    assert_eq!(t.finish_reason[m("id2")].as_deref(), Some("length"));
    assert_eq!(t.finish_reason[m("id1")].as_deref(), Some("stop"));
    assert_eq!(t.max_gen_toks[m("id1")], Some(1));
    assert_eq!(t.benchmark[m("id1")], "mmlu");
    let gsm = rows_of(&t, "gsm");
    let g = |id: &str| gsm[&(id.to_string(), 0)];
    assert_eq!(t.finish_reason[g("id11")].as_deref(), Some("length"));
    assert_eq!(
        (t.response_tokens[g("id11")], t.max_gen_toks[g("id11")]),
        (Some(16), Some(16))
    );
    assert_eq!(t.score[g("id10")], 1.0);
    // A perturbed instance is its own item.
    assert_eq!(t.score[g("id10#typos")], 0.0);
    assert_eq!(t.response[g("id10#typos")].as_deref(), Some("2 + 3 is 6"));
    assert_eq!(t.prompt[g("id10")].as_deref(), Some("What is 2 + 3?\nAnswer:"));
    assert!(t.meta[g("id10")].contains("What is 2 + 3?"));
}

// ------------------------------------------------------------------ detection

#[test]
fn a_folder_mixing_formats_is_read_whole_and_says_which_is_which() {
    let tmp = tempfile::tempdir().unwrap();
    let mix = tmp.path().join("mix");
    copy_dir(&samples_dir().join("pyfade-lmeval/gsm8k"), &mix.join("lmeval"));
    copy_dir(&fixtures().join("opencompass-details"), &mix.join("oc"));
    copy_dir(&fixtures().join("helm/benchmark_output"), &mix.join("helm"));
    copy_dir(&fixtures().join("olmes/run1"), &mix.join("olmes"));
    let alone = |p: PathBuf| ingest(&[p], &IngestOptions::default()).unwrap().0.len();
    let expected = alone(mix.join("lmeval"))
        + alone(mix.join("oc"))
        + alone(mix.join("helm"))
        + alone(mix.join("olmes"));
    let (t, report) = ingest(std::slice::from_ref(&mix), &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), expected);
    let formats: std::collections::BTreeSet<&str> = report.files.iter().map(|f| f.format.as_str()).collect();
    assert_eq!(
        formats.into_iter().collect::<Vec<_>>(),
        ["helm", "lm-eval", "olmes", "opencompass"]
    );
    for d in &report.detected {
        let want = if d.path.contains("/mix/lmeval/") {
            "lm-eval"
        } else if d.path.contains("/mix/oc/") {
            "opencompass"
        } else if d.path.contains("/mix/helm/") {
            "helm"
        } else {
            "olmes"
        };
        assert_eq!(d.format, want, "{} ({})", d.path, d.reason);
        assert!(!d.reason.is_empty());
    }
    // The generator scripts and READMEs are not logs: ignored, not misread.
    assert!(
        report
            .ignored
            .iter()
            .all(|p| p.ends_with("make_fixture.py") || p.ends_with("README.md")),
        "{:?}",
        report.ignored
    );
    // The CLI prints the choice per file or folder.
    caploop()
        .args(["ingest"])
        .arg(&mix)
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .success()
        .stdout(predicate::str::contains("format helm: "))
        .stdout(predicate::str::contains("format lm-eval: "))
        .stdout(predicate::str::contains("format olmes: "))
        .stdout(predicate::str::contains("format opencompass: "));
    let written: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("s.ingest.json")).unwrap()).unwrap();
    assert_eq!(
        written["detected"].as_array().unwrap().len(),
        report.detected.len()
    );
}

#[test]
fn detection_tells_inspect_and_lighteval_files_apart() {
    use caploop::ingest::detect::detect;
    let inspect = samples_dir().join("inspect-testlogs");
    for f in fs::read_dir(&inspect).unwrap() {
        let p = f.unwrap().path();
        if matches!(p.extension().and_then(|e| e.to_str()), Some("eval" | "json")) {
            let (fmt, why) = detect(&p).unwrap().unwrap();
            assert_eq!(fmt, Format::Inspect, "{} ({why})", p.display());
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let lighteval = tmp.path().join("details_gsm8k|3_2025-01-01T00-00-00.parquet");
    fs::write(&lighteval, b"PAR1").unwrap();
    assert_eq!(detect(&lighteval).unwrap().unwrap().0, Format::Lighteval);
    let generic = tmp.path().join("scores.parquet");
    fs::write(&generic, b"PAR1").unwrap();
    assert_eq!(detect(&generic).unwrap().unwrap().0, Format::Generic);
    let array = tmp.path().join("rows.json");
    fs::write(&array, r#"[{"id": 1, "score": 1}]"#).unwrap();
    assert_eq!(detect(&array).unwrap().unwrap().0, Format::Generic);
    let olmes = fixtures().join("olmes/run1/task-001-arc_easy:mc-requests.jsonl");
    assert_eq!(detect(&olmes).unwrap().unwrap().0, Format::Olmes);
    let lm = samples_dir().join("phi3-lmeval/gsm8k/gsm8k-phi-3-mini_2025-08-07T11-42-40.066002.json");
    assert_eq!(detect(&lm).unwrap().unwrap().0, Format::LmEval);
    // lm-eval logs written under `results/<model>/` (a common --output_path)
    // beside a `predictions/` folder are still lm-eval, not OpenCompass.
    let work = tmp.path().join("out");
    copy_dir(
        &samples_dir().join("pyfade-lmeval/gsm8k"),
        &work.join("results/gemma"),
    );
    fs::create_dir_all(work.join("predictions")).unwrap();
    for f in fs::read_dir(work.join("results/gemma")).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(detect(&p).unwrap().unwrap().0, Format::LmEval, "{}", p.display());
    }
}

#[test]
fn a_forced_format_that_does_not_fit_names_what_the_file_looks_like() {
    let tmp = tempfile::tempdir().unwrap();
    caploop()
        .args(["ingest", "--format", "helm"])
        .arg(samples_dir().join("pyfade-lmeval/gsm8k"))
        .arg("--out")
        .arg(tmp.path().join("s.parquet"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a recognised helm file"))
        .stderr(predicate::str::contains("looks like lm-eval"));
    // --format olmes on an OLMES folder reads it.
    caploop()
        .args(["ingest", "--format", "olmes"])
        .arg(fixtures().join("olmes/run1"))
        .arg("--out")
        .arg(tmp.path().join("o.parquet"))
        .assert()
        .success()
        .stdout(predicate::str::contains("9 rows"));
}

// ------------------------------------------------------------ corrupt inputs

fn ingest_fails(dir: &Path, file_line: &str, field: &str) {
    let out = dir.parent().unwrap().join("out.parquet");
    caploop()
        .args(["ingest"])
        .arg(dir)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(file_line))
        .stderr(predicate::str::contains(field));
    assert!(!out.exists());
}

#[test]
fn corrupt_opencompass_helm_and_olmes_files_fail_with_their_location() {
    let tmp = tempfile::tempdir().unwrap();
    // OpenCompass: a correctness value that is not one.
    let oc = tmp.path().join("oc");
    copy_dir(&fixtures().join("opencompass-details"), &oc);
    let res = oc.join("20261130_120000/results/m1/math.json");
    let text = fs::read_to_string(&res).unwrap();
    fs::write(&res, text.replacen("true", "\"yes\"", 1)).unwrap();
    ingest_fails(&oc, "results/m1/math.json:4", "is_correct");
    // OpenCompass: broken JSON in a predictions file.
    fs::write(&res, text).unwrap();
    let pred = oc.join("20261130_120000/predictions/m1/race.json");
    fs::write(&pred, "{\n  \"0\": {\"prediction\": \"A\",\n  \"1\": }\n").unwrap();
    ingest_fails(
        &oc,
        "predictions/m1/race.json:3",
        "expected a JSON object keyed by index",
    );

    // HELM: a stat without a name.
    let helm = tmp.path().join("helm");
    copy_dir(&fixtures().join("helm"), &helm);
    let stats = helm.join("benchmark_output/runs/v1/gsm:model=openai_gpt2/per_instance_stats.json");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&stats).unwrap()).unwrap();
    v[1]["stats"][0]["name"] = serde_json::json!({"split": "test"});
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    fs::write(&stats, &pretty).unwrap();
    // The second entry starts at the second line that opens a top-level object.
    let second_line = pretty
        .lines()
        .enumerate()
        .filter(|(_, l)| *l == "  {")
        .nth(1)
        .unwrap()
        .0
        + 1;
    ingest_fails(
        &helm,
        &format!("per_instance_stats.json:{second_line}"),
        "name.name",
    );

    // OLMES: a prediction without its item key.
    let olmes = tmp.path().join("olmes");
    copy_dir(&fixtures().join("olmes/run1"), &olmes);
    let p = olmes.join("task-001-arc_easy:mc-predictions.jsonl");
    let lines: Vec<String> = fs::read_to_string(&p)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let broken = [
        lines[0].clone(),
        lines[1].replace("\"native_id\": \"arc-b\", ", ""),
        lines[2].clone(),
    ];
    fs::write(&p, broken.join("\n") + "\n").unwrap();
    ingest_fails(&olmes, "task-001-arc_easy:mc-predictions.jsonl:2", "native_id");
    // ... skipped and listed with --skip-bad.
    let out = tmp.path().join("skip.parquet");
    caploop()
        .args(["ingest", "--skip-bad"])
        .arg(&olmes)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("8 rows"))
        .stdout(predicate::str::contains("skipped 1 malformed records"));
}
