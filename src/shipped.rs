//! The taxonomies and configs shipped in `taxonomies/` and `configs/`,
//! embedded so that `caploop demo` works from any folder.

/// (file name, contents) of every shipped evaluation taxonomy.
pub const TAXONOMIES: &[(&str, &str)] = &[
    ("bbh.yaml", include_str!("../taxonomies/bbh.yaml")),
    ("math.yaml", include_str!("../taxonomies/math.yaml")),
    ("mmlu.yaml", include_str!("../taxonomies/mmlu.yaml")),
    ("mmlu_pro.yaml", include_str!("../taxonomies/mmlu_pro.yaml")),
    ("gpqa.yaml", include_str!("../taxonomies/gpqa.yaml")),
    ("arc.yaml", include_str!("../taxonomies/arc.yaml")),
    ("hellaswag.yaml", include_str!("../taxonomies/hellaswag.yaml")),
    ("winogrande.yaml", include_str!("../taxonomies/winogrande.yaml")),
    ("musr.yaml", include_str!("../taxonomies/musr.yaml")),
    ("code.yaml", include_str!("../taxonomies/code.yaml")),
    ("ifeval.yaml", include_str!("../taxonomies/ifeval.yaml")),
];

/// Write the shipped taxonomies into `dir`, returning their paths.
pub fn write_taxonomies(dir: &std::path::Path) -> crate::Result<Vec<std::path::PathBuf>> {
    crate::error::create_dir(dir)?;
    TAXONOMIES
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            crate::error::write_file(&p, text)?;
            Ok(p)
        })
        .collect()
}

/// The shipped default data taxonomy (`configs/data_taxonomy.yaml`).
pub const DATA_TAXONOMY: (&str, &str) = (
    "data_taxonomy.yaml",
    include_str!("../configs/data_taxonomy.yaml"),
);
/// The shipped default mapping rules (`configs/mapping.yaml`).
pub const MAPPING: (&str, &str) = ("mapping.yaml", include_str!("../configs/mapping.yaml"));
/// The shipped diagnosis rules (`configs/diagnosis.yaml`, a settings file).
pub const DIAGNOSIS: (&str, &str) = ("diagnosis.yaml", include_str!("../configs/diagnosis.yaml"));

/// Write the shipped configs (data taxonomy, mapping rules, diagnosis rules)
/// into `dir`, returning their paths in that order.
pub fn write_configs(dir: &std::path::Path) -> crate::Result<[std::path::PathBuf; 3]> {
    crate::error::create_dir(dir)?;
    let write = |(name, text): (&str, &str)| -> crate::Result<std::path::PathBuf> {
        let p = dir.join(name);
        crate::error::write_file(&p, text)?;
        Ok(p)
    };
    Ok([write(DATA_TAXONOMY)?, write(MAPPING)?, write(DIAGNOSIS)?])
}

/// The axes and values of every shipped evaluation taxonomy.
pub fn known_axes() -> crate::Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>> {
    let mut out: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> = Default::default();
    for (name, text) in TAXONOMIES {
        let set = crate::taxonomy::TaxonomySet::from_yaml_str(std::path::Path::new(name), text)?;
        for (axis, values) in crate::mapping::known_axes(&set) {
            out.entry(axis).or_default().extend(values);
        }
    }
    Ok(out)
}
