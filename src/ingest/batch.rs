//! A sink batch as it is held, and the columns a flush reads of it.
//!
//! Readers hand the sink rows ([`SampleTable`]); a caploop sample table read
//! back (the `tag` stage) hands it whole canonical frames, which are placed,
//! tagged, folded and written as they are: no row is rebuilt as owned
//! strings. Both give the same [`View`], borrowed, so a flush does the same
//! work whichever way its batch came.

use polars::prelude::{DataFrame, PolarsResult};

use crate::table::columns as c;
use crate::table::view::Columns;
use crate::table::SampleTable;

/// A batch: rows, or a canonical frame (see [`super::sink`]'s `canonical`).
/// One lives at a time, on the stack of a flush: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub(super) enum Held {
    Table(SampleTable),
    Frame(DataFrame),
}

/// What a flush reads: the analysis columns, and for duplicate checks and
/// tagging each row's source and the item's own text.
pub(super) struct View<'b> {
    pub cols: Columns<'b>,
    pub source: Vec<&'b str>,
    /// Empty unless the view was made for tagging.
    pub prompt: Vec<Option<&'b str>>,
    pub target: Vec<Option<&'b str>>,
    pub meta: Vec<&'b str>,
}

impl Held {
    pub fn len(&self) -> usize {
        match self {
            Held::Table(t) => t.len(),
            Held::Frame(df) => df.height(),
        }
    }

    /// The batch's columns; `text` adds the diagnosis' text columns,
    /// `tagging` the prompt, target and meta.
    pub fn view(&self, text: bool, tagging: bool) -> PolarsResult<View<'_>> {
        match self {
            Held::Table(t) => Ok(View {
                cols: Columns::of_table(t, text),
                source: t.source.iter().map(String::as_str).collect(),
                prompt: match tagging {
                    true => t.prompt.iter().map(Option::as_deref).collect(),
                    false => Vec::new(),
                },
                target: match tagging {
                    true => t.target.iter().map(Option::as_deref).collect(),
                    false => Vec::new(),
                },
                meta: match tagging {
                    true => t.meta.iter().map(String::as_str).collect(),
                    false => Vec::new(),
                },
            }),
            Held::Frame(df) => {
                let strs = |name: &str| -> PolarsResult<Vec<&str>> {
                    Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("")).collect())
                };
                let opt_strs = |name: &str| -> PolarsResult<Vec<Option<&str>>> {
                    Ok(df.column(name)?.str()?.iter().collect())
                };
                Ok(View {
                    cols: Columns::of_frame(df, text)?,
                    source: strs(c::SOURCE)?,
                    prompt: if tagging { opt_strs(c::PROMPT)? } else { Vec::new() },
                    target: if tagging { opt_strs(c::TARGET)? } else { Vec::new() },
                    meta: if tagging { strs(c::META)? } else { Vec::new() },
                })
            }
        }
    }

    /// A copy of the batch as rows.
    pub fn to_table(&self) -> PolarsResult<SampleTable> {
        match self {
            Held::Table(t) => Ok(t.clone()),
            Held::Frame(df) => crate::table::table_of_frame(df),
        }
    }

    /// The batch as rows.
    pub fn into_table(self) -> PolarsResult<SampleTable> {
        match self {
            Held::Table(t) => Ok(t),
            Held::Frame(df) => crate::table::table_of_frame(&df),
        }
    }
}

/// `df`'s base columns in canonical order, when they have exactly the
/// types and non-null columns [`crate::table::frame_of`] writes (so the
/// frame is what rebuilding it from the table would give); else `None`.
pub(super) fn canonical(df: &polars::prelude::DataFrame) -> Option<polars::prelude::DataFrame> {
    use std::sync::OnceLock;
    static SCHEMA: OnceLock<Option<polars::prelude::Schema>> = OnceLock::new();
    let want = SCHEMA
        .get_or_init(|| {
            crate::table::frame_of(&SampleTable::default())
                .ok()
                .map(|f| f.schema().as_ref().clone())
        })
        .as_ref()?;
    let frame = df.select(c::BASE).ok()?;
    if frame.schema().as_ref() != want {
        return None;
    }
    // Columns the table holds without nulls: a null there would be
    // rebuilt as a default, so the frame would differ.
    const REQUIRED: [&str; 10] = [
        c::RUN,
        c::BENCHMARK,
        c::TASK,
        c::PRIMARY_FILTER,
        c::ITEM_ID,
        c::SAMPLE_IDX,
        c::SCORE,
        c::CORRECT,
        c::META,
        c::SOURCE,
    ];
    REQUIRED
        .iter()
        .all(|n| frame.column(n).is_ok_and(|col| col.null_count() == 0))
        .then_some(frame)
}
