//! TEMPORARY STUB (replaced by the real module before commit)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval { pub low: f64, pub high: f64 }
pub struct MeanEstimate { pub n: usize, pub mean: f64, pub se: f64, pub ci: Interval }
pub enum PairedMethod { McNemarExact, PairedT }
pub struct PairedComparison { pub n: usize, pub baseline_mean: f64, pub candidate_mean: f64, pub delta: f64, pub se: f64, pub ci: Interval, pub p_value: f64, pub sd_diff: f64, pub method: PairedMethod }
pub fn wilson_interval(s: u64, n: u64, _c: f64) -> Interval { let p = s as f64 / n.max(1) as f64; Interval{low:p, high:p} }
pub fn clustered_mean(m: &[f64], _c: f64) -> MeanEstimate { let mean = m.iter().sum::<f64>()/m.len() as f64; MeanEstimate{n:m.len(), mean, se:0.0, ci:Interval{low:mean,high:mean}} }
pub fn pass_at_k(_n: u32, _c: u32, _k: u32) -> Option<f64> { Some(0.5) }
pub fn paired_binary(n: usize, bc: usize, r: usize, f: usize, _c: f64) -> PairedComparison {
  let b = bc as f64 / n as f64; let d = (f as f64 - r as f64)/n as f64;
  let p = if r + f == 0 { 1.0 } else if (r as f64 - f as f64).abs() > 2.0*((r+f) as f64).sqrt() { 0.0001 } else { 0.5 };
  let sd = ((r + f) as f64 / n as f64 - d*d).max(0.0).sqrt();
  PairedComparison{n, baseline_mean:b, candidate_mean:b+d, delta:d, se:0.0, ci:Interval{low:d,high:d}, p_value:p, sd_diff: sd, method:PairedMethod::McNemarExact} }
pub fn paired_means(x: &[f64], y: &[f64], _c: f64) -> PairedComparison { let n=x.len(); let b=x.iter().sum::<f64>()/n as f64; let c=y.iter().sum::<f64>()/n as f64; PairedComparison{n, baseline_mean:b, candidate_mean:c, delta:c-b, se:0.0, ci:Interval{low:0.0,high:0.0}, p_value:1.0, sd_diff:0.0, method:PairedMethod::PairedT} }
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> { p.to_vec() }
pub fn minimum_detectable_effect(n: usize, sd: f64, _a: f64, _p: f64) -> f64 { 2.8*sd/(n as f64).sqrt() }
