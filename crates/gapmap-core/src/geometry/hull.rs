//! Concave hulls of point clusters: the shape of the gap outlines.
//!
//! The algorithm is the one geo's `ConcaveHull` implements (after Park & Oh, as in concaveman):
//! start from the convex hull and take the hull edges in queue order. An edge longer than the
//! length threshold digs in to the nearest unused point that lies closer to it than to its
//! neighbouring edges and whose two new edges cross no hull edge, provided one of those edges
//! is shorter than the old one divided by the concavity. The neighbour links, the queue and the
//! tests are geo's, so the hull is geo's, vertex for vertex, except where two candidate
//! distances tie to within rounding (a seeded test compares the two).
//!
//! What differs is the cost. geo measures every R-tree node and point against the edge with
//! `hypot` (16 calls for a node) and removes used points from a dynamic R-tree. Here the
//! search orders nodes and points by squared distances, the point tree is static (used points
//! are flagged), replaced hull edges are left in their tree and skipped, and the convex hull is
//! a monotone chain over the presorted points. Only a point that reaches the tests is measured
//! as geo measures it.

use crate::fibre::segment_distance2;
use geo::kernels::{Kernel, RobustKernel};
use geo::{
    Contains, Coord, Distance, Euclidean, Intersects, Line, LineString, Orientation, Point,
    Polygon, Triangle,
};
use rstar::primitives::GeomWithData;
use rstar::{ParentNode, RTree, RTreeNode, AABB};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// An unused hull candidate: its coordinates and its index in the sorted points.
type Candidate = GeomWithData<[f64; 2], u32>;
/// A hull edge in the edge tree: its line, edge id and end point index. The entry is current
/// while the edge with that id still ends there (an edge keeps its id and start when split).
type EdgeEntry = GeomWithData<Line<f64>, (u32, u32)>;

/// One hull edge, as geo keeps it: `prev` is set when the edge is made and not updated when
/// that neighbour is later split (`next` stays right, since a split edge keeps its id for its
/// first half).
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: u32,
    b: u32,
    id: u32,
    prev: u32,
    next: u32,
}

/// The convex hull of sorted, deduplicated points as indices: counter-clockwise, starting at
/// the vertex after the leftmost, not closed, without collinear vertices (geo's order).
pub(crate) fn convex_ring(pts: &[Coord<f64>]) -> Vec<u32> {
    let ccw = |o: Coord<f64>, a: Coord<f64>, b: Coord<f64>| {
        RobustKernel::orient2d(o, a, b) == Orientation::CounterClockwise
    };
    let chain = |order: &mut dyn Iterator<Item = usize>| {
        let mut c: Vec<u32> = Vec::new();
        for i in order {
            while c.len() >= 2
                && !ccw(
                    pts[c[c.len() - 2] as usize],
                    pts[c[c.len() - 1] as usize],
                    pts[i],
                )
            {
                c.pop();
            }
            c.push(i as u32);
        }
        c
    };
    let lower = chain(&mut (0..pts.len()));
    let upper = chain(&mut (0..pts.len()).rev());
    lower[1..].iter().chain(&upper[1..]).copied().collect()
}

/// The distance from `p` to the segment `a`–`b` exactly as geo's concave hull measures it
/// (with `hypot`), for the few points that reach the candidate tests.
fn geo_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    Euclidean.distance(p, &Line::new(a, b))
}

/// Squared distance from the segment `a`–`b` (`a != b`) to a box: zero when they meet, else the
/// least of the ends' distances to the box and the corners' distances to the segment.
fn box_distance2(a: Coord<f64>, b: Coord<f64>, env: &AABB<[f64; 2]>) -> f64 {
    let (lo, hi) = (env.lower(), env.upper());
    let to_box = |p: Coord<f64>| {
        let dx = (lo[0] - p.x).max(p.x - hi[0]).max(0.0);
        let dy = (lo[1] - p.y).max(p.y - hi[1]).max(0.0);
        dx * dx + dy * dy
    };
    let (da, db) = (to_box(a), to_box(b));
    if da == 0.0 || db == 0.0 || clips(a, b, lo, hi) {
        return 0.0;
    }
    let mut d = da.min(db);
    for c in [
        [lo[0], lo[1]],
        [lo[0], hi[1]],
        [hi[0], lo[1]],
        [hi[0], hi[1]],
    ] {
        d = d.min(segment_distance2(Coord { x: c[0], y: c[1] }, a, b));
    }
    d
}

