//! Hostile and unusual inputs read correctly (the failures are replayed by
//! `tests/suite/bad_inputs.rs`): generic JSON arrays scored by `score_by`, short
//! run ids, Parquet column types, non-finite JSON numbers, duplicate keys.

use std::path::{Path, PathBuf};

use caploop::ingest::{ingest, Format, IngestOptions};
use caploop::table::SampleTable;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(p)
}

fn read(paths: &[PathBuf], columns: Option<PathBuf>, short: bool) -> SampleTable {
    let opts = IngestOptions {
        format: Format::Auto,
        columns,
        short_run_ids: short,
        ..IngestOptions::default()
    };
    ingest(paths, &opts).unwrap().0
}

fn by_item(t: &SampleTable) -> Vec<(String, bool)> {
    let mut v: Vec<(String, bool)> = (0..t.len())
        .map(|i| (t.item_id[i].clone(), t.correct[i]))
        .collect();
    v.sort();
    v
}

#[test]
fn official_mmlu_pro_output_is_scored_exactly_from_pred_and_answer() {
    let t = read(
        &[fixture("mmlu_pro_official/gpt4o_result.json")],
        Some(fixture("mmlu_pro_official/mapping.yaml")),
        false,
    );
    // Truth from the fixture README: 866 D/D and 71 A/A right; 867 pred null,
    // 868 E for F, 70 `c` for `C` wrong under exact.
    let want: Vec<(String, bool)> = [
        ("70", false),
        ("71", true),
        ("866", true),
        ("867", false),
        ("868", false),
    ]
    .iter()
    .map(|(i, c)| (i.to_string(), *c))
    .collect();
    assert_eq!(by_item(&t), want);
    assert_eq!(t.task.iter().filter(|x| *x == "law").count(), 3);
}

#[test]
fn score_by_normalized_ignores_case() {
    let tmp = tempfile::tempdir().unwrap();
    let m = std::fs::read_to_string(fixture("mmlu_pro_official/mapping.yaml"))
        .unwrap()
        .replace("score_by: exact", "score_by: normalized");
    let mp = tmp.path().join("m.yaml");
    std::fs::write(&mp, m).unwrap();
    let t = read(&[fixture("mmlu_pro_official/gpt4o_result.json")], Some(mp), false);
    let c70 = by_item(&t).into_iter().find(|(i, _)| i == "70").unwrap().1;
    assert!(c70, "`c` matches `C` once normalized");
}

#[test]
fn score_by_numeric_compares_numbers() {
    use caploop::ingest::generic::ScoreBy;
    assert!(ScoreBy::Numeric.matches("1,000", "1000"));
    assert!(ScoreBy::Numeric.matches("$3.50", "3.5"));
    assert!(!ScoreBy::Numeric.matches("3.49", "3.5"));
    assert!(!ScoreBy::Numeric.matches("", "3.5"));
    assert!(ScoreBy::Normalized.matches("The Answer.", "answer"));
    assert!(!ScoreBy::Exact.matches("a", "A"));
}

#[test]
fn short_run_ids_keep_the_last_path_component() {
    use caploop::error::short_run_id;
    assert_eq!(short_run_id("/models/org/x/ckpt"), "ckpt");
    assert_eq!(short_run_id("/models/org/x/ckpt/"), "ckpt");
    assert_eq!(
        short_run_id("pretrained=/m/org/ckpt-2000,dtype=bfloat16"),
        "ckpt-2000"
    );
    assert_eq!(short_run_id("../../x"), "x");
    assert_eq!(short_run_id(".."), "_.");
    // The pyfade fixture's run is the model path /workspace/gemma3_12b_u2.
    let t = read(&[fixture("samples/pyfade-lmeval/mmlu_pro_plus")], None, true);
    let mut runs = t.runs();
    runs.sort();
    assert_eq!(
        runs,
        vec!["gemma-3-12b-it-base".to_string(), "gemma3_12b_u2".to_string()]
    );
}

