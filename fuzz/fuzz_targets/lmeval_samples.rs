#![no_main]
//! The lm-evaluation-harness reader: the input is a samples file paired with
//! a fixed results file of the same date (the harness's layout).
use libfuzzer_sys::fuzz_target;

const RESULTS: &str = r#"{"results": {"gsm8k": {}}, "configs": {"gsm8k": {"output_type": "generate_until", "filter_list": [{"name": "strict-match"}, {"name": "flexible-extract"}], "generation_kwargs": {"max_gen_toks": 256}}}, "versions": {"gsm8k": 3}, "n-shot": {"gsm8k": 5}, "model_name": "m"}"#;

fuzz_target!(|data: &[u8]| {
    let dir = caploop_fuzz::scratch().join("lm");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("results_2025-01-01T00-00-00.000001.json"), RESULTS).unwrap();
    std::fs::write(dir.join("samples_gsm8k_2025-01-01T00-00-00.000001.jsonl"), data).unwrap();
    let _ = caploop::ingest::ingest(&[dir], &Default::default());
});
