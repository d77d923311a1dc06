//! The canonical sample table: one row per sample (DESIGN section 3).
//!
//! Readers fill a [`SampleTable`] (plain columnar vectors); it is written to
//! and read from Parquet through polars. Analysis stages do not use this type
//! for the hot path: they load only the columns they need (see
//! `slices::load`). This module does not interpret scores or tags.

pub mod columns;
pub mod guard;
pub mod pages;
mod parquet;
mod tagcols;
pub mod view;
mod write;

pub use parquet::{
    column_names as parquet_column_names, for_each_batch, for_each_batch_extra, for_each_prepared, frame_of,
    read_parquet, read_parquet_columns, table_of_frame, write_parquet,
};
pub use tagcols::TagColumns;
pub use write::{BackgroundWriter, SamplesWriter};

/// One sample, as readers produce it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleRow {
    pub run: String,
    pub benchmark: String,
    pub task: String,
    pub filter: Option<String>,
    pub primary_filter: bool,
    pub item_id: String,
    pub sample_idx: u32,
    pub prompt: Option<String>,
    pub target: Option<String>,
    pub response: Option<String>,
    pub extracted: Option<String>,
    pub score: f64,
    pub correct: bool,
    pub finish_reason: Option<String>,
    pub response_tokens: Option<u32>,
    pub response_chars: u32,
    pub meta: String,
    pub prompt_hash: Option<String>,
    pub task_version: Option<String>,
    pub n_shot: Option<u32>,
    pub max_gen_toks: Option<u32>,
    pub source: String,
}

/// Tags of the items, stored once per distinct tag set and referenced by row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// Axis names, in column order.
    pub axes: Vec<String>,
    /// Distinct tag sets.
    pub sets: Vec<TagSet>,
    /// For every row, the index of its tag set in `sets`.
    pub row_set: Vec<u32>,
}

/// The tags of one item: per axis its sorted values (`unknown` when none),
/// and the ids of the rules that fired.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TagSet {
    pub values: Vec<Vec<String>>,
    pub rules: Vec<String>,
}

/// The canonical table, column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleTable {
    pub run: Vec<String>,
    pub benchmark: Vec<String>,
    pub task: Vec<String>,
    pub filter: Vec<Option<String>>,
    pub primary_filter: Vec<bool>,
    pub item_id: Vec<String>,
    pub sample_idx: Vec<u32>,
    pub prompt: Vec<Option<String>>,
    pub target: Vec<Option<String>>,
    pub response: Vec<Option<String>>,
    pub extracted: Vec<Option<String>>,
    pub score: Vec<f64>,
    pub correct: Vec<bool>,
    pub finish_reason: Vec<Option<String>>,
    pub response_tokens: Vec<Option<u32>>,
    pub response_chars: Vec<u32>,
    pub meta: Vec<String>,
    pub prompt_hash: Vec<Option<String>>,
    pub task_version: Vec<Option<String>>,
    pub n_shot: Vec<Option<u32>>,
    pub max_gen_toks: Vec<Option<u32>>,
    pub source: Vec<String>,
    /// Present after `tag`.
    pub tags: Option<Tags>,
}

impl SampleTable {
    pub fn len(&self) -> usize {
        self.run.len()
    }

    pub fn is_empty(&self) -> bool {
        self.run.is_empty()
    }

    pub fn push(&mut self, r: SampleRow) {
        self.run.push(r.run);
        self.benchmark.push(r.benchmark);
        self.task.push(r.task);
        self.filter.push(r.filter);
        self.primary_filter.push(r.primary_filter);
        self.item_id.push(r.item_id);
        self.sample_idx.push(r.sample_idx);
        self.prompt.push(r.prompt);
        self.target.push(r.target);
        self.response.push(r.response);
        self.extracted.push(r.extracted);
        self.score.push(r.score);
        self.correct.push(r.correct);
        self.finish_reason.push(r.finish_reason);
        self.response_tokens.push(r.response_tokens);
        self.response_chars.push(r.response_chars);
        self.meta.push(r.meta);
        self.prompt_hash.push(r.prompt_hash);
        self.task_version.push(r.task_version);
        self.n_shot.push(r.n_shot);
        self.max_gen_toks.push(r.max_gen_toks);
        self.source.push(r.source);
    }

    /// Append another untagged table.
    pub fn append(&mut self, mut o: SampleTable) {
        self.run.append(&mut o.run);
        self.benchmark.append(&mut o.benchmark);
        self.task.append(&mut o.task);
        self.filter.append(&mut o.filter);
        self.primary_filter.append(&mut o.primary_filter);
        self.item_id.append(&mut o.item_id);
        self.sample_idx.append(&mut o.sample_idx);
        self.prompt.append(&mut o.prompt);
        self.target.append(&mut o.target);
        self.response.append(&mut o.response);
        self.extracted.append(&mut o.extracted);
        self.score.append(&mut o.score);
        self.correct.append(&mut o.correct);
        self.finish_reason.append(&mut o.finish_reason);
        self.response_tokens.append(&mut o.response_tokens);
        self.response_chars.append(&mut o.response_chars);
        self.meta.append(&mut o.meta);
        self.prompt_hash.append(&mut o.prompt_hash);
        self.task_version.append(&mut o.task_version);
        self.n_shot.append(&mut o.n_shot);
        self.max_gen_toks.append(&mut o.max_gen_toks);
        self.source.append(&mut o.source);
    }

    /// Distinct run ids, sorted.
    pub fn runs(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&String> = self.run.iter().collect();
        set.into_iter().cloned().collect()
    }

    /// Row `i` as an owned [`SampleRow`] (tests and small tables).
    pub fn row(&self, i: usize) -> SampleRow {
        SampleRow {
            run: self.run[i].clone(),
            benchmark: self.benchmark[i].clone(),
            task: self.task[i].clone(),
            filter: self.filter[i].clone(),
            primary_filter: self.primary_filter[i],
            item_id: self.item_id[i].clone(),
            sample_idx: self.sample_idx[i],
            prompt: self.prompt[i].clone(),
            target: self.target[i].clone(),
            response: self.response[i].clone(),
            extracted: self.extracted[i].clone(),
            score: self.score[i],
            correct: self.correct[i],
            finish_reason: self.finish_reason[i].clone(),
            response_tokens: self.response_tokens[i],
            response_chars: self.response_chars[i],
            meta: self.meta[i].clone(),
            prompt_hash: self.prompt_hash[i].clone(),
            task_version: self.task_version[i].clone(),
            n_shot: self.n_shot[i],
            max_gen_toks: self.max_gen_toks[i],
            source: self.source[i].clone(),
        }
    }
}
