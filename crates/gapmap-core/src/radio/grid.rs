//! Predicted coverage on a raster grid, as polygons.
//!
//! Cells are squares of `cell_m` aligned to multiples of `cell_m` in the working CRS (so grids
//! of different runs line up). A cell is covered for (operator, technology) when some site of
//! that pair reaches the threshold at the cell's centre; the covered cells become polygons by
//! [`crate::polygonize`]. Rows are computed in parallel and kept in order, and each row only
//! evaluates the chords of the sites whose discs cross it.

use rayon::prelude::*;
use rstar::AABB;

use super::predict::SiteIndex;
use super::terrain::ProfileScratch;
use crate::mobile::Tech;
use crate::par::Progress;
use crate::polygonize::{polygonize, runs_of, RunRaster};
use geo::{Coord, MultiPolygon};

/// The covered cells of the sites in `members` (indices into the index's sites; normally one
/// operator and technology), as runs per row.
pub fn coverage_raster(
    index: &SiteIndex,
    members: &[u32],
    cell_m: f64,
    progress: &dyn Progress,
) -> RunRaster {
    let reach: Vec<u32> = members
        .iter()
        .copied()
        .filter(|&i| index.radius_m()[i as usize] > 0.0)
        .collect();
    if reach.is_empty() {
        return RunRaster {
            cell_m,
            ..RunRaster::default()
        };
    }
    let in_group = {
        let mut v = vec![false; index.sites.len()];
        for &i in &reach {
            v[i as usize] = true;
        }
        v
    };
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for &i in &reach {
        let (s, r) = (&index.sites[i as usize], index.radius_m()[i as usize]);
        y0 = y0.min(s.xy.y - r);
        y1 = y1.max(s.xy.y + r);
    }
    let row0 = (y0 / cell_m).floor() as i64;
    let row1 = (y1 / cell_m).ceil() as i64;
    let rows: Vec<Vec<(i64, i64)>> = (row0..row1)
        .into_par_iter()
        .map_init(
            || (ProfileScratch::default(), Vec::new(), Vec::new()),
            |(scratch, cands, covered), row| {
                let yc = (row as f64 + 0.5) * cell_m;
                cands.clear();
                cands.extend(
                    index
                        .sites_in(AABB::from_corners([f64::MIN, yc], [f64::MAX, yc]))
                        .filter(|&i| in_group[i as usize]),
                );
                cands.sort_unstable();
                // Column span of the chords.
                let mut chords = Vec::with_capacity(cands.len());
                for &i in cands.iter() {
                    let (s, r) = (&index.sites[i as usize], index.radius_m()[i as usize]);
                    let dy = yc - s.xy.y;
                    if dy.abs() > r {
                        continue;
                    }
                    let w = (r * r - dy * dy).sqrt();
                    let c0 = ((s.xy.x - w) / cell_m - 0.5).ceil() as i64;
                    let c1 = ((s.xy.x + w) / cell_m - 0.5).floor() as i64 + 1;
                    if c0 < c1 {
                        chords.push((i, c0, c1));
                    }
                }
                let Some(lo) = chords.iter().map(|c| c.1).min() else {
                    return Vec::new();
                };
                let hi = chords.iter().map(|c| c.2).max().unwrap_or(lo);
                covered.clear();
                covered.resize((hi - lo) as usize, false);
                for &(i, c0, c1) in &chords {
                    let threshold = index.params().threshold_dbm(index.sites[i as usize].tech);
                    for c in c0..c1 {
                        let k = (c - lo) as usize;
                        if covered[k] {
                            continue;
                        }
                        let p = Coord {
                            x: (c as f64 + 0.5) * cell_m,
                            y: yc,
                        };
                        if index
                            .budget(i, p, scratch)
                            .is_some_and(|b| b.rsrp_dbm >= threshold)
                        {
                            covered[k] = true;
                        }
                    }
                }
                progress.advance(1);
                runs_of(
                    covered
                        .iter()
                        .enumerate()
                        .filter(|(_, &c)| c)
                        .map(|(k, _)| lo + k as i64),
                )
            },
        )
        .collect();
    RunRaster { cell_m, row0, rows }
}

