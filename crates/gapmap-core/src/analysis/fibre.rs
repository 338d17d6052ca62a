//! Fibre reach: distance from a premise to the nearest fibre feature (line or point), and the
//! number of distinct networks (owners) with a feature within the drop distance.
//!
//! Distances are planar, in metres of the working CRS. A premise is *fibre passed* when
//! `fibre_distance_m <= drop_distance_m`, compared exactly as reported.

use geo::{Coord, MultiLineString, MultiPoint};
use rstar::{Envelope, PointDistance, RTree, RTreeObject, AABB};

use crate::par::{finite_bounds, map_point_runs, Progress, SpatialOrder};

/// One fibre feature: any mix of lines and points, owned by one network.
#[derive(Debug, Clone)]
pub struct FibreFeature {
    /// Routes (cables), in the working CRS.
    pub lines: MultiLineString<f64>,
    /// Nodes (cabinets, manholes), in the working CRS.
    pub points: MultiPoint<f64>,
    /// Interned network (owner) id.
    pub network: u32,
    /// Interned shared-risk value (a trench or duct id), if the input gives one.
    pub srlg: Option<u32>,
}

impl Default for FibreFeature {
    fn default() -> Self {
        FibreFeature {
            lines: MultiLineString::new(vec![]),
            points: MultiPoint::new(vec![]),
            network: 0,
            srlg: None,
        }
    }
}

/// Segments per indexed piece of a line: fewer, larger R-tree items build faster, and a
/// piece's distance is still exact (the least over its segments).
const PIECE_SEGMENTS: usize = 8;

/// Up to [`PIECE_SEGMENTS`] consecutive segments of a fibre line (or one point, as a single
/// vertex), with its feature id and bounding box. The vertices live on the heap, so that the
/// R-tree's bulk loading, which moves every piece several times, moves 56 bytes, not 184.
#[derive(Debug, Clone)]
struct Piece {
    env: AABB<[f64; 2]>,
    pts: Box<[[f64; 2]]>,
    feature: u32,
}

impl Piece {
    fn new(coords: &[Coord<f64>], feature: u32) -> Piece {
        let pts: Box<[[f64; 2]]> = coords.iter().map(|c| [c.x, c.y]).collect();
        let env = AABB::from_points(pts.iter());
        Piece { env, pts, feature }
    }
}

impl RTreeObject for Piece {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

impl PointDistance for Piece {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        polyline_distance2(&self.pts, p)
    }
}

/// Squared planar distance from `p` to the polyline through `pts` (a point when it has one).
#[inline]
pub(crate) fn polyline_distance2(pts: &[[f64; 2]], p: &[f64; 2]) -> f64 {
    let q = Coord { x: p[0], y: p[1] };
    let c = |k: usize| Coord {
        x: pts[k][0],
        y: pts[k][1],
    };
    if pts.len() == 1 {
        return segment_distance2(q, c(0), c(0));
    }
    // The least distance; a NaN one (from a non-finite `p`) is passed over, as `f64::min`
    // would (`lo` returns its second operand then), with one comparison.
    (1..pts.len())
        .map(|k| segment_distance2(q, c(k - 1), c(k)))
        .fold(f64::INFINITY, |best, d| crate::num::lo(d, best))
}

/// Squared planar distance from `p` to the closed segment `a`–`b` (a point when `a == b`).
///
/// Endpoint cases subtract the endpoint directly, so the value is never below the distance to
/// the segment's bounding box, which keeps R-tree pruning exact.
#[inline]
pub fn segment_distance2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (wx, wy) = (p.x - a.x, p.y - a.y);
    let dot = wx * dx + wy * dy;
    if dot <= 0.0 {
        return wx * wx + wy * wy;
    }
    let len2 = dx * dx + dy * dy;
    if dot >= len2 {
        let (ux, uy) = (p.x - b.x, p.y - b.y);
        return ux * ux + uy * uy;
    }
    let t = dot / len2;
    let (ex, ey) = (wx - t * dx, wy - t * dy);
    ex * ex + ey * ey
}

/// Fibre reach of one premise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FibreReach {
    /// Distance to the nearest fibre feature in metres; infinite when there is no fibre.
    pub distance_m: f64,
    /// Distinct networks with a feature within the drop distance.
    pub networks: u32,
}

