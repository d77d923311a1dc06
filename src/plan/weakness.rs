//! What the plan takes from the weakness analysis (PAPER.md section 5):
//! the feature pool with its scores for the apply stage's targeted
//! selection (`plan.json`'s `weakness`), and the kind of each data slice
//! (concept gap or capability deficit) with what it asks of the data:
//! concept gaps go to corpus domains (the data side's `domain` label, same
//! vocabulary, PAPER.md section 3), capability deficits to operation
//! opportunities and a worked-solution patch.

use serde::{Deserialize, Serialize};

use super::PlanSettings;
use crate::mapping::Patch;

/// `evidence.json`'s `weakness`, as the plan reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct WeaknessView {
    pub axis: String,
    pub constants: ConstantsView,
    #[serde(default)]
    pub features: Vec<FeatureView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ConstantsView {
    pub kappa: f64,
    pub theta: usize,
    pub top_pairs: usize,
    pub top_k: usize,
    pub fdr: f64,
}

/// A feature; undefined numbers are `null` in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureView {
    pub labels: Vec<String>,
    pub order: usize,
    pub n: usize,
    pub error_rate: Option<f64>,
    pub weak: Option<f64>,
    pub a_raw: Option<f64>,
    pub a_pair: Option<f64>,
    pub a_comp: Option<f64>,
    pub q_value: Option<f64>,
    #[serde(default)]
    pub ci_low: Option<f64>,
    #[serde(default)]
    pub ci_high: Option<f64>,
    #[serde(default)]
    pub significant: bool,
    #[serde(default)]
    pub in_pool: bool,
    #[serde(default)]
    pub rank: Option<usize>,
}

/// The diagnosis settings the plan needs: which axes make which kind.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SettingsView {
    #[serde(default)]
    pub weakness: Option<KindAxesView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KindAxesView {
    #[serde(default)]
    pub concept_axes: Vec<String>,
    #[serde(default)]
    pub capability_axes: Vec<String>,
}

/// The constants of the analysis and of the apply stage's selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanConstants {
    pub kappa: f64,
    pub theta: usize,
    pub top_k: usize,
    /// ρ: share of the target drawn from matched examples (Q_match = min(ρN, n_matched d_max)).
    pub rho: f64,
    /// d_max: most copies of one matched example.
    pub d_max: u32,
    pub top_pairs: usize,
    pub fdr: f64,
}

/// `plan.json`'s `weakness`: the feature pool, rank 1 first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanWeakness {
    pub axis: String,
    pub constants: PlanConstants,
    pub features: Vec<FeatureView>,
}

/// The pool of the evidence's analysis, for the apply stage.
pub fn from_evidence(w: Option<&WeaknessView>, s: &PlanSettings) -> Option<PlanWeakness> {
    let w = w?;
    let mut features: Vec<FeatureView> = w.features.iter().filter(|f| f.in_pool).cloned().collect();
    features.sort_by_key(|f| f.rank.unwrap_or(usize::MAX));
    Some(PlanWeakness {
        axis: w.axis.clone(),
        constants: PlanConstants {
            kappa: w.constants.kappa,
            theta: w.constants.theta,
            top_k: w.constants.top_k,
            rho: s.rho,
            d_max: s.d_max,
            top_pairs: w.constants.top_pairs,
            fdr: w.constants.fdr,
        },
        features,
    })
}

/// The axes of each kind: the evidence's, else the defaults.
fn kind_axes(settings: Option<&SettingsView>) -> (Vec<String>, Vec<String>) {
    match settings.and_then(|s| s.weakness.as_ref()) {
        Some(k) => (k.concept_axes.clone(), k.capability_axes.clone()),
        None => {
            let d = crate::diagnose::weakness::WeaknessSettings::default();
            (d.concept_axes, d.capability_axes)
        }
    }
}

/// What a slice's kind asks of the data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindTargets {
    /// Concept gaps: the slice's knowledge values, matched against the
    /// documents' (fine) domain.
    pub corpus_domains: Vec<String>,
    /// Capability deficits: the slice's operations and their document-side
    /// operation opportunities (PAPER.md section 3; `unmapped:<value>` for a
    /// value outside the paper's 19 operations).
    pub operations: Vec<String>,
    pub operation_opportunities: Vec<String>,
}

