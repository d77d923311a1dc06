//! Tagging a batch's new items, overlapped with its duplicate check.
//!
//! The rules are matched (on the rayon pool) while this thread checks the
//! batch for duplicate rows; the tag ids are then interned in row order. A
//! dropped duplicate never holds an item first: its key, hence its item,
//! was seen in an earlier row, which is kept. So the items matched, and the
//! order their tag sets are interned in, are those of the kept rows alone,
//! and the output is the same as tagging after the check.

use rustc_hash::FxHashMap;

use super::{Sink, NONE};
use crate::error::Result;
use crate::ingest::batch::View;
use crate::ingest::IngestReport;
use crate::slices::dataset::RowPlace;
use crate::table::columns as c;
use crate::taxonomy::{ItemRef, TagIds, TaxonomySet};

impl Sink<'_> {
    /// Tag the batch's items that have no tags yet while checking its rows
    /// for duplicates; gives the rows to drop (under `skip_bad`).
    pub(super) fn tag_and_check(
        &mut self,
        v: &View<'_>,
        places: &[RowPlace],
        report: &mut IngestReport,
    ) -> Result<Vec<usize>> {
        let rows = match self.opts.taxonomy {
            Some(_) => self.queue_new(places),
            None => Vec::new(),
        };
        let Some(tax) = self.opts.taxonomy.filter(|_| !rows.is_empty()) else {
            return crate::trace::time("sink.dup", || self.duplicates(places, v, report));
        };
        let refs: Vec<ItemRef<'_>> = rows
            .iter()
            .map(|&i| ItemRef {
                benchmark: v.cols.benchmark[i],
                task: v.cols.task[i],
                prompt: v.prompt[i],
                target: v.target[i],
                meta: v.meta[i],
            })
            .collect();
        let (tagged, dropped) = std::thread::scope(|scope| {
            let matching = scope.spawn(|| crate::trace::time("sink.tag.match", || tax.tag_all_ids(&refs)));
            let dropped = crate::trace::time("sink.dup", || self.duplicates(places, v, report));
            let tagged = matching
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (tagged, dropped)
        });
        let dropped = dropped?;
        crate::trace::time("sink.intern", || self.intern_new(tax, v, places, &rows, tagged));
        Ok(dropped)
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
    fn intern_new(
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
