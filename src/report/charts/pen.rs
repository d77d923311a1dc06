//! Drawing in logical pixels on any plotters backend, with text measured by
//! the embedded font, and the two outputs: SVG (with `<title>` tooltips)
//! and PNG.

use std::cell::RefCell;
use std::sync::OnceLock;

use ab_glyph::{point, Font as _, FontRef, PxScale, ScaleFont};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

/// The font family named in the SVG: a CSS font list, DejaVu Sans where
/// installed, else a font of similar width.
const FAMILY: &str = "DejaVu Sans, Verdana, sans-serif";

/// DejaVu Sans, subset to Latin, Greek, punctuation and a few symbols
/// (licence beside it). It measures all text and draws the PNG's; a
/// character outside the subset draws as a box in the PNG (the SVG is drawn
/// by the viewer's fonts).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-subset.ttf");

/// DejaVu's line height (ascent + descent) in ems: ab_glyph scales a font
/// by its line height, CSS by its em.
const LINE_HEIGHT_EM: f32 = (1901.0 + 483.0) / 2048.0;

/// Where a browser puts the baseline of text centred with `dy="0.5ex"`
/// (plotters' SVG), in ems below the centre: half DejaVu's x-height.
const BASELINE_EM: f64 = 0.5 * 1118.0 / 2048.0;

/// A chart that could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chart could not be drawn: {0}")]
pub struct ChartError(pub String);

impl From<ChartError> for std::io::Error {
    fn from(e: ChartError) -> Self {
        std::io::Error::other(e.to_string())
    }
}

fn err(e: impl std::fmt::Display) -> ChartError {
    ChartError(e.to_string())
}

/// The embedded font, parsed once.
fn face() -> Result<&'static FontRef<'static>, ChartError> {
    static PARSED: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    PARSED
        .get_or_init(|| FontRef::try_from_slice(FONT).ok())
        .as_ref()
        .ok_or_else(|| ChartError("the embedded font could not be read".to_string()))
}

/// Glyphs of `s` on a baseline through the origin at `em` pixels per em,
/// and their advance width.
fn layout(s: &str, em: f64) -> Result<(Vec<ab_glyph::Glyph>, f64), ChartError> {
    let f = face()?;
    let scale = PxScale::from(em as f32 * LINE_HEIGHT_EM);
    let sf = f.as_scaled(scale);
    let mut caret = 0f32;
    let mut prev = None;
    let mut glyphs = Vec::with_capacity(s.len());
    for c in s.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            caret += sf.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(caret, 0.0)));
        caret += sf.h_advance(id);
        prev = Some(id);
    }
    Ok((glyphs, f64::from(caret)))
}

/// Faux bold: the PNG draws bold text twice, this far apart (in ems).
const BOLD_OFFSET_EM: f64 = 0.045;

/// plotters' size for a CSS font size of `em` pixels in SVG: plotters
/// writes `font-size = size / 1.24` (and [`finish_svg`] rounds it).
fn svg_size(em: f64) -> f64 {
    em * 1.24
}

/// Horizontal text anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// A text style: size in CSS pixels, colour, weight.
#[derive(Debug, Clone, Copy)]
pub struct Font {
    pub size: f64,
    pub color: RGBColor,
    pub bold: bool,
}

impl Font {
    pub const fn new(size: f64, color: RGBColor) -> Self {
        Font {
            size,
            color,
            bold: false,
        }
    }

    pub const fn bold(self) -> Self {
        Font { bold: true, ..self }
    }
}

/// Draws in logical pixels on a plotters drawing area.
pub struct Pen<'a, DB: DrawingBackend> {
    area: &'a DrawingArea<DB, Shift>,
    /// Device pixels per logical pixel.
    k: f64,
    svg: bool,
    /// One entry per text element drawn, in order: its tooltip, if any.
    texts: RefCell<Vec<Option<String>>>,
}

