#![no_main]
//! The column mapping: loaded alone, then used to read a fixed JSONL record.
use libfuzzer_sys::fuzz_target;

const RECORD: &[u8] = br#"{"id": "1", "subject": "s", "output": "The answer is 4", "pred": "4", "answer": "4", "acc": 1, "run": "r", "benchmark": "b"}"#;

fuzz_target!(|data: &[u8]| {
    let p = caploop_fuzz::scratch().join("m.yaml");
    std::fs::write(&p, data).unwrap();
    if caploop::ingest::generic::ColumnMapping::load(&p).is_ok() {
        caploop_fuzz::ingest_bytes("x.jsonl", RECORD, Some(data));
    }
});
