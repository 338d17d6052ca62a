//! Fibre reach: distance from a premise to the nearest fibre feature (line or point), and the
//! number of distinct networks (owners) with a feature within the drop distance.
//!
//! Distances are planar, in metres of the working CRS. A premise is *fibre passed* when
//! `fibre_distance_m <= drop_distance_m`, compared exactly as reported.

use geo::{Coord, MultiLineString, MultiPoint};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

use crate::par::{map_chunked, Progress};

/// One fibre feature: any mix of lines and points, owned by one network.
#[derive(Debug, Clone)]
pub struct FibreFeature {
    pub lines: MultiLineString<f64>,
    pub points: MultiPoint<f64>,
    /// Interned network (owner) id.
    pub network: u32,
}

impl Default for FibreFeature {
    fn default() -> Self {
        FibreFeature {
            lines: MultiLineString::new(vec![]),
            points: MultiPoint::new(vec![]),
            network: 0,
        }
    }
}

/// A segment of a fibre line (or a point, as a zero-length segment) with its feature id.
#[derive(Debug, Clone, Copy)]
struct Segment {
    a: [f64; 2],
    b: [f64; 2],
    feature: u32,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

impl PointDistance for Segment {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        segment_distance2(
            Coord { x: p[0], y: p[1] },
            Coord {
                x: self.a[0],
                y: self.a[1],
            },
            Coord {
                x: self.b[0],
                y: self.b[1],
            },
        )
    }
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

/// All fibre segments and points, bulk-loaded into an R-tree with their feature ids.
#[derive(Debug)]
pub struct FibreIndex {
    tree: RTree<Segment>,
    feature_network: Vec<u32>,
}

impl FibreIndex {
    /// Indexes `features`; feature ids are their positions in the slice.
    pub fn new(features: &[FibreFeature]) -> Self {
        let mut segs = Vec::new();
        for (fid, f) in features.iter().enumerate() {
            let feature = fid as u32;
            for ls in &f.lines.0 {
                match ls.0.as_slice() {
                    [] => {}
                    [only] => segs.push(Segment {
                        a: [only.x, only.y],
                        b: [only.x, only.y],
                        feature,
                    }),
                    coords => segs.extend(coords.windows(2).map(|w| Segment {
                        a: [w[0].x, w[0].y],
                        b: [w[1].x, w[1].y],
                        feature,
                    })),
                }
            }
            segs.extend(f.points.0.iter().map(|p| Segment {
                a: [p.x(), p.y()],
                b: [p.x(), p.y()],
                feature,
            }));
        }
        FibreIndex {
            tree: RTree::bulk_load(segs),
            feature_network: features.iter().map(|f| f.network).collect(),
        }
    }

    /// Number of indexed segments and points.
    pub fn num_segments(&self) -> usize {
        self.tree.size()
    }

    /// Fibre reach of the premise at `p`. `scratch` is reused between calls.
    pub fn reach(&self, p: Coord<f64>, drop_distance_m: f64, scratch: &mut Vec<u32>) -> FibreReach {
        let pt = [p.x, p.y];
        let Some(nearest) = self.tree.nearest_neighbor(&pt) else {
            return FibreReach::NONE;
        };
        let mut distance_m = nearest.distance_2(&pt).sqrt();
        // Search a hair wider than the drop distance, then decide each feature exactly; the
        // minimum over that search is the exact nearest distance whenever it matters.
        let radius = drop_distance_m * (1.0 + 1e-9) + 1e-9;
        if distance_m > radius {
            return FibreReach {
                distance_m,
                networks: 0,
            };
        }
        scratch.clear();
        for s in self.tree.locate_within_distance(pt, radius * radius) {
            let d = s.distance_2(&pt).sqrt();
            distance_m = distance_m.min(d);
            if d <= drop_distance_m {
                scratch.push(self.feature_network[s.feature as usize]);
            }
        }
        scratch.sort_unstable();
        scratch.dedup();
        FibreReach {
            distance_m,
            networks: scratch.len() as u32,
        }
    }
}

/// Fibre reach of every premise, in premise order.
pub fn reach_all(
    fibre: &FibreIndex,
    premises: &[Coord<f64>],
    drop_distance_m: f64,
    progress: &dyn Progress,
) -> Vec<FibreReach> {
    map_chunked(premises, progress, Vec::new, |scratch, &p| {
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
