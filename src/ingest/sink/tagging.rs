//! Tagging a batch's new items on another thread, overlapped with the
//! sink's work on this batch (its duplicate check) and on the batch before
//! (interning its tag sets, folding and writing it).
//!
//! The rules are matched (on the rayon pool) from a copy of the items'
//! text; the tag ids are then interned in row order, batch after batch. A
//! dropped duplicate never holds an item first: its key, hence its item,
//! was seen in an earlier row, which is kept. So the items matched, and the
//! order their tag sets are interned in, are those of the kept rows alone,
//! and the output is the same as tagging after the check.

use rustc_hash::FxHashMap;

use super::{unreadable, Sink, NONE};
use crate::error::Result;
use crate::ingest::batch::Held;
use crate::ingest::batch::View;
use crate::slices::dataset::RowPlace;
use crate::table::columns as c;
use crate::taxonomy::{ItemRef, TagIds, TaxonomySet};

/// The text the rules read of a batch's new items, copied out of the
/// batch: the thread that matches it owns it, and the sink goes on with the
/// batch meanwhile.
struct Queued {
    text: String,
    /// Per item: where its benchmark, task, prompt, target and meta end in
    /// `text`, and whether it has a prompt and a target.
    items: Vec<([usize; 5], bool, bool)>,
}

impl Queued {
    fn of(v: &View<'_>, rows: &[usize]) -> Queued {
        let mut text = String::new();
        let mut items = Vec::with_capacity(rows.len());
        for &i in rows {
            let mut ends = [0; 5];
            let fields = [
                v.cols.benchmark[i],
                v.cols.task[i],
                v.prompt[i].unwrap_or(""),
                v.target[i].unwrap_or(""),
                v.meta[i],
            ];
            for (end, f) in ends.iter_mut().zip(fields) {
                text.push_str(f);
                *end = text.len();
            }
            items.push((ends, v.prompt[i].is_some(), v.target[i].is_some()));
        }
        Queued { text, items }
    }

    fn refs(&self) -> Vec<ItemRef<'_>> {
        let mut start = 0;
        self.items
            .iter()
            .map(|&(ends, has_prompt, has_target)| {
                let mut field = |k: usize| {
                    let s = &self.text[start..ends[k]];
                    start = ends[k];
                    s
                };
                let (benchmark, task, prompt, target, meta) =
                    (field(0), field(1), field(2), field(3), field(4));
                ItemRef {
                    benchmark,
                    task,
                    prompt: has_prompt.then_some(prompt),
                    target: has_target.then_some(target),
                    meta,
                }
            })
            .collect()
    }
}

/// A batch whose new items are being matched: placed and checked for
/// duplicates, not yet interned, folded or written.
pub(super) struct InFlight {
    pub(super) held: Held,
    pub(super) places: Vec<RowPlace>,
    /// The queued rows (one per new item), in the order they are matched.
    pub(super) rows: Vec<usize>,
    /// Duplicate rows to drop (under `skip_bad`).
    pub(super) dropped: Vec<usize>,
    pub(super) matching: Matching,
}

/// The rules being matched on a batch's new items, on their own thread.
pub(super) struct Matching(std::thread::JoinHandle<Vec<TagIds>>);

