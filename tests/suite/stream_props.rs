//! The streaming path (rows pushed into a `Sink` in small batches: checked,
//! tagged once per item, indexed, written row group by row group) against a
//! plain in-memory reference (the whole table tagged by `tag_table`, the
//! dataset built in one pass over a frame of every row): same table, same
//! dataset, same comparison, whatever the batch size.

use std::collections::BTreeMap;

use caploop::diagnose::failure::Detectors;
use caploop::diagnose::rescore::{default_patterns, Rescorer};
use caploop::ingest::sink::{Sink, SinkOptions};
use caploop::ingest::IngestReport;
use caploop::slices::{self, dataset, CompareSettings};
use caploop::table::{self, columns as c, SampleRow, SampleTable};
use caploop::taxonomy::TaxonomySet;
use proptest::prelude::*;

const TAXONOMY: &str = r#"
name: props
axes:
  op: [add, mul, mod]
  bg: [alpha, beta]
rules:
  - id: add
    when: { prompt_regex: '\badd\b' }
    add: { op: add }
  - id: mulmod
    when: { prompt_regex: '\bmul\b.*\bmod\b' }
    add: { op: [mul, mod] }
  - id: beta
    when: { benchmark: b2 }
    add: { bg: beta }
"#;

const WORDS: [&str; 5] = ["add", "mul", "mod", "sub", "Mul"];

/// (run, task, item, filter, sample, score, prompt words, primary)
type Spec = (u8, u8, u8, u8, u8, u8, Vec<u8>, bool);

fn rows(spec: &[Spec]) -> Vec<SampleRow> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (i, (run, task, item, filter, sample, score, words, primary)) in spec.iter().enumerate() {
        let key = (*run % 3, *task % 3, *item % 12, *filter % 3, *sample % 3);
        if !seen.insert(key) {
            continue;
        }
        let task = ["t1", "t2", "t3"][usize::from(key.1)];
        let prompt: Vec<&str> = words
            .iter()
            .map(|w| WORDS[usize::from(*w) % WORDS.len()])
            .collect();
        let score = [0.0, 0.5, 1.0][usize::from(*score % 3)];
        out.push(SampleRow {
            run: ["base", "cand", "other"][usize::from(key.0)].into(),
            benchmark: if task == "t3" { "b2" } else { "b1" }.into(),
            task: task.into(),
            filter: [None, Some("strict"), Some("flex")][usize::from(key.3)].map(str::to_string),
            primary_filter: *primary,
            item_id: format!("{task}:{}", key.2),
            sample_idx: u32::from(key.4),
            // The item's text depends on the item only, as in real logs.
            prompt: Some(format!("{} q{}", prompt.join(" "), key.2)).filter(|_| key.2 % 5 != 4),
            target: Some("7".into()),
            response: Some(format!("The answer is {}.", if score == 1.0 { 7 } else { 8 })),
            extracted: Some(if score == 1.0 { "7" } else { "8" }.into()),
            score,
            correct: score >= 1.0,
            response_chars: 16,
            meta: "{}".into(),
            prompt_hash: Some(format!("h{}", key.2)),
            source: format!("f.jsonl:{}", i + 1),
            ..SampleRow::default()
        });
    }
    // An item's prompt must not vary across its rows: take the first row's.
    let mut first: std::collections::HashMap<String, Option<String>> = Default::default();
    for r in out.iter_mut() {
        let p = first.entry(r.item_id.clone()).or_insert_with(|| r.prompt.clone());
        r.prompt = p.clone();
    }
    out
}

