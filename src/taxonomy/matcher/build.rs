//! Laying rules out for matching: condition order, glob gates, deduplicated
//! regexes and paths, and one literal automaton per text source.

use std::collections::HashMap;

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use globset::{Glob, GlobSet};
use regex::Regex;

use super::super::{literals, Axis};
use super::{Bits, CondM, GlobGate, Matcher, RegexM, SourceKind, SourceM, NO_WORD};

/// Where a regex looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SourceSpec {
    Prompt,
    Target,
    Meta(Vec<String>),
}

/// One condition map, compiled, before it is laid out in the matcher.
pub(crate) struct CondSpec {
    pub benchmark: Option<Vec<Glob>>,
    pub task: Option<Vec<Glob>>,
    pub meta: Vec<(Vec<String>, GlobSet)>,
    /// (source, pattern, compiled regex); the pattern is the dedup key.
    pub regexes: Vec<(SourceSpec, String, Regex)>,
}

/// The prefilter literals of one source while the matcher is built.
#[derive(Default)]
struct SourceLiterals {
    patterns: Vec<Vec<u8>>,
    slots: Vec<Vec<(u32, u32)>>,
    index: HashMap<Vec<u8>, usize>,
    words: Vec<Box<[u8]>>,
    word_index: HashMap<Vec<u8>, u32>,
    pattern_words: Vec<Vec<u32>>,
    /// Word -> (regex, its second word or [`NO_WORD`]) of the word-sequence
    /// regexes whose first word it is.
    word_regexes: Vec<Vec<(u32, u32)>>,
}

impl SourceLiterals {
    /// The id of an exact word literal whose occurrences are tracked; `None`
    /// when its lowercase form is not an automaton pattern (then the regex
    /// runs as usual).
    fn word(&mut self, word: &[u8]) -> Option<u32> {
        let p = *self.index.get(&word.to_ascii_lowercase())?;
        if let Some(&w) = self.word_index.get(word) {
            return Some(w);
        }
        let w = self.words.len() as u32;
        self.words.push(word.into());
        self.word_index.insert(word.to_vec(), w);
        if self.pattern_words.len() < self.patterns.len() {
            self.pattern_words.resize(self.patterns.len(), Vec::new());
        }
        self.pattern_words[p].push(w);
        Some(w)
    }

    /// The automaton pattern of `literal`, added when new.
    fn pattern(&mut self, literal: &[u8]) -> usize {
        match self.index.get(literal) {
            Some(&p) => p,
            None => {
                self.patterns.push(literal.to_vec());
                self.slots.push(Vec::new());
                self.index.insert(literal.to_vec(), self.patterns.len() - 1);
                self.patterns.len() - 1
            }
        }
    }
}

/// Collects rules in order, then lays them out for matching.
pub(crate) struct MatcherBuilder {
    axes: Vec<Axis>,
    axis_offset: Vec<usize>,
    rule_adds: Vec<Vec<u32>>,
    rule_ids: Vec<String>,
    conds: Vec<CondM>,
    bench_globs: Vec<(Glob, u32)>,
    task_globs: Vec<(Glob, u32)>,
    bench_free: Vec<u32>,
    task_free: Vec<u32>,
    paths: Vec<Vec<String>>,
    path_ids: HashMap<Vec<String>, u32>,
    sources: Vec<SourceSpec>,
    source_ids: HashMap<SourceSpec, u32>,
    regexes: Vec<(RegexM, String)>,
    regex_ids: HashMap<(u32, String), u32>,
}

impl MatcherBuilder {
    pub(crate) fn new(axes: &[Axis]) -> MatcherBuilder {
        let mut axis_offset = Vec::with_capacity(axes.len());
        let mut total = 0;
        for axis in axes {
            axis_offset.push(total);
            total += axis.values.len();
        }
        MatcherBuilder {
            axes: axes.to_vec(),
            axis_offset,
            rule_adds: Vec::new(),
            rule_ids: Vec::new(),
            conds: Vec::new(),
            bench_globs: Vec::new(),
            task_globs: Vec::new(),
            bench_free: Vec::new(),
            task_free: Vec::new(),
            paths: Vec::new(),
            path_ids: HashMap::new(),
            sources: Vec::new(),
            source_ids: HashMap::new(),
            regexes: Vec::new(),
            regex_ids: HashMap::new(),
        }
    }