/// One coverage layer: the polygons of one (operator, technology).
#[derive(Debug, Clone)]
pub struct CoverageLayer {
    /// The operator id.
    pub operator: u32,
    /// The technology.
    pub tech: Tech,
    /// The covered area, in the working CRS.
    pub area: MultiPolygon<f64>,
    /// Covered cells.
    pub cells: u64,
}

/// Coverage polygons for every (operator, technology) among the sites, ordered by operator,
/// then 4G before 5G. Pairs that cover no cell are left out.
pub fn coverage_layers(
    index: &SiteIndex,
    cell_m: f64,
    progress: &dyn Progress,
) -> Vec<CoverageLayer> {
    let mut pairs: Vec<(u32, Tech)> = index.sites.iter().map(|s| (s.operator, s.tech)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .into_iter()
        .filter_map(|(op, tech)| {
            let members: Vec<u32> = (0..index.sites.len() as u32)
                .filter(|&i| {
                    let s = &index.sites[i as usize];
                    s.operator == op && s.tech == tech
                })
                .collect();
            let raster = coverage_raster(index, &members, cell_m, progress);
            let cells = raster.cells();
            (cells > 0).then(|| CoverageLayer {
                operator: op,
                tech,
                area: polygonize(&raster),
                cells,
            })
        })
        .collect()
}

/// Rows a coverage run visits over all pairs (for progress bars).
pub fn rows_to_visit(index: &SiteIndex, cell_m: f64) -> u64 {
    let mut pairs: Vec<(u32, Tech)> = index.sites.iter().map(|s| (s.operator, s.tech)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs
        .iter()
        .map(|&(op, tech)| {
            let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
            for (s, &r) in index.sites.iter().zip(index.radius_m()) {
                if s.operator == op && s.tech == tech && r > 0.0 {
                    y0 = y0.min(s.xy.y - r);
                    y1 = y1.max(s.xy.y + r);
                }
            }
            if y0 < y1 {
                ((y1 / cell_m).ceil() - (y0 / cell_m).floor()) as u64
            } else {
                0
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::radio::antenna::Sector;
    use crate::radio::predict::{predict_all, LosMode, RadioParams, Site};
    use crate::radio::{Environment, Los, ModelChoice};
    use crate::rng::SplitMix64;
    use geo::{coord, Contains, Validation};

    #[test]
    fn polygons_agree_with_the_prediction_at_cell_centres() {
        let mut rng = SplitMix64::new(9);
        let sites: Vec<Site> = (0..12)
            .map(|k| Site {
                xy: coord! {x: rng.range(0.0, 20_000.0), y: rng.range(0.0, 20_000.0)},
                operator: k % 2,
                tech: Tech::G4,
                height_m: 30.0,
                frequency_mhz: 800.0,
                eirp_dbm: rng.range(50.0, 62.0),
                bandwidth_mhz: 10.0,
                sector: Sector {
                    azimuth_deg: (k % 3 != 0).then(|| rng.range(0.0, 360.0)),
                    beamwidth_deg: 65.0,
                    tilt_deg: None,
                },
                model: ModelChoice::Hata.resolve(800.0, Environment::Urban),
            })
            .collect();
        let params = RadioParams {
            ue_height_m: 1.5,
            indoor_loss_db: 0.0,
            threshold_4g_dbm: -100.0,
            threshold_5g_dbm: -100.0,
            los: LosMode::Fixed(Los::Probability),
            off_dem: Los::Probability,
        };
        let index = SiteIndex::new(&sites, params, None);
        let cell = 100.0;
        let layers = coverage_layers(&index, cell, &());
        assert_eq!(layers.len(), 2);
        // Cell centres: polygon coverage equals the direct prediction exactly.
        let centres: Vec<_> = (0..200)
            .flat_map(|i| {
                (0..200)
                    .map(move |j| coord! {x: (i as f64 + 0.5) * cell, y: (j as f64 + 0.5) * cell})
            })
            .collect();
        let direct = predict_all(&index, &centres, 2, &());
        let mut covered = 0;
        for l in &layers {
            assert!(l.area.is_valid());
            for (k, c) in centres.iter().enumerate() {
                let want = direct.premises[k].operators_4g & (1 << l.operator) != 0;
                assert_eq!(l.area.contains(c), want, "operator {} at {c:?}", l.operator);
                covered += usize::from(want);
            }
        }
        assert!(covered > 1000);
    }
}
