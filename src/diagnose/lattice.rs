//! TEMPORARY brute-force stand-in (replaced by the SliceLine module).
use std::collections::BTreeMap;
pub struct LatticeInput<'a> {
    pub item_tags: &'a [Vec<u32>],
    pub tag_names: &'a [String],
    pub errors: &'a [f64],
    pub effect: &'a [f64],
}
pub struct LatticeSettings {
    pub alpha: f64,
    pub min_support: usize,
    pub max_level: usize,
    pub top_k: usize,
    pub fdr: f64,
    pub max_examples: usize,
}
pub struct FoundSlice {
    pub tags: Vec<u32>,
    pub name: String,
    pub items: usize,
    pub error_sum: f64,
    pub error_rate: f64,
    pub score: f64,
    pub level: usize,
    pub effect_in: f64,
    pub effect_out: f64,
    pub effect_diff: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub p_value: f64,
    pub q_value: f64,
    pub significant: bool,
    pub examples: Vec<u32>,
}
pub fn search(input: &LatticeInput, s: &LatticeSettings) -> Vec<FoundSlice> {
    let n = input.errors.len();
    if n == 0 {
        return vec![];
    }
    let ebar = input.errors.iter().sum::<f64>() / n as f64;
    if ebar == 0.0 {
        return vec![];
    }
    let mut m: BTreeMap<Vec<u32>, Vec<u32>> = BTreeMap::new();
    for (i, t) in input.item_tags.iter().enumerate() {
        for a in 0..t.len() {
            m.entry(vec![t[a]]).or_default().push(i as u32);
            for b in a + 1..t.len() {
                m.entry(vec![t[a], t[b]]).or_default().push(i as u32);
            }
        }
    }
    let mut out = vec![];
    for (k, items) in m {
        if items.len() < s.min_support || items.len() == n {
            continue;
        }
        let es: f64 = items.iter().map(|&i| input.errors[i as usize]).sum();
        let sc = s.alpha * (es / items.len() as f64 / ebar - 1.0)
            - (1.0 - s.alpha) * (n as f64 / items.len() as f64 - 1.0);
        if sc <= 0.0 {
            continue;
        }
        let mut inside = vec![false; n];
        for &i in &items {
            inside[i as usize] = true;
        }
        let (mut a, mut b) = (vec![], vec![]);
        for i in 0..n {
            if inside[i] {
                a.push(input.effect[i])
            } else {
                b.push(input.effect[i])
            }
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let var = |v: &[f64], m: f64| {
            v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len().max(2) - 1) as f64
        };
        let (ma, mb) = (mean(&a), mean(&b));
        let se = (var(&a, ma) / a.len() as f64 + var(&b, mb) / b.len().max(1) as f64).sqrt();
        let d = ma - mb;
        let p = if se == 0.0 {
            if d == 0.0 {
                1.0
            } else {
                0.0
            }
        } else {
            2.0 * crate::stats::normal_sf((d / se).abs())
        };
        let name = k
            .iter()
            .map(|&t| input.tag_names[t as usize].clone())
            .collect::<Vec<_>>()
            .join(" & ");
        out.push(FoundSlice {
            level: k.len(),
            tags: k,
            name,
            items: items.len(),
            error_sum: es,
            error_rate: es / items.len() as f64,
            score: sc,
            effect_in: ma,
            effect_out: mb,
            effect_diff: d,
            ci_low: d - 1.96 * se,
            ci_high: d + 1.96 * se,
            p_value: p,
            q_value: p,
            significant: false,
            examples: items.iter().take(s.max_examples).copied().collect(),
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.name.cmp(&b.name)));
    out.truncate(s.top_k);
    let q = crate::stats::benjamini_hochberg(&out.iter().map(|f| f.p_value).collect::<Vec<_>>());
    for (f, q) in out.iter_mut().zip(q) {
        f.q_value = q;
        f.significant = q <= s.fdr;
    }
    let mut kept: Vec<FoundSlice> = vec![];
    for f in out {
        if !kept
            .iter()
            .any(|k| k.tags.iter().all(|t| f.tags.contains(t)) || f.tags.iter().all(|t| k.tags.contains(t)))
        {
            kept.push(f);
        }
    }
    kept
}
