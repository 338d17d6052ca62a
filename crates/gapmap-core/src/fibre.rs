//! Fibre reach: distance from a premise to the nearest fibre feature (line or point), and the
//! number of distinct networks (owners) with a feature within the drop distance.
//!
//! Distances are planar, in metres of the working CRS. A premise is *fibre passed* when
//! `fibre_distance_m <= drop_distance_m`, compared exactly as reported.

use geo::{Coord, MultiLineString, MultiPoint};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

use crate::par::{map_points, Progress, SpatialOrder};

/// One fibre feature: any mix of lines and points, owned by one network.
#[derive(Debug, Clone)]
pub struct FibreFeature {
    pub lines: MultiLineString<f64>,
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
/// vertex), with its feature id and bounding box.
#[derive(Debug, Clone, Copy)]
struct Piece {
    pts: [[f64; 2]; PIECE_SEGMENTS + 1],
    len: u8,
    feature: u32,
    env: AABB<[f64; 2]>,
}

impl Piece {
    fn new(coords: &[Coord<f64>], feature: u32) -> Piece {
        let mut pts = [[0.0; 2]; PIECE_SEGMENTS + 1];
        for (k, c) in coords.iter().enumerate() {
            pts[k] = [c.x, c.y];
        }
        let env = AABB::from_points(pts[..coords.len()].iter());
        Piece {
            pts,
            len: coords.len() as u8,
            feature,
            env,
        }
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
        polyline_distance2(&self.pts[..self.len as usize], p)
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
    (1..pts.len())
        .map(|k| segment_distance2(q, c(k - 1), c(k)))
        .fold(f64::INFINITY, f64::min)
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
        let pt = [p.x, p.y];
        // A hair wider than the drop distance, so that rounding in box tests cannot drop a
        // segment that is exactly in reach.
        let r = drop_distance_m * (1.0 + 1e-9) + 1e-9;
        let window = AABB::from_corners([p.x - r, p.y - r], [p.x + r, p.y + r]);
        let mut nearest2 = f64::INFINITY;
        scratch.clear();
        for s in self.tree.locate_in_envelope_intersecting(&window) {
            let d2 = s.distance_2(&pt);
            nearest2 = nearest2.min(d2);
            if d2.sqrt() <= drop_distance_m {
                scratch.push(self.feature_network[s.feature as usize]);
            }
        }
        if scratch.is_empty() {
            // Nothing in reach: the distance is still reported.
            if nearest2.sqrt() > r {
                if let Some(n) = self.tree.nearest_neighbor(&pt) {
                    nearest2 = nearest2.min(n.distance_2(&pt));
                }
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
}

/// Fibre reach of every premise, in premise order.
/// `order` is the order to visit premises in ([`SpatialOrder::new`] for speed); results are in
/// premise order either way.
pub fn reach_all(
    fibre: &FibreIndex,
    premises: &[Coord<f64>],
    drop_distance_m: f64,
    order: &SpatialOrder,
    progress: &dyn Progress,
) -> Vec<FibreReach> {
    map_points(premises, order, progress, Vec::new, |scratch, p| {
        fibre.reach(p, drop_distance_m, scratch)
    })
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
