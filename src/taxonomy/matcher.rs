//! Compiled rules and the tagging loop.
//!
//! Cost model (DESIGN section 11): one `Regex` per pattern behind a literal
//! prefilter, never a `RegexSet` over all rules. For one item:
//!
//! 1. Gate: the benchmark and task globs of all conditions live in two
//!    `GlobSet`s; matching them gives a bitset of conditions whose cheap
//!    part holds. [`super::TaxonomySet::tag_all`] computes it once per
//!    distinct benchmark and task string, not per item.
//! 2. Meta: the item's JSON is parsed once, and only if a gated condition
//!    needs a meta field.
//! 3. Text: each text source (the prompt, the target, each meta field used by
//!    a `meta_regex`) has one Aho-Corasick automaton over the required
//!    literals of its regexes (see `literals.rs`). The text is scanned once,
//!    on first need, and only regexes whose every literal clause was seen run.
//!    Regexes without usable literals always run. One automaton per source
//!    rather than one for all sources keeps prompt literals from being
//!    searched for in targets.
//!
//! Every condition outcome and regex result is cached for the item, and all
//! per-item state lives in a reusable [`Scratch`] so the loop does not
//! allocate beyond its output.

use std::borrow::Cow;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde_json::Value;

use super::{literals, meta, Axis, ItemRef, ItemTags};

/// The value given on an axis when no rule gave one.
pub(super) const UNKNOWN: &str = "unknown";

/// Where a regex looks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum SourceSpec {
    Prompt,
    Target,
    Meta(Vec<String>),
}

/// One condition map, compiled, before it is laid out in the matcher.
pub(super) struct CondSpec {
    pub benchmark: Option<Vec<Glob>>,
    pub task: Option<Vec<Glob>>,
    pub meta: Vec<(Vec<String>, GlobSet)>,
    /// (source, pattern, compiled regex); the pattern is the dedup key.
    pub regexes: Vec<(SourceSpec, String, Regex)>,
}

/// A fixed-size bitset over condition indices.
#[derive(Debug, Clone)]
pub(super) struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
}

struct CondM {
    rule: u32,
    meta: Vec<(u32, GlobSet)>,
    regexes: Vec<u32>,
}

struct RegexM {
    source: u32,
    regex: Regex,
    /// One bit per literal clause; 0 means "no prefilter, always run".
    full: u64,
}

enum SourceKind {
    Prompt,
    Target,
    Meta(u32),
}

struct SourceM {
    kind: SourceKind,
    /// `None` when no regex of this source has literals.
    ac: Option<AhoCorasick>,
    /// Automaton pattern -> (regex, clause bit) pairs it satisfies.
    slots: Vec<Vec<(u32, u32)>>,
}

/// The prefilter literals of one source while the matcher is built.
#[derive(Default)]
struct SourceLiterals {
    patterns: Vec<Vec<u8>>,
    slots: Vec<Vec<(u32, u32)>>,
    index: HashMap<Vec<u8>, usize>,
}

impl SourceLiterals {
    fn add(&mut self, literal: &[u8], regex: u32, bit: u32) {
        let p = match self.index.get(literal) {
            Some(&p) => p,
            None => {
                self.patterns.push(literal.to_vec());
                self.slots.push(Vec::new());
                self.index.insert(literal.to_vec(), self.patterns.len() - 1);
                self.patterns.len() - 1
            }
        };
        self.slots[p].push((regex, bit));
    }
}

struct GlobGate {
    set: GlobSet,
    /// Glob index -> condition.
    owner: Vec<u32>,
    /// Conditions without this kind of glob: they always pass the gate.
    free: Bits,
}

impl GlobGate {
    fn build(globs: Vec<(Glob, u32)>, free: Bits) -> Result<GlobGate, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        let mut owner = Vec::with_capacity(globs.len());
        for (glob, cond) in globs {
            builder.add(glob);
            owner.push(cond);
        }
        Ok(GlobGate {
            set: builder.build()?,
            owner,
            free,
        })
    }

    fn mask(&self, s: &str) -> Bits {
        let mut bits = self.free.clone();
        for i in self.set.matches(s) {
            bits.set(self.owner[i] as usize);
        }
        bits
    }
}

