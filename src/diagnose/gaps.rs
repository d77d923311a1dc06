//! Taxonomy gaps: where the loss concentrates in items no tag separates.
//!
//! The tag search ([`super::lattice`]) can only find what the taxonomy tags.
//! When a weak combination is worded in phrases no rule covers, the best tag
//! slice is a diluted neighbour (one operation alone, hundreds of items).
//! This search adds, per benchmark, **lexical features** of each item's own
//! text to the tags and runs the same SliceLine search on the same
//! regression indicator (baseline right, candidate wrong):
//!
//! - text: the doc (meta) fields the loaded taxonomies' regex rules read for
//!   that benchmark ([`TaxonomySet::text_fields`]; GSM8K `question`, MATH
//!   `problem`), never the prompt (few-shot prompts hold the exemplars);
//! - features: lowercase word unigrams and bigrams (words are runs of ASCII
//!   letters and apostrophes; numbers and bigrams with a number are left
//!   out, since no rule should name a number), with at least `min_support`
//!   items and at most `max_share` of the benchmark's items; features with
//!   the same items are merged (a bigram kept over a unigram, and of those the
//!   one whose shortest word is longest),
//!   and at most `max_features` kept, most frequent first;
//! - search: tags and features together, up to `max_level` predicates, the
//!   lattice's Welch test of the paired delta inside against outside, and
//!   Benjamini-Hochberg q-values over every slice it evaluated.
//!
//! **When the tags explain the regression.** Let `s*` be the SliceLine score
//! of the best tag slice of the benchmark (the first slice of the verdict's
//! discovery on the regression indicator; 0 when there is none). A *gap* is
//! a slice of the joint search that holds at least one lexical feature, is
//! significant (q <= `fdr`, delta lower inside), and scores above `s*`. When
//! the benchmark has regressed items but no gap, the best tag slice explains
//! the regression as far as the items' words can tell, and the report says
//! so. Each gap carries example items (with their text) and a suggested
//! rule: a complete taxonomy YAML that tags the gap's phrases on a new value
//! of the configured axis, checked with [`TaxonomySet::from_yaml_str`] before
//! it is reported (so `caploop check` accepts it).
//!
//! Deliberately not here: naming the operation a phrase stands for (the new
//! value is named after the phrase, for a person to rename), stemming or
//! synonyms, and any text outside the item's doc fields.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::lattice;
use crate::error::{Error, Result};
use crate::slices::Dataset;
use crate::table::columns as c;
use crate::taxonomy::TaxonomySet;

/// Settings of the gap search (`diagnose: { gaps: ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GapSettings {
    pub enabled: bool,
    /// The axis the suggested rule adds a value to.
    pub axis: String,
    pub max_level: usize,
    /// Features held by more than this share of the items are left out.
    pub max_share: f64,
    pub max_features: usize,
    /// Gaps reported per benchmark.
    pub max_reported: usize,
}

impl Default for GapSettings {
    fn default() -> Self {
        GapSettings {
            enabled: true,
            axis: "operation".into(),
            max_level: 2,
            max_share: 0.5,
            max_features: 2000,
            max_reported: 3,
        }
    }
}

/// An example item of a gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapExample {
    pub item: String,
    /// The item's text fields, joined, at most 300 characters.
    pub text: String,
}

/// A concentration of the regression that beats the best tag slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Predicates: tags as `axis=value`, phrases as `text="left over"`.
    pub slice: String,
    /// The phrases of the slice.
    pub phrases: Vec<String>,
    pub items: usize,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub score: f64,
    /// Share of the slice's items that regressed.
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub error_rate: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect_in: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub effect_out: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub p_value: f64,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub q_value: f64,
    pub examples: Vec<GapExample>,
    /// A complete taxonomy file tagging the phrases (validated).
    pub suggested_rule: String,
}

