//! Where readers put their rows: a bounded batch that, when full, is checked
//! for duplicates while its new items are tagged (each once, in parallel:
//! `tagging.rs`), folded into the item-level [`Dataset`] and the diagnosis
//! summaries, written to `samples.parquet` as one row group, and dropped.
//!
//! Memory follows the batch size and the per-item state (ids, scores, tag
//! sets), never the input size: no stage after ingest has to hold every
//! response. With [`SinkOptions::collect`] the whole table is also kept (the
//! in-memory [`super::ingest`] API, for tests and small inputs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rustc_hash::FxHashMap;

use super::batch::{canonical, Held, View};
use super::seen::Seen;
use super::{IngestReport, Skipped};
use crate::diagnose::failure::Detectors;
use crate::diagnose::rescore::Rescorer;
use crate::diagnose::samples::{DiagBuilder, Diags};
use crate::error::{Error, Result};
use crate::slices::dataset::{DatasetBuilder, RowPlace, RowTags};
use crate::slices::Dataset;
use crate::table::{BackgroundWriter, SampleRow, SampleTable, TagSet, Tags};
use crate::tagging::Coverage;
use crate::taxonomy::{TagStore, TaxonomySet, VocabTag};

mod tagging;

/// Rows per batch (one Parquet row group).
pub const BATCH_ROWS: usize = 1 << 16;
/// Text bytes per batch: long few-shot prompts flush earlier.
pub const BATCH_BYTES: usize = 32 << 20;

/// What the sink does with the rows besides checking them.
pub struct SinkOptions<'a> {
    /// Write the canonical table here (atomically, when the sink finishes).
    pub out: Option<&'a Path>,
    /// Tag every item with these taxonomies.
    pub taxonomy: Option<&'a TaxonomySet>,
    /// The scoring filter per task (compare settings).
    pub filters: &'a BTreeMap<String, String>,
    /// Compute the failure summaries of the diagnosis.
    pub diagnosis: Option<(&'a Detectors, &'a Rescorer)>,
    /// Keep the whole table in memory too.
    pub collect: bool,
    /// Build the comparison's [`Dataset`] (items, scores, tags) as the rows
    /// go by: `run` compares it in memory; `ingest` and `tag` only write the
    /// table, and skip it (a fifth of their CPU time on the anchor).
    pub index: bool,
    pub skip_bad: bool,
    /// Rows per batch; [`BATCH_ROWS`] unless a test wants many batches.
    pub batch_rows: usize,
}

impl<'a> SinkOptions<'a> {
    /// A sink that checks the rows and nothing else (no output, no tags, no
    /// dataset, no diagnosis), in batches of [`BATCH_ROWS`]: set the rest
    /// with struct update syntax.
    pub fn new(filters: &'a BTreeMap<String, String>) -> SinkOptions<'a> {
        SinkOptions {
            out: None,
            taxonomy: None,
            filters,
            diagnosis: None,
            collect: false,
            index: false,
            skip_bad: false,
            batch_rows: BATCH_ROWS,
        }
    }
}

/// What a finished sink holds.
pub struct SinkOutput {
    /// Empty unless [`SinkOptions::index`].
    pub dataset: Dataset,
    pub diags: Option<Diags>,
    /// Per benchmark: items and unknown values per axis (tagged sinks only).
    pub coverage: Vec<Coverage>,
    /// The whole table, when collected.
    pub table: Option<SampleTable>,
    pub rows: usize,
    /// Distinct run ids, sorted.
    pub runs: Vec<String>,
}

const NONE: u32 = u32::MAX;

/// A folded batch: each row's tag set (empty untagged) and, when the sink
/// writes, the batch's frame and tag columns.
struct Folded {
    row_set: Vec<u32>,
    output: Option<(polars::prelude::DataFrame, Option<crate::table::TagColumns>)>,
}

fn unreadable(e: polars::prelude::PolarsError) -> Error {
    Error::Usage(format!("cannot read a batch of samples: {e}"))
}

/// The sink itself; see the module docs.
pub struct Sink<'a> {
    /// Shorten every run id (`--short-run-ids`).
    pub short_run_ids: bool,
    opts: SinkOptions<'a>,
    batch: SampleTable,
    /// The batch as a canonical frame instead, when a reader had one (a
    /// caploop sample table read back): read in place and written as it
    /// is, never rebuilt as rows. `batch` is then empty.
    frame: Option<polars::prelude::DataFrame>,
    batch_bytes: usize,
    builder: DatasetBuilder<'a>,
    diag: Option<DiagBuilder<'a>>,
    writer: Option<BackgroundWriter>,
    filter_ix: FxHashMap<Box<str>, u32>,
    /// (run, item, filter, sample) -> the first row's source: file id
    /// (high 32 bits) and line.
    seen: Seen,
    sources: Vec<String>,
    source_ix: FxHashMap<String, u32>,
    axes: Vec<String>,
    item_set: Vec<u32>,
    /// Distinct tag sets, as ids; names are built per written batch.
    store: TagStore,
    vocab: Vec<VocabTag>,
    coverage: BTreeMap<String, (usize, Vec<usize>)>,
    collected: Option<(SampleTable, Vec<u32>)>,
    /// The last batch, while its new items are matched.
    in_flight: Option<tagging::InFlight>,
    rows: usize,
    runs: BTreeSet<String>,
}

