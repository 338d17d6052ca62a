//! Aggregation areas: SCB's national square grid (SWEREF 99 TM) and H3 cells.
//!
//! SCB's grid ("Statistik på rutor") is aligned to whole multiples of the cell size in
//! SWEREF 99 TM (EPSG:3006). A cell's id is the easting of its south-west corner in 6 digits
//! followed by its northing in 7 digits, e.g. `3520006860000` for the 1 km cell with corner
//! (352000, 6860000). Premises are grouped with [`group`], then tallied with
//! [`crate::summary::tally`] like settlements.

use crate::num::floor_i64;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use rayon::prelude::*;

/// The south-west corner of the SCB cell of `size_m` metres containing `p` (in EPSG:3006).
/// A point on a cell edge belongs to the cell to its north and east.
#[inline]
pub fn scb_corner(p: Coord<f64>, size_m: u32) -> (i64, i64) {
    let s = f64::from(size_m);
    (
        floor_i64(p.x / s) * i64::from(size_m),
        floor_i64(p.y / s) * i64::from(size_m),
    )
}

/// SCB's id of the cell with south-west corner (`e`, `n`).
pub fn scb_id(e: i64, n: i64) -> String {
    format!("{e:06}{n:07}")
}

/// The square of an SCB cell, counter-clockwise.
pub fn scb_square(e: i64, n: i64, size_m: u32) -> MultiPolygon<f64> {
    let (x0, y0) = (e as f64, n as f64);
    let s = f64::from(size_m);
    MultiPolygon::new(vec![Polygon::new(
        LineString::from(vec![
            (x0, y0),
            (x0 + s, y0),
            (x0 + s, y0 + s),
            (x0, y0 + s),
            (x0, y0),
        ]),
        vec![],
    )])
}

/// Groups of premises by a key: the distinct keys in ascending order, and each premise's
/// group (its key's position), `None` for premises without a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Groups<K> {
    /// The distinct keys, ascending.
    pub keys: Vec<K>,
    /// Per premise: the position of its key in `keys`, or `None`.
    pub of: Vec<Option<u32>>,
}

/// Groups premises by `keys`. The result does not depend on the thread count.
pub fn group<K: Ord + Copy + Send + Sync>(keys: &[Option<K>]) -> Groups<K> {
    let mut distinct: Vec<K> = keys.iter().flatten().copied().collect();
    distinct.par_sort_unstable();
    distinct.dedup();
    #[allow(clippy::expect_used, reason = "`distinct` lists every key")]
    let of = keys
        .par_iter()
        .map(|k| k.map(|k| distinct.binary_search(&k).expect("key is listed") as u32))
        .collect();
    Groups { keys: distinct, of }
}

/// The SCB cells of `size_m` of every premise (coordinates in EPSG:3006).
pub fn scb_cells(xy: &[Coord<f64>], size_m: u32) -> Groups<(i64, i64)> {
    let keys: Vec<Option<(i64, i64)>> = xy
        .par_iter()
        .map(|&p| Some(scb_corner(p, size_m)))
        .collect();
    group(&keys)
}

/// How settlements are covered by H3 cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3Mode {
    /// Every cell that intersects the settlement, and the cell that holds a settlement
    /// smaller than one cell: no settlement is left without a cell.
    Covers,
    /// Every cell whose centre lies in the settlement (small settlements may get none).
    Centroid,
}

/// The H3 cell of every premise; `lonlat` in degrees (x: longitude, y: latitude). A point
/// that is not a valid latitude and longitude has no cell.
pub fn h3_cells(lonlat: &[Coord<f64>], res: Resolution) -> Vec<Option<u64>> {
    lonlat
        .par_iter()
        .map(|c| {
            LatLng::new(c.y, c.x)
                .ok()
                .map(|ll| u64::from(ll.to_cell(res)))
        })
        .collect()
}

