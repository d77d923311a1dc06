//! The one loader of settings files (`--settings` of compare, diagnose,
//! plan and verify, `caploop check`, and the stage sections of a pipeline
//! config): parsed once, then every value checked against its documented
//! range, all errors collected at `file:line:col`.
//!
//! A settings file has the sections of a pipeline config (`compare:`,
//! `diagnose:`, `plan:`); a file with none of them is read as a flat
//! `compare:` section, as `compare --settings` always accepted.
//!
//! Ranges (README, "Settings"): `confidence`, `fdr`, `power`,
//! `effect_of_interest` in (0, 1); `max_order` 1..=4; `min_items` >= 1;
//! every `pass_k` >= 1; diagnose shares and tolerances (`format_share_min`,
//! `recovery_min`, `format_rate_tolerance`, `format_health_max`, rule
//! `min_increase` and `min_template_share`, `targets`) in [0, 1];
//! `discovery.alpha` in (0, 1]; `discovery.min_support`, `max_level` and
//! `top_k` at least 1; `detectors.early_answer_fraction` in (0, 1], `chars_per_token` > 0;
//! every rescore pattern a valid regex; the plan ranges of
//! `PlanSettings::validate`. NaN is outside every range.

use std::path::Path;

use serde::Deserialize;

use crate::config::{ConfigError, ConfigErrors};
use crate::diagnose::DiagnoseSettings;
use crate::error::{Error, Result};
use crate::plan::PlanSettings;
use crate::slices::CompareSettings;

/// Every stage setting.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub compare: CompareSettings,
    pub diagnose: DiagnoseSettings,
    pub plan: PlanSettings,
}

const SECTIONS: &[&str] = &["compare", "diagnose", "plan"];

/// Does the YAML text have one of the stage sections at its top level?
fn has_sections(text: &str) -> bool {
    text.lines().any(|l| {
        SECTIONS.iter().any(|s| {
            l.strip_prefix(s)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    })
}

/// Load and check a settings file.
pub fn load(path: &Path) -> Result<Settings> {
    let text = crate::config::read_config_text(path)?;
    let settings = if has_sections(&text) || text.trim().is_empty() {
        crate::config::parse_yaml::<Settings>(path, &text)?
    } else {
        Settings {
            compare: crate::config::parse_yaml::<CompareSettings>(path, &text)?,
            ..Settings::default()
        }
    };
    let flat = !has_sections(&text);
    let errors = check(path, &text, &settings, flat);
    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(Error::Config(ConfigErrors(errors)))
    }
}

/// `filters:` errors of the slice stage ([`Error::Filters`]) located in the
/// settings file (or pipeline config) they came from: `file:line:col` of
/// each task's entry, with the line. Any other error passes unchanged.
pub fn locate_filters(path: &Path, err: Error) -> Error {
    let Error::Filters(problems) = err else {
        return err;
    };
    let text = crate::config::read_config_text(path).unwrap_or_default();
    let section: &[&str] = if has_sections(&text) {
        &["compare", "filters"]
    } else {
        &["filters"]
    };
    let errors = problems
        .into_iter()
        .map(|(task, message)| {
            let mut keys = section.to_vec();
            keys.push(task.as_str());
            // A flow mapping (`filters: {gsm8k: x}`) is found by its key.
            let (line, col) = match locate(&text, &keys) {
                (0, _) => locate(&text, section),
                at => at,
            };
            let excerpt = crate::config::excerpt(&text, crate::config::Pos { line, col });
            ConfigError {
                file: path.to_path_buf(),
                line,
                col,
                message,
                excerpt,
            }
        })
        .collect();
    Error::Config(ConfigErrors(errors))
}

/// Line and column of a nested key (`["compare", "fdr"]`) in YAML text,
/// found by indentation; (0, 0) when not found (a default value).
pub fn locate(text: &str, keys: &[&str]) -> (usize, usize) {
    let mut want = 0;
    let mut indent: Option<usize> = None;
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start();
        let ind = line.len() - body.len();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if let Some(d) = indent {
            if ind <= d {
                return (0, 0); // left the section of the last key found
            }
        } else if ind > 0 {
            continue;
        }
        let is_key = body
            .strip_prefix(keys[want])
            .is_some_and(|r| r.trim_start().starts_with(':'));
        if is_key {
            want += 1;
            if want == keys.len() {
                return (i + 1, ind + 1);
            }
            indent = Some(ind);
        }
    }
    (0, 0)
}

