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
