//! Geometry conversion from GDAL (via WKB) to `geo`, coordinate visiting, and helpers.

use gapmap_core::geo::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

/// Parses 2D geometry from WKB (ISO, extended and EWKB flavours; Z and M are dropped).
/// Returns `Ok(None)` for an empty geometry. Never panics on malformed input.
pub fn from_wkb(wkb: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let mut r = WkbReader { buf: wkb, pos: 0 };
    let g = r.geometry(0)?;
    Ok(g.filter(|g| !is_empty(g)))
}

fn is_empty(g: &Geometry<f64>) -> bool {
    match g {
        Geometry::Point(_) => false,
        Geometry::LineString(l) => l.0.is_empty(),
        Geometry::Polygon(p) => p.exterior().0.is_empty(),
        Geometry::MultiPoint(m) => m.0.is_empty(),
        Geometry::MultiLineString(m) => m.0.iter().all(|l| l.0.is_empty()),
        Geometry::MultiPolygon(m) => m.0.iter().all(|p| p.exterior().0.is_empty()),
        Geometry::GeometryCollection(c) => c.0.iter().all(is_empty),
        _ => false,
    }
}

struct WkbReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl WkbReader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let end = self.pos.checked_add(N).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| "truncated WKB".to_string())?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(a)
    }
    fn u32(&mut self, le: bool) -> Result<u32, String> {
        let b = self.take::<4>()?;
        Ok(if le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self, le: bool) -> Result<f64, String> {
        let b = self.take::<8>()?;
        Ok(if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
    fn count(&mut self, le: bool, min_bytes_each: usize) -> Result<usize, String> {
        let n = self.u32(le)? as usize;
        // Reject counts that cannot fit in the rest of the buffer (corrupt or hostile input).
        if n.saturating_mul(min_bytes_each) > self.buf.len() - self.pos {
            return Err("WKB count exceeds data".into());
        }
        Ok(n)
    }
    fn coords(&mut self, le: bool, dims: usize) -> Result<Vec<Coord<f64>>, String> {
        let n = self.count(le, 8 * dims)?;
        // `count` checked that the n points are in the buffer: take them in one slice and
        // decode without a bounds check per number.
        let bytes = &self.buf[self.pos..self.pos + n * 8 * dims];
        self.pos += bytes.len();
        let num = |b: &[u8]| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            if le {
                f64::from_le_bytes(a)
            } else {
                f64::from_be_bytes(a)
            }
        };
        Ok(bytes
            .chunks_exact(8 * dims)
            .map(|c| Coord {
                x: num(&c[..8]),
                y: num(&c[8..16]),
            })
            .collect())
    }

    fn geometry(&mut self, depth: usize) -> Result<Option<Geometry<f64>>, String> {
        if depth > 32 {
            return Err("WKB nested too deeply".into());
        }
        let le = match self.take::<1>()?[0] {
            0 => false,
            1 => true,
            b => return Err(format!("bad WKB byte order {b}")),
        };
        let raw = self.u32(le)?;
        let mut dims = 2;
        if raw & 0x8000_0000 != 0 {
            dims += 1;
        }
        if raw & 0x4000_0000 != 0 {
            dims += 1;
        }
        if raw & 0x2000_0000 != 0 {
            self.u32(le)?; // EWKB SRID
        }
        let t = raw & 0x0fff_ffff;
        let (base, iso_dims) = (t % 1000, t / 1000);
        dims += match iso_dims {
            0 => 0,
            1 | 2 => 1,
            3 => 2,
            _ => return Err(format!("unknown WKB type {raw}")),
        };
        Ok(match base {
            1 => {
                let x = self.f64(le)?;
                let y = self.f64(le)?;
                for _ in 2..dims {
                    self.f64(le)?;
                }
                if x.is_nan() && y.is_nan() {
                    None // POINT EMPTY
                } else {
                    Some(Geometry::Point(Point::new(x, y)))
                }
            }
            2 => Some(Geometry::LineString(LineString::new(
                self.coords(le, dims)?,
            ))),
            3 => {
                let n = self.count(le, 4)?;
                let mut rings = Vec::with_capacity(n);
                for _ in 0..n {
                    rings.push(LineString::new(self.coords(le, dims)?));
                }
                let mut it = rings.into_iter();
                match it.next() {
                    Some(ext) => Some(Geometry::Polygon(Polygon::new(ext, it.collect()))),
                    None => Some(Geometry::Polygon(Polygon::new(
                        LineString::new(vec![]),
                        vec![],
                    ))),
                }
            }
            4..=7 => {
                let n = self.count(le, 5)?;
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    if let Some(g) = self.geometry(depth + 1)? {
                        parts.push(g);
                    }
                }
                Some(collect_parts(base, parts)?)
            }
            8..=17 => return Err("curved geometry (should have been linearised)".into()),
            _ => return Err(format!("unsupported WKB geometry type {raw}")),
        })
    }
}

