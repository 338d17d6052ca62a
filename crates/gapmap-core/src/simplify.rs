//! Douglas–Peucker simplification of polygon rings, for map display.
//!
//! Like geo's `Simplify`, but comparing squared distances scaled by the segment's squared
//! length (no square roots, `hypot` or division per vertex) and iterative. Every removed vertex
//! lies within `tolerance_m` of the simplified ring, and rings keep at least four vertices (a
//! closed triangle); a ring that would lose more keeps its original vertices.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Squared distance from `p` to the segment `a`–`b`.
fn dist2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    crate::fibre::segment_distance2(p, a, b)
}

/// The vertex of `pts[i + 1..j]` farthest from the segment `pts[i]`–`pts[j]`, and its squared
/// distance (`i + 1 < j`).
///
/// The scan compares each vertex's squared distance times the segment's squared length, which
/// needs no division: the squared cross product where the vertex projects inside the segment,
/// else the squared distance to the nearer end times the squared length. Only the winner's
/// distance is computed as such.
#[inline]
fn farthest(pts: &[Coord<f64>], i: usize, j: usize) -> (usize, f64) {
    let (a, b) = (pts[i], pts[j]);
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let (mut far, mut far_s) = (i, -1.0);
    if len2 == 0.0 {
        // A closed ring's first span: distances to the one point.
        for (k, p) in pts.iter().enumerate().take(j).skip(i + 1) {
            let (wx, wy) = (p.x - a.x, p.y - a.y);
            let s = wx * wx + wy * wy;
            if s > far_s {
                far = k;
                far_s = s;
            }
        }
    } else {
        for (k, p) in pts.iter().enumerate().take(j).skip(i + 1) {
            let (wx, wy) = (p.x - a.x, p.y - a.y);
            let dot = wx * dx + wy * dy;
            let s = if dot <= 0.0 {
                (wx * wx + wy * wy) * len2
            } else if dot >= len2 {
                let (ux, uy) = (p.x - b.x, p.y - b.y);
                (ux * ux + uy * uy) * len2
            } else {
                let cross = wx * dy - wy * dx;
                cross * cross
            };
            if s > far_s {
                far = k;
                far_s = s;
            }
        }
    }
    (far, dist2(pts[far], a, b))
}

/// Indices of `pts` that Douglas–Peucker keeps at `tolerance` (first and last always).
fn keep(pts: &[Coord<f64>], tolerance: f64) -> Vec<bool> {
    let n = pts.len();
    let mut kept = vec![false; n];
    if n == 0 {
        return kept;
    }
    kept[0] = true;
    kept[n - 1] = true;
    let t2 = tolerance * tolerance;
    let mut stack = vec![(0usize, n - 1)];
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (far, far_d2) = farthest(pts, i, j);
        if far_d2 > t2 {
            kept[far] = true;
            stack.push((i, far));
            stack.push((far, j));
        }
    }
    kept
}

/// A closed ring simplified at `tolerance_m`.
pub fn simplify_ring(ring: &LineString<f64>, tolerance_m: f64) -> LineString<f64> {
    let pts = &ring.0;
    if pts.len() <= 4 || tolerance_m <= 0.0 {
        return ring.clone();
    }
    let kept = keep(pts, tolerance_m);
    let out: Vec<Coord<f64>> = pts
        .iter()
        .zip(&kept)
        .filter(|(_, &k)| k)
        .map(|(c, _)| *c)
        .collect();
    if out.len() < 4 {
        ring.clone()
    } else {
        LineString::new(out)
    }
}

/// Every ring of a multipolygon simplified at `tolerance_m`.
pub fn simplify_multi_polygon(mp: &MultiPolygon<f64>, tolerance_m: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(
        mp.0.iter()
            .map(|p| {
                Polygon::new(
                    simplify_ring(p.exterior(), tolerance_m),
                    p.interiors()
                        .iter()
                        .map(|r| simplify_ring(r, tolerance_m))
                        .collect(),
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, Simplify};

    fn wiggly(n: usize) -> LineString<f64> {
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = 1000.0 + if i % 3 == 0 { 1.5 } else { 0.0 } + (i % 17) as f64 * 0.1;
                coord! {x: r * a.cos(), y: r * a.sin()}
            })
            .collect();
        pts.push(pts[0]);
        LineString::new(pts)
    }

    #[test]
    fn matches_geo_and_stays_within_tolerance() {
        let ring = wiggly(2000);
        for tol in [0.5, 2.0, 10.0] {
            let ours = simplify_ring(&ring, tol);
            let geos = ring.simplify(tol);
            assert_eq!(ours, geos, "tolerance {tol}");
            // Every original vertex is within the tolerance of the simplified ring.
            for p in &ring.0 {
                let d = ours
                    .0
                    .windows(2)
                    .map(|w| dist2(*p, w[0], w[1]))
                    .fold(f64::INFINITY, f64::min)
                    .sqrt();
                assert!(d <= tol + 1e-9, "{d} > {tol}");
            }
            assert!(ours.0.len() < ring.0.len());
        }
    }

    #[test]
    fn small_rings_are_kept() {
        let tri = LineString::new(vec![
            coord! {x: 0., y: 0.},
            coord! {x: 1., y: 0.},
            coord! {x: 0., y: 1.},
            coord! {x: 0., y: 0.},
        ]);
        assert_eq!(simplify_ring(&tri, 100.0), tri);
    }
}