/// True when the segment `a`–`b` passes through the box (Liang–Barsky clipping).
fn clips(a: Coord<f64>, b: Coord<f64>, lo: [f64; 2], hi: [f64; 2]) -> bool {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.x - lo[0]),
        (dx, hi[0] - a.x),
        (-dy, a.y - lo[1]),
        (dy, hi[1] - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return false;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return false;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return false;
                }
                t1 = t1.min(r);
            }
        }
    }
    true
}

/// A node of the candidate search, nearest first.
struct Queued<'t> {
    d2: f64,
    node: Node<'t>,
}

enum Node<'t> {
    Parent(&'t ParentNode<Candidate>),
    Leaf(u32),
}

impl Ord for Queued<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.d2.total_cmp(&self.d2)
    }
}
impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Queued<'_> {}

struct Hull<'p> {
    pts: &'p [Coord<f64>],
    used: Vec<bool>,
    candidates: RTree<Candidate>,
    edges: Vec<Edge>,
    edge_tree: RTree<EdgeEntry>,
}

impl Hull<'_> {
    fn line(&self, a: u32, b: u32) -> Line<f64> {
        Line::new(self.pts[a as usize], self.pts[b as usize])
    }

    /// True when `line` crosses or touches no current hull edge other than those sharing an
    /// end with it.
    fn clear_of_hull(&self, line: Line<f64>) -> bool {
        let (s, e) = (line.start, line.end);
        let env = AABB::from_corners(
            Point::new(s.x.min(e.x), s.y.min(e.y)),
            Point::new(s.x.max(e.x), s.y.max(e.y)),
        );
        for entry in self.edge_tree.locate_in_envelope_intersecting(&env) {
            let (id, end) = entry.data;
            if self.edges[id as usize].b != end {
                continue; // replaced by its two halves
            }
            let h = *entry.geom();
            if h.start == s || h.start == e || h.end == s || h.end == e {
                continue;
            }
            if line.intersects(&h) {
                return false;
            }
        }
        true
    }

    /// The point `edge` digs in to, if any: the nearest unused point within `max_length` that
    /// passes the tests, or a point passed over earlier that the new edges would cut off.
    fn candidate(&self, edge: &Edge, max_length: f64) -> Option<u32> {
        let (a, b) = (self.pts[edge.a as usize], self.pts[edge.b as usize]);
        let len2 = (b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y);
        if len2 == 0.0 {
            return None;
        }
        // Squared bound with slack, so that nothing geo's test keeps is pruned here.
        let bound2 = max_length * max_length * (1.0 + 1e-9);
        let prev = self.edges[edge.prev as usize];
        let next = self.edges[edge.next as usize];
        let mut heap: BinaryHeap<Queued> = BinaryHeap::new();
        heap.push(Queued {
            d2: 0.0,
            node: Node::Parent(self.candidates.root()),
        });
        let mut passed_over: Vec<u32> = Vec::new();
        while let Some(q) = heap.pop() {
            match q.node {
                Node::Parent(parent) => {
                    for child in parent.children() {
                        match child {
                            RTreeNode::Parent(p) => {
                                let d2 = box_distance2(a, b, &p.envelope());
                                if d2 <= bound2 {
                                    heap.push(Queued {
                                        d2,
                                        node: Node::Parent(p),
                                    });
                                }
                            }
                            RTreeNode::Leaf(l) => {
                                if self.used[l.data as usize] {
                                    continue;
                                }
                                let p = Coord {
                                    x: l.geom()[0],
                                    y: l.geom()[1],
                                };
                                let d2 = segment_distance2(p, a, b);
                                if d2 <= bound2 {
                                    heap.push(Queued {
                                        d2,
                                        node: Node::Leaf(l.data),
                                    });
                                }
                            }
                        }
                    }
                }
                Node::Leaf(k) => {
                    let p = self.pts[k as usize];
                    // From here on, geo's distances and tests.
                    let d = geo_distance(p, a, b);
                    if d > max_length {
                        continue;
                    }
                    let (pa, pb) = (self.pts[prev.a as usize], self.pts[prev.b as usize]);
                    let (na, nb) = (self.pts[next.a as usize], self.pts[next.b as usize]);
                    if d >= geo_distance(p, pa, pb) || d >= geo_distance(p, na, nb) {
                        passed_over.push(k);
                        continue;
                    }
                    let (start, end) = (Line::new(a, p), Line::new(p, b));
                    if self.clear_of_hull(start) && self.clear_of_hull(end) {
                        let cut = Triangle::new(a, p, b);
                        return Some(
                            passed_over
                                .iter()
                                .copied()
                                .find(|&j| cut.contains(&self.pts[j as usize]))
                                .unwrap_or(k),
                        );
                    }
                    passed_over.push(k);
                }
            }
        }
        None
    }
}