/// Collects rules in order, then lays them out for matching.
pub(super) struct MatcherBuilder {
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
    pub(super) fn new(axes: &[Axis]) -> MatcherBuilder {
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
    pub(super) fn add_rule(&mut self, id: &str, adds: &[(usize, usize)], conds: Vec<CondSpec>) {
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
            },
            key.1,
        ));
        next
    }

    pub(super) fn build(self) -> Result<Matcher, String> {
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
            for (bit, clause) in clauses.iter().enumerate() {
                for lit in clause {
                    per_source[m.source as usize].add(lit, r as u32, bit as u32);
                }
            }
            // `literals::select` keeps at most 4 clauses, so the mask fits.
            m.full = (1u64 << clauses.len()) - 1;
            regexes.push(m);
        }
        let mut sources = Vec::with_capacity(self.sources.len());
        for (spec, lits) in self.sources.into_iter().zip(per_source) {
            let ac = if lits.patterns.is_empty() {
                None
            } else {
                Some(
                    AhoCorasickBuilder::new()
                        .match_kind(MatchKind::Standard)
                        .ascii_case_insensitive(true)
                        .build(&lits.patterns)
                        .map_err(|e| e.to_string())?,
                )
            };
            let kind = match spec {
                SourceSpec::Prompt => SourceKind::Prompt,
                SourceSpec::Target => SourceKind::Target,
                SourceSpec::Meta(path) => SourceKind::Meta(self.path_ids[&path]),
            };
            sources.push(SourceM {
                kind,
                ac,
                slots: lits.slots,
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
            paths: self.paths,
            regexes,
            sources,
            tag_axis,
            tag_name,
            tag_rank,
        })
    }
}

/// All rules of a taxonomy set, laid out for matching.
pub(super) struct Matcher {
    n_axes: usize,
    rule_ids: Vec<String>,
    rule_adds: Vec<Vec<u32>>,
    conds: Vec<CondM>,
    bench: GlobGate,
    task: GlobGate,
    needs_meta: Bits,
    paths: Vec<Vec<String>>,
    regexes: Vec<RegexM>,
    sources: Vec<SourceM>,
    tag_axis: Vec<usize>,
    tag_name: Vec<String>,
    tag_rank: Vec<u32>,
}

/// Reusable per-thread state. Entries are valid only when their stamp equals
/// the current generation, so starting an item costs O(1).
pub(super) struct Scratch {
    gen: u32,
    regex_stamp: Vec<u32>,
    regex_result: Vec<bool>,
    hit_stamp: Vec<u32>,
    hits: Vec<u64>,
    source_stamp: Vec<u32>,
    tags: Vec<u32>,
    fired: Vec<u32>,
}

impl Scratch {
    fn next_item(&mut self) {
        self.gen = self.gen.wrapping_add(1);
        if self.gen == 0 {
            self.regex_stamp.fill(0);
            self.hit_stamp.fill(0);
            self.source_stamp.fill(0);
            self.gen = 1;
        }
        self.tags.clear();
        self.fired.clear();
    }
}

/// Meta fields of one item, looked up lazily and cached per path.
struct MetaView<'v> {
    root: Option<&'v Value>,
    cache: Vec<Option<Vec<Cow<'v, str>>>>,
}

impl<'v> MetaView<'v> {
    fn values(&mut self, paths: &[Vec<String>], p: u32) -> &[Cow<'v, str>] {
        let Some(root) = self.root else {
            return &[];
        };
        if self.cache.is_empty() {
            self.cache = vec![None; paths.len()];
        }
        self.cache[p as usize].get_or_insert_with(|| {
            let mut out = Vec::new();
            meta::lookup(root, &paths[p as usize], &mut out);
            out
        })
    }
}

/// The gate masks of one item: conditions whose benchmark / task globs hold.
pub(super) struct Gate<'m> {
    pub bench: &'m Bits,
    pub task: &'m Bits,
}

impl Matcher {
    pub(super) fn scratch(&self) -> Scratch {
        Scratch {
            gen: 0,
            regex_stamp: vec![0; self.regexes.len()],
            regex_result: vec![false; self.regexes.len()],
            hit_stamp: vec![0; self.regexes.len()],
            hits: vec![0; self.regexes.len()],
            source_stamp: vec![0; self.sources.len()],
            tags: Vec::new(),
            fired: Vec::new(),
        }
    }

    pub(super) fn bench_mask(&self, benchmark: &str) -> Bits {
        self.bench.mask(benchmark)
    }

