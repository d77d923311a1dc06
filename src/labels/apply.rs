//! The tag stage with a vocabulary and imported labels: every item gets the
//! tags of the finer taxonomies, translated into the vocabulary's label
//! space when one is given, and then its applied labels, which replace the
//! rule-derived values on their axis (provenance `label:<labeler>`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::agree::Applied;
use super::ItemKey;
use crate::error::{Error, Result};
use crate::table::{columns as c, TagSet};
use crate::tagging::Coverage;
use crate::taxonomy::{Axis, ItemRef, ItemTags, TaxonomySet};
use crate::vocabulary::Vocabulary;

/// The axes of the tagged table: the vocabulary's target's, else the taxonomies'.
pub fn output_axes(fine: &TaxonomySet, vocabulary: Option<&Vocabulary>) -> Vec<Axis> {
    vocabulary.map_or_else(|| fine.axes().to_vec(), |v| v.target.axes().to_vec())
}

/// Load a vocabulary mapping and check that it covers every value of the
/// finer taxonomies (`tag --vocabulary` refuses one it does not).
pub fn vocabulary(path: Option<&Path>, fine: &TaxonomySet) -> Result<Option<Vocabulary>> {
    let Some(path) = path else { return Ok(None) };
    let v = Vocabulary::load(path)?;
    v.check_total(&crate::mapping::known_axes(fine), false)?;
    Ok(Some(v))
}

/// What [`retag`] imported: the report and the disagreement lines to write.
pub struct Imported {
    pub report: super::agree::LabelReport,
    /// `*.disagreements.jsonl`: one line per item the labelers disagree on.
    pub disagreements: String,
}

/// The tag stage with a vocabulary and label files (`tag --vocabulary
/// --labels --adjudicated`, and a pipeline's `vocabulary:`, `labels:`,
/// `adjudicated:`): the labels are read and resolved against the items of
/// `samples`, then `samples` is tagged into `out` (which may be the input).
/// Returns the coverage per benchmark and, when label files were given,
/// what they imported.
pub fn retag(
    samples: &Path,
    fine: &TaxonomySet,
    vocabulary: Option<&Vocabulary>,
    labels: &[std::path::PathBuf],
    adjudicated: &[std::path::PathBuf],
    out: &Path,
) -> Result<(Vec<Coverage>, Option<Imported>)> {
    let axes = output_axes(fine, vocabulary);
    let mut imported = None;
    let applied = if labels.is_empty() && adjudicated.is_empty() {
        BTreeMap::new()
    } else {
        let items = super::item_index(samples)?;
        let given = super::read(labels, &axes, &items)?;
        let adjudicated = super::read(adjudicated, &axes, &items)?;
        let (res, report) = super::agree::resolve(&given, &adjudicated, &axes, &items)?;
        imported = Some(Imported {
            disagreements: super::agree::disagreement_lines(&res, &axes, &items),
            report,
        });
        res.applied
    };
    let coverage = tag_file_with(samples, fine, vocabulary, &applied, out)?;
    Ok((coverage, imported))
}

/// Tag `samples` into `out` (which may be the input). Returns the coverage
/// per benchmark.
pub fn tag_file_with(
    samples: &Path,
    fine: &TaxonomySet,
    vocabulary: Option<&Vocabulary>,
    applied: &BTreeMap<ItemKey, Applied>,
    out: &Path,
) -> Result<Vec<Coverage>> {
    let axes = output_axes(fine, vocabulary);
    let axis_names: Vec<String> = axes.iter().map(|a| a.name.clone()).collect();
    let mut writer = crate::table::BackgroundWriter::create(out)?;
    let mut item_set: HashMap<(String, String, String), u32> = HashMap::new();
    let mut sets: Vec<TagSet> = Vec::new();
    let mut set_ix: HashMap<TagSet, u32> = HashMap::new();
    let mut coverage: BTreeMap<String, (usize, Vec<usize>)> = BTreeMap::new();
    crate::table::for_each_batch(samples, &c::BASE, |df, _| {
        let t = crate::table::table_of_frame(df).map_err(|e| Error::frame(samples, e))?;
        // Each distinct item of the batch once (borrowed keys); new ones are tagged.
        let mut first: HashMap<(&str, &str, &str), usize> = HashMap::new();
        for i in 0..t.len() {
            first
                .entry((t.benchmark[i].as_str(), t.task[i].as_str(), t.item_id[i].as_str()))
                .or_insert(i);
        }
        let mut new_rows: Vec<usize> = first
            .iter()
            .filter(|(k, _)| !item_set.contains_key(&(k.0.to_string(), k.1.to_string(), k.2.to_string())))
            .map(|(_, &i)| i)
            .collect();
        new_rows.sort_unstable();
        let refs: Vec<ItemRef<'_>> = new_rows
            .iter()
            .map(|&i| ItemRef {
                benchmark: &t.benchmark[i],
                task: &t.task[i],
                prompt: t.prompt[i].as_deref(),
                target: t.target[i].as_deref(),
                meta: &t.meta[i],
            })
            .collect();
        let tagged: Vec<ItemTags> = match vocabulary {
            None => fine.tag_all(&refs),
            Some(v) => v.tag_all(fine, &refs),
        };
        drop(refs);
        for (mut tags, &i) in tagged.into_iter().zip(&new_rows) {
            if let Some(labels) = applied.get(&(t.benchmark[i].clone(), t.item_id[i].clone())) {
                for (ax, vals, prov) in labels {
                    tags.values[*ax] = vals.clone();
                    for p in prov {
                        if !tags.rules.contains(p) {
                            tags.rules.push(p.clone());
                        }
                    }
                }
            }
            let cov = coverage
                .entry(t.benchmark[i].clone())
                .or_insert_with(|| (0, vec![0; axes.len()]));
            cov.0 += 1;
            for (a, vals) in tags.values.iter().enumerate() {
                if vals.iter().all(|v| v == c::UNKNOWN) {
                    cov.1[a] += 1;
                }
            }
            let set = TagSet {
                values: tags.values,
                rules: tags.rules,
            };
            let next = sets.len() as u32;
            let s = *set_ix.entry(set.clone()).or_insert(next);
            if s == next {
                sets.push(set);
            }
            let key = (t.benchmark[i].clone(), t.task[i].clone(), t.item_id[i].clone());
            item_set.insert(key, s);
        }
        // Look each row's item up once per batch, without copying its key per row.
        let mut local: HashMap<(&str, &str, &str), u32> = HashMap::new();
        let row_set: Vec<u32> = (0..t.len())
            .map(|i| {
                let k = (t.benchmark[i].as_str(), t.task[i].as_str(), t.item_id[i].as_str());
                *local
                    .entry(k)
                    .or_insert_with(|| item_set[&(k.0.to_string(), k.1.to_string(), k.2.to_string())])
            })
            .collect();
        let df = crate::table::frame_of(&t)?;
        writer.write_tagged(
            df,
            Some(crate::table::TagColumns::from_sets(&axis_names, &sets, &row_set)),
        )
    })?;
    writer.finish()?;
    Ok(coverage
        .into_iter()
        .map(|(benchmark, (items, unknown))| Coverage {
            benchmark,
            items,
            unknown: axis_names.iter().cloned().zip(unknown).collect(),
        })
        .collect())
}