fn collect_parts(base: u32, parts: Vec<Geometry<f64>>) -> Result<Geometry<f64>, String> {
    let wrong = |what: &str| Err(format!("a {what} holds a part of another type"));
    Ok(match base {
        4 => {
            let mut v = Vec::new();
            for g in parts {
                match g {
                    Geometry::Point(p) => v.push(p),
                    _ => return wrong("MultiPoint"),
                }
            }
            Geometry::MultiPoint(MultiPoint::new(v))
        }
        5 => {
            let mut v = Vec::new();
            for g in parts {
                match g {
                    Geometry::LineString(l) => v.push(l),
                    _ => return wrong("MultiLineString"),
                }
            }
            Geometry::MultiLineString(MultiLineString::new(v))
        }
        6 => {
            let mut v = Vec::new();
            for g in parts {
                match g {
                    Geometry::Polygon(p) => v.push(p),
                    _ => return wrong("MultiPolygon"),
                }
            }
            Geometry::MultiPolygon(MultiPolygon::new(v))
        }
        _ => Geometry::GeometryCollection(GeometryCollection::new_from(parts)),
    })
}

fn wkb_header(out: &mut Vec<u8>, t: u32) {
    out.push(1);
    out.extend(t.to_le_bytes());
}

fn wkb_coords(out: &mut Vec<u8>, cs: &[Coord<f64>]) {
    out.extend((cs.len() as u32).to_le_bytes());
    for c in cs {
        out.extend(c.x.to_le_bytes());
        out.extend(c.y.to_le_bytes());
    }
}

fn wkb_polygon(out: &mut Vec<u8>, p: &Polygon<f64>) {
    wkb_header(out, 3);
    let rings: Vec<&LineString<f64>> = std::iter::once(p.exterior())
        .chain(p.interiors())
        .filter(|r| !r.0.is_empty())
        .collect();
    out.extend((rings.len() as u32).to_le_bytes());
    for r in rings {
        wkb_coords(out, &r.0);
    }
}

fn wkb_multi_polygon(out: &mut Vec<u8>, m: &MultiPolygon<f64>) {
    wkb_header(out, 6);
    out.extend((m.0.len() as u32).to_le_bytes());
    for p in &m.0 {
        wkb_polygon(out, p);
    }
}

/// 2D ISO WKB of a multipolygon, little-endian.
pub fn multi_polygon_wkb(m: &MultiPolygon<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    wkb_multi_polygon(&mut out, m);
    out
}

