//! Per (run, item) failure summaries, read from the sample table: failure
//! modes of the scoring filter's failed samples, format-tolerant re-scores,
//! and whether another filter of the same sample got it right.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};

use super::failure::{
    classify_observed, leaks_template, observe, Detectors, FailedSample, FailureMode, Observation,
};
use super::rescore::{normalize, target_answer, Rescorer};
use crate::error::{Error, Result};
use crate::slices::dataset::{DatasetBuilder, RowPlace, RowTags};
use crate::slices::Dataset;
use crate::table::view::{Columns, SCORE_COLUMNS, TEXT_COLUMNS};

/// What went wrong with one item in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ItemDiag {
    pub samples: u32,
    pub correct: u32,
    /// Failed samples per mode, in `FailureMode::ALL` order.
    pub modes: [u32; 5],
    /// Samples right under format-tolerant re-scoring (falls back to the
    /// original score where no answer pattern matches).
    pub rescored_correct: u32,
    /// Failed samples whose response leaks a chat-template token.
    pub template_leaks: u32,
    /// Samples whose form, not content, decided the score (correct or not).
    pub affected: u32,
    pub extraction_failed: u32,
    pub limit_hit: u32,
    pub ran_on: u32,
}

impl ItemDiag {
    pub fn format_failed(&self) -> u32 {
        self.modes[..4].iter().sum()
    }

    fn add(&mut self, mode: Option<FailureMode>) {
        self.samples += 1;
        match mode {
            None => self.correct += 1,
            Some(m) => self.modes[FailureMode::ALL.iter().position(|x| *x == m).unwrap_or(4)] += 1,
        }
    }
}

/// The diagnosis summaries of a table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diags {
    /// `items[run][item]`, by dataset run index.
    pub items: HashMap<usize, Vec<Option<ItemDiag>>>,
    /// Per (dataset run, benchmark): format health and answer audit.
    pub health: BTreeMap<(usize, String), HealthAcc>,
}

impl Diags {
    pub fn get(&self, run: &usize) -> Option<&Vec<Option<ItemDiag>>> {
        self.items.get(run)
    }
}

/// Accumulates [`ItemDiag`]s batch by batch, beside a
/// [`DatasetBuilder`](crate::slices::dataset::DatasetBuilder): the text of a
/// sample is looked at once, when its batch goes by, and then dropped.
pub struct DiagBuilder<'d> {
    detectors: &'d Detectors,
    rescorer: &'d Rescorer,
    /// By provisional run, then provisional item.
    per: Vec<Vec<Option<ItemDiag>>>,
    /// (run, item, sample) of correct rows of a non-scoring filter.
    other_ok: FxHashSet<(u32, u32, u32)>,
    /// Failed scoring samples classified `wrong` that become `no_answer`
    /// when another filter of the same sample got them right.
    pending: Vec<(u32, u32, u32)>,
    /// Per (provisional run, provisional benchmark): format health and the
    /// answer audit, with the benchmark's name.
    health: FxHashMap<(u32, u32), (String, HealthAcc)>,
}

/// Format health and answer-audit tallies of one run on one benchmark
/// (scoring rows of generative tasks).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthAcc {
    pub samples: u32,
    pub correct: u32,
    pub rescored_correct: u32,
    pub extraction_failed: u32,
    pub limit_hit: u32,
    pub limit_before_answer: u32,
    pub ran_on: u32,
    pub looped: u32,
    pub marker: u32,
    /// Rows with a target: the audit's population.
    pub audited: u32,
    /// The filtered answer starts with the gold answer.
    pub gold_prefix: u32,
    pub accepted_given_prefix: u32,
    /// Gold-prefix rows with a non-blank remainder.
    pub extra_suffix: u32,
    /// Suffix length (code points) of every gold-prefix row, 0 when none.
    pub suffix_lens: Vec<u32>,
    /// Filtered-answer length (code points) of every audited row.
    pub answer_lens: Vec<u32>,
    /// The first 12 code points of each non-blank suffix.
    pub suffix_starts: BTreeMap<String, u32>,
}

