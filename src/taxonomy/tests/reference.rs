//! The prefiltered matcher against a naive reference that compiles every
//! glob and regex on its own and runs each one on every text.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use super::super::*;
use super::item;

/// A small deterministic generator (xorshift64*), enough for test inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const WORDS: &[&str] = &[
    "apple",
    "Apple",
    "pear",
    "mod",
    "modulo",
    "remainder",
    "kilo",
    "\u{212A}ilo",
    "ratio",
    "ſum",
    "SUM",
    "color",
    "colour",
    "x",
    "42",
    "a-b",
    "été",
    "ÉTÉ",
];

fn random_regex(rng: &mut Rng) -> String {
    let w = |rng: &mut Rng| regex::escape(&rng.pick(WORDS).to_lowercase());
    let piece = |rng: &mut Rng| -> String {
        match rng.below(12) {
            0 => format!(r"\b{}\b", w(rng)),
            1 => w(rng),
            2 => format!("(?i){}", w(rng)),
            3 => format!("(?i:{}|{})", w(rng), w(rng)),
            4 => format!("{}|{}", w(rng), w(rng)),
            5 => format!(r"\b{}\b.*\b{}\b", w(rng), w(rng)),
            6 => format!("({})+s?", w(rng)),
            7 => "colou?r".to_owned(),
            8 => r"\d+".to_owned(),
            9 => format!("[a-c]{}", w(rng)),
            10 => format!("^{}", w(rng)),
            _ => format!("(?i)[ks]{}", w(rng)),
        }
    };
    match rng.below(4) {
        0 => format!("{}.*{}", piece(rng), piece(rng)),
        1 => format!("(?:{})|(?:{})", piece(rng), piece(rng)),
        _ => piece(rng),
    }
}

fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(8);
    let mut words: Vec<String> = (0..n).map(|_| rng.pick(WORDS).to_string()).collect();
    if rng.chance(20) {
        words.push(rng.pick(WORDS).to_uppercase());
    }
    // Newlines too: `.` stops at one, so a word pair across lines must not
    // match while another pair on one line may.
    let sep = [" ", ",", "\n", " \n "][rng.below(4)];
    words.join(sep)
}

#[derive(Debug, Clone)]
struct Cond {
    benchmark: Option<Vec<String>>,
    task: Option<Vec<String>>,
    meta: Vec<(String, Vec<String>)>,
    meta_regex: Vec<(String, String)>,
    prompt_regex: Option<String>,
    target_regex: Option<String>,
}

fn random_cond(rng: &mut Rng) -> Cond {
    loop {
        let globs = |rng: &mut Rng| {
            let all = ["b*", "bench1", "{b1,c1}", "c?", "*", "z"];
            (0..1 + rng.below(2))
                .map(|_| rng.pick(&all).to_string())
                .collect::<Vec<_>>()
        };
        let fields = ["topic", "tags", "gold.kind", "level", "steps.op"];
        let c = Cond {
            benchmark: rng.chance(40).then(|| globs(rng)),
            task: rng.chance(20).then(|| globs(rng)),
            meta: if rng.chance(30) {
                vec![(
                    rng.pick(&fields).to_string(),
                    vec![rng.pick(&["apple", "*o*", "3", "true", "[ab]*"]).to_string()],
                )]
            } else {
                Vec::new()
            },
            meta_regex: if rng.chance(30) {
                vec![(rng.pick(&fields).to_string(), random_regex(rng))]
            } else {
                Vec::new()
            },
            prompt_regex: rng.chance(60).then(|| random_regex(rng)),
            target_regex: rng.chance(30).then(|| random_regex(rng)),
        };
        let empty = c.benchmark.is_none()
            && c.task.is_none()
            && c.meta.is_empty()
            && c.meta_regex.is_empty()
            && c.prompt_regex.is_none()
            && c.target_regex.is_none();
        if !empty {
            return c;
        }
    }
}

