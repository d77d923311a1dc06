//! Spark-identical document hashes (FORMATS.md section 9).
//!
//! Spark SQL `xxhash64(a, b, ...)` is XXH64 with seed 42, chained: each
//! argument is hashed with the previous result as its seed; a STRING as its
//! UTF-8 bytes, an INT as 4 little-endian bytes. Every random number of
//! `apply` is `xxhash64(salt, doc_id, slot)` (slot an INT), shifted right
//! by 11 bits into a 53-bit integer `h`; `u = (h + 0.5) / 2^53` lies in
//! (0, 1) (never 0). Decisions compare `h` against integer thresholds, so
//! Spark and caploop agree bit for bit.

use xxhash_rust::xxh64::xxh64;

/// Spark's seed for `xxhash64`.
pub const SPARK_SEED: u64 = 42;
/// `2^53`: one past the largest 53-bit hash.
pub const H_END: u64 = 1 << 53;

/// Spark `xxhash64` of one STRING argument, chained from `seed`.
pub fn chain_str(seed: u64, s: &str) -> u64 {
    xxh64(s.as_bytes(), seed)
}

/// Spark `xxhash64` of one INT argument, chained from `seed`.
pub fn chain_int(seed: u64, v: i32) -> u64 {
    xxh64(&v.to_le_bytes(), seed)
}

/// The seed after the salt: `xxhash64(salt, ...)` starts here.
pub fn salt_seed(salt: &str) -> u64 {
    chain_str(SPARK_SEED, salt)
}

/// The 53-bit hash of (salt, doc_id, slot), from the doc's seed
/// `chain_str(salt_seed(salt), doc_id)`.
#[inline]
pub fn h53(doc_seed: u64, slot: u32) -> u64 {
    chain_int(doc_seed, slot as i32) >> 11
}

/// `u = (h + 0.5) / 2^53`, in (0, 1].
#[inline]
pub fn unit(h: u64) -> f64 {
    (h as f64 + 0.5) * (1.0 / H_END as f64)
}

/// The Efraimidis-Spirakis key `-ln(u) / w` (non-negative; `w > 0`).
#[inline]
pub fn es_key(h: u64, w: f64) -> f64 {
    let k = -unit(h).ln() / w;
    // -0.0 (u rounding to 1) is ordered as 0.
    if k == 0.0 {
        0.0
    } else {
        k
    }
}

/// The smallest `h` in `[0, 2^53]` with `pred(h)` true, for a predicate
/// that is false then true as `h` grows (`2^53` when never true).
pub fn first_true(pred: impl Fn(u64) -> bool) -> u64 {
    let (mut lo, mut hi) = (0u64, H_END);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_check_vectors() {
        // FORMATS.md section 9: xxhash64('Spark', array(123), 2) in Spark's docs.
        let h = chain_int(chain_int(chain_str(SPARK_SEED, "Spark"), 123), 2);
        assert_eq!(h as i64, 5602566077635097486);
        assert_eq!(chain_str(SPARK_SEED, "hello"), 0xc3629e6318d53932);
        assert_eq!(chain_str(SPARK_SEED, ""), 0x98b1582b0977e704);
        assert_eq!(chain_str(SPARK_SEED, "abc"), 0x13c1d910702770e6);
    }

    #[test]
    fn unit_is_open_below_and_keys_monotone() {
        assert!(unit(0) > 0.0);
        assert!(unit(H_END - 1) <= 1.0);
        assert!(es_key(H_END - 1, 1.0) >= 0.0);
        let w = 3.7;
        let mut prev = f64::INFINITY;
        for h in (0..H_END).step_by((H_END / 100_003) as usize) {
            let k = es_key(h, w);
            assert!(k <= prev, "key not monotone at {h}");
            prev = k;
        }
        let t = first_true(|h| es_key(h, w) <= 1.0);
        assert!(es_key(t, w) <= 1.0 && (t == 0 || es_key(t - 1, w) > 1.0));
    }
}
