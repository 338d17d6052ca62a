//! What makes `map.png` a map a person can put on a slide: a title band, a legend, a scale bar,
//! a north arrow, the analysis date and the data attribution, around the drawn map.
//!
//! Text is drawn with DejaVu Sans (embedded, `assets/fonts/`, Bitstream Vera licence) through
//! `ab_glyph`'s coverage rasteriser, blended into the tiny-skia pixmap, so that the image is the
//! same on every machine.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use tiny_skia::{Color, FillRule, Paint, PathBuilder, Pixmap, Rect, Transform};

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The texts around the map.
#[derive(Debug, Clone, Default)]
pub struct Decor {
    /// The title, in the band above the map.
    pub title: String,
    /// A second line under the title (e.g. what is shown and the analysis date).
    pub subtitle: String,
    /// The attribution line in the band below the map (data sources, the tool).
    pub attribution: String,
}

/// Sizes in pixels for an image `width` wide.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Body text size.
    pub text_px: f32,
    /// Height of the band above the map (title, subtitle).
    pub header_px: u32,
    /// Height of the band below the map (attribution).
    pub footer_px: u32,
}

impl Layout {
    /// The layout for an image `width` pixels wide.
    pub fn for_width(width: u32) -> Layout {
        let text_px = (width as f32 / 75.0).clamp(11.0, 36.0);
        Layout {
            text_px,
            header_px: (text_px * 4.2).ceil() as u32,
            footer_px: (text_px * 2.0).ceil() as u32,
        }
    }
}

fn font() -> Option<FontRef<'static>> {
    FontRef::try_from_slice(DEJAVU_SANS).ok()
}

/// The width of `text` at `px`, in pixels.
pub fn text_width(text: &str, px: f32) -> f32 {
    let Some(f) = font() else { return 0.0 };
    let sf = f.as_scaled(PxScale::from(px));
    let mut w = 0.0;
    let mut last = None;
    for c in text.chars() {
        let g = sf.glyph_id(c);
        if let Some(l) = last {
            w += sf.kern(l, g);
        }
        w += sf.h_advance(g);
        last = Some(g);
    }
    w
}

/// Draws `text` with its baseline at `y`, starting at `x`, in `colour`, at `px`.
pub fn draw_text(pm: &mut Pixmap, text: &str, x: f32, y: f32, px: f32, colour: Color) {
    let Some(f) = font() else { return };
    let sf = f.as_scaled(PxScale::from(px));
    let (w, h) = (pm.width() as i64, pm.height() as i64);
    let mut caret = x;
    let mut last = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(l) = last {
            caret += sf.kern(l, id);
        }
        let glyph = id.with_scale_and_position(PxScale::from(px), ab_glyph::point(caret, y));
        caret += sf.h_advance(id);
        last = Some(id);
        let Some(outlined) = f.outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        let pixels = pm.pixels_mut();
        outlined.draw(|gx, gy, cov| {
            let (px_x, px_y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
            if px_x < 0 || px_y < 0 || px_x >= w || px_y >= h {
                return;
            }
            let k = (px_y * w + px_x) as usize;
            let a = cov.clamp(0.0, 1.0) * colour.alpha();
            if let Some(p) = pixels.get_mut(k) {
                let bg = p.demultiply();
                let mix =
                    |fg: f32, bg: u8| (fg * 255.0 * a + f32::from(bg) * (1.0 - a)).round() as u8;
                if let Some(c) = tiny_skia::ColorU8::from_rgba(
                    mix(colour.red(), bg.red()),
                    mix(colour.green(), bg.green()),
                    mix(colour.blue(), bg.blue()),
                    255,
                )
                .premultiply()
                .into()
                {
                    *p = c;
                }
            }
        });
    }
}

