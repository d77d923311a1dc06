use std::path::PathBuf;

use super::Out;
use crate::error::{Error, ExitCode, Result};
use crate::labels::export::LabelSpace;
use crate::taxonomy::TaxonomySet;
use crate::vocabulary::Vocabulary;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write the items to label (`items.jsonl`), the label schema
    /// (`schema.json`) and a plain-text instruction for an LLM labeler
    /// (`instructions.txt`); caploop calls no model.
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Sample table written by `caploop ingest` (or `tag`).
    #[arg(long)]
    pub samples: PathBuf,
    /// The label space: a vocabulary mapping (its target, e.g.
    /// taxonomies/paper/mapping.yaml for the paper's label space).
    #[arg(long, conflicts_with = "taxonomy")]
    pub vocabulary: Option<PathBuf>,
    /// The label space: taxonomy files (every axis may take several values).
    #[arg(long, num_args = 1..)]
    pub taxonomy: Vec<PathBuf>,
    /// Only these benchmarks (default: every item).
    #[arg(long, num_args = 1..)]
    pub benchmark: Vec<String>,
    /// Output folder.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(c: Command, out: Out) -> Result<ExitCode> {
    match c {
        Command::Export(a) => export(a, out),
    }
}

fn export(a: ExportArgs, out: Out) -> Result<ExitCode> {
    let space = match (&a.vocabulary, a.taxonomy.is_empty()) {
        (Some(v), _) => {
            let v = Vocabulary::load(v)?;
            LabelSpace {
                name: v.target.names().join("+"),
                axes: v.target.axes().to_vec(),
                groups: v.groups.clone(),
                multi_label: v.multi_label.clone(),
            }
        }
        (None, false) => {
            let t = TaxonomySet::load(&a.taxonomy)?;
            LabelSpace {
                name: t.names().join("+"),
                axes: t.axes().to_vec(),
                groups: Vec::new(),
                multi_label: t.axes().iter().map(|a| a.name.clone()).collect(),
            }
        }
        (None, true) => {
            return Err(Error::usage(
                "give the label space: --vocabulary taxonomies/paper/mapping.yaml (the paper's) or --taxonomy FILE...",
            ))
        }
    };
    let items = crate::labels::item_index(&a.samples)?;
    let written = crate::labels::export::export(&items, &space, &a.benchmark, &a.out)?;
    for p in written {
        out.say(format!("wrote {}", p.display()));
    }
    Ok(ExitCode::Ok)
}
