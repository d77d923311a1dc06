//! The search itself: item bitsets of the frequent tags, level-wise
//! candidate generation, exact support and error sums, and the statistics of
//! the slices kept.

use super::*;

pub(super) struct Data<'a> {
    pub(super) names: &'a [String],
    pub(super) effect: &'a [f64],
    pub(super) n: usize,
    pub(super) words: usize,
    pub(super) errors: Vec<f64>,
    /// Set bits mark errors of 1 when every error is 0 or 1.
    pub(super) error_bits: Option<Vec<u64>>,
    pub(super) mean_error: f64,
    pub(super) alpha: f64,
    pub(super) min_support: usize,
    pub(super) max_level: usize,
    pub(super) top_k: usize,
    pub(super) fdr: f64,
    pub(super) max_examples: usize,
    /// Item bitset of each tag with at least `min_support` items (by tag id).
    pub(super) tag_bits: Vec<Option<Vec<u64>>>,
    /// Frequent tags of each item, ascending (CSR: `row_tags[row_start[i]..row_start[i + 1]]`).
    pub(super) row_start: Vec<usize>,
    pub(super) row_tags: Vec<u32>,
    /// Keep children with the same items as a parent ([`super::search_sliceline`]).
    pub(super) keep_same_items: bool,
}

impl<'a> Data<'a> {
    pub(super) fn new(input: &LatticeInput<'a>, s: &LatticeSettings) -> Option<Data<'a>> {
        let n = input
            .item_tags
            .len()
            .min(input.errors.len())
            .min(input.effect.len())
            .min(u32::MAX as usize);
        if n == 0 || s.top_k == 0 || s.max_level == 0 {
            return None;
        }
        let errors: Vec<f64> = input.errors[..n]
            .iter()
            .map(|&e| if e.is_nan() { 0.0 } else { e.clamp(0.0, 1.0) })
            .collect();
        let mean_error = errors.iter().sum::<f64>() / n as f64;
        if mean_error <= 0.0 {
            return None;
        }
        let words = n.div_ceil(64);
        let error_bits = errors.iter().all(|&e| e == 0.0 || e == 1.0).then(|| {
            let mut bits = vec![0u64; words];
            for (i, _) in errors.iter().enumerate().filter(|(_, &e)| e == 1.0) {
                bits[i / 64] |= 1 << (i % 64);
            }
            bits
        });

        let n_tags = input.tag_names.len();
        let min_support = s.min_support.max(1);
        // An upper bound on each tag's support (exact for deduplicated lists).
        let mut counts = vec![0usize; n_tags];
        for tags in &input.item_tags[..n] {
            for &t in tags {
                if let Some(c) = counts.get_mut(t as usize) {
                    *c += 1;
                }
            }
        }
        let frequent: Vec<bool> = counts.iter().map(|&c| c >= min_support).collect();
        let mut tag_bits: Vec<Option<Vec<u64>>> =
            frequent.iter().map(|&f| f.then(|| vec![0u64; words])).collect();
        let mut row_start = Vec::with_capacity(n + 1);
        let mut row_tags = Vec::new();
        row_start.push(0);
        for (i, tags) in input.item_tags[..n].iter().enumerate() {
            let start = row_tags.len();
            for &t in tags {
                if let Some(Some(bits)) = tag_bits.get_mut(t as usize) {
                    bits[i / 64] |= 1 << (i % 64);
                    row_tags.push(t);
                }
            }
            sort_dedup_tail(&mut row_tags, start);
            row_start.push(row_tags.len());
        }

        Some(Data {
            names: input.tag_names,
            effect: &input.effect[..n],
            n,
            words,
            errors,
            error_bits,
            mean_error,
            alpha: s.alpha,
            min_support,
            max_level: s.max_level,
            top_k: s.top_k,
            fdr: s.fdr,
            max_examples: s.max_examples,
            tag_bits,
            row_start,
            row_tags,
            keep_same_items: false,
        })
    }

    pub(super) fn score(&self, size: usize, err: f64) -> f64 {
        let a = self.alpha;
        a * (err / size as f64 / self.mean_error - 1.0) - (1.0 - a) * (self.n as f64 / size as f64 - 1.0)
    }

    /// Whether no slice within these bounds (size at most `size_ub`, error sum
    /// at most `err_ub`, item errors at most `max_ub`, at least `min_support`
    /// items) can score at least `threshold`.
    pub(super) fn beaten(&self, size_ub: usize, err_ub: f64, max_ub: f64, threshold: f64) -> bool {
        let a = self.alpha;
        let rate_ub = max_ub.min(err_ub / self.min_support as f64) / self.mean_error;
        let size_term = self.n as f64 / size_ub as f64;
        let ub = a * (rate_ub - 1.0) - (1.0 - a) * (size_term - 1.0);
        let scale = 1.0 + a.abs() * (rate_ub + 1.0) + (1.0 - a).abs() * (size_term + 1.0);
        ub + BOUND_SLACK * scale < threshold
    }

    pub(super) fn name(&self, tags: &[u32]) -> String {
        let mut parts: Vec<&str> = tags.iter().map(|&t| self.names[t as usize].as_str()).collect();
        parts.sort_unstable();
        parts.join(" & ")
    }

    pub(super) fn bits(&self, tag: u32) -> &[u64] {
        // Only frequent tags ever enter a node, and they all have a bitset.
        self.tag_bits[tag as usize].as_deref().unwrap_or(&[])
    }

    /// The non-zero words of the AND of the tags' bitsets.
    pub(super) fn slice_words(&self, tags: &[u32]) -> Words {
        let bits: Vec<&[u64]> = tags.iter().map(|&t| self.bits(t)).collect();
        if bits.is_empty() || bits.iter().any(|b| b.len() != self.words) {
            return Words::new();
        }
        (0..self.words)
            .filter_map(|w| {
                let x = bits.iter().fold(!0u64, |acc, b| acc & b[w]);
                (x != 0).then_some((w as u32, x))
            })
            .collect()
    }

    /// The items of a slice: its tag's bitset at level 1, else the AND of
    /// its tags' bitsets, kept as non-zero words when under half are set.
    pub(super) fn members(&self, tags: &[u32]) -> Members<'_> {
        if let [t] = tags {
            return Members::Dense(Cow::Borrowed(self.bits(*t)));
        }
        let words = self.slice_words(tags);
        if words.len() * 2 < self.words {
            return Members::Sparse(words);
        }
        let mut dense = vec![0u64; self.words];
        for (w, x) in words {
            dense[w as usize] = x;
        }
        Members::Dense(Cow::Owned(dense))
    }