    pub(super) fn task_mask(&self, task: &str) -> Bits {
        self.task.mask(task)
    }

    pub(super) fn tag(&self, item: &ItemRef<'_>, gate: Gate<'_>, s: &mut Scratch) -> ItemTags {
        s.next_item();
        let live = |w: usize| gate.bench.0[w] & gate.task.0[w];
        let needs_meta = (0..self.needs_meta.0.len()).any(|w| live(w) & self.needs_meta.0[w] != 0);
        let parsed = if needs_meta { meta::parse(item.meta) } else { None };
        let mut view = MetaView {
            root: parsed.as_ref(),
            cache: Vec::new(),
        };
        let mut last_fired = u32::MAX;
        for w in 0..gate.bench.0.len() {
            let mut word = live(w);
            while word != 0 {
                let c = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let cond = &self.conds[c];
                // Conditions are laid out rule by rule, so a fired rule's
                // remaining conditions come next and are skipped here.
                if cond.rule == last_fired {
                    continue;
                }
                if self.holds(cond, item, &mut view, s) {
                    last_fired = cond.rule;
                    s.fired.push(cond.rule);
                    s.tags.extend_from_slice(&self.rule_adds[cond.rule as usize]);
                }
            }
        }
        self.output(s)
    }

    fn holds(&self, c: &CondM, item: &ItemRef<'_>, view: &mut MetaView<'_>, s: &mut Scratch) -> bool {
        for (p, globs) in &c.meta {
            if !view
                .values(&self.paths, *p)
                .iter()
                .any(|v| globs.is_match(v.as_ref()))
            {
                return false;
            }
        }
        c.regexes
            .iter()
            .all(|&r| self.regex_holds(r as usize, item, view, s))
    }

    fn regex_holds(&self, r: usize, item: &ItemRef<'_>, view: &mut MetaView<'_>, s: &mut Scratch) -> bool {
        if s.regex_stamp[r] == s.gen {
            return s.regex_result[r];
        }
        let result = match self.sources[self.regexes[r].source as usize].kind {
            SourceKind::Prompt => item.prompt.is_some_and(|t| self.run(r, &[t], s)),
            SourceKind::Target => item.target.is_some_and(|t| self.run(r, &[t], s)),
            SourceKind::Meta(p) => self.run(r, view.values(&self.paths, p), s),
        };
        s.regex_stamp[r] = s.gen;
        s.regex_result[r] = result;
        result
    }

    /// Runs regex `r` over `texts` (any match counts), behind the prefilter.
    fn run<T: AsRef<str>>(&self, r: usize, texts: &[T], s: &mut Scratch) -> bool {
        let m = &self.regexes[r];
        if m.full != 0 {
            let src = m.source as usize;
            if s.source_stamp[src] != s.gen {
                s.source_stamp[src] = s.gen;
                self.scan(src, texts, s);
            }
            if s.hit_stamp[r] != s.gen || s.hits[r] != m.full {
                return false;
            }
        }
        texts.iter().any(|t| m.regex.is_match(t.as_ref()))
    }

    /// Scans a source's texts once, marking the literal clauses seen.
    fn scan<T: AsRef<str>>(&self, src: usize, texts: &[T], s: &mut Scratch) {
        let source = &self.sources[src];
        let Some(ac) = &source.ac else {
            return;
        };
        for text in texts {
            for hit in ac.find_overlapping_iter(text.as_ref()) {
                for &(r, bit) in &source.slots[hit.pattern().as_usize()] {
                    let r = r as usize;
                    if s.hit_stamp[r] != s.gen {
                        s.hit_stamp[r] = s.gen;
                        s.hits[r] = 0;
                    }
                    s.hits[r] |= 1 << bit;
                }
            }
        }
    }

    fn output(&self, s: &mut Scratch) -> ItemTags {
        s.tags.sort_unstable_by_key(|&t| self.tag_rank[t as usize]);
        s.tags.dedup();
        let mut values = vec![Vec::new(); self.n_axes];
        for &t in &s.tags {
            values[self.tag_axis[t as usize]].push(self.tag_name[t as usize].clone());
        }
        for v in &mut values {
            if v.is_empty() {
                v.push(UNKNOWN.to_owned());
            }
        }
        ItemTags {
            values,
            rules: s
                .fired
                .iter()
                .map(|&r| self.rule_ids[r as usize].clone())
                .collect(),
        }
    }
}
