//! From capability slices to pretraining data (DESIGN section 4): the data
//! taxonomy (categories with base mixture shares and tokens available) and
//! the mapping rules that tie slices to categories.
//!
//! Both files are YAML read with serde-saphyr. Syntax and type errors stop at
//! the first one (with its `file:line:col`); every semantic mistake (unknown
//! axis values, unknown categories, weights out of range, shares that do not
//! sum to one) is collected and reported at once, each at its own position.

pub mod data;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_saphyr::{Location, Spanned};

pub use data::{DataTaxonomy, Leaf};
pub use rules::{parse_slice, MappingRule, MappingRules, Patch, SliceMapping};

use crate::config::{ConfigError, ConfigErrors};
use crate::taxonomy::TaxonomySet;

/// Something with a position in a YAML file.
pub(crate) trait Located {
    fn location(&self) -> Location;

    fn error(&self, file: &Path, text: &str, message: String) -> ConfigError {
        let loc = self.location();
        let (line, col) = (loc.line() as usize, loc.column() as usize);
        let excerpt = crate::config::excerpt(text, crate::config::Pos { line, col });
        ConfigError {
            file: file.to_path_buf(),
            line,
            col,
            message,
            excerpt,
        }
    }
}

impl<T> Located for Spanned<T> {
    fn location(&self) -> Location {
        self.referenced
    }
}

impl Located for Location {
    fn location(&self) -> Location {
        *self
    }
}

fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> crate::Result<T> {
    serde_saphyr::from_str::<T>(text)
        .map_err(|e| crate::Error::Config(ConfigErrors(vec![crate::config::yaml_error(path, text, &e)])))
}

/// Axis -> known values of a set of evaluation taxonomies, `unknown` included.
pub fn known_axes(taxonomies: &TaxonomySet) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in taxonomies.axes() {
        let e = out.entry(a.name.clone()).or_default();
        e.extend(a.values.iter().cloned());
        e.insert(crate::taxonomy::UNKNOWN_VALUE.to_string());
    }
    out
}
