//! Comparison throughput: two runs of N items x 8 samples, 276 slices (5
//! axes of 5 values: 25 tags and 250 cross-axis pairs, plus `*`), built in memory so the bench measures the
//! comparison itself (loading is measured by `ingest` and end to end).

use caploop::slices::{self, CompareSettings, Dataset, Item, ItemScore};
use rand::{Rng, SeedableRng};

fn main() {
    divan::main();
}

fn dataset(items: usize, samples: u32) -> Dataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let tags: Vec<String> = (0..25).map(|t| format!("axis{}=v{t}", t / 5)).collect();
    let mut ds = Dataset {
        runs: vec!["base".into(), "cand".into()],
        benchmarks: vec!["bench".into()],
        tags,
        axes: (0..5).map(|a| format!("axis{a}")).collect(),
        ..Dataset::default()
    };
    ds.scores = vec![Vec::with_capacity(items), Vec::with_capacity(items)];
    for i in 0..items {
        let mut t: Vec<u32> = (0..5).map(|a| a * 5 + rng.random_range(0..5)).collect();
        t.sort_unstable();
        ds.items.push(Item {
            benchmark: 0,
            task: "task".into(),
            id: format!("item{i}"),
            tags: t,
        });
        let p: f64 = rng.random_range(0.1..0.9);
        for r in 0..2 {
            let correct = (0..samples).filter(|_| rng.random_bool(p)).count() as u32;
            ds.scores[r].push(Some(ItemScore {
                n: samples,
                sum: f64::from(correct),
                correct,
                binary: true,
                prompt_hash: None,
            }));
        }
    }
    ds
}

#[divan::bench(args = [100_000, 1_000_000], sample_count = 3)]
fn compare_two_runs_8_samples(bencher: divan::Bencher, items: usize) {
    let ds = dataset(items, 8);
    let settings = CompareSettings::default();
    let defined = slices::slices(&ds, 2, settings.min_items);
    assert_eq!(defined.len(), 276);
    bencher
        .counter(divan::counter::ItemsCount::new(items * 8 * 2))
        .bench(|| slices::compare(&ds, 0, 1, &defined, &settings));
}

#[divan::bench(args = [100_000, 1_000_000], sample_count = 3)]
fn define_slices(bencher: divan::Bencher, items: usize) {
    let ds = dataset(items, 8);
    bencher.bench(|| slices::slices(&ds, 2, 20));
}
