//! RFC 7946 GeoJSON output: WGS 84 longitude/latitude, right-hand-rule rings, no `crs` member,
//! coordinates rounded to 7 decimals (about 1 cm), streamed feature by feature.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use gapmap_core::geo::{Coord, LineString, MultiPolygon};
use serde_json::{Map, Value};

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};

/// A polygonal output feature: properties and geometry in the working CRS.
#[derive(Debug, Clone)]
pub struct OutFeature<'a> {
    pub properties: Map<String, Value>,
    pub geometry: Cow<'a, MultiPolygon<f64>>,
}

/// Twice the signed area of a ring; positive when counter-clockwise.
fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2).map(|w| w[0].x * w[1].y - w[1].x * w[0].y).sum()
}

/// Writes a FeatureCollection of polygonal features in WGS 84 to `path`.
pub fn write_geojson(path: &Path, name: &str, from: &Crs, features: &[OutFeature<'_>]) -> Result<()> {
    let werr = |e: std::io::Error| IoError::Write { path: path.to_path_buf(), message: e.to_string() };
    let to_wgs84 = Transform::new(from, &Crs::wgs84()).map_err(|m| IoError::Write {
        path: path.to_path_buf(),
        message: format!("cannot reproject to WGS 84: {m}"),
    })?;
    let mut w = GeoJsonWriter { out: BufWriter::new(File::create(path).map_err(werr)?), path: path.to_path_buf(), xs: vec![], ys: vec![] };
    write!(w.out, "{{\"type\":\"FeatureCollection\",\"name\":{},\"features\":[", Value::from(name)).map_err(werr)?;
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            w.out.write_all(b",").map_err(werr)?;
        }
        w.out.write_all(b"\n{\"type\":\"Feature\",\"properties\":").map_err(werr)?;
        serde_json::to_writer(&mut w.out, &f.properties).map_err(|e| werr(e.into()))?;
        w.out.write_all(b",\"geometry\":").map_err(werr)?;
        w.geometry(&f.geometry, &to_wgs84)?;
        w.out.write_all(b"}").map_err(werr)?;
    }
    w.out.write_all(b"\n]}\n").map_err(werr)?;
    w.out.flush().map_err(werr)?;
    Ok(())
}

struct GeoJsonWriter {
    out: BufWriter<File>,
    path: PathBuf,
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl GeoJsonWriter {
    fn geometry(&mut self, mp: &MultiPolygon<f64>, t: &Transform) -> Result<()> {
        let werr = |e: std::io::Error, p: &Path| IoError::Write { path: p.to_path_buf(), message: e.to_string() };
        let polys: Vec<_> = mp.0.iter().filter(|p| p.exterior().0.len() >= 4).collect();
        if polys.is_empty() {
            return self.out.write_all(b"null").map_err(|e| werr(e, &self.path));
        }
        // Gather every coordinate in output order, with rings oriented by the right-hand rule
        // (exterior counter-clockwise, holes clockwise), then reproject in one batch.
        self.xs.clear();
        self.ys.clear();
        let mut ring_lens: Vec<Vec<usize>> = Vec::with_capacity(polys.len());
        for p in &polys {
            let mut lens = Vec::new();
            let rings = std::iter::once((p.exterior(), true)).chain(p.interiors().iter().map(|r| (r, false)));
            for (ring, exterior) in rings {
                let ring: &LineString<f64> = ring;
                let ccw = signed_area2(&ring.0) > 0.0;
                let reverse = ccw != exterior;
                let n = ring.0.len();
                for k in 0..n {
                    let c = ring.0[if reverse { n - 1 - k } else { k }];
                    self.xs.push(c.x);
                    self.ys.push(c.y);
                }
                lens.push(n);
            }
            ring_lens.push(lens);
        }
        t.coords(&mut self.xs, &mut self.ys).map_err(|m| IoError::Write {
            path: self.path.clone(),
            message: format!("cannot reproject to WGS 84: {m}"),
        })?;
        let round = |v: f64| (v * 1e7).round() / 1e7;
        let mut s = String::with_capacity(self.xs.len() * 24 + 64);
        s.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
        let mut k = 0;
        for (pi, lens) in ring_lens.iter().enumerate() {
            if pi > 0 {
                s.push(',');
            }
            s.push('[');
            for (ri, &n) in lens.iter().enumerate() {
                if ri > 0 {
                    s.push(',');
                }
                s.push('[');
                for j in 0..n {
                    if j > 0 {
                        s.push(',');
                    }
                    use std::fmt::Write as _;
                    let _ = write!(s, "[{},{}]", round(self.xs[k]), round(self.ys[k]));
                    k += 1;
                }
                s.push(']');
            }
            s.push(']');
        }
        s.push_str("]}");
        self.out.write_all(s.as_bytes()).map_err(|e| werr(e, &self.path))
    }
}
