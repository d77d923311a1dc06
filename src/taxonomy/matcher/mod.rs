//! Compiled rules and the tagging loop.
//!
//! Cost model (DESIGN section 11): one `Regex` per pattern behind a literal
//! prefilter, never a `RegexSet` over all rules (on the `\bA\b.*\bB\b`
//! benchmark a set was about 50 times slower than one regex per rule). For
//! one item:
//!
//! 1. Gate: the benchmark and task globs of all conditions live in two
//!    `GlobSet`s; matching them gives a bitset of conditions whose cheap
//!    part holds. [`super::TaxonomySet::tag_all`] computes it once per
//!    distinct benchmark and task string, not per item.
//! 2. Meta: the item's JSON is parsed once, and only if a gated-in condition
//!    needs a meta field.
//! 3. Text: each text source (the prompt, the target, each meta field used by
//!    a `meta_regex`) has one Aho-Corasick automaton over the required
//!    literals of its regexes (see `literals.rs`). A source is scanned once,
//!    and only if a gated-in condition needs it. A regex whose every literal
//!    clause was seen is a candidate; a condition with such a regex (its
//!    trigger) is evaluated only when the trigger is a candidate, so the
//!    work per item follows the candidates, not the number of rules.
//!    Conditions without a trigger (globs and meta only, or regexes without
//!    usable literals) are evaluated whenever they are gated in. One
//!    automaton per source rather than one for all keeps prompt literals
//!    from being searched for in targets.
//!
//! Regex results are cached for the item, and all per-item state lives in a
//! reusable [`Scratch`] so the loop does not allocate beyond its output.

mod build;

use std::borrow::Cow;

use aho_corasick::AhoCorasick;
use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde_json::Value;

use super::{meta, ItemRef, ItemTags};

pub(super) use build::{CondSpec, MatcherBuilder, SourceSpec};

/// Is there a word character (Unicode, as `\b` sees it) right before byte `at`?
fn word_before(text: &str, at: usize) -> bool {
    match text.as_bytes()[..at].last() {
        None => false,
        Some(&b) if b.is_ascii() => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => text[..at]
            .chars()
            .next_back()
            .is_some_and(regex_syntax::is_word_character),
    }
}

/// Is there a word character right after byte `at`?
fn word_after(text: &str, at: usize) -> bool {
    match text.as_bytes().get(at) {
        None => false,
        Some(&b) if b.is_ascii() => b.is_ascii_alphanumeric() || b == b'_',
        Some(_) => text[at..]
            .chars()
            .next()
            .is_some_and(regex_syntax::is_word_character),
    }
}

/// The tags of one item as ids: tag ids in output order, and the rules that
/// fired in rule order. Equal ids mean equal [`ItemTags`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TagIds {
    pub tags: Vec<u32>,
    pub rules: Vec<u32>,
}

/// The value given on an axis when no rule gave one.
pub(super) const UNKNOWN: &str = "unknown";

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

fn intersects(a: &[u64], b: &Bits) -> bool {
    a.iter().zip(&b.0).any(|(x, y)| x & y != 0)
}

fn contains(a: &[u64], i: usize) -> bool {
    a[i / 64] & (1 << (i % 64)) != 0
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
    /// For `\bA\b` and `\bA\b.*\bB\b`: the source's word ids of A (and B),
    /// decided from the scan's positions (see `literals::word_sequence`).
    seq: Option<Vec<u32>>,
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
    /// Conditions triggered by a regex of this source: when one is gated in,
    /// the source is scanned before conditions are evaluated.
    triggers: Bits,
    /// Exact (case as written) word literals whose positions are tracked.
    words: Vec<Box<[u8]>>,
    /// Automaton pattern -> the words it may be an occurrence of.
    pattern_words: Vec<Vec<u32>>,
    /// Word -> (regex, its second word or [`NO_WORD`]) of the `\bA\b` and
    /// `\bA\b.*\bB\b` regexes whose first word it is. Such a regex is a
    /// candidate when its words were seen word-bounded: that is necessary
    /// for a match, and cheaper than a slot per literal hit.
    word_regexes: Vec<Vec<(u32, u32)>>,
}

/// No second word: a one-word sequence.
pub(super) const NO_WORD: u32 = u32::MAX;

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

/// All rules of a taxonomy set, laid out for matching.
pub(super) struct Matcher {
    n_axes: usize,
    rule_ids: Vec<String>,
    rule_adds: Vec<Vec<u32>>,
    conds: Vec<CondM>,
    bench: GlobGate,
    task: GlobGate,
    needs_meta: Bits,
    /// Conditions without a trigger regex.
    always: Bits,
    /// Regex -> conditions it triggers.
    by_trigger: Vec<Vec<u32>>,
    paths: Vec<Vec<String>>,
    regexes: Vec<RegexM>,
    sources: Vec<SourceM>,
    tag_axis: Vec<usize>,
    tag_name: Vec<String>,
    tag_rank: Vec<u32>,
    /// The tag of each rank (the inverse of `tag_rank`).
    rank_tag: Vec<u32>,
}