impl FibreReach {
    /// No fibre at all.
    pub const NONE: FibreReach = FibreReach {
        distance_m: f64::INFINITY,
        networks: 0,
    };

    /// Fibre passed at this drop distance.
    #[inline]
    pub fn passed(&self, drop_distance_m: f64) -> bool {
        self.distance_m <= drop_distance_m
    }
}

/// All fibre lines (in pieces) and points, bulk-loaded into an R-tree with their feature ids.
#[derive(Debug)]
pub struct FibreIndex {
    tree: RTree<Piece>,
    feature_network: Vec<u32>,
}

impl FibreIndex {
    /// Indexes `features`; feature ids are their positions in the slice.
    pub fn new(features: &[FibreFeature]) -> Self {
        Self::with_networks(features.iter().map(|f| (f, f.network)))
    }

    /// Indexes features with the network each counts as (e.g. one network numbering shared by
    /// built, other fixed and planned networks); feature ids are their positions in the
    /// iteration.
    pub fn with_networks<'a>(features: impl IntoIterator<Item = (&'a FibreFeature, u32)>) -> Self {
        let mut pieces = Vec::new();
        let mut feature_network = Vec::new();
        for (fid, (f, network)) in features.into_iter().enumerate() {
            let feature = fid as u32;
            feature_network.push(network);
            for ls in &f.lines.0 {
                let coords = ls.0.as_slice();
                if coords.len() == 1 {
                    pieces.push(Piece::new(coords, feature));
                }
                // Consecutive pieces share their end vertex, so every segment is in one piece.
                let mut start = 0;
                while start + 1 < coords.len() {
                    let end = (start + PIECE_SEGMENTS).min(coords.len() - 1);
                    pieces.push(Piece::new(&coords[start..=end], feature));
                    start = end;
                }
            }
            pieces.extend(f.points.0.iter().map(|p| Piece::new(&[p.0], feature)));
        }
        FibreIndex {
            tree: RTree::bulk_load(pieces),
            feature_network,
        }
    }

    /// Number of indexed pieces (up to eight segments of a line each) and points.
    pub fn num_pieces(&self) -> usize {
        self.tree.size()
    }

    /// Fibre reach of the premise at `p`. `scratch` is reused between calls.
    ///
    /// Two phases: the pieces whose boxes meet the drop-distance box around `p`, each decided
    /// by its exact distance (which also gives the nearest distance when any is in reach);
    /// only when none is in reach, a nearest-neighbour search for the distance.
    pub fn reach(&self, p: Coord<f64>, drop_distance_m: f64, scratch: &mut Vec<u32>) -> FibreReach {
        let window = reach_window(p, drop_distance_m);
        self.reach_among(
            p,
            drop_distance_m,
            self.tree.locate_in_envelope_intersecting(&window),
            scratch,
            || self.nearest2(p),
        )
    }

    /// Squared distance from `p` to the nearest piece (infinite without fibre, or for a
    /// non-finite `p`, where rstar's search would fail to order the distances).
    fn nearest2(&self, p: Coord<f64>) -> f64 {
        if !(p.x.is_finite() && p.y.is_finite()) {
            return f64::INFINITY;
        }
        let pt = [p.x, p.y];
        self.tree
            .nearest_neighbor(&pt)
            .map_or(f64::INFINITY, |n| n.distance_2(&pt))
    }

    /// [`FibreIndex::reach`] with phase one given: `candidates` are exactly the pieces whose
    /// boxes meet [`reach_window`] (in any order), and `nearest2` gives the squared distance to
    /// the nearest piece of all, when none is in reach.
    fn reach_among<'a>(
        &self,
        p: Coord<f64>,
        drop_distance_m: f64,
        candidates: impl Iterator<Item = &'a Piece>,
        scratch: &mut Vec<u32>,
        nearest2_all: impl FnOnce() -> f64,
    ) -> FibreReach {
        let pt = [p.x, p.y];
        let mut nearest2 = f64::INFINITY;
        scratch.clear();
        for s in candidates {
            let d2 = s.distance_2(&pt);
            nearest2 = nearest2.min(d2);
            if d2.sqrt() <= drop_distance_m {
                scratch.push(self.feature_network[s.feature as usize]);
            }
        }
        if scratch.is_empty() {
            // Nothing in reach: the distance is still reported.
            if nearest2.sqrt() > window_radius(drop_distance_m) {
                nearest2 = nearest2.min(nearest2_all());
            }
            return FibreReach {
                distance_m: nearest2.sqrt(),
                networks: 0,
            };
        }
        scratch.sort_unstable();
        scratch.dedup();
        FibreReach {
            distance_m: nearest2.sqrt(),
            networks: scratch.len() as u32,
        }
    }

    /// Fibre reach of a run of nearby premises, pushed to `out` in order. When the run's
    /// search boxes fit in a square of `max_span_m`, one R-tree query for their union gives
    /// the candidates, and each premise takes those that meet its own box (the same pieces
    /// its own query would give); otherwise the run is halved, down to single premises.
    fn reach_run<'a>(
        &'a self,
        pts: &[Coord<f64>],
        drop_distance_m: f64,
        max_span_m: f64,
        scratch: &mut RunScratch<'a>,
        out: &mut Vec<FibreReach>,
    ) {
        if pts.len() == 1 {
            out.push(self.reach(pts[0], drop_distance_m, &mut scratch.networks));
            return;
        }
        let r = window_radius(drop_distance_m);
        // A non-finite premise finds nothing in its own box and falls back to the nearest
        // neighbour search, as its single query would; the run's box is that of the others.
        let (lo, hi) = finite_bounds(pts.iter().copied());
        let compact = lo.x <= hi.x && (hi.x - lo.x).max(hi.y - lo.y) <= max_span_m;
        let union = AABB::from_corners([lo.x - r, lo.y - r], [hi.x + r, hi.y + r]);
        scratch.pieces.clear();
        if compact {
            scratch
                .pieces
                .extend(self.tree.locate_in_envelope_intersecting(&union));
        }
        // Spread out, or crowded (each premise would scan too many candidates): halve.
        if !compact || scratch.pieces.len() > RUN_CANDIDATES_PER_PREMISE * pts.len() {
            let (a, b) = pts.split_at(pts.len() / 2);
            self.reach_run(a, drop_distance_m, max_span_m, scratch, out);
            self.reach_run(b, drop_distance_m, max_span_m, scratch, out);
            return;
        }
        // Sorted by their boxes' left edges, so that each premise scans only the pieces whose
        // left edge is within its window widened by the widest piece: those are all the
        // pieces whose boxes can meet the window (the margin covers rounding in the widths).
        scratch
            .pieces
            .sort_unstable_by(|a, b| a.env.lower()[0].total_cmp(&b.env.lower()[0]));
        let widest = scratch
            .pieces
            .iter()
            .map(|s| s.env.upper()[0] - s.env.lower()[0])
            .fold(0.0, f64::max);
        let widest = widest * (1.0 + 1e-9) + 1e-9;
        let pieces = &scratch.pieces;
        let (ulo, uhi) = (union.lower(), union.upper());
        let first = out.len();
        scratch.deferred.clear();
        for (k, &p) in pts.iter().enumerate() {
            let window = reach_window(p, drop_distance_m);
            let (from_x, to_x) = (window.lower()[0] - widest, window.upper()[0]);
            let from = pieces.partition_point(|s| s.env.lower()[0] < from_x);
            let to = pieces.partition_point(|s| s.env.lower()[0] <= to_x);
            let candidates = pieces[from..to.max(from)]
                .iter()
                .copied()
                .filter(|s| s.env.intersects(&window));
            // Nothing in reach: the nearest of the run's pieces is the nearest of all when it
            // is nearer than the edge of the run's box (every other piece's box lies beyond
            // it); the margin covers rounding in the distances. Otherwise the premise waits
            // for the run's far search below.
            let deferred = &mut scratch.deferred;
            let nearest2_all = || {
                let best = nearest2_among(pieces, p);
                let edge = (p.x - ulo[0])
                    .min(uhi[0] - p.x)
                    .min(p.y - ulo[1])
                    .min(uhi[1] - p.y)
                    * (1.0 - 1e-9);
                if best <= edge * edge {
                    best
                } else {
                    deferred.push(k as u32);
                    f64::INFINITY
                }
            };
            out.push(self.reach_among(
                p,
                drop_distance_m,
                candidates,
                &mut scratch.networks,
                nearest2_all,
            ));
        }
        if !scratch.deferred.is_empty() {
            self.nearest_far(pts, scratch, &mut out[first..]);
        }
    }

    /// The distance to the nearest piece for the run's premises in `scratch.deferred` (their
    /// positions in `pts` and `out`), which have nothing in reach and no certified nearest
    /// piece among the run's candidates.
    ///
    /// One nearest-neighbour search for the first of them gives d₀; every other one, p, then
    /// has a piece within d₀ + |p − p₀|, so one box query around all of them, widened by d₀
    /// plus the diagonal of their box, holds the nearest piece of each. When that box holds
    /// too many pieces, each premise searches on its own. Either way the distance is the
    /// minimum over a set that holds the nearest piece: exactly the single search's.
    fn nearest_far<'a>(
        &'a self,
        pts: &[Coord<f64>],
        scratch: &mut RunScratch<'a>,
        out: &mut [FibreReach],
    ) {
        let deferred = &scratch.deferred;
        let at = |k: u32| pts[k as usize];
        let single = |out: &mut [FibreReach]| {
            for &k in deferred {
                out[k as usize].distance_m = self.nearest2(at(k)).sqrt();
            }
        };
        if deferred.len() == 1 {
            return single(out);
        }
        let (lo, hi) = finite_bounds(deferred.iter().map(|&k| at(k)));
        let p0 = deferred
            .iter()
            .map(|&k| at(k))
            .find(|p| p.x.is_finite() && p.y.is_finite());
        let d0 = p0.map_or(f64::INFINITY, |p| self.nearest2(p).sqrt());
        if !d0.is_finite() {
            return single(out);
        }
        let diag = (hi.x - lo.x).hypot(hi.y - lo.y);
        let r = (d0 + diag) * (1.0 + 1e-9) + 1e-9;
        let far = AABB::from_corners([lo.x - r, lo.y - r], [hi.x + r, hi.y + r]);
        scratch.far.clear();
        for piece in self.tree.locate_in_envelope_intersecting(&far) {
            if scratch.far.len() >= FAR_CANDIDATES_PER_PREMISE * deferred.len() {
                return single(out);
            }
            scratch.far.push(piece);
        }
        for &k in deferred {
            let p = at(k);
            let d2 = if p.x.is_finite() && p.y.is_finite() {
                nearest2_among(&scratch.far, p)
            } else {
                f64::INFINITY
            };
            out[k as usize].distance_m = d2.sqrt();
        }
    }
}

