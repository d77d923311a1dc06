//! Concept gap or capability deficit (ProDa, test-driven data engineering):
//! which kind of weakness a slice is, read from the axes its predicates
//! name. A *concept gap* is missing knowledge (the slice names a knowledge
//! axis: background, domain, subject), a *capability deficit* a missing
//! skill (it names the solving operation), *both* when one conjunction
//! names both, and *other* when it names neither (task type, output
//! constraint, language: PAPER.md section 3 gives those no document-side
//! counterpart, so they go to instruction-data patches).
//!
//! The plan reads the kind: concept gaps go to corpus domains, capability
//! deficits to operation opportunities (PAPER.md section 3) and
//! worked-solution patches.

use serde::{Deserialize, Serialize};

use super::WeaknessSettings;

/// The kind of a weakness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeaknessKind {
    ConceptGap,
    CapabilityDeficit,
    Both,
    Other,
}

impl WeaknessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WeaknessKind::ConceptGap => "concept_gap",
            WeaknessKind::CapabilityDeficit => "capability_deficit",
            WeaknessKind::Both => "both",
            WeaknessKind::Other => "other",
        }
    }

    /// A phrase for sentences.
    pub fn words(self) -> &'static str {
        match self {
            WeaknessKind::ConceptGap => "a concept gap (knowledge)",
            WeaknessKind::CapabilityDeficit => "a capability deficit (solving operation)",
            WeaknessKind::Both => "both a concept gap and a capability deficit",
            WeaknessKind::Other => "neither a concept gap nor a capability deficit (task or output form)",
        }
    }
}

/// The kind of the slice named `slice` (`axis=value & ...`).
pub fn classify(slice: &str, s: &WeaknessSettings) -> WeaknessKind {
    let preds = crate::mapping::parse_slice(slice);
    let concept = preds.iter().any(|(a, _)| s.concept_axes.iter().any(|x| x == a));
    let capability = preds
        .iter()
        .any(|(a, _)| s.capability_axes.iter().any(|x| x == a));
    match (concept, capability) {
        (true, true) => WeaknessKind::Both,
        (true, false) => WeaknessKind::ConceptGap,
        (false, true) => WeaknessKind::CapabilityDeficit,
        (false, false) => WeaknessKind::Other,
    }
}

/// The data-side operation opportunity of a solving operation of the
/// paper's label space (PAPER.md section 3), if it is one of its 19.
/// The paper's operations behind a finer shipped value (`axis=value`), from
/// the shipped mapping `taxonomies/paper/mapping.yaml` (checked total by
/// `tests/suite/paper.rs`); empty when the value maps to no operation.
pub fn paper_operations(axis: &str, value: &str) -> Vec<String> {
    static MAP: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    let map = MAP.get_or_init(|| {
        serde_saphyr::from_str(include_str!("../../../taxonomies/paper/mapping.yaml")).unwrap_or_default()
    });
    match &map["map"][axis][value]["operation"] {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

pub fn operation_opportunity(operation: &str) -> Option<&'static str> {
    Some(match operation {
        "fact_recall" | "concept_alignment" => "knowledge_and_concept_grounding",
        "span_extraction" | "evidence_aggregation" | "multi_hop_composition" => {
            "evidence_localization_and_integration"
        }
        "compare_or_rank" | "option_elimination" => "comparison_contrast_and_exclusion",
        "causal_inference" | "temporal_reasoning" => "temporal_causal_and_process_reasoning",
        "counting" | "arithmetic_computation" | "equation_formulation" | "symbolic_transformation" => {
            "quantitative_and_symbolic_reasoning"
        }
        "constraint_tracking" => "constraint_and_state_tracking",
        "physical_state_simulation" | "social_script_simulation" => "simulation_and_script_reasoning",
        "algorithm_design" | "code_execution_simulation" => "algorithm_and_code_reasoning",
        "boundary_case_reasoning" => "boundary_exception_and_failure_reasoning",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_axes_of_a_slice_decide_its_kind() {
        let s = WeaknessSettings::default();
        assert_eq!(
            classify("operation=counting", &s),
            WeaknessKind::CapabilityDeficit
        );
        assert_eq!(classify("background=number_theory", &s), WeaknessKind::ConceptGap);
        assert_eq!(
            classify("background=number_theory & operation=counting", &s),
            WeaknessKind::Both
        );
        assert_eq!(classify("task_type=word_problem", &s), WeaknessKind::Other);
        assert_eq!(
            classify("domain=law & task_type=factual_qa", &s),
            WeaknessKind::ConceptGap
        );
    }

    #[test]
    fn every_paper_operation_has_an_opportunity() {
        // PAPER.md section 1 lists 19 solving operations; section 3 maps all.
        let ops = crate::synth::corpus::PAPER_OPERATIONS;
        assert_eq!(ops.len(), 19);
        assert!(ops.iter().all(|o| operation_opportunity(o).is_some()));
        assert_eq!(operation_opportunity("modular_arithmetic"), None);
    }
}

#[cfg(test)]
mod shipped_mapping_tests {
    use super::*;

    #[test]
    fn finer_operations_reach_an_opportunity_through_the_shipped_mapping() {
        // taxonomies/paper/mapping.yaml: modular_arithmetic -> arithmetic_computation,
        // probability -> [counting, arithmetic_computation].
        assert_eq!(
            paper_operations("operation", "modular_arithmetic"),
            ["arithmetic_computation"]
        );
        assert_eq!(
            paper_operations("operation", "probability"),
            ["counting", "arithmetic_computation"]
        );
        assert!(paper_operations("operation", "no_such_value").is_empty());
        assert_eq!(
            operation_opportunity(&paper_operations("operation", "modular_arithmetic")[0]),
            Some("quantitative_and_symbolic_reasoning")
        );
    }
}