    /// Adds a rule; `adds` are (axis index, value index) pairs.
    pub(crate) fn add_rule(&mut self, id: &str, adds: &[(usize, usize)], conds: Vec<CondSpec>) {
        let rule = self.rule_ids.len() as u32;
        self.rule_ids.push(id.to_owned());
        let mut tags: Vec<u32> = adds
            .iter()
            .map(|&(axis, value)| (self.axis_offset[axis] + value) as u32)
            .collect();
        tags.sort_unstable();
        tags.dedup();
        self.rule_adds.push(tags);
        for spec in conds {
            let cond = self.conds.len() as u32;
            match spec.benchmark {
                Some(globs) => self.bench_globs.extend(globs.into_iter().map(|g| (g, cond))),
                None => self.bench_free.push(cond),
            }
            match spec.task {
                Some(globs) => self.task_globs.extend(globs.into_iter().map(|g| (g, cond))),
                None => self.task_free.push(cond),
            }
            let meta = spec
                .meta
                .into_iter()
                .map(|(path, globs)| (self.path_id(path), globs))
                .collect();
            let regexes = spec
                .regexes
                .into_iter()
                .map(|(source, pattern, regex)| self.regex_id(source, pattern, regex))
                .collect();
            self.conds.push(CondM { rule, meta, regexes });
        }
    }

    fn path_id(&mut self, path: Vec<String>) -> u32 {
        let next = self.paths.len() as u32;
        *self.path_ids.entry(path.clone()).or_insert_with(|| {
            self.paths.push(path);
            next
        })
    }

    fn regex_id(&mut self, source: SourceSpec, pattern: String, regex: Regex) -> u32 {
        if let SourceSpec::Meta(path) = &source {
            self.path_id(path.clone());
        }
        let next_source = self.sources.len() as u32;
        let source = *self.source_ids.entry(source.clone()).or_insert_with(|| {
            self.sources.push(source);
            next_source
        });
        let next = self.regexes.len() as u32;
        let key = (source, pattern);
        if let Some(&id) = self.regex_ids.get(&key) {
            return id;
        }
        self.regex_ids.insert(key.clone(), next);
        self.regexes.push((
            RegexM {
                source,
                regex,
                full: 0,
                seq: None,
            },
            key.1,
        ));
        next
    }

