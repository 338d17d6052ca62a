//! Settlement assignment: each premise belongs to the first settlement, in input order, whose
//! polygon covers it (the boundary counts); a premise in none is rural (`None`).

use geo::Coord;

use crate::par::{map_points, Progress, SpatialOrder};
use crate::polygon_index::PolygonIndex;

/// The settlement of every premise, in premise order.
/// `order` is the order to visit premises in ([`SpatialOrder::new`] for speed); results are in
/// premise order either way.
pub fn assign(
    settlements: &PolygonIndex,
    premises: &[Coord<f64>],
    order: &SpatialOrder,
    progress: &dyn Progress,
) -> Vec<Option<u32>> {
    map_points(premises, order, progress, Vec::new, |scratch, p| {
        settlements.first_covering(p, scratch)
    })
}
