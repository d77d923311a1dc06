#![no_main]
//! The corpus manifest reader of `apply`: the first byte picks Parquet or
//! JSONL, the rest is the file, read in batches with a `labels` column.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let name = if kind % 2 == 0 { "m.parquet" } else { "m.jsonl" };
    let p = caploop_fuzz::scratch().join(name);
    std::fs::write(&p, rest).unwrap();
    let _ = caploop::apply::manifest::columns(&p);
    let _ = caploop::apply::manifest::for_each_batch(&p, Some("labels"), |b, _| {
        for i in 0..b.len() {
            let _ = (b.ids[i], b.tokens[i], b.cats[i], b.labels_of(i));
        }
        Ok(())
    });
});
