//! Page headers checked before polars decodes a row group. polars sizes its
//! buffers from the counts a page header declares; a corrupt count (a flipped
//! byte in `num_values`) makes it ask for exabytes, and a failed allocation
//! aborts the process: no panic to catch (found by fuzzing the Parquet
//! readers). So every page header of the column chunks about to be read is
//! read first (headers only: the page data is not decompressed) and its
//! counts checked against the row group's:
//!
//! - a flat column has one value per row (nulls included): neither the
//!   chunk's `num_values` nor a page's exceeds the row group's row count;
//! - a nested column holds at least one level entry per row, and every
//!   entry past that needs page bytes: no more than the rows plus 8 per
//!   uncompressed byte (a generous bound; values are at least a bit);
//! - a page decompresses to at most 1024 times its compressed size, or
//!   256 MiB (the largest ratios of gzip and zstd on constant data).
//!
//! What the checks cannot see (a value byte flipped inside a page) polars
//! either decodes, reports or panics on; [`super::guard`] catches the panic.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use polars_parquet::parquet::metadata::{ColumnChunkMetadata, FileMetadata};
use polars_parquet::parquet::page::CompressedPage;
use polars_parquet::parquet::read::{PageMetaData, PageReader};

use crate::error::{Error, Result};

/// Most bytes a page may decompress to whatever its compressed size.
const PAGE_FLOOR: usize = 256 << 20;
/// Most a page may grow by decompression past [`PAGE_FLOOR`].
const MAX_RATIO: usize = 1024;

/// Check the page headers of the given top-level `columns` (all of them
/// when `None`) in row group `rg` of a Parquet file read through `src`.
pub fn check<R: Read + Seek>(
    path: &Path,
    src: &mut R,
    md: &FileMetadata,
    rg: usize,
    columns: Option<&[&str]>,
) -> Result<()> {
    let Some(group) = md.row_groups.get(rg) else {
        return Ok(());
    };
    let file_len = src.seek(SeekFrom::End(0)).map_err(|e| Error::io(path, e))?;
    let chunks: Vec<&ColumnChunkMetadata> = match columns {
        None => group.parquet_columns().iter().collect(),
        Some(names) => names
            .iter()
            .filter_map(|n| group.columns_under_root_iter(n))
            .flatten()
            .collect(),
    };
    let rows = group.num_rows();
    let first: usize = md.row_groups[..rg].iter().map(|g| g.num_rows()).sum::<usize>() + 1;
    let where_ = |c: &ColumnChunkMetadata| {
        let name: Vec<&str> = c.descriptor().path_in_schema.iter().map(|s| s.as_str()).collect();
        format!(
            "row group {} of {} (rows {first}-{}), column '{}'",
            rg + 1,
            md.row_groups.len(),
            first + rows.max(1) - 1,
            name.join(".")
        )
    };
    let bad = |c: &ColumnChunkMetadata, what: String| super::guard::malformed(path, &where_(c), &what);
    for c in chunks {
        let range = c.byte_range();
        if range.start > range.end || range.end > file_len {
            return Err(bad(
                c,
                format!(
                    "its bytes {}-{} lie outside the file ({file_len} bytes)",
                    range.start, range.end
                ),
            ));
        }
        let flat = c.descriptor().descriptor.max_rep_level == 0;
        let declared = c.num_values();
        if declared < 0 || (flat && declared as u64 > rows as u64) {
            return Err(bad(c, format!("it declares {declared} values for {rows} rows")));
        }
        let mut bytes = vec![0u8; (range.end - range.start) as usize];
        src.seek(SeekFrom::Start(range.start))
            .and_then(|_| src.read_exact(&mut bytes))
            .map_err(|e| Error::io(path, e))?;
        let meta = PageMetaData::new(0, declared, c.compression(), c.descriptor().descriptor.clone());
        let reader = PageReader::new_with_page_meta(Cursor::new(bytes.into()), meta, Vec::new(), usize::MAX);
        let mut seen = 0usize;
        for page in reader {
            let page = page.map_err(|e| bad(c, format!("a page header does not decode: {e}")))?;
            let CompressedPage::Data(p) = page else {
                continue;
            };
            let (n, size, packed) = (p.num_values(), p.uncompressed_size(), p.compressed_size());
            let limit = if flat {
                rows
            } else {
                rows.saturating_add(size.saturating_mul(8))
            };
            if n > limit || seen.saturating_add(n) > declared as usize {
                // A negative count (an i32 in the header) shows as such.
                let shown = n as i64;
                return Err(bad(
                    c,
                    format!(
                        "a page declares {shown} values, past the {declared} of the column chunk ({rows} rows)"
                    ),
                ));
            }
            if size > PAGE_FLOOR.max(packed.saturating_mul(MAX_RATIO)) {
                return Err(bad(
                    c,
                    format!("a page of {packed} bytes declares {size} bytes uncompressed"),
                ));
            }
            seen += n;
        }
    }
    Ok(())
}

/// A whole Parquet file held in memory as a frame: every page header
/// checked ([`check`]) and a polars panic caught ([`super::guard`]).
pub fn read_whole(path: &Path, data: &[u8]) -> Result<polars::prelude::DataFrame> {
    use polars::prelude::{ParquetReader, SerReader};
    let mut reader = ParquetReader::new(Cursor::new(data));
    let md = super::guard::catch(
        path,
        || "its metadata".into(),
        || Ok(reader.get_metadata().map_err(|e| Error::frame(path, e))?.clone()),
    )?;
    let mut src = Cursor::new(data);
    for k in 0..md.row_groups.len() {
        check(path, &mut src, &md, k, None)?;
    }
    super::guard::catch(
        path,
        || "a data page".into(),
        || reader.finish().map_err(|e| Error::frame(path, e)),
    )
}