impl Matching {
    /// Each queued item's tag ids, in queue order.
    pub(super) fn join(self) -> Vec<TagIds> {
        self.0
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Sink<'_> {
    /// Queue the batch's items that have no tags yet and start matching
    /// them on another thread: gives the queued rows (one per item) and the
    /// matching, none when no item is new.
    pub(super) fn start_tagging(
        &mut self,
        v: &View<'_>,
        places: &[RowPlace],
    ) -> Result<(Vec<usize>, Option<Matching>)> {
        let Some(tax) = self.opts.taxonomy else {
            return Ok((Vec::new(), None));
        };
        let rows = self.queue_new(places);
        if rows.is_empty() {
            return Ok((rows, None));
        }
        let queued = Queued::of(v, &rows);
        let tagger = tax.tagger();
        let handle = std::thread::Builder::new()
            .name("sink-tagger".into())
            .spawn(move || crate::trace::time("sink.tag.match", || tagger.tag_all_ids(&queued.refs())))
            .map_err(|e| crate::error::Error::Usage(format!("cannot start a thread to tag items: {e}")))?;
        Ok((rows, Some(Matching(handle))))
    }

    /// Intern the tag sets of a batch that was in flight, then fold and
    /// write it.
    pub(super) fn settle(&mut self, b: InFlight) -> Result<()> {
        let InFlight {
            held,
            places,
            rows,
            dropped,
            matching,
        } = b;
        let tagged = crate::trace::time("sink.tag.wait", || matching.join());
        let t0 = std::time::Instant::now();
        let v = held.view(self.diag.is_some(), true).map_err(unreadable)?;
        crate::trace::add("sink.view", t0.elapsed());
        if let Some(tax) = self.opts.taxonomy {
            crate::trace::time("sink.intern", || self.intern_new(tax, &v, &places, &rows, tagged));
        }
        let (kept, folded) = self.fold_kept(&held, &v, &places, dropped)?;
        drop(v);
        self.put(kept.unwrap_or(held), folded)
    }

    /// The rows whose items have no tags yet, one per item, marked as
    /// queued so an item's later rows are not tagged again.
    fn queue_new(&mut self, places: &[RowPlace]) -> Vec<usize> {
        if self.item_set.len() < self.builder.provisional_items() {
            self.item_set.resize(self.builder.provisional_items(), NONE);
        }
        let mut rows = Vec::new();
        for (i, p) in places.iter().enumerate() {
            if self.item_set[p.item as usize] == NONE {
                self.item_set[p.item as usize] = NONE - 1;
                rows.push(i);
            }
        }
        rows
    }

    /// Intern the tag ids of the queued rows' items, in row order, and count
    /// their coverage.
    pub(super) fn intern_new(
        &mut self,
        tax: &TaxonomySet,
        v: &View<'_>,
        places: &[RowPlace],
        rows: &[usize],
        tagged: Vec<TagIds>,
    ) {
        let axes = self.axes.len();
        // Counts per benchmark, gathered here and added to `coverage` once.
        // Rows come benchmark by benchmark: the last one is tried first.
        let mut counts: Vec<(&str, (usize, Vec<usize>))> = Vec::new();
        let mut index: FxHashMap<&str, usize> = FxHashMap::default();
        let mut last = usize::MAX;
        for (ids, &i) in tagged.into_iter().zip(rows) {
            let (s, _) = self.store.intern(ids, &self.vocab, axes);
            self.item_set[places[i].item as usize] = s;
            let benchmark = v.cols.benchmark[i];
            let k = match counts.get(last) {
                Some((b, _)) if *b == benchmark => last,
                _ => *index.entry(benchmark).or_insert_with(|| {
                    counts.push((benchmark, (0, vec![0; axes])));
                    counts.len() - 1
                }),
            };
            last = k;
            let cov = &mut counts[k].1;
            cov.0 += 1;
            let unknown = self.store.unknown(s);
            for (a, n) in cov.1.iter_mut().enumerate() {
                // Axes past 64 are never unknown in the mask; count them
                // from the names (taxonomies that wide are hypothetical).
                let is_unknown = if a < 64 {
                    unknown & (1 << a) != 0
                } else {
                    tax.tags_of(&self.store.ids(s)).values[a]
                        .iter()
                        .all(|v| v == c::UNKNOWN)
                };
                if is_unknown {
                    *n += 1;
                }
            }
        }
        for (benchmark, (items, unknown)) in counts {
            let cov = self
                .coverage
                .entry(benchmark.to_string())
                .or_insert_with(|| (0, vec![0; axes]));
            cov.0 += items;
            cov.1.iter_mut().zip(unknown).for_each(|(n, u)| *n += u);
        }
    }
}
