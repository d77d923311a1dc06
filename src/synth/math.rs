//! Synthetic competition-math items in the MATH / minerva_math doc schema
//! (`problem`, `level`, `type`, `solution`, `answer`), one or two solving
//! operations each. The problem text names its operations in ordinary words
//! ("remainder", "how many"), so the shipped taxonomy's regex rules tag them
//! as they would tag real items; answers are computed, not made up.

use rand::Rng;

/// Solving operations the generator composes.
pub const OPS: [&str; 7] = [
    "modular_arithmetic",
    "counting",
    "probability",
    "linear_equation",
    "geometry_computation",
    "sequences",
    "ratio",
];

/// (minerva_math subtask, MATH `type`) of an item whose first operation is `op`.
pub fn subject(op: &str) -> (&'static str, &'static str) {
    match op {
        "modular_arithmetic" => ("number_theory", "Number Theory"),
        "counting" | "probability" => ("counting_and_prob", "Counting & Probability"),
        "linear_equation" => ("algebra", "Algebra"),
        "geometry_computation" => ("geometry", "Geometry"),
        "sequences" => ("intermediate_algebra", "Intermediate Algebra"),
        _ => ("prealgebra", "Prealgebra"),
    }
}

/// A quantity `N` defined by one operation: (phrase, value).
fn define(op: &str, rng: &mut impl Rng) -> (String, i64) {
    match op {
        "modular_arithmetic" => {
            let a = rng.random_range(100..10_000i64);
            let b = rng.random_range(3..30i64);
            (format!("the remainder when {a} is divided by {b}"), a % b)
        }
        "counting" => {
            let n = rng.random_range(3..8i64);
            (
                format!("the number of ways to arrange {n} distinct books on a shelf"),
                (1..=n).product(),
            )
        }
        "probability" => {
            let n = rng.random_range(2..12i64) * 2;
            (
                format!("100 times the probability that a fair die numbered 1 to {n} shows an even number"),
                50,
            )
        }
        "linear_equation" => {
            let x = rng.random_range(2..40i64);
            let a = rng.random_range(2..9i64);
            let b = rng.random_range(1..50i64);
            (
                format!("the value of x that solves {a}x + {b} = {}", a * x + b),
                x,
            )
        }
        "geometry_computation" => {
            let base = rng.random_range(2..30i64) * 2;
            let h = rng.random_range(2..30i64);
            (
                format!("the area of a triangle with base {base} and height {h}"),
                base * h / 2,
            )
        }
        "sequences" => {
            let a = rng.random_range(1..20i64);
            let d = rng.random_range(2..9i64);
            let n = rng.random_range(5..30i64);
            (
                format!(
                    "the {n}th term of the arithmetic sequence {a}, {}, {}, ...",
                    a + d,
                    a + 2 * d
                ),
                a + (n - 1) * d,
            )
        }
        _ => {
            let k = rng.random_range(2..9i64);
            let b = rng.random_range(2..20i64);
            (format!("the ratio of {} to {b}", k * b), k)
        }
    }
}

/// A question about `N` asked with one operation: (question, answer).
fn ask(op: &str, n: i64, rng: &mut impl Rng) -> (String, i64) {
    let n = n.max(1);
    match op {
        "modular_arithmetic" => {
            let m = rng.random_range(3..13i64);
            (format!("What is the remainder when N is divided by {m}?"), n % m)
        }
        "counting" => (
            "How many positive integers less than or equal to N are multiples of 3?".to_string(),
            n / 3,
        ),
        "probability" => (
            "What is the probability, as a percent, that a random integer from 1 to 2N is at most N?"
                .to_string(),
            50,
        ),
        "linear_equation" => {
            let b = rng.random_range(1..50i64);
            (format!("Solve for x: x - {b} = N."), n + b)
        }
        "geometry_computation" => (
            "What is the area of a square with side length N?".to_string(),
            n * n,
        ),
        "sequences" => (
            "What is the N-th term of the arithmetic sequence 3, 7, 11, ...?".to_string(),
            3 + (n - 1) * 4,
        ),
        _ => ("What is the ratio of 4N to N?".to_string(), 4),
    }
}

/// One generated problem.
pub struct Problem {
    pub text: String,
    pub answer: i64,
}

/// A problem using `ops` (one or two operations).
pub fn problem(ops: &[&'static str], rng: &mut impl Rng) -> Problem {
    let (text, answer) = match ops {
        [one] => {
            let (phrase, value) = define(one, rng);
            (format!("What is {phrase}?"), value)
        }
        [first, second, ..] => {
            let (phrase, value) = define(first, rng);
            let (question, answer) = ask(second, value, rng);
            (format!("Let N be {phrase}. {question}"), answer)
        }
        [] => ("What is 1 + 1?".to_string(), 2),
    };
    Problem { text, answer }
}
