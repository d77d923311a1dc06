#![no_main]
//! The generic .json reader, without a column mapping (canonical column names).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_bytes("x.json", data, None);
});