/// 2D ISO WKB, little-endian (what GDAL takes in one call, instead of one call per vertex).
pub fn to_wkb(g: &Geometry<f64>) -> Vec<u8> {
    fn write(out: &mut Vec<u8>, g: &Geometry<f64>) {
        match g {
            Geometry::Point(p) => {
                wkb_header(out, 1);
                out.extend(p.x().to_le_bytes());
                out.extend(p.y().to_le_bytes());
            }
            Geometry::Line(l) => write(out, &Geometry::LineString((*l).into())),
            Geometry::LineString(l) => {
                wkb_header(out, 2);
                wkb_coords(out, &l.0);
            }
            Geometry::Polygon(p) => wkb_polygon(out, p),
            Geometry::MultiPoint(m) => {
                wkb_header(out, 4);
                out.extend((m.0.len() as u32).to_le_bytes());
                for p in &m.0 {
                    write(out, &Geometry::Point(*p));
                }
            }
            Geometry::MultiLineString(m) => {
                wkb_header(out, 5);
                out.extend((m.0.len() as u32).to_le_bytes());
                for l in &m.0 {
                    wkb_header(out, 2);
                    wkb_coords(out, &l.0);
                }
            }
            Geometry::MultiPolygon(m) => wkb_multi_polygon(out, m),
            Geometry::GeometryCollection(c) => {
                wkb_header(out, 7);
                out.extend((c.0.len() as u32).to_le_bytes());
                for g in &c.0 {
                    write(out, g);
                }
            }
            Geometry::Rect(r) => wkb_polygon(out, &r.to_polygon()),
            Geometry::Triangle(t) => wkb_polygon(out, &t.to_polygon()),
        }
    }
    let mut out = Vec::new();
    write(&mut out, g);
    out
}

/// The OGC name of a geometry's type, for messages.
pub fn type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// Calls `f` on every coordinate, in a fixed order.
pub fn visit_coords(g: &Geometry<f64>, f: &mut impl FnMut(Coord<f64>)) {
    match g {
        Geometry::Point(p) => f(p.0),
        Geometry::Line(l) => {
            f(l.start);
            f(l.end)
        }
        Geometry::LineString(l) => l.0.iter().for_each(|&c| f(c)),
        Geometry::Polygon(p) => {
            p.exterior().0.iter().for_each(|&c| f(c));
            p.interiors()
                .iter()
                .for_each(|r| r.0.iter().for_each(|&c| f(c)));
        }
        Geometry::MultiPoint(m) => m.0.iter().for_each(|p| f(p.0)),
        Geometry::MultiLineString(m) => m.0.iter().for_each(|l| l.0.iter().for_each(|&c| f(c))),
        Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| {
            p.exterior().0.iter().for_each(|&c| f(c));
            p.interiors()
                .iter()
                .for_each(|r| r.0.iter().for_each(|&c| f(c)));
        }),
        Geometry::GeometryCollection(c) => c.0.iter().for_each(|g| visit_coords(g, f)),
        Geometry::Rect(r) => {
            f(r.min());
            f(r.max())
        }
        Geometry::Triangle(t) => t.to_array().iter().for_each(|&c| f(c)),
    }
}

/// Calls `f` on every coordinate mutably, in the same order as [`visit_coords`].
pub fn visit_coords_mut(g: &mut Geometry<f64>, f: &mut impl FnMut(&mut Coord<f64>)) {
    fn ring(l: &mut LineString<f64>, f: &mut impl FnMut(&mut Coord<f64>)) {
        l.0.iter_mut().for_each(&mut *f);
    }
    fn poly(p: &mut Polygon<f64>, f: &mut impl FnMut(&mut Coord<f64>)) {
        p.exterior_mut(|r| ring(r, f));
        p.interiors_mut(|rs| rs.iter_mut().for_each(|r| ring(r, f)));
    }
    match g {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end)
        }
        Geometry::LineString(l) => ring(l, f),
        Geometry::Polygon(p) => poly(p, f),
        Geometry::MultiPoint(m) => m.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(m) => m.0.iter_mut().for_each(|l| ring(l, f)),
        Geometry::MultiPolygon(m) => m.0.iter_mut().for_each(|p| poly(p, f)),
        Geometry::GeometryCollection(c) => c.0.iter_mut().for_each(|g| visit_coords_mut(g, f)),
        Geometry::Rect(r) => {
            let (mut a, mut b) = (r.min(), r.max());
            f(&mut a);
            f(&mut b);
            *r = gapmap_core::geo::Rect::new(a, b);
        }
        Geometry::Triangle(t) => {
            let mut a = t.to_array();
            a.iter_mut().for_each(&mut *f);
            *t = gapmap_core::geo::Triangle::from(a);
        }
    }
}

