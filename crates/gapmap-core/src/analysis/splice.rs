//! Noding a fibre network as a real one is spliced, before its graph is built
//! ([`crate::network::FibreGraph`]).
//!
//! - **T-junctions.** A line end within `snap_m` of another line's interior (and of none of
//!   its vertices) is spliced into it: the end's point becomes a vertex of that line, where
//!   the graph then joins them. This is what pgRouting's `pgr_nodeNetwork` and QGIS's network
//!   tools do; a spur that ends on a roadside cable is connected to it.
//! - **Crossings.** Lines that cross with no end at the crossing stay unconnected (two cables
//!   crossing a road at one point need not share a closure). They are counted, so that a
//!   network drawn without nodes at its junctions is noticed.
//!
//! Both are deterministic and do not depend on the thread count: splices are applied in the
//! order of (line, segment, position along it).

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::Coord;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::gaps::dist2;
use crate::network::NetworkLine;

/// What noding did to a fibre network.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Splicing {
    /// Line ends spliced into another line's interior (T-junctions), counted once per line
    /// they were spliced into.
    pub ends_spliced: usize,
    /// Points where two lines cross with no common vertex (within `snap_m`): left
    /// unconnected.
    pub crossings_unconnected: usize,
}

type Segment = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// Every segment of every line, as `(line, first vertex)`, in an R-tree.
fn segment_tree(lines: &[NetworkLine]) -> RTree<Segment> {
    RTree::bulk_load(
        lines
            .iter()
            .enumerate()
            .flat_map(|(li, l)| {
                l.coords.windows(2).enumerate().map(move |(k, w)| {
                    GeomWithData::new(
                        Rectangle::from_corners([w[0].x, w[0].y], [w[1].x, w[1].y]),
                        (li as u32, k as u32),
                    )
                })
            })
            .collect(),
    )
}

/// Splices every line end that lies within `snap_m` of another line's interior into that
/// line (see the module docs), then counts the crossings left without a node. Lines keep
/// their order; a spliced line gains vertices.
pub fn splice(lines: &mut [NetworkLine], snap_m: f64) -> Splicing {
    let ends_spliced = splice_ends(lines, snap_m);
    Splicing {
        ends_spliced,
        crossings_unconnected: crossings_unconnected(lines, snap_m),
    }
}

/// One splice: into line `host`, after vertex `seg`, at parameter `t` along that segment,
/// the point `at` (the end's own point).
#[derive(Debug, Clone, Copy)]
struct Splice {
    host: u32,
    seg: u32,
    t: f64,
    at: Coord<f64>,
}

/// Splices line ends into the interiors they touch (see the module docs); returns how many
/// ends were spliced.
pub fn splice_ends(lines: &mut [NetworkLine], snap_m: f64) -> usize {
    if snap_m.is_nan() || snap_m < 0.0 || lines.is_empty() {
        return 0;
    }
    let tree = segment_tree(lines);
    let r2 = snap_m * snap_m;
    let found: Vec<Splice> = {
        let lines = &*lines;
        let tree = &tree;
        (0..lines.len())
            .into_par_iter()
            .flat_map_iter(|li| {
                let c = &lines[li].coords;
                let n = c.len();
                (n >= 2)
                    .then_some([0, n - 1])
                    .into_iter()
                    .flatten()
                    .flat_map(move |ve| splices_of_end(lines, tree, li, ve, snap_m, r2))
            })
            .collect()
    };
    let mut found = found;
    found.sort_by(|a, b| {
        (a.host, a.seg)
            .cmp(&(b.host, b.seg))
            .then(a.t.total_cmp(&b.t))
            .then(a.at.x.total_cmp(&b.at.x))
            .then(a.at.y.total_cmp(&b.at.y))
    });
    // Two ends at one point make one vertex.
    let spliced = found.len();
    found.dedup_by(|a, b| a.host == b.host && a.seg == b.seg && a.at == b.at);
    let mut k = 0;
    while k < found.len() {
        let host = found[k].host as usize;
        let mut end = k;
        while end < found.len() && found[end].host as usize == host {
            end += 1;
        }
        let old = std::mem::take(&mut lines[host].coords);
        let mut coords = Vec::with_capacity(old.len() + end - k);
        let mut next = k;
        for (v, p) in old.iter().enumerate() {
            coords.push(*p);
            while next < end && found[next].seg as usize == v {
                coords.push(found[next].at);
                next += 1;
            }
        }
        lines[host].coords = coords;
        k = end;
    }
    spliced
}

