//! Ingest of real lm-evaluation-harness logs from `tests/fixtures/samples`
//! (provenance in its SOURCES.md).

use crate::common::{records, samples_dir};
use caploop::ingest::{ingest, IngestOptions};

#[test]
fn every_record_of_every_real_file_becomes_one_row() {
    let dir = samples_dir();
    let (table, report) = ingest(
        &[
            dir.join("kt-lmeval"),
            dir.join("pyfade-lmeval"),
            dir.join("phi3-lmeval"),
        ],
        &IngestOptions::default(),
    )
    .unwrap();
    assert!(report.skipped.is_empty());
    let mut expected = 0;
    for f in &report.files {
        let n = records(std::path::Path::new(&f.path));
        assert_eq!(f.rows, n, "{}", f.path);
        expected += n;
    }
    assert_eq!(table.len(), expected);
    assert_eq!(report.files.len(), 13);
    // Run ids are the model names from the results files.
    let runs = table.runs();
    assert!(
        runs.contains(&"microsoft/Phi-3-mini-4k-instruct".to_string()),
        "{runs:?}"
    );
    assert!(runs.contains(&"gemma3:12b-u1".to_string()));
    assert!(runs.contains(&"LGAI-EXAONE/EXAONE-3.0-7.8B-Instruct".to_string()));
}

#[test]
fn phi3_gsm8k_keeps_both_filters_and_scores_with_strict_match() {
    let (t, _) = ingest(&[samples_dir().join("phi3-lmeval")], &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), 20);
    let strict: Vec<usize> = (0..t.len())
        .filter(|&i| t.filter[i].as_deref() == Some("strict-match"))
        .collect();
    let flexible: Vec<usize> = (0..t.len())
        .filter(|&i| t.filter[i].as_deref() == Some("flexible-extract"))
        .collect();
    assert_eq!((strict.len(), flexible.len()), (10, 10));
    // strict-match is the first filter of the task's filter_list, so it scores.
    assert!(strict.iter().all(|&i| t.primary_filter[i]));
    assert!(flexible.iter().all(|&i| !t.primary_filter[i]));
    // The published aggregate: strict-match 0.1, flexible-extract 0.8.
    let acc = |rows: &[usize]| rows.iter().filter(|&&i| t.correct[i]).count();
    assert_eq!(acc(&strict), 1);
    assert_eq!(acc(&flexible), 8);
    let i = strict[0];
    assert_eq!(t.benchmark[i], "gsm8k");
    assert_eq!(t.task[i], "gsm8k");
    assert_eq!(t.n_shot[i], Some(5));
    assert_eq!(t.task_version[i].as_deref(), Some("3.0"));
    assert!(t.prompt[i].as_deref().unwrap().starts_with("<|user|>\nQuestion:"));
    assert!(t.meta[i].contains("Janet"), "meta holds the doc: {}", t.meta[i]);
    assert_eq!(t.item_id[i].len(), 64, "doc_hash is the item key");
    assert_eq!(
        t.item_id[strict[0]], t.item_id[flexible[0]],
        "both filters of a doc are one item"
    );
    assert!(t.source[i].contains("samples_gsm8k_2025-08-07T11-42-40.066002.jsonl:"));
}

#[test]
fn exaone_winogrande_invalid_extractions_are_kept_as_such() {
    let dir = samples_dir().join("kt-lmeval/winogrande/LGAI-EXAONE__EXAONE-3.0-7.8B-Instruct");
    let (t, _) = ingest(&[dir], &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), 10);
    assert!(t.extracted.iter().all(|e| e.as_deref() == Some("[invalid]")));
    assert!(t.correct.iter().all(|c| !c));
    assert_eq!(
        t.response[0].as_deref(),
        Some("The most fit option for completing the sentence is:")
    );
    assert_eq!(t.filter[0].as_deref(), Some("get-answer"));
}

#[test]
fn loglikelihood_winogrande_gives_the_chosen_option() {
    let dir = samples_dir().join("kt-lmeval/winogrande/_llama3.1-pro16-0827-Inst-nc-chat_241016");
    let (t, _) = ingest(&[dir], &IngestOptions::default()).unwrap();
    assert_eq!(t.len(), 10);
    // Pre-v0.4.7 rows carry no filter key.
    assert!(t.filter.iter().all(Option::is_none));
    for i in 0..t.len() {
        let chosen = t.response[i].as_deref().unwrap();
        assert!(chosen == "0" || chosen == "1", "{chosen}");
        assert_eq!(t.extracted[i].as_deref(), Some(chosen));
    }
}

#[test]
fn pyfade_pairs_two_runs_of_the_same_docs() {
    let (t, _) = ingest(
        &[samples_dir().join("pyfade-lmeval/gsm8k")],
        &IngestOptions::default(),
    )
    .unwrap();
    assert_eq!(
        t.runs(),
        vec!["gemma3:12b-it-q4_K_M".to_string(), "gemma3:12b-u1".to_string()]
    );
    assert_eq!(t.len(), 6);
    let ids = |run: &str| {
        let mut v: Vec<&String> = (0..t.len())
            .filter(|&i| t.run[i] == run)
            .map(|i| &t.item_id[i])
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids("gemma3:12b-u1"), ids("gemma3:12b-it-q4_K_M"));
}
