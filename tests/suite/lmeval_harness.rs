//! Logs written by the real lm-evaluation-harness (0.4.13, scripted model)
//! must read exactly as the harness wrote them: this guards the reader
//! against format drift. `.ci/lmeval.sh DIR` produces the logs and
//! `CAPLOOP_LMEVAL_LOGS=DIR` points this test at them; `tests/lmeval/expected.json`
//! holds what the generator checked on its side.

use std::collections::BTreeSet;
use std::path::PathBuf;

use caploop::ingest::{ingest, IngestOptions};
use caploop::slices::{self, CompareSettings};
use serde_json::Value;

fn logs() -> Option<PathBuf> {
    match std::env::var_os("CAPLOOP_LMEVAL_LOGS") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var_os("CI").is_some() => {
            panic!("CI must run .ci/lmeval.sh and set CAPLOOP_LMEVAL_LOGS")
        }
        None => {
            eprintln!("skipped: set CAPLOOP_LMEVAL_LOGS (see .ci/run) to run the real-harness test");
            None
        }
    }
}

fn expected() -> Value {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lmeval/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

const FAMILY: &[(&str, &str)] = &[
    ("gsm8k", "gsm8k"),
    ("bbh_cot_fewshot_date_understanding", "bbh"),
    ("arc_easy", "arc"),
    ("hendrycks_math_algebra", "math"),
    ("winogrande", "winogrande"),
];

#[test]
fn real_harness_logs_read_as_written() {
    let Some(dir) = logs() else { return };
    let exp = expected();
    let (t, report) = ingest(&[dir], &IngestOptions::default()).unwrap();
    assert!(report.skipped.is_empty());
    let base = exp["checkpoints"]["base"]["model_name"].as_str().unwrap();
    let noeos = exp["checkpoints"]["noeos"]["model_name"].as_str().unwrap();
    assert_eq!(t.runs(), vec![base.to_string(), noeos.to_string()]);
    for (task, family) in FAMILY {
        let e = &exp["tasks"][*task];
        let filters: Vec<&str> = e["filters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for (run, who) in [(base, "base"), (noeos, "noeos")] {
            let rows: Vec<usize> = (0..t.len())
                .filter(|&i| t.run[i] == run && t.task[i] == *task)
                .collect();
            assert_eq!(
                rows.len() as u64,
                e["rows_per_file"].as_u64().unwrap(),
                "{task} {run}"
            );
            for &i in &rows {
                assert_eq!(t.benchmark[i], *family);
                assert_eq!(t.n_shot[i], e["n_shot"].as_u64().map(|n| n as u32), "{task}");
                assert_eq!(
                    t.task_version[i].as_deref(),
                    Some(e["version"].to_string().as_str()),
                    "{task}"
                );
                let f = t.filter[i].as_deref().unwrap();
                assert_eq!(t.primary_filter[i], f == filters[0], "{task}: {f}");
            }
            for f in &filters {
                let pf = &e["per_filter"][*f];
                let of_filter: Vec<usize> = rows
                    .iter()
                    .copied()
                    .filter(|&i| t.filter[i].as_deref() == Some(*f))
                    .collect();
                assert_eq!(of_filter.len() as u64, e["docs"].as_u64().unwrap(), "{task} {f}");
                let correct = of_filter.iter().filter(|&&i| t.correct[i]).count() as u64;
                assert_eq!(
                    correct,
                    pf[format!("{who}_correct")].as_u64().unwrap(),
                    "{task} {f} {who}"
                );
                let invalid = of_filter
                    .iter()
                    .filter(|&&i| t.extracted[i].as_deref() == Some("[invalid]"))
                    .count() as u64;
                assert_eq!(
                    invalid,
                    pf[format!("{who}_invalid")].as_u64().unwrap(),
                    "{task} {f} {who} [invalid]"
                );
            }
        }
        // Both checkpoints saw the same docs: item keys pair one to one.
        let ids = |run: &str| -> BTreeSet<&str> {
            (0..t.len())
                .filter(|&i| t.run[i] == run && t.task[i] == *task)
                .map(|i| t.item_id[i].as_str())
                .collect()
        };
        assert_eq!(ids(base), ids(noeos), "{task}");
        assert_eq!(ids(base).len() as u64, e["docs"].as_u64().unwrap(), "{task}");
    }
}

#[test]
fn real_harness_regressions_are_the_items_the_noeos_model_broke() {
    let Some(dir) = logs() else { return };
    let exp = expected();
    let tmp = tempfile::tempdir().unwrap();
    let (t, _) = ingest(&[dir], &IngestOptions::default()).unwrap();
    let path = tmp.path().join("s.parquet");
    caploop::table::write_parquet(&t, &path).unwrap();
    let ds = slices::load(&path, &Default::default()).unwrap();
    let base = ds
        .run_index(exp["checkpoints"]["base"]["model_name"].as_str().unwrap())
        .unwrap();
    let cand = ds
        .run_index(exp["checkpoints"]["noeos"]["model_name"].as_str().unwrap())
        .unwrap();
    let defined = slices::slices(&ds, 1, 1);
    let c = slices::compare(&ds, base, cand, &defined, &CompareSettings::default());
    for (task, family) in FAMILY {
        let e = &exp["tasks"][*task];
        let first = e["filters"][0].as_str().unwrap();
        let pf = &e["per_filter"][first];
        let all = c.overall(family).unwrap();
        assert_eq!(
            all.regressed as u64,
            pf["noeos_wrong_vs_base"].as_u64().unwrap(),
            "{task}"
        );
        assert_eq!(all.fixed, 0, "{task}");
        let p = c.pairing.iter().find(|p| p.benchmark == *family).unwrap();
        assert_eq!(
            (p.only_baseline, p.only_candidate, p.prompt_changed),
            (0, 0, 0),
            "{task}"
        );
    }
}

/// Per benchmark of these logs, the axes whose values the task name or the
/// doc fields determine (see the README's taxonomy coverage table).
fn determined_axes(benchmark: &str) -> &'static [&'static str] {
    match benchmark {
        "gsm8k" | "bbh" | "winogrande" => &["background", "task_type", "operation", "output_constraint"],
        "arc" => &[
            "background",
            "task_type",
            "operation",
            "output_constraint",
            "difficulty",
        ],
        "math" => &["background", "task_type", "output_constraint", "difficulty"],
        _ => &[],
    }
}

/// The shipped taxonomies tag what the real harness logs: the unknown share
/// per axis is printed, and stays under 5% on the axes the doc fields
/// determine.
#[test]
fn real_harness_logs_get_their_capability_tags() {
    let Some(dir) = logs() else { return };
    let (mut t, _) = ingest(&[dir], &IngestOptions::default()).unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies");
    let paths: Vec<PathBuf> = caploop::shipped::TAXONOMIES
        .iter()
        .map(|(name, _)| dir.join(name))
        .collect();
    let taxonomy = caploop::taxonomy::TaxonomySet::load(&paths).unwrap();
    let coverage = caploop::tagging::tag_table(&mut t, &taxonomy);
    let families: BTreeSet<&str> = FAMILY.iter().map(|(_, f)| *f).collect();
    assert_eq!(
        coverage
            .iter()
            .map(|c| c.benchmark.as_str())
            .collect::<BTreeSet<_>>(),
        families
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
        let axes = determined_axes(&c.benchmark);
        assert!(!axes.is_empty(), "{}", c.benchmark);
        for axis in axes {
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
