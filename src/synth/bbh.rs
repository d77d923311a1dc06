//! Synthetic BIG-Bench Hard items in the lm-eval `bbh_cot_fewshot_*` doc
//! schema (`input`, `target`), with chain-of-thought responses that end in
//! "So the answer is X." as the real few-shot prompts teach.

use rand::Rng;

/// (subtask, answer options; empty = free integer answer).
pub const SUBTASKS: [(&str, &[&str]); 6] = [
    ("date_understanding", &["(A)", "(B)", "(C)", "(D)", "(E)", "(F)"]),
    ("boolean_expressions", &["True", "False"]),
    ("logical_deduction_three_objects", &["(A)", "(B)", "(C)"]),
    ("multistep_arithmetic_two", &[]),
    ("navigate", &["Yes", "No"]),
    ("causal_judgement", &["Yes", "No"]),
];

/// One item: its question, gold answer and a plausible wrong answer.
pub struct BbhItem {
    pub input: String,
    pub target: String,
    pub wrong: String,
}

fn question(subtask: &str, rng: &mut impl Rng) -> String {
    match subtask {
        "date_understanding" => {
            let d = rng.random_range(1..28);
            format!("Today is 3/{d}/2019. What is the date one week from today in MM/DD/YYYY?\nOptions:\n(A) 03/{:02}/2019\n(B) 04/{:02}/2019\n(C) 03/{:02}/2018", d + 7, d, d)
        }
        "boolean_expressions" => {
            let a = if rng.random_bool(0.5) { "True" } else { "False" };
            let b = if rng.random_bool(0.5) { "True" } else { "False" };
            format!("not ( {a} and not {b} ) or {a} is")
        }
        "logical_deduction_three_objects" => {
            let n = rng.random_range(1..1000);
            format!("On a shelf (#{n}) there are three books: a red book, a green book and a blue book. The red book is to the left of the green book. The blue book is the rightmost. Which book is second from the left?\nOptions:\n(A) The red book\n(B) The green book\n(C) The blue book")
        }
        "multistep_arithmetic_two" => {
            let a = rng.random_range(-9..10);
            let b = rng.random_range(-9..10);
            let c = rng.random_range(-9..10);
            format!("(({a} * {b}) - ({c} + {a})) =")
        }
        "navigate" => {
            let s = rng.random_range(1..10);
            format!("If you follow these instructions, do you return to the starting point? Take {s} steps. Turn around. Take {s} steps.\nOptions:\n- Yes\n- No")
        }
        _ => {
            let n = rng.random_range(1..1000);
            format!("How would a typical person answer each of the following questions about causation? Case {n}: a machine breaks after two workers press its button at once. Did the first worker cause it?\nOptions:\n- Yes\n- No")
        }
    }
}

pub fn item(subtask: &str, options: &[&str], rng: &mut impl Rng) -> BbhItem {
    let input = question(subtask, rng);
    let (target, wrong) = if options.is_empty() {
        let t = rng.random_range(-99..100);
        (t.to_string(), (t + rng.random_range(1..9)).to_string())
    } else {
        let t = rng.random_range(0..options.len());
        let w = (t + rng.random_range(1..options.len())) % options.len();
        (options[t].to_string(), options[w].to_string())
    };
    BbhItem { input, target, wrong }
}

/// The well-formed chain-of-thought response ending in `answer`.
pub fn response(input: &str, answer: &str) -> String {
    let first_line = input.lines().next().unwrap_or("");
    format!(
        "Let's think step by step.\nWe read the question: {}\nWe work through it carefully, one step at a time. So the answer is {answer}.",
        first_line.chars().take(80).collect::<String>()
    )
}

/// A response that does not stop after its answer: it starts a new
/// exemplar (whose own answer the extraction then takes) or repeats itself
/// until the generation limit.
pub fn runaway(
    own: &str,
    other_input: &str,
    other_answer: &str,
    max_chars: usize,
    rng: &mut impl Rng,
) -> String {
    let mut text = own.to_string();
    if rng.random_bool(0.5) {
        text.push_str("\n\nQ: ");
        text.push_str(other_input);
        text.push_str("\nA: ");
        text.push_str(&response(other_input, other_answer));
        text.truncate(text.floor_char_boundary(max_chars));
        text
    } else {
        // Loses the thread before answering and loops until the limit.
        let mut t = own.split(" So the answer is").next().unwrap_or(own).to_string();
        while t.len() < max_chars {
            t.push_str(" Let me check that step again.");
        }
        t.truncate(t.floor_char_boundary(max_chars));
        t
    }
}
