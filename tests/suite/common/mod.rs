//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub mod labelled;

/// Real evaluation logs copied into the repository (`tests/fixtures/samples`,
/// provenance in its SOURCES.md).
pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/samples")
}

/// Non-empty lines of a file: the records of a JSONL file.
pub fn records(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

pub fn caploop() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("caploop").unwrap()
}

/// The shipped taxonomies.
pub fn taxonomies() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("taxonomies");
    vec![dir.join("bbh.yaml"), dir.join("math.yaml")]
}

/// A synthetic scenario through the comparison stage only (synth -> ingest
/// -> tag -> `dir/samples.parquet` -> compare): what the statistics tests
/// need, without diagnosis and reports.
pub fn compare_scenario(
    dir: &Path,
    scenario: caploop::synth::Scenario,
    items: usize,
    seed: u64,
    effect: Option<f64>,
    baseline_is_candidate: bool,
) -> caploop::slices::Comparison {
    use caploop::slices::{self, CompareSettings};
    let planted = caploop::synth::generate(&caploop::synth::SynthOptions {
        scenario,
        items,
        samples: 1,
        seed,
        out: dir.to_path_buf(),
        effect,
        after: false,
    })
    .unwrap();
    let taxonomy = caploop::taxonomy::TaxonomySet::load(&taxonomies()).unwrap();
    let (mut table, _) =
        caploop::ingest::ingest(&[PathBuf::from(&planted.logs)], &Default::default()).unwrap();
    caploop::tagging::tag_table(&mut table, &taxonomy);
    let path = dir.join("samples.parquet");
    caploop::table::write_parquet(&table, &path).unwrap();
    let settings = CompareSettings::default();
    let ds = slices::load(&path, &settings.filters).unwrap();
    let defined = slices::slices(&ds, settings.max_order, settings.min_items);
    let c = ds.run_index(&planted.candidate).unwrap();
    let b = if baseline_is_candidate {
        c
    } else {
        ds.run_index(&planted.baseline).unwrap()
    };
    slices::compare(&ds, b, c, &defined, &settings)
}
