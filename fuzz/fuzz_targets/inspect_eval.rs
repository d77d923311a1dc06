#![no_main]
//! The Inspect AI `.eval` reader (a zip archive of JSON members).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_layout(&[("x.eval", data)], caploop::ingest::Format::Inspect);
});
