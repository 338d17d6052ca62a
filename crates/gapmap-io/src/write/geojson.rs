//! RFC 7946 GeoJSON output: WGS 84 longitude/latitude, right-hand-rule polygon rings, no `crs`
//! member, coordinates rounded to 7 decimals (about 1 cm). Features stream from a
//! [`FeatureTable`], reprojected a few thousand at a time.

use crate::write::output::OutputFile;
use std::io::{BufWriter, Write};
use std::path::Path;

use gapmap_core::geo::orient::Direction;
use gapmap_core::geo::{Coord, Geometry, LineString, MultiPolygon, Orient, Polygon};

use crate::crs::{Crs, Transform};
use crate::error::{IoError, Result};
use crate::geom::{visit_coords, visit_coords_mut};
use crate::write::features::{Column, FeatureTable, GeomRef};

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

/// Two-digit pairs "00".."99", for writing integers two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Writes the decimal digits of `n` at the start of `out` (at least 20 bytes); returns how many.
/// Digits go straight to their place, two at a time, with fixed-size copies (no `memcpy` call).
#[inline]
fn write_digits(out: &mut [u8], mut n: u64) -> usize {
    let mut len = 1;
    let mut power = 10u64;
    while len < 20 && n >= power {
        len += 1;
        power = power.wrapping_mul(10);
    }
    let mut i = len;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        out[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        out[i - 2..i].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        out[i - 1] = b'0' + n as u8;
    }
    len
}

/// Writes `v` rounded to 7 decimals, without trailing zeros (`15.5`, `-0.0000001`, `60`), at
/// the start of `out` (at least 32 bytes); returns how many bytes, or `None` when `v` is not
/// a number or too large for the fast path (|v| ≥ 9e11).
#[inline]
fn write_number(out: &mut [u8], v: f64) -> Option<usize> {
    let scaled = v * 1e7;
    // Doubles near 9e18 are 1024 apart, so rounding cannot cross the bound.
    if scaled.is_nan() || scaled.abs() >= 9e18 {
        return None;
    }
    let n = gapmap_core::num::round_i64(scaled);
    let mut len = 0;
    if n < 0 {
        out[0] = b'-';
        len = 1;
    }
    let n = n.unsigned_abs();
    let (int, frac) = (n / 10_000_000, (n % 10_000_000) as u32);
    len += write_digits(&mut out[len..], int);
    if frac > 0 {
        // '.' and seven digits with leading zeros, as one little-endian word (the point in the
        // lowest byte); the trailing zeros, in the highest bytes, are then dropped by counting
        // the zero bytes of `word ^ "00000000"` (the point is never '0', and frac > 0 has a
        // digit other than 0).
        let pair = |k: u32| {
            u64::from(u16::from_le_bytes([
                DIGIT_PAIRS[2 * k as usize],
                DIGIT_PAIRS[2 * k as usize + 1],
            ]))
        };
        let word = u64::from(b'.')
            | pair(frac / 100_000) << 8
            | pair(frac / 1_000 % 100) << 24
            | pair(frac / 10 % 100) << 40
            | u64::from(b'0' + (frac % 10) as u8) << 56;
        let zeros = (word ^ 0x3030_3030_3030_3030).leading_zeros() / 8;
        out[len..len + 8].copy_from_slice(&word.to_le_bytes());
        len += 8 - zeros as usize;
    }
    Some(len)
}

/// Appends `v` rounded to 7 decimals, without trailing zeros (`15.5`, `-0.0000001`, `60`).
/// Exact for |v| < 9e11, i.e. for any longitude or latitude; no allocation.
fn push_number(s: &mut Vec<u8>, v: f64) {
    let mut buf = [0u8; 32];
    match write_number(&mut buf, v) {
        Some(len) => s.extend_from_slice(&buf[..len]),
        None => s.extend(format!("{v}").as_bytes()),
    }
}

/// Appends `[x,y]`, formatted in a stack buffer and copied once.
fn push_coord(s: &mut Vec<u8>, c: Coord<f64>) {
    let mut buf = [0u8; 72];
    buf[0] = b'[';
    let Some(a) = write_number(&mut buf[1..], c.x) else {
        return push_coord_slow(s, c);
    };
    buf[1 + a] = b',';
    let Some(b) = write_number(&mut buf[2 + a..], c.y) else {
        return push_coord_slow(s, c);
    };
    buf[2 + a + b] = b']';
    s.extend_from_slice(&buf[..3 + a + b]);
}

/// Appends the decimal digits of `n`.
fn push_digits(s: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let len = write_digits(&mut buf, n);
    s.extend_from_slice(&buf[..len]);
}

