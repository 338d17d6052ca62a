//! Douglas–Peucker simplification of polygon rings, for map display.
//!
//! Like geo's `Simplify`, but comparing squared distances (no square roots or `hypot` per
//! vertex) and iterative. Every removed vertex lies within `tolerance_m` of the simplified ring,
//! and rings keep at least four vertices (a closed triangle); a ring that would lose more keeps
//! its original vertices.

use geo::{Coord, LineString, MultiPolygon, Polygon};

/// Squared distance from `p` to the segment `a`–`b`.
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
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (mut far, mut far_d2) = (i, -1.0);
        for k in i + 1..j {
            let d2 = dist2(pts[k], pts[i], pts[j]);
            if d2 > far_d2 {
                far = k;
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