    /// Size, error sum and maximum error of `members & bits`.
    pub(super) fn and_stats(&self, members: &Members, bits: &[u64]) -> (usize, f64, f64) {
        let mut acc = (0, 0.0, 0.0);
        match (members, &self.error_bits) {
            // The hot loop of dense parents: branch-free, over whole bitsets.
            (Members::Dense(p), Some(eb)) => {
                let (mut size, mut err) = (0u64, 0u64);
                for ((&x, &y), &e) in p.iter().zip(bits).zip(eb) {
                    let m = x & y;
                    size += u64::from(m.count_ones());
                    err += u64::from((m & e).count_ones());
                }
                acc = (size as usize, err as f64, if err > 0 { 1.0 } else { 0.0 });
            }
            (Members::Dense(p), None) => {
                for (w, (&x, &y)) in p.iter().zip(bits).enumerate() {
                    if x & y != 0 {
                        self.add_word(w, x & y, &mut acc);
                    }
                }
            }
            (Members::Sparse(words), _) => {
                for &(w, x) in words {
                    let m = x & bits[w as usize];
                    if m != 0 {
                        self.add_word(w as usize, m, &mut acc);
                    }
                }
            }
        }
        acc
    }

    /// Size, error sum and maximum error of the items in `m`, the bits of word `w`.
    pub(super) fn add_word(&self, w: usize, m: u64, acc: &mut (usize, f64, f64)) {
        acc.0 += m.count_ones() as usize;
        match &self.error_bits {
            Some(eb) => {
                let e = (m & eb[w]).count_ones();
                if e > 0 {
                    acc.1 += f64::from(e);
                    acc.2 = 1.0;
                }
            }
            None => for_each_bit(w, m, |i| {
                let e = self.errors[i];
                acc.1 += e;
                acc.2 = acc.2.max(e);
            }),
        }
    }

    pub(super) fn level_one(&self) -> Vec<Node> {
        let tags: Vec<u32> = (0..self.tag_bits.len() as u32)
            .filter(|&t| self.tag_bits[t as usize].is_some())
            .collect();
        tags.into_par_iter()
            .map(|t| {
                let mut acc = (0, 0.0, 0.0);
                for (w, &x) in self.bits(t).iter().enumerate() {
                    if x != 0 {
                        self.add_word(w, x, &mut acc);
                    }
                }
                Node {
                    tags: vec![t],
                    size: acc.0,
                    err: acc.1,
                    max: acc.2,
                    parent_size: self.n,
                }
            })
            .filter(|node| self.valid(node))
            .collect()
    }