/// The smallest squared distance from `p` to `pieces`. A piece whose box is no nearer than
/// the best so far is skipped: its own distance is at least its box's, so the minimum is
/// exactly that of all the pieces.
#[inline]
fn nearest2_among(pieces: &[&Piece], p: Coord<f64>) -> f64 {
    let pt = [p.x, p.y];
    let mut best = f64::INFINITY;
    for s in pieces {
        if s.env.distance_2(&pt) < best {
            best = best.min(s.distance_2(&pt));
        }
    }
    best
}

/// Per-task scratch of [`reach_all`].
#[derive(Default)]
struct RunScratch<'a> {
    pieces: Vec<&'a Piece>,
    networks: Vec<u32>,
    /// Premises of the run (positions in it) waiting for [`FibreIndex::nearest_far`].
    deferred: Vec<u32>,
    far: Vec<&'a Piece>,
}

/// Half the side of the box searched around a premise: a hair wider than the drop distance, so
/// that rounding in box tests cannot drop a segment that is exactly in reach.
#[inline]
fn window_radius(drop_distance_m: f64) -> f64 {
    drop_distance_m * (1.0 + 1e-9) + 1e-9
}

/// The box searched around `p` in phase one.
#[inline]
fn reach_window(p: Coord<f64>, drop_distance_m: f64) -> AABB<[f64; 2]> {
    let r = window_radius(drop_distance_m);
    AABB::from_corners([p.x - r, p.y - r], [p.x + r, p.y + r])
}

