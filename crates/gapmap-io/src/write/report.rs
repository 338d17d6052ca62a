//! The report a person looks at: one self-contained HTML page (inline SVG maps, tables, no
//! scripts and no network access at view time) and a PNG of the main map for slides.
//!
//! Maps are drawn from GeoJSON (WGS 84) in a local equirectangular projection (longitude
//! scaled by the cosine of the map's middle latitude), which keeps shapes true for a region
//! the size of a län. Rings are thinned to the pixel grid, so a national map stays light.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use tiny_skia::{FillRule, Paint, PathBuilder, Pixmap, Stroke, Transform};

use super::map_png::{decorate, Decor, Layout, ScaleBar};

use crate::error::{IoError, Result};

/// One polygon (or line) feature to draw: rings in lon/lat.
#[derive(Debug, Clone)]
pub struct MapFeature {
    /// Its rings, in longitude and latitude.
    pub rings: Vec<Vec<(f64, f64)>>,
    /// Whether the rings are closed areas (filled) or lines.
    pub area: bool,
    /// Fill colour.
    pub fill: String,
    /// Fill opacity, 0-1.
    pub fill_opacity: f64,
    /// Outline colour.
    pub stroke: String,
    /// Outline width, pixels.
    pub stroke_width_px: f64,
    /// Hover text.
    pub title: Option<String>,
}

/// A map: layers drawn bottom to top, and a legend of (colour, label).
#[derive(Debug, Clone, Default)]
pub struct Map {
    /// The map's title.
    pub title: String,
    /// The caption under it.
    pub caption: String,
    /// Layers drawn bottom to top.
    pub layers: Vec<Vec<MapFeature>>,
    /// Legend entries: (colour, label).
    pub legend: Vec<(String, String)>,
}

/// A table: header and rows of text, already formatted.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The table's title.
    pub title: String,
    /// A note under it.
    pub note: String,
    /// Column headers.
    pub headers: Vec<String>,
    /// Rows of cells, as text.
    pub rows: Vec<Vec<String>>,
    /// Columns to right-align (numbers).
    pub numeric: Vec<bool>,
    /// Columns of machine names (paths, parameters, digests), set as code: they are in no
    /// language. Missing entries are false.
    pub code: Vec<bool>,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The page's language (`<html lang>` and the page's own words).
    pub lang: crate::Lang,
    /// The page's title.
    pub title: String,
    /// The line under it.
    pub subtitle: String,
    /// Headline figures: (label, value).
    pub headline: Vec<(String, String)>,
    /// The maps.
    pub maps: Vec<Map>,
    /// The tables.
    pub tables: Vec<Table>,
    /// The footer (sources, attribution).
    pub footer: String,
}

fn rerr(path: &Path, m: impl std::fmt::Display) -> IoError {
    IoError::Table {
        path: path.to_path_buf(),
        message: m.to_string(),
    }
}

/// How to draw a feature: (fill, fill opacity, stroke, stroke width px, hover title).
pub type FeatureStyle = (String, f64, String, f64, Option<String>);

/// A GeoJSON feature's shape (rings in lon/lat) and properties, to be styled.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Its rings, in longitude and latitude.
    pub rings: Vec<Vec<(f64, f64)>>,
    /// Whether the rings are closed areas or lines.
    pub area: bool,
    /// Its properties.
    pub properties: Value,
}

impl Shape {
    /// The shape drawn with `style` (from its properties).
    pub fn styled(&self, style: &dyn Fn(&Value) -> FeatureStyle) -> MapFeature {
        let (fill, fill_opacity, stroke, stroke_width_px, title) = style(&self.properties);
        MapFeature {
            rings: self.rings.clone(),
            area: self.area,
            fill,
            fill_opacity,
            stroke,
            stroke_width_px,
            title,
        }
    }
}