    pub(super) fn valid(&self, node: &Node) -> bool {
        node.size >= self.min_support && (self.keep_same_items || node.size < node.parent_size)
    }

    /// The top `k` slices by score (ties by name) and the number of slices
    /// evaluated (those with at least `min_support` items and new items).
    pub(super) fn search_lattice(&self, method: Method) -> (Vec<Ranked>, usize) {
        let mut top: Vec<Ranked> = Vec::new();
        let mut level = self.level_one();
        let mut evaluated = level.len();
        self.offer(&mut top, &level);
        for _ in 1..self.max_level {
            let threshold = self.threshold(&top);
            level.retain(|p| !self.beaten(p.size, p.err, p.max, threshold));
            if level.len() < 2 {
                break;
            }
            level = self.next_level(&level, threshold, method);
            evaluated += level.len();
            self.offer(&mut top, &level);
        }
        (top, evaluated)
    }

    pub(super) fn threshold(&self, top: &[Ranked]) -> f64 {
        if top.len() >= self.top_k {
            top[self.top_k - 1].score
        } else {
            0.0
        }
    }

    pub(super) fn offer(&self, top: &mut Vec<Ranked>, nodes: &[Node]) {
        let threshold = self.threshold(top);
        for node in nodes {
            let score = self.score(node.size, node.err);
            if score > 0.0 && score >= threshold {
                top.push(Ranked {
                    tags: node.tags.clone(),
                    name: self.name(&node.tags),
                    size: node.size,
                    err: node.err,
                    score,
                });
            }
        }
        top.sort_by(rank_order);
        top.truncate(self.top_k);
    }

    /// Level `l + 1` from the surviving level-`l` slices (sorted by tags),
    /// in lexicographic order, keeping only valid children.
    pub(super) fn next_level(&self, parents: &[Node], threshold: f64, method: Method) -> Vec<Node> {
        let index: HashMap<&[u32], usize> = parents
            .iter()
            .enumerate()
            .map(|(i, p)| (p.tags.as_slice(), i))
            .collect();
        let mut group_end = vec![parents.len(); parents.len()];
        for i in (0..parents.len().saturating_sub(1)).rev() {
            if prefix(&parents[i].tags) == prefix(&parents[i + 1].tags) {
                group_end[i] = group_end[i + 1];
            } else {
                group_end[i] = i + 1;
            }
        }
        let children: Vec<Vec<Node>> = (0..parents.len())
            .into_par_iter()
            .map(|i| self.children(parents, &index, i, group_end[i], threshold, method))
            .collect();
        children.into_iter().flatten().collect()
    }

    /// The valid children of `parents[i]`: joins with `parents[i + 1..end]`.
    pub(super) fn children(
        &self,
        parents: &[Node],
        index: &HashMap<&[u32], usize>,
        i: usize,
        end: usize,
        threshold: f64,
        method: Method,
    ) -> Vec<Node> {
        let p1 = &parents[i];
        let l = p1.tags.len();
        let mut child = p1.tags.clone();
        child.push(0);
        let mut key = Vec::with_capacity(l);
        // (extension tag, smallest parent size)
        let mut ext: Vec<(u32, usize)> = Vec::new();
        'join: for p2 in &parents[i + 1..end] {
            let t = p2.tags[l - 1];
            child[l] = t;
            let mut size_ub = p1.size.min(p2.size);
            let mut err_ub = p1.err.min(p2.err);
            let mut max_ub = p1.max.min(p2.max);
            // The other parents drop one of the first l - 1 tags.
            for x in 0..l - 1 {
                key.clear();
                key.extend(child.iter().enumerate().filter(|&(j, _)| j != x).map(|(_, &t)| t));
                let Some(&q) = index.get(key.as_slice()) else {
                    continue 'join;
                };
                let q = &parents[q];
                size_ub = size_ub.min(q.size);
                err_ub = err_ub.min(q.err);
                max_ub = max_ub.min(q.max);
            }
            if !self.beaten(size_ub, err_ub, max_ub, threshold) {
                ext.push((t, size_ub));
            }
        }
        if ext.is_empty() {
            return Vec::new();
        }

