//! The output manifest: a finished run writes `manifest.json` (every file of
//! its output folder with its size and SHA-256) last, so a folder left by a
//! killed or failing run is recognisable. While a run writes a folder it
//! holds a `.caploop-running` marker; `plan` and `verify` refuse inputs from
//! a folder that has the marker, or whose manifest lists the input with
//! other contents.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub const MANIFEST: &str = "manifest.json";
pub const RUNNING: &str = ".caploop-running";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Path relative to the folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub files: Vec<Entry>,
}

/// A run starts writing `out`: the old manifest goes, the marker comes.
pub fn begin(out: &Path) -> Result<()> {
    crate::error::create_dir(out)?;
    let m = out.join(MANIFEST);
    if m.exists() {
        std::fs::remove_file(&m).map_err(|e| Error::io(&m, e))?;
    }
    crate::error::write_file(
        &out.join(RUNNING),
        format!(
            "caploop {} (pid {}) is writing this folder; without manifest.json it did not finish\n",
            env!("CARGO_PKG_VERSION"),
            std::process::id()
        ),
    )
}

fn sha256_file(path: &Path) -> Result<(u64, String)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((n_total, hex::encode(h.finalize())))
}

/// The run finished: write the manifest of every file this run wrote under
/// `out` (modified since the marker was made, up to three folders deep; in
/// name order; temporaries and the marker excluded), then drop the marker.
/// Older files in the folder are not listed: they are not this run's.
pub fn finish(out: &Path) -> Result<()> {
    let marker = out.join(RUNNING);
    let since = std::fs::metadata(&marker).and_then(|m| m.modified()).ok();
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(out).max_depth(3).sort_by_file_name() {
        let e = e.map_err(|e| Error::io(out, e.into()))?;
        if !e.file_type().is_file() {
            continue;
        }
        let modified = e.metadata().ok().and_then(|m| m.modified().ok());
        if let (Some(since), Some(m)) = (since, modified) {
            if m < since {
                continue;
            }
        }
        let rel = e.path().strip_prefix(out).unwrap_or(e.path());
        let name = e.file_name().to_string_lossy();
        if rel == Path::new(MANIFEST) || name == RUNNING || name.contains(".partial-") {
            continue;
        }
        let (bytes, sha256) = sha256_file(e.path())?;
        let path = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        files.push(Entry { path, bytes, sha256 });
    }
    let m = Manifest {
        tool: format!("caploop {}", env!("CARGO_PKG_VERSION")),
        files,
    };
    let json = serde_json::to_string_pretty(&m).map_err(|e| Error::usage(e.to_string()))?;
    crate::error::write_file(&out.join(MANIFEST), json + "\n")?;
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
    }
    Ok(())
}

/// Refuse an input written by a run that did not finish, or changed since
/// its run finished. A folder with neither marker nor manifest (written by
/// hand or by an older caploop) is accepted.
pub fn check_input(file: &Path) -> Result<()> {
    let dir: PathBuf = if file.is_dir() {
        file.to_path_buf()
    } else {
        file.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    if dir.join(RUNNING).exists() {
        return Err(Error::usage(format!(
            "{}: written by a run that has not finished ({} is there and {MANIFEST} is not): it was killed or failed, so its outputs may be partial or stale; run that step again",
            file.display(),
            dir.join(RUNNING).display()
        )));
    }
    let mpath = dir.join(MANIFEST);
    if !mpath.exists() || file.is_dir() {
        return Ok(());
    }
    let m: Manifest = serde_json::from_slice(&crate::error::read_file(&mpath)?)
        .map_err(|e| Error::input(&mpath, e.line(), None, format!("not a caploop manifest: {e}")))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(entry) = m.files.iter().find(|e| e.path == name) {
        let (bytes, sha) = sha256_file(file)?;
        if bytes != entry.bytes || sha != entry.sha256 {
            return Err(Error::usage(format!(
                "{}: differs from what the run that wrote it recorded in {} ({} bytes, sha256 {}; now {bytes} bytes, sha256 {sha}): it was changed or overwritten by an unfinished run; run that step again",
                file.display(),
                mpath.display(),
                entry.bytes,
                entry.sha256
            )));
        }
    }
    Ok(())
}