impl<DB: DrawingBackend> Pen<'_, DB> {
    fn px(&self, v: f64) -> i32 {
        (v * self.k).round() as i32
    }

    fn pt(&self, x: f64, y: f64) -> (i32, i32) {
        (self.px(x), self.px(y))
    }

    fn check<E: std::error::Error + Send + Sync>(
        r: Result<(), DrawingAreaErrorKind<E>>,
    ) -> Result<(), ChartError> {
        r.map_err(err)
    }

    /// A filled rectangle.
    pub fn fill(&self, x0: f64, y0: f64, x1: f64, y1: f64, color: RGBColor) -> Result<(), ChartError> {
        Self::check(self.area.draw(&Rectangle::new(
            [self.pt(x0, y0), self.pt(x1, y1)],
            color.filled(),
        )))
    }

    /// An unfilled stroke of `width` logical pixels (at least one device pixel).
    fn stroke(&self, color: RGBColor, width: f64) -> ShapeStyle {
        ShapeStyle {
            color: color.to_rgba(),
            filled: false,
            stroke_width: self.px(width).max(1) as u32,
        }
    }

    /// A rectangle outline.
    pub fn frame(
        &self,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        color: RGBColor,
        width: f64,
    ) -> Result<(), ChartError> {
        let style = self.stroke(color, width);
        Self::check(
            self.area
                .draw(&Rectangle::new([self.pt(x0, y0), self.pt(x1, y1)], style)),
        )
    }

    /// A straight line.
    pub fn line(
        &self,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        color: RGBColor,
        width: f64,
    ) -> Result<(), ChartError> {
        let style = self.stroke(color, width);
        Self::check(
            self.area
                .draw(&PathElement::new(vec![self.pt(x0, y0), self.pt(x1, y1)], style)),
        )
    }

    /// A vertical dashed line.
    pub fn dashed_vline(
        &self,
        x: f64,
        y0: f64,
        y1: f64,
        color: RGBColor,
        width: f64,
    ) -> Result<(), ChartError> {
        let (dash, gap) = (4.0, 3.0);
        let mut y = y0;
        while y < y1 {
            self.line(x, y, x, (y + dash).min(y1), color, width)?;
            y += dash + gap;
        }
        Ok(())
    }

    /// A circle: filled with `color`, or white inside a `color` ring.
    pub fn dot(&self, cx: f64, cy: f64, r: f64, color: RGBColor, filled: bool) -> Result<(), ChartError> {
        let c = self.pt(cx, cy);
        let r_px = self.px(r).max(1) as u32;
        if filled {
            Self::check(self.area.draw(&Circle::new(c, r_px, color.filled())))
        } else {
            Self::check(self.area.draw(&Circle::new(c, r_px, WHITE.filled())))?;
            let ring = ShapeStyle {
                color: color.to_rgba(),
                filled: false,
                stroke_width: self.px(1.5).max(1) as u32,
            };
            Self::check(self.area.draw(&Circle::new(c, r_px, ring)))
        }
    }

    /// Text vertically centred on `y`.
    pub fn text(&self, s: &str, x: f64, y: f64, font: Font, anchor: Anchor) -> Result<(), ChartError> {
        self.text_titled(s, None, x, y, font, anchor)
    }

    /// Text with a tooltip (SVG `<title>`; nothing in the PNG).
    pub fn text_titled(
        &self,
        s: &str,
        title: Option<&str>,
        x: f64,
        y: f64,
        font: Font,
        anchor: Anchor,
    ) -> Result<(), ChartError> {
        let s = clean(s);
        if s.is_empty() {
            return Ok(());
        }
        self.texts.borrow_mut().push(title.map(clean_title));
        if self.svg {
            let h = match anchor {
                Anchor::Start => HPos::Left,
                Anchor::Middle => HPos::Center,
                Anchor::End => HPos::Right,
            };
            let weight = if font.bold {
                FontStyle::Bold
            } else {
                FontStyle::Normal
            };
            let style = TextStyle::from((FAMILY, svg_size(font.size), weight))
                .color(&font.color)
                .pos(Pos::new(h, VPos::Center));
            Self::check(self.area.draw(&Text::new(s, self.pt(x, y), style)))
        } else {
            self.raster_text(&s, x, y, font, anchor)
        }
    }

    /// Text rasterised with ab_glyph (plotters' own ab_glyph text ignores
    /// each glyph's left side bearing, which makes uneven spacing).
    fn raster_text(&self, s: &str, x: f64, y: f64, font: Font, anchor: Anchor) -> Result<(), ChartError> {
        let em = font.size * self.k;
        let (glyphs, w) = layout(s, em)?;
        let left = self.k * x
            - match anchor {
                Anchor::Start => 0.0,
                Anchor::Middle => w / 2.0,
                Anchor::End => w,
            };
        let base = self.k * (y + BASELINE_EM * font.size);
        let strikes: &[f64] = if font.bold { &[0.0, BOLD_OFFSET_EM] } else { &[0.0] };
        let f = face()?;
        let c = font.color;
        for &dx in strikes {
            let origin = point((left + dx * em).round() as f32, base.round() as f32);
            for g in &glyphs {
                let mut g = g.clone();
                g.position = origin + g.position;
                let Some(outline) = f.outline_glyph(g) else {
                    continue;
                };
                let b = outline.px_bounds();
                let mut result = Ok(());
                outline.draw(|gx, gy, cov| {
                    if cov <= 0.0 || result.is_err() {
                        return;
                    }
                    let px = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
                    let color = RGBAColor(c.0, c.1, c.2, f64::from(cov.min(1.0)));
                    result = self.area.draw_pixel(px, &color).map_err(err);
                });
                result?;
            }
        }
        Ok(())
    }

    /// Text cut to at most `max_w` logical pixels, with an ellipsis and a
    /// tooltip with the whole text when cut; `title` overrides the tooltip.
    pub fn label(
        &self,
        s: &str,
        title: Option<&str>,
        max_w: f64,
        (x, y): (f64, f64),
        font: Font,
        anchor: Anchor,
    ) -> Result<(), ChartError> {
        let (shown, cut) = fit(s, max_w, font)?;
        let tip = match (title, cut) {
            (Some(t), _) => Some(t.to_string()),
            (None, true) => Some(s.to_string()),
            (None, false) => None,
        };
        self.text_titled(&shown, tip.as_deref(), x, y, font, anchor)
    }
}

