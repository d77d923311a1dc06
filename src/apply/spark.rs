//! `--emit-spark DIR`: a PySpark job that makes the same selection.
//!
//! The job hashes with Spark's own `xxhash64` (FORMATS.md section 9) and
//! compares the 53-bit hashes against the integer thresholds caploop
//! computed (written into the job as literals), so it keeps exactly the
//! slots caploop keeps. It checks the hash vectors before anything else.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::{hash, Job, Rules};
use crate::error::Result;

const TEMPLATE: &str = include_str!("select.py");

/// Write `DIR/select.py`; returns its path.
pub fn emit(dir: &Path, job: &Job, rules: &Rules) -> Result<PathBuf> {
    crate::error::create_dir(dir)?;
    let check_doc = "caploop-check";
    let seed = hash::chain_str(hash::salt_seed(&job.settings.salt), check_doc);
    let check: Vec<u64> = (0..3).map(|s| hash::h53(seed, s)).collect();
    let mut table = Vec::new();
    for (c, rule) in rules.cover.iter().enumerate() {
        table.push(
            json!({"cat": c, "feat": -1, "pass": rule.pass, "h_max": rule.h_max, "bid": rule.id,
                          "s": 0, "t": 0, "bslot": 0, "w": 1.0, "fname": null}),
        );
        for (f, m) in rules.matched[c].iter().enumerate() {
            table.push(json!({"cat": c, "feat": f, "pass": 0, "h_max": -1, "bid": m.id,
                              "s": m.s, "t": m.t, "bslot": m.slot, "w": job.features[f].weak,
                              "fname": job.features[f].name}));
        }
    }
    let params = json!({
        "salt": job.settings.salt,
        "d_max": job.settings.d_max,
        "cover_slots": rules.cover_slots,
        "label_column": job.label_column,
        "categories": job.categories,
        "features": job.features.iter().map(|f| json!({"name": f.name, "labels": f.labels, "weak": f.weak})).collect::<Vec<_>>(),
        "rules": table,
        "check_doc": check_doc,
        "check_h53": check,
    });
    let text = TEMPLATE.replace(
        "__PARAMS__",
        &serde_json::to_string_pretty(&params)
            .unwrap_or_default()
            .replace("'''", "\\'\\'\\'"),
    );
    let path = dir.join("select.py");
    crate::error::write_file(&path, text)?;
    Ok(path)
}
