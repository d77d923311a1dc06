//! Shared by the fuzz targets: write the input to a file and run a reader on
//! it. A reader may return any error; it must never panic (libFuzzer reports
//! a panic as a crash).

use std::path::PathBuf;

/// A per-process scratch folder (in memory when /dev/shm exists).
pub fn scratch() -> PathBuf {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let d = base.join(format!("caploop-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Ingest `data` written as `name` (in its own folder), with an optional
/// column mapping, and discard the result.
pub fn ingest_bytes(name: &str, data: &[u8], columns: Option<&[u8]>) {
    let dir = scratch().join("in");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, data).unwrap();
    let columns = columns.map(|c| {
        let p = scratch().join("columns.yaml");
        std::fs::write(&p, c).unwrap();
        p
    });
    let opts = caploop::ingest::IngestOptions {
        columns,
        ..Default::default()
    };
    let _ = caploop::ingest::ingest(&[dir], &opts);
}

/// Ingest a folder laid out as `files` (path inside the folder, contents)
/// with the format given, and discard the result.
pub fn ingest_layout(files: &[(&str, &[u8])], format: caploop::ingest::Format) {
    let dir = scratch().join("layout");
    let _ = std::fs::remove_dir_all(&dir);
    for (rel, data) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, data).unwrap();
    }
    let opts = caploop::ingest::IngestOptions {
        format,
        ..Default::default()
    };
    let _ = caploop::ingest::ingest(&[dir], &opts);
}

/// A fixture layout with one file replaced by the input: the first byte
/// picks the layout (`byte / files`) and the file (`byte % files`), the rest
/// is that file. Every layout lists the same files, in the same order.
pub fn ingest_one_replaced(layouts: &[&[(&str, &[u8])]], data: &[u8], format: caploop::ingest::Format) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let n = layouts[0].len();
    let layout = layouts[(pick as usize / n) % layouts.len()];
    let k = pick as usize % n;
    let files: Vec<(&str, &[u8])> = layout
        .iter()
        .enumerate()
        .map(|(i, &(p, d))| (p, if i == k { rest } else { d }))
        .collect();
    ingest_layout(&files, format);
}
