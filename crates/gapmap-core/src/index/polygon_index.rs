//! An index over many polygonal features for point queries.
//!
//! Every polygon part of every feature is prepared as a [`PreparedArea`]. A point query is
//! two-phase: a [`BoxGrid`] of the parts' bounding boxes yields the parts listed in the point's
//! cell, those whose box contains the point go on, and the exact prepared test decides. Window
//! queries ([`PolygonIndex::features_near`]) use an R-tree of the same boxes, bulk-loaded with
//! the parts' ids.

use geo::{BoundingRect, Coord, MultiPolygon, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};

use crate::box_grid::BoxGrid;
use crate::prepared::{Location, PreparedArea};

type PartBox = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Polygonal features, each a multipolygon, indexed for "which features cover this point".
#[derive(Debug)]
pub struct PolygonIndex {
    parts: Vec<PreparedArea>,
    /// The feature each part belongs to.
    part_feature: Vec<u32>,
    /// Each part's bounding box (empty parts: `None`).
    part_box: Vec<Option<Rect<f64>>>,
    /// Point queries: the part boxes on a grid.
    grid: BoxGrid,
    /// Window queries: the part boxes in an R-tree.
    tree: RTree<PartBox>,
    num_features: usize,
}

impl PolygonIndex {
    /// Prepares and indexes `features`; feature ids are their positions in the slice.
    /// Preparation runs in parallel on the current rayon pool.
    pub fn new(features: &[MultiPolygon<f64>]) -> Self {
        Self::from_features(features)
    }

