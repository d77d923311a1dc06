//! What the plan takes from the weakness analysis (PAPER.md section 5):
//! the feature pool with its scores for the apply stage's targeted
//! selection (`plan.json`'s `weakness`), and the kind of each data slice
//! (concept gap or capability deficit) with what it asks of the data:
//! concept gaps go to corpus domains (the data side's `domain` label, same
//! vocabulary, PAPER.md section 3), capability deficits to operation
//! opportunities and a worked-solution patch.

use serde::{Deserialize, Serialize};

use super::PlanSettings;
use crate::diagnose::weakness::{Feature, WeaknessReport, WeaknessSettings};
use crate::mapping::Patch;

/// A feature of the pool as `plan.json` carries it: undefined numbers are
/// `None` (`null` in JSON). `apply` reads `labels`, `order` and `weak`; a
/// hand-written plan may leave out the rest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFeature {
    pub labels: Vec<String>,
    /// 0 when a hand-written plan leaves it out (`apply` then takes the
    /// number of labels).
    #[serde(default)]
    pub order: usize,
    #[serde(default)]
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

impl From<&Feature> for PlanFeature {
    fn from(f: &Feature) -> PlanFeature {
        let num = |x: f64| (!x.is_nan()).then_some(x);
        PlanFeature {
            labels: f.labels.clone(),
            order: f.order,
            n: f.n,
            error_rate: num(f.error_rate),
            weak: num(f.weak),
            a_raw: num(f.a_raw),
            a_pair: num(f.a_pair),
            a_comp: num(f.a_comp),
            q_value: num(f.q_value),
            ci_low: num(f.ci_low),
            ci_high: num(f.ci_high),
            significant: f.significant,
            in_pool: f.in_pool,
            rank: f.rank,
        }
    }
}

/// The constants of the analysis and of the apply stage's selection.
/// `apply` reads `rho` and `d_max` (the plan settings' defaults when a
/// hand-written plan leaves them out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanConstants {
    #[serde(default)]
    pub kappa: f64,
    #[serde(default)]
    pub theta: usize,
    #[serde(default)]
    pub top_k: usize,
    /// ρ: share of the target drawn from matched examples (Q_match = min(ρN, n_matched d_max)).
    #[serde(default = "default_rho")]
    pub rho: f64,
    /// d_max: most copies of one matched example.
    #[serde(default = "default_d_max")]
    pub d_max: u32,
    #[serde(default)]
    pub top_pairs: usize,
    #[serde(default)]
    pub fdr: f64,
}

fn default_rho() -> f64 {
    PlanSettings::default().rho
}

fn default_d_max() -> u32 {
    PlanSettings::default().d_max
}

/// `plan.json`'s `weakness`: the feature pool, rank 1 first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanWeakness {
    pub axis: String,
    pub constants: PlanConstants,
    pub features: Vec<PlanFeature>,
}

/// The pool of the evidence's analysis, for the apply stage; `None` for
/// evidence without the analysis (an empty axis).
pub fn from_evidence(w: &WeaknessReport, s: &PlanSettings) -> Option<PlanWeakness> {
    let w = &w.analysis;
    if w.axis.is_empty() {
        return None;
    }
    let mut features: Vec<PlanFeature> = w.pool().map(PlanFeature::from).collect();
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

/// The targets of `slice` given its kind (`concept_gap`, ...) and the
/// diagnosis's axes of each kind.
pub fn targets(slice: &str, kind: Option<&str>, settings: &WeaknessSettings) -> KindTargets {
    let (concept, capability) = (&settings.concept_axes, &settings.capability_axes);
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
        let w = WeaknessSettings::default();
        let t = targets("background=number_theory", Some("concept_gap"), &w);
        assert_eq!(t.corpus_domains, ["number_theory"]);
        assert!(t.operation_opportunities.is_empty());
        assert_eq!(worked_solution_patch("background=number_theory", &t, &s), None);
        // A capability deficit: PAPER.md section 3's opportunity, and worked solutions.
        let slice = "operation=counting & operation=equation_formulation";
        let t = targets(slice, Some("capability_deficit"), &w);
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
            &w,
        );
        assert_eq!(t.corpus_domains, ["algebra"]);
        assert_eq!(t.operation_opportunities, ["quantitative_and_symbolic_reasoning"]);
        let t = targets("operation=made_up_op", Some("capability_deficit"), &w);
        assert_eq!(t.operation_opportunities, ["unmapped:made_up_op"]);
        // No kind (older evidence): nothing extra.
        assert_eq!(targets(slice, None, &w), KindTargets::default());
    }
}
