//! Format-tolerant re-scoring: take the first complete answer in the raw
//! response (configurable patterns per benchmark, first capture group) and
//! compare it with the target. A model that answered right and then kept
//! talking is right again here; one that reasoned wrong stays wrong.

use std::collections::BTreeMap;

use regex::Regex;

use crate::error::Result;

/// Default answer patterns per benchmark family; `*` applies to the rest.
pub fn default_patterns() -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    m.insert(
        "bbh".to_string(),
        vec![
            r"(?i)the answer is\s*(\([A-Z]\)|[A-Za-z]+|-?\d+)".to_string(),
            // Zero-shot answers that start with the option: `(E) ...`.
            r"\A\s*(\([A-Z]\))".to_string(),
        ],
    );
    // MMLU-Pro: `The answer is (X)`, or a letter alone on a line.
    let mc = vec![
        r"answer is \(?([A-J])\)?".to_string(),
        r"(?m)^\s*\(?([A-J])\)?\s*$".to_string(),
    ];
    m.insert("mmlu_pro".to_string(), mc.clone());
    m.insert("mmlu_pro_plus".to_string(), mc);
    m.insert(
        "gsm8k".to_string(),
        vec![
            r"####\s*(-?[\d,]*\.?\d+)".to_string(),
            r"(?i)the answer is\s*\$?(-?[\d,]*\.?\d+)".to_string(),
        ],
    );
    m.insert(
        "math".to_string(),
        vec![
            r"\\boxed\{([^{}]*)\}".to_string(),
            r"(?i)final answer is\s*\$?([^$\s]+?)\$?\.?(\s|$)".to_string(),
        ],
    );
    m.insert(
        "*".to_string(),
        vec![r"(?i)the answer is\s*([^\n]+?)\.?(\n|$)".to_string()],
    );
    m
}

/// Compiled patterns.
pub struct Rescorer {
    patterns: BTreeMap<String, Vec<Regex>>,
}

/// Normalise an answer for comparison: trim, drop a trailing period, `$`
/// signs and thousands separators, and surrounding parentheses.
pub fn normalize(answer: &str) -> String {
    let mut a = answer.trim().trim_end_matches('.').replace('$', "");
    if a.chars().any(|c| c.is_ascii_digit()) && a.chars().all(|c| c.is_ascii_digit() || ",.-".contains(c)) {
        a = a.replace(',', "");
    }
    let t = a.trim();
    let t = t.strip_prefix('(').and_then(|x| x.strip_suffix(')')).unwrap_or(t);
    t.trim().to_string()
}

/// The answer part of a target: GSM8K targets hold the whole solution
/// ending in `#### <answer>`.
pub fn target_answer(target: &str) -> &str {
    match target.rsplit_once("####") {
        Some((_, a)) => a.trim(),
        None => target.trim(),
    }
}

impl Rescorer {
    pub fn new(patterns: &BTreeMap<String, Vec<String>>) -> Result<Rescorer> {
        let mut out = BTreeMap::new();
        for (b, ps) in patterns {
            let compiled = ps
                .iter()
                .map(|p| super::failure::compile(p))
                .collect::<Result<Vec<_>>>()?;
            out.insert(b.clone(), compiled);
        }
        Ok(Rescorer { patterns: out })
    }

    fn for_benchmark(&self, benchmark: &str) -> &[Regex] {
        self.patterns
            .get(benchmark)
            .or_else(|| self.patterns.get("*"))
            .map_or(&[], Vec::as_slice)
    }

    /// The first complete answer: (answer, byte offset where it ends).
    ///
    /// The patterns' matches are found first (a DFA search, several times
    /// cheaper than one for capture groups), and groups are resolved only for
    /// the earliest-ending match: the one that wins unless its group did not
    /// take part, then the next.
    pub fn first_answer<'a>(&self, benchmark: &str, response: &'a str) -> Option<(&'a str, usize)> {
        let patterns = self.for_benchmark(benchmark);
        if let [re] = patterns {
            // One pattern: its leftmost match is the earliest-ending one, and
            // the captures search finds it (no search for its end first).
            let c = re.captures(response)?;
            let end = c.get(0)?.end();
            return Some((c.get(1)?.as_str(), end));
        }
        let mut ends: Vec<(usize, usize)> = patterns
            .iter()
            .enumerate()
            .filter_map(|(k, re)| re.find(response).map(|m| (m.end(), k)))
            .collect();
        ends.sort_unstable();
        ends.into_iter().find_map(|(end, k)| {
            let g = patterns[k].captures(response)?.get(1)?;
            Some((g.as_str(), end))
        })
    }

    /// Is the first complete answer right? `None` when no pattern finds one.
    pub fn rescore(&self, benchmark: &str, response: &str, target: &str) -> Option<bool> {
        self.first_answer(benchmark, response)
            .map(|(a, _)| normalize(a) == normalize(target_answer(target)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_answer_counts_not_the_run_on() {
        let r = Rescorer::new(&default_patterns()).unwrap();
        let text = "Step one. So the answer is (B).\n\nQ: another\nA: So the answer is (D).";
        assert_eq!(r.first_answer("bbh", text).map(|a| a.0), Some("(B)"));
        assert_eq!(r.rescore("bbh", text, "(B)"), Some(true));
        assert_eq!(r.rescore("bbh", "no answer here", "(B)"), None);
    }

    #[test]
    fn the_earliest_ending_match_wins_unless_its_group_is_absent() {
        let mut p = BTreeMap::new();
        p.insert(
            "*".to_string(),
            vec![r"answer: (\d+)".to_string(), r"(?:x|(y))=".to_string()],
        );
        let r = Rescorer::new(&p).unwrap();
        // The second pattern ends first, but without its group: the first answers.
        assert_eq!(r.first_answer("b", "x= then answer: 7"), Some(("7", 17)));
        assert_eq!(r.first_answer("b", "y= then answer: 7"), Some(("y", 2)));
        assert_eq!(r.first_answer("b", "answer: 7, y="), Some(("7", 9)));
        assert_eq!(r.first_answer("b", "nothing"), None);
        // One pattern alone: its leftmost match, where its group takes part.
        for (b, text, want) in [
            ("b", "answer: 7 and answer: 8", Some(("7", 9))),
            ("c", "x= then y=", None),
            ("c", "y= then x=", Some(("y", 2))),
        ] {
            let mut p = BTreeMap::new();
            p.insert("b".to_string(), vec![r"answer: (\d+)".to_string()]);
            p.insert("c".to_string(), vec![r"(?:x|(y))=".to_string()]);
            let r = Rescorer::new(&p).unwrap();
            assert_eq!(r.first_answer(b, text), want, "{text}");
        }
    }

    #[test]
    fn gsm8k_targets_and_numbers_normalise() {
        let r = Rescorer::new(&default_patterns()).unwrap();
        assert_eq!(target_answer("Janet sells ... \n#### 1,800"), "1,800");
        assert_eq!(
            r.rescore(
                "gsm8k",
                "so she pays $1,800. #### 1800\n\nQuestion: x",
                "... #### 1,800"
            ),
            Some(true)
        );
        assert_eq!(normalize(" (A). "), "A");
        assert_eq!(normalize("$18"), "18");
    }

    #[test]
    fn math_final_answers_are_found() {
        let r = Rescorer::new(&default_patterns()).unwrap();
        let text = "We compute. Final Answer: The final answer is 17. I hope it is correct.";
        assert_eq!(r.rescore("math", text, "17"), Some(true));
        assert_eq!(r.rescore("math", "so \\boxed{4} done", "4"), Some(true));
    }
}