/// Reads the polygon and line features of a GeoJSON file.
pub fn read_geojson_shapes(path: &Path) -> Result<Vec<Shape>> {
    let text = std::fs::read_to_string(path).map_err(|_| IoError::NotFound {
        path: path.to_path_buf(),
    })?;
    let mut v: Value =
        serde_json::from_str(&text).map_err(|e| rerr(path, format!("not GeoJSON: {e}")))?;
    let ring = |r: &Value| -> Vec<(f64, f64)> {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c[0].as_f64()?, c[1].as_f64()?)))
            .collect()
    };
    fn list(c: &Value) -> impl Iterator<Item = &Value> {
        c.as_array().into_iter().flatten()
    }
    let mut out = Vec::new();
    for f in v["features"].as_array_mut().into_iter().flatten() {
        let g = &f["geometry"];
        let c = &g["coordinates"];
        let (rings, area): (Vec<Vec<(f64, f64)>>, bool) = match g["type"].as_str() {
            Some("Polygon") => (list(c).map(ring).collect(), true),
            Some("MultiPolygon") => (list(c).flat_map(|p| list(p).map(ring)).collect(), true),
            Some("LineString") => (vec![ring(c)], false),
            Some("MultiLineString") => (list(c).map(ring).collect(), false),
            _ => continue,
        };
        out.push(Shape {
            rings,
            area,
            properties: f["properties"].take(),
        });
    }
    Ok(out)
}

/// Reads the features of a GeoJSON file (polygons and lines), styled by `style` from each
/// feature's properties.
pub fn read_geojson_features(
    path: &Path,
    style: &dyn Fn(&Value) -> FeatureStyle,
) -> Result<Vec<MapFeature>> {
    Ok(read_geojson_shapes(path)?
        .iter()
        .map(|s| s.styled(style))
        .collect())
}

/// The drawing frame of a map: lon/lat → pixels.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    lon0: f64,
    lat1: f64,
    kx: f64,
    scale: f64,
    /// Width, pixels.
    pub width: f64,
    /// Height, pixels.
    pub height: f64,
}

impl Frame {
    /// A frame fitting every feature of `map` into `width` pixels (with a margin).
    pub fn fit(map: &Map, width: f64) -> Frame {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for f in map.layers.iter().flatten() {
            for r in &f.rings {
                for &(x, y) in r {
                    x0 = x0.min(x);
                    x1 = x1.max(x);
                    y0 = y0.min(y);
                    y1 = y1.max(y);
                }
            }
        }
        if x0 > x1 {
            (x0, y0, x1, y1) = (0.0, 0.0, 1.0, 1.0);
        }
        let kx = ((y0 + y1) / 2.0).to_radians().cos().max(0.05);
        let w = ((x1 - x0) * kx).max(1e-9);
        let h = (y1 - y0).max(1e-9);
        let margin = 10.0;
        let scale = (width - 2.0 * margin) / w;
        let height = (h * scale + 2.0 * margin).clamp(100.0, 2.0 * width);
        let scale = scale.min((height - 2.0 * margin) / h);
        Frame {
            lon0: x0 - margin / (scale * kx),
            lat1: y1 + margin / scale,
            kx,
            scale,
            width,
            height,
        }
    }

    /// Metres per pixel at the frame's centre latitude (the length of a degree of latitude
    /// there, on the WGS 84 ellipsoid, over the pixels per degree).
    pub fn metres_per_px(&self) -> f64 {
        let lat = (self.lat1 - self.height / 2.0 / self.scale).to_radians();
        let metres_per_degree =
            111_132.954 - 559.822 * (2.0 * lat).cos() + 1.175 * (4.0 * lat).cos();
        metres_per_degree / self.scale
    }

    /// The pixel of a longitude and latitude.
    #[inline]
    pub fn px(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.kx * self.scale,
            (self.lat1 - lat) * self.scale,
        )
    }

    /// A ring in pixels, thinned: points closer than half a pixel to the last kept are dropped.
    fn ring_px(&self, r: &[(f64, f64)]) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::with_capacity(r.len().min(64));
        for &(x, y) in r {
            let p = self.px(x, y);
            if out
                .last()
                .is_none_or(|q| (p.0 - q.0).abs() + (p.1 - q.1).abs() >= 0.5)
            {
                out.push(p);
            }
        }
        out
    }
}

/// `s` escaped for HTML text and attribute values (also used by `map_html.rs`).
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Layers with more features than this are drawn merged, without hover titles.
pub const MAX_TITLED_FEATURES: usize = 5000;