fn yaml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect();
    format!("[{}]", quoted.join(", "))
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn cond_yaml(c: &Cond) -> String {
    let mut parts = Vec::new();
    if let Some(g) = &c.benchmark {
        parts.push(format!("benchmark: {}", yaml_list(g)));
    }
    if let Some(g) = &c.task {
        parts.push(format!("task: {}", yaml_list(g)));
    }
    if !c.meta.is_empty() {
        let m: Vec<String> = c
            .meta
            .iter()
            .map(|(f, g)| format!("{f}: {}", yaml_list(g)))
            .collect();
        parts.push(format!("meta: {{ {} }}", m.join(", ")));
    }
    if !c.meta_regex.is_empty() {
        let m: Vec<String> = c
            .meta_regex
            .iter()
            .map(|(f, r)| format!("{f}: {}", q(r)))
            .collect();
        parts.push(format!("meta_regex: {{ {} }}", m.join(", ")));
    }
    if let Some(r) = &c.prompt_regex {
        parts.push(format!("prompt_regex: {}", q(r)));
    }
    if let Some(r) = &c.target_regex {
        parts.push(format!("target_regex: {}", q(r)));
    }
    format!("{{ {} }}", parts.join(", "))
}

/// Field texts by the documented meta semantics, written independently of `meta.rs`.
fn reference_field(meta: &str, path: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &[&str], out: &mut Vec<String>) {
        use serde_json::Value as V;
        match (v, path) {
            (V::Array(items), _) => items.iter().for_each(|i| walk(i, path, out)),
            (V::String(s), []) => out.push(s.clone()),
            (V::Number(n), []) => out.push(n.to_string()),
            (V::Bool(b), []) => out.push(b.to_string()),
            (V::Object(m), [head, rest @ ..]) => {
                if let Some(child) = m.get(*head) {
                    walk(child, rest, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v @ serde_json::Value::Object(_)) = serde_json::from_str(meta) {
        let parts: Vec<&str> = path.split('.').collect();
        walk(&v, &parts, &mut out);
    }
    out
}

thread_local! {
    static GLOBS: RefCell<HashMap<String, globset::GlobMatcher>> = RefCell::new(HashMap::new());
    static REGEXES: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// The reference compiles each glob on its own with the documented options.
fn glob(g: &str, s: &str) -> bool {
    GLOBS.with(|m| {
        m.borrow_mut()
            .entry(g.to_owned())
            .or_insert_with(|| {
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .unwrap()
                    .compile_matcher()
            })
            .is_match(s)
    })
}

/// The reference runs every regex on every text, without a prefilter.
fn re(r: &str, s: &str) -> bool {
    REGEXES.with(|m| {
        m.borrow_mut()
            .entry(r.to_owned())
            .or_insert_with(|| regex::Regex::new(r).unwrap())
            .is_match(s)
    })
}

fn reference_holds(c: &Cond, it: &ItemRef<'_>) -> bool {
    c.benchmark
        .as_ref()
        .is_none_or(|gs| gs.iter().any(|g| glob(g, it.benchmark)))
        && c.task
            .as_ref()
            .is_none_or(|gs| gs.iter().any(|g| glob(g, it.task)))
        && c.meta.iter().all(|(f, gs)| {
            reference_field(it.meta, f)
                .iter()
                .any(|v| gs.iter().any(|g| glob(g, v)))
        })
        && c.meta_regex
            .iter()
            .all(|(f, r)| reference_field(it.meta, f).iter().any(|v| re(r, v)))
        && c.prompt_regex
            .as_ref()
            .is_none_or(|r| it.prompt.is_some_and(|p| re(r, p)))
        && c.target_regex
            .as_ref()
            .is_none_or(|r| it.target.is_some_and(|t| re(r, t)))
}

fn random_meta(rng: &mut Rng) -> String {
    if rng.chance(10) {
        return rng.pick(&["", "{", "[]", "null"]).to_string();
    }
    let mut fields = Vec::new();
    let s = |rng: &mut Rng| serde_json::to_string(&random_text(rng)).unwrap();
    if rng.chance(70) {
        fields.push(format!("\"topic\": {}", s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"tags\": [{}, {}, 3]", s(rng), s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"gold\": {{\"kind\": {}}}", s(rng)));
    }
    if rng.chance(50) {
        fields.push(format!("\"level\": {}", rng.pick(&["3", "true", "\"apple\""])));
    }
    if rng.chance(50) {
        fields.push(format!(
            "\"steps\": [{{\"op\": {}}}, {{\"op\": {}}}]",
            s(rng),
            s(rng)
        ));
    }
    format!("{{{}}}", fields.join(", "))
}

struct OwnedItem {
    benchmark: String,
    task: String,
    prompt: Option<String>,
    target: Option<String>,
    meta: String,
}

impl OwnedItem {
    fn as_ref(&self) -> ItemRef<'_> {
        ItemRef {
            benchmark: &self.benchmark,
            task: &self.task,
            prompt: self.prompt.as_deref(),
            target: self.target.as_deref(),
            meta: &self.meta,
        }
    }
}

#[test]
fn prefiltered_matcher_equals_naive_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // (item, rule) pairs where a rule with a text regex fired / did not.
    let (mut regex_fired, mut regex_quiet) = (0, 0);
    for round in 0..30 {
        let mut rules = Vec::new();
        let mut yaml = String::from("name: p\naxes:\n  op: [v0, v1, v2, v3, v4, v5]\nrules:\n");
        for r in 0..40 {
            let conds: Vec<Cond> = (0..1 + rng.below(2)).map(|_| random_cond(&mut rng)).collect();
            let value = format!("v{}", rng.below(6));
            let when: Vec<String> = conds.iter().map(cond_yaml).collect();
            yaml.push_str(&format!(
                "  - id: r{r}\n    when: [{}]\n    add: {{ op: {value} }}\n",
                when.join(", ")
            ));
            rules.push((format!("r{r}"), conds, value));
        }
        let s =
            TaxonomySet::from_yaml_str(Path::new("p.yaml"), &yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));

        let owned: Vec<OwnedItem> = (0..300)
            .map(|_| OwnedItem {
                benchmark: rng.pick(&["b1", "bench1", "c1", "z", "other"]).to_string(),
                task: rng.pick(&["b1", "c2", "t"]).to_string(),
                prompt: rng.chance(90).then(|| random_text(&mut rng)),
                target: rng.chance(70).then(|| random_text(&mut rng)),
                meta: random_meta(&mut rng),
            })
            .collect();
        let items: Vec<ItemRef<'_>> = owned.iter().map(OwnedItem::as_ref).collect();
        let got = s.tag_all(&items);
        for (it, tags) in items.iter().zip(&got) {
            let mut want_rules = Vec::new();
            let mut want_values = Vec::new();
            for (id, conds, value) in &rules {
                let holds = conds.iter().any(|c| reference_holds(c, it));
                if holds {
                    want_rules.push(id.clone());
                    want_values.push(value.clone());
                }
                if conds.iter().any(|c| c.prompt_regex.is_some()) {
                    if holds {
                        regex_fired += 1;
                    } else {
                        regex_quiet += 1;
                    }
                }
            }
            want_values.sort();
            want_values.dedup();
            if want_values.is_empty() {
                want_values.push("unknown".into());
            }
            assert_eq!(tags.rules, want_rules, "round {round}, item {it:?}\n{yaml}");
            assert_eq!(tags.values, [want_values], "round {round}, item {it:?}");
        }
    }
    eprintln!("regex rules fired {regex_fired} times, stayed quiet {regex_quiet} times");
    assert!(regex_fired > 1000 && regex_quiet > 1000);
}

#[test]
fn prefilter_handles_many_word_pair_rules() {
    // The benchmark shape: `\bA\b.*\bB\b` over a vocabulary, checked against
    // plain regexes on every text.
    let mut rng = Rng(7);
    let vocab: Vec<String> = (0..50).map(|i| format!("w{i}x")).collect();
    let mut yaml = String::from("name: p\naxes:\n  op: [v]\nrules:\n");
    let mut patterns = Vec::new();
    for r in 0..100 {
        let p = format!(r"\b{}\b.*\b{}\b", rng.pick(&vocab), rng.pick(&vocab));
        yaml.push_str(&format!(
            "  - id: r{r}\n    when: {{ prompt_regex: '{p}' }}\n    add: {{ op: v }}\n"
        ));
        patterns.push((format!("r{r}"), regex::Regex::new(&p).unwrap()));
    }
    let s = TaxonomySet::from_yaml_str(Path::new("p.yaml"), &yaml).unwrap();
    let prompts: Vec<String> = (0..2000)
        .map(|_| {
            (0..10)
                .map(|_| rng.pick(&vocab).clone())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let items: Vec<ItemRef<'_>> = prompts
        .iter()
        .map(|p| ItemRef {
            prompt: Some(p),
            ..item("b", "t")
        })
        .collect();
    for (it, tags) in items.iter().zip(s.tag_all(&items)) {
        let want: Vec<String> = patterns
            .iter()
            .filter(|(_, re)| re.is_match(it.prompt.unwrap_or_default()))
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(tags.rules, want);
    }
}
