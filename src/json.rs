//! Reading back the JSON files caploop writes (`evidence.json`,
//! `plan.json`) into the types that wrote them.
//!
//! - [`read_versioned`]: the schema version is checked first, so a file of
//!   another version gets an error naming `schema_version`, not one about
//!   whatever field changed shape.
//! - [`f64_or_nan`]: serde_json writes a NaN `f64` as `null`; this reads
//!   `null` back as NaN, so a value reads back as the value it was (the
//!   p-value of a slice with no variance, a pair effect with an empty
//!   complement). Not for settings, where a missing number is an error.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// A caploop JSON file of schema version `supported`: `what` names the
/// file kind in the version error (`evidence`, `plan`), `not_this` says
/// what the file should be when it does not parse.
pub fn read_versioned<T: DeserializeOwned>(
    file: &Path,
    bytes: &[u8],
    what: &str,
    not_this: &str,
    supported: u32,
) -> Result<T> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let bad = |e: serde_json::Error| Error::input(file, e.line(), None, format!("{not_this}: {e}"));
    let v: Version = serde_json::from_slice(bytes).map_err(bad)?;
    if v.schema_version != supported {
        return Err(Error::input(
            file,
            0,
            Some("schema_version"),
            format!(
                "{what} schema version {} is not supported (this caploop reads {supported})",
                v.schema_version
            ),
        ));
    }
    serde_json::from_slice(bytes).map_err(bad)
}

/// A number, or NaN for `null`.
pub fn f64_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::error::Error;

    #[derive(Debug, serde::Deserialize)]
    struct X {
        #[serde(deserialize_with = "super::f64_or_nan")]
        v: f64,
    }

    #[test]
    fn null_reads_as_nan_and_numbers_as_themselves() {
        let x: X = serde_json::from_str(r#"{"v": null}"#).unwrap();
        assert!(x.v.is_nan());
        let x: X = serde_json::from_str(r#"{"v": 0.25}"#).unwrap();
        assert_eq!(x.v, 0.25);
        assert!(serde_json::from_str::<X>(r#"{"v": "a"}"#).is_err());
    }

    fn read(text: &str) -> crate::Result<X> {
        super::read_versioned(Path::new("f.json"), text.as_bytes(), "thing", "not a thing", 1)
    }

    #[test]
    fn another_schema_version_is_a_located_error_before_any_shape_error() {
        // Version 2 with a changed shape: the error names the version, not `v`.
        let Err(Error::Input { location, message }) = read(r#"{"schema_version": 2, "v": [1]}"#) else {
            panic!("expected an input error");
        };
        assert_eq!(location.path, Path::new("f.json"));
        assert_eq!(location.field.as_deref(), Some("schema_version"));
        assert!(
            message.contains("thing schema version 2 is not supported (this caploop reads 1)"),
            "{message}"
        );
        let e = read(r#"{"v": 1}"#).unwrap_err().to_string();
        assert!(e.contains("not a thing") && e.contains("schema_version"), "{e}");
        let e = read("{\n\"schema_version\": 1,\n\"v\": \"a\"}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.json:3") && e.contains("not a thing"), "{e}");
        assert_eq!(read(r#"{"schema_version": 1, "v": 0.5}"#).unwrap().v, 0.5);
    }
}
