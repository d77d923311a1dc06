//! Synthetic evaluations with planted effects, deterministic by seed: the
//! demo's input, the tests' ground truth, the benchmarks' load.
//!
//! Two checkpoints are written in the lm-evaluation-harness layout (one
//! sample per item) or, with several samples per item, as generic JSONL.
//! Scenarios:
//! - `eos`: BBH; the candidate keeps its reasoning but often does not stop,
//!   so answers are extracted from run-on text (or never reached).
//! - `ops`: MATH; the candidate is weaker only on items combining counting
//!   and modular arithmetic.
//! - `null`: both families, outcomes redrawn at the same per-item rates.
//! - `demo`: BBH with the `eos` effect and MATH with the `ops` effect.
//! - `mixed`: BBH; the candidate reasons better (+0.2 success probability) but
//!   runs on in 40% of samples: a net drop that format failures explain while
//!   most flipped items flip for content reasons.
//!
//! `planted.json` records what was planted.

mod bbh;
pub mod corpus;
mod math;
mod write;

use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use write::{Sample, Writers};

/// A named scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Eos,
    Ops,
    Null,
    Demo,
    /// `eos` where the candidate also gains on content: fewer run-ons, more
    /// right answers among the well-formed, still a net drop.
    Mixed,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub scenario: Scenario,
    /// Items per benchmark family.
    pub items: usize,
    /// Samples per item and run.
    pub samples: u32,
    pub seed: u64,
    pub out: PathBuf,
    /// Change in success probability on the planted `ops` combination
    /// (default -0.35); 0 plants nothing there.
    pub effect: Option<f64>,
    /// Also write two later checkpoints for `verify`: [`AFTER_FIXED`], where
    /// the planted weakness is fixed (and a collateral regression is
    /// planted on `operation=sequences`), and [`AFTER_UNFIXED`], where nothing changed.
    pub after: bool,
}

/// The planted truth, written as `planted.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planted {
    pub scenario: Scenario,
    pub seed: u64,
    pub items: usize,
    pub samples: u32,
    pub baseline: String,
    pub candidate: String,
    /// The later checkpoints, when asked for: (run, what it is).
    pub after: Vec<(String, String)>,
    pub effects: Vec<Effect>,
    /// Where the logs are: an lm-eval folder, or a generic JSONL file.
    pub logs: String,
}

/// One planted effect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub benchmark: String,
    /// `none`, `eos` or `ops`.
    pub kind: String,
    /// The slice the effect lives in (`*` for a benchmark-wide one).
    pub slice: String,
    /// Change in the per-sample success probability on that slice.
    pub delta: f64,
    pub runaway_rate: f64,
}

pub const BASELINE: &str = "ckpt-1000";
pub const CANDIDATE: &str = "ckpt-2000";
/// The `after` run where the planted weaknesses are fixed.
pub const AFTER_FIXED: &str = "ckpt-3000-fixed";
/// The `after` run where they are not.
pub const AFTER_UNFIXED: &str = "ckpt-3000-unfixed";
/// The collateral regression of [`AFTER_FIXED`]: a MATH operation outside
/// the planted combination, and its change in success probability.
pub const COLLATERAL_OP: &str = "sequences";
const COLLATERAL_DELTA: f64 = -0.3;
/// The planted weak combination of the `ops` scenario.
pub const PLANTED_OPS: [&str; 2] = ["counting", "modular_arithmetic"];
const OPS_DELTA: f64 = -0.35;
const RUNAWAY_RATE: f64 = 0.55;
const BBH_MAX_TOKS: u32 = 256;

/// An independent stream per (family, item): items can be generated in any
/// order, and a larger `--items` extends a scenario without changing the
/// items it already had.
fn rng_for(seed: u64, family: u64, item: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream((family << 48) | item);
    r
}

/// Base success probability of an item: by difficulty level, with jitter.
fn base_rate(level: u32, rng: &mut impl Rng) -> f64 {
    let by_level: [f64; 5] = [0.85, 0.75, 0.62, 0.5, 0.38];
    (by_level[(level as usize - 1).min(4)] + rng.random_range(-0.1f64..0.1)).clamp(0.02, 0.98)
}