/// The first non-finite coordinate, if any.
pub fn first_non_finite(g: &Geometry<f64>) -> Option<Coord<f64>> {
    let mut bad = None;
    visit_coords(g, &mut |c| {
        if bad.is_none() && !(c.x.is_finite() && c.y.is_finite()) {
            bad = Some(c);
        }
    });
    bad
}

/// The first coordinate of a geometry, if it has any.
pub fn first_coord(g: &Geometry<f64>) -> Option<Coord<f64>> {
    let mut first = None;
    visit_coords(g, &mut |c| {
        first.get_or_insert(c);
    });
    first
}

/// Polygonal parts of a geometry as a multipolygon (collections are flattened; other parts are
/// dropped and counted). Returns `None` when the geometry has no polygonal part.
pub fn polygonal(g: Geometry<f64>) -> (Option<MultiPolygon<f64>>, usize) {
    let mut polys = Vec::new();
    let mut dropped = 0;
    fn walk(g: Geometry<f64>, polys: &mut Vec<Polygon<f64>>, dropped: &mut usize) {
        match g {
            Geometry::Polygon(p) => polys.push(p),
            Geometry::MultiPolygon(m) => polys.extend(m.0),
            Geometry::GeometryCollection(c) => {
                c.0.into_iter().for_each(|g| walk(g, polys, dropped))
            }
            _ => *dropped += 1,
        }
    }
    walk(g, &mut polys, &mut dropped);
    (
        (!polys.is_empty()).then(|| MultiPolygon::new(polys)),
        dropped,
    )
}