fn spec() -> impl Strategy<Value = Vec<Spec>> {
    prop::collection::vec(
        (
            0u8..3,
            0u8..3,
            0u8..12,
            0u8..3,
            0u8..3,
            0u8..3,
            prop::collection::vec(0u8..5, 0..5),
            any::<bool>(),
        ),
        1..120,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn streaming_equals_the_in_memory_reference(
        spec in spec(),
        batch in 1usize..9,
        override_t1 in any::<bool>(),
        dupes in any::<bool>(),
    ) {
        let input = rows(&spec);
        let tax = TaxonomySet::from_yaml_str(std::path::Path::new("props.yaml"), TAXONOMY).unwrap();
        let mut filters = BTreeMap::new();
        // A filters: entry must name a filter its task carries (else it is
        // an error, tests/bad_inputs/filters_typo_*).
        let t1_has_strict = input.iter().any(|r| r.task == "t1" && r.filter.as_deref() == Some("strict"));
        if override_t1 && t1_has_strict {
            filters.insert("t1".to_string(), "strict".to_string());
        }
        let detectors = Detectors::default();
        let rescorer = Rescorer::new(&default_patterns()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("samples.parquet");

        let mut report = IngestReport::default();
        let mut sink = Sink::new(SinkOptions {
            out: Some(&out),
            taxonomy: Some(&tax),
            diagnosis: Some((&detectors, &rescorer)),
            collect: true,
            index: true,
            skip_bad: dupes,
            batch_rows: batch,
            ..SinkOptions::new(&filters)
        }).unwrap();
        // With `dupes`, every third row comes again two rows later (in the
        // same batch or the next) and is dropped under `skip_bad`: the
        // result is that of the input without them.
        let mut pushed = Vec::new();
        for (i, r) in input.iter().enumerate() {
            pushed.push(r.clone());
            if dupes && i >= 2 && (i - 2) % 3 == 0 {
                pushed.push(SampleRow { source: format!("copy.jsonl:{i}"), ..input[i - 2].clone() });
            }
        }
        let copies = pushed.len() - input.len();
        for r in pushed {
            sink.push(r, &mut report).unwrap();
        }
        let streamed = sink.finish(&mut report).unwrap();
        prop_assert_eq!(report.skipped.len(), copies);

        // The table: what was collected, what was written, and the input
        // tagged whole by the reference tagger are the same rows and tags.
        let mut reference = SampleTable::default();
        for r in input {
            reference.push(r);
        }
        caploop::tagging::tag_table(&mut reference, &tax);
        let collected = streamed.table.clone().unwrap();
        let written = table::read_parquet(&out).unwrap();
        prop_assert_eq!(written.len(), reference.len());
        for i in 0..reference.len() {
            prop_assert_eq!(collected.row(i), reference.row(i));
            prop_assert_eq!(written.row(i), reference.row(i));
            let tags = |t: &SampleTable| {
                let tg = t.tags.as_ref().unwrap();
                tg.sets[tg.row_set[i] as usize].clone()
            };
            prop_assert_eq!(tags(&collected), tags(&reference));
            prop_assert_eq!(tags(&written), tags(&reference));
        }

        // The dataset: built while streaming, read back batch by batch, and
        // built in one pass over every row are equal.
        let axes = dataset::axes_of(&out).unwrap();
        let mut cols: Vec<&str> = c::BASE.to_vec();
        cols.extend(axes.iter().map(String::as_str));
        let df = table::read_parquet_columns(&out, &cols).unwrap();
        let plain = dataset::reference(&df, &axes, &filters).unwrap();
        let mut ds = streamed.dataset.clone();
        let loaded = slices::load(&out, &filters).unwrap();
        prop_assert_eq!(&loaded, &ds);
        ds.task_settings.clear();
        prop_assert_eq!(&ds, &plain);

        // The comparison on either dataset is the same.
        if let (Ok(b), Ok(cand)) = (plain.run_index("base"), plain.run_index("cand")) {
            let s = CompareSettings::default();
            let defined = slices::slices(&plain, 2, 1);
            let x = slices::compare(&plain, b, cand, &defined, &s);
            let y = slices::compare(&streamed.dataset, b, cand, &defined, &s);
            prop_assert_eq!(format!("{x:?}"), format!("{y:?}"));
        }

        // The diagnosis summaries: computed while streaming and read back.
        let (_, diags) = caploop::diagnose::samples::load(&out, &filters, &detectors, &rescorer).unwrap();
        prop_assert_eq!(diags, streamed.diags.unwrap());
    }
}

/// Row `i` (line `i + 1` of `in.jsonl`) of task `t`: item `item`, its prompt.
fn line_row(i: u32, item: u32, prompt: String) -> SampleRow {
    SampleRow {
        task: "t".into(),
        item_id: item.to_string(),
        prompt: Some(prompt),
        primary_filter: true,
        meta: "{}".into(),
        source: format!("in.jsonl:{}", i + 1),
        ..SampleRow::default()
    }
}

/// `caploop tag` writes a batch read from a caploop sample table as it was
/// read (no rebuilding from rows): byte for byte what tagging the whole
/// table in memory and writing it gives. 40,000 rows make one batch large
/// enough for that path (half of `BATCH_ROWS` or more).
#[test]
fn tagging_a_sample_file_writes_what_the_in_memory_tagger_writes() {
    let tax = TaxonomySet::from_yaml_str(std::path::Path::new("props.yaml"), TAXONOMY).unwrap();
    let mut table = SampleTable::default();
    for i in 0..40_000u32 {
        let words: Vec<&str> = (0..3).map(|k| WORDS[((i / 7 + k * 3) % 5) as usize]).collect();
        table.push(SampleRow {
            run: if i % 2 == 0 { "base" } else { "cand" }.into(),
            benchmark: if i % 3 == 0 { "b2" } else { "b1" }.into(),
            response: Some(format!("answer {}", i % 11)),
            score: f64::from(i % 2),
            correct: i % 2 == 1,
            ..line_row(i, i / 2, words.join(" "))
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let untagged = dir.path().join("samples.parquet");
    table::write_parquet(&table, &untagged).unwrap();
    let tagged = dir.path().join("tagged.parquet");
    caploop::tagging::tag_file(&untagged, &tax, &tagged).unwrap();

    caploop::tagging::tag_table(&mut table, &tax);
    let reference = dir.path().join("reference.parquet");
    table::write_parquet(&table, &reference).unwrap();
    assert_eq!(
        std::fs::read(&tagged).unwrap(),
        std::fs::read(&reference).unwrap()
    );
}

/// A duplicate row in a sample table read back whole (the in-place batch
/// path) is found as it is in rows: an error naming both sources.
#[test]
fn tagging_a_sample_file_with_a_duplicate_row_names_both_sources() {
    let tax = TaxonomySet::from_yaml_str(std::path::Path::new("props.yaml"), TAXONOMY).unwrap();
    let mut table = SampleTable::default();
    for i in 0..40_000u32 {
        // Rows 39,998 and 39,999 (1-based lines) are the same sample of item 0.
        let item = if i >= 39_997 { 0 } else { i };
        table.push(SampleRow {
            run: "base".into(),
            benchmark: "b1".into(),
            score: 1.0,
            correct: true,
            ..line_row(i, item, WORDS[(i % 5) as usize].to_string())
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let untagged = dir.path().join("samples.parquet");
    table::write_parquet(&table, &untagged).unwrap();
    let err = caploop::tagging::tag_file(&untagged, &tax, &dir.path().join("tagged.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("in.jsonl:39998: duplicate sample"), "{err}");
    assert!(err.contains("as in.jsonl:1;"), "{err}");
}

/// `slices::load` reads a row group's tag columns only for new items, read
/// ahead while the group before had new items and on demand otherwise:
/// groups of known items, new items after a group without any, and
/// non-scoring rows of new items all load the same dataset as the sink
/// built while streaming.
#[test]
fn tags_read_ahead_or_on_demand_give_the_same_dataset() {
    let row = |run: &str, item: u32, words: &str, primary: bool| SampleRow {
        run: run.into(),
        benchmark: "b1".into(),
        task: "t1".into(),
        primary_filter: primary,
        item_id: format!("i{item}"),
        prompt: Some(format!("{words} q{item}")),
        target: Some("7".into()),
        response: Some("The answer is 7.".into()),
        extracted: Some("7".into()),
        score: 1.0,
        correct: true,
        meta: "{}".into(),
        source: format!("f.jsonl:{item}"),
        ..SampleRow::default()
    };
    // Row groups of two rows: new items (read ahead), known items (read
    // ahead, none needed), new items (not read ahead: read on demand), a
    // group whose new item does not score, then that item scoring.
    let rows = vec![
        row("base", 0, "add", true),
        row("base", 1, "mul then mod", true),
        row("cand", 0, "add", true),
        row("cand", 1, "mul then mod", true),
        row("cand", 2, "mul mod add", true),
        row("cand", 3, "sub", true),
        row("base", 2, "mul mod add", true),
        row("base", 4, "add", false),
        row("base", 3, "sub", true),
        row("cand", 4, "add", true),
    ];
    let tax = TaxonomySet::from_yaml_str(std::path::Path::new("props.yaml"), TAXONOMY).unwrap();
    let filters = BTreeMap::new();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("samples.parquet");
    let mut report = IngestReport::default();
    let mut sink = Sink::new(SinkOptions {
        out: Some(&out),
        taxonomy: Some(&tax),
        index: true,
        batch_rows: 2,
        ..SinkOptions::new(&filters)
    })
    .unwrap();
    for r in rows {
        sink.push(r, &mut report).unwrap();
    }
    let streamed = sink.finish(&mut report).unwrap().dataset;
    let loaded = slices::load(&out, &filters).unwrap();
    assert_eq!(loaded, streamed);
    // Every item has its tags, named as the taxonomy gives them.
    let tags_of = |id: &str| -> Vec<&str> {
        let it = loaded.items.iter().find(|i| i.id == id).unwrap();
        it.tags
            .iter()
            .map(|&t| loaded.tags[t as usize].as_str())
            .collect()
    };
    assert_eq!(tags_of("i0"), ["op=add"]);
    assert_eq!(tags_of("i1"), ["op=mod", "op=mul"]);
    assert_eq!(tags_of("i2"), ["op=add", "op=mod", "op=mul"]);
    assert!(tags_of("i3").is_empty());
    assert_eq!(tags_of("i4"), ["op=add"]);
}