/// The concave hull of `pts`, which must be sorted (by x, then y) and without duplicates.
///
/// Edges longer than `length_threshold` (metres) dig in; `concavity` (≥ 0, geo's default 2)
/// bounds how far. Fewer than four points give their convex hull. The ring is closed and
/// counter-clockwise where it has area.
pub fn concave_hull_sorted(
    pts: &[Coord<f64>],
    concavity: f64,
    length_threshold: f64,
) -> Polygon<f64> {
    debug_assert!(pts.windows(2).all(|w| (w[0].x, w[0].y) < (w[1].x, w[1].y)));
    let concavity = concavity.max(0.0);
    if pts.len() < 4 {
        return geo::ConvexHull::convex_hull(&geo::MultiPoint::from(pts.to_vec()));
    }
    let ring = convex_ring(pts);
    let h = ring.len();
    let mut used = vec![false; pts.len()];
    for &i in &ring {
        used[i as usize] = true;
    }
    let candidates = RTree::bulk_load(
        (0..pts.len())
            .filter(|&i| !used[i])
            .map(|i| Candidate::new([pts[i].x, pts[i].y], i as u32))
            .collect(),
    );
    let edges: Vec<Edge> = (0..h)
        .map(|i| Edge {
            a: ring[i],
            b: ring[(i + 1) % h],
            id: i as u32,
            prev: ((i + h - 1) % h) as u32,
            next: ((i + 1) % h) as u32,
        })
        .collect();
    let edge_tree = RTree::bulk_load(
        edges
            .iter()
            .map(|e| EdgeEntry::new(Line::new(pts[e.a as usize], pts[e.b as usize]), (e.id, e.b)))
            .collect(),
    );
    let mut queue: VecDeque<Edge> = edges.iter().copied().collect();
    let mut hull = Hull {
        pts,
        used,
        candidates,
        edges,
        edge_tree,
    };
    while let Some(edge) = queue.pop_front() {
        let line = hull.line(edge.a, edge.b);
        let length = line.dx().hypot(line.dy());
        if length <= length_threshold {
            continue;
        }
        let max_length = length / concavity;
        let Some(k) = hull.candidate(&edge, max_length) else {
            continue;
        };
        let p = pts[k as usize];
        let to_p = (p.x - line.start.x).hypot(p.y - line.start.y);
        let from_p = (line.end.x - p.x).hypot(line.end.y - p.y);
        if to_p.min(from_p) >= max_length {
            continue;
        }
        hull.used[k as usize] = true;
        let end_id = hull.edges.len() as u32;
        let first = Edge {
            a: edge.a,
            b: k,
            id: edge.id,
            prev: edge.prev,
            next: end_id,
        };
        let second = Edge {
            a: k,
            b: edge.b,
            id: end_id,
            prev: edge.id,
            next: edge.next,
        };
        hull.edges[edge.id as usize] = first;
        hull.edges.push(second);
        hull.edge_tree
            .remove(&EdgeEntry::new(line, (edge.id, edge.b)));
        for e in [first, second] {
            let l = hull.line(e.a, e.b);
            hull.edge_tree.insert(EdgeEntry::new(l, (e.id, e.b)));
        }
        queue.push_back(first);
        queue.push_back(second);
    }
    // The ring from the first edge's start, following the edges.
    let mut coords = Vec::with_capacity(hull.edges.len() + 1);
    let mut e = hull.edges[0];
    coords.push(pts[e.a as usize]);
    for _ in 0..hull.edges.len() {
        coords.push(pts[e.b as usize]);
        e = hull.edges[e.next as usize];
    }
    Polygon::new(LineString::new(coords), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use geo::algorithm::concave_hull::ConcaveHullOptions;
    use geo::{coord, ConcaveHull, ConvexHull, MultiPoint, Validation};

    fn sorted(mut pts: Vec<Coord<f64>>) -> Vec<Coord<f64>> {
        pts.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
        pts.dedup();
        pts
    }

    fn geo_hull(pts: &[Coord<f64>], concavity: f64, threshold: f64) -> Polygon<f64> {
        MultiPoint::from(pts.to_vec()).concave_hull_with_options(ConcaveHullOptions {
            concavity,
            length_threshold: threshold,
        })
    }

    /// Seeded clusters like gap clusters: villages along roads, blobs, lines, few and many
    /// points, centimetre coordinates in SWEREF 99 TM.
    fn cluster(rng: &mut SplitMix64, case: usize) -> Vec<Coord<f64>> {
        let n = [4, 5, 10, 30, 100, 400][case % 6] + rng.below(20) as usize;
        let (cx, cy) = (rng.range(3e5, 9e5), rng.range(6.1e6, 7.6e6));
        let spread = rng.range(50.0, 3000.0);
        let cm = |v: f64| (v * 100.0).round() / 100.0;
        (0..n)
            .map(|i| match case % 4 {
                // Scattered.
                0 => coord! {x: cm(cx + rng.range(-spread, spread)), y: cm(cy + rng.range(-spread, spread))},
                // Along a bent road.
                1 => {
                    let t = i as f64 / n as f64 * spread;
                    coord! {x: cm(cx + t), y: cm(cy + (t / 300.0).sin() * 200.0 + rng.range(-30.0, 30.0))}
                }
                // Two blobs.
                2 => {
                    let off = if i % 2 == 0 { 0.0 } else { spread };
                    coord! {x: cm(cx + off + rng.range(-150.0, 150.0)), y: cm(cy + rng.range(-150.0, 150.0))}
                }
                // A ring of houses round a lake.
                _ => {
                    let a = rng.range(0.0, std::f64::consts::TAU);
                    let r = spread * rng.range(0.8, 1.0);
                    coord! {x: cm(cx + r * a.cos()), y: cm(cy + r * a.sin())}
                }
            })
            .collect()
    }

    #[test]
    fn matches_geo_on_seeded_clusters() {
        let mut rng = SplitMix64::new(11);
        let (mut differing, mut dug) = (0, 0);
        for case in 0..600 {
            let pts = sorted(cluster(&mut rng, case));
            let (concavity, threshold) = [(2.0, 200.0), (2.0, 0.0), (1.0, 50.0)][case % 3];
            let ours = concave_hull_sorted(&pts, concavity, threshold);
            let geos = geo_hull(&pts, concavity, threshold);
            if ours != geos {
                differing += 1;
            }
            if ours.exterior().0.len()
                > MultiPoint::from(pts.clone())
                    .convex_hull()
                    .exterior()
                    .0
                    .len()
            {
                dug += 1;
            }
            // Closed, simple, and every point on or inside it.
            let ring = &ours.exterior().0;
            assert_eq!(ring.first(), ring.last());
            if ours.is_valid() {
                let area = crate::prepared::PreparedArea::from_polygon(&ours);
                for p in &pts {
                    assert!(area.covers(*p), "case {case}: {p:?} outside");
                }
            } else {
                // Only a hull without area (collinear points) may be invalid.
                use geo::Area;
                assert_eq!(ours.unsigned_area(), 0.0, "case {case}");
            }
        }
        // Distances that tie to within rounding may order candidates differently; on these
        // seeds none does.
        assert_eq!(differing, 0);
        // Most cases dig in, so the comparison covers the whole algorithm.
        assert!(dug > 500, "{dug} of 600 hulls are concave");
    }

    #[test]
    fn small_and_degenerate_inputs() {
        assert!(concave_hull_sorted(&[], 2.0, 0.0).exterior().0.is_empty());
        let one = [coord! {x: 1., y: 2.}];
        assert_eq!(concave_hull_sorted(&one, 2.0, 0.0).exterior().0.len(), 2);
        let tri = sorted(vec![
            coord! {x: 0., y: 0.},
            coord! {x: 4., y: 0.},
            coord! {x: 0., y: 3.},
        ]);
        assert_eq!(
            concave_hull_sorted(&tri, 2.0, 0.0),
            MultiPoint::from(tri.clone()).convex_hull()
        );
        // Collinear points: a hull without area, as geo gives.
        let line: Vec<Coord<f64>> = (0..12)
            .map(|i| coord! {x: i as f64, y: 2.0 * i as f64})
            .collect();
        assert_eq!(
            concave_hull_sorted(&line, 2.0, 0.0),
            geo_hull(&line, 2.0, 0.0)
        );
    }

    #[test]
    fn digs_into_a_notch() {
        // Premises along the sides of a U, 5 m apart and jittered: the hull follows the notch.
        let mut rng = SplitMix64::new(3);
        let mut pts = Vec::new();
        let mut side = |from: Coord<f64>, to: Coord<f64>| {
            let n = ((to.x - from.x).abs() + (to.y - from.y).abs()) / 5.0;
            for i in 0..=n as usize {
                let t = i as f64 / n;
                pts.push(coord! {
                    x: from.x + (to.x - from.x) * t + rng.range(-0.3, 0.3),
                    y: from.y + (to.y - from.y) * t + rng.range(-0.3, 0.3),
                });
            }
        };
        let c = |x: f64, y: f64| coord! {x: x, y: y};
        side(c(0., 0.), c(100., 0.));
        side(c(100., 0.), c(100., 100.));
        side(c(100., 100.), c(70., 100.));
        side(c(70., 100.), c(70., 20.));
        side(c(70., 20.), c(30., 20.));
        side(c(30., 20.), c(30., 100.));
        side(c(30., 100.), c(0., 100.));
        side(c(0., 100.), c(0., 0.));
        let pts = sorted(pts);
        let concave = concave_hull_sorted(&pts, 2.0, 0.0);
        let convex = MultiPoint::from(pts.clone()).convex_hull();
        use geo::Area;
        assert!(concave.unsigned_area() < convex.unsigned_area() * 0.8);
        assert!(!concave.contains(&c(50.0, 60.0)));
        assert!(concave.contains(&c(15.0, 60.0)) && concave.contains(&c(50.0, 10.0)));
        assert_eq!(concave, geo_hull(&pts, 2.0, 0.0));
        // Edges up to the threshold do not dig in: a 200 m threshold keeps the convex hull.
        assert_eq!(
            concave_hull_sorted(&pts, 2.0, 200.0).unsigned_area(),
            convex.unsigned_area()
        );
    }
}