/// GDAL geometry → `geo`, linearising curves first.
pub(crate) fn from_gdal(
    g: &gdal::vector::Geometry,
) -> std::result::Result<Option<Geometry<f64>>, String> {
    // SAFETY: a type code in, a type code out.
    let flat = unsafe { gdal_sys::OGR_GT_Flatten(g.geometry_type()) };
    if flat == gdal_sys::OGRwkbGeometryType::wkbLineString {
        // Lines (most fibre routes) read straight from GDAL's arrays: no WKB made and parsed.
        // SAFETY: the handle is valid while `g` lives.
        let n = unsafe { gdal_sys::OGR_G_GetPointCount(g.c_geometry()) }.max(0) as usize;
        if n == 0 {
            // Empty, as the WKB reading has it.
            return Ok(None);
        }
        let mut xy = vec![[0.0f64; 2]; n];
        // SAFETY: `xy` holds `n` pairs of f64; GDAL writes the n x values 16 bytes apart from
        // the first pair's first value and the y values likewise from its second, and no z.
        unsafe {
            gdal_sys::OGR_G_GetPoints(
                g.c_geometry(),
                xy.as_mut_ptr().cast(),
                16,
                xy.as_mut_ptr().cast::<f64>().add(1).cast(),
                16,
                std::ptr::null_mut(),
                0,
            );
        }
        let coords = xy.into_iter().map(|[x, y]| Coord { x, y }).collect();
        return Ok(Some(Geometry::LineString(LineString::new(coords))));
    }
    let nonlinear = unsafe { gdal_sys::OGR_GT_IsNonLinear(g.geometry_type()) } != 0;
    let wkb = if nonlinear {
        unsafe {
            let h = gdal_sys::OGR_G_GetLinearGeometry(g.c_geometry(), 0.0, std::ptr::null_mut());
            if h.is_null() {
                return Err("cannot linearise curved geometry".into());
            }
            let size = gdal_sys::OGR_G_WkbSize(h).max(0) as usize;
            let mut buf = vec![0u8; size];
            let rv = gdal_sys::OGR_G_ExportToIsoWkb(
                h,
                gdal_sys::OGRwkbByteOrder::wkbNDR,
                buf.as_mut_ptr(),
            );
            gdal_sys::OGR_G_DestroyGeometry(h);
            if rv != gdal_sys::OGRErr::OGRERR_NONE {
                return Err("cannot export geometry".into());
            }
            buf
        }
    } else {
        g.iso_wkb().map_err(|e| e.to_string())?
    };
    from_wkb(&wkb)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_point(x: f64, y: f64) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend(1u32.to_le_bytes());
        v.extend(x.to_le_bytes());
        v.extend(y.to_le_bytes());
        v
    }

    #[test]
    fn parses_points_and_rejects_garbage() {
        assert_eq!(
            from_wkb(&le_point(1.0, 2.0)).unwrap(),
            Some(Geometry::Point(Point::new(1.0, 2.0)))
        );
        assert_eq!(from_wkb(&le_point(f64::NAN, f64::NAN)).unwrap(), None);
        assert!(from_wkb(&[1, 1, 0]).is_err());
        assert!(from_wkb(&[7]).is_err());
        // A multipoint that claims 2^31 parts.
        let mut v = vec![1u8];
        v.extend(4u32.to_le_bytes());
        v.extend(0x8000_0000u32.to_le_bytes());
        assert!(from_wkb(&v).is_err());
        // A line string of three points with the third cut short.
        let mut v = vec![1u8];
        v.extend(2u32.to_le_bytes());
        v.extend(3u32.to_le_bytes());
        for x in [0.0f64, 1.0, 2.0, 3.0, 4.0] {
            v.extend(x.to_le_bytes());
        }
        assert!(from_wkb(&v).is_err());
        v.extend(5.0f64.to_le_bytes());
        assert_eq!(
            from_wkb(&v).unwrap(),
            Some(Geometry::LineString(LineString::new(vec![
                Coord { x: 0.0, y: 1.0 },
                Coord { x: 2.0, y: 3.0 },
                Coord { x: 4.0, y: 5.0 },
            ])))
        );
    }

    #[test]
    fn wkb_round_trips() {
        use gapmap_core::geo::{line_string, polygon};
        let gs = vec![
            Geometry::Point(Point::new(1.5, -2.0)),
            Geometry::LineString(line_string![(x: 0., y: 0.), (x: 1., y: 2.)]),
            Geometry::MultiPolygon(MultiPolygon::new(vec![polygon!(
                exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 0.)],
                interiors: [[(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 1.)]],
            )])),
            Geometry::MultiLineString(MultiLineString::new(vec![
                line_string![(x: 0., y: 0.), (x: 1., y: 2.)],
            ])),
            Geometry::MultiPoint(MultiPoint::new(vec![Point::new(3.0, 4.0)])),
        ];
        for g in gs {
            assert_eq!(from_wkb(&to_wkb(&g)).unwrap(), Some(g));
        }
    }

    #[test]
    fn parses_z_big_endian_polygon() {
        let mut v = vec![0u8];
        v.extend(1003u32.to_be_bytes()); // ISO PolygonZ
        v.extend(1u32.to_be_bytes());
        v.extend(4u32.to_be_bytes());
        for (x, y) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)] {
            v.extend(f64::to_be_bytes(x));
            v.extend(f64::to_be_bytes(y));
            v.extend(f64::to_be_bytes(9.0));
        }
        let g = from_wkb(&v).unwrap().unwrap();
        let Geometry::Polygon(p) = g else {
            panic!("not a polygon")
        };
        assert_eq!(p.exterior().0.len(), 4);
        assert_eq!(p.exterior().0[1], Coord { x: 1.0, y: 0.0 });
    }
}
