//! RFC 7946 GeoJSON output: WGS 84 longitude/latitude, right-hand-rule polygon rings, no `crs`
//! member, coordinates rounded to 7 decimals (about 1 cm).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use gapmap_core::geo::orient::Direction;
use gapmap_core::geo::{Coord, Geometry, LineString, Orient, Polygon};
use serde_json::{Map, Value};

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};
use crate::geom::{visit_coords, visit_coords_mut};

/// An output feature: properties and geometry in the working CRS.
#[derive(Debug, Clone)]
pub struct OutFeature<'a> {
    pub properties: Map<String, Value>,
    pub geometry: Cow<'a, Geometry<f64>>,
}

/// Reprojects geometries in place in one batch, then orients polygon rings by the right-hand
/// rule.
pub fn reproject_all(
    geoms: &mut [Geometry<f64>],
    t: &Transform,
) -> std::result::Result<(), String> {
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for g in geoms.iter() {
        visit_coords(g, &mut |c| {
            xs.push(c.x);
            ys.push(c.y);
        });
    }
    t.coords(&mut xs, &mut ys)?;
    let mut k = 0;
    for g in geoms.iter_mut() {
        visit_coords_mut(g, &mut |c| {
            *c = Coord { x: xs[k], y: ys[k] };
            k += 1;
        });
        match g {
            Geometry::Polygon(p) => *p = p.orient(Direction::Default),
            Geometry::MultiPolygon(m) => *m = m.orient(Direction::Default),
            _ => {}
        }
    }
    Ok(())
}

fn push_coord(s: &mut String, c: Coord<f64>) {
    let round = |v: f64| (v * 1e7).round() / 1e7;
    let _ = write!(s, "[{},{}]", round(c.x), round(c.y));
}

fn push_line(s: &mut String, l: &LineString<f64>) {
    s.push('[');
    for (i, c) in l.0.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        push_coord(s, *c);
    }
    s.push(']');
}

fn push_polygon(s: &mut String, p: &Polygon<f64>) {
    s.push('[');
    push_line(s, p.exterior());
    for r in p.interiors() {
        s.push(',');
        push_line(s, r);
    }
    s.push(']');
}

fn push_list<T>(s: &mut String, items: &[T], mut f: impl FnMut(&mut String, &T)) {
    s.push('[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        f(s, it);
    }
    s.push(']');
}

/// The GeoJSON geometry object (already in WGS 84), or `null` for an empty geometry.
pub fn geometry_json(g: &Geometry<f64>) -> String {
    let mut s = String::new();
    match g {
        Geometry::Point(p) => {
            s.push_str("{\"type\":\"Point\",\"coordinates\":");
            push_coord(&mut s, p.0);
        }
        Geometry::LineString(l) => {
            s.push_str("{\"type\":\"LineString\",\"coordinates\":");
            push_line(&mut s, l);
        }
        Geometry::Polygon(p) => {
            s.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon(&mut s, p);
        }
        Geometry::MultiPoint(m) => {
            s.push_str("{\"type\":\"MultiPoint\",\"coordinates\":");
            push_list(&mut s, &m.0, |s, p| push_coord(s, p.0));
        }
        Geometry::MultiLineString(m) => {
            s.push_str("{\"type\":\"MultiLineString\",\"coordinates\":");
            push_list(&mut s, &m.0, push_line);
        }
        Geometry::MultiPolygon(m) if m.0.is_empty() => return "null".into(),
        Geometry::MultiPolygon(m) => {
            s.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":");
            push_list(&mut s, &m.0, push_polygon);
        }
        Geometry::GeometryCollection(c) => {
            s.push_str("{\"type\":\"GeometryCollection\",\"geometries\":[");
            for (i, g) in c.0.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&geometry_json(g));
            }
            s.push(']');
        }
        Geometry::Line(l) => return geometry_json(&Geometry::LineString((*l).into())),
        Geometry::Rect(r) => return geometry_json(&Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => return geometry_json(&Geometry::Polygon(t.to_polygon())),
    }
    s.push('}');
    s
}

/// Writes a FeatureCollection to `path`, reprojecting from `from` to WGS 84.
pub fn write_geojson(
    path: &Path,
    name: &str,
    from: &Crs,
    features: &[OutFeature<'_>],
) -> Result<()> {
    let werr = |m: String| IoError::Write {
        path: path.to_path_buf(),
        message: m,
    };
    let to_wgs84 = Transform::new(from, &Crs::wgs84())
        .map_err(|m| werr(format!("cannot reproject to WGS 84: {m}")))?;
    let file = File::create(path).map_err(|e| werr(e.to_string()))?;
    let mut out = BufWriter::new(file);
    let io = |e: std::io::Error| werr(e.to_string());
    write!(
        out,
        "{{\"type\":\"FeatureCollection\",\"name\":{},\"features\":[",
        Value::from(name)
    )
    .map_err(io)?;
    // Reproject in batches: one PROJ call per few thousand features, not one per feature.
    for (ci, chunk) in features.chunks(4096).enumerate() {
        let mut geoms: Vec<Geometry<f64>> =
            chunk.iter().map(|f| f.geometry.as_ref().clone()).collect();
        reproject_all(&mut geoms, &to_wgs84)
            .map_err(|m| werr(format!("cannot reproject to WGS 84: {m}")))?;
        for (i, (f, g)) in chunk.iter().zip(&geoms).enumerate() {
            out.write_all(if ci + i > 0 { b",\n" } else { b"\n" })
                .map_err(io)?;
            out.write_all(b"{\"type\":\"Feature\",\"properties\":")
                .map_err(io)?;
            serde_json::to_writer(&mut out, &f.properties).map_err(|e| werr(e.to_string()))?;
            write!(out, ",\"geometry\":{}}}", geometry_json(g)).map_err(io)?;
        }
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    Ok(())
}
