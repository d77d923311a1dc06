//! Times tagging the distinct prompts of a generic Parquet file with a
//! taxonomy, on one thread and on all (for performance work):
//! `cargo run --release --example tag_phases -- data.parquet bench_tax.yaml`.
use std::path::Path;
use std::time::Instant;

use caploop::taxonomy::{ItemRef, TaxonomySet};
use polars::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(data), Some(tax)) = (args.next(), args.next()) else {
        eprintln!("usage: tag_phases DATA.parquet TAXONOMY.yaml");
        std::process::exit(2);
    };
    let set = TaxonomySet::load(&[Path::new(&tax).to_path_buf()]).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let file = std::fs::File::open(&data).expect("data file");
    let df = ParquetReader::new(file)
        .with_columns(Some(vec!["prompt".into()]))
        .finish()
        .expect("a prompt column");
    let prompts = df
        .column("prompt")
        .and_then(|c| c.str().cloned())
        .expect("string prompts");
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&str> = prompts.iter().flatten().filter(|p| seen.insert(*p)).collect();
    let items: Vec<ItemRef<'_>> = distinct
        .iter()
        .map(|p| ItemRef {
            benchmark: "bench",
            task: "t",
            prompt: Some(p),
            target: None,
            meta: "{}",
        })
        .collect();
    for threads in [1, 0] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        let t = Instant::now();
        let out = pool.install(|| set.tag_all_ids(&items));
        let fired: usize = out.iter().map(|t| t.rules.len()).sum();
        eprintln!(
            "{} threads: {} items in {:.3} s ({:.2} us/item), {fired} rules fired",
            pool.current_num_threads(),
            items.len(),
            t.elapsed().as_secs_f64(),
            t.elapsed().as_secs_f64() * 1e6 / items.len() as f64
        );
    }
}
