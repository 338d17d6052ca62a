//! Douglas–Peucker simplification of polygon rings, for map display.
//!
//! Like geo's `Simplify`, but comparing squared distances scaled by the segment's squared
//! length (no square roots, `hypot` or division per vertex) and iterative. Every removed vertex
//! lies within `tolerance_m` of the simplified ring, and rings keep at least four vertices (a
//! closed triangle); a ring that would lose more keeps its original vertices.

use geo::{Coord, LineString, MultiPolygon};
use rayon::prelude::*;

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
/// distance is computed as such. Of equal scores the first wins. Long spans are scanned four
/// vertices at a time with AVX2 where the processor has it; the scores are the same numbers
/// (the same operations, in the same order, without fused multiply-adds), so the winner is too.
#[inline]
fn farthest(pts: &[Coord<f64>], i: usize, j: usize, avx2: bool) -> (usize, f64) {
    let (a, b) = (pts[i], pts[j]);
    let span = Span::new(a, b);
    let (mut far, mut far_s, mut from) = (i, -1.0, i + 1);
    #[cfg(target_arch = "x86_64")]
    if avx2 && j - i > 8 {
        // SAFETY: `avx2` comes from `has_avx2`: the processor supports AVX2.
        (far, far_s, from) = unsafe { avx2::scan(pts, i + 1, j, &span) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx2;
    for (k, p) in pts.iter().enumerate().take(j).skip(from) {
        let s = span.score(*p);
        if s > far_s {
            far = k;
            far_s = s;
        }
    }
    (far, dist2(pts[far], a, b))
}

/// Whether this processor runs the AVX2 scan.
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// A segment `a`–`b` and what scoring vertices against it needs.
struct Span {
    a: Coord<f64>,
    b: Coord<f64>,
    dx: f64,
    dy: f64,
    len2: f64,
}

impl Span {
    fn new(a: Coord<f64>, b: Coord<f64>) -> Span {
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        Span {
            a,
            b,
            dx,
            dy,
            len2: dx * dx + dy * dy,
        }
    }

    /// The vertex's squared distance times `len2` (see [`farthest`]); the squared distance to
    /// `a` for a span of zero length (a closed ring's first span).
    #[inline(always)]
    fn score(&self, p: Coord<f64>) -> f64 {
        let (wx, wy) = (p.x - self.a.x, p.y - self.a.y);
        if self.len2 == 0.0 {
            return wx * wx + wy * wy;
        }
        let dot = wx * self.dx + wy * self.dy;
        if dot <= 0.0 {
            (wx * wx + wy * wy) * self.len2
        } else if dot >= self.len2 {
            let (ux, uy) = (p.x - self.b.x, p.y - self.b.y);
            (ux * ux + uy * uy) * self.len2
        } else {
            let cross = wx * self.dy - wy * self.dx;
            cross * cross
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::Span;
    use geo::Coord;
    use std::arch::x86_64::*;

    /// [`Span::score`] of `pts[from..to]`, four at a time: the first vertex with the highest
    /// score, that score, and where the scalar scan is to go on (the last `len % 4`).
    #[target_feature(enable = "avx2")]
    pub(super) fn scan(
        pts: &[Coord<f64>],
        from: usize,
        to: usize,
        s: &Span,
    ) -> (usize, f64, usize) {
        let (ax, ay, bx, by) = (
            _mm256_set1_pd(s.a.x),
            _mm256_set1_pd(s.a.y),
            _mm256_set1_pd(s.b.x),
            _mm256_set1_pd(s.b.y),
        );
        let (dx, dy, len2) = (
            _mm256_set1_pd(s.dx),
            _mm256_set1_pd(s.dy),
            _mm256_set1_pd(s.len2),
        );
        let zero_len = s.len2 == 0.0;
        let zero = _mm256_setzero_pd();
        let mut best = _mm256_set1_pd(-1.0);
        // Each lane's best vertex as its offset from `from`, held as an f64 value (exact for
        // offsets below 2^53).
        let mut best_at = _mm256_setzero_pd();
        let mut at = _mm256_set_pd(3.0, 2.0, 1.0, 0.0);
        let four = _mm256_set1_pd(4.0);
        let chunks = pts[from..to].chunks_exact(4);
        let end = to - chunks.remainder().len();
        for c in chunks {
            let x = _mm256_set_pd(c[3].x, c[2].x, c[1].x, c[0].x);
            let y = _mm256_set_pd(c[3].y, c[2].y, c[1].y, c[0].y);
            let wx = _mm256_sub_pd(x, ax);
            let wy = _mm256_sub_pd(y, ay);
            let near_a = _mm256_add_pd(_mm256_mul_pd(wx, wx), _mm256_mul_pd(wy, wy));
            let score = if zero_len {
                near_a
            } else {
                let dot = _mm256_add_pd(_mm256_mul_pd(wx, dx), _mm256_mul_pd(wy, dy));
                let cross = _mm256_sub_pd(_mm256_mul_pd(wx, dy), _mm256_mul_pd(wy, dx));
                let ux = _mm256_sub_pd(x, bx);
                let uy = _mm256_sub_pd(y, by);
                let near_b = _mm256_add_pd(_mm256_mul_pd(ux, ux), _mm256_mul_pd(uy, uy));
                let before = _mm256_cmp_pd::<_CMP_LE_OQ>(dot, zero);
                let after = _mm256_cmp_pd::<_CMP_GE_OQ>(dot, len2);
                let inside = _mm256_mul_pd(cross, cross);
                let ends = _mm256_mul_pd(_mm256_blendv_pd(near_b, near_a, before), len2);
                _mm256_blendv_pd(inside, ends, _mm256_or_pd(before, after))
            };
            let higher = _mm256_cmp_pd::<_CMP_GT_OQ>(score, best);
            best = _mm256_blendv_pd(best, score, higher);
            best_at = _mm256_blendv_pd(best_at, at, higher);
            at = _mm256_add_pd(at, four);
        }
        let (mut scores, mut ats) = ([0.0f64; 4], [0.0f64; 4]);
        // SAFETY: both arrays hold four f64, what an unaligned 256-bit store writes.
        unsafe {
            _mm256_storeu_pd(scores.as_mut_ptr(), best);
            _mm256_storeu_pd(ats.as_mut_ptr(), best_at);
        }
        // The highest score; of the lanes that reach it, the earliest vertex.
        let (mut far, mut far_s) = (from - 1, -1.0);
        for (&sc, &k) in scores.iter().zip(&ats) {
            let k = from + k as usize;
            if sc > far_s || (sc == far_s && sc >= 0.0 && k < far) {
                far = k;
                far_s = sc;
            }
        }
        (far, far_s, end)
    }
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
    let avx2 = has_avx2();
    let mut stack = vec![(0usize, n - 1)];
    while let Some((i, j)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (far, far_d2) = farthest(pts, i, j, avx2);
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
    let mut out = ring.clone();
    simplify_ring_in_place(&mut out, tolerance_m);
    out
}

/// A closed ring simplified at `tolerance_m` in place: the kept vertices move to the front and
/// the rest are dropped, in the ring's own allocation. The same vertices as [`simplify_ring`].
pub fn simplify_ring_in_place(ring: &mut LineString<f64>, tolerance_m: f64) {
    let pts = &mut ring.0;
    if pts.len() <= 4 || tolerance_m <= 0.0 {
        return;
    }
    let kept = keep(pts, tolerance_m);
    if kept.iter().filter(|&&k| k).count() < 4 {
        return;
    }
    // `retain` visits the vertices once each, in order.
    let mut flags = kept.iter();
    pts.retain(|_| flags.next().copied().unwrap_or(true));
}

/// Every ring of a multipolygon simplified at `tolerance_m`.
pub fn simplify_multi_polygon(mp: &MultiPolygon<f64>, tolerance_m: f64) -> MultiPolygon<f64> {
    let mut out = mp.clone();
    simplify_multi_polygon_in_place(&mut out, tolerance_m);
    out
}

/// Every ring of a multipolygon simplified at `tolerance_m`, in place (see
/// [`simplify_ring_in_place`]): no allocation is made or freed for the rings.
pub fn simplify_multi_polygon_in_place(mp: &mut MultiPolygon<f64>, tolerance_m: f64) {
    for p in &mut mp.0 {
        p.exterior_mut(|r| simplify_ring_in_place(r, tolerance_m));
        p.interiors_mut(|rs| {
            for r in rs {
                simplify_ring_in_place(r, tolerance_m);
            }
        });
    }
}

/// `areas` simplified at `tolerance_m`; empty when the tolerance is 0 (nothing to simplify).
pub fn simplify_all(areas: &[MultiPolygon<f64>], tolerance_m: f64) -> Vec<MultiPolygon<f64>> {
    if tolerance_m > 0.0 {
        areas
            .par_iter()
            .map(|a| simplify_multi_polygon(a, tolerance_m))
            .collect()
    } else {
        Vec::new()
    }
}

/// `areas` simplified in place at `tolerance_m` and trimmed ([`simplify_and_trim`]), on the
/// pool.
pub fn simplify_all_in_place(areas: &mut [MultiPolygon<f64>], tolerance_m: f64) {
    areas
        .par_iter_mut()
        .for_each(|a| simplify_and_trim(a, tolerance_m));
}

/// `area` simplified in place at `tolerance_m`, each ring then reallocated to its new length
/// when that frees much (the memory serves what follows, rather than fresh pages).
pub fn simplify_and_trim(area: &mut MultiPolygon<f64>, tolerance_m: f64) {
    simplify_multi_polygon_in_place(area, tolerance_m);
    let trim = |r: &mut LineString<f64>| {
        if r.0.capacity() > 2 * r.0.len() + 16 {
            r.0.shrink_to_fit();
        }
    };
    for p in &mut area.0 {
        p.exterior_mut(trim);
        p.interiors_mut(|rs| rs.iter_mut().for_each(trim));
    }
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

    #[test]
    fn the_vector_scan_finds_the_scalar_scans_vertex() {
        // Random spans, some on a coarse grid (equal scores, vertices at the ends, zero-length
        // spans), scanned with and without AVX2: the same vertex and distance every time.
        let mut rng = crate::rng::SplitMix64::new(3);
        let mut checked = 0;
        for case in 0..4000 {
            let n = 2 + rng.below(300) as usize;
            let grid = case % 2 == 0;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|_| {
                    let (x, y) = (rng.range(-50.0, 50.0), rng.range(-50.0, 50.0));
                    if grid {
                        coord! {x: 6e5 + (x / 10.0).round() * 10.0, y: 7e6 + (y / 10.0).round()}
                    } else {
                        coord! {x: 6e5 + x, y: 7e6 + y}
                    }
                })
                .collect();
            if case % 5 == 0 {
                pts.push(pts[0]);
            }
            let (i, j) = (0, pts.len() - 1);
            if j < i + 2 {
                continue;
            }
            let scalar = farthest(&pts, i, j, false);
            let vector = farthest(&pts, i, j, has_avx2());
            assert_eq!(scalar, vector, "case {case}");
            // The scalar scan is the plain definition: the first vertex of highest score.
            let span = Span::new(pts[i], pts[j]);
            let top = (i + 1..j).map(|k| span.score(pts[k])).fold(-1.0, f64::max);
            let first = (i + 1..j).find(|&k| span.score(pts[k]) == top).unwrap();
            assert_eq!(scalar.0, first, "case {case}");
            checked += 1;
        }
        assert!(checked > 3000);
    }
}
