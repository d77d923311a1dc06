//! Times the phases of ingest on a folder of logs (for performance work).
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: ingest_phases DIR");
    let t = Instant::now();
    let (table, _) = caploop::ingest::ingest(&[dir.into()], &Default::default()).unwrap();
    eprintln!(
        "ingest (read + parse + checks): {:.2} s, {} rows",
        t.elapsed().as_secs_f64(),
        table.len()
    );
    let t = Instant::now();
    caploop::table::write_parquet(&table, std::path::Path::new("/tmp/phases.parquet")).unwrap();
    eprintln!("write parquet: {:.2} s", t.elapsed().as_secs_f64());
}