impl HealthAcc {
    pub(crate) fn audit(&mut self, extracted: Option<&str>, target: &str, correct: bool) {
        let a = extracted.unwrap_or("");
        self.audited += 1;
        self.answer_lens.push(a.chars().count() as u32);
        if let Some(rest) = a.strip_prefix(target).filter(|_| !target.is_empty()) {
            self.gold_prefix += 1;
            if correct {
                self.accepted_given_prefix += 1;
            }
            if rest.trim().is_empty() {
                self.suffix_lens.push(0);
            } else {
                self.extra_suffix += 1;
                self.suffix_lens.push(rest.chars().count() as u32);
                let start: String = rest.chars().take(12).collect();
                *self.suffix_starts.entry(start).or_insert(0) += 1;
            }
        }
    }
}

impl<'d> DiagBuilder<'d> {
    pub fn new(detectors: &'d Detectors, rescorer: &'d Rescorer) -> DiagBuilder<'d> {
        DiagBuilder {
            detectors,
            rescorer,
            per: Vec::new(),
            other_ok: FxHashSet::default(),
            pending: Vec::new(),
            health: FxHashMap::default(),
        }
    }

    /// Add a batch whose rows landed at `places`; `cols` must carry text.
    pub fn add(&mut self, cols: &Columns<'_>, places: &[RowPlace]) {
        let Some(text) = &cols.text else { return };
        let d = self.detectors;
        let rescorer = self.rescorer;
        // What each scoring row shows, computed in parallel (the text scans
        // are the cost); then folded in row order.
        use rayon::prelude::*;
        let seen: Vec<Option<RowSeen>> = places
            .par_iter()
            .enumerate()
            .map(|(i, p)| {
                if !p.scoring {
                    return None;
                }
                let ok = cols.correct[i];
                let b = cols.benchmark[i];
                let resp = text.response[i];
                let ext = text.extracted[i];
                let target = text.target[i];
                // Loglikelihood rows hold the chosen option's index as response and answer.
                let generative = resp.is_some_and(|t| !(Some(t) == ext && t.parse::<u32>().is_ok()));
                let first = if generative {
                    resp.and_then(|t| rescorer.first_answer(b, t))
                } else {
                    None
                };
                let first_right = match (first, target) {
                    (Some((a, _)), Some(tg)) => Some(normalize(a) == normalize(target_answer(tg))),
                    _ => None,
                };
                let sample = FailedSample {
                    response: resp,
                    extracted: ext,
                    finish_reason: text.finish_reason[i],
                    response_tokens: text.response_tokens[i],
                    response_chars: text.response_chars[i],
                    max_gen_toks: cols.max_gen_toks[i],
                    other_filter_correct: false,
                    first_answer_end: first.map(|f| f.1),
                    generative,
                    first_answer_right: first_right,
                    first_answer: first.map(|f| f.0),
                };
                let obs = observe(&sample, ok, d);
                Some(RowSeen {
                    mode: (!ok).then(|| classify_observed(&sample, &obs)),
                    obs,
                    rescored: if generative { first_right.unwrap_or(ok) } else { ok },
                    leak: !ok && resp.is_some_and(|t| leaks_template(t, d)),
                    generative,
                })
            })
            .collect();
        for ((i, p), seen) in places.iter().enumerate().zip(seen) {
            let ok = cols.correct[i];
            let Some(RowSeen {
                obs,
                mode,
                rescored,
                leak,
                generative,
            }) = seen
            else {
                if ok {
                    self.other_ok.insert((p.run, p.item, cols.sample_idx[i]));
                }
                continue;
            };
            let b = cols.benchmark[i];
            let ext = text.extracted[i];
            let target = text.target[i];
            let (r, it) = (p.run as usize, p.item as usize);
            if self.per.len() <= r {
                self.per.resize_with(r + 1, Vec::new);
            }
            let v = &mut self.per[r];
            if v.len() <= it {
                v.resize(it + 1, None);
            }
            let e = v[it].get_or_insert_with(ItemDiag::default);
            if mode == Some(FailureMode::Wrong) {
                // Counted at the end, once every filter of the sample is seen.
                e.samples += 1;
                self.pending.push((p.run, p.item, cols.sample_idx[i]));
            } else {
                e.add(mode);
            }
            if rescored {
                e.rescored_correct += 1;
            }
            if leak {
                e.template_leaks += 1;
            }
            e.affected += u32::from(obs.affected);
            e.extraction_failed += u32::from(obs.extraction_failed);
            e.limit_hit += u32::from(obs.limit_hit);
            e.ran_on += u32::from(obs.ran_on);
            if generative {
                let (_, h) = self
                    .health
                    .entry((p.run, p.bench))
                    .or_insert_with(|| (b.to_string(), HealthAcc::default()));
                h.samples += 1;
                h.correct += u32::from(ok);
                h.rescored_correct += u32::from(rescored);
                h.extraction_failed += u32::from(obs.extraction_failed);
                h.limit_hit += u32::from(obs.limit_hit);
                h.limit_before_answer += u32::from(obs.limit_before_answer);
                h.ran_on += u32::from(obs.ran_on);
                h.looped += u32::from(obs.looped);
                h.marker += u32::from(obs.marker);
                if let Some(tg) = target {
                    h.audit(ext, tg, ok);
                }
            }
        }
    }

    /// Resolve pending samples and index by dataset run and item; the
    /// health tallies by dataset run.
    pub fn finish(mut self, runs_of_prov: &[u32], items_of_prov: &[u32], items: usize) -> Diags {
        let health = std::mem::take(&mut self.health);
        for (r, it, sample) in std::mem::take(&mut self.pending) {
            let m = if self.other_ok.contains(&(r, it, sample)) {
                FailureMode::NoAnswer
            } else {
                FailureMode::Wrong
            };
            if let Some(e) = self.per[r as usize][it as usize].as_mut() {
                e.samples -= 1;
                e.add(Some(m));
            }
        }
        let mut out = Diags::default();
        for ((r, _), (b, h)) in health {
            if let Some(&run) = runs_of_prov.get(r as usize).filter(|&&x| x != u32::MAX) {
                out.health.insert((run as usize, b), h);
            }
        }
        for (r, per_item) in self.per.into_iter().enumerate() {
            let Some(&run) = runs_of_prov.get(r).filter(|&&x| x != u32::MAX) else {
                continue;
            };
            let v = out.items.entry(run as usize).or_insert_with(|| vec![None; items]);
            for (p, d) in per_item.into_iter().enumerate() {
                if let (Some(d), Some(&it)) = (d, items_of_prov.get(p)) {
                    if it != u32::MAX {
                        v[it as usize] = Some(d);
                    }
                }
            }
        }
        out
    }
}

