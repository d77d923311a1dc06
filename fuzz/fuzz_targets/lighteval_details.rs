#![no_main]
//! The lighteval details parquet reader (`details_<task>_<timestamp>.parquet`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_layout(
        &[(
            "caploop__ckpt-a/2026-01-02T03-04-05.123456/details_gsm8k|3_2026-01-02T03-04-05.123456.parquet",
            data,
        )],
        caploop::ingest::Format::Lighteval,
    );
});
