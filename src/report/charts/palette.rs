//! Colours: colour-blind-safe schemes from ColorBrewer (Brewer & Harrower,
//! checked for the common colour-vision deficiencies). Deltas use the
//! diverging RdBu scheme, blue for improved and orange-red for regressed;
//! accuracies use the sequential YlGnBu scheme. Meaning is never carried by
//! colour alone: every cell and point also has a number or a mark.

use plotters::style::RGBColor;

pub const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub const MUTED: RGBColor = RGBColor(0x66, 0x66, 0x66);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
pub const BAND: RGBColor = RGBColor(0xF6, 0xF6, 0xF6);
pub const AXIS: RGBColor = RGBColor(0x44, 0x44, 0x44);
pub const EMPTY: RGBColor = RGBColor(0xF0, 0xF0, 0xF0);

/// Points and whiskers of the forest plot, by status.
pub const REGRESSED: RGBColor = RGBColor(0xB2, 0x18, 0x2B);
pub const IMPROVED: RGBColor = RGBColor(0x21, 0x66, 0xAC);
pub const NEUTRAL: RGBColor = RGBColor(0x70, 0x70, 0x70);
pub const FAINT: RGBColor = RGBColor(0xA8, 0xA8, 0xA8);

/// ColorBrewer RdBu, 11 classes, red (negative) to blue (positive).
const RDBU: [u32; 11] = [
    0x67001F, 0xB2182B, 0xD6604D, 0xF4A582, 0xFDDBC7, 0xF7F7F7, 0xD1E5F0, 0x92C5DE, 0x4393C3, 0x2166AC,
    0x053061,
];

/// ColorBrewer YlGnBu, 9 classes, light (low) to dark (high).
const YLGNBU: [u32; 9] = [
    0xFFFFD9, 0xEDF8B1, 0xC7E9B4, 0x7FCDBB, 0x41B6C4, 0x1D91C0, 0x225EA8, 0x253494, 0x081D58,
];

fn rgb(c: u32) -> RGBColor {
    RGBColor((c >> 16) as u8, (c >> 8) as u8, c as u8)
}

/// Linear interpolation along `stops` at `t` in [0, 1].
fn ramp(stops: &[u32], t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.5 };
    let pos = t * (stops.len() - 1) as f64;
    let i = (pos.floor() as usize).min(stops.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (rgb(stops[i]), rgb(stops[i + 1]));
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour of a delta on a symmetric scale of `±max`: blue up, red down.
/// The darkest classes are left out so that cell text stays readable.
pub fn diverging(delta: f64, max: f64) -> RGBColor {
    let t = if max > 0.0 { delta / max } else { 0.0 };
    ramp(&RDBU[1..10], 0.5 + 0.5 * t.clamp(-1.0, 1.0))
}

/// Colour of an accuracy in [0, 1].
pub fn sequential(x: f64) -> RGBColor {
    ramp(&YLGNBU[..8], x)
}

/// Blend towards white: `amount` 0 keeps the colour, 1 gives white.
pub fn fade(c: RGBColor, amount: f64) -> RGBColor {
    let m = |x: u8| (f64::from(x) + (255.0 - f64::from(x)) * amount).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

/// Black or white, whichever reads better on `bg` (WCAG relative luminance).
pub fn ink_on(bg: RGBColor) -> RGBColor {
    let lin = |x: u8| {
        let c = f64::from(x) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(bg.0) + 0.7152 * lin(bg.1) + 0.0722 * lin(bg.2);
    // Contrast with black (l + 0.05) / 0.05 against white 1.05 / (l + 0.05).
    if (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) {
        TEXT
    } else {
        RGBColor(0xFF, 0xFF, 0xFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_is_white_at_zero_blue_up_red_down() {
        assert_eq!(diverging(0.0, 0.3), rgb(0xF7F7F7));
        let up = diverging(0.3, 0.3);
        let down = diverging(-0.3, 0.3);
        assert!(up.2 > up.0, "{up:?}");
        assert!(down.0 > down.2, "{down:?}");
        assert_eq!(diverging(-9.0, 0.3), down);
        assert_eq!(diverging(f64::NAN, 0.3), rgb(0xF7F7F7));
    }

    #[test]
    fn ink_is_white_on_dark_and_dark_on_light() {
        assert_eq!(ink_on(rgb(0x2166AC)), RGBColor(0xFF, 0xFF, 0xFF));
        assert_eq!(ink_on(rgb(0xF7F7F7)), TEXT);
    }
}
