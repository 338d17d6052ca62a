//! A fast, exact screen for OGC polygon validity.
//!
//! [`surely_valid`] proves a multipolygon valid under a condition stricter than OGC's: its
//! rings are closed, each has at least three distinct vertices, no two rings meet, and no ring
//! meets itself except where consecutive segments share their vertex; each hole lies inside
//! its own shell and outside its polygon's other holes; and no shell lies in another polygon's
//! interior. Rings that meet nowhere are nested or apart as wholes, so these conditions make
//! the polygons simple with connected interiors and disjoint from one another: OGC-valid.
//!
//! It answers `false` whenever the condition fails, and also when checking it would cost more
//! than a few passes over the vertices (segments crowded into a few grid cells, edges that
//! span many cells, many holes in one large ring). `false` means "not proven": the caller then
//! asks a full validator (GEOS). The answer never depends on rounding: segments are tested
//! with exact orientation predicates.
//!
//! Cost: linear in the n vertices for the segments (a counting sort into a uniform grid of
//! about 2n cells; pairs are tested only within a cell, up to a fixed budget per segment),
//! plus an R-tree over the rings' boxes for the nesting, with a point-in-ring test per
//! candidate (also under a budget).

use crate::num::{hi, lo};
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{Coord, LineString, Polygon};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

/// True when the multipolygon made of `polygons` is proven OGC-valid (see the module
/// documentation). No polygons are valid.
pub fn surely_valid(polygons: &[Polygon<f64>]) -> bool {
    let Some(rings) = rings_of(polygons) else {
        return false;
    };
    if rings.is_empty() {
        return true;
    }
    no_two_segments_meet(&rings) && nesting_is_valid(&rings)
}

/// Every ring of `polygons` (shell first, then holes, polygon by polygon), or `None` when one
/// is not a proper ring (see [`Ring::new`]).
fn rings_of(polygons: &[Polygon<f64>]) -> Option<Vec<Ring<'_>>> {
    let mut rings = Vec::new();
    for (p, poly) in polygons.iter().enumerate() {
        for (k, ls) in std::iter::once(poly.exterior())
            .chain(poly.interiors())
            .enumerate()
        {
            rings.push(Ring::new(ls, p as u32, k == 0)?);
        }
    }
    Some(rings)
}

/// One ring: its vertices without repeats (closed: last equals first), its polygon, and
/// whether it is the polygon's shell. The vertices are borrowed unless some repeat.
struct Ring<'a> {
    pts: std::borrow::Cow<'a, [Coord<f64>]>,
    polygon: u32,
    shell: bool,
    min: Coord<f64>,
    max: Coord<f64>,
}

impl<'a> Ring<'a> {
    /// `None` when the ring is not closed, not finite, or has fewer than three distinct
    /// vertices.
    fn new(ls: &'a LineString<f64>, polygon: u32, shell: bool) -> Option<Ring<'a>> {
        let c = &ls.0;
        if c.len() < 4 || c.first() != c.last() {
            return None;
        }
        let (mut min, mut max) = (c[0], c[0]);
        let mut repeats = false;
        for (i, q) in c.iter().enumerate() {
            if !(q.x.is_finite() && q.y.is_finite()) {
                return None;
            }
            repeats |= i > 0 && c[i - 1] == *q;
            min.x = lo(min.x, q.x);
            min.y = lo(min.y, q.y);
            max.x = hi(max.x, q.x);
            max.y = hi(max.y, q.y);
        }
        // Repeated vertices are allowed by OGC and carry no segment: drop them (on a copy).
        let pts: std::borrow::Cow<'a, [Coord<f64>]> = if repeats {
            let mut v: Vec<Coord<f64>> = Vec::with_capacity(c.len());
            for &q in c {
                if v.last() != Some(&q) {
                    v.push(q);
                }
            }
            v.into()
        } else {
            c.as_slice().into()
        };
        if pts.len() < 4 {
            return None;
        }
        Some(Ring {
            pts,
            polygon,
            shell,
            min,
            max,
        })
    }