fn check(path: &Path, text: &str, s: &Settings, flat: bool) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    let mut bad = |keys: &[&str], ok: bool, value: String, want: &str| {
        if ok {
            return;
        }
        let keys: Vec<&str> = if flat && keys.first() == Some(&"compare") {
            keys[1..].to_vec()
        } else {
            keys.to_vec()
        };
        // A flow mapping (`compare: { fdr: 7 }`) is found by its section.
        let (line, col) = match locate(text, &keys) {
            (0, _) => locate(text, &keys[..1]),
            at => at,
        };
        let excerpt = crate::config::excerpt(text, crate::config::Pos { line, col });
        errors.push(ConfigError {
            file: path.to_path_buf(),
            line,
            col,
            message: format!("`{}` is {value}; it must be {want}", keys.join(".")),
            excerpt,
        });
    };
    let open01 = |x: f64| x > 0.0 && x < 1.0;
    let closed01 = |x: f64| (0.0..=1.0).contains(&x);
    let c = &s.compare;
    bad(
        &["compare", "confidence"],
        open01(c.confidence),
        c.confidence.to_string(),
        "in (0, 1), e.g. 0.95",
    );
    bad(
        &["compare", "fdr"],
        open01(c.fdr),
        c.fdr.to_string(),
        "in (0, 1), e.g. 0.05",
    );
    bad(
        &["compare", "power"],
        open01(c.power),
        c.power.to_string(),
        "in (0, 1), e.g. 0.8",
    );
    bad(
        &["compare", "effect_of_interest"],
        open01(c.effect_of_interest),
        c.effect_of_interest.to_string(),
        "in (0, 1), e.g. 0.05",
    );
    bad(
        &["compare", "max_order"],
        (1..=4).contains(&c.max_order),
        c.max_order.to_string(),
        "between 1 and 4 (the number of slices grows as the number of tags to this power)",
    );
    bad(
        &["compare", "min_items"],
        c.min_items >= 1,
        c.min_items.to_string(),
        "at least 1",
    );
    for k in &c.pass_k {
        bad(
            &["compare", "pass_k"],
            *k >= 1,
            k.to_string(),
            "at least 1 (pass@k needs k >= 1)",
        );
    }
    let d = &s.diagnose;
    for (key, v) in [
        ("format_share_min", d.format_share_min),
        ("recovery_min", d.recovery_min),
        ("format_rate_tolerance", d.format_rate_tolerance),
        ("format_health_max", d.format_health_max),
    ] {
        bad(
            &["diagnose", key],
            closed01(v),
            v.to_string(),
            "a share in [0, 1]",
        );
    }
    let disc = &d.discovery;
    bad(
        &["diagnose", "discovery", "alpha"],
        disc.alpha > 0.0 && disc.alpha <= 1.0,
        disc.alpha.to_string(),
        "in (0, 1], e.g. 0.95",
    );
    for (key, v) in [
        ("min_support", disc.min_support),
        ("max_level", disc.max_level),
        ("top_k", disc.top_k),
    ] {
        bad(
            &["diagnose", "discovery", key],
            v >= 1,
            v.to_string(),
            "at least 1",
        );
    }
    let det = &d.detectors;
    bad(
        &["diagnose", "detectors", "early_answer_fraction"],
        det.early_answer_fraction > 0.0 && det.early_answer_fraction <= 1.0,
        det.early_answer_fraction.to_string(),
        "in (0, 1]",
    );
    bad(
        &["diagnose", "detectors", "chars_per_token"],
        det.chars_per_token > 0.0 && det.chars_per_token.is_finite(),
        det.chars_per_token.to_string(),
        "a positive number",
    );
    for r in &d.rules {
        bad(
            &["diagnose", "rules", "min_increase"],
            closed01(r.min_increase),
            format!("{} in rule '{}'", r.min_increase, r.id),
            "a share in [0, 1]",
        );
        if let Some(t) = r.min_template_share {
            bad(
                &["diagnose", "rules", "min_template_share"],
                closed01(t),
                format!("{t} in rule '{}'", r.id),
                "a share in [0, 1]",
            );
        }
    }
    for (bench, t) in &d.targets {
        bad(
            &["diagnose", "targets", bench],
            closed01(*t),
            t.to_string(),
            "a mean score in [0, 1]",
        );
    }
    for (family, pats) in &d.rescore_patterns {
        for p in pats {
            if let Err(e) = regex::Regex::new(p) {
                let first = e.to_string().lines().last().unwrap_or("").trim().to_string();
                bad(
                    &["diagnose", "rescore_patterns", family],
                    false,
                    format!("the pattern {p:?}, which is not a valid regex ({first})"),
                    "a valid regular expression",
                );
            }
        }
    }
    if let Err(e) = s.plan.validate() {
        for m in e.to_string().split("; ") {
            let key = m.split('`').nth(1).map(str::to_string).unwrap_or_default();
            let (line, col) = locate(text, &["plan", &key]);
            errors.push(ConfigError {
                file: path.to_path_buf(),
                line,
                col,
                message: m.to_string(),
                excerpt: String::new(),
            });
        }
    }
    errors.sort_by_key(|e| (e.line, e.col));
    errors
}

/// Check the stage sections of an already parsed pipeline config.
pub fn check_sections(path: &Path, text: &str, s: &Settings) -> Result<()> {
    let errors = check(path, text, s, false);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(ConfigErrors(errors)))
    }
}
