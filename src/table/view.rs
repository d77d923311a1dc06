//! A borrowed, columnar view of one batch of sample rows.
//!
//! The analysis accumulators (`slices::DatasetBuilder`, the diagnosis
//! observations) read batches through this one type, whether the batch was
//! just ingested (a [`SampleTable`]) or read back from Parquet (a polars
//! frame), so both paths run the same code. Columns a consumer does not need
//! may be absent (`None`); text columns are borrowed, never copied.

use polars::prelude::*;

use super::columns as c;
use super::SampleTable;

/// One batch, column by column. `len` rows; every present column has `len` entries.
#[derive(Debug, Default)]
pub struct Columns<'a> {
    pub len: usize,
    pub run: Vec<&'a str>,
    pub benchmark: Vec<&'a str>,
    pub task: Vec<&'a str>,
    pub filter: Vec<Option<&'a str>>,
    pub primary_filter: Vec<bool>,
    pub item_id: Vec<&'a str>,
    pub sample_idx: Vec<u32>,
    pub score: Vec<f64>,
    pub correct: Vec<bool>,
    pub prompt_hash: Vec<Option<&'a str>>,
    pub task_version: Vec<Option<&'a str>>,
    pub n_shot: Vec<Option<u32>>,
    pub max_gen_toks: Vec<Option<u32>>,
    /// Text for the diagnosis; `None` when not loaded.
    pub text: Option<TextColumns<'a>>,
}

/// The columns the failure detectors read.
#[derive(Debug, Default)]
pub struct TextColumns<'a> {
    pub target: Vec<Option<&'a str>>,
    pub response: Vec<Option<&'a str>>,
    pub extracted: Vec<Option<&'a str>>,
    pub finish_reason: Vec<Option<&'a str>>,
    pub response_tokens: Vec<Option<u32>>,
    pub response_chars: Vec<u32>,
}

/// Columns every analysis reads.
pub const SCORE_COLUMNS: [&str; 13] = [
    c::RUN,
    c::BENCHMARK,
    c::TASK,
    c::FILTER,
    c::PRIMARY_FILTER,
    c::ITEM_ID,
    c::SAMPLE_IDX,
    c::SCORE,
    c::CORRECT,
    c::PROMPT_HASH,
    c::TASK_VERSION,
    c::N_SHOT,
    c::MAX_GEN_TOKS,
];

/// Columns the failure detectors read besides [`SCORE_COLUMNS`].
pub const TEXT_COLUMNS: [&str; 6] = [
    c::TARGET,
    c::RESPONSE,
    c::EXTRACTED,
    c::FINISH_REASON,
    c::RESPONSE_TOKENS,
    c::RESPONSE_CHARS,
];

fn opt(v: &[Option<String>]) -> Vec<Option<&str>> {
    v.iter().map(|s| s.as_deref()).collect()
}

impl<'a> Columns<'a> {
    /// A view of an in-memory batch.
    pub fn of_table(t: &'a SampleTable, with_text: bool) -> Columns<'a> {
        Columns {
            len: t.len(),
            run: t.run.iter().map(String::as_str).collect(),
            benchmark: t.benchmark.iter().map(String::as_str).collect(),
            task: t.task.iter().map(String::as_str).collect(),
            filter: opt(&t.filter),
            primary_filter: t.primary_filter.clone(),
            item_id: t.item_id.iter().map(String::as_str).collect(),
            sample_idx: t.sample_idx.clone(),
            score: t.score.clone(),
            correct: t.correct.clone(),
            prompt_hash: opt(&t.prompt_hash),
            task_version: opt(&t.task_version),
            n_shot: t.n_shot.clone(),
            max_gen_toks: t.max_gen_toks.clone(),
            text: with_text.then(|| TextColumns {
                target: opt(&t.target),
                response: opt(&t.response),
                extracted: opt(&t.extracted),
                finish_reason: opt(&t.finish_reason),
                response_tokens: t.response_tokens.clone(),
                response_chars: t.response_chars.clone(),
            }),
        }
    }

    /// A view of a frame holding [`SCORE_COLUMNS`] (and [`TEXT_COLUMNS`]
    /// when `with_text`).
    pub fn of_frame(df: &'a DataFrame, with_text: bool) -> PolarsResult<Columns<'a>> {
        let strs = |name: &str| -> PolarsResult<Vec<&'a str>> {
            Ok(df.column(name)?.str()?.iter().map(|v| v.unwrap_or("")).collect())
        };
        let opt_strs = |name: &str| -> PolarsResult<Vec<Option<&'a str>>> {
            Ok(df.column(name)?.str()?.iter().collect())
        };
        let opt_u32 =
            |name: &str| -> PolarsResult<Vec<Option<u32>>> { Ok(df.column(name)?.u32()?.iter().collect()) };
        let bools = |name: &str, default: bool| -> PolarsResult<Vec<bool>> {
            Ok(df
                .column(name)?
                .bool()?
                .iter()
                .map(|v| v.unwrap_or(default))
                .collect())
        };
        let text = if with_text {
            Some(TextColumns {
                target: opt_strs(c::TARGET)?,
                response: opt_strs(c::RESPONSE)?,
                extracted: opt_strs(c::EXTRACTED)?,
                finish_reason: opt_strs(c::FINISH_REASON)?,
                response_tokens: opt_u32(c::RESPONSE_TOKENS)?,
                response_chars: df
                    .column(c::RESPONSE_CHARS)?
                    .u32()?
                    .iter()
                    .map(|v| v.unwrap_or(0))
                    .collect(),
            })
        } else {
            None
        };
        Ok(Columns {
            len: df.height(),
            run: strs(c::RUN)?,
            benchmark: strs(c::BENCHMARK)?,
            task: strs(c::TASK)?,
            filter: opt_strs(c::FILTER)?,
            primary_filter: bools(c::PRIMARY_FILTER, true)?,
            item_id: strs(c::ITEM_ID)?,
            sample_idx: df
                .column(c::SAMPLE_IDX)?
                .u32()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect(),
            score: df
                .column(c::SCORE)?
                .f64()?
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
            correct: bools(c::CORRECT, false)?,
            prompt_hash: opt_strs(c::PROMPT_HASH)?,
            task_version: opt_strs(c::TASK_VERSION)?,
            n_shot: opt_u32(c::N_SHOT)?,
            max_gen_toks: opt_u32(c::MAX_GEN_TOKS)?,
            text,
        })
    }
}
