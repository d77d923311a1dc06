use std::path::PathBuf;

use super::Out;
use crate::error::{Error, ExitCode, Result};
use crate::taxonomy::TaxonomySet;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config files or folders of them: evaluation taxonomies (with `axes:`),
    /// column mappings (with `columns:`) and pipeline configs (with `inputs:`).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

fn yaml_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            for e in walkdir::WalkDir::new(p).sort_by_file_name() {
                let e = e.map_err(|e| Error::io(p, e.into()))?;
                let is_yaml = e
                    .path()
                    .extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x == "yaml" || x == "yml");
                if e.file_type().is_file() && is_yaml {
                    files.push(e.into_path());
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

/// Which kind of config a file is, from its top-level keys.
fn kind(text: &str) -> &'static str {
    let top = |k: &str| text.lines().any(|l| l.starts_with(&format!("{k}:")));
    if top("map") && top("target") {
        "vocabulary"
    } else if top("axes") {
        "taxonomy"
    } else if top("categories") {
        "data taxonomy"
    } else if top("rules") {
        "mapping rules"
    } else if top("inputs") {
        // Before settings: a pipeline config has `compare:` etc. too.
        "pipeline"
    } else if top("diagnose") || top("compare") || top("plan") {
        "settings"
    } else if top("columns") {
        "mapping"
    } else if top("correspondences") {
        "label mapping"
    } else if [
        "confidence",
        "fdr",
        "power",
        "effect_of_interest",
        "max_order",
        "min_items",
        "max_listed_items",
        "filters",
        "pass_k",
    ]
    .iter()
    .any(|k| top(k))
    {
        // A flat file of `compare:` settings, as `compare --settings` reads.
        "settings"
    } else {
        "unknown"
    }
}

pub fn run(a: Args, out: Out) -> Result<ExitCode> {
    let files = yaml_files(&a.paths)?;
    let mut failures = Vec::new();
    let mut taxonomies = Vec::new();
    let mut data = Vec::new();
    let mut mappings = Vec::new();
    let mut vocabularies = Vec::new();
    for f in &files {
        let text = crate::error::read_text(f)?;
        let res = match kind(&text) {
            "taxonomy" => {
                taxonomies.push(f.clone());
                TaxonomySet::load(std::slice::from_ref(f)).map(|_| ()).map_err(Error::from)
            }
            "data taxonomy" => crate::mapping::DataTaxonomy::from_yaml_str(f, &text).map(|d| data.push(d)),
            "vocabulary" => {
                // Checked below, for totality over the taxonomies.
                vocabularies.push(f.clone());
                continue;
            }
            "mapping rules" => {
                // Checked below, against the data taxonomy and the axes.
                mappings.push((f.clone(), text));
                continue;
            }
            "settings" => crate::settings::load(f).map(|_| ()),
            "pipeline" => crate::pipeline::PipelineConfig::load(f).and_then(|c| match &c.vocabulary {
                // A vocabulary must cover the pipeline's taxonomies, as `run` checks first.
                Some(v) => {
                    let set = TaxonomySet::load(&c.taxonomies)?;
                    crate::labels::apply::vocabulary(Some(v), &set).map(|_| ())
                }
                None => Ok(()),
            }),
            "mapping" => crate::ingest::generic::ColumnMapping::load(f).map(|_| ()),
            "label mapping" => crate::apply::mapping::PaperMapping::load(Some(f)).map(|_| ()),
            _ => Err(Error::usage(format!(
                "{}: not a caploop config: expected top-level `axes:` (taxonomy), `categories:` (data taxonomy), `rules:` (mapping rules), `diagnose:`/`compare:`/`plan:` (settings), `inputs:` (pipeline), `columns:` (column mapping), `map:` and `target:` (vocabulary mapping) or `correspondences:` (apply label mapping)",
                f.display()
            ))),
        };
        match res {
            Ok(()) => out.say(format!("ok  {}", f.display())),
            Err(e) => failures.push(e),
        }
    }
    if !mappings.is_empty() {
        // Mapping rules name data categories and axis values: check them
        // against the data taxonomy and taxonomies given here, else the shipped ones.
        let data = match data.first() {
            Some(d) => Ok(d.clone()),
            None => crate::mapping::DataTaxonomy::from_yaml_str(
                std::path::Path::new("(shipped) configs/data_taxonomy.yaml"),
                crate::shipped::DATA_TAXONOMY.1,
            ),
        };
        let axes = crate::shipped::known_axes().and_then(|mut axes| {
            if !taxonomies.is_empty() {
                let set = TaxonomySet::load(&taxonomies).map_err(Error::from)?;
                for (axis, values) in crate::mapping::known_axes(&set) {
                    axes.entry(axis).or_default().extend(values);
                }
            }
            Ok(axes)
        });
        match (data, axes) {
            (Ok(data), Ok(axes)) => {
                for (f, text) in &mappings {
                    match crate::mapping::MappingRules::from_yaml_str(f, text, &data, &axes) {
                        Ok(_) => out.say(format!("ok  {}", f.display())),
                        Err(e) => failures.push(e),
                    }
                }
            }
            (Err(e), _) | (_, Err(e)) => failures.push(e),
        }
    }
    for f in &vocabularies {
        match check_vocabulary(f, &taxonomies) {
            Ok(()) => out.say(format!("ok  {}", f.display())),
            Err(e) => failures.push(e),
        }
    }
    // Taxonomies are also checked together: rule ids must be unique across files.
    if failures.is_empty() && taxonomies.len() > 1 {
        if let Err(e) = TaxonomySet::load(&taxonomies) {
            failures.push(Error::from(e));
        }
    }
    match failures.len() {
        0 => Ok(ExitCode::Ok),
        1 => Err(failures.remove(0)),
        _ => Err(Error::usage(
            failures
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}

/// A vocabulary mapping is total and exact over the shipped taxonomies and
/// those checked with it (its own target excepted).
fn check_vocabulary(f: &std::path::Path, taxonomies: &[PathBuf]) -> Result<()> {
    let v = crate::vocabulary::Vocabulary::load(f)?;
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let fine: Vec<PathBuf> = taxonomies
        .iter()
        .filter(|t| !same(t, &v.target_file))
        .cloned()
        .collect();
    let mut axes = crate::shipped::known_axes()?;
    if !fine.is_empty() {
        let set = TaxonomySet::load(&fine).map_err(Error::from)?;
        for (axis, values) in crate::mapping::known_axes(&set) {
            axes.entry(axis).or_default().extend(values);
        }
    }
    v.check_total(&axes, true)
}
