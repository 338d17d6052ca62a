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

/// Gives premises that lie in no area (`None` in `of`) the nearest area within `max_m`
/// metres, e.g. for generalised boundaries that cut off coastal premises. `index` indexes
/// `areas`. Ties go to the lower area index. Returns how many premises were snapped.
pub fn snap_to_nearest(
    index: &PolygonIndex,
    areas: &[geo::MultiPolygon<f64>],
    premises: &[Coord<f64>],
    of: &mut [Option<u32>],
    max_m: f64,
) -> usize {
    use geo::{Distance, Euclidean, Point};
    use rayon::prelude::*;
    if max_m <= 0.0 || areas.is_empty() {
        return 0;
    }
    let snapped: Vec<(usize, u32)> = of
        .par_iter()
        .enumerate()
        .filter(|(_, a)| a.is_none())
        .map_init(Vec::new, |near, (i, _)| {
            let p = premises[i];
            index.features_near(p, max_m, near);
            near.iter()
                .map(|&f| (Euclidean.distance(&Point::from(p), &areas[f as usize]), f))
                .filter(|(d, _)| *d <= max_m)
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(_, f)| (i, f))
        })
        .flatten()
        .collect();
    for &(i, a) in &snapped {
        of[i] = Some(a);
    }
    snapped.len()
}

/// A settlement derived from premises.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// Premise indices, ascending.
    pub premises: Vec<u32>,
    /// People living in it.
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

    #[test]
    fn premises_outside_snap_to_the_nearest_area_within_reach() {
        let sq = |x: f64| {
            geo::MultiPolygon::new(vec![geo::Polygon::new(
                geo::LineString::from(vec![
                    (x, 0.0),
                    (x + 10.0, 0.0),
                    (x + 10.0, 10.0),
                    (x, 10.0),
                    (x, 0.0),
                ]),
                vec![],
            )])
        };
        let areas = [sq(0.0), sq(20.0)];
        let pts = [
            Coord { x: 5.0, y: 5.0 },
            Coord { x: 13.0, y: 5.0 },
            Coord { x: 18.0, y: 5.0 },
            Coord { x: 5.0, y: 40.0 },
        ];
        let mut of = vec![Some(0), None, None, None];
        let index = PolygonIndex::new(&areas);
        assert_eq!(snap_to_nearest(&index, &areas, &pts, &mut of, 5.0), 2);
        assert_eq!(of, vec![Some(0), Some(0), Some(1), None]);
    }
}
