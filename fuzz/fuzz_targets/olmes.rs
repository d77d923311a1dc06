#![no_main]
//! The OLMES reader: the fixture's task files (metrics, predictions,
//! requests) with one replaced by the input; the first byte picks the task
//! (gsm8k, arc_easy:mc) and the file.
use libfuzzer_sys::fuzz_target;

macro_rules! fixture {
    ($f:literal) => {
        include_bytes!(concat!("../../tests/fixtures/olmes/run1/", $f))
    };
}

const GSM8K: &[(&str, &[u8])] = &[
    (
        "task-000-gsm8k-metrics.json",
        fixture!("task-000-gsm8k-metrics.json"),
    ),
    (
        "task-000-gsm8k-predictions.jsonl",
        fixture!("task-000-gsm8k-predictions.jsonl"),
    ),
    (
        "task-000-gsm8k-requests.jsonl",
        fixture!("task-000-gsm8k-requests.jsonl"),
    ),
];
const ARC: &[(&str, &[u8])] = &[
    (
        "task-001-arc_easy:mc-metrics.json",
        fixture!("task-001-arc_easy:mc-metrics.json"),
    ),
    (
        "task-001-arc_easy:mc-predictions.jsonl",
        fixture!("task-001-arc_easy:mc-predictions.jsonl"),
    ),
    (
        "task-001-arc_easy:mc-requests.jsonl",
        fixture!("task-001-arc_easy:mc-requests.jsonl"),
    ),
];

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_one_replaced(&[GSM8K, ARC], data, caploop::ingest::Format::Olmes);
});
