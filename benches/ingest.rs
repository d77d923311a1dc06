//! Ingest throughput: lm-evaluation-harness JSONL written by `synth`, read
//! into the canonical table. Sizes are rows (two runs, two families).

use std::path::PathBuf;

use caploop::ingest::{ingest, IngestOptions};
use caploop::synth::{self, Scenario, SynthOptions};

fn main() {
    divan::main();
}

fn logs(items: usize) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let planted = synth::generate(&SynthOptions {
        scenario: Scenario::Demo,
        items,
        samples: 1,
        seed: 1,
        out: tmp.path().to_path_buf(),
        effect: None,
        after: false,
    })
    .unwrap();
    (tmp, PathBuf::from(planted.logs))
}

#[divan::bench(args = [2_500, 25_000], sample_count = 5)]
fn lm_eval_jsonl(bencher: divan::Bencher, items: usize) {
    let (_tmp, dir) = logs(items);
    bencher
        .counter(divan::counter::ItemsCount::new(items * 4))
        .bench(|| ingest(std::slice::from_ref(&dir), &IngestOptions::default()).unwrap());
}
