//! Slice discovery at the target size: 1 million items, 8 axes of
//! 20 values (one value per axis per item), binary errors, a planted 3-way
//! combination (axis0=v0 & axis1=v0 & axis2=v0, about 125 items, 90%
//! errors), level 3, min_support 100.
//!
//! `base` is the error rate elsewhere. At 0.001 the planted slice is what
//! the search must find, and level 3 is partly explored; at 0.2 SliceLine's
//! size term rules out every slice below level 2 early (at a million items a
//! 125-item slice would need 400 times the mean error rate to score above
//! 0). `alpha = 0.999` weakens the size term so that level 3 is searched
//! almost exhaustively: the worst case for the pruning.
//!
//! Thread count: `RAYON_NUM_THREADS` (the target machine has 2 cores).

use std::sync::OnceLock;

use caploop::diagnose::lattice::{search, LatticeInput, LatticeSettings};
use rand::{Rng, SeedableRng};

fn main() {
    divan::main();
}

const ITEMS: usize = 1_000_000;
const AXES: u32 = 8;
const VALUES: u32 = 20;

struct Data {
    item_tags: Vec<Vec<u32>>,
    tag_names: Vec<String>,
    errors: Vec<f64>,
}

fn data(base: f64) -> Data {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let tag_names = (0..AXES * VALUES)
        .map(|t| format!("axis{}=v{}", t / VALUES, t % VALUES))
        .collect();
    let item_tags: Vec<Vec<u32>> = (0..ITEMS)
        .map(|_| {
            (0..AXES)
                .map(|a| a * VALUES + rng.random_range(0..VALUES))
                .collect()
        })
        .collect();
    let errors = item_tags
        .iter()
        .map(|t| {
            let planted = t[0] == 0 && t[1] == VALUES && t[2] == 2 * VALUES;
            f64::from(u8::from(rng.random_bool(if planted { 0.9 } else { base })))
        })
        .collect();
    Data {
        item_tags,
        tag_names,
        errors,
    }
}

fn cached(base: f64) -> &'static Data {
    static LOW: OnceLock<Data> = OnceLock::new();
    static HIGH: OnceLock<Data> = OnceLock::new();
    if base < 0.01 {
        LOW.get_or_init(|| data(base))
    } else {
        HIGH.get_or_init(|| data(base))
    }
}

fn run(bencher: divan::Bencher, base: f64, alpha: f64) {
    let d = cached(base);
    let input = LatticeInput {
        item_tags: &d.item_tags,
        tag_names: &d.tag_names,
        errors: &d.errors,
        effect: &d.errors,
    };
    let s = LatticeSettings {
        alpha,
        min_support: 100,
        max_level: 3,
        ..LatticeSettings::default()
    };
    bencher
        .counter(divan::counter::ItemsCount::new(ITEMS))
        .bench(|| search(&input, &s));
}

#[divan::bench(args = [0.001, 0.2], sample_count = 5, sample_size = 1)]
fn planted_3way(bencher: divan::Bencher, base: f64) {
    run(bencher, base, 0.95);
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn worst_case_alpha_0_999(bencher: divan::Bencher) {
    run(bencher, 0.001, 0.999);
}
