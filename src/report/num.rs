//! Numbers for people: every report, chart label and markdown file formats
//! its shares, points, intervals and q-values with these functions.
//!
//! The variants differ on purpose (and each output keeps the one it always
//! used): a chart label shows an undefined value as `–` and a change under
//! 0.05 points as an unsigned `0.0`, while a sentence shows the sign of
//! every change. Values are fractions (0.25 is 25% or 25 points). Nothing
//! here rounds a stored value: only rendering rounds (STYLE.md).

/// `62.4%` of a fraction; `–` when not finite.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "–".to_string()
    }
}

/// `62.4` of a fraction, no unit (for a table headed "%"); not finite prints
/// as Rust prints it (`NaN`).
pub fn pct_bare(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// `-35.0` / `+2.5` points of a fraction, one decimal; an unsigned `0.0`
/// under 0.05 points (no `-0.0` on a chart); `–` when not finite.
pub fn pp(x: f64) -> String {
    if !x.is_finite() {
        "–".to_string()
    } else if (100.0 * x).abs() < 0.05 {
        "0.0".to_string()
    } else {
        format!("{:+.1}", 100.0 * x)
    }
}

/// `+2.5 pp`: points with their unit, always signed; `–` when not finite.
pub fn pp_unit(x: f64) -> String {
    if x.is_finite() {
        format!("{:+.1} pp", 100.0 * x)
    } else {
        "–".to_string()
    }
}

/// `+2.5` points, always signed (`+0.0`, `-0.0` kept: a sentence says
/// which way it moved); not finite prints as Rust prints it (`NaN`).
pub fn pp_signed(x: f64) -> String {
    format!("{:+.1}", 100.0 * x)
}

/// `[-31.2, -23.8]`: an interval in [`pp`]s.
pub fn pp_ci(lo: f64, hi: f64) -> String {
    format!("[{}, {}]", pp(lo), pp(hi))
}

/// `[-31.2, +0.4]`: an interval in [`pp_signed`]s; `[n/a]` when either end
/// is not finite.
pub fn pp_interval(lo: f64, hi: f64) -> String {
    if lo.is_finite() && hi.is_finite() {
        format!("[{}, {}]", pp_signed(lo), pp_signed(hi))
    } else {
        "[n/a]".to_string()
    }
}

/// A q-value (or p-value) to four decimals, scientific below 1e-4
/// (`3.2e-7`); `–` when not finite.
pub fn q4(x: f64) -> String {
    if x.is_finite() {
        q4_bare(x)
    } else {
        "–".to_string()
    }
}

/// [`q4`] where the value is always defined; not finite prints as Rust
/// prints it (`NaN`).
pub fn q4_bare(x: f64) -> String {
    if x < 1e-4 {
        format!("{x:.1e}")
    } else {
        format!("{x:.4}")
    }
}

/// A q-value to three decimals, scientific below 1e-3; `n/a` when not
/// finite (the weakness analysis's tables and summary lines).
pub fn q3(q: f64) -> String {
    if !q.is_finite() {
        "n/a".into()
    } else if q < 1e-3 {
        format!("{q:.1e}")
    } else {
        format!("{q:.3}")
    }
}

/// `x` with `digits` decimals; `–` when not finite.
pub fn fixed(x: f64, digits: usize) -> String {
    if x.is_finite() {
        format!("{x:.digits$}")
    } else {
        "–".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_variant_keeps_its_rendering() {
        assert_eq!(pct(0.6244), "62.4%");
        assert_eq!(pct(f64::NAN), "–");
        assert_eq!(pct_bare(0.6244), "62.4");
        assert_eq!(pp(-0.35), "-35.0");
        assert_eq!(pp(0.025), "+2.5");
        assert_eq!(pp(-0.0004), "0.0");
        assert_eq!(pp(f64::INFINITY), "–");
        assert_eq!(pp_unit(0.025), "+2.5 pp");
        assert_eq!(pp_unit(f64::NAN), "–");
        assert_eq!(pp_signed(-0.0004), "-0.0");
        assert_eq!(pp_signed(f64::NAN), "NaN");
        assert_eq!(pp_ci(-0.312, 0.0), "[-31.2, 0.0]");
        assert_eq!(pp_interval(-0.312, 0.004), "[-31.2, +0.4]");
        assert_eq!(pp_interval(f64::NAN, 0.004), "[n/a]");
        assert_eq!(q4(0.01234), "0.0123");
        assert_eq!(q4(3.2e-7), "3.2e-7");
        assert_eq!(q4(f64::NAN), "–");
        assert_eq!(q4_bare(f64::NAN), "NaN");
        assert_eq!(q3(0.01234), "0.012");
        assert_eq!(q3(3.2e-4), "3.2e-4");
        assert_eq!(q3(f64::NAN), "n/a");
        assert_eq!(fixed(0.12345, 3), "0.123");
        assert_eq!(fixed(f64::NAN, 2), "–");
    }
}