/// A filled rectangle, on whole pixels (without anti-aliasing, whose thin-rectangle path in
/// tiny-skia 0.11 asserts in debug builds).
fn fill_rect(pm: &mut Pixmap, x: f32, y: f32, w: f32, h: f32, colour: Color) {
    if let Some(r) = Rect::from_xywh(x.round(), y.round(), w.round().max(1.0), h.round().max(1.0)) {
        let mut paint = Paint {
            anti_alias: false,
            ..Paint::default()
        };
        paint.set_color(colour);
        pm.fill_rect(r, &paint, Transform::identity(), None);
    }
}

/// A rectangle's outline, `width` pixels wide, as four filled bars (no hairline paths).
fn stroke_rect(pm: &mut Pixmap, x: f32, y: f32, w: f32, h: f32, colour: Color, width: f32) {
    fill_rect(pm, x, y, w, width, colour);
    fill_rect(pm, x, y + h - width, w, width, colour);
    fill_rect(pm, x, y, width, h, colour);
    fill_rect(pm, x + w - width, y, width, h, colour);
}

/// A scale bar's length: the largest 1, 2 or 5 × 10ⁿ metres that fits in `max_m`.
pub fn nice_length_m(max_m: f64) -> f64 {
    if !(max_m.is_finite() && max_m > 0.0) {
        return 0.0;
    }
    let p = 10f64.powf(max_m.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|k| k * p)
        .find(|&v| v <= max_m)
        .unwrap_or(p)
}

/// "500 m", "2 km", "20 km".
pub fn length_label(m: f64) -> String {
    if m >= 1000.0 {
        format!("{} km", m / 1000.0)
    } else {
        format!("{m} m")
    }
}

/// Where the scale bar went: its left end, its length in pixels and in metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBar {
    /// Left end, pixels.
    pub x: f32,
    /// Baseline of the bar, pixels.
    pub y: f32,
    /// Length, pixels.
    pub len_px: f32,
    /// Length, metres.
    pub len_m: f64,
}