/// The map as an SVG element.
pub fn map_svg(map: &Map, frame: &Frame) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map" viewBox="0 0 {:.0} {:.0}" width="{:.0}" height="{:.0}" role="img" aria-label="{}">"#,
        frame.width,
        frame.height,
        frame.width,
        frame.height,
        esc(&map.title)
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#f4f6f8"/>"##);
    for layer in &map.layers {
        // A layer of many features is drawn as one path per style (no hover titles), which
        // keeps a national map light.
        let merge = layer.len() > MAX_TITLED_FEATURES;
        let mut merged: Vec<(String, String)> = Vec::new(); // (attributes, d)
        for f in layer {
            let mut d = String::new();
            for r in &f.rings {
                let pts = frame.ring_px(r);
                if pts.len() < 2 {
                    // A feature smaller than a pixel: a dot, so that it still shows.
                    if let Some(p) = pts.first() {
                        let _ = write!(d, "M{:.1} {:.1}h0.8v0.8h-0.8Z", p.0 - 0.4, p.1 - 0.4);
                    }
                    continue;
                }
                for (k, p) in pts.iter().enumerate() {
                    let _ = write!(d, "{}{:.1} {:.1}", if k == 0 { "M" } else { "L" }, p.0, p.1);
                }
                if f.area {
                    d.push('Z');
                }
            }
            if d.is_empty() {
                continue;
            }
            let fill = if f.area {
                format!(
                    r#"fill="{}" fill-opacity="{:.2}" fill-rule="evenodd""#,
                    f.fill, f.fill_opacity
                )
            } else {
                r#"fill="none""#.to_string()
            };
            let attrs = format!(
                r#"{fill} stroke="{}" stroke-width="{:.2}""#,
                f.stroke, f.stroke_width_px
            );
            if merge {
                match merged.iter_mut().find(|(a, _)| *a == attrs) {
                    Some((_, md)) => md.push_str(&d),
                    None => merged.push((attrs, d)),
                }
                continue;
            }
            let _ = write!(s, r#"<path d="{d}" {attrs}>"#);
            if let Some(t) = &f.title {
                let _ = write!(s, "<title>{}</title>", esc(t));
            }
            s.push_str("</path>");
        }
        for (attrs, d) in merged {
            let _ = write!(s, r#"<path d="{d}" {attrs}/>"#);
        }
    }
    s.push_str("</svg>");
    s
}

fn colour(hex: &str, opacity: f64) -> tiny_skia::Color {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0x808080);
    tiny_skia::Color::from_rgba8(
        (v >> 16) as u8,
        (v >> 8 & 0xff) as u8,
        (v & 0xff) as u8,
        (opacity.clamp(0.0, 1.0) * 255.0).round() as u8,
    )
}

/// Draws the map into a PNG of `frame`'s width, with a title band above (`decor`), the map's
/// legend, a scale bar, a north arrow and an attribution band below; written to `path`
/// (temporary file, renamed). Returns where the scale bar went.
pub fn write_map_png(
    map: &Map,
    frame: &Frame,
    decor: &Decor,
    path: &Path,
) -> Result<Option<ScaleBar>> {
    let layout = Layout::for_width(frame.width.ceil() as u32);
    let (w, map_h) = (frame.width.ceil() as u32, frame.height.ceil() as u32);
    let h = map_h + layout.header_px + layout.footer_px;
    let mut pm = Pixmap::new(w.max(1), h.max(1)).ok_or_else(|| rerr(path, "empty image"))?;
    pm.fill(colour("#f4f6f8", 1.0));
    let shift = Transform::from_translate(0.0, layout.header_px as f32);
    for layer in &map.layers {
        for f in layer {
            let mut pb = PathBuilder::new();
            for r in &f.rings {
                let pts = frame.ring_px(r);
                match pts.len() {
                    0 => continue,
                    1 => {
                        if let Some(rect) = tiny_skia::Rect::from_xywh(
                            pts[0].0 as f32 - 0.5,
                            pts[0].1 as f32 - 0.5,
                            1.0,
                            1.0,
                        ) {
                            pb.push_rect(rect);
                        }
                        continue;
                    }
                    _ => {}
                }
                pb.move_to(pts[0].0 as f32, pts[0].1 as f32);
                for p in &pts[1..] {
                    pb.line_to(p.0 as f32, p.1 as f32);
                }
                if f.area {
                    pb.close();
                }
            }
            let Some(p) = pb.finish() else { continue };
            let mut paint = Paint {
                anti_alias: true,
                ..Paint::default()
            };
            if f.area {
                paint.set_color(colour(&f.fill, f.fill_opacity));
                pm.fill_path(&p, &paint, FillRule::EvenOdd, shift, None);
            }
            if f.stroke_width_px > 0.0 && f.stroke != "none" {
                paint.set_color(colour(&f.stroke, 1.0));
                let stroke = Stroke {
                    width: f.stroke_width_px as f32,
                    ..Stroke::default()
                };
                pm.stroke_path(&p, &paint, &stroke, shift, None);
            }
        }
    }
    let legend: Vec<(tiny_skia::Color, String)> = map
        .legend
        .iter()
        .map(|(c, l)| (colour(c, 1.0), l.clone()))
        .collect();
    let bar = decorate(
        &mut pm,
        layout,
        map_h as f32,
        decor,
        &legend,
        frame.metres_per_px(),
    );
    let data = pm.encode_png().map_err(|e| rerr(path, e))?;
    write_atomic(path, &data)?;
    Ok(bar)
}

