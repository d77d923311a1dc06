//! Building a plan from the evidence: which slices are acted on, how they
//! map to data, the interventions and hypotheses, and the new mixture.

use super::*;
use crate::diagnose::{DiscoveredSlice, Evidence, Fix, Verdict};
use crate::error::{Error, Result};
use crate::mapping::{DataTaxonomy, MappingRules};

fn planning_items(mean: f64, effect: f64, s: &PlanSettings) -> Option<usize> {
    let p0 = mean.clamp(0.0, 1.0);
    let p1 = (mean + effect).clamp(0.0, 1.0);
    let sd = (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt().max(0.05);
    crate::stats::items_needed(effect, sd, s.alpha, s.power)
}

fn slice_evidence(source: &str, v: &DiscoveredSlice, effect: f64, s: &PlanSettings) -> SliceEvidence {
    SliceEvidence {
        source: source.into(),
        items: v.items,
        mean: v.candidate_mean,
        effect,
        ci_low: v.ci_low,
        ci_high: v.ci_high,
        p_value: Some(v.p_value),
        q_value: v.q_value,
        example_items: v.example_items.iter().take(s.max_examples).cloned().collect(),
        weakness_kind: v.kind.map(|k| k.as_str().to_string()),
    }
}

/// A data-attributable weak slice, before mapping.
struct DataSlice {
    benchmark: String,
    slice: String,
    evidence: SliceEvidence,
}

/// The slices a plan acts on with data: `data_in` concentrations, or weak
/// slices of the candidate when there is no baseline.
fn data_slices(ev: &Evidence, s: &PlanSettings) -> Vec<DataSlice> {
    let mut out = Vec::new();
    for v in ev.verdicts.iter().filter(|v| v.verdict == Verdict::DataIn) {
        for sl in v
            .slices
            .iter()
            .filter(|x| x.significant && x.effect_in < 0.0 && x.effect_diff < 0.0)
            .take(s.max_slices)
        {
            out.push(DataSlice {
                benchmark: v.benchmark.clone(),
                slice: sl.slice.clone(),
                evidence: slice_evidence("data_in", sl, sl.effect_in, s),
            });
        }
    }
    for w in ev.weak.iter().filter(|w| w.run == ev.candidate) {
        for sl in w
            .slices
            .iter()
            .filter(|x| x.significant && x.effect_diff < 0.0)
            .take(s.max_slices)
        {
            out.push(DataSlice {
                benchmark: w.benchmark.clone(),
                slice: sl.slice.clone(),
                evidence: slice_evidence("weak", sl, sl.effect_diff, s),
            });
        }
    }
    out
}

fn guardrails(ev: &Evidence, benchmarks: &[String], s: &PlanSettings) -> Vec<Guardrail> {
    let mut all: Vec<String> = ev
        .verdicts
        .iter()
        .map(|v| v.benchmark.clone())
        .chain(ev.weak.iter().map(|w| w.benchmark.clone()))
        .collect();
    all.sort();
    all.dedup();
    all.into_iter()
        .filter(|b| !benchmarks.contains(b))
        .map(|b| Guardrail {
            benchmark: b,
            slice: "*".into(),
            max_drop: s.guardrail_tolerance,
        })
        .collect()
}

/// Everything `build` needs.
pub struct PlanInput<'a> {
    pub evidence: &'a Evidence,
    pub data: &'a DataTaxonomy,
    pub mapping: &'a MappingRules,
    pub inputs: Vec<InputFile>,
    pub settings: &'a PlanSettings,
}