/// Up to this many tags, an item's tags are gathered in a bitset by rank
/// (in output order as they are set) rather than sorted.
const TAG_BITS: usize = 4096;

/// Reusable per-thread state. Entries are valid only when their stamp equals
/// the current generation, so starting an item costs O(1).
pub(super) struct Scratch {
    gen: u32,
    regex_stamp: Vec<u32>,
    regex_result: Vec<bool>,
    hit_stamp: Vec<u32>,
    hits: Vec<u64>,
    source_stamp: Vec<u32>,
    /// Per source: does the current item's text hold a newline (set by
    /// `scan`)? Without one, no `.*` gap needs checking.
    newline: Vec<bool>,
    /// Per source and word: stamp, end of the first and start of the last
    /// word-bounded occurrence in the current item's text.
    word_stamp: Vec<Vec<u32>>,
    first_end: Vec<Vec<u32>>,
    last_start: Vec<Vec<u32>>,
    /// Per source: the words seen in the current item, in order seen.
    seen_words: Vec<Vec<u32>>,
    /// Gated-in conditions of the current item.
    live: Vec<u64>,
    /// Regexes whose every literal clause was seen in the current item.
    candidates: Vec<u32>,
    /// Conditions to evaluate, a bitset: set bits come in condition
    /// (hence rule) order.
    todo: Vec<u64>,
    /// The item's tags by rank, a bitset (taxonomies of up to [`TAG_BITS`]
    /// tags).
    tag_bits: Vec<u64>,
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
            self.word_stamp.iter_mut().for_each(|v| v.fill(0));
            self.gen = 1;
        }
        self.candidates.clear();
        self.todo.clear();
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
            newline: vec![true; self.sources.len()],
            word_stamp: self.sources.iter().map(|s| vec![0; s.words.len()]).collect(),
            first_end: self.sources.iter().map(|s| vec![0; s.words.len()]).collect(),
            last_start: self.sources.iter().map(|s| vec![0; s.words.len()]).collect(),
            seen_words: vec![Vec::new(); self.sources.len()],
            live: Vec::new(),
            candidates: Vec::new(),
            todo: Vec::new(),
            tag_bits: if self.tag_rank.len() <= TAG_BITS {
                vec![0; self.tag_rank.len().div_ceil(64)]
            } else {
                Vec::new()
            },
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
        let ids = self.tag_ids(item, gate, s);
        self.names(&ids)
    }

    /// [`Matcher::tag`] as ids: no strings are built per item.
    pub(super) fn tag_ids(&self, item: &ItemRef<'_>, gate: Gate<'_>, s: &mut Scratch) -> TagIds {
        s.next_item();
        s.live.clear();
        s.live
            .extend(gate.bench.0.iter().zip(&gate.task.0).map(|(b, t)| b & t));
        let parsed = if intersects(&s.live, &self.needs_meta) {
            meta::parse(item.meta)
        } else {
            None
        };
        let mut view = MetaView {
            root: parsed.as_ref(),
            cache: Vec::new(),
        };

        // Scan every source some gated-in condition is triggered on; this
        // fills `candidates`.
        for (src, source) in self.sources.iter().enumerate() {
            if source.ac.is_none() || !intersects(&s.live, &source.triggers) {
                continue;
            }
            s.source_stamp[src] = s.gen;
            match source.kind {
                SourceKind::Prompt => self.scan(src, item.prompt.as_slice(), s),
                SourceKind::Target => self.scan(src, item.target.as_slice(), s),
                SourceKind::Meta(p) => self.scan(src, view.values(&self.paths, p), s),
            }
        }

        s.todo.extend(
            s.live
                .iter()
                .zip(&self.always.0)
                .map(|(&live, &always)| live & always),
        );
        for &r in &s.candidates {
            for &c in &self.by_trigger[r as usize] {
                if contains(&s.live, c as usize) {
                    s.todo[c as usize / 64] |= 1 << (c % 64);
                }
            }
        }

        let by_bits = !s.tag_bits.is_empty();
        let mut last_fired = u32::MAX;
        for w in 0..s.todo.len() {
            let mut word = s.todo[w];
            while word != 0 {
                let cond = &self.conds[w * 64 + word.trailing_zeros() as usize];
                word &= word - 1;
                // Conditions are laid out rule by rule, so a fired rule's other
                // conditions come next and are skipped here.
                if cond.rule == last_fired {
                    continue;
                }
                if self.holds(cond, item, &mut view, s) {
                    last_fired = cond.rule;
                    s.fired.push(cond.rule);
                    let adds = &self.rule_adds[cond.rule as usize];
                    if by_bits {
                        for &t in adds {
                            let rank = self.tag_rank[t as usize] as usize;
                            s.tag_bits[rank / 64] |= 1 << (rank % 64);
                        }
                    } else {
                        s.tags.extend_from_slice(adds);
                    }
                }
            }
        }
        if by_bits {
            for w in 0..s.tag_bits.len() {
                let mut word = std::mem::take(&mut s.tag_bits[w]);
                while word != 0 {
                    s.tags
                        .push(self.rank_tag[w * 64 + word.trailing_zeros() as usize]);
                    word &= word - 1;
                }
            }
        } else {
            s.tags.sort_unstable_by_key(|&t| self.tag_rank[t as usize]);
            s.tags.dedup();
        }
        TagIds {
            tags: s.tags.clone(),
            rules: s.fired.clone(),
        }
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
            match &m.seq {
                Some(seq) => {
                    if seq.iter().any(|&w| s.word_stamp[src][w as usize] != s.gen) {
                        return false;
                    }
                    if let [text] = texts {
                        if let Some(decided) = self.decide_sequence(src, seq, text.as_ref(), s) {
                            return decided;
                        }
                    }
                }
                None => {
                    if s.hit_stamp[r] != s.gen || s.hits[r] != m.full {
                        return false;
                    }
                }
            }
        }
        texts.iter().any(|t| m.regex.is_match(t.as_ref()))
    }

    /// With every word of `seq` seen word-bounded (checked by [`Matcher::run`]):
    /// `\bA\b` holds; `\bA\b.*\bB\b` iff the first occurrence of A ends
    /// before the last of B starts with no newline between (`.` excludes
    /// `\n`). `None` (run the regex) when a newline lies between them:
    /// another pair on one line may still match.
    fn decide_sequence(&self, src: usize, seq: &[u32], text: &str, s: &Scratch) -> Option<bool> {
        match seq {
            [_] => Some(true),
            [a, b] => {
                let end = s.first_end[src][*a as usize] as usize;
                let start = s.last_start[src][*b as usize] as usize;
                if end > start {
                    return Some(false);
                }
                if s.newline[src] && text.as_bytes()[end..start].contains(&b'\n') {
                    None
                } else {
                    Some(true)
                }
            }
            _ => None,
        }
    }

    /// Scans a source's texts once, marking the literal clauses seen.
    fn scan<T: AsRef<str>>(&self, src: usize, texts: &[T], s: &mut Scratch) {
        let source = &self.sources[src];
        let Some(ac) = &source.ac else {
            return;
        };
        s.newline[src] = texts.iter().any(|t| t.as_ref().as_bytes().contains(&b'\n'));
        s.seen_words[src].clear();
        for text in texts {
            let text = text.as_ref();
            for hit in ac.find_overlapping_iter(text) {
                for &w in &source.pattern_words[hit.pattern().as_usize()] {
                    let (start, end) = (hit.start(), hit.end());
                    if &text.as_bytes()[start..end] == source.words[w as usize].as_ref()
                        && !word_before(text, start)
                        && !word_after(text, end)
                    {
                        let w = w as usize;
                        if s.word_stamp[src][w] != s.gen {
                            s.word_stamp[src][w] = s.gen;
                            s.first_end[src][w] = end as u32;
                            s.seen_words[src].push(w as u32);
                        }
                        s.last_start[src][w] = start as u32;
                    }
                }
                for &(r, bit) in &source.slots[hit.pattern().as_usize()] {
                    let r = r as usize;
                    if s.hit_stamp[r] != s.gen {
                        s.hit_stamp[r] = s.gen;
                        s.hits[r] = 0;
                    }
                    let before = s.hits[r];
                    s.hits[r] |= 1 << bit;
                    if s.hits[r] != before && s.hits[r] == self.regexes[r].full {
                        s.candidates.push(r as u32);
                    }
                }
            }
        }
        for &a in &s.seen_words[src] {
            for &(r, b) in &source.word_regexes[a as usize] {
                if b == NO_WORD || s.word_stamp[src][b as usize] == s.gen {
                    s.candidates.push(r);
                }
            }
        }
    }

    /// Every tag id's axis and `axis=value` name.
    pub(super) fn vocab(&self, axes: &[super::Axis]) -> Vec<super::VocabTag> {
        self.tag_name
            .iter()
            .zip(&self.tag_axis)
            .map(|(name, &axis)| super::VocabTag {
                axis,
                name: format!("{}={name}", axes[axis].name),
                unknown: name == UNKNOWN,
            })
            .collect()
    }

    pub(super) fn tag_value(&self, t: u32) -> (usize, &str) {
        (self.tag_axis[t as usize], &self.tag_name[t as usize])
    }

    pub(super) fn rule_id(&self, r: u32) -> &str {
        &self.rule_ids[r as usize]
    }

    /// The names behind ids: per axis the values (`unknown` when none), and
    /// the rule ids.
    pub(super) fn names(&self, ids: &TagIds) -> ItemTags {
        let mut values = vec![Vec::new(); self.n_axes];
        for &t in &ids.tags {
            values[self.tag_axis[t as usize]].push(self.tag_name[t as usize].clone());
        }
        for v in &mut values {
            if v.is_empty() {
                v.push(UNKNOWN.to_owned());
            }
        }
        ItemTags {
            values,
            rules: ids
                .rules
                .iter()
                .map(|&r| self.rule_ids[r as usize].clone())
                .collect(),
        }
    }
}