/// The gap search of one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkGaps {
    pub benchmark: String,
    /// The doc fields searched.
    pub fields: Vec<String>,
    pub items: usize,
    pub regressed_items: usize,
    /// Lexical features searched (after support limits and merging).
    pub features: usize,
    /// The best tag slice and its score (`s*`).
    pub best_tag_slice: Option<String>,
    #[serde(deserialize_with = "crate::json::f64_or_nan")]
    pub best_tag_score: f64,
    /// True when no gap beats the best tag slice.
    pub explained_by_tags: bool,
    pub gaps: Vec<Gap>,
}

/// Words of a text: lowercase runs of ASCII letters and apostrophes, with
/// `None` for a number (which breaks bigrams).
fn words(text: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digit = false;
    let flush = |cur: &mut String, digit: &mut bool, out: &mut Vec<Option<String>>| {
        if !cur.is_empty() {
            let w = cur.trim_matches('\'').to_string();
            out.push(if *digit || w.is_empty() { None } else { Some(w) });
        }
        cur.clear();
        *digit = false;
    };
    for ch in text.chars() {
        if ch.is_ascii_alphabetic() || ch == '\'' {
            cur.push(ch.to_ascii_lowercase());
        } else if ch.is_ascii_digit() {
            cur.push(ch);
            digit = true;
        } else if ch == '’' {
            cur.push('\'');
        } else {
            flush(&mut cur, &mut digit, &mut out);
        }
    }
    flush(&mut cur, &mut digit, &mut out);
    out
}