fn push_coord_slow(s: &mut Vec<u8>, c: Coord<f64>) {
    s.push(b'[');
    push_number(s, c.x);
    s.push(b',');
    push_number(s, c.y);
    s.push(b']');
}

fn push_line(s: &mut Vec<u8>, l: &LineString<f64>) {
    push_list(s, &l.0, |s, c| push_coord(s, *c));
}

fn push_polygon(s: &mut Vec<u8>, p: &Polygon<f64>) {
    s.push(b'[');
    push_line(s, p.exterior());
    for r in p.interiors() {
        s.push(b',');
        push_line(s, r);
    }
    s.push(b']');
}

fn push_list<T>(s: &mut Vec<u8>, items: &[T], mut f: impl FnMut(&mut Vec<u8>, &T)) {
    s.push(b'[');
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(b',');
        }
        f(s, it);
    }
    s.push(b']');
}

/// Appends the GeoJSON geometry object (already in WGS 84), or `null` for an empty geometry.
pub fn push_geometry(s: &mut Vec<u8>, g: &Geometry<f64>) {
    let mut open = |t: &str| s.extend(format!("{{\"type\":\"{t}\",\"coordinates\":").as_bytes());
    match g {
        Geometry::Point(p) => {
            open("Point");
            push_coord(s, p.0);
        }
        Geometry::LineString(l) => {
            open("LineString");
            push_line(s, l);
        }
        Geometry::Polygon(p) => {
            open("Polygon");
            push_polygon(s, p);
        }
        Geometry::MultiPoint(m) => {
            open("MultiPoint");
            push_list(s, &m.0, |s, p| push_coord(s, p.0));
        }
        Geometry::MultiLineString(m) => {
            open("MultiLineString");
            push_list(s, &m.0, push_line);
        }
        Geometry::MultiPolygon(m) if m.0.is_empty() => {
            s.extend(b"null");
            return;
        }
        Geometry::MultiPolygon(m) => {
            open("MultiPolygon");
            push_list(s, &m.0, push_polygon);
        }
        Geometry::GeometryCollection(c) => {
            s.extend(b"{\"type\":\"GeometryCollection\",\"geometries\":[");
            for (i, g) in c.0.iter().enumerate() {
                if i > 0 {
                    s.push(b',');
                }
                push_geometry(s, g);
            }
            s.push(b']');
        }
        Geometry::Line(l) => return push_geometry(s, &Geometry::LineString((*l).into())),
        Geometry::Rect(r) => return push_geometry(s, &Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => return push_geometry(s, &Geometry::Polygon(t.to_polygon())),
    }
    s.push(b'}');
}

/// The GeoJSON geometry object as a string.
pub fn geometry_json(g: &Geometry<f64>) -> String {
    let mut s = Vec::new();
    push_geometry(&mut s, g);
    // The writer emits ASCII only.
    String::from_utf8(s).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Twice the signed area of a ring; positive when counter-clockwise.
fn signed_area2(ring: &[Coord<f64>]) -> f64 {
    ring.windows(2)
        .map(|w| w[0].x * w[1].y - w[1].x * w[0].y)
        .sum()
}

fn push_ring_transformed(
    s: &mut Vec<u8>,
    r: &LineString<f64>,
    xy: &[Coord<f64>],
    k: &mut usize,
    exterior: bool,
) {
    let n = r.0.len();
    let cs = &xy[*k..*k + n];
    *k += n;
    let reverse = (signed_area2(&r.0) > 0.0) != exterior;
    s.push(b'[');
    for j in 0..n {
        if j > 0 {
            s.push(b',');
        }
        push_coord(s, cs[if reverse { n - 1 - j } else { j }]);
    }
    s.push(b']');
}

fn push_polygon_transformed(s: &mut Vec<u8>, p: &Polygon<f64>, xy: &[Coord<f64>], k: &mut usize) {
    s.push(b'[');
    push_ring_transformed(s, p.exterior(), xy, k, true);
    for r in p.interiors() {
        s.push(b',');
        push_ring_transformed(s, r, xy, k, false);
    }
    s.push(b']');
}

/// Like [`push_transformed`], for a multipolygon (`null` when it has no parts).
fn push_multi_polygon_transformed(
    s: &mut Vec<u8>,
    m: &MultiPolygon<f64>,
    xy: &[Coord<f64>],
    k: &mut usize,
) {
    if m.0.is_empty() {
        s.extend(b"null");
        return;
    }
    s.extend(b"{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (i, p) in m.0.iter().enumerate() {
        if i > 0 {
            s.push(b',');
        }
        push_polygon_transformed(s, p, xy, k);
    }
    s.extend(b"]}");
}

/// Appends a geometry whose coordinates, in [`visit_coords`] order, were reprojected into
/// `xy` from position `*k` on. Polygon rings are written by the right-hand rule (exterior
/// counter-clockwise, holes clockwise); reprojection between these CRSs keeps orientation,
/// so it is read from the source ring. No copy of the geometry is made.
fn push_transformed(s: &mut Vec<u8>, g: &Geometry<f64>, xy: &[Coord<f64>], k: &mut usize) {
    fn polygon(s: &mut Vec<u8>, p: &Polygon<f64>, xy: &[Coord<f64>], k: &mut usize) {
        push_polygon_transformed(s, p, xy, k);
    }
    fn line(s: &mut Vec<u8>, l: &LineString<f64>, xy: &[Coord<f64>], k: &mut usize) {
        let n = l.0.len();
        push_list(s, &xy[*k..*k + n], |s, c| push_coord(s, *c));
        *k += n;
    }
    let mut open = |t: &str| s.extend(format!("{{\"type\":\"{t}\",\"coordinates\":").as_bytes());
    match g {
        Geometry::Polygon(p) => {
            open("Polygon");
            polygon(s, p, xy, k);
        }
        Geometry::MultiPolygon(m) => return push_multi_polygon_transformed(s, m, xy, k),
        Geometry::LineString(l) => {
            open("LineString");
            line(s, l, xy, k);
        }
        Geometry::MultiLineString(m) => {
            open("MultiLineString");
            s.push(b'[');
            for (i, l) in m.0.iter().enumerate() {
                if i > 0 {
                    s.push(b',');
                }
                line(s, l, xy, k);
            }
            s.push(b']');
        }
        Geometry::Point(_) => {
            open("Point");
            push_coord(s, xy[*k]);
            *k += 1;
        }
        Geometry::MultiPoint(m) => {
            open("MultiPoint");
            let n = m.0.len();
            push_list(s, &xy[*k..*k + n], |s, c| push_coord(s, *c));
            *k += n;
        }
        other => {
            // Rare kinds: through an owned copy.
            let mut n = 0;
            visit_coords(other, &mut |_| n += 1);
            let mut g = other.clone();
            let mut j = *k;
            visit_coords_mut(&mut g, &mut |c| {
                *c = xy[j];
                j += 1;
            });
            *k += n;
            return push_geometry(s, &g);
        }
    }
    s.push(b'}');
}

fn push_properties(s: &mut Vec<u8>, keys: &[Vec<u8>], columns: &[(String, Column<'_>)], i: usize) {
    s.push(b'{');
    for (k, (key, (_, col))) in keys.iter().zip(columns).enumerate() {
        if k > 0 {
            s.push(b',');
        }
        s.extend(key);
        s.push(b':');
        match col {
            Column::Int(v) => {
                if v[i] < 0 {
                    s.push(b'-');
                }
                push_digits(s, v[i].unsigned_abs());
            }
            Column::IntOpt(v) => match v[i] {
                Some(x) => {
                    if x < 0 {
                        s.push(b'-');
                    }
                    push_digits(s, x.unsigned_abs());
                }
                None => s.extend(b"null"),
            },
            Column::Float(v) => match v[i] {
                Some(x) if x.is_finite() => {
                    s.extend(serde_json::to_string(&x).unwrap_or_default().as_bytes())
                }
                _ => s.extend(b"null"),
            },
            Column::Text(v) => match &v[i] {
                Some(t) => s.extend(
                    serde_json::to_string(t.as_ref())
                        .unwrap_or_default()
                        .as_bytes(),
                ),
                None => s.extend(b"null"),
            },
        }
    }
    s.push(b'}');
}

/// Writes a FeatureCollection to `path`, reprojecting from `from` to WGS 84.
pub fn write_geojson(path: &Path, name: &str, from: &Crs, table: &FeatureTable<'_>) -> Result<()> {
    let werr = |m: String| IoError::Write {
        path: path.to_path_buf(),
        message: m,
    };
    let to_wgs84 = Transform::new(from, &Crs::wgs84())
        .map_err(|m| werr(format!("cannot reproject to WGS 84: {m}")))?;
    let mut file = OutputFile::create(path)?;
    let mut out = BufWriter::with_capacity(1 << 16, &mut file);
    let io = |e: std::io::Error| werr(e.to_string());
    let keys: Vec<Vec<u8>> = table
        .columns
        .iter()
        .map(|(k, _)| serde_json::to_vec(k).unwrap_or_default())
        .collect();
    write!(
        out,
        "{{\"type\":\"FeatureCollection\",\"name\":{},\"features\":[",
        serde_json::Value::from(name)
    )
    .map_err(io)?;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    // Reproject in batches of about BATCH_COORDS coordinates: few calls into PROJ, and the
    // batch stays small enough for the cache (whole features; one large feature is one batch).
    const BATCH_COORDS: usize = 1 << 14;
    let (mut xs, mut ys, mut xy): (Vec<f64>, Vec<f64>, Vec<Coord<f64>>) =
        (Vec::new(), Vec::new(), Vec::new());
    let mut start = 0;
    while start < table.len() {
        xs.clear();
        ys.clear();
        let mut end = start;
        while end < table.len() && (end == start || xs.len() < BATCH_COORDS) {
            table.geometries[end].visit(&mut |c| {
                xs.push(c.x);
                ys.push(c.y);
            });
            end += 1;
        }
        to_wgs84
            .coords(&mut xs, &mut ys)
            .map_err(|m| werr(format!("cannot reproject to WGS 84: {m}")))?;
        xy.clear();
        xy.extend(xs.iter().zip(&ys).map(|(&x, &y)| Coord { x, y }));
        let mut k = 0;
        // The whole batch in one buffer, written with one call (no second copy through a
        // `BufWriter`).
        buf.clear();
        for (i, g) in (start..end).zip(&table.geometries[start..end]) {
            buf.extend(if i > 0 { &b",\n"[..] } else { &b"\n"[..] });
            buf.extend(b"{\"type\":\"Feature\",\"properties\":");
            push_properties(&mut buf, &keys, &table.columns, i);
            buf.extend(b",\"geometry\":");
            match g {
                GeomRef::MultiPolygon(m) => {
                    push_multi_polygon_transformed(&mut buf, m, &xy, &mut k)
                }
                GeomRef::Geometry(g) => push_transformed(&mut buf, g, &xy, &mut k),
                GeomRef::Owned(g) => push_transformed(&mut buf, g, &xy, &mut k),
            }
            buf.push(b'}');
        }
        out.write_all(&buf).map_err(io)?;
        start = end;
    }
    out.write_all(b"\n]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    drop(out);
    file.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: f64) -> String {
        let mut s = Vec::new();
        push_number(&mut s, v);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn integers_have_their_digits() {
        let mut cases = vec![0u64, 9, 10, 99, 100, 101, u64::MAX, u64::MAX - 1];
        for k in 1..20 {
            let p = 10u64.pow(k);
            cases.extend([p - 1, p, p + 1]);
        }
        let mut rng = gapmap_core::rng::SplitMix64::new(9);
        cases.extend((0..10_000).map(|_| rng.next_u64() >> rng.below(64)));
        for n in cases {
            let mut s = Vec::new();
            push_digits(&mut s, n);
            assert_eq!(String::from_utf8(s).unwrap(), n.to_string());
        }
    }

    #[test]
    fn numbers_round_to_seven_decimals() {
        assert_eq!(num(15.0), "15");
        assert_eq!(num(15.5), "15.5");
        assert_eq!(num(-0.00000004), "0");
        assert_eq!(num(-0.00000006), "-0.0000001");
        assert_eq!(num(60.12345678), "60.1234568");
        assert_eq!(num(-179.9999999), "-179.9999999");
        assert_eq!(num(0.0100000), "0.01");
        assert_eq!(num(18.0000305), "18.0000305");
        assert_eq!(num(1234567.0), "1234567");
        // Against a plain formatter, on seeded values of every magnitude up to 9e11.
        let mut rng = gapmap_core::rng::SplitMix64::new(7);
        for _ in 0..100_000 {
            let v = rng.range(-0.5, 0.5) * 10f64.powi(rng.below(13) as i32);
            // The same rounding, digits by std's integer formatting.
            let n = (v * 1e7).round() as i64;
            let r = format!(
                "{}{}.{:07}",
                if n < 0 { "-" } else { "" },
                n.unsigned_abs() / 10_000_000,
                n.unsigned_abs() % 10_000_000
            );
            let r = r.trim_end_matches('0').trim_end_matches('.');
            let r = if r == "-0" { "0" } else { r };
            assert_eq!(num(v), r, "{v}");
        }
        let mut s = Vec::new();
        push_coord(
            &mut s,
            Coord {
                x: 18.0000305,
                y: -59.5,
            },
        );
        push_coord(
            &mut s,
            Coord {
                x: f64::NAN,
                y: 1.0,
            },
        );
        assert_eq!(String::from_utf8(s).unwrap(), "[18.0000305,-59.5][NaN,1]");
        for v in [12.3456789, -73.1, 0.5, 100.0000001] {
            let parsed: f64 = num(v).parse().unwrap();
            assert!((parsed - v).abs() <= 0.5e-7 + 1e-12, "{v} -> {}", num(v));
        }
    }
}