/// Premises per run of [`reach_all`].
const RUN: usize = 64;
/// The largest run (the side of the square holding its premises, in metres, beyond the search
/// radius) that shares one R-tree query. Runs and spans were tuned on the national workload
/// (BENCHMARKS.md): 64 premises and 2 km took 0.47 CPU-s where one query per premise took 0.75.
const RUN_SPAN_M: f64 = 2_000.0;
/// A shared query that finds more pieces than this per premise of the run is redone in halves:
/// each premise scans all of the run's candidates.
const RUN_CANDIDATES_PER_PREMISE: usize = 64;
/// The far search of a run ([`FibreIndex::nearest_far`]) gives up, for one search per
/// premise, when its box holds more than this many pieces per premise.
const FAR_CANDIDATES_PER_PREMISE: usize = 32;

/// Fibre reach of every premise, in premise order.
/// `order` is the order to visit premises in ([`SpatialOrder::new`] for speed); results are in
/// premise order either way.
///
/// Premises go in runs of up to [`RUN`] neighbours along `order`; a run whose premises lie
/// close together shares one R-tree query (see [`FibreIndex::reach_run`]). The results are
/// those of [`FibreIndex::reach`] per premise (the brute-force oracle in `tests/oracle.rs`
/// checks).
pub fn reach_all(
    fibre: &FibreIndex,
    premises: &[Coord<f64>],
    drop_distance_m: f64,
    order: &SpatialOrder,
    progress: &dyn Progress,
) -> Vec<FibreReach> {
    map_point_runs(
        premises,
        order,
        progress,
        RUN,
        RunScratch::default,
        |scratch, pts, out| {
            fibre.reach_run(pts, drop_distance_m, RUN_SPAN_M, scratch, out);
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, line_string, point};

    #[test]
    fn segment_distance_cases() {
        let a = coord! {x: 0., y: 0.};
        let b = coord! {x: 100., y: 0.};
        assert_eq!(segment_distance2(coord! {x: 30., y: 50.}, a, b), 2500.0);
        assert_eq!(segment_distance2(coord! {x: -30., y: 40.}, a, b), 2500.0);
        assert_eq!(segment_distance2(coord! {x: 130., y: -40.}, a, b), 2500.0);
        assert_eq!(segment_distance2(coord! {x: 3., y: 4.}, a, a), 25.0);
    }

    /// Runs (one shared query, the nearest piece taken from the run when it is provably the
    /// nearest, halving of spread-out or crowded runs) give what one query per premise gives:
    /// seeded clusters of premises among random streets, some in reach and some hundreds of
    /// metres out, at several drop distances.
    #[test]
    fn runs_match_single_queries() {
        use crate::rng::SplitMix64;
        let mut rng = SplitMix64::new(11);
        let mut features = Vec::new();
        for i in 0..80 {
            let (mut x, mut y) = (rng.range(0.0, 8_000.0), rng.range(0.0, 8_000.0));
            let mut pts = vec![Coord { x, y }];
            for _ in 0..1 + rng.below(12) {
                x += rng.range(-150.0, 150.0);
                y += rng.range(-150.0, 150.0);
                pts.push(Coord { x, y });
            }
            features.push(FibreFeature {
                lines: MultiLineString::new(vec![geo::LineString::new(pts)]),
                points: MultiPoint::new(if i % 5 == 0 {
                    vec![point!(x: rng.range(0.0, 8_000.0), y: rng.range(0.0, 8_000.0))]
                } else {
                    vec![]
                }),
                network: rng.below(4) as u32,
                srlg: None,
            });
        }
        let idx = FibreIndex::new(&features);
        let mut premises = Vec::new();
        for _ in 0..60 {
            let (cx, cy) = (rng.range(-500.0, 8_500.0), rng.range(-500.0, 8_500.0));
            let spread = [20.0, 200.0, 1_500.0][rng.below(3) as usize];
            for _ in 0..rng.below(150) {
                premises.push(Coord {
                    x: cx + rng.range(-spread, spread),
                    y: cy + rng.range(-spread, spread),
                });
            }
        }
        // Non-finite premises among them (io rejects these; the kernel still must not differ).
        premises.extend([
            coord! {x: f64::NAN, y: 4_000.},
            coord! {x: f64::INFINITY, y: 4_000.},
            coord! {x: 4_000., y: f64::NEG_INFINITY},
        ]);
        let order = SpatialOrder::new(&premises);
        let mut scratch = Vec::new();
        let mut far = 0;
        for drop_m in [0.0, 25.0, 50.0, 400.0] {
            let runs = reach_all(&idx, &premises, drop_m, &order, &());
            for (p, got) in premises.iter().zip(&runs) {
                let want = idx.reach(*p, drop_m, &mut scratch);
                assert_eq!(*got, want, "drop {drop_m} m at {p:?}");
                far += usize::from(got.networks == 0 && got.distance_m > 2.0 * drop_m + 50.0);
            }
        }
        assert!(far > 1_000, "premises out of reach: {far}");
        // A crowded run: 400 short drops in a 100 m square around three premises, more
        // candidates than a run shares (it is halved down to single queries).
        let crowded: Vec<FibreFeature> = (0..400)
            .map(|i| {
                let (x, y) = (rng.range(0.0, 100.0), rng.range(0.0, 100.0));
                FibreFeature {
                    lines: MultiLineString::new(vec![
                        line_string![(x: x, y: y), (x: x + 3., y: y)],
                    ]),
                    network: i % 7,
                    ..Default::default()
                }
            })
            .collect();
        let idx = FibreIndex::new(&crowded);
        let pts = [
            coord! {x: 10., y: 10.},
            coord! {x: 50., y: 60.},
            coord! {x: 99., y: 1.},
        ];
        let runs = reach_all(&idx, &pts, 5.0, &SpatialOrder::new(&pts), &());
        for (p, got) in pts.iter().zip(&runs) {
            assert_eq!(*got, idx.reach(*p, 5.0, &mut scratch), "{p:?}");
        }
        // Far searches: runs of premises 1–3 km from the dense square (their shared far box
        // holds too many pieces, so each searches alone) and from a lone street beyond it
        // (one shared box holds its nearest piece).
        let mut far_features = crowded;
        far_features.push(FibreFeature {
            lines: MultiLineString::new(vec![
                line_string![(x: 9_000., y: 0.), (x: 9_000., y: 900.)],
            ]),
            network: 9,
            ..Default::default()
        });
        let idx = FibreIndex::new(&far_features);
        let pts: Vec<Coord<f64>> = (0..300)
            .map(|i| {
                let (cx, cy) = if i < 150 {
                    (2_000.0, 1_500.0)
                } else {
                    (6_500.0, 400.0)
                };
                coord! {x: cx + rng.range(-600.0, 600.0), y: cy + rng.range(-600.0, 600.0)}
            })
            .collect();
        for drop_m in [0.0, 30.0] {
            let runs = reach_all(&idx, &pts, drop_m, &SpatialOrder::new(&pts), &());
            for (p, got) in pts.iter().zip(&runs) {
                assert_eq!(*got, idx.reach(*p, drop_m, &mut scratch), "{p:?}");
                assert!(got.distance_m > 500.0);
            }
        }
    }

    #[test]
    fn reach_counts_networks_at_exact_drop_distance() {
        let f = vec![
            FibreFeature {
                lines: MultiLineString::new(vec![line_string![(x: 0., y: 0.), (x: 100., y: 0.)]]),
                network: 0,
                ..Default::default()
            },
            FibreFeature {
                points: MultiPoint::new(vec![point!(x: 30., y: 100.)]),
                network: 1,
                ..Default::default()
            },
            FibreFeature {
                lines: MultiLineString::new(vec![line_string![(x: 0., y: 10.), (x: 100., y: 10.)]]),
                network: 0,
                ..Default::default()
            },
        ];
        let idx = FibreIndex::new(&f);
        let mut s = Vec::new();
        let r = idx.reach(coord! {x: 30., y: 50.}, 50.0, &mut s);
        assert_eq!(r.distance_m, 40.0);
        assert_eq!(r.networks, 2, "line at 50 m and point at 50 m both count");
        let r = idx.reach(coord! {x: 30., y: 50.}, 49.999, &mut s);
        assert_eq!(r.networks, 1);
        assert!(r.passed(49.999));
        let r = idx.reach(coord! {x: 30., y: 200.}, 50.0, &mut s);
        assert_eq!(r.distance_m, 100.0);
        assert!(!r.passed(50.0));
        assert_eq!(
            FibreIndex::new(&[]).reach(coord! {x: 0., y: 0.}, 50.0, &mut s),
            FibreReach::NONE
        );
    }
}
