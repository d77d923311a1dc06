#![no_main]
//! Imported labels (`tag --labels`): the first byte picks JSONL, CSV or
//! Parquet, the rest is the label file, validated against the paper's label
//! space and the items of the label fixtures' sample table.
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use caploop::labels::ItemIndex;
use caploop::taxonomy::Axis;
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (Vec<Axis>, ItemIndex) {
    static SETUP: OnceLock<(Vec<Axis>, ItemIndex)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let fine = caploop::taxonomy::TaxonomySet::load(&[repo.join("taxonomies/math.yaml")]).unwrap();
        let vocabulary =
            caploop::vocabulary::Vocabulary::load(&repo.join("taxonomies/paper/mapping.yaml")).unwrap();
        let axes = caploop::labels::apply::output_axes(&fine, Some(&vocabulary));
        let (table, _) = caploop::ingest::ingest(
            &[repo.join("tests/fixtures/labels/samples.jsonl")],
            &Default::default(),
        )
        .unwrap();
        let samples = caploop_fuzz::scratch().join("labels-samples.parquet");
        caploop::table::write_parquet(&table, &samples).unwrap();
        let items = caploop::labels::item_index(&samples).unwrap();
        (axes, items)
    })
}

fuzz_target!(|data: &[u8]| {
    let (axes, items) = setup();
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let name = ["l.jsonl", "l.csv", "l.parquet"][kind as usize % 3];
    let p: PathBuf = caploop_fuzz::scratch().join(name);
    std::fs::write(&p, rest).unwrap();
    if let Ok(given) = caploop::labels::read(std::slice::from_ref(&p), axes, items) {
        let _ = caploop::labels::agree::resolve(&given, &Default::default(), axes, items);
    }
});
