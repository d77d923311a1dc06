//! Settings of the plan stage; all of them are written into `plan.json`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings of `plan` (and the `plan:` section of a pipeline config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanSettings {
    /// Strength of the upweight: new share proportional to `p_d * (1 + lambda * u_d)`.
    pub lambda: f64,
    /// No category grows beyond this multiple of its base share.
    pub max_upweight: f64,
    /// No category shrinks below this fraction of its base share.
    pub floor: f64,
    /// No category is repeated more than this many times over its available tokens.
    pub max_epochs: f64,
    /// Tokens of the next training run; the data taxonomy's `budget_tokens` when unset.
    pub budget_tokens: Option<f64>,
    /// Share of a slice's loss the plan predicts the intervention recovers.
    pub recovery: f64,
    /// The smallest effect a hypothesis predicts.
    pub min_effect: f64,
    /// A guardrail breaks when its slice drops significantly by more than this.
    pub guardrail_tolerance: f64,
    /// Significance level and power for the eval size a hypothesis needs.
    pub alpha: f64,
    pub power: f64,
    /// At most this many data slices per benchmark, strongest first.
    pub max_slices: usize,
    /// Example item ids kept per intervention.
    pub max_examples: usize,
    /// Tokens of the worked-solution patch a capability deficit gets when
    /// no mapping rule asks for a patch (0: none).
    pub worked_solution_tokens: f64,
    /// Weakness-targeted selection (PAPER.md section 5), for the apply
    /// stage: share of the target from matched examples, and most copies.
    pub rho: f64,
    pub d_max: u32,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            lambda: 2.0,
            max_upweight: 3.0,
            floor: 0.5,
            max_epochs: 4.0,
            budget_tokens: None,
            recovery: 0.5,
            min_effect: 0.02,
            guardrail_tolerance: 0.02,
            alpha: 0.05,
            power: 0.8,
            max_slices: 5,
            max_examples: 10,
            worked_solution_tokens: 1.0e8,
            rho: 1.0,
            d_max: 2,
        }
    }
}

impl PlanSettings {
    pub fn validate(&self) -> Result<()> {
        let checks: [(&str, bool, &str); 12] = [
            (
                "lambda",
                self.lambda >= 0.0 && self.lambda.is_finite(),
                "a non-negative number",
            ),
            (
                "max_upweight",
                self.max_upweight >= 1.0 && self.max_upweight.is_finite(),
                "at least 1",
            ),
            ("floor", (0.0..=1.0).contains(&self.floor), "between 0 and 1"),
            (
                "max_epochs",
                self.max_epochs > 0.0 && self.max_epochs.is_finite(),
                "a positive number",
            ),
            (
                "budget_tokens",
                self.budget_tokens.is_none_or(|b| b > 0.0 && b.is_finite()),
                "a positive number",
            ),
            (
                "recovery",
                self.recovery > 0.0 && self.recovery <= 1.0,
                "in (0, 1]",
            ),
            (
                "min_effect",
                self.min_effect > 0.0 && self.min_effect < 1.0,
                "in (0, 1)",
            ),
            ("alpha", self.alpha > 0.0 && self.alpha < 1.0, "in (0, 1)"),
            ("power", self.power > 0.0 && self.power < 1.0, "in (0, 1)"),
            (
                "worked_solution_tokens",
                self.worked_solution_tokens >= 0.0 && self.worked_solution_tokens.is_finite(),
                "a non-negative number",
            ),
            ("rho", self.rho > 0.0 && self.rho <= 1.0, "in (0, 1]"),
            ("d_max", self.d_max >= 1, "at least 1"),
        ];
        let bad: Vec<String> = checks
            .iter()
            .filter(|(_, ok, _)| !ok)
            .map(|(name, _, want)| format!("plan setting `{name}` must be {want}"))
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(Error::usage(bad.join("; ")))
        }
    }
}
