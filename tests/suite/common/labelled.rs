//! Helpers of the label-import tests (`tests/suite/labels.rs`, `tests/suite/run_labels.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A path inside the repository.
pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A file of `tests/fixtures/labels` (see its README).
pub fn fixture(name: &str) -> PathBuf {
    repo("tests/fixtures/labels").join(name)
}

/// item id -> (axis -> values, tag_rules) of a tagged table.
pub type ItemTags = BTreeMap<String, (BTreeMap<String, Vec<String>>, Vec<String>)>;

pub fn item_tags(path: &Path) -> ItemTags {
    let t = caploop::table::read_parquet(path).unwrap();
    let tags = t.tags.as_ref().unwrap();
    (0..t.len())
        .map(|i| {
            let set = &tags.sets[tags.row_set[i] as usize];
            let axes = tags
                .axes
                .iter()
                .cloned()
                .zip(set.values.iter().cloned())
                .collect();
            (t.item_id[i].clone(), (axes, set.rules.clone()))
        })
        .collect()
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Ingest the fixture samples into `dir/s.parquet`.
pub fn samples(dir: &Path) -> PathBuf {
    let s = dir.join("s.parquet");
    super::caploop()
        .args(["ingest", "-q"])
        .arg(fixture("samples.jsonl"))
        .arg("--out")
        .arg(&s)
        .assert()
        .success();
    s
}

/// `caploop tag` in the paper vocabulary with extra arguments.
pub fn tag(samples: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> assert_cmd::assert::Assert {
    super::caploop()
        .arg("tag")
        .arg("--samples")
        .arg(samples)
        .arg("--taxonomy")
        .arg(repo("taxonomies/math.yaml"))
        .arg("--vocabulary")
        .arg(repo("taxonomies/paper/mapping.yaml"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
}