    /// [`PolygonIndex::new`] over borrowed features (no copy of the polygons is made); feature
    /// ids are their positions in the iteration.
    pub fn from_features<'a>(features: impl IntoIterator<Item = &'a MultiPolygon<f64>>) -> Self {
        let mut part_feature = Vec::new();
        let mut polys = Vec::new();
        let mut num_features = 0;
        for (fid, mp) in features.into_iter().enumerate() {
            num_features = fid + 1;
            for poly in &mp.0 {
                part_feature.push(fid as u32);
                polys.push(poly);
            }
        }
        let (parts, part_box): (Vec<PreparedArea>, Vec<Option<Rect<f64>>>) = polys
            .par_iter()
            .map(|p| (PreparedArea::from_polygon(p), p.bounding_rect()))
            .unzip();
        let boxes: Vec<PartBox> = part_box
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let r = r.as_ref()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i as u32,
                ))
            })
            .collect();
        // Grid cells about the size of a typical part: most parts are listed in a few cells,
        // and a point meets few parts per cell.
        let mut sides: Vec<f64> = part_box
            .iter()
            .flatten()
            .map(|r| r.width().max(r.height()))
            .collect();
        let cell_m = if sides.is_empty() {
            1.0
        } else {
            let mid = sides.len() / 2;
            *sides.select_nth_unstable_by(mid, f64::total_cmp).1
        };
        let grid = BoxGrid::new(&part_box, cell_m);
        PolygonIndex {
            parts,
            part_feature,
            part_box,
            grid,
            tree: RTree::bulk_load(boxes),
            num_features,
        }
    }

    /// Number of features (not parts).
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The box around every indexed polygon (`None` when there are none), from the parts'
    /// boxes: no vertex is visited again.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.part_box.iter().flatten().fold(None, |acc, b| {
            Some(match acc {
                None => *b,
                Some(a) => Rect::new(
                    geo::Coord {
                        x: a.min().x.min(b.min().x),
                        y: a.min().y.min(b.min().y),
                    },
                    geo::Coord {
                        x: a.max().x.max(b.max().x),
                        y: a.max().y.max(b.max().y),
                    },
                ),
            })
        })
    }

    /// Pushes the ids of parts whose bounding box contains `p` (phase one of a query).
    #[inline]
    pub fn candidate_parts(&self, p: Coord<f64>, out: &mut Vec<u32>) {
        out.clear();
        out.extend(self.grid.candidates(p).iter().copied().filter(|&i| {
            self.part_box[i as usize].is_some_and(|r| {
                p.x >= r.min().x && p.x <= r.max().x && p.y >= r.min().y && p.y <= r.max().y
            })
        }));
    }

    /// The features with a part whose bounding box comes within `max_m` of `p`, ascending and
    /// without repeats (phase one of a nearest query).
    pub fn features_near(&self, p: Coord<f64>, max_m: f64, out: &mut Vec<u32>) {
        out.clear();
        let window = AABB::from_corners([p.x - max_m, p.y - max_m], [p.x + max_m, p.y + max_m]);
        out.extend(
            self.tree
                .locate_in_envelope_intersecting(&window)
                .map(|b| self.part_feature[b.data as usize]),
        );
        out.sort_unstable();
        out.dedup();
    }

    /// The feature a part belongs to.
    #[inline]
    pub fn part_feature(&self, part: u32) -> u32 {
        self.part_feature[part as usize]
    }

    /// Exact location of `p` relative to one part (phase two of a query).
    #[inline]
    pub fn locate_in_part(&self, part: u32, p: Coord<f64>) -> Location {
        self.parts[part as usize].locate(p)
    }

    /// The lowest-numbered feature that covers `p` (interior or boundary), if any.
    ///
    /// `scratch` is reused between calls to avoid allocation.
    pub fn first_covering(&self, p: Coord<f64>, scratch: &mut Vec<u32>) -> Option<u32> {
        self.candidate_parts(p, scratch);
        // Test in feature order so that the first covering feature wins.
        scratch.sort_unstable_by_key(|&part| (self.part_feature[part as usize], part));
        scratch
            .iter()
            .find(|&&part| self.locate_in_part(part, p).is_covered())
            .map(|&part| self.part_feature[part as usize])
    }

    /// All features that cover `p`, ascending and without repeats.
    pub fn covering(&self, p: Coord<f64>, scratch: &mut Vec<u32>, out: &mut Vec<u32>) {
        out.clear();
        self.candidate_parts(p, scratch);
        for &part in scratch.iter() {
            let f = self.part_feature[part as usize];
            if !out.contains(&f) && self.locate_in_part(part, p).is_covered() {
                out.push(f);
            }
        }
        out.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon};

    #[test]
    fn extent_is_the_box_around_every_polygon() {
        let a = polygon![(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0)];
        let b = polygon![(x: -5.0, y: 3.0), (x: 1.0, y: 3.0), (x: 1.0, y: 9.0)];
        let idx = PolygonIndex::new(&[MultiPolygon::new(vec![a]), MultiPolygon::new(vec![b])]);
        assert_eq!(
            idx.extent(),
            Some(Rect::new(
                coord! { x: -5.0, y: 0.0 },
                coord! { x: 2.0, y: 9.0 }
            ))
        );
        assert_eq!(PolygonIndex::new(&[]).extent(), None);
    }

    #[test]
    fn first_covering_respects_input_order_and_boundary() {
        let a = polygon![(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)];
        let b = polygon![(x: 10., y: 0.), (x: 20., y: 0.), (x: 20., y: 10.), (x: 10., y: 10.)];
        // Feature 0 is b, feature 1 is a: a point on the shared edge goes to feature 0.
        let idx = PolygonIndex::new(&[MultiPolygon::new(vec![b]), MultiPolygon::new(vec![a])]);
        let mut s = Vec::new();
        assert_eq!(idx.first_covering(coord! {x: 10., y: 5.}, &mut s), Some(0));
        assert_eq!(idx.first_covering(coord! {x: 5., y: 5.}, &mut s), Some(1));
        assert_eq!(idx.first_covering(coord! {x: 25., y: 5.}, &mut s), None);
        let mut out = Vec::new();
        idx.covering(coord! {x: 10., y: 10.}, &mut s, &mut out);
        assert_eq!(out, vec![0, 1]);
    }
}
