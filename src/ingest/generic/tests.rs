//! The columnar Parquet path against the row path it replaces: the same
//! frames, the same errors (by falling back), the same output bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use proptest::prelude::*;

use super::columnar::{canonical_batch, Convert};
use super::frame::{FrameColumns, FrameRecord};
use super::parquet::{COLUMNAR_BATCHES, ROWS_ONLY};
use super::{row_of, ColumnMapping, MetaColumns, FIELDS};
use crate::ingest::sink::SinkOptions;
use crate::ingest::IngestOptions;

/// One generated row: each field may be missing (null).
#[derive(Debug, Clone)]
struct Row {
    run: Option<String>,
    item: i64,
    sample: Option<f64>,
    prompt: Option<String>,
    response: Option<String>,
    score: Option<f64>,
    correct: Option<bool>,
    tokens: Option<i64>,
    extra: Option<i64>,
}

fn text() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        3 => "[a-z ]{1,12}".prop_map(Some),
        1 => Just(None),
        1 => Just(Some(" ".to_string())),
        1 => "[é✓ a-z]{0,6}".prop_map(Some),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (
        text(),
        -2i64..40,
        prop_oneof![3 => (0u32..4).prop_map(|x| Some(f64::from(x))), 1 => Just(None), 1 => Just(Some(1.5)), 1 => Just(Some(-1.0))],
        text(),
        text(),
        prop_oneof![4 => (0u32..=4).prop_map(|x| Some(f64::from(x) / 4.0)), 1 => Just(None), 1 => Just(Some(f64::NAN)), 1 => Just(Some(2.0))],
        prop::option::of(any::<bool>()),
        prop::option::of(-1i64..5_000_000_000),
        prop::option::of(0i64..9),
    )
        .prop_map(|(run, item, sample, prompt, response, score, correct, tokens, extra)| Row {
            run,
            item,
            sample,
            prompt,
            response,
            score,
            correct,
            tokens,
            extra,
        })
}

/// The rows as a frame; `sample` as floats or integers, `correct` present or not.
fn frame(rows: &[Row], int_samples: bool, with_correct: bool) -> DataFrame {
    let mut cols = vec![
        Column::new(
            "model".into(),
            rows.iter().map(|r| r.run.clone()).collect::<Vec<_>>(),
        ),
        Column::new("id".into(), rows.iter().map(|r| r.item).collect::<Vec<_>>()),
        Column::new(
            "prompt".into(),
            rows.iter().map(|r| r.prompt.clone()).collect::<Vec<_>>(),
        ),
        Column::new(
            "response".into(),
            rows.iter().map(|r| r.response.clone()).collect::<Vec<_>>(),
        ),
        Column::new("score".into(), rows.iter().map(|r| r.score).collect::<Vec<_>>()),
        Column::new(
            "response_tokens".into(),
            rows.iter().map(|r| r.tokens).collect::<Vec<_>>(),
        ),
        Column::new("extra".into(), rows.iter().map(|r| r.extra).collect::<Vec<_>>()),
    ];
    cols.push(if int_samples {
        Column::new(
            "sample_idx".into(),
            rows.iter()
                .map(|r| r.sample.map(|x| x as i64))
                .collect::<Vec<_>>(),
        )
    } else {
        Column::new(
            "sample_idx".into(),
            rows.iter().map(|r| r.sample).collect::<Vec<_>>(),
        )
    });
    if with_correct {
        cols.push(Column::new(
            "correct".into(),
            rows.iter().map(|r| r.correct).collect::<Vec<_>>(),
        ));
    }
    DataFrame::new(rows.len(), cols).unwrap()
}

fn mapping(run_constant: bool, meta: bool) -> ColumnMapping {
    let mut columns = BTreeMap::new();
    columns.insert("run".to_string(), "model".to_string());
    columns.insert("item_id".to_string(), "id".to_string());
    ColumnMapping {
        run: run_constant.then(|| "fallback-run".to_string()),
        benchmark: Some("bench".into()),
        task: Some("t1".into()),
        columns,
        meta: if meta {
            MetaColumns::List(vec!["extra".into()])
        } else {
            MetaColumns::Keyword("none".into())
        },
        pass_threshold: Some(0.5),
        score_by: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Whenever the columnar path gives a frame, it is the frame of the rows
    /// `row_of` gives; when every row converts and the columns are of the
    /// kinds it reads, it gives one.
    #[test]
    fn a_columnar_batch_is_the_frame_of_its_rows(
        rows in prop::collection::vec(row(), 1..40),
        int_samples in any::<bool>(),
        with_correct in any::<bool>(),
        run_constant in any::<bool>(),
        meta in any::<bool>(),
        offset in 0usize..1000,
    ) {
        let df = frame(&rows, int_samples, with_correct);
        let m = mapping(run_constant, meta);
        let mapped: Vec<&str> = FIELDS.iter().map(|f| m.column(f)).collect();
        let f = FrameColumns::new(&df, &m).unwrap();
        let cv = Convert { mapping: &m, mapped: &mapped, threshold: 0.5, run: None, display: "x.parquet", offset };
        let reference: Result<Vec<_>, _> = (0..rows.len())
            .map(|row| row_of(&FrameRecord { f: &f, row }, &m, &mapped, 0.5, format!("x.parquet:{}", offset + row + 1)))
            .collect();
        let got = canonical_batch(&f, rows.len(), &cv);
        match (reference, got) {
            (Ok(rows), Some(got)) => {
                let mut t = crate::table::SampleTable::default();
                rows.into_iter().for_each(|r| t.push(r));
                let want = crate::table::frame_of(&t).unwrap();
                prop_assert!(got.equals_missing(&want), "columnar:\n{got}\nrows:\n{want}");
            }
            (Ok(_), None) => prop_assert!(false, "fell back on rows it converts"),
            (Err(_), got) => prop_assert!(got.is_none(), "a row the row path rejects was converted"),
        }
    }
}

fn write_parquet(path: &Path, df: &mut DataFrame, group: usize) {
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file)
        .with_row_group_size(Some(group))
        .finish(df)
        .unwrap();
}