        let members = self.members(&p1.tags);
        let avg_tags = self.row_tags.len() as f64 / self.n as f64;
        let use_count = match method {
            Method::Bitset => false,
            Method::Count => true,
            // Counting reads every item's tag list once, a cache miss each
            // (measured at 4 to 5 word operations per tag at a million items;
            // 8 leans towards bitsets); the bitset path reads every (non-zero)
            // word once per child.
            Method::Auto => 8.0 * p1.size as f64 * (avg_tags + 1.0) < (ext.len() * members.cost()) as f64,
        };
        let stats: Vec<(usize, f64, f64)> = if use_count {
            self.count_children(&members, &ext)
        } else {
            ext.iter()
                .map(|&(t, _)| self.and_stats(&members, self.bits(t)))
                .collect()
        };
        ext.iter()
            .zip(stats)
            .map(|(&(t, parent_size), (size, err, max))| {
                child[l] = t;
                Node {
                    tags: child.clone(),
                    size,
                    err,
                    max,
                    parent_size,
                }
            })
            .filter(|node| self.valid(node))
            .collect()
    }

    /// Size, error sum and maximum error of `parent & tag` for every
    /// extension tag, from one pass over the parent's items.
    pub(super) fn count_children(&self, members: &Members, ext: &[(u32, usize)]) -> Vec<(usize, f64, f64)> {
        let Some(&(first, _)) = ext.first() else {
            return Vec::new();
        };
        // Dense lookup over the span of extension tags (ascending).
        let span = ext[ext.len() - 1].0 - first + 1;
        let mut lookup = vec![usize::MAX; span as usize];
        for (k, &(t, _)) in ext.iter().enumerate() {
            lookup[(t - first) as usize] = k;
        }
        let mut acc = vec![(0usize, 0.0f64, 0.0f64); ext.len()];
        members.for_each_word(|w, x| {
            for_each_bit(w, x, |i| {
                let e = self.errors[i];
                for &t in &self.row_tags[self.row_start[i]..self.row_start[i + 1]] {
                    if t < first {
                        continue;
                    }
                    let Some(&k) = lookup.get((t - first) as usize) else {
                        break;
                    };
                    if k != usize::MAX {
                        let a = &mut acc[k];
                        a.0 += 1;
                        a.1 += e;
                        a.2 = a.2.max(e);
                    }
                }
            });
        });
        acc
    }

    /// Tests the ranked slices against their complements.
    pub(super) fn describe(&self, ranked: Vec<Ranked>, evaluated: usize) -> Vec<FoundSlice> {
        let mut found: Vec<FoundSlice> = ranked.into_par_iter().map(|r| self.found_slice(r)).collect();
        let p: Vec<f64> = found.iter().map(|f| f.p_value).collect();
        for (f, q) in found.iter_mut().zip(family_q_values(&p, evaluated)) {
            f.q_value = q;
            f.significant = q <= self.fdr;
        }
        found
    }

    pub(super) fn found_slice(&self, r: Ranked) -> FoundSlice {
        let mut member = vec![0u64; self.words];
        for (w, x) in self.slice_words(&r.tags) {
            member[w as usize] = x;
        }
        let is_member = |i: usize| (member[i / 64] >> (i % 64)) & 1 == 1;
        let (mut inside, mut outside) = (Moments::default(), Moments::default());
        for (i, &x) in self.effect.iter().enumerate() {
            let m = if is_member(i) { &mut inside } else { &mut outside };
            m.n += 1;
            m.mean += x;
        }
        inside.finish_mean();
        outside.finish_mean();
        let mut examples: Vec<(f64, u32)> = Vec::with_capacity(self.max_examples + 1);
        for (i, &x) in self.effect.iter().enumerate() {
            if is_member(i) {
                inside.m2 += (x - inside.mean).powi(2);
                push_example(&mut examples, self.max_examples, self.errors[i], i as u32);
            } else {
                outside.m2 += (x - outside.mean).powi(2);
            }
        }
        let test = welch(&inside, &outside);
        FoundSlice {
            level: r.tags.len(),
            tags: r.tags,
            name: r.name,
            items: r.size,
            error_sum: r.err,
            error_rate: r.err / r.size as f64,
            score: r.score,
            effect_in: inside.mean,
            effect_out: outside.mean,
            effect_diff: test.diff,
            ci_low: test.ci_low,
            ci_high: test.ci_high,
            p_value: test.p,
            q_value: f64::NAN,
            significant: false,
            examples: examples.into_iter().map(|(_, i)| i).collect(),
        }
    }
}
