//! Settlement assignment: each premise belongs to the first settlement, in input order, whose
//! polygon covers it (the boundary counts); a premise in none is rural (`None`).

use geo::Coord;

use crate::par::{map_chunked, Progress};
use crate::polygon_index::PolygonIndex;

/// The settlement of every premise, in premise order.
pub fn assign(
    settlements: &PolygonIndex,
    premises: &[Coord<f64>],
    progress: &dyn Progress,
) -> Vec<Option<u32>> {
    map_chunked(premises, progress, Vec::new, |scratch, &p| {
        settlements.first_covering(p, scratch)
    })
}