/// Writes `data` to a temporary file beside `path`, then renames it into place.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let werr = |e: std::io::Error| IoError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(werr)?;
    std::io::Write::write_all(&mut tmp, data).map_err(werr)?;
    // Temporary files are private (0600); the result is an ordinary file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(werr)?;
    }
    tmp.persist(path).map_err(|e| werr(e.error))?;
    Ok(())
}

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2731;background:#fff}
header{background:#1d3557;color:#fff;padding:24px 32px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:0;opacity:.85}
main{padding:16px 32px;max-width:1400px}
.headline{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.figure{background:#f1f4f8;border-radius:6px;padding:10px 16px;min-width:150px}
.figure .v{font-size:22px;font-weight:600}
.figure .l{font-size:12px;color:#4a5a6a}
.maps{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0;flex:0 1 auto}
figure .legend,figure h2,figcaption{max-width:var(--w)}
figcaption{font-size:13px;color:#4a5a6a;max-width:640px}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:12px;margin:6px 0}
.legend span.sw{display:inline-block;width:14px;height:14px;border:1px solid #555;vertical-align:middle;margin-right:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0 24px}
th,td{border-bottom:1px solid #dde3ea;padding:4px 10px;text-align:left}
th{background:#eef2f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
h2{margin-top:28px;border-bottom:2px solid #1d3557;padding-bottom:4px}
.note{font-size:12px;color:#4a5a6a}
footer{padding:16px 32px;font-size:12px;color:#4a5a6a}
td{overflow-wrap:break-word}
td code{font-size:12px;overflow-wrap:anywhere}
@page{size:A4;margin:12mm}
@media print{header{padding:0 0 8px;background:#fff;color:#1d2731;border-bottom:2px solid #1d3557}main{padding:0;max-width:none}.maps{display:block;break-after:page}figure{break-before:page;break-inside:avoid}figure svg{max-width:100%;height:auto}h2{break-after:avoid}thead{display:table-header-group}tr{break-inside:avoid}.note{break-after:avoid}table{font-size:11px}}
"#;

/// The report as one self-contained HTML page (maps `width_px` wide).
pub fn report_html(r: &Report, width_px: f64) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>{}</title><style>{CSS}</style></head><body>",
        r.lang.code(),
        esc(&r.title)
    );
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{}</p></header><main>",
        esc(&r.title),
        esc(&r.subtitle)
    );
    s.push_str("<div class=\"headline\">");
    for (l, v) in &r.headline {
        let _ = write!(
            s,
            "<div class=\"figure\"><div class=\"v\">{}</div><div class=\"l\">{}</div></div>",
            esc(v),
            esc(l)
        );
    }
    s.push_str("</div><div class=\"maps\">");
    for m in &r.maps {
        let frame = Frame::fit(m, width_px);
        let _ = write!(
            s,
            "<figure style=\"--w:{:.0}px\"><h2>{}</h2>",
            frame.width,
            esc(&m.title)
        );
        s.push_str("<div class=\"legend\">");
        for (c, l) in &m.legend {
            let _ = write!(
                s,
                "<span><span class=\"sw\" style=\"background:{}\"></span>{}</span>",
                esc(c),
                esc(l)
            );
        }
        s.push_str("</div>");
        s.push_str(&map_svg(m, &frame));
        let _ = write!(s, "<figcaption>{}</figcaption></figure>", esc(&m.caption));
    }
    s.push_str("</div>");
    for t in &r.tables {
        let _ = write!(s, "<h2>{}</h2>", esc(&t.title));
        if !t.note.is_empty() {
            let _ = write!(s, "<p class=\"note\">{}</p>", esc(&t.note));
        }
        s.push_str("<table><thead><tr>");
        for h in &t.headers {
            let _ = write!(s, "<th>{}</th>", esc(h));
        }
        s.push_str("</tr></thead><tbody>");
        for row in &t.rows {
            s.push_str("<tr>");
            for (k, c) in row.iter().enumerate() {
                let n = t.numeric.get(k).copied().unwrap_or(false);
                let code = t.code.get(k).copied().unwrap_or(false) && !c.is_empty();
                let _ = write!(
                    s,
                    "<td{}>{}{}{}</td>",
                    if n { " class=\"n\"" } else { "" },
                    if code { "<code>" } else { "" },
                    esc(c),
                    if code { "</code>" } else { "" }
                );
            }
            s.push_str("</tr>");
        }
        if t.rows.is_empty() {
            let _ = write!(
                s,
                "<tr><td colspan=\"{}\">{}</td></tr>",
                t.headers.len().max(1),
                r.lang.pick("(none)", "(inga)")
            );
        }
        s.push_str("</tbody></table>");
    }
    let _ = writeln!(
        s,
        "</main><footer>{}</footer></body></html>",
        esc(&r.footer)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(lon: f64, lat: f64, d: f64, fill: &str) -> MapFeature {
        MapFeature {
            rings: vec![vec![
                (lon, lat),
                (lon + d, lat),
                (lon + d, lat + d),
                (lon, lat + d),
                (lon, lat),
            ]],
            area: true,
            fill: fill.into(),
            fill_opacity: 1.0,
            stroke: "#000000".into(),
            stroke_width_px: 1.0,
            title: Some("a <b> & c".into()),
        }
    }

    #[test]
    fn svg_html_and_png_draw_the_features() {
        let map = Map {
            title: "T".into(),
            caption: "c".into(),
            layers: vec![vec![
                square(15.0, 60.0, 0.5, "#ff0000"),
                square(15.6, 60.6, 0.0001, "#00ff00"),
            ]],
            legend: vec![("#ff0000".into(), "red".into())],
        };
        let f = Frame::fit(&map, 400.0);
        let (x, y) = f.px(15.0, 60.0);
        assert!(x >= 9.0 && y <= f.height);
        let svg = map_svg(&map, &f);
        assert_eq!(svg.matches("<path").count(), 2);
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        let html = report_html(
            &Report {
                title: "R".into(),
                maps: vec![map.clone()],
                tables: vec![Table {
                    title: "t".into(),
                    headers: vec!["a".into()],
                    rows: vec![vec!["1".into()]],
                    numeric: vec![true],
                    ..Table::default()
                }],
                ..Report::default()
            },
            400.0,
        );
        assert!(html.starts_with("<!DOCTYPE html>"));
        // Nothing to fetch at view time.
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("<link"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.png");
        let decor = Decor {
            title: "Gaps in Dalarna".into(),
            subtitle: "2026-12-07".into(),
            attribution: "SCB (CC0)".into(),
        };
        let bar = write_map_png(&map, &f, &decor, &p).unwrap().unwrap();
        let img = Pixmap::load_png(&p).unwrap();
        let layout = Layout::for_width(400);
        assert_eq!(
            img.height(),
            f.height.ceil() as u32 + layout.header_px + layout.footer_px
        );
        let red = img
            .pixels()
            .iter()
            .filter(|c| c.red() > 200 && c.green() < 50 && c.blue() < 50)
            .count();
        // The 0.5° square covers a good part of the image.
        assert!(red > 1000, "{red}");
        // The title band has text in it (dark pixels on white).
        // Text pixels on the bands' white.
        let dark_in = |y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| img.pixel(x, y).is_some_and(|c| c.red() < 180))
                .count()
        };
        assert!(dark_in(0, layout.header_px) > 100);
        assert!(dark_in(img.height() - layout.footer_px, img.height()) > 20);
        // The scale bar says what it measures: its pixels over the frame's metres per pixel.
        assert!((f64::from(bar.len_px) * f.metres_per_px() - bar.len_m).abs() < 1.0);
        assert!(
            bar.len_px > 400.0 / 10.0 && bar.len_px <= 400.0 / 5.0 + 1.0,
            "{bar:?}"
        );
        // 0.1° of latitude is about 11.1 km at 60° N.
        let (_, y_a) = f.px(15.0, 60.0);
        let (_, y_b) = f.px(15.0, 60.1);
        let m = (y_a - y_b) * f.metres_per_px();
        assert!((m - 11_140.0).abs() < 60.0, "{m}");
    }
}
