#![no_main]
//! The OpenCompass reader: the fixture work folder's files for one dataset
//! (results with details, predictions, the config) with one replaced by the
//! input; the first byte picks the dataset (arc, gsm8k, math, race) and the
//! file.
use libfuzzer_sys::fuzz_target;

const CONFIG: &[u8] =
    include_bytes!("../../tests/fixtures/opencompass-details/20261130_120000/configs/20261130_120000.py");

macro_rules! dataset {
    ($d:literal) => {
        &[
            (
                concat!("w/results/m1/", $d, ".json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/opencompass-details/20261130_120000/results/m1/",
                    $d,
                    ".json"
                )),
            ),
            (
                concat!("w/predictions/m1/", $d, ".json"),
                include_bytes!(concat!(
                    "../../tests/fixtures/opencompass-details/20261130_120000/predictions/m1/",
                    $d,
                    ".json"
                )),
            ),
            ("w/configs/20261130_120000.py", CONFIG),
        ]
    };
}

const ARC: &[(&str, &[u8])] = dataset!("arc");
const GSM8K: &[(&str, &[u8])] = dataset!("gsm8k");
const MATH: &[(&str, &[u8])] = dataset!("math");
const RACE: &[(&str, &[u8])] = dataset!("race");

fuzz_target!(|data: &[u8]| {
    caploop_fuzz::ingest_one_replaced(
        &[ARC, GSM8K, MATH, RACE],
        data,
        caploop::ingest::Format::Opencompass,
    );
});
