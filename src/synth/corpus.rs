//! `caploop synth --corpus N`: a labelled corpus manifest of any size, for
//! `caploop apply` (tests, the demo, the benchmark).
//!
//! Documents `d0000000000`, ... with a category drawn in proportion to the
//! shipped data taxonomy's base shares, a token count, 1-3 evaluation-side
//! solving operations (`operation`, the paper's 19 or a given vocabulary)
//! and their data-side operation opportunities (`operation_opportunity`,
//! through the paper's mapping). Written in row groups of 1M rows, so
//! memory stays bounded at any size.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};

/// The paper's 19 solving operations (PAPER.md section 1).
pub const PAPER_OPERATIONS: &[&str] = &[
    "fact_recall",
    "concept_alignment",
    "span_extraction",
    "evidence_aggregation",
    "compare_or_rank",
    "option_elimination",
    "multi_hop_composition",
    "causal_inference",
    "temporal_reasoning",
    "counting",
    "arithmetic_computation",
    "equation_formulation",
    "symbolic_transformation",
    "constraint_tracking",
    "physical_state_simulation",
    "social_script_simulation",
    "algorithm_design",
    "code_execution_simulation",
    "boundary_case_reasoning",
];

#[derive(Debug, Clone)]
pub struct CorpusOptions {
    pub docs: u64,
    pub seed: u64,
    /// `.parquet` or `.jsonl`.
    pub out: PathBuf,
    /// Operation vocabulary (default: the paper's).
    pub operations: Vec<String>,
    /// Categories with weights (default: the shipped data taxonomy's leaves).
    pub categories: Vec<(String, f64)>,
    pub row_group: usize,
}

impl CorpusOptions {
    pub fn new(docs: u64, seed: u64, out: &Path) -> Result<CorpusOptions> {
        let (name, text) = crate::shipped::DATA_TAXONOMY;
        let dt = crate::mapping::DataTaxonomy::from_yaml_str(Path::new(name), text)?;
        Ok(CorpusOptions {
            docs,
            seed,
            out: out.to_path_buf(),
            operations: PAPER_OPERATIONS.iter().map(|s| s.to_string()).collect(),
            categories: dt.leaves.iter().map(|l| (l.path.clone(), l.share)).collect(),
            row_group: 1 << 20,
        })
    }
}

/// Write the manifest; returns the number of documents written.
pub fn write_corpus(o: &CorpusOptions) -> Result<u64> {
    if o.categories.is_empty() || o.operations.is_empty() {
        return Err(Error::usage(
            "synth --corpus needs at least one category and one operation",
        ));
    }
    let (_, _, mapping) = crate::apply::mapping::PaperMapping::load(None)?;
    let data_side: Vec<Option<String>> = o
        .operations
        .iter()
        .map(
            |op| match mapping.map_feature("operation", std::slice::from_ref(op)) {
                crate::apply::mapping::Mapped::Labels(_, l) => l.into_iter().next(),
                _ => None,
            },
        )
        .collect();
    let total: f64 = o.categories.iter().map(|c| c.1.max(0.0)).sum();
    let mut cum = Vec::new();
    let mut acc = 0.0;
    for c in &o.categories {
        acc += c.1.max(0.0) / total;
        cum.push(acc);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(o.seed);
    let jsonl = crate::apply::manifest::is_jsonl(&o.out);
    let mut pq = if jsonl {
        None
    } else {
        Some(crate::table::SamplesWriter::create(&o.out)?)
    };
    let mut js = String::new();
    let mut done = 0u64;
    while done < o.docs || (done == 0 && pq.as_ref().is_some_and(|w| w.rows() == 0)) {
        let n = ((o.docs - done) as usize).min(o.row_group);
        let mut ids = Vec::with_capacity(n);
        let mut tokens: Vec<u32> = Vec::with_capacity(n);
        let mut cats: Vec<&str> = Vec::with_capacity(n);
        let mut ops = ListStringChunkedBuilder::new("operation".into(), n, n * 2);
        let mut opp = ListStringChunkedBuilder::new("operation_opportunity".into(), n, n * 2);
        let mut chosen: Vec<usize> = Vec::with_capacity(3);
        let mut mapped: Vec<&str> = Vec::with_capacity(3);
        for i in 0..n {
            let id = format!("d{:010}", done + i as u64);
            let x: f64 = rng.random();
            let c = cum.iter().position(|&p| x < p).unwrap_or(cum.len() - 1);
            // Token counts: 50..4050, skewed to short documents.
            let t = 50 + (rng.random::<f64>().powi(2) * 4000.0) as u32;
            let k = 1 + (rng.random::<u32>() % 3) as usize;
            chosen.clear();
            while chosen.len() < k.min(o.operations.len()) {
                let j = rng.random_range(0..o.operations.len());
                if !chosen.contains(&j) {
                    chosen.push(j);
                }
            }
            chosen.sort_unstable();
            mapped.clear();
            for &j in &chosen {
                if let Some(d) = &data_side[j] {
                    if !mapped.contains(&d.as_str()) {
                        mapped.push(d);
                    }
                }
            }
            if jsonl {
                let v = serde_json::json!({
                    "doc_id": id, "tokens": t, "category": o.categories[c].0,
                    "operation": chosen.iter().map(|&j| &o.operations[j]).collect::<Vec<_>>(),
                    "operation_opportunity": mapped,
                });
                js.push_str(&v.to_string());
                js.push('\n');
            } else {
                ops.append_values_iter(chosen.iter().map(|&j| o.operations[j].as_str()));
                opp.append_values_iter(mapped.iter().copied());
                ids.push(id);
                tokens.push(t);
                cats.push(o.categories[c].0.as_str());
            }
        }
        if let Some(w) = pq.as_mut() {
            let mut df = DataFrame::new(
                n,
                vec![
                    Column::new("doc_id".into(), ids),
                    Column::new("tokens".into(), tokens),
                    Column::new("category".into(), cats),
                    ops.finish().into_series().into(),
                    opp.finish().into_series().into(),
                ],
            )
            .map_err(|e| Error::frame(&o.out, e))?;
            w.write(&mut df)?;
        }
        done += n as u64;
        if n == 0 {
            break;
        }
    }
    match pq {
        Some(w) => w.finish()?,
        None => crate::error::write_file(&o.out, js)?,
    }
    Ok(done)
}