impl<'a> Sink<'a> {
    pub fn new(opts: SinkOptions<'a>) -> Result<Sink<'a>> {
        let axes: Vec<String> = opts
            .taxonomy
            .map(|t| t.axes().iter().map(|a| a.name.clone()).collect())
            .unwrap_or_default();
        let writer = opts.out.map(BackgroundWriter::create).transpose()?;
        let vocab = opts.taxonomy.map(TaxonomySet::vocab).unwrap_or_default();
        Ok(Sink {
            short_run_ids: false,
            builder: DatasetBuilder::new(axes.clone(), opts.filters),
            diag: opts.diagnosis.map(|(d, r)| DiagBuilder::new(d, r)),
            collected: opts.collect.then(|| (SampleTable::default(), Vec::new())),
            opts,
            batch: SampleTable::default(),
            frame: None,
            batch_bytes: 0,
            writer,
            filter_ix: FxHashMap::default(),
            seen: Seen::default(),
            sources: Vec::new(),
            source_ix: FxHashMap::default(),
            axes,
            item_set: Vec::new(),
            store: TagStore::default(),
            vocab,
            coverage: BTreeMap::new(),
            in_flight: None,
            rows: 0,
            runs: BTreeSet::new(),
        })
    }

    /// Add one row; a full batch is processed at once.
    pub fn push(&mut self, mut row: SampleRow, report: &mut IngestReport) -> Result<()> {
        if self.short_run_ids {
            row.run = crate::error::short_run_id(&row.run);
        }
        let bytes = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.batch_bytes += bytes(&row.prompt)
            + bytes(&row.response)
            + bytes(&row.target)
            + row.meta.len()
            + row.item_id.len();
        self.batch.push(row);
        if self.batch.len() >= self.opts.batch_rows.max(1) || self.batch_bytes >= BATCH_BYTES {
            self.flush(report)?;
        }
        Ok(())
    }

    /// Add a whole batch (a reader that builds columns itself).
    pub fn push_table(&mut self, t: SampleTable, report: &mut IngestReport) -> Result<()> {
        if self.batch.is_empty() && t.len() >= self.opts.batch_rows / 2 {
            self.batch = t;
            return self.flush(report);
        }
        self.batch.append(t);
        if self.batch.len() >= self.opts.batch_rows.max(1) {
            self.flush(report)?;
        }
        Ok(())
    }

    /// Add a whole batch read from `path` (`df` holds the base columns of
    /// a caploop sample table). A batch that is processed alone and whole
    /// is read in place and written as it is; any other becomes rows.
    pub fn push_frame(
        &mut self,
        df: &polars::prelude::DataFrame,
        path: &Path,
        report: &mut IngestReport,
    ) -> Result<()> {
        let alone = self.batch.is_empty() && self.frame.is_none() && self.collected.is_none();
        if alone && df.height() >= self.opts.batch_rows / 2 && !self.short_run_ids {
            if let Some(frame) = canonical(df) {
                self.frame = Some(frame);
                return self.flush(report);
            }
        }
        let t = crate::table::table_of_frame(df).map_err(|e| Error::frame(path, e))?;
        self.push_table(t, report)
    }

    /// Room for `rows` more rows in the duplicate check, when a reader knows
    /// how many it holds (growing a table of millions of keys rehashes it
    /// several times, each into fresh pages).
    pub fn reserve(&mut self, rows: usize) {
        self.seen.reserve(rows);
    }

    /// Rows and text bytes waiting in the current batch: a reader that
    /// cuts its own batches cuts where [`Sink::push`] would flush.
    pub fn pending(&self) -> (usize, usize) {
        let frame = self.frame.as_ref().map_or(0, polars::prelude::DataFrame::height);
        (self.batch.len() + frame, self.batch_bytes)
    }

    /// The sink's batch size in rows.
    pub fn batch_rows(&self) -> usize {
        self.opts.batch_rows.max(1)
    }

    /// Process `df`, a canonical frame (see `batch::canonical`) of exactly
    /// the rows [`Sink::push`] would have flushed as one batch, read in
    /// place and written as it is. The sink must hold no rows.
    pub(super) fn push_canonical(
        &mut self,
        df: polars::prelude::DataFrame,
        report: &mut IngestReport,
    ) -> Result<()> {
        debug_assert_eq!(self.pending().0, 0, "a canonical batch is processed alone");
        debug_assert!(!self.short_run_ids, "run ids are shortened row by row");
        self.frame = Some(df);
        self.flush(report)
    }

    /// `file:line` packed as file id and line (files are interned, lines are not).
    fn source_id(&mut self, source: &str) -> u64 {
        // Rows come file by file: most name the last file, then `:line`
        // (a line that does not parse, or holds a `:`, takes the long way).
        if let Some(last) = self.sources.last() {
            if let Some(rest) = source
                .strip_prefix(last.as_str())
                .and_then(|r| r.strip_prefix(':'))
            {
                if let Ok(line) = rest.parse::<u32>() {
                    return (u64::from(self.sources.len() as u32 - 1) << 32) | u64::from(line);
                }
            }
        }
        let (file, line) = match source.rsplit_once(':') {
            Some((f, l)) => match l.parse::<u32>() {
                Ok(l) => (f, l),
                Err(_) => (source, 0),
            },
            None => (source, 0),
        };
        // Rows come file by file: the last file's id is checked first.
        if let Some(last) = self.sources.last() {
            if last == file {
                return (u64::from(self.sources.len() as u32 - 1) << 32) | u64::from(line);
            }
        }
        let x = match self.source_ix.get(file) {
            Some(&x) => x,
            None => {
                let x = self.sources.len() as u32;
                self.sources.push(file.to_string());
                self.source_ix.insert(file.to_string(), x);
                x
            }
        };
        (u64::from(x) << 32) | u64::from(line)
    }

    fn source_name(&self, packed: u64) -> String {
        let file = &self.sources[(packed >> 32) as usize];
        match packed & 0xffff_ffff {
            0 => file.clone(),
            line => format!("{file}:{line}"),
        }
    }

    /// Two rows with the same (run, task, item, filter, sample) cannot both
    /// be right. Returns the rows to drop (under `skip_bad`).
    fn duplicates(
        &mut self,
        places: &[RowPlace],
        v: &View<'_>,
        report: &mut IngestReport,
    ) -> Result<Vec<usize>> {
        let mut drop = Vec::new();
        let t = &v.cols;
        for (i, p) in places.iter().enumerate() {
            let f = match t.filter[i] {
                None => NONE,
                Some(name) => match self.filter_ix.get(name) {
                    Some(&x) => x,
                    None => {
                        let x = self.filter_ix.len() as u32;
                        self.filter_ix.insert(name.into(), x);
                        x
                    }
                },
            };
            let key = (p.run, p.item, f, t.sample_idx[i]);
            if let Some(first) = self.seen.get(key) {
                let message = format!(
                    "duplicate sample: same run '{}', task '{}', item '{}', filter '{}' and sample {} as {}; a log written twice into one folder appends, so remove one copy",
                    t.run[i],
                    t.task[i],
                    t.item_id[i],
                    t.filter[i].unwrap_or("-"),
                    t.sample_idx[i],
                    self.source_name(first)
                );
                if !self.opts.skip_bad {
                    return Err(Error::usage(format!("{}: {message}", v.source[i])));
                }
                report.skipped.push(Skipped {
                    location: v.source[i].to_string(),
                    field: None,
                    message,
                });
                drop.push(i);
            } else {
                let s = self.source_id(v.source[i]);
                self.seen.insert(key, s);
            }
        }
        Ok(drop)
    }

    /// Process the current batch: place its rows, start matching its new
    /// items, check it for duplicates, then settle the batch before it
    /// (whose items were matched meanwhile). A batch being matched is left
    /// in flight, to be settled by the next flush or by [`Sink::finish`].
    fn flush(&mut self, report: &mut IngestReport) -> Result<()> {
        let held = match self.frame.take() {
            Some(df) => Held::Frame(df),
            None => Held::Table(std::mem::take(&mut self.batch)),
        };
        self.batch_bytes = 0;
        if held.len() == 0 {
            return Ok(());
        }
        let t0 = std::time::Instant::now();
        let v = held
            .view(self.diag.is_some(), self.opts.taxonomy.is_some())
            .map_err(unreadable)?;
        let tv = std::time::Instant::now();
        let places = self.builder.place(&v.cols);
        let tp = std::time::Instant::now();
        crate::trace::add("sink.view", tv - t0);
        crate::trace::add("sink.place", tp - tv);
        let (rows, matching) = self.start_tagging(&v, &places)?;
        let dropped = crate::trace::time("sink.dup", || self.duplicates(&places, &v, report))?;
        if let Some(before) = self.in_flight.take() {
            self.settle(before)?;
        }
        match matching {
            None => {
                let (kept, folded) = self.fold_kept(&held, &v, &places, dropped)?;
                drop(v);
                self.put(kept.unwrap_or(held), folded)
            }
            Some(matching) => {
                drop(v);
                self.in_flight = Some(tagging::InFlight {
                    held,
                    places,
                    rows,
                    dropped,
                    matching,
                });
                Ok(())
            }
        }
    }

    /// Fold a batch without its `dropped` rows; gives the kept rows when
    /// some were dropped.
    fn fold_kept(
        &mut self,
        held: &Held,
        v: &View<'_>,
        places: &[RowPlace],
        dropped: Vec<usize>,
    ) -> Result<(Option<Held>, Folded)> {
        if dropped.is_empty() {
            return Ok((None, self.fold(held, v, places)?));
        }
        let mut keep = vec![true; held.len()];
        for i in dropped {
            keep[i] = false;
        }
        let old = held.to_table().map_err(unreadable)?;
        let mut kept = SampleTable::default();
        let mut kept_places = Vec::with_capacity(places.len());
        for (i, k) in keep.iter().enumerate() {
            if *k {
                kept.push(old.row(i));
                kept_places.push(places[i]);
            }
        }
        let kept = Held::Table(kept);
        let v = kept
            .view(self.diag.is_some(), self.opts.taxonomy.is_some())
            .map_err(unreadable)?;
        let folded = self.fold(&kept, &v, &kept_places)?;
        drop(v);
        Ok((Some(kept), folded))
    }

    /// Write a folded batch, and keep it when the sink collects.
    fn put(&mut self, held: Held, folded: Folded) -> Result<()> {
        let Folded { row_set, output } = folded;
        if let (Some(w), Some((df, tags))) = (self.writer.as_mut(), output) {
            let t6 = std::time::Instant::now();
            w.write_tagged(df, tags)?;
            crate::trace::add("sink.write", t6.elapsed());
        }
        if let Some((all, rows)) = self.collected.as_mut() {
            all.append(held.into_table().map_err(unreadable)?);
            rows.extend(row_set);
        }
        Ok(())
    }

    /// Fold a batch's rows (their items tagged) into the dataset and the
    /// diagnosis summaries while another thread builds what is written of
    /// the batch (its frame and tag columns): both only read the tag sets.
    fn fold(&mut self, held: &Held, v: &View<'_>, places: &[RowPlace]) -> Result<Folded> {
        let tagged = self.opts.taxonomy.is_some();
        let row_set: Vec<u32> = if tagged {
            places.iter().map(|p| self.item_set[p.item as usize]).collect()
        } else {
            Vec::new()
        };
        let Sink {
            opts,
            builder,
            diag,
            writer,
            axes,
            item_set,
            store,
            vocab,
            ..
        } = self;
        let (store, item_set, axes, row_set_ref) = (&*store, &*item_set, &*axes, &row_set);
        let (taxonomy, index) = (opts.taxonomy, opts.index);
        let build = || -> Result<(polars::prelude::DataFrame, Option<crate::table::TagColumns>)> {
            let t4 = std::time::Instant::now();
            let tags = taxonomy.map(|tax| {
                crate::table::TagColumns::from_ids(
                    axes,
                    row_set_ref.len(),
                    |i| (store.tags(row_set_ref[i]), store.rules(row_set_ref[i])),
                    |t| tax.tag_value(t),
                    |r| tax.rule_id(r),
                )
            });
            let df = match held {
                Held::Frame(df) => df.clone(),
                Held::Table(t) => crate::table::frame_of(t)?,
            };
            crate::trace::add("sink.frame", t4.elapsed());
            Ok((df, tags))
        };
        let mut accumulate = || -> Result<()> {
            let t2 = std::time::Instant::now();
            let tags = if tagged {
                RowTags::Store {
                    store,
                    vocab,
                    item_set,
                }
            } else {
                RowTags::None
            };
            if index {
                builder
                    .accumulate(&v.cols, places, &tags)
                    .map_err(|e| Error::Usage(format!("cannot index the samples: {e}")))?;
            }
            let t3 = std::time::Instant::now();
            if let Some(d) = diag.as_mut() {
                d.add(&v.cols, places);
            }
            crate::trace::add("sink.accumulate", t3 - t2);
            crate::trace::add("sink.diag", t3.elapsed());
            Ok(())
        };
        let output = match writer.is_some() {
            false => {
                accumulate()?;
                None
            }
            true => {
                let (built, folded) = std::thread::scope(|scope| {
                    let building = scope.spawn(build);
                    let folded = accumulate();
                    let built = building
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (built, folded)
                });
                folded?;
                Some(built?)
            }
        };
        for &r in &v.cols.run {
            if !self.runs.contains(r) {
                self.runs.insert(r.to_string());
            }
        }
        self.rows += v.cols.len;
        Ok(Folded { row_set, output })
    }

    /// The tag sets of `row_set` with their names, and each row's index
    /// into them.
    fn batch_sets(&self, row_set: &[u32]) -> (Vec<TagSet>, Vec<u32>) {
        let Some(tax) = self.opts.taxonomy else {
            return (Vec::new(), Vec::new());
        };
        let mut ix: FxHashMap<u32, u32> = FxHashMap::default();
        let mut sets = Vec::new();
        let local = row_set
            .iter()
            .map(|&s| {
                *ix.entry(s).or_insert_with(|| {
                    let t = tax.tags_of(&self.store.ids(s));
                    sets.push(TagSet {
                        values: t.values,
                        rules: t.rules,
                    });
                    (sets.len() - 1) as u32
                })
            })
            .collect();
        (sets, local)
    }

    /// Process the last batch, close the output and hand back the results.
    pub fn finish(mut self, report: &mut IngestReport) -> Result<SinkOutput> {
        self.flush(report)?;
        if let Some(last) = self.in_flight.take() {
            self.settle(last)?;
        }
        self.builder.check_filters()?;
        if let Some(w) = self.writer.take() {
            w.finish()?;
        }
        let tagged = self.opts.taxonomy.is_some();
        let collected = self.collected.take();
        let table = collected.map(|(mut t, row_set)| {
            if tagged {
                let (sets, row_set) = self.batch_sets(&row_set);
                t.tags = Some(Tags {
                    axes: self.axes.clone(),
                    sets,
                    row_set,
                });
            }
            t
        });
        let (runs_of_prov, items_of_prov) = self.builder.index_maps();
        let dataset = self.builder.finish();
        let diags = self
            .diag
            .map(|d| d.finish(&runs_of_prov, &items_of_prov, dataset.items.len()));
        let axes = self.axes;
        Ok(SinkOutput {
            dataset,
            diags,
            coverage: self
                .coverage
                .into_iter()
                .map(|(benchmark, (items, unknown))| Coverage {
                    benchmark,
                    items,
                    unknown: axes.iter().cloned().zip(unknown).collect(),
                })
                .collect(),
            table,
            rows: self.rows,
            runs: self.runs.into_iter().collect(),
        })
    }
}