#[test]
fn parquet_columns_of_every_common_type_reach_meta_as_json() {
    // The file was written by pyarrow (tests/bad_inputs/.../README.md):
    // i8 [1,-2], u8 [1,2], dec [1.5, null], day 2024-01-02, ts 2024-01-02 03:04:05,
    // st [{a:1,b:x},{a:2,b:null}], li [[1,2],[]], score int16 [1,0].
    let t = read(
        &[Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/bad_inputs/parquet_small_int_and_date_columns_go_to_meta/mixed_types.parquet")],
        None,
        false,
    );
    assert_eq!(t.score, vec![1.0, 0.0]);
    let m0: serde_json::Value = serde_json::from_str(&t.meta[0]).unwrap();
    assert_eq!(m0["i8"], 1);
    assert_eq!(m0["u8"], 1);
    assert_eq!(m0["dec"], 1.5);
    assert_eq!(m0["day"], "2024-01-02");
    assert!(m0["ts"].as_str().unwrap().starts_with("2024-01-02 03:04:05"));
    assert_eq!(m0["st"], serde_json::json!({"a": 1, "b": "x"}));
    assert_eq!(m0["li"], serde_json::json!([1, 2]));
    let m1: serde_json::Value = serde_json::from_str(&t.meta[1]).unwrap();
    assert_eq!(m1["i8"], -2);
    assert!(m1["dec"].is_null());
    assert_eq!(m1["li"], serde_json::json!([]));
}

#[test]
fn non_finite_json_numbers_are_read_and_kept_as_text_in_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.jsonl");
    std::fs::write(
        &f,
        "\u{feff}{\"run\":\"r\",\"benchmark\":\"b\",\"task\":\"t\",\"item_id\":\"1\",\"score\":1,\"x\":NaN,\"y\":[Infinity,-Infinity],\"s\":\"NaN, Infinity\"}\n",
    )
    .unwrap();
    let t = read(&[f], None, false);
    let m: serde_json::Value = serde_json::from_str(&t.meta[0]).unwrap();
    assert_eq!(m["x"], "NaN");
    assert_eq!(m["y"], serde_json::json!(["Infinity", "-Infinity"]));
    assert_eq!(m["s"], "NaN, Infinity");
}

#[test]
fn a_duplicate_json_key_keeps_its_last_value_like_python() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.jsonl");
    // python3 -c 'import json; print(json.loads("{\"a\":1,\"a\":2}"))' -> {'a': 2}
    std::fs::write(
        &f,
        "{\"run\":\"r\",\"benchmark\":\"b\",\"task\":\"t\",\"item_id\":\"1\",\"score\":0,\"score\":1}\n",
    )
    .unwrap();
    let t = read(&[f], None, false);
    assert_eq!(t.score, vec![1.0]);
}

#[test]
fn json_array_records_are_located_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("x.json");
    std::fs::write(
        &f,
        "[\n{\"run\":\"r\",\"benchmark\":\"b\",\"task\":\"t\",\"item_id\":\"1\",\"score\":1},\n{\"run\":\"r\",\"benchmark\":\"b\",\"task\":\"t\",\"item_id\":\"2\",\"score\":7}\n]\n",
    )
    .unwrap();
    let opts = IngestOptions::default();
    let e = ingest(&[f], &opts).unwrap_err().to_string();
    assert!(e.contains("x.json:3: field 'score': 7 is outside [0, 1]"), "{e}");
}

#[test]
fn a_finished_run_lists_its_outputs_with_sha256_and_drops_the_marker() {
    use caploop::manifest;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    std::fs::write(out.join("old.txt"), "written before the run").unwrap();
    manifest::begin(out).unwrap();
    assert!(out.join(manifest::RUNNING).exists());
    // An unfinished folder is refused.
    std::fs::write(out.join("evidence.json"), "abc").unwrap();
    assert!(manifest::check_input(&out.join("evidence.json")).is_err());
    caploop::error::write_file(&out.join("sub/x.json"), "abc").unwrap();
    manifest::finish(out).unwrap();
    assert!(!out.join(manifest::RUNNING).exists());
    let m: manifest::Manifest =
        serde_json::from_slice(&std::fs::read(out.join(manifest::MANIFEST)).unwrap()).unwrap();
    let paths: Vec<&str> = m.files.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["evidence.json", "sub/x.json"],
        "old files are not this run's"
    );
    // printf abc | sha256sum
    assert_eq!(
        m.files[0].sha256,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(manifest::check_input(&out.join("evidence.json")).is_ok());
    std::fs::write(out.join("evidence.json"), "abd").unwrap();
    assert!(manifest::check_input(&out.join("evidence.json")).is_err());
}

#[test]
fn csv_quoted_multiline_field_is_read_as_one_field_beside_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.csv");
    std::fs::write(
        &f,
        "run,benchmark,task,item_id,score,response\n\
         r,b,t,1,1,\"first line\nsecond, with a comma\nand \"\"quoted\"\" text\"\n\
         r,b,t,2,0,5\" tall\n\
         r,b,t,3,1,\"a,b,c,d,e\"\n",
    )
    .unwrap();
    let t = read(&[f], None, false);
    let mut rows: Vec<(String, Option<String>)> = (0..t.len())
        .map(|i| (t.item_id[i].clone(), t.response[i].clone()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            (
                "1".into(),
                Some("first line\nsecond, with a comma\nand \"quoted\" text".into())
            ),
            ("2".into(), Some("5\" tall".into())),
            ("3".into(), Some("a,b,c,d,e".into())),
        ]
    );
}