/// Unigrams and bigrams of a text, sorted and deduplicated.
pub fn ngrams(text: &str) -> Vec<String> {
    let w = words(text);
    let mut out: Vec<String> = w.iter().flatten().cloned().collect();
    for pair in w.windows(2) {
        if let [Some(a), Some(b)] = pair {
            out.push(format!("{a} {b}"));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The text of `fields` in a meta JSON object (dotted paths walk objects;
/// arrays give their string elements), joined by newlines.
fn field_text(meta: &serde_json::Value, fields: &[String]) -> String {
    let mut parts = Vec::new();
    for f in fields {
        let mut v = meta;
        for k in f.split('.') {
            v = match v.get(k) {
                Some(x) => x,
                None => &serde_json::Value::Null,
            };
        }
        match v {
            serde_json::Value::String(s) => parts.push(s.clone()),
            serde_json::Value::Array(a) => {
                parts.extend(a.iter().filter_map(|x| x.as_str().map(String::from)))
            }
            _ => {}
        }
    }
    parts.join("\n")
}

/// Read the text fields of the items of `wanted` benchmarks from a sample
/// table: one text per item index (the first row of the item that has one).
fn item_texts(
    samples: &Path,
    ds: &Dataset,
    fields: &BTreeMap<u32, Vec<String>>,
) -> Result<Vec<Option<String>>> {
    let mut index: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, it) in ds.items.iter().enumerate() {
        if fields.contains_key(&it.benchmark) {
            index.insert((ds.benchmarks[it.benchmark as usize].as_str(), it.id.as_str()), i);
        }
    }
    let mut out: Vec<Option<String>> = vec![None; ds.items.len()];
    crate::table::for_each_batch(samples, &[c::BENCHMARK, c::ITEM_ID, c::META], |df, _| {
        let frame = |e| Error::frame(samples, e);
        let b = df.column(c::BENCHMARK).and_then(|x| x.str()).map_err(frame)?;
        let id = df.column(c::ITEM_ID).and_then(|x| x.str()).map_err(frame)?;
        let meta = df.column(c::META).and_then(|x| x.str()).map_err(frame)?;
        for r in 0..df.height() {
            let (Some(bv), Some(iv)) = (b.get(r), id.get(r)) else {
                continue;
            };
            let Some(&i) = index.get(&(bv, iv)) else { continue };
            if out[i].is_some() {
                continue;
            }
            let m = meta.get(r).unwrap_or("");
            let Ok(v) = serde_json::from_str::<serde_json::Value>(m) else {
                // Meta that is not JSON has no fields (as for the taxonomy rules).
                continue;
            };
            out[i] = Some(field_text(&v, &fields[&ds.items[i].benchmark]));
        }
        Ok(())
    })?;
    Ok(out)
}

/// A regex matching a phrase of words (any non-word run between them).
fn phrase_regex(p: &str) -> String {
    let parts: Vec<String> = p.split(' ').map(regex::escape).collect();
    format!("\\b{}\\b", parts.join("\\W+"))
}

/// The suggested taxonomy file for the phrases of a gap.
fn suggest(benchmark: &str, fields: &[String], axis: &str, phrases: &[String]) -> Option<String> {
    let slug: String = phrases
        .join("_and_")
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect();
    let value = format!("text_{slug}");
    let bench_slug: String = benchmark
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect();
    let regex = match phrases {
        [a] => format!("(?i){}", phrase_regex(a)),
        [a, b] => {
            let (ra, rb) = (phrase_regex(a), phrase_regex(b));
            format!("(?i){ra}.*{rb}|{rb}.*{ra}")
        }
        _ => return None,
    };
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let mut y = String::new();
    y.push_str(&format!(
        "# Suggested by the gap search of `caploop diagnose` for {benchmark}.\n"
    ));
    y.push_str("# Rename the value to the operation the phrase stands for, then add the rule\n");
    y.push_str("# to your taxonomy (or load this file with it: axes of the same name merge).\n");
    y.push_str(&format!("name: gaps_{bench_slug}\n"));
    y.push_str(&format!("axes:\n  {axis}: [{value}]\n"));
    y.push_str("rules:\n");
    y.push_str(&format!("  - id: gap.{bench_slug}.{slug}\n"));
    let said: Vec<String> = phrases.iter().map(|p| format!("\"{p}\"")).collect();
    y.push_str(&format!(
        "    description: {}\n",
        quoted(&format!("items whose text says {}", said.join(" and ")))
    ));
    y.push_str("    when:\n");
    for f in fields {
        y.push_str(&format!(
            "      - {{ benchmark: {}, meta_regex: {{ {}: {} }} }}\n",
            quoted(benchmark),
            quoted(f),
            quoted(&regex)
        ));
    }
    y.push_str(&format!("    add: {{ {axis}: {value} }}\n"));
    TaxonomySet::from_yaml_str(Path::new("suggested.yaml"), &y)
        .ok()
        .map(|_| y)
}

/// Inputs of the search: the dataset, the runs, and per benchmark the best
/// tag slice (name, score) of the verdict's discovery.
pub struct GapInput<'a> {
    pub samples: &'a Path,
    pub ds: &'a Dataset,
    pub base: usize,
    pub cand: usize,
    /// The doc fields the taxonomy's rules read for a benchmark.
    pub text_fields: &'a dyn Fn(&str) -> Vec<String>,
    pub best_tag: BTreeMap<String, (Option<String>, f64)>,
    pub discovery: &'a super::DiscoverySettings,
    pub fdr: f64,
}

/// A benchmark's paired items, regression indicator and paired delta.
type Paired = (Vec<usize>, Vec<f64>, Vec<f64>);

/// Run the gap search on every benchmark with regressed items and text fields.
pub fn search(input: &GapInput<'_>, s: &GapSettings) -> Result<Vec<BenchmarkGaps>> {
    let ds = input.ds;
    if !s.enabled {
        return Ok(Vec::new());
    }
    // Paired items, regression indicator and delta per benchmark.
    let mut per_bench: BTreeMap<u32, Paired> = BTreeMap::new();
    let mut fields: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for b in 0..ds.benchmarks.len() as u32 {
        let items: Vec<usize> = ds
            .benchmark_items(b)
            .filter(|&i| ds.scores[input.base][i].is_some() && ds.scores[input.cand][i].is_some())
            .collect();
        let xy: Vec<(f64, f64)> = items
            .iter()
            .map(|&i| {
                (
                    ds.scores[input.base][i].map_or(0.0, |v| v.mean()),
                    ds.scores[input.cand][i].map_or(0.0, |v| v.mean()),
                )
            })
            .collect();
        let regression: Vec<f64> = xy.iter().map(|(x, y)| (x - y).max(0.0)).collect();
        if regression.iter().all(|r| *r <= 0.0) {
            continue;
        }
        let f = (input.text_fields)(&ds.benchmarks[b as usize]);
        if f.is_empty() {
            continue;
        }
        fields.insert(b, f);
        let delta = xy.iter().map(|(x, y)| y - x).collect();
        per_bench.insert(b, (items, regression, delta));
    }
    if per_bench.is_empty() {
        return Ok(Vec::new());
    }
    let texts = item_texts(input.samples, ds, &fields)?;
    let mut out = Vec::new();
    for (b, (items, regression, delta)) in per_bench {
        let name = ds.benchmarks[b as usize].clone();
        let (best_slice, best_score) = input.best_tag.get(&name).cloned().unwrap_or((None, 0.0));
        // Each phrase once, with the items holding it; an item's phrases
        // are never all kept (a long prompt has thousands, and 10M samples
        // held them as strings: 4 GB).
        let mut phrase_ids: HashMap<String, u32> = HashMap::new();
        let mut held_by: Vec<Vec<u32>> = Vec::new();
        for (k, &i) in items.iter().enumerate() {
            for w in texts[i].as_deref().map(ngrams).unwrap_or_default() {
                let next = held_by.len() as u32;
                let id = *phrase_ids.entry(w).or_insert(next);
                if id == next {
                    held_by.push(Vec::new());
                }
                held_by[id as usize].push(k as u32);
            }
        }
        let mut phrases = vec![String::new(); held_by.len()];
        for (w, id) in phrase_ids {
            phrases[id as usize] = w;
        }
        // Feature vocabulary within limits, merged by item set; phrases in
        // their order, so ties resolve as they always have.
        let mut order: Vec<u32> = (0..phrases.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| phrases[a as usize].cmp(&phrases[b as usize]));
        let n = items.len();
        let max_n = (s.max_share * n as f64).floor() as usize;
        let mut by_set: BTreeMap<&[u32], &str> = BTreeMap::new();
        for (w, set) in order
            .iter()
            .map(|&id| (phrases[id as usize].as_str(), &held_by[id as usize]))
        {
            if set.len() < input.discovery.min_support.max(1) || set.len() > max_n {
                continue;
            }
            let e = by_set.entry(set.as_slice()).or_insert(w);
            // Of phrases with the same items, prefer a bigram (the narrower
            // rule), then the one whose shortest word is longest (`stay
            // loose` over `in a`), then the first in order.
            let key = |p: &str| {
                let shortest = p.split(' ').map(str::len).min().unwrap_or(0);
                (p.contains(' '), shortest, std::cmp::Reverse(p.to_string()))
            };
            if key(w) > key(e) {
                *e = w;
            }
        }
        let mut feats: Vec<(&[u32], &str)> = by_set.into_iter().collect();
        feats.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(b.1)));
        feats.truncate(s.max_features);
        // Joint names: the benchmark's tags (not held by every item), then phrases.
        let mut tag_count: HashMap<u32, usize> = HashMap::new();
        for &i in &items {
            for &t in &ds.items[i].tags {
                *tag_count.entry(t).or_insert(0) += 1;
            }
        }
        let mut names: Vec<String> = ds.tags.clone();
        let first_feat = names.len() as u32;
        names.extend(feats.iter().map(|(_, w)| format!("text=\"{w}\"")));
        let mut item_tags: Vec<Vec<u32>> = items
            .iter()
            .map(|&i| {
                ds.items[i]
                    .tags
                    .iter()
                    .copied()
                    .filter(|t| tag_count[t] < n)
                    .collect()
            })
            .collect();
        for (f, (set, _)) in feats.iter().enumerate() {
            for &k in *set {
                item_tags[k as usize].push(first_feat + f as u32);
            }
        }
        for t in &mut item_tags {
            t.sort_unstable();
        }
        let settings = lattice::LatticeSettings {
            alpha: input.discovery.alpha,
            min_support: input.discovery.min_support,
            max_level: s.max_level,
            top_k: input.discovery.top_k,
            fdr: input.fdr,
            max_examples: input.discovery.max_examples,
        };
        let found = lattice::search(
            &lattice::LatticeInput {
                item_tags: &item_tags,
                tag_names: &names,
                errors: &regression,
                effect: &delta,
            },
            &settings,
        );
        let fields_b = &fields[&b];
        let gaps: Vec<Gap> = found
            .into_iter()
            .filter(|f| f.tags.iter().any(|&t| t >= first_feat))
            .filter(|f| f.significant && f.effect_diff < 0.0 && f.score > best_score)
            .filter_map(|f| {
                let phrases: Vec<String> = f
                    .tags
                    .iter()
                    .filter(|&&t| t >= first_feat)
                    .map(|&t| feats[(t - first_feat) as usize].1.to_string())
                    .collect();
                let suggested_rule = suggest(&name, fields_b, &s.axis, &phrases)?;
                let examples = f
                    .examples
                    .iter()
                    .map(|&k| {
                        let i = items[k as usize];
                        GapExample {
                            item: ds.items[i].id.clone(),
                            text: texts[i].as_deref().unwrap_or("").chars().take(300).collect(),
                        }
                    })
                    .collect();
                Some(Gap {
                    slice: f.name,
                    phrases,
                    items: f.items,
                    score: f.score,
                    error_rate: f.error_rate,
                    effect_in: f.effect_in,
                    effect_out: f.effect_out,
                    p_value: f.p_value,
                    q_value: f.q_value,
                    examples,
                    suggested_rule,
                })
            })
            .take(s.max_reported)
            .collect();
        out.push(BenchmarkGaps {
            benchmark: name,
            fields: fields_b.clone(),
            items: n,
            regressed_items: regression.iter().filter(|r| **r > 0.0).count(),
            features: feats.len(),
            best_tag_slice: best_slice,
            best_tag_score: best_score,
            explained_by_tags: gaps.is_empty(),
            gaps,
        });
    }
    Ok(out)
}

