//! The tag stage: every item of a sample table gets its capability tags.
//!
//! Items are tagged once, not once per sample: rows are grouped by
//! (benchmark, task, item_id), the first row of each item is matched against
//! the taxonomy (in parallel), and every row refers to its item's tag set.
//! Tags come from the item's own fields (`meta`, `target`) and its prompt;
//! see DESIGN section 4 on few-shot prompts.

use std::collections::HashMap;

use serde::Serialize;

use crate::table::{columns, SampleTable, TagSet, Tags};
use crate::taxonomy::{ItemRef, TaxonomySet};

/// Per benchmark: items, and per axis how many are `unknown`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    pub benchmark: String,
    pub items: usize,
    /// (axis, unknown items), in axis order.
    pub unknown: Vec<(String, usize)>,
}

/// Tag a sample table file into `out` (which may be the input: the output
/// is renamed into place only when complete), streaming row group by row
/// group; every item is tagged once. Returns the coverage per benchmark.
pub fn tag_file(
    samples: &std::path::Path,
    taxonomy: &TaxonomySet,
    out: &std::path::Path,
) -> crate::Result<Vec<Coverage>> {
    let filters = std::collections::BTreeMap::new();
    let mut report = crate::ingest::IngestReport::default();
    let mut sink = crate::ingest::Sink::new(crate::ingest::SinkOptions {
        out: Some(out),
        taxonomy: Some(taxonomy),
        ..crate::ingest::SinkOptions::new(&filters)
    })?;
    let mut read = std::time::Instant::now();
    crate::table::for_each_batch(samples, &columns::BASE, |df, _| {
        let t0 = std::time::Instant::now();
        crate::trace::add("tag.read", t0 - read);
        sink.push_frame(df, samples, &mut report)?;
        crate::trace::add("tag.push_frame", t0.elapsed());
        read = std::time::Instant::now();
        Ok(())
    })?;
    let t = std::time::Instant::now();
    let coverage = sink.finish(&mut report)?.coverage;
    crate::trace::add("tag.finish", t.elapsed());
    Ok(coverage)
}

/// Tag every row's item; returns the coverage per benchmark.
pub fn tag_table(table: &mut SampleTable, taxonomy: &TaxonomySet) -> Vec<Coverage> {
    let mut first: HashMap<(&str, &str, &str), u32> = HashMap::new();
    let mut item_of_row = Vec::with_capacity(table.len());
    let mut item_rows: Vec<usize> = Vec::new();
    for i in 0..table.len() {
        let key = (
            table.benchmark[i].as_str(),
            table.task[i].as_str(),
            table.item_id[i].as_str(),
        );
        let next = item_rows.len() as u32;
        let it = *first.entry(key).or_insert(next);
        if it == next {
            item_rows.push(i);
        }
        item_of_row.push(it);
    }
    drop(first);
    let refs: Vec<ItemRef<'_>> = item_rows
        .iter()
        .map(|&i| ItemRef {
            benchmark: &table.benchmark[i],
            task: &table.task[i],
            prompt: table.prompt[i].as_deref(),
            target: table.target[i].as_deref(),
            meta: &table.meta[i],
        })
        .collect();
    let tagged = taxonomy.tag_all(&refs);
    let axes: Vec<String> = taxonomy.axes().iter().map(|a| a.name.clone()).collect();

    let mut coverage: std::collections::BTreeMap<String, (usize, Vec<usize>)> = Default::default();
    let mut set_ix: HashMap<TagSet, u32> = HashMap::new();
    let mut tags = Tags {
        axes: axes.clone(),
        ..Tags::default()
    };
    let mut item_set = Vec::with_capacity(tagged.len());
    for (t, &row) in tagged.into_iter().zip(&item_rows) {
        let cov = coverage
            .entry(table.benchmark[row].clone())
            .or_insert_with(|| (0, vec![0; axes.len()]));
        cov.0 += 1;
        for (a, vals) in t.values.iter().enumerate() {
            if vals.iter().all(|v| v == columns::UNKNOWN) {
                cov.1[a] += 1;
            }
        }
        let set = TagSet {
            values: t.values,
            rules: t.rules,
        };
        let next = tags.sets.len() as u32;
        let s = *set_ix.entry(set.clone()).or_insert(next);
        if s == next {
            tags.sets.push(set);
        }
        item_set.push(s);
    }
    tags.row_set = item_of_row.iter().map(|&it| item_set[it as usize]).collect();
    table.tags = Some(tags);
    coverage
        .into_iter()
        .map(|(benchmark, (items, unknown))| Coverage {
            benchmark,
            items,
            unknown: axes.iter().cloned().zip(unknown).collect(),
        })
        .collect()
}