    pub(crate) fn build(self) -> Result<Matcher, String> {
        let n = self.conds.len();
        let mut bench_free = Bits::new(n);
        self.bench_free.iter().for_each(|&c| bench_free.set(c as usize));
        let mut task_free = Bits::new(n);
        self.task_free.iter().for_each(|&c| task_free.set(c as usize));
        let bench = GlobGate::build(self.bench_globs, bench_free).map_err(|e| e.to_string())?;
        let task = GlobGate::build(self.task_globs, task_free).map_err(|e| e.to_string())?;

        let mut needs_meta = Bits::new(n);
        for (i, c) in self.conds.iter().enumerate() {
            let meta_regex = c.regexes.iter().any(|&r| {
                matches!(
                    self.sources[self.regexes[r as usize].0.source as usize],
                    SourceSpec::Meta(_)
                )
            });
            if !c.meta.is_empty() || meta_regex {
                needs_meta.set(i);
            }
        }

        // Literal patterns per source, deduplicated, with the clauses they satisfy.
        let mut per_source: Vec<SourceLiterals> = (0..self.sources.len())
            .map(|_| SourceLiterals::default())
            .collect();
        let mut regexes = Vec::with_capacity(self.regexes.len());
        for (r, (mut m, pattern)) in self.regexes.into_iter().enumerate() {
            let clauses = literals::required_clauses(&pattern);
            let lits = &mut per_source[m.source as usize];
            let pats: Vec<Vec<usize>> = clauses
                .iter()
                .map(|clause| clause.iter().map(|lit| lits.pattern(lit)).collect())
                .collect();
            // `literals::select` keeps at most 4 clauses, so the mask fits.
            m.full = (1u64 << clauses.len()) - 1;
            if m.full != 0 {
                m.seq = literals::word_sequence(&pattern)
                    .and_then(|words| words.iter().map(|w| lits.word(w)).collect::<Option<Vec<u32>>>());
            }
            match &m.seq {
                // Its words, seen word-bounded, make it a candidate (they are
                // necessary, and the scan tracks them anyway): its clauses
                // need no slots.
                Some(ids) => {
                    let second = ids.get(1).copied().unwrap_or(NO_WORD);
                    if lits.word_regexes.len() <= ids[0] as usize {
                        lits.word_regexes.resize(ids[0] as usize + 1, Vec::new());
                    }
                    lits.word_regexes[ids[0] as usize].push((r as u32, second));
                }
                None => {
                    for (bit, clause) in pats.iter().enumerate() {
                        for &p in clause {
                            lits.slots[p].push((r as u32, bit as u32));
                        }
                    }
                }
            }
            regexes.push(m);
        }
        // A condition whose regex has literal clauses can only hold when that
        // regex is a prefilter candidate: it is triggered by it and skipped
        // otherwise. The others are checked whenever they are gated in.
        let mut always = Bits::new(n);
        let mut by_trigger = vec![Vec::new(); regexes.len()];
        let mut triggers = vec![Bits::new(n); self.sources.len()];
        for (i, c) in self.conds.iter().enumerate() {
            match c.regexes.iter().find(|&&r| regexes[r as usize].full != 0) {
                Some(&r) => {
                    by_trigger[r as usize].push(i as u32);
                    triggers[regexes[r as usize].source as usize].set(i);
                }
                None => always.set(i),
            }
        }

        let mut sources = Vec::with_capacity(self.sources.len());
        for ((spec, lits), triggers) in self.sources.into_iter().zip(per_source).zip(triggers) {
            let ac = if lits.patterns.is_empty() {
                None
            } else {
                // A DFA scans fastest; past a few thousand literals its
                // memory grows, and the automatic choice is kept.
                let kind = (lits.patterns.len() <= 5_000).then_some(AhoCorasickKind::DFA);
                Some(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::Standard)
                        .ascii_case_insensitive(true)
                        .kind(kind)
                        .build(&lits.patterns)
                        .map_err(|e| e.to_string())?,
                )
            };
            let kind = match spec {
                SourceSpec::Prompt => SourceKind::Prompt,
                SourceSpec::Target => SourceKind::Target,
                SourceSpec::Meta(path) => SourceKind::Meta(self.path_ids[&path]),
            };
            let mut pattern_words = lits.pattern_words;
            pattern_words.resize(lits.patterns.len(), Vec::new());
            let mut word_regexes = lits.word_regexes;
            word_regexes.resize(lits.words.len(), Vec::new());
            sources.push(SourceM {
                kind,
                ac,
                slots: lits.slots,
                triggers,
                words: lits.words,
                pattern_words,
                word_regexes,
            });
        }

        // Output order: by axis, then value text.
        let mut tag_axis = Vec::new();
        let mut tag_name = Vec::new();
        for (a, axis) in self.axes.iter().enumerate() {
            for value in &axis.values {
                tag_axis.push(a);
                tag_name.push(value.clone());
            }
        }
        let mut order: Vec<usize> = (0..tag_name.len()).collect();
        order.sort_by(|&x, &y| (tag_axis[x], &tag_name[x]).cmp(&(tag_axis[y], &tag_name[y])));
        let mut tag_rank = vec![0u32; order.len()];
        for (rank, &t) in order.iter().enumerate() {
            tag_rank[t] = rank as u32;
        }

        Ok(Matcher {
            n_axes: self.axes.len(),
            rule_ids: self.rule_ids,
            rule_adds: self.rule_adds,
            conds: self.conds,
            bench,
            task,
            needs_meta,
            always,
            by_trigger,
            paths: self.paths,
            regexes,
            sources,
            tag_axis,
            tag_name,
            rank_tag: order.iter().map(|&t| t as u32).collect(),
            tag_rank,
        })
    }
}