/// Build the plan.
pub fn build(input: PlanInput<'_>) -> Result<Plan> {
    let PlanInput {
        evidence: ev,
        data,
        mapping,
        inputs,
        settings: s,
    } = input;
    s.validate()?;
    let mut interventions: Vec<Intervention> = Vec::new();
    let mut unmapped = Vec::new();
    let mut not_acted = Vec::new();
    let mut upweight = vec![0.0; data.leaves.len()];
    let mut patched = std::collections::BTreeSet::new();
    let mut next_id = 1;
    let mut id = || {
        let v = format!("I{next_id}");
        next_id += 1;
        v
    };

    // Training-side faults first: they change how every other number reads.
    for v in &ev.verdicts {
        match v.verdict {
            Verdict::DataOut => {
                let fix = v.fix.clone().unwrap_or(Fix {
                    rule: "none".into(),
                    kind: "format".into(),
                    action: "Format failures explain the drop but no diagnosis rule names the fault: inspect the failed responses in the report's examples.".into(),
                });
                let gap = -v.delta;
                let min_effect = (s.recovery * gap).max(s.min_effect);
                let iid = id();
                let target = Target {
                    benchmark: v.benchmark.clone(),
                    slice: "*".into(),
                    direction: "improve".into(),
                    min_effect,
                    current_mean: v.candidate_mean,
                    items: v.items,
                    items_needed: planning_items(v.candidate_mean, min_effect, s),
                };
                interventions.push(Intervention {
                    id: iid.clone(),
                    kind: Kind::TrainingFix,
                    benchmark: v.benchmark.clone(),
                    slice: "*".into(),
                    summary: format!(
                        "{}: fix `{}` in training ({}); no data change.",
                        v.benchmark, fix.kind, fix.rule
                    ),
                    evidence: SliceEvidence {
                        source: "data_out".into(),
                        items: v.items,
                        mean: v.candidate_mean,
                        effect: v.delta,
                        ci_low: v.ci_low,
                        ci_high: v.ci_high,
                        p_value: None,
                        q_value: v.q_value,
                        example_items: Vec::new(),
                        weakness_kind: None,
                    },
                    mapped: None,
                    patch: None,
                    training_fix: Some(TrainingFix {
                        rule: fix.rule.clone(),
                        fix: fix.kind.clone(),
                        action: fix.action.clone(),
                        format_share_of_drop: v.format.share_of_drop,
                        recovered_by_rescoring: v.rescore.recovered_share,
                    }),
                    growth: None,
                    hypothesis: Some(Hypothesis {
                        id: format!("H{}", &iid[1..]),
                        statement: format!(
                            "After the {} fix, {} recovers at least {:.1} points of its {:.1}-point drop (from {:.3}).",
                            fix.kind,
                            v.benchmark,
                            100.0 * min_effect,
                            100.0 * gap,
                            v.candidate_mean
                        ),
                        targets: vec![target],
                        guardrails: guardrails(ev, std::slice::from_ref(&v.benchmark), s),
                    }),
                });
            }
            Verdict::DataIn => {}
            other => not_acted.push(NotActed {
                benchmark: v.benchmark.clone(),
                verdict: other.as_str().into(),
                reason: v.reason.clone(),
            }),
        }
    }

    for d in data_slices(ev, s) {
        let Some(m) = mapping.map(&d.benchmark, &d.slice) else {
            unmapped.push(Unmapped {
                benchmark: d.benchmark,
                slice: d.slice,
                evidence: d.evidence,
            });
            continue;
        };
        let gap = -d.evidence.effect;
        let weakness = gap * (1.0 - d.evidence.q_value).clamp(0.0, 1.0);
        for (cat, r) in &m.weights {
            let leaves = data.leaves_under(cat);
            let base: f64 = leaves.iter().map(|&l| data.leaves[l].share).sum();
            for &l in &leaves {
                // An inner node spreads its weight over its leaves by base share.
                let part = if base > 0.0 {
                    data.leaves[l].share / base
                } else {
                    1.0 / leaves.len() as f64
                };
                upweight[l] += weakness * r * part;
            }
        }
        let min_effect = (s.recovery * gap).max(s.min_effect);
        let needed = planning_items(d.evidence.mean, min_effect, s);
        let target = Target {
            benchmark: d.benchmark.clone(),
            slice: d.slice.clone(),
            direction: "improve".into(),
            min_effect,
            current_mean: d.evidence.mean,
            items: d.evidence.items,
            items_needed: needed,
        };
        let rules: Vec<&crate::mapping::MappingRule> =
            m.rules.iter().filter_map(|r| mapping.rule(r)).collect();
        let cats: Vec<String> = m.weights.iter().map(|(c, w)| format!("{c} ({w:.2})")).collect();
        let kt = weakness::targets(
            &d.slice,
            d.evidence.weakness_kind.as_deref(),
            &ev.settings.weakness,
        );
        let statement = |what: &str| {
            format!(
                "{what}, `{}` on {} improves by at least {:.1} points (now {:.3} on {} items); {} do not drop by more than {:.1} points.",
                d.slice,
                d.benchmark,
                100.0 * min_effect,
                d.evidence.mean,
                d.evidence.items,
                "the guardrail benchmarks",
                100.0 * s.guardrail_tolerance
            )
        };
        let guards: Vec<Guardrail> = std::iter::once(Guardrail {
            benchmark: d.benchmark.clone(),
            slice: "*".into(),
            max_drop: s.guardrail_tolerance,
        })
        .chain(guardrails(ev, std::slice::from_ref(&d.benchmark), s))
        .collect();
        let iid = id();
        interventions.push(Intervention {
            id: iid.clone(),
            kind: Kind::DataUpweight,
            benchmark: d.benchmark.clone(),
            slice: d.slice.clone(),
            summary: format!("{}: upweight {} for `{}`.", d.benchmark, cats.join(", "), d.slice),
            evidence: d.evidence.clone(),
            mapped: Some(Mapped {
                rules: m.rules.clone(),
                rationale: rules.iter().map(|r| r.rationale.clone()).collect(),
                weakness,
                categories: m.weights.clone(),
                corpus_domains: kt.corpus_domains.clone(),
                operation_opportunities: kt.operation_opportunities.clone(),
            }),
            patch: None,
            training_fix: None,
            growth: None,
            hypothesis: Some(Hypothesis {
                id: format!("H{}", &iid[1..]),
                statement: statement("With the upweighted mixture"),
                targets: vec![target.clone()],
                guardrails: guards.clone(),
            }),
        });
        // A capability deficit no rule patches gets worked solutions.
        let rule_patch = rules.iter().any(|r| r.patch.is_some());
        if let Some(patch) = (!rule_patch)
            .then(|| weakness::worked_solution_patch(&d.slice, &kt, s))
            .flatten()
        {
            let iid = id();
            interventions.push(Intervention {
                id: iid.clone(),
                kind: Kind::DataPatch,
                benchmark: d.benchmark.clone(),
                slice: d.slice.clone(),
                summary: format!(
                    "{}: add about {} tokens of worked solutions for `{}` (capability deficit).",
                    d.benchmark,
                    human_tokens(patch.tokens),
                    d.slice
                ),
                evidence: d.evidence.clone(),
                mapped: Some(Mapped {
                    rules: Vec::new(),
                    rationale: vec![patch.why.clone()],
                    weakness,
                    categories: BTreeMap::new(),
                    corpus_domains: Vec::new(),
                    operation_opportunities: kt.operation_opportunities.clone(),
                }),
                patch: Some(patch),
                training_fix: None,
                growth: None,
                hypothesis: Some(Hypothesis {
                    id: format!("H{}", &iid[1..]),
                    statement: statement("With the worked solutions in training"),
                    targets: vec![target.clone()],
                    guardrails: guards.clone(),
                }),
            });
        }
        // A rule's patch is requested once, for the strongest slice it serves.
        for r in rules
            .iter()
            .filter(|r| r.patch.is_some() && patched.insert(r.id.clone()))
        {
            let patch = r.patch.clone().expect("filtered on is_some");
            let iid = id();
            interventions.push(Intervention {
                id: iid.clone(),
                kind: Kind::DataPatch,
                benchmark: d.benchmark.clone(),
                slice: d.slice.clone(),
                summary: format!(
                    "{}: add about {} tokens of {} for `{}` ({}).",
                    d.benchmark,
                    human_tokens(patch.tokens),
                    patch.kind,
                    d.slice,
                    r.id
                ),
                evidence: d.evidence.clone(),
                mapped: Some(Mapped {
                    rules: vec![r.id.clone()],
                    rationale: vec![r.rationale.clone()],
                    weakness,
                    categories: r.then.iter().cloned().collect(),
                    corpus_domains: kt.corpus_domains.clone(),
                    operation_opportunities: kt.operation_opportunities.clone(),
                }),
                patch: Some(patch),
                training_fix: None,
                growth: None,
                hypothesis: Some(Hypothesis {
                    id: format!("H{}", &iid[1..]),
                    statement: statement("With the patch data in training"),
                    targets: vec![target.clone()],
                    guardrails: guards.clone(),
                }),
            });
        }
        if let Some(n) = needed.filter(|&n| n > d.evidence.items) {
            interventions.push(Intervention {
                id: id(),
                kind: Kind::EvalGrowth,
                benchmark: d.benchmark.clone(),
                slice: d.slice.clone(),
                summary: format!(
                    "{}: grow `{}` from {} to {} items to measure a {:.1}-point effect.",
                    d.benchmark,
                    d.slice,
                    d.evidence.items,
                    n,
                    100.0 * min_effect
                ),
                evidence: d.evidence.clone(),
                mapped: None,
                patch: None,
                training_fix: None,
                growth: Some(Growth {
                    items: d.evidence.items,
                    items_needed: n,
                    add: n - d.evidence.items,
                }),
                hypothesis: None,
            });
        }
    }

    let mixture = build_mixture(data, &upweight, s)?;
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        inputs,
        evaluation: Evaluation {
            baseline: ev.baseline.clone(),
            candidate: ev.candidate.clone(),
            verdict: ev.verdict.as_str().into(),
            reason: ev.reason.clone(),
        },
        settings: s.clone(),
        interventions,
        unmapped,
        not_acted,
        mixture,
        weakness: weakness::from_evidence(&ev.weakness, s),
    })
}

