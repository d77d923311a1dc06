//! lighteval details parquet, both schemas, task keys with and without a
//! suite (fixtures built from lighteval's data classes:
//! `tests/fixtures/lighteval/README.md`; the values asserted are the
//! fixture script's GSM, ARC and OLD tables), and lighteval's Inspect logs.

use std::path::{Path, PathBuf};

use caploop::ingest::{ingest, Format, IngestOptions};
use caploop::table::SampleTable;

fn details(model: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lighteval/details")
        .join(model)
}

fn read(p: PathBuf) -> SampleTable {
    let o = IngestOptions {
        format: Format::Lighteval,
        ..IngestOptions::default()
    };
    let (t, report) = ingest(&[p], &o).unwrap();
    assert!(report.skipped.is_empty());
    assert!(report.files.iter().all(|f| f.format == "lighteval"));
    t
}

fn row(t: &SampleTable, item: &str) -> usize {
    (0..t.len()).find(|&i| t.item_id[i] == item).unwrap()
}

#[test]
fn struct_schema_with_and_without_a_suite() {
    let t = read(details("caploop__ckpt-a"));
    // GSM has 4 docs, ARC 2: one row each.
    assert_eq!(t.len(), 6);
    assert!(
        t.run.iter().all(|r| r == "caploop__ckpt-a"),
        "run = the model folder"
    );
    // gsm8k|3 (0.12.1+, no suite): generative, extractive_match.
    let g1 = row(&t, "g1");
    assert_eq!(
        (t.task[g1].as_str(), t.benchmark[g1].as_str(), t.n_shot[g1]),
        ("gsm8k|3", "gsm8k", Some(3))
    );
    assert_eq!((t.score[g1], t.correct[g1]), (1.0, true));
    assert_eq!(t.filter[g1].as_deref(), Some("extractive_match"));
    assert_eq!(t.target[g1].as_deref(), Some("4"));
    assert_eq!(t.response[g1].as_deref(), Some("The answer is 4"));
    assert_eq!(t.prompt[g1].as_deref(), Some("fewshot...\nQ: 2+2?"));
    assert_eq!((t.response_tokens[g1], t.max_gen_toks[g1]), (Some(5), Some(8)));
    assert_eq!(t.meta[g1], r#"{"level":1}"#);
    assert_eq!(t.score[row(&t, "g2")], 0.0);
    // A NaN metric is unscored, not 0.
    let g3 = row(&t, "g3");
    assert!(t.score[g3].is_nan() && !t.correct[g3]);
    // g4 used all 8 tokens of generation_size.
    assert_eq!(t.response_tokens[row(&t, "g4")], Some(8));
    // lighteval|arc:easy|0 (suite): loglikelihood; the chosen option is the argmax.
    let a1 = row(&t, "a1");
    assert_eq!((t.benchmark[a1].as_str(), t.n_shot[a1]), ("arc", Some(0)));
    assert_eq!(
        (t.response[a1].as_deref(), t.extracted[a1].as_deref()),
        (Some("1"), Some("1"))
    );
    assert_eq!((t.target[a1].as_deref(), t.score[a1]), (Some("air"), 1.0));
    assert_eq!(t.filter[a1].as_deref(), Some("loglikelihood_acc"));
    let a2 = row(&t, "a2");
    assert_eq!(
        (t.response[a2].as_deref(), t.target[a2].as_deref(), t.score[a2]),
        (Some("1"), Some("water"), 0.0)
    );
}

#[test]
fn flat_schema_native_and_repr_read_the_same() {
    let native = read(details("caploop__ckpt-old"));
    let repr = read(details("caploop__ckpt-repr"));
    for t in [&native, &repr] {
        assert_eq!(t.len(), 2);
        // No id column: the item is keyed on the query's hash, the same in both files.
        let mut ids = t.item_id.clone();
        ids.sort();
        let mut other = native.item_id.clone();
        other.sort();
        assert_eq!(ids, other);
        let i = (0..2).find(|&i| t.target[i].as_deref() == Some("8")).unwrap();
        assert_eq!(t.response[i].as_deref(), Some("The answer is 6"));
        assert_eq!((t.score[i], t.correct[i]), (0.0, false));
        assert_eq!(t.filter[i].as_deref(), Some("quasi_exact_match"));
        assert_eq!(
            (t.task[i].as_str(), t.benchmark[i].as_str(), t.n_shot[i]),
            ("lighteval|gsm8k|5", "gsm8k", Some(5))
        );
        assert_eq!(t.response_tokens[i], Some(3));
        assert_eq!(t.meta[i], r#"{"src":"old"}"#);
        assert_eq!(t.prompt[i].as_deref(), Some("fewshot...\nQ: 9-1?"));
        let j = 1 - i;
        assert_eq!((t.score[j], t.correct[j]), (1.0, true));
    }
}

#[test]
fn lighteval_inspect_logs_go_through_the_inspect_reader() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inspect/multiframe.eval");
    let o = IngestOptions {
        format: Format::Lighteval,
        ..IngestOptions::default()
    };
    let (t, report) = ingest(&[p], &o).unwrap();
    assert_eq!(t.len(), 12);
    assert_eq!(report.files[0].format, "inspect");
}