/// The splices of the end at vertex `ve` of line `li`: at most one per other line, onto the
/// nearest point of its interior within `snap_m`, and none into a line that already has a
/// vertex within `snap_m` (snapping joins those).
fn splices_of_end(
    lines: &[NetworkLine],
    tree: &RTree<Segment>,
    li: usize,
    ve: usize,
    snap_m: f64,
    r2: f64,
) -> Vec<Splice> {
    let e = lines[li].coords[ve];
    let env = AABB::from_corners([e.x - snap_m, e.y - snap_m], [e.x + snap_m, e.y + snap_m]);
    // (host, d2, seg, t), and hosts already joined at a vertex.
    let mut best: Vec<(u32, f64, u32, f64)> = Vec::new();
    let mut joined: Vec<u32> = Vec::new();
    for s in tree.locate_in_envelope_intersecting(&env) {
        let (host, seg) = s.data;
        // The end's own segments.
        if host as usize == li && (seg as usize == ve || seg as usize + 1 == ve) {
            continue;
        }
        let hc = &lines[host as usize].coords;
        let (p, q) = (hc[seg as usize], hc[seg as usize + 1]);
        if dist2(e, p) <= r2 || dist2(e, q) <= r2 {
            joined.push(host);
            continue;
        }
        let (dx, dy) = (q.x - p.x, q.y - p.y);
        let len2 = dx * dx + dy * dy;
        if len2 <= 0.0 {
            continue;
        }
        let t = ((e.x - p.x) * dx + (e.y - p.y) * dy) / len2;
        if !(t > 0.0 && t < 1.0) {
            continue;
        }
        let d2 = dist2(
            e,
            Coord {
                x: p.x + t * dx,
                y: p.y + t * dy,
            },
        );
        if d2 > r2 {
            continue;
        }
        match best.iter_mut().find(|b| b.0 == host) {
            Some(b) if (d2, seg) < (b.1, b.2) => *b = (host, d2, seg, t),
            Some(_) => {}
            None => best.push((host, d2, seg, t)),
        }
    }
    best.into_iter()
        .filter(|b| !joined.contains(&b.0))
        .map(|(host, _, seg, t)| Splice {
            host,
            seg,
            t,
            at: e,
        })
        .collect()
}

/// Points where two segments of different lines (or non-adjacent segments of one line)
/// cross properly, with no vertex of one within `snap_m` of a vertex of the other there.
pub fn crossings_unconnected(lines: &[NetworkLine], snap_m: f64) -> usize {
    let tree = segment_tree(lines);
    let r2 = snap_m * snap_m;
    (0..lines.len())
        .into_par_iter()
        .map(|li| {
            let c = &lines[li].coords;
            let mut n = 0;
            for k in 0..c.len().saturating_sub(1) {
                let (p, q) = (c[k], c[k + 1]);
                let env = AABB::from_corners([p.x, p.y], [q.x, q.y]);
                for s in tree.locate_in_envelope_intersecting(&env) {
                    let (lj, m) = s.data;
                    // Each pair once; a segment and its neighbours on one line meet at a vertex.
                    if (lj as usize, m as usize) <= (li, k)
                        || (lj as usize == li && m as usize <= k + 1)
                    {
                        continue;
                    }
                    let oc = &lines[lj as usize].coords;
                    let (a, b) = (oc[m as usize], oc[m as usize + 1]);
                    if crosses(p, q, a, b)
                        && ![p, q]
                            .iter()
                            .any(|&u| [a, b].iter().any(|&w| dist2(u, w) <= r2))
                    {
                        n += 1;
                    }
                }
            }
            n
        })
        .sum()
}

