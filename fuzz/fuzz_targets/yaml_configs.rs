#![no_main]
//! Every YAML config kind: the first byte picks it (evaluation taxonomy,
//! data taxonomy, mapping rules, settings, pipeline config, the `check`
//! dispatcher), the rest is the file.
use libfuzzer_sys::fuzz_target;

/// The shipped data taxonomy and the shipped taxonomies' axes, built once:
/// building them per input (3.7 s in this build) left mapping-rules inputs
/// most of the run time.
fn shipped() -> Option<&'static (caploop::mapping::DataTaxonomy, std::collections::BTreeMap<String, std::collections::BTreeSet<String>>)> {
    static SHIPPED: std::sync::OnceLock<Option<(caploop::mapping::DataTaxonomy, std::collections::BTreeMap<String, std::collections::BTreeSet<String>>)>> =
        std::sync::OnceLock::new();
    SHIPPED
        .get_or_init(|| {
            let data = caploop::mapping::DataTaxonomy::from_yaml_str(
                std::path::Path::new("data_taxonomy.yaml"),
                caploop::shipped::DATA_TAXONOMY.1,
            )
            .ok()?;
            Some((data, caploop::shipped::known_axes().ok()?))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let dir = caploop_fuzz::scratch();
    let p = dir.join("c.yaml");
    std::fs::write(&p, rest).unwrap();
    let text = String::from_utf8_lossy(rest);
    match kind % 6 {
        0 => {
            let _ = caploop::taxonomy::TaxonomySet::load(std::slice::from_ref(&p));
        }
        1 => {
            let _ = caploop::mapping::DataTaxonomy::from_yaml_str(&p, &text);
        }
        2 => {
            if let Some((data, axes)) = shipped() {
                let _ = caploop::mapping::MappingRules::from_yaml_str(&p, &text, data, axes);
            }
        }
        3 => {
            let _ = caploop::settings::load(&p);
        }
        4 => {
            let _ = caploop::pipeline::PipelineConfig::load(&p);
        }
        _ => {
            let _ = caploop::taxonomy::TaxonomySet::from_yaml_str(&p, &text);
        }
    }
});
