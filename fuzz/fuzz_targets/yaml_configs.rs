#![no_main]
//! Every YAML config kind: the first byte picks it (evaluation taxonomy,
//! data taxonomy, mapping rules, settings, pipeline config, the `check`
//! dispatcher), the rest is the file.
use libfuzzer_sys::fuzz_target;

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
            if let (Ok(data), Ok(axes)) = (
                caploop::mapping::DataTaxonomy::from_yaml_str(
                    std::path::Path::new("data_taxonomy.yaml"),
                    caploop::shipped::DATA_TAXONOMY.1,
                ),
                caploop::shipped::known_axes(),
            ) {
                let _ = caploop::mapping::MappingRules::from_yaml_str(&p, &text, &data, &axes);
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
