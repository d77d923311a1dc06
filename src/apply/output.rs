//! The outputs of `apply`: `selection.parquet`, `ids.tsv`, `apply.md`.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::{Applied, Outputs};
use crate::error::{Error, Result};
use crate::table::SamplesWriter;

const BATCH: usize = 1 << 16;

/// Streams selected documents into `selection.parquet` (one row group per
/// 65,536 rows, in manifest order) and `ids.tsv` (`doc_id<TAB>copies`).
pub struct SelectionWriter {
    parquet: SamplesWriter,
    ids: BufWriter<File>,
    ids_tmp: PathBuf,
    ids_path: PathBuf,
    sel_path: PathBuf,
    id: Vec<String>,
    copies: Vec<u32>,
    category: Vec<String>,
    feature: Vec<Option<String>>,
    key: Vec<f64>,
    tokens: Vec<u64>,
}

impl SelectionWriter {
    pub fn create(out: &Path) -> Result<SelectionWriter> {
        let sel_path = out.join("selection.parquet");
        let ids_path = out.join("ids.tsv");
        let ids_tmp = out.join(format!(".ids.tsv.partial-{}", std::process::id()));
        let f = File::create(&ids_tmp).map_err(|e| Error::io(&ids_tmp, e))?;
        Ok(SelectionWriter {
            parquet: SamplesWriter::create(&sel_path)?,
            ids: BufWriter::with_capacity(1 << 20, f),
            ids_tmp,
            ids_path,
            sel_path,
            id: Vec::new(),
            copies: Vec::new(),
            category: Vec::new(),
            feature: Vec::new(),
            key: Vec::new(),
            tokens: Vec::new(),
        })
    }

    pub fn push(
        &mut self,
        id: &str,
        copies: u32,
        category: &str,
        feature: Option<&str>,
        key: f64,
        tokens: u64,
    ) -> Result<()> {
        writeln!(self.ids, "{id}\t{copies}").map_err(|e| Error::io(&self.ids_tmp, e))?;
        self.id.push(id.to_string());
        self.copies.push(copies);
        self.category.push(category.to_string());
        self.feature.push(feature.map(str::to_string));
        self.key.push(key);
        self.tokens.push(tokens);
        if self.id.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let n = self.id.len();
        let mut df = DataFrame::new(
            n,
            vec![
                Column::new("doc_id".into(), std::mem::take(&mut self.id)),
                Column::new("copies".into(), std::mem::take(&mut self.copies)),
                Column::new("category".into(), std::mem::take(&mut self.category)),
                Column::new("feature".into(), std::mem::take(&mut self.feature)),
                Column::new("key".into(), std::mem::take(&mut self.key)),
                Column::new("tokens".into(), std::mem::take(&mut self.tokens)),
            ],
        )
        .map_err(|e| Error::frame(&self.sel_path, e))?;
        self.parquet.write(&mut df)
    }

    /// Close both files, move them into place, and hash them.
    pub fn finish(mut self) -> Result<Outputs> {
        if !self.id.is_empty() || self.parquet.rows() == 0 {
            self.flush()?;
        }
        self.ids.flush().map_err(|e| Error::io(&self.ids_tmp, e))?;
        let (sel, ids_tmp, ids_path) = (self.sel_path.clone(), self.ids_tmp.clone(), self.ids_path.clone());
        self.parquet.finish()?;
        drop(self.ids);
        std::fs::rename(&ids_tmp, &ids_path).map_err(|e| Error::io(&ids_path, e))?;
        Ok(Outputs {
            selection: "selection.parquet".into(),
            selection_sha256: sha256_file(&sel)?,
            ids: "ids.tsv".into(),
            ids_sha256: sha256_file(&ids_path)?,
            spark_job: None,
        })
    }
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// The report section (`apply.md`).
pub fn markdown(a: &Applied) -> String {
    use std::fmt::Write as _;
    let unit = match a.settings.unit {
        super::Unit::Tokens => "tokens",
        super::Unit::Examples => "examples",
    };
    let mut s = String::new();
    let _ = writeln!(s, "## Selection (caploop apply)\n");
    let _ = writeln!(
        s,
        "Budget {} {unit}; selected {} {unit} in {} documents ({} copies, {} tokens) from {} documents read. Salt `{}`, rho {}, d_max {}, epoch cap {}.\n",
        a.totals.target,
        a.totals.selected,
        a.totals.selected_docs,
        a.totals.selected_copies,
        a.totals.selected_tokens,
        a.totals.docs_read,
        a.settings.salt,
        a.settings.rho,
        a.settings.d_max,
        a.settings.epoch_cap
    );
    let _ = writeln!(s, "| category | share | target | selected | docs | copies | weak-feature pool (target / selected) | uniform pool (target / selected) | short |");
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for c in &a.categories {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {} | {} | {} | {} | {} / {} | {} / {} | {} |",
            c.category,
            c.share,
            c.target,
            c.selected,
            c.selected_docs,
            c.selected_copies,
            c.match_target,
            c.match_selected,
            c.cover_target,
            c.cover_selected,
            c.short
        );
    }
    if !a.feature_results.is_empty() {
        let _ = writeln!(
            s,
            "\n| weak feature | Weak | matched docs | selected docs | copies | tokens |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for f in &a.feature_results {
            let _ = writeln!(
                s,
                "| {} | {:.3} | {} | {} | {} | {} |",
                f.feature, f.weak, f.matched_docs, f.selected_docs, f.selected_copies, f.selected_tokens
            );
        }
    }
    let inactive: Vec<_> = a.features.iter().filter(|f| f.status != "matched").collect();
    if !inactive.is_empty() {
        let _ = writeln!(s, "\nFeatures that select nothing:\n");
        for f in inactive {
            let _ = writeln!(
                s,
                "- `{}` ({}): {}",
                f.name,
                f.status,
                f.reason.as_deref().unwrap_or("")
            );
        }
    }
    if !a.unplanned_categories.is_empty() {
        let _ = writeln!(
            s,
            "\nCategories of the corpus not in the plan (never selected):\n"
        );
        for u in &a.unplanned_categories {
            let _ = writeln!(s, "- `{}`: {} documents, {} tokens", u.category, u.docs, u.tokens);
        }
    }
    let _ = writeln!(
        s,
        "\nSelection: `{}` (SHA-256 `{}`), id list `{}`.",
        a.outputs.selection, a.outputs.selection_sha256, a.outputs.ids
    );
    s
}
