//! Required-literal extraction for the regex prefilter.
//!
//! For a pattern, finds clauses of literals such that every match of the
//! pattern contains, for each clause, at least one of its literals. The
//! result is a conjunction of disjunctions: `\bA\b.*\bB\b` gives
//! `[[A], [B]]`, `(?i)\bremainder\b|\bmod\b` gives `[[remainder, mod]]`.
//! Literals are ASCII-lowercased because the prefilter automaton matches
//! ASCII case-insensitively; that only makes it accept more texts, never fewer.
//! A case-folded class is turned into a literal only when it is exactly an
//! ASCII letter pair such as `[Rr]`: Unicode folding adds characters (`k` also
//! matches KELVIN SIGN) that an ASCII-insensitive search would miss, and those
//! classes are expanded into their few members instead.
//!
//! Soundness is all that matters here (a missed literal means a missed tag);
//! selectivity is best effort. Patterns are parsed with `regex-syntax` under
//! the same defaults as `regex::Regex::new`, so the syntax tree is the one the
//! regex engine compiles. An empty result means "always run the regex".

use std::collections::BTreeSet;

use regex_syntax::hir::{Class, Hir, HirKind};

/// Largest literal set kept for one clause (cross products grow fast).
const MAX_SET: usize = 64;
/// Largest class expanded into its members.
const MAX_CLASS: usize = 8;
/// Clauses kept per pattern: each costs automaton patterns and bookkeeping.
const MAX_CLAUSES: usize = 4;

type Set = BTreeSet<Vec<u8>>;

/// What a sub-pattern guarantees about its matches.
struct Info {
    /// Every match is exactly one of these strings.
    exact: Option<Set>,
    /// Every match contains a literal of each clause.
    required: Vec<Set>,
}

impl Info {
    fn exact(set: Set) -> Info {
        Info {
            exact: Some(set),
            required: Vec::new(),
        }
    }

    fn nothing() -> Info {
        Info {
            exact: None,
            required: Vec::new(),
        }
    }

    /// All clauses this sub-pattern guarantees, its exact set included.
    fn clauses(self) -> Vec<Set> {
        let mut out = self.required;
        if let Some(exact) = self.exact {
            push_clause(&mut out, exact);
        }
        out
    }
}

/// Required literal clauses of `pattern`; empty when none are usable or the
/// pattern does not parse (it is then run on every text).
pub(super) fn required_clauses(pattern: &str) -> Vec<Vec<Vec<u8>>> {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return Vec::new();
    };
    select(info(&hir).clauses())
}

/// When `pattern` is exactly one or two word-bounded literals joined by
/// `.*` (`\bA\b` or `\bA\b.*\bB\b`: the shape of most keyword rules), the
/// literals, case as written. The matcher then decides the regex from the
/// positions of the literals' occurrences, which its prefilter scan finds
/// anyway, instead of running the regex. Each literal is non-empty and made
/// of word characters only, so `\b` around it means: no word character
/// right before and right after.
pub(super) fn word_sequence(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::{Dot, Look};
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let HirKind::Concat(parts) = hir.kind() else {
        return None;
    };
    let word_lit = |h: &Hir| -> Option<Vec<u8>> {
        match h.kind() {
            HirKind::Literal(l) => {
                let text = std::str::from_utf8(&l.0).ok()?;
                (!text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                    .then(|| l.0.to_vec())
            }
            _ => None,
        }
    };
    let is_b = |h: &Hir| matches!(h.kind(), HirKind::Look(Look::WordUnicode));
    let is_dot_star = |h: &Hir| match h.kind() {
        HirKind::Repetition(r) => r.min == 0 && r.max.is_none() && *r.sub == Hir::dot(Dot::AnyCharExceptLF),
        _ => false,
    };
    let mut out = Vec::new();
    match parts.len() {
        3 if is_b(&parts[0]) && is_b(&parts[2]) => out.push(word_lit(&parts[1])?),
        7 if is_b(&parts[0])
            && is_b(&parts[2])
            && is_dot_star(&parts[3])
            && is_b(&parts[4])
            && is_b(&parts[6]) =>
        {
            out.push(word_lit(&parts[1])?);
            out.push(word_lit(&parts[5])?);
        }
        _ => return None,
    }
    Some(out)
}

/// Keeps the most selective clauses: longest shortest-literal first, and
/// single-byte clauses only when nothing better exists.
fn select(mut clauses: Vec<Set>) -> Vec<Vec<Vec<u8>>> {
    let score = |c: &Set| c.iter().map(Vec::len).min().unwrap_or(0);
    clauses.sort_by(|a, b| score(b).cmp(&score(a)).then(a.len().cmp(&b.len())));
    clauses.dedup();
    let best = clauses.first().map(score).unwrap_or(0);
    clauses
        .into_iter()
        .filter(|c| score(c) >= 2 || best < 2)
        .take(MAX_CLAUSES)
        .map(|c| c.into_iter().collect())
        .collect()
}

fn push_clause(clauses: &mut Vec<Set>, set: Set) {
    // A clause with the empty string holds for every text: useless.
    if !set.is_empty() && !set.contains(&Vec::new()) {
        clauses.push(set);
    }
}

fn single(bytes: &[u8]) -> Set {
    let mut set = Set::new();
    set.insert(bytes.to_ascii_lowercase());
    set
}

fn info(hir: &Hir) -> Info {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Info::exact(single(b"")),
        HirKind::Literal(lit) => Info::exact(single(&lit.0)),
        HirKind::Class(class) => class_set(class).map_or_else(Info::nothing, Info::exact),
        HirKind::Capture(cap) => info(&cap.sub),
        HirKind::Repetition(rep) => {
            if rep.min == 0 {
                return Info::nothing();
            }
            let sub = info(&rep.sub);
            if rep.min == 1 && rep.max == Some(1) {
                sub
            } else {
                // At least one copy occurs, so its clauses hold; the match
                // itself is no longer one of the copy's exact strings.
                Info {
                    exact: None,
                    required: sub.clauses(),
                }
            }
        }
        HirKind::Concat(subs) => concat(subs),
        HirKind::Alternation(subs) => alternation(subs),
    }
}