/// True when segments `pq` and `ab` cross at a single point inside both.
fn crosses(p: Coord<f64>, q: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    let opposite = |x: Orientation, y: Orientation| {
        matches!(
            (x, y),
            (Orientation::Clockwise, Orientation::CounterClockwise)
                | (Orientation::CounterClockwise, Orientation::Clockwise)
        )
    };
    opposite(
        RobustKernel::orient2d(p, q, a),
        RobustKernel::orient2d(p, q, b),
    ) && opposite(
        RobustKernel::orient2d(a, b, p),
        RobustKernel::orient2d(a, b, q),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{FibreGraph, GraphOptions};
    use crate::synthetic::rng::SplitMix64 as Rng;

    fn line(pts: &[(f64, f64)]) -> NetworkLine {
        NetworkLine {
            coords: pts.iter().map(|&(x, y)| Coord { x, y }).collect(),
            feature: 0,
            network: 0,
            srlg: None,
        }
    }

    /// The number of connected pieces of the graph of `lines`.
    fn components(lines: &[NetworkLine]) -> usize {
        let g = FibreGraph::build(lines, &[], GraphOptions::default());
        let mut uf = crate::gaps::UnionFind::new(g.num_junctions());
        for l in &g.links {
            uf.union(l.a, l.b);
        }
        (0..g.num_junctions() as u32)
            .filter(|&v| uf.find(v) == v)
            .count()
    }

    #[test]
    fn a_spur_ending_on_a_cable_between_its_vertices_is_joined_to_it() {
        // A roadside cable with vertices only at its ends, and a spur ending on it (exactly,
        // and 0.4 m short), and one ending 3 m away (beyond the 1 m snap).
        let mut lines = vec![
            line(&[(0.0, 0.0), (1000.0, 0.0)]),
            line(&[(300.0, 200.0), (300.0, 0.0)]),
            line(&[(600.0, 200.0), (600.0, 0.4)]),
            line(&[(800.0, 200.0), (800.0, 3.0)]),
        ];
        assert_eq!(components(&lines), 4, "before: nothing touches at a vertex");
        let s = splice(&mut lines, 1.0);
        assert_eq!(s.ends_spliced, 2);
        assert_eq!(s.crossings_unconnected, 0);
        assert_eq!(
            lines[0].coords,
            vec![
                Coord { x: 0.0, y: 0.0 },
                Coord { x: 300.0, y: 0.0 },
                Coord { x: 600.0, y: 0.4 },
                Coord { x: 1000.0, y: 0.0 },
            ]
        );
        assert_eq!(components(&lines), 2, "the far spur stays apart");
        let g = FibreGraph::build(&lines, &[], GraphOptions::default());
        assert_eq!(
            g.links.len(),
            6,
            "the cable in three links, and three spurs"
        );
    }

    #[test]
    fn lines_that_cross_with_no_end_there_stay_apart_and_are_counted() {
        let mut lines = vec![
            line(&[(0.0, 5.0), (10.0, 5.0)]),
            line(&[(5.0, 0.0), (5.0, 10.0)]),
            // A third crossing both, and a fourth crossing at a shared vertex.
            line(&[(0.0, 0.0), (10.0, 10.0)]),
            line(&[(20.0, 0.0), (25.0, 5.0), (30.0, 0.0)]),
            line(&[(20.0, 5.0), (25.0, 5.0), (30.0, 5.0)]),
        ];
        let before = lines.clone();
        let s = splice(&mut lines, 1.0);
        assert_eq!(s.ends_spliced, 0);
        // The first three cross pairwise at one point (5, 5): three crossings.
        assert_eq!(s.crossings_unconnected, 3);
        assert_eq!(
            lines.iter().map(|l| &l.coords).collect::<Vec<_>>(),
            before.iter().map(|l| &l.coords).collect::<Vec<_>>()
        );
        assert_eq!(components(&lines), 4);
    }

    #[test]
    fn a_line_already_joined_at_a_vertex_is_not_spliced_again() {
        let mut lines = vec![
            line(&[(0.0, 0.0), (50.0, 0.0), (100.0, 0.0)]),
            line(&[(50.5, 30.0), (50.5, 0.2)]),
        ];
        let s = splice(&mut lines, 1.0);
        assert_eq!(s.ends_spliced, 0);
        assert_eq!(lines[0].coords.len(), 3);
        assert_eq!(components(&lines), 1);
    }

    #[test]
    fn a_loop_ending_on_itself_is_spliced_into_itself() {
        // A "6": the line ends on its own first segment.
        let mut lines = vec![line(&[
            (0.0, 0.0),
            (100.0, 0.0),
            (100.0, 50.0),
            (50.0, 50.0),
            (50.0, 0.0),
        ])];
        assert_eq!(splice(&mut lines, 1.0).ends_spliced, 1);
        assert_eq!(lines[0].coords[1], Coord { x: 50.0, y: 0.0 });
        let g = FibreGraph::build(&lines, &[], GraphOptions::default());
        assert_eq!(g.num_junctions(), 2, "the start and the splice");
    }

    /// Brute force: for every end and every other line, the nearest interior point within
    /// snap, unless a vertex of that line is within snap.
    fn brute_ends(lines: &[NetworkLine], snap: f64) -> usize {
        let r2 = snap * snap;
        let mut n = 0;
        for (li, l) in lines.iter().enumerate() {
            for ve in [0, l.coords.len() - 1] {
                let e = l.coords[ve];
                for (hj, h) in lines.iter().enumerate() {
                    let own = |k: usize| hj == li && (k == ve || k + 1 == ve);
                    let near_vertex =
                        h.coords.windows(2).enumerate().any(|(k, w)| {
                            !own(k) && (dist2(e, w[0]) <= r2 || dist2(e, w[1]) <= r2)
                        });
                    let near_interior = h.coords.windows(2).enumerate().any(|(k, w)| {
                        let (p, q) = (w[0], w[1]);
                        let (dx, dy) = (q.x - p.x, q.y - p.y);
                        let t = ((e.x - p.x) * dx + (e.y - p.y) * dy) / (dx * dx + dy * dy);
                        !own(k)
                            && t > 0.0
                            && t < 1.0
                            && dist2(
                                e,
                                Coord {
                                    x: p.x + t * dx,
                                    y: p.y + t * dy,
                                },
                            ) <= r2
                    });
                    if near_interior && !near_vertex {
                        n += 1;
                    }
                }
            }
        }
        n
    }

    #[test]
    fn splices_match_a_brute_force_count_and_do_not_depend_on_threads() {
        for seed in 0..20u64 {
            let mut rng = Rng::new(seed);
            // Axis-parallel streets on a 10 m lattice, ends often on others' interiors.
            let lines: Vec<NetworkLine> = (0..40)
                .map(|_| {
                    let x = (rng.below(20) * 10) as f64;
                    let y = (rng.below(20) * 10) as f64;
                    let len = (1 + rng.below(8)) as f64 * 10.0;
                    let jitter = rng.f64() * 0.8 - 0.4;
                    if rng.below(2) == 0 {
                        line(&[(x, y + jitter), (x + len, y)])
                    } else {
                        line(&[(x + jitter, y), (x, y + len)])
                    }
                })
                .collect();
            let expected = brute_ends(&lines, 1.0);
            let mut one = lines.clone();
            let s1 = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap()
                .install(|| splice(&mut one, 1.0));
            let mut many = lines.clone();
            let s4 = rayon::ThreadPoolBuilder::new()
                .num_threads(4)
                .build()
                .unwrap()
                .install(|| splice(&mut many, 1.0));
            assert_eq!(s1.ends_spliced, expected, "seed {seed}");
            assert_eq!(s1, s4, "seed {seed}");
            assert_eq!(
                one.iter().map(|l| &l.coords).collect::<Vec<_>>(),
                many.iter().map(|l| &l.coords).collect::<Vec<_>>()
            );
            // Splicing never disconnects, and every spliced end now shares a vertex.
            assert!(components(&one) <= components(&lines), "seed {seed}");
            assert_eq!(
                brute_ends(&one, 1.0),
                0,
                "seed {seed}: an end still hangs on an interior"
            );
        }
    }
}