    fn segments(&self) -> usize {
        self.pts.len() - 1
    }
}

fn orient(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> i8 {
    match RobustKernel::orient2d(a, b, c) {
        Orientation::CounterClockwise => 1,
        Orientation::Clockwise => -1,
        Orientation::Collinear => 0,
    }
}

/// True when the closed segments a–b and c–d have a point in common (exact).
fn segments_meet(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    if o1 * o2 > 0 {
        return false;
    }
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    if o3 * o4 > 0 {
        return false;
    }
    if o1 == 0 && o2 == 0 {
        // Collinear: they meet when their extents overlap.
        let overlap = |p: f64, q: f64, r: f64, s: f64| p.min(q) <= r.max(s) && r.min(s) <= p.max(q);
        return overlap(a.x, b.x, c.x, d.x) && overlap(a.y, b.y, c.y, d.y);
    }
    true
}

/// True when consecutive segments a–b and b–c share only b (no spike folding back).
fn consecutive_ok(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> bool {
    if orient(a, b, c) != 0 {
        return true;
    }
    // Collinear: c must continue beyond b, away from a.
    (b.x - a.x) * (c.x - b.x) + (b.y - a.y) * (c.y - b.y) > 0.0
}

/// How many grid entries per segment, and pair tests per segment, the search may use before
/// it gives up (and leaves the polygon to the full check).
const MAX_ENTRIES_PER_SEGMENT: usize = 8;
const MAX_TESTS_PER_SEGMENT: usize = 64;
/// Grid cells per segment over the bounding box.
const CELLS_PER_SEGMENT: usize = 2;

/// True when no two segments meet, other than consecutive segments of one ring at their
/// shared vertex. The segments go into a uniform grid of about two cells per segment over the
/// bounding box (a counting sort, no comparisons); each pair of segments whose boxes overlap
/// is tested once, in the cell that holds the lower corner of the overlap.
fn no_two_segments_meet(rings: &[Ring]) -> bool {
    // Segment s: its ends, ring and index in the ring.
    let n: usize = rings.iter().map(Ring::segments).sum();
    let mut seg: Vec<Seg> = Vec::with_capacity(n);
    let (mut min, mut max) = (rings[0].min, rings[0].max);
    for (r, ring) in rings.iter().enumerate() {
        let m = ring.segments();
        for i in 0..m {
            let (a, b) = (ring.pts[i], ring.pts[i + 1]);
            seg.push(Seg {
                a,
                b,
                ring: r as u32,
                index: i as u32,
            });
            // Consecutive segments, including last → first at the closing vertex.
            if !consecutive_ok(a, b, ring.pts[(i + 1) % m + 1]) {
                return false;
            }
        }
        min.x = min.x.min(ring.min.x);
        min.y = min.y.min(ring.min.y);
        max.x = max.x.max(ring.max.x);
        max.y = max.y.max(ring.max.y);
    }
    let (w, h) = (max.x - min.x, max.y - min.y);
    // Square cells, about CELLS_PER_SEGMENT × n of them over the box.
    let cell = ((w * h) / (CELLS_PER_SEGMENT * n) as f64)
        .sqrt()
        .max(w.max(h) / (CELLS_PER_SEGMENT * n) as f64);
    if !(cell > 0.0 && cell.is_finite()) {
        return false;
    }
    let nx = ((w / cell) as usize).saturating_add(1);
    let ny = ((h / cell) as usize).saturating_add(1);
    let Some(cells) = nx
        .checked_mul(ny)
        .filter(|&c| c <= 4 * CELLS_PER_SEGMENT * n + 64)
    else {
        return false;
    };
    // Any monotone map of coordinates to cells keeps the spans and the lower-corner test
    // consistent: a multiplication by the inverse, not a division, per use.
    let per_cell = 1.0 / cell;
    let col = |x: f64| (((x - min.x) * per_cell) as usize).min(nx - 1);
    let row = |y: f64| (((y - min.y) * per_cell) as usize).min(ny - 1);
    // Each segment's cells, as column and row ranges.
    let spans: Vec<[u32; 4]> = seg
        .iter()
        .map(|s| {
            [
                col(lo(s.a.x, s.b.x)) as u32,
                col(hi(s.a.x, s.b.x)) as u32,
                row(lo(s.a.y, s.b.y)) as u32,
                row(hi(s.a.y, s.b.y)) as u32,
            ]
        })
        .collect();
    // Counting sort of (cell, segment) entries: counts, then offsets, then fill.
    let mut start = vec![0u32; cells + 1];
    let mut entries_total = 0usize;
    for &[x0, x1, y0, y1] in &spans {
        let (x0, x1, y0, y1) = (x0 as usize, x1 as usize, y0 as usize, y1 as usize);
        entries_total += (x1 - x0 + 1) * (y1 - y0 + 1);
        if entries_total > MAX_ENTRIES_PER_SEGMENT * n {
            return false;
        }
        for y in y0..=y1 {
            for x in x0..=x1 {
                start[y * nx + x + 1] += 1;
            }
        }
    }
    for c in 0..cells {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut entries = vec![0u32; entries_total];
    for (s, &[x0, x1, y0, y1]) in spans.iter().enumerate() {
        for y in y0 as usize..=y1 as usize {
            for x in x0 as usize..=x1 as usize {
                let c = y * nx + x;
                entries[fill[c] as usize] = s as u32;
                fill[c] += 1;
            }
        }
    }
    let adjacent = |s: &Seg, t: &Seg| {
        if s.ring != t.ring {
            return false;
        }
        let m = rings[s.ring as usize].segments() as u32;
        let (i, j) = (s.index.min(t.index), s.index.max(t.index));
        j == i + 1 || (i == 0 && j == m - 1)
    };
    let mut tests = 0usize;
    for c in 0..cells {
        let group = &entries[start[c] as usize..start[c + 1] as usize];
        if group.len() < 2 {
            continue;
        }
        tests += group.len() * (group.len() - 1) / 2;
        if tests > MAX_TESTS_PER_SEGMENT * n {
            return false;
        }
        for (u, &s) in group.iter().enumerate() {
            let s = &seg[s as usize];
            let (a, b) = (s.a, s.b);
            let (sx0, sx1, sy0, sy1) = (lo(a.x, b.x), hi(a.x, b.x), lo(a.y, b.y), hi(a.y, b.y));
            for &t in &group[u + 1..] {
                let t = &seg[t as usize];
                let (p, q) = (t.a, t.b);
                // The boxes' overlap; test the pair only in the cell of its lower corner.
                let (lx, ly) = (hi(sx0, lo(p.x, q.x)), hi(sy0, lo(p.y, q.y)));
                if lx > lo(sx1, hi(p.x, q.x)) || ly > lo(sy1, hi(p.y, q.y)) {
                    continue;
                }
                if row(ly) * nx + col(lx) != c || adjacent(s, t) {
                    continue;
                }
                if segments_meet(a, b, p, q) {
                    return false;
                }
            }
        }
    }
    true
}

/// One segment of a ring.
struct Seg {
    a: Coord<f64>,
    b: Coord<f64>,
    ring: u32,
    index: u32,
}

/// Whether `p` is strictly inside `ring` (crossing number; `p` is known not to be on it).
fn inside(ring: &Ring, p: Coord<f64>) -> bool {
    let mut odd = false;
    for w in ring.pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) {
            // The edge crosses the horizontal line through p; is the crossing right of p?
            let o = orient(a, b, p);
            if (o > 0) == (b.y > a.y) {
                odd = !odd;
            }
        }
    }
    odd
}

/// Ring nesting, given that no two rings meet: each hole inside its shell and in none of its
/// polygon's other holes; no shell in another polygon's interior.
fn nesting_is_valid(rings: &[Ring]) -> bool {
    let total: usize = rings.iter().map(|r| r.pts.len()).sum();
    let mut budget = 4 * total + 64;
    // The rings' boxes, to find the rings whose box holds a point.
    let boxes = RTree::bulk_load(
        rings
            .iter()
            .enumerate()
            .map(|(r, ring)| {
                GeomWithData::new(
                    Rectangle::from_corners([ring.min.x, ring.min.y], [ring.max.x, ring.max.y]),
                    r as u32,
                )
            })
            .collect(),
    );
    let mut holders: Vec<u32> = Vec::new();
    for (s, ring) in rings.iter().enumerate() {
        let v = ring.pts[0];
        holders.clear();
        for b in boxes.locate_all_at_point(&[v.x, v.y]) {
            let r = b.data;
            if r as usize == s {
                continue;
            }
            let other = &rings[r as usize];
            budget = match budget.checked_sub(other.pts.len()) {
                Some(b) => b,
                None => return false,
            };
            if inside(other, v) {
                holders.push(r);
            }
        }
        let held_by = |polygon: u32, shell: bool| {
            holders.iter().any(|&r| {
                let o = &rings[r as usize];
                o.polygon == polygon && o.shell == shell
            })
        };
        if ring.shell {
            // In another polygon's shell only when also in one of that polygon's holes.
            for &r in &holders {
                let o = &rings[r as usize];
                if o.shell && o.polygon != ring.polygon && !held_by(o.polygon, false) {
                    return false;
                }
            }
        } else if !held_by(ring.polygon, true) || held_by(ring.polygon, false) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synthetic::fixtures::random_polygons;
    use geo::polygon;

    fn mp(polys: Vec<Polygon<f64>>) -> Vec<Polygon<f64>> {
        polys
    }

    fn square(x: f64, y: f64, s: f64) -> Vec<(f64, f64)> {
        vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)]
    }

    fn poly(shell: Vec<(f64, f64)>, holes: Vec<Vec<(f64, f64)>>) -> Polygon<f64> {
        Polygon::new(
            LineString::from(shell),
            holes.into_iter().map(LineString::from).collect(),
        )
    }

    #[test]
    fn simple_shapes_are_proven_valid() {
        assert!(surely_valid(&mp(vec![])));
        assert!(surely_valid(&mp(vec![
            polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 0., y: 3.)]
        ])));
        // A hole, a repeated vertex, collinear vertices, an island in the hole, a second part.
        let mut shell = square(0., 0., 10.);
        shell.insert(1, (0., 0.));
        shell.insert(2, (5., 0.));
        let m = mp(vec![
            poly(shell, vec![square(2., 2., 6.)]),
            poly(square(3., 3., 2.), vec![]),
            poly(square(20., 0., 1.), vec![]),
        ]);
        assert!(surely_valid(&m));
    }

    #[test]
    fn invalid_shapes_are_not_proven() {
        // Bow tie.
        let bow = poly(
            vec![(0., 0.), (2., 2.), (2., 0.), (0., 2.), (0., 0.)],
            vec![],
        );
        assert!(!surely_valid(&mp(vec![bow])));
        // Spike folding back on itself.
        let spike = poly(
            vec![(0., 0.), (4., 0.), (6., 0.), (4., 0.), (4., 4.), (0., 0.)],
            vec![],
        );
        assert!(!surely_valid(&mp(vec![spike])));
        // Hole outside its shell; hole inside another hole; overlapping parts; nested shells.
        let outside = poly(square(0., 0., 4.), vec![square(10., 10., 1.)]);
        assert!(!surely_valid(&mp(vec![outside])));
        let nested = poly(
            square(0., 0., 10.),
            vec![square(1., 1., 8.), square(2., 2., 2.)],
        );
        assert!(!surely_valid(&mp(vec![nested])));
        let overlap = vec![
            poly(square(0., 0., 4.), vec![]),
            poly(square(2., 2., 4.), vec![]),
        ];
        assert!(!surely_valid(&mp(overlap)));
        let inner = vec![
            poly(square(0., 0., 4.), vec![]),
            poly(square(1., 1., 1.), vec![]),
        ];
        assert!(!surely_valid(&mp(inner)));
        // Collinear ring, two-vertex ring.
        let flat = poly(vec![(0., 0.), (1., 0.), (2., 0.), (0., 0.)], vec![]);
        assert!(!surely_valid(&mp(vec![flat])));
        let two = poly(vec![(0., 0.), (1., 0.), (0., 0.)], vec![]);
        assert!(!surely_valid(&mp(vec![two])));
    }

    #[test]
    fn touching_is_left_to_the_full_check() {
        // Valid under OGC (parts touch at one point) but outside the screen's condition.
        let touch = vec![
            poly(square(0., 0., 1.), vec![]),
            poly(square(1., 1., 1.), vec![]),
        ];
        assert!(!surely_valid(&mp(touch)));
    }

    /// The same condition, checked by brute force: every pair of segments, every pair of rings.
    fn brute_force(polygons: &[Polygon<f64>]) -> bool {
        let Some(rings) = rings_of(polygons) else {
            return false;
        };
        let segs: Vec<(usize, usize)> = rings
            .iter()
            .enumerate()
            .flat_map(|(r, ring)| (0..ring.segments()).map(move |i| (r, i)))
            .collect();
        for (u, &(r, i)) in segs.iter().enumerate() {
            let ring = &rings[r];
            let m = ring.segments();
            if !consecutive_ok(ring.pts[i], ring.pts[i + 1], ring.pts[(i + 1) % m + 1]) {
                return false;
            }
            for &(r2, j) in &segs[u + 1..] {
                let adjacent = r == r2 && (j == i + 1 || (i == 0 && j == m - 1));
                let other = &rings[r2];
                if !adjacent
                    && segments_meet(ring.pts[i], ring.pts[i + 1], other.pts[j], other.pts[j + 1])
                {
                    return false;
                }
            }
        }
        for (s, ring) in rings.iter().enumerate() {
            let v = ring.pts[0];
            let holds = |o: &Ring| inside(o, v);
            let others = || {
                rings
                    .iter()
                    .enumerate()
                    .filter(move |&(r, _)| r != s)
                    .map(|(_, o)| o)
            };
            if ring.shell {
                for o in others().filter(|o| o.shell && o.polygon != ring.polygon && holds(o)) {
                    if !others().any(|h| h.polygon == o.polygon && !h.shell && holds(h)) {
                        return false;
                    }
                }
            } else {
                let in_shell = others().any(|o| o.polygon == ring.polygon && o.shell && holds(o));
                let in_hole = others().any(|o| o.polygon == ring.polygon && !o.shell && holds(o));
                if !in_shell || in_hole {
                    return false;
                }
            }
        }
        true
    }

    #[test]
    fn grid_search_matches_brute_force_on_random_polygons() {
        let (mut valid, mut invalid) = (0, 0);
        for seed in 0..3000 {
            let polygons = random_polygons(seed);
            let expected = brute_force(&polygons);
            assert_eq!(surely_valid(&polygons), expected, "seed {seed}");
            if expected {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        // Both outcomes are well represented.
        assert!(
            valid > 500 && invalid > 500,
            "{valid} valid, {invalid} invalid"
        );
    }

    #[test]
    fn segments_meet_cases() {
        let c = |x: f64, y: f64| Coord { x, y };
        assert!(segments_meet(c(0., 0.), c(2., 2.), c(0., 2.), c(2., 0.)));
        assert!(segments_meet(c(0., 0.), c(2., 0.), c(1., 0.), c(1., 5.)));
        assert!(segments_meet(c(0., 0.), c(2., 0.), c(2., 0.), c(3., 0.)));
        assert!(!segments_meet(c(0., 0.), c(2., 0.), c(2.5, 0.), c(3., 0.)));
        assert!(!segments_meet(c(0., 0.), c(2., 0.), c(0., 1.), c(2., 1.)));
        assert!(!segments_meet(c(0., 0.), c(2., 0.), c(3., -1.), c(3., 1.)));
    }
}