/// Load a sample table with the failure summaries of every run, in one
/// streaming pass (row group by row group).
pub fn load(
    path: &Path,
    filters: &BTreeMap<String, String>,
    detectors: &Detectors,
    rescorer: &Rescorer,
) -> Result<(Dataset, Diags)> {
    let axes = crate::slices::dataset::axes_of(path)?;
    let mut cols: Vec<&str> = SCORE_COLUMNS.to_vec();
    cols.extend(TEXT_COLUMNS);
    cols.extend(axes.iter().map(String::as_str));
    let mut b = DatasetBuilder::new(axes.clone(), filters);
    let mut d = DiagBuilder::new(detectors, rescorer);
    crate::table::for_each_batch(path, &cols, |df, _| {
        let frame = |e| Error::frame(path, e);
        let view = Columns::of_frame(df, true).map_err(frame)?;
        let lists = crate::slices::dataset::ListCols::of_frame(df, &axes).map_err(frame)?;
        let places = b.add(&view, &RowTags::Lists(&lists)).map_err(frame)?;
        d.add(&view, &places);
        Ok(())
    })?;
    let (runs, items) = b.index_maps();
    b.check_filters()?;
    let ds = b.finish();
    let diags = d.finish(&runs, &items, ds.items.len());
    Ok((ds, diags))
}

/// What one scoring row's text shows (see [`DiagBuilder::add`]).
struct RowSeen {
    obs: Observation,
    mode: Option<FailureMode>,
    rescored: bool,
    leak: bool,
    generative: bool,
}