fn build_mixture(data: &DataTaxonomy, upweight: &[f64], s: &PlanSettings) -> Result<Mixture> {
    let budget = s.budget_tokens.unwrap_or(data.budget_tokens);
    let params = mixture::MixtureParams {
        lambda: s.lambda,
        max_upweight: s.max_upweight,
        floor: s.floor,
        max_epochs: s.max_epochs,
        budget_tokens: budget,
    };
    let cats: Vec<mixture::CategoryInput> = data
        .leaves
        .iter()
        .zip(upweight)
        .map(|(l, u)| mixture::CategoryInput {
            base_share: l.share,
            upweight: *u,
            tokens_available: l.tokens,
        })
        .collect();
    let solved = mixture::solve(&cats, &params).map_err(|e| {
        Error::usage(format!(
            "{}: the categories cannot supply {} tokens within {} epochs (at most {:.1}% of the budget): lower budget_tokens or raise max_epochs",
            data.file.display(),
            human_tokens(budget),
            s.max_epochs,
            100.0 * e.max_total
        ))
    })?;
    let categories: Vec<MixtureRow> = data
        .leaves
        .iter()
        .zip(upweight)
        .zip(&solved)
        .map(|((l, u), x)| MixtureRow {
            category: l.path.clone(),
            base_share: l.share,
            new_share: x.share,
            change: x.share - l.share,
            upweight: *u,
            base_tokens: (l.share * budget).round(),
            tokens: (x.share * budget).round(),
            tokens_available: l.tokens,
            epochs: if l.tokens > 0.0 {
                x.share * budget / l.tokens
            } else {
                0.0
            },
            bound: x.bound,
        })
        .collect();
    Ok(Mixture {
        data_taxonomy: data.name.clone(),
        budget_tokens: budget,
        changed: categories.iter().any(|c| c.new_share != c.base_share),
        categories,
    })
}
