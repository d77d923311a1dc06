#![no_main]
//! The HELM reader: a fixture run folder (run spec, per-instance stats,
//! scenario state, display predictions) with one file replaced by the
//! input; the first byte picks the run (gsm, mmlu) and the file.
use libfuzzer_sys::fuzz_target;

macro_rules! run {
    ($dir:literal) => {
        &[
            (
                concat!("runs/v1/", $dir, "/run_spec.json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/helm/benchmark_output/runs/v1/",
                    $dir,
                    "/run_spec.json"
                )),
            ),
            (
                concat!("runs/v1/", $dir, "/per_instance_stats.json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/helm/benchmark_output/runs/v1/",
                    $dir,
                    "/per_instance_stats.json"
                )),
            ),
            (
                concat!("runs/v1/", $dir, "/scenario_state.json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/helm/benchmark_output/runs/v1/",
                    $dir,
                    "/scenario_state.json"
                )),
            ),
            (
                concat!("runs/v1/", $dir, "/display_predictions.json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/helm/benchmark_output/runs/v1/",
                    $dir,
                    "/display_predictions.json"
                )),
            ),
        ]
    };
}

const GSM: &[(&str, &[u8])] = run!("gsm:model=openai_gpt2");
const MMLU: &[(&str, &[u8])] = run!("mmlu:subject=geography,method=multiple_choice_joint,model=openai_gpt2");

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_one_replaced(&[GSM, MMLU], data, caploop::ingest::Format::Helm);
});
