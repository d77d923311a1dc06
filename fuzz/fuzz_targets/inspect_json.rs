#![no_main]
//! The Inspect AI `.json` log reader (one `EvalLog` object).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_layout(&[("x.json", data)], caploop::ingest::Format::Inspect);
});
