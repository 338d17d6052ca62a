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

/// A settlement derived from premises.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// Premise indices, ascending.
    pub premises: Vec<u32>,
    pub population: f64,
    /// The outline around the premises.
    pub area: geo::MultiPolygon<f64>,
}

/// Settlements the way SCB delimits tätorter: premises no more than `link_m` apart are one
/// cluster (single linkage), and a cluster with at least `min_population` people is a
/// settlement, outlined `margin_m` beyond its premises. `population` is per premise.
/// Settlements come largest first (then by their smallest premise index).
pub fn derive(
    premises: &[Coord<f64>],
    population: &[f64],
    link_m: f64,
    min_population: f64,
    margin_m: f64,
) -> Vec<Derived> {
    use rayon::prelude::*;
    let all: Vec<u32> = (0..premises.len() as u32).collect();
    let mut kept: Vec<(Vec<u32>, f64)> = crate::gaps::single_linkage(premises, &all, link_m)
        .into_iter()
        .map(|c| {
            let pop = c.iter().map(|&i| population[i as usize]).sum::<f64>();
            (c, pop)
        })
        .filter(|(_, pop)| *pop >= min_population)
        .collect();
    kept.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0[0].cmp(&b.0[0])));
    kept.into_par_iter()
        .map(|(members, pop)| {
            let pts: Vec<Coord<f64>> = members.iter().map(|&i| premises[i as usize]).collect();
            Derived {
                area: crate::gaps::outline(&pts, margin_m, link_m),
                premises: members,
                population: pop,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Contains;

    #[test]
    fn clusters_split_at_the_link_distance_and_small_ones_are_dropped() {
        // A row of 30 houses 150 m apart (one settlement), a gap of 250 m, then 5 houses
        // (too few people), and a lone house far away.
        let mut pts: Vec<Coord<f64>> = (0..30)
            .map(|i| Coord {
                x: i as f64 * 150.0,
                y: 0.0,
            })
            .collect();
        let x_end = 29.0 * 150.0;
        pts.extend((0..5).map(|i| Coord {
            x: x_end + 250.0 + i as f64 * 100.0,
            y: 0.0,
        }));
        pts.push(Coord { x: 1e5, y: 1e5 });
        let pop = vec![10.0; pts.len()];
        let d = derive(&pts, &pop, 200.0, 200.0, 50.0);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].premises, (0..30).collect::<Vec<u32>>());
        assert_eq!(d[0].population, 300.0);
        for p in &pts[..30] {
            assert!(d[0].area.contains(p));
        }
        assert!(!d[0].area.contains(&pts[31]));
        // With the link at 260 m the 5 houses join (a 250 m gap).
        let d = derive(&pts, &pop, 260.0, 200.0, 50.0);
        assert_eq!(d[0].premises.len(), 35);
    }
}