/// The H3 cells covering each area (polygons in degrees), ascending per area.
pub fn h3_cover(areas: &[MultiPolygon<f64>], res: Resolution, mode: H3Mode) -> Vec<Vec<u64>> {
    let mode = match mode {
        H3Mode::Covers => ContainmentMode::Covers,
        H3Mode::Centroid => ContainmentMode::ContainsCentroid,
    };
    areas
        .par_iter()
        .map(|mp| {
            let mut tiler = TilerBuilder::new(res).containment_mode(mode).build();
            for p in &mp.0 {
                // A polygon h3o cannot tile (degenerate, not lon/lat) adds no cell.
                let _ = tiler.add(p.clone());
            }
            let mut cells: Vec<u64> = tiler.into_coverage().map(u64::from).collect();
            cells.sort_unstable();
            cells.dedup();
            cells
        })
        .collect()
}

/// The boundary of an H3 cell in degrees (x: longitude, y: latitude); `None` for a value that
/// is not a cell.
pub fn h3_boundary(cell: u64) -> Option<Polygon<f64>> {
    let c = CellIndex::try_from(cell).ok()?;
    let ring: LineString<f64> = c.boundary().into();
    Some(Polygon::new(ring, vec![]))
}

/// The hexadecimal name of an H3 cell, as H3 tools print it.
pub fn h3_name(cell: u64) -> String {
    format!("{cell:x}")
}

/// Parses an H3 resolution (0-15).
pub fn h3_resolution(res: u8) -> Option<Resolution> {
    Resolution::try_from(res).ok()
}

/// Per group: the number of distinct non-empty `items` (e.g. gap cluster ids) among its
/// premises.
pub fn distinct_per_group(
    groups: &[Option<u32>],
    items: &[Option<u32>],
    num_groups: usize,
) -> Vec<u64> {
    let mut pairs: Vec<(u32, u32)> = groups
        .iter()
        .zip(items)
        .filter_map(|(g, i)| Some(((*g)?, (*i)?)))
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut out = vec![0u64; num_groups];
    for (g, _) in pairs {
        out[g as usize] += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scb_ids_match_scb_for_real_cells() {
        let text = include_str!("../../tests/fixtures/scb_1km_cells_dalarna_2025.csv");
        let mut n = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (e, nn): (f64, f64) = (f[1].parse().unwrap(), f[2].parse().unwrap());
            let (ce, cn) = scb_corner(Coord { x: e, y: nn }, 1000);
            assert_eq!(scb_id(ce, cn), f[0], "cell centre {e} {nn}");
            n += 1;
        }
        assert!(n > 50);
        // 250 m cells: the corner is a multiple of 250.
        let (e, n) = scb_corner(
            Coord {
                x: 352_499.9,
                y: 6_860_250.0,
            },
            250,
        );
        assert_eq!((e, n), (352_250, 6_860_250));
        assert_eq!(scb_id(e, n), "3522506860250");
    }

    #[test]
    fn groups_are_sorted_and_complete() {
        let g = group(&[Some(5), None, Some(2), Some(5), Some(9)]);
        assert_eq!(g.keys, vec![2, 5, 9]);
        assert_eq!(g.of, vec![Some(1), None, Some(0), Some(1), Some(2)]);
        assert_eq!(
            distinct_per_group(&g.of, &[Some(1), Some(1), None, Some(2), Some(1)], 3),
            vec![0, 2, 1]
        );
    }

    #[test]
    fn a_settlement_inside_one_h3_cell_gets_that_cell_in_covers_mode() {
        let res = h3_resolution(7).unwrap();
        // A 100 m square near Falun: far smaller than a resolution 7 cell (~5 km²).
        let (lon, lat) = (15.6300, 60.6050);
        let d = 0.001;
        let sq = MultiPolygon::new(vec![Polygon::new(
            LineString::from(vec![
                (lon, lat),
                (lon + d, lat),
                (lon + d, lat + d),
                (lon, lat + d),
                (lon, lat),
            ]),
            vec![],
        )]);
        let covers = h3_cover(std::slice::from_ref(&sq), res, H3Mode::Covers);
        let cell = h3_cells(
            &[Coord {
                x: lon + d / 2.0,
                y: lat + d / 2.0,
            }],
            res,
        )[0]
        .unwrap();
        assert!(covers[0].contains(&cell), "{covers:?} vs {cell:x}");
        let centroid = h3_cover(&[sq], res, H3Mode::Centroid);
        assert!(centroid[0].len() <= 1);
        let b = h3_boundary(cell).unwrap();
        assert!(b.exterior().0.len() >= 6);
        assert_eq!(h3_name(cell).len(), 15);
    }
}