/// Decorates `pm`, which holds the map drawn at `(0, header_px)` and is `map_height` tall
/// there: the title band, the legend (`(colour, label)`), the scale bar for `metres_per_px` at
/// the map's centre, the north arrow and the attribution band. Returns where the scale bar went.
pub fn decorate(
    pm: &mut Pixmap,
    layout: Layout,
    map_height: f32,
    decor: &Decor,
    legend: &[(Color, String)],
    metres_per_px: f64,
) -> Option<ScaleBar> {
    let width = pm.width() as f32;
    let t = layout.text_px;
    let ink = Color::from_rgba8(0x1f, 0x29, 0x33, 0xff);
    let grey = Color::from_rgba8(0x52, 0x5f, 0x6b, 0xff);
    let header = layout.header_px as f32;
    // The bands.
    fill_rect(pm, 0.0, 0.0, width, header, Color::WHITE);
    let footer_top = header + map_height;
    fill_rect(
        pm,
        0.0,
        footer_top,
        width,
        layout.footer_px as f32,
        Color::WHITE,
    );
    draw_text(pm, &decor.title, t, t * 1.9, t * 1.45, ink);
    draw_text(pm, &decor.subtitle, t, t * 3.4, t, grey);
    draw_text(
        pm,
        &decor.attribution,
        t,
        footer_top + t * 1.35,
        t * 0.85,
        grey,
    );

    // The legend: a white box at the map's lower left.
    let row = t * 1.5;
    let swatch = t;
    let label_w = legend
        .iter()
        .map(|(_, l)| text_width(l, t))
        .fold(0.0f32, f32::max);
    let (box_w, box_h) = (
        swatch + label_w + t * 2.2,
        row * legend.len() as f32 + t * 0.8,
    );
    let (bx, by) = (t * 0.8, footer_top - box_h - t * 0.8);
    if !legend.is_empty() && by > header {
        fill_rect(
            pm,
            bx,
            by,
            box_w,
            box_h,
            Color::from_rgba8(255, 255, 255, 235),
        );
        stroke_rect(
            pm,
            bx,
            by,
            box_w,
            box_h,
            Color::from_rgba8(0xb8, 0xc2, 0xcc, 0xff),
            1.0,
        );
        for (k, (colour, label)) in legend.iter().enumerate() {
            let y = by + t * 0.4 + row * k as f32;
            let sy = y + (row - swatch) / 2.0;
            fill_rect(pm, bx + t * 0.6, sy, swatch, swatch, *colour);
            stroke_rect(pm, bx + t * 0.6, sy, swatch, swatch, grey, 1.0);
            draw_text(
                pm,
                label,
                bx + t * 0.6 + swatch + t * 0.6,
                y + row * 0.7,
                t,
                ink,
            );
        }
    }

    // The north arrow at the upper right of the map: up is north (latitude grows upwards).
    let (nx, ny) = (width - t * 2.2, header + t * 1.0);
    let mut pb = PathBuilder::new();
    pb.move_to(nx, ny);
    pb.line_to(nx + t * 0.6, ny + t * 1.8);
    pb.line_to(nx, ny + t * 1.4);
    pb.line_to(nx - t * 0.6, ny + t * 1.8);
    pb.close();
    if let Some(p) = pb.finish() {
        let mut paint = Paint {
            anti_alias: true,
            ..Paint::default()
        };
        paint.set_color(ink);
        pm.fill_path(&p, &paint, FillRule::Winding, Transform::identity(), None);
    }
    let n_w = text_width("N", t);
    draw_text(pm, "N", nx - n_w / 2.0, ny + t * 3.0, t, ink);

    // The scale bar at the lower right of the map: about a fifth of the width.
    let len_m = nice_length_m(metres_per_px * f64::from(width) / 5.0);
    if len_m <= 0.0 || metres_per_px.is_nan() || metres_per_px <= 0.0 {
        return None;
    }
    let len_px = (len_m / metres_per_px) as f32;
    let label = length_label(len_m);
    let (sx, sy) = (width - t * 1.5 - len_px, footer_top - t * 1.2);
    let lw = text_width(&label, t);
    fill_rect(
        pm,
        sx - t * 0.5,
        sy - t * 2.0,
        len_px + t,
        t * 2.6,
        Color::from_rgba8(255, 255, 255, 235),
    );
    fill_rect(pm, sx, sy - t * 0.35, len_px, t * 0.35, ink);
    fill_rect(pm, sx, sy - t * 0.7, 1.5, t * 0.7, ink);
    fill_rect(pm, sx + len_px - 1.5, sy - t * 0.7, 1.5, t * 0.7, ink);
    draw_text(pm, &label, sx + (len_px - lw) / 2.0, sy - t * 0.75, t, ink);
    Some(ScaleBar {
        x: sx,
        y: sy,
        len_px,
        len_m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_bar_lengths_are_round() {
        assert_eq!(nice_length_m(7300.0), 5000.0);
        assert_eq!(nice_length_m(2500.0), 2000.0);
        assert_eq!(nice_length_m(1999.0), 1000.0);
        assert_eq!(nice_length_m(0.0), 0.0);
        assert_eq!(length_label(20000.0), "20 km");
        assert_eq!(length_label(500.0), "500 m");
    }

    #[test]
    fn text_is_drawn_where_it_is_asked() {
        let mut pm = Pixmap::new(200, 40).unwrap();
        pm.fill(Color::WHITE);
        draw_text(&mut pm, "Tätort åäö", 5.0, 28.0, 20.0, Color::BLACK);
        let dark = pm.pixels().iter().filter(|p| p.red() < 100).count();
        assert!(dark > 100, "{dark} dark pixels");
        // Nothing right of the text's width.
        let w = text_width("Tätort åäö", 20.0) as u32 + 8;
        for y in 0..40 {
            for x in w..200 {
                assert_eq!(pm.pixel(x, y).unwrap().red(), 255, "({x}, {y})");
            }
        }
    }
}
