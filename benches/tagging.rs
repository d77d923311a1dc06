//! Tagging throughput: synthetic items against 100 rules shaped
//! `\bA\b.*\bB\b` over random words (DESIGN section 11), in items per second.
//!
//! Inputs are generated in code with a fixed seed: a vocabulary of 1,000
//! random lowercase words, prompts of 50 words, and rules whose two words
//! are drawn from the same vocabulary, so a few items in a thousand fire a
//! rule and most regexes are ruled out by the literal prefilter. Run with
//! `cargo bench --bench tagging`.

use caploop::taxonomy::{ItemRef, TaxonomySet};
use divan::counter::ItemsCount;
use divan::Bencher;
use std::path::Path;

fn main() {
    divan::main();
}

const RULES: usize = 100;
const VOCABULARY: usize = 1_000;
const WORDS_PER_PROMPT: usize = 50;

/// xorshift64*: deterministic inputs without extra dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    (0..VOCABULARY)
        .map(|_| {
            let len = 3 + rng.below(7);
            (0..len).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()
        })
        .collect()
}

/// A taxonomy with `RULES` rules `\bA\b.*\bB\b`, each adding one of ten values.
fn taxonomy(rng: &mut Rng, words: &[String]) -> String {
    let values: Vec<String> = (0..10).map(|i| format!("op{i}")).collect();
    let mut yaml = format!(
        "name: bench\naxes:\n  operation: [{}]\n  background: [synthetic]\nrules:\n",
        values.join(", ")
    );
    for r in 0..RULES {
        let a = &words[rng.below(words.len())];
        let b = &words[rng.below(words.len())];
        yaml.push_str(&format!(
            "  - id: r{r}\n    when: {{ benchmark: 'bench*', prompt_regex: '\\b{a}\\b.*\\b{b}\\b' }}\n    add: {{ operation: op{}, background: synthetic }}\n",
            r % 10
        ));
    }
    yaml
}

fn prompts(rng: &mut Rng, words: &[String], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let picked: Vec<&str> = (0..WORDS_PER_PROMPT)
                .map(|_| words[rng.below(words.len())].as_str())
                .collect();
            picked.join(" ")
        })
        .collect()
}

struct Fixture {
    set: TaxonomySet,
    prompts: Vec<String>,
}

impl Fixture {
    fn new(n: usize) -> Fixture {
        let mut rng = Rng(0x5EED_CAFE_F00D_BEEF);
        let words = vocabulary(&mut rng);
        let yaml = taxonomy(&mut rng, &words);
        let set = match TaxonomySet::from_yaml_str(Path::new("bench.yaml"), &yaml) {
            Ok(set) => set,
            Err(e) => panic!("benchmark taxonomy is invalid:\n{e}"),
        };
        Fixture {
            set,
            prompts: prompts(&mut rng, &words, n),
        }
    }

    fn items(&self) -> Vec<ItemRef<'_>> {
        self.prompts
            .iter()
            .map(|p| ItemRef {
                benchmark: "bench",
                task: "bench_main",
                prompt: Some(p),
                target: Some("42"),
                meta: "{}",
            })
            .collect()
    }
}

/// `tag_all` (rayon, all cores) over N items.
#[divan::bench(args = [10_000, 100_000], sample_count = 10)]
fn tag_all(bencher: Bencher, n: usize) {
    let fixture = Fixture::new(n);
    let items = fixture.items();
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| fixture.set.tag_all(&items));
}

/// `tag` one item at a time on one thread (includes per-call glob gating).
#[divan::bench(args = [10_000], sample_count = 10)]
fn tag_each(bencher: Bencher, n: usize) {
    let fixture = Fixture::new(n);
    let items = fixture.items();
    bencher
        .counter(ItemsCount::new(n))
        .bench(|| items.iter().map(|i| fixture.set.tag(i)).collect::<Vec<_>>());
}

/// Validating and compiling the 100-rule taxonomy.
#[divan::bench(sample_count = 10)]
fn load(bencher: Bencher) {
    let mut rng = Rng(0x5EED_CAFE_F00D_BEEF);
    let words = vocabulary(&mut rng);
    let yaml = taxonomy(&mut rng, &words);
    bencher.bench(|| TaxonomySet::from_yaml_str(Path::new("bench.yaml"), &yaml).is_ok());
}