fn gen_math(opts: &SynthOptions, planted: bool, w: &mut Writers) -> Result<()> {
    for i in 0..opts.items {
        let mut rng = rng_for(opts.seed, 1, i as u64);
        // A tenth of the items combine the two planted operations, so the
        // planted slice is measurable at moderate sizes.
        let ops: Vec<&'static str> = if rng.random_bool(0.1) {
            if rng.random_bool(0.5) {
                vec![PLANTED_OPS[0], PLANTED_OPS[1]]
            } else {
                vec![PLANTED_OPS[1], PLANTED_OPS[0]]
            }
        } else if rng.random_bool(0.45) {
            vec![math::OPS[rng.random_range(0..math::OPS.len())]]
        } else {
            let a = rng.random_range(0..math::OPS.len());
            let b = (a + rng.random_range(1..math::OPS.len())) % math::OPS.len();
            vec![math::OPS[a], math::OPS[b]]
        };
        let p = math::problem(&ops, &mut rng);
        let level = rng.random_range(1..=5u32);
        let (sub, typ) = math::subject(ops[0]);
        let task = format!("minerva_math_{sub}");
        let p_base = base_rate(level, &mut rng);
        let hit = planted && PLANTED_OPS.iter().all(|o| ops.contains(o));
        let delta = opts.effect.unwrap_or(OPS_DELTA);
        let p_cand = if hit {
            (p_base + delta).clamp(0.01, 0.99)
        } else {
            p_base
        };
        let answer = p.answer.to_string();
        let doc = serde_json::json!({
            "problem": p.text,
            "level": format!("Level {level}"),
            "type": typ,
            "solution": format!("Working step by step gives $\\boxed{{{answer}}}$."),
            "answer": answer,
        });
        let prompt = format!("Problem:\n{}\n\nSolution:", p.text);
        let p_fixed = if ops.contains(&COLLATERAL_OP) {
            (p_base + COLLATERAL_DELTA).clamp(0.01, 0.99)
        } else {
            p_base
        };
        let runs: &[(usize, f64)] = if opts.after {
            &[(0, p_base), (1, p_cand), (2, p_fixed), (3, p_cand)]
        } else {
            &[(0, p_base), (1, p_cand)]
        };
        for &(run, rate) in runs {
            for k in 0..opts.samples {
                let ok = rng.random_bool(rate);
                let given = if ok {
                    answer.clone()
                } else {
                    (p.answer + rng.random_range(1..20)).to_string()
                };
                let response = format!(
                    "We compute step by step. Final Answer: The final answer is {given}. I hope it is correct."
                );
                w.write(
                    run,
                    &Sample {
                        benchmark: "math",
                        task: &task,
                        doc_id: i,
                        doc: &doc,
                        prompt: &prompt,
                        target: &answer,
                        response: &response,
                        extracted: &given,
                        filter: "none",
                        sample_idx: k,
                        correct: ok,
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// The candidate's BBH behaviour: runaway rate and content gain.
#[derive(Clone, Copy)]
struct BbhEffect {
    runaway: f64,
    content_gain: f64,
}

fn gen_bbh(opts: &SynthOptions, effect: BbhEffect, w: &mut Writers) -> Result<()> {
    let max_chars = BBH_MAX_TOKS as usize * 4;
    for i in 0..opts.items {
        let mut rng = rng_for(opts.seed, 2, i as u64);
        let (sub, options) = bbh::SUBTASKS[i % bbh::SUBTASKS.len()];
        let it = bbh::item(sub, options, &mut rng);
        let other = bbh::item(sub, options, &mut rng);
        let level = rng.random_range(1..=5u32);
        let p = base_rate(level, &mut rng);
        let task = format!("bbh_cot_fewshot_{sub}");
        let doc = serde_json::json!({"input": it.input, "target": it.target});
        let prompt = format!(
            "Q: {}\nA: {}\n\nQ: {}\nA: Let's think step by step.",
            other.input,
            bbh::response(&other.input, &other.target),
            it.input
        );
        let runs: &[usize] = if opts.after { &[0, 1, 2, 3] } else { &[0, 1] };
        for &run in runs {
            // The fixed `after` run (2) behaves like the baseline; the unfixed
            // one (3) like the candidate.
            let like_candidate = run == 1 || run == 3;
            for k in 0..opts.samples {
                let rate = if like_candidate {
                    (p + effect.content_gain).min(0.99)
                } else {
                    p
                };
                let reasoned_right = rng.random_bool(rate);
                let own = if reasoned_right { &it.target } else { &it.wrong };
                let mut response = bbh::response(&it.input, own);
                if like_candidate && effect.runaway > 0.0 && rng.random_bool(effect.runaway) {
                    let other_answer = if rng.random_bool(0.5) {
                        &other.target
                    } else {
                        &other.wrong
                    };
                    response = bbh::runaway(&response, &other.input, other_answer, max_chars, &mut rng);
                }
                let extracted = response
                    .rmatch_indices("the answer is ")
                    .next()
                    .and_then(|(at, m)| response[at + m.len()..].split(".\n").next())
                    .map(|s| s.trim_end_matches('.').to_string())
                    .unwrap_or_else(|| "[invalid]".to_string());
                let correct = extracted == it.target;
                w.write(
                    run,
                    &Sample {
                        benchmark: "bbh",
                        task: &task,
                        doc_id: i / bbh::SUBTASKS.len(),
                        doc: &doc,
                        prompt: &prompt,
                        target: &it.target,
                        response: &response,
                        extracted: &extracted,
                        filter: "get-answer",
                        sample_idx: k,
                        correct,
                    },
                )?;
            }
        }
    }
    Ok(())
}

/// Generate a scenario into `opts.out`.
pub fn generate(opts: &SynthOptions) -> Result<Planted> {
    if opts.items == 0 || opts.samples == 0 {
        return Err(Error::usage("synth needs --items >= 1 and --samples >= 1"));
    }
    crate::error::create_dir(&opts.out)?;
    let eos = BbhEffect {
        runaway: RUNAWAY_RATE,
        content_gain: 0.0,
    };
    let none = BbhEffect {
        runaway: 0.0,
        content_gain: 0.0,
    };
    let mixed = BbhEffect {
        runaway: 0.4,
        content_gain: 0.2,
    };
    let (bbh_effect, math_effect) = match opts.scenario {
        Scenario::Eos => (Some(eos), None),
        Scenario::Ops => (None, Some(true)),
        Scenario::Null => (Some(none), Some(false)),
        Scenario::Demo => (Some(eos), Some(true)),
        Scenario::Mixed => (Some(mixed), None),
    };
    let runs: &[&str] = if opts.after {
        &[BASELINE, CANDIDATE, AFTER_FIXED, AFTER_UNFIXED]
    } else {
        &[BASELINE, CANDIDATE]
    };
    let mut w = Writers::new(&opts.out, opts.samples > 1, runs, BBH_MAX_TOKS)?;
    let mut effects = Vec::new();
    if let Some(effect) = bbh_effect {
        gen_bbh(opts, effect, &mut w)?;
        effects.push(Effect {
            benchmark: "bbh".into(),
            kind: match opts.scenario {
                Scenario::Null => "none",
                Scenario::Mixed => "eos_with_content_gain",
                _ => "eos",
            }
            .into(),
            slice: "*".into(),
            delta: effect.content_gain,
            runaway_rate: effect.runaway,
        });
    }
    if let Some(planted) = math_effect {
        gen_math(opts, planted, &mut w)?;
        effects.push(Effect {
            benchmark: "math".into(),
            kind: if planted { "ops" } else { "none" }.into(),
            slice: if planted {
                format!("operation={} & operation={}", PLANTED_OPS[0], PLANTED_OPS[1])
            } else {
                "*".into()
            },
            delta: if planted {
                opts.effect.unwrap_or(OPS_DELTA)
            } else {
                0.0
            },
            runaway_rate: 0.0,
        });
    }
    let logs = w.finish()?;
    let planted = Planted {
        scenario: opts.scenario,
        seed: opts.seed,
        items: opts.items,
        samples: opts.samples,
        baseline: BASELINE.into(),
        candidate: CANDIDATE.into(),
        after: if opts.after {
            vec![
                (
                    AFTER_FIXED.into(),
                    format!(
                        "planted weaknesses fixed (back to the baseline); collateral regression of {COLLATERAL_DELTA} on math operation={COLLATERAL_OP}"
                    ),
                ),
                (AFTER_UNFIXED.into(), "nothing fixed: behaves like the candidate".into()),
            ]
        } else {
            Vec::new()
        },
        effects,
        logs: logs.display().to_string(),
    };
    crate::slices::write::write_json(&opts.out.join("planted.json"), &planted)?;
    Ok(planted)
}

/// The folder or file `generate` wrote the logs to.
pub fn logs_path(out: &Path, samples: u32) -> PathBuf {
    write::logs_path(out, samples > 1)
}