/// The targets of `slice` given its kind (`concept_gap`, ...).
pub fn targets(slice: &str, kind: Option<&str>, settings: Option<&SettingsView>) -> KindTargets {
    let (concept, capability) = kind_axes(settings);
    let preds = crate::mapping::parse_slice(slice);
    let mut t = KindTargets::default();
    let wants_concept = matches!(kind, Some("concept_gap" | "both"));
    let wants_capability = matches!(kind, Some("capability_deficit" | "both"));
    for (axis, value) in preds {
        if wants_concept && concept.contains(&axis) {
            t.corpus_domains.push(value.clone());
        }
        if wants_capability && capability.contains(&axis) {
            use crate::diagnose::weakness::kind::{operation_opportunity, paper_operations};
            // A finer shipped operation reaches the paper's table through
            // the shipped mapping to the paper's label space.
            let opps: Vec<String> = match operation_opportunity(&value) {
                Some(o) => vec![o.to_string()],
                None => paper_operations(&axis, &value)
                    .iter()
                    .filter_map(|op| operation_opportunity(op).map(str::to_string))
                    .collect(),
            };
            let opps = if opps.is_empty() {
                vec![format!("unmapped:{value}")]
            } else {
                opps
            };
            for opp in opps {
                if !t.operation_opportunities.contains(&opp) {
                    t.operation_opportunities.push(opp);
                }
            }
            t.operations.push(value);
        }
    }
    t
}

/// The worked-solution patch a capability deficit asks for when no mapping
/// rule requested one.
pub fn worked_solution_patch(slice: &str, t: &KindTargets, s: &PlanSettings) -> Option<Patch> {
    if t.operations.is_empty() || s.worked_solution_tokens <= 0.0 {
        return None;
    }
    Some(Patch {
        kind: format!(
            "worked solutions that carry out {} step by step, each step written out",
            t.operations.join(" together with ")
        ),
        tokens: s.worked_solution_tokens,
        why: format!(
            "`{slice}` is a capability deficit (the loss is on the solving operation, not on missing knowledge): reweighting documents by topic does not target the skill; data rich in the operation opportunities {} does",
            t.operation_opportunities.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_asks_for_its_own_data() {
        let s = PlanSettings::default();
        // A concept gap: the knowledge value is the corpus domain to match.
        let t = targets("background=number_theory", Some("concept_gap"), None);
        assert_eq!(t.corpus_domains, ["number_theory"]);
        assert!(t.operation_opportunities.is_empty());
        assert_eq!(worked_solution_patch("background=number_theory", &t, &s), None);
        // A capability deficit: PAPER.md section 3's opportunity, and worked solutions.
        let slice = "operation=counting & operation=equation_formulation";
        let t = targets(slice, Some("capability_deficit"), None);
        assert!(t.corpus_domains.is_empty());
        assert_eq!(t.operation_opportunities, ["quantitative_and_symbolic_reasoning"]);
        let p = worked_solution_patch(slice, &t, &s).expect("a patch");
        assert_eq!(p.tokens, s.worked_solution_tokens);
        assert!(
            p.kind.contains("counting together with equation_formulation"),
            "{}",
            p.kind
        );
        // Both: each part goes its own way; a finer shipped operation reaches
        // the paper's table through the shipped mapping (modular_arithmetic
        // -> arithmetic_computation), an operation nobody maps is named.
        let t = targets(
            "background=algebra & operation=modular_arithmetic",
            Some("both"),
            None,
        );
        assert_eq!(t.corpus_domains, ["algebra"]);
        assert_eq!(t.operation_opportunities, ["quantitative_and_symbolic_reasoning"]);
        let t = targets("operation=made_up_op", Some("capability_deficit"), None);
        assert_eq!(t.operation_opportunities, ["unmapped:made_up_op"]);
        // No kind (older evidence): nothing extra.
        assert_eq!(targets(slice, None, None), KindTargets::default());
    }
}