/// Control characters would make the SVG invalid XML; newlines would split
/// a label. Both become spaces or U+FFFD.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Like [`clean`], keeping line breaks (tooltips show them).
fn clean_title(s: &str) -> String {
    s.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

/// Width of `s` in logical pixels with the embedded font.
pub fn width(s: &str, font: Font) -> Result<f64, ChartError> {
    let (_, w) = layout(s, font.size)?;
    Ok(if font.bold { w * 1.04 } else { w })
}

/// `s` cut at a character boundary with `…` so that it fits `max_w`
/// logical pixels; and whether it was cut.
pub fn fit(s: &str, max_w: f64, font: Font) -> Result<(String, bool), ChartError> {
    let s = clean(s);
    if width(&s, font)? <= max_w {
        return Ok((s, false));
    }
    let chars: Vec<char> = s.chars().collect();
    // Binary search on the number of characters kept.
    let (mut lo, mut hi) = (0usize, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let cand: String = chars[..mid].iter().collect::<String>() + "…";
        if width(&cand, font)? <= max_w {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let kept: String = chars[..lo].iter().collect();
    Ok((kept.trim_end().to_string() + "…", true))
}

/// Draw with `draw` onto an SVG of logical `size`; see [`super::Chart::svg`].
pub fn svg<F>(size: (u32, u32), title: &str, draw: F, inline: bool) -> Result<String, ChartError>
where
    F: for<'p, 'b> Fn(&Pen<'p, SVGBackend<'b>>) -> Result<(), ChartError>,
{
    let mut buf = String::new();
    let texts = {
        let backend = SVGBackend::with_string(&mut buf, size);
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(err)?;
        let pen = Pen {
            area: &area,
            k: 1.0,
            svg: true,
            texts: RefCell::new(Vec::new()),
        };
        draw(&pen)?;
        area.present().map_err(err)?;
        pen.texts.into_inner()
    };
    let svg = finish_svg(&buf, size, title, &texts, inline);
    // Text drawn by plotters is XML-escaped but may carry bidi overrides.
    Ok(if svg.chars().any(crate::report::text::is_bidi_control) {
        svg.chars()
            .map(|c| {
                if crate::report::text::is_bidi_control(c) {
                    crate::report::text::visible(c)
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        svg
    })
}

/// Escape text for XML/HTML content and attribute values.
pub(crate) fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if crate::report::text::is_bidi_control(c) => out.push_str(&crate::report::text::visible(c)),
            c => out.push(c),
        }
    }
    out
}

/// Rewrite plotters' root element (accessible name, and for inline use no
/// namespace so the HTML holds no URL at all) and give the k-th `<text>`
/// element the k-th recorded tooltip.
fn finish_svg(raw: &str, size: (u32, u32), title: &str, texts: &[Option<String>], inline: bool) -> String {
    let (w, h) = size;
    let title = escape_xml(&clean(title));
    let mut out = String::with_capacity(raw.len() + 256);
    let body = match raw.find(">\n") {
        Some(i) if raw.starts_with("<svg ") => &raw[i + 2..],
        _ => raw,
    };
    if inline {
        out.push_str(&format!(
            "<svg class=\"chart\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{title}\">\n"
        ));
    } else {
        out.push_str(&format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\n<title>{title}</title>\n"
        ));
    }
    let mut rest = body;
    let mut k = 0;
    while let Some(i) = rest.find("<text ") {
        let Some(end) = rest[i..].find(">\n") else {
            break;
        };
        let open_end = i + end + 2;
        out.push_str(&round_font_size(&rest[..open_end]));
        if let Some(Some(tip)) = texts.get(k) {
            out.push_str("<title>");
            out.push_str(&escape_xml(tip));
            out.push_str("</title>");
        }
        k += 1;
        rest = &rest[open_end..];
    }
    out.push_str(rest);
    out
}

/// `font-size="13.000000000000002"` (plotters divides by 1.24) becomes
/// `font-size="13"`.
fn round_font_size(tag: &str) -> String {
    const KEY: &str = "font-size=\"";
    let Some(i) = tag.find(KEY) else {
        return tag.to_string();
    };
    let start = i + KEY.len();
    let Some(len) = tag[start..].find('"') else {
        return tag.to_string();
    };
    match tag[start..start + len].parse::<f64>() {
        Ok(v) => {
            let r = format!("{:.2}", v);
            let r = r.trim_end_matches('0').trim_end_matches('.');
            format!("{}{}{}", &tag[..start], r, &tag[start + len..])
        }
        Err(_) => tag.to_string(),
    }
}

/// Draw with `draw` onto an RGB bitmap `scale` times the logical `size`,
/// encoded as PNG.
pub fn png<F>(size: (u32, u32), scale: f64, draw: F) -> Result<Vec<u8>, ChartError>
where
    F: for<'p, 'b> Fn(&Pen<'p, BitMapBackend<'b>>) -> Result<(), ChartError>,
{
    face()?;
    let (w, h) = (
        (f64::from(size.0) * scale).round() as u32,
        (f64::from(size.1) * scale).round() as u32,
    );
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::with_buffer(&mut rgb, (w, h));
        let area = backend.into_drawing_area();
        area.fill(&WHITE).map_err(err)?;
        let pen = Pen {
            area: &area,
            k: scale,
            svg: false,
            texts: RefCell::new(Vec::new()),
        };
        draw(&pen)?;
        area.present().map_err(err)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(&rgb).map_err(err)?;
        writer.finish().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_sizes_print_as_plain_numbers() {
        let tag = "<text x=\"1\" font-size=\"13.000000000000002\" fill=\"#000\">\n";
        assert_eq!(
            round_font_size(tag),
            "<text x=\"1\" font-size=\"13\" fill=\"#000\">\n"
        );
        assert!(round_font_size("<text font-size=\"11.5\">").contains("\"11.5\""));
        for em in [9.0, 10.0, 11.0, 11.5, 12.5, 13.0, 15.0] {
            assert!((svg_size(em) / 1.24 - em).abs() < 1e-9);
        }
    }

    #[test]
    fn fit_cuts_long_text_with_an_ellipsis() {
        let f = Font::new(12.0, BLACK);
        let (s, cut) = fit("short", 200.0, f).unwrap();
        assert_eq!((s.as_str(), cut), ("short", false));
        let long = "operation=modular_arithmetic & task_type=competition_problem";
        let (s, cut) = fit(long, 120.0, f).unwrap();
        assert!(cut && s.ends_with('…') && s.len() < long.len(), "{s}");
        assert!(width(&s, f).unwrap() <= 120.0);
        let (s, _) = fit(long, 1.0, f).unwrap();
        assert_eq!(s, "…");
    }

    #[test]
    fn tooltips_go_to_the_right_text_element() {
        let raw = "<svg width=\"10\" height=\"10\" viewBox=\"0 0 10 10\" xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"1\">\na\n</text>\n<text x=\"2\">\na\n</text>\n</svg>\n";
        let out = finish_svg(raw, (10, 10), "t", &[None, Some("<b>".into())], true);
        assert!(
            out.contains("<text x=\"2\">\n<title>&lt;b&gt;</title>a\n</text>"),
            "{out}"
        );
        assert!(out.contains("<text x=\"1\">\na\n</text>"), "{out}");
        assert!(!out.contains("http"), "{out}");
    }
}