/// The best tag slice (name, SliceLine score) of each benchmark's verdict.
pub fn best_tags(verdicts: &[super::BenchmarkVerdict]) -> BTreeMap<String, (Option<String>, f64)> {
    verdicts
        .iter()
        .map(|v| {
            let best = v
                .slices
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score).then_with(|| b.slice.cmp(&a.slice)));
            (
                v.benchmark.clone(),
                best.map_or((None, 0.0), |s| (Some(s.slice.clone()), s.score)),
            )
        })
        .collect()
}

/// Markdown lines of the gap search (for both reports).
pub fn markdown(gaps: &[BenchmarkGaps]) -> String {
    let mut md = String::new();
    if gaps.is_empty() {
        return md;
    }
    md.push_str("## Taxonomy gaps\n\n");
    md.push_str("Word uni/bigrams of each item's own doc fields searched together with the tags on the regression indicator; a gap is a significant slice with a phrase that scores above the best tag slice.\n\n");
    for g in gaps {
        md.push_str(&format!(
            "### {}\n\nFields `{}`, {} items ({} regressed), {} phrases searched. Best tag slice: {} (score {:.3}).\n\n",
            g.benchmark,
            g.fields.join("`, `"),
            g.items,
            g.regressed_items,
            g.features,
            g.best_tag_slice.as_deref().map_or("none".to_string(), |s| format!("`{s}`")),
            g.best_tag_score
        ));
        if g.explained_by_tags {
            md.push_str("No phrase concentrates the regression more than the best tag slice: the tags explain it.\n\n");
            continue;
        }
        md.push_str("| slice | items | regressed share | delta in | delta out | q | score |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for x in &g.gaps {
            md.push_str(&format!(
                "| `{}` | {} | {:.2} | {:+.3} | {:+.3} | {:.2e} | {:.3} |\n",
                x.slice, x.items, x.error_rate, x.effect_in, x.effect_out, x.q_value, x.score
            ));
        }
        for x in g.gaps.iter().take(1) {
            md.push_str("\nExamples:\n\n");
            for e in &x.examples {
                md.push_str(&format!("- `{}`: {}\n", e.item, e.text.replace('\n', " ")));
            }
            md.push_str("\nSuggested rule (passes `caploop check`):\n\n```yaml\n");
            md.push_str(&x.suggested_rule);
            md.push_str("```\n\n");
        }
    }
    md
}