/// Rows of the end-to-end files (two per item, runs `base` and `cand`):
/// the first `long` items of every 50 have a prompt of 768 KiB, so that
/// batches also end by their text size.
fn big_frame(n: usize, first_item: usize, long: usize) -> DataFrame {
    let words = ["sum", "ratio", "prime", "angle", "area"];
    let prompt = |row: usize| -> String {
        let item = row / 2;
        if item.is_multiple_of(50) && item / 50 < long {
            "prime ".repeat(1 << 17)
        } else {
            let g = first_item + item;
            format!("{} of {} question {g}", words[g % 5], words[(g / 5) % 5])
        }
    };
    DataFrame::new(
        n,
        vec![
            Column::new(
                "run".into(),
                (0..n)
                    .map(|i| if i % 2 == 0 { "base" } else { "cand" })
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "item_id".into(),
                (0..n)
                    .map(|i| format!("q{}", first_item + i / 2))
                    .collect::<Vec<_>>(),
            ),
            Column::new("prompt".into(), (0..n).map(prompt).collect::<Vec<_>>()),
            Column::new(
                "response".into(),
                (0..n).map(|i| format!("answer {}", i % 7)).collect::<Vec<_>>(),
            ),
            Column::new(
                "score".into(),
                (0..n).map(|i| ((i * 31) % 4) as f64 / 3.0).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap()
}

const TAXONOMY: &str = "name: t\naxes:\n  operation: [a, b]\nrules:\n  - id: r0\n    when: { prompt_regex: '\\bsum\\b.*\\bratio\\b' }\n    add: { operation: a }\n  - id: r1\n    when: { prompt_regex: '\\bprime\\b' }\n    add: { operation: b }\n";

fn ingest_files(
    files: &[PathBuf],
    mapping: &Path,
    out: &Path,
    rows_only: bool,
) -> crate::ingest::sink::SinkOutput {
    let tax = crate::taxonomy::TaxonomySet::from_yaml_str(Path::new("t.yaml"), TAXONOMY).unwrap();
    let filters = BTreeMap::new();
    let opts = IngestOptions {
        columns: Some(mapping.to_path_buf()),
        format: crate::ingest::Format::Generic,
        ..IngestOptions::default()
    };
    ROWS_ONLY.with(|c| c.set(rows_only));
    let res = crate::ingest::ingest_into(
        files,
        &opts,
        SinkOptions {
            out: Some(out),
            taxonomy: Some(&tax),
            index: true,
            batch_rows: 10_000,
            ..SinkOptions::new(&filters)
        },
    );
    ROWS_ONLY.with(|c| c.set(false));
    res.unwrap().0
}

/// Two files with row groups that do not line up with the sink's batches,
/// and rows long enough to end batches by size: the columnar path writes
/// the file the row path writes, byte for byte, and the same dataset.
#[test]
fn columnar_ingest_writes_what_the_row_path_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.parquet"), dir.path().join("b.parquet"));
    write_parquet(&a, &mut big_frame(25_001, 0, 0), 7_000);
    write_parquet(&b, &mut big_frame(60_000, 20_000, 30), 26_000);
    let mapping = dir.path().join("columns.yaml");
    std::fs::write(&mapping, "benchmark: bench\ntask: main\nmeta: none\n").unwrap();
    let files = vec![a, b];
    let rows = ingest_files(&files, &mapping, &dir.path().join("rows.parquet"), true);
    assert_eq!(COLUMNAR_BATCHES.with(std::cell::Cell::get), 0);
    let cols = ingest_files(&files, &mapping, &dir.path().join("cols.parquet"), false);
    // Of the 9 batches, the one joining the two files and each file's last
    // go row by row.
    assert_eq!(COLUMNAR_BATCHES.with(std::cell::Cell::get), 7);
    let read = |n: &str| std::fs::read(dir.path().join(n)).unwrap();
    assert!(
        read("rows.parquet") == read("cols.parquet"),
        "the two paths wrote different files"
    );
    assert_eq!(rows.rows, 85_001);
    assert_eq!((rows.rows, &rows.runs), (cols.rows, &cols.runs));
    assert_eq!(rows.dataset, cols.dataset);
    assert_eq!(format!("{:?}", rows.coverage), format!("{:?}", cols.coverage));
    // A batch ended by size: a row group before the last holds fewer rows
    // than a batch.
    let file = std::fs::File::open(dir.path().join("cols.parquet")).unwrap();
    let md = ParquetReader::new(file).get_metadata().unwrap().clone();
    let sizes: Vec<usize> = md.row_groups.iter().map(|g| g.num_rows()).collect();
    assert!(
        sizes[..sizes.len() - 1].iter().any(|&n| n < 10_000),
        "row groups {sizes:?}"
    );
}