fn class_set(class: &Class) -> Option<Set> {
    let mut set = Set::new();
    match class {
        Class::Unicode(c) => {
            let size: usize = c.ranges().iter().map(|r| r.len()).sum();
            if size > MAX_CLASS {
                return None;
            }
            for r in c.ranges() {
                for ch in r.start()..=r.end() {
                    let mut buf = [0u8; 4];
                    set.insert(ch.encode_utf8(&mut buf).as_bytes().to_ascii_lowercase());
                }
            }
        }
        Class::Bytes(c) => {
            let size: usize = c.ranges().iter().map(|r| r.len()).sum();
            if size > MAX_CLASS {
                return None;
            }
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    set.insert(vec![b.to_ascii_lowercase()]);
                }
            }
        }
    }
    Some(set)
}

fn product(a: &Set, b: &Set) -> Set {
    let mut out = Set::new();
    for x in a {
        for y in b {
            let mut s = x.clone();
            s.extend_from_slice(y);
            out.insert(s);
        }
    }
    out
}

fn concat(subs: &[Hir]) -> Info {
    let mut required = Vec::new();
    // The exact strings of the current run of exact sub-patterns.
    let mut run = single(b"");
    let mut all_exact = true;
    for sub in subs {
        let sub = info(sub);
        required.extend(sub.required);
        match sub.exact {
            Some(exact) if run.len() * exact.len() <= MAX_SET => run = product(&run, &exact),
            Some(exact) => {
                push_clause(&mut required, std::mem::replace(&mut run, exact));
                all_exact = false;
            }
            None => {
                push_clause(&mut required, std::mem::replace(&mut run, single(b"")));
                all_exact = false;
            }
        }
    }
    if all_exact {
        Info {
            exact: Some(run),
            required,
        }
    } else {
        push_clause(&mut required, run);
        Info {
            exact: None,
            required,
        }
    }
}

fn alternation(subs: &[Hir]) -> Info {
    let infos: Vec<Info> = subs.iter().map(info).collect();
    if infos.iter().all(|i| i.exact.is_some()) {
        let union: Set = infos
            .iter()
            .flat_map(|i| i.exact.iter().flatten().cloned())
            .collect();
        if union.len() <= MAX_SET {
            return Info::exact(union);
        }
    }
    // Every branch must contribute one clause; the match contains a literal
    // of whichever branch matched.
    let mut union = Set::new();
    for sub in infos {
        let best = sub
            .clauses()
            .into_iter()
            .max_by_key(|c| c.iter().map(Vec::len).min().unwrap_or(0));
        match best {
            Some(clause) => union.extend(clause),
            None => return Info::nothing(),
        }
        if union.len() > MAX_SET {
            return Info::nothing();
        }
    }
    let mut required = Vec::new();
    push_clause(&mut required, union);
    Info {
        exact: None,
        required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clauses(pattern: &str) -> Vec<Vec<String>> {
        required_clauses(pattern)
            .into_iter()
            .map(|c| c.into_iter().map(|l| String::from_utf8(l).unwrap()).collect())
            .collect()
    }

    #[test]
    fn word_pair_requires_both_words() {
        let mut got = clauses(r"\bapple\b.*\bpear\b");
        got.sort();
        assert_eq!(got, [vec!["apple"], vec!["pear"]]);
    }

    #[test]
    fn case_insensitive_alternation_is_one_clause() {
        assert_eq!(clauses(r"(?i)\bremainder\b|\bmod\b"), [vec!["mod", "remainder"]]);
    }

    #[test]
    fn unicode_case_folding_keeps_extra_members() {
        // (?i)k also matches U+212A KELVIN SIGN.
        let got = clauses("(?i)kilo");
        assert_eq!(got.len(), 1);
        assert!(got[0].contains(&"kilo".to_owned()));
        assert!(got[0].contains(&"\u{212A}ilo".to_owned()));
    }

    #[test]
    fn optional_parts_are_not_required() {
        assert_eq!(clauses(r"colou?r"), [vec!["colo"]]);
        assert!(clauses(r"(abc)?").is_empty());
        assert!(clauses(r".*").is_empty());
        assert!(clauses(r"\d+").is_empty());
    }

    #[test]
    fn repetition_keeps_its_copy() {
        assert_eq!(clauses(r"(ab)+x"), [vec!["ab"]]);
    }

    #[test]
    fn alternation_without_literal_in_a_branch_gives_nothing() {
        assert!(clauses(r"foo|\d+").is_empty());
    }

    #[test]
    fn invalid_pattern_gives_nothing() {
        assert!(clauses(r"(unclosed").is_empty());
    }
}

#[cfg(test)]
mod word_sequence_tests {
    use super::word_sequence;

    #[test]
    fn keyword_rules_are_word_sequences() {
        assert_eq!(
            word_sequence(r"\bremainder\b.*\bpercent\b"),
            Some(vec![b"remainder".to_vec(), b"percent".to_vec()])
        );
        assert_eq!(word_sequence(r"\bmod\b"), Some(vec![b"mod".to_vec()]));
        assert_eq!(word_sequence(r"(?i)\bmod\b"), None);
        assert_eq!(word_sequence(r"\bmod\b.+\bx\b"), None);
        assert_eq!(word_sequence(r"(?s)\ba\b.*\bb\b"), None);
        assert_eq!(word_sequence(r"\ba b\b"), None);
    }
}
