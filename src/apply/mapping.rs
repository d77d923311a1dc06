//! The paper's evaluation-side -> data-side label mapping (PAPER.md
//! section 3), shipped as `configs/paper_mapping.yaml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ConfigError, ConfigErrors};
use crate::error::{Error, Result};

/// The shipped mapping (file name, contents).
pub const SHIPPED: (&str, &str) = (
    "paper_mapping.yaml",
    include_str!("../../configs/paper_mapping.yaml"),
);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correspondence {
    pub eval_axis: String,
    pub data_column: String,
    #[serde(default)]
    pub identity: bool,
    /// data-side label -> the evaluation-side labels it stands for.
    #[serde(default)]
    pub map: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperMapping {
    pub correspondences: Vec<Correspondence>,
    #[serde(default)]
    pub no_counterpart: Vec<String>,
}

/// A feature's labels on the data side, or why there are none.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// The data-side column and the labels a document must all carry.
    Labels(String, Vec<String>),
    /// No data-side counterpart: a patch request, with the reason.
    Patch(String),
}

impl PaperMapping {
    /// Load `path`, or the shipped mapping; (path as recorded, text, mapping).
    pub fn load(path: Option<&Path>) -> Result<(PathBuf, String, PaperMapping)> {
        let (p, text) = match path {
            Some(p) => (p.to_path_buf(), crate::error::read_text(p)?),
            None => (
                PathBuf::from(format!("(shipped) configs/{}", SHIPPED.0)),
                SHIPPED.1.to_string(),
            ),
        };
        let m: PaperMapping = serde_saphyr::from_str(&text)
            .map_err(|e| Error::Config(ConfigErrors(vec![crate::config::yaml_error(&p, &text, &e)])))?;
        m.validate(&p, &text)?;
        Ok((p, text, m))
    }

    fn validate(&self, p: &Path, text: &str) -> Result<()> {
        let mut errs = Vec::new();
        let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).map_or(0, |i| i + 1);
        let mut err = |needle: &str, message: String| {
            errs.push(ConfigError {
                file: p.to_path_buf(),
                line: line_of(needle),
                col: 1,
                message,
                excerpt: String::new(),
            })
        };
        let mut axes = std::collections::BTreeSet::new();
        for c in &self.correspondences {
            if !axes.insert(c.eval_axis.as_str()) {
                err(
                    &c.eval_axis,
                    format!("eval_axis '{}' has two correspondences", c.eval_axis),
                );
            }
            if c.identity != c.map.is_empty() {
                err(
                    &c.eval_axis,
                    format!(
                        "correspondence for '{}' needs exactly one of `identity: true` or a non-empty `map`",
                        c.eval_axis
                    ),
                );
            }
            let mut seen = BTreeMap::new();
            for (data, evals) in &c.map {
                for e in evals {
                    if let Some(prev) = seen.insert(e.as_str(), data.as_str()) {
                        err(e, format!("'{e}' is mapped to both '{prev}' and '{data}'"));
                    }
                }
            }
            if self.no_counterpart.contains(&c.eval_axis) {
                err(
                    &c.eval_axis,
                    format!("'{}' is both mapped and listed in no_counterpart", c.eval_axis),
                );
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(ConfigErrors(errs)))
        }
    }

    /// Map the labels of one evaluation-side feature on `axis`.
    pub fn map_feature(&self, axis: &str, labels: &[String]) -> Mapped {
        let Some(c) = self.correspondences.iter().find(|c| c.eval_axis == axis) else {
            let why = if self.no_counterpart.iter().any(|a| a == axis) {
                format!("axis '{axis}' has no document-side counterpart (PAPER.md section 3)")
            } else {
                format!("axis '{axis}' is not in the mapping")
            };
            return Mapped::Patch(why);
        };
        let mut out: Vec<String> = Vec::new();
        for l in labels {
            let d = if c.identity {
                Some(l.clone())
            } else {
                c.map
                    .iter()
                    .find(|(_, ev)| ev.iter().any(|e| e == l))
                    .map(|(d, _)| d.clone())
            };
            match d {
                Some(d) => {
                    if !out.contains(&d) {
                        out.push(d)
                    }
                }
                None => {
                    return Mapped::Patch(format!(
                        "'{axis}={l}' has no data-side counterpart in the mapping"
                    ))
                }
            }
        }
        out.sort();
        Mapped::Labels(c.data_column.clone(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_mapping_loads_and_maps() {
        let (_, _, m) = PaperMapping::load(None).unwrap();
        let f = m.map_feature("operation", &["counting".into(), "equation_formulation".into()]);
        assert_eq!(
            f,
            Mapped::Labels(
                "operation_opportunity".into(),
                vec!["quantitative_and_symbolic_reasoning".into()]
            )
        );
        assert!(matches!(
            m.map_feature("task_type", &["factual_qa".into()]),
            Mapped::Patch(_)
        ));
        assert!(matches!(
            m.map_feature("operation", &["juggling".into()]),
            Mapped::Patch(_)
        ));
        // 19 solving operations, each mapped once (PAPER.md section 3 table).
        let c = m
            .correspondences
            .iter()
            .find(|c| c.eval_axis == "operation")
            .unwrap();
        assert_eq!(c.map.values().map(Vec::len).sum::<usize>(), 19);
        assert_eq!(c.map.len(), 9);
    }
}
