//! Terrain: elevation profiles from a DEM, line of sight over a curved Earth, and knife-edge
//! diffraction by the Deygout construction.
//!
//! - Earth curvature: an effective Earth radius `k · 6371 km` with `k = 4/3` (standard
//!   atmosphere, ITU-R P.452 / P.526); terrain at distance `d1` from one end and `d2` from the
//!   other is raised by `d1 d2 / (2 k R)`.
//! - Line of sight: the straight ray between the antennas clears every profile point.
//! - Diffraction: ITU-R P.526-15 §4.1, eq. (31), the loss of a single knife edge with
//!   parameter `v = h √(2 (d1 + d2) / (λ d1 d2))`: `J(v) = 6.9 + 20 log10(√((v − 0.1)² + 1) +
//!   v − 0.1)` for `v > −0.78`, else 0; several edges by Deygout's construction (the edge with
//!   the largest `v` on the whole path, then the largest on each side of it): up to three edges.

use geo::Coord;

use super::SPEED_OF_LIGHT_M_S;

/// Mean Earth radius, metres.
pub const EARTH_RADIUS_M: f64 = 6_371_000.0;
/// Effective Earth radius factor of the standard atmosphere.
pub const K_FACTOR: f64 = 4.0 / 3.0;
/// The most samples taken along one profile; longer paths are sampled more coarsely.
pub const MAX_PROFILE_SAMPLES: usize = 1024;

/// A north-up elevation grid in the working CRS. Cell `(row, col)` covers
/// `[left + col·w, left + (col+1)·w] × [top − (row+1)·h, top − row·h]`; its value is the
/// elevation at the cell centre, metres; NaN for no data.
#[derive(Debug, Clone)]
pub struct Dem {
    /// x of the left edge, in the working CRS.
    pub left: f64,
    /// y of the top edge, in the working CRS.
    pub top: f64,
    /// Cell width, metres.
    pub cell_w_m: f64,
    /// Cell height, metres.
    pub cell_h_m: f64,
    /// Columns.
    pub cols: usize,
    /// Rows.
    pub rows: usize,
    /// Elevations, metres, row by row from the top (NaN: no data).
    pub z: Vec<f32>,
}

impl Dem {
    /// Profile sampling step: the smaller cell side.
    pub fn step_m(&self) -> f64 {
        self.cell_w_m.min(self.cell_h_m)
    }

    fn at(&self, row: usize, col: usize) -> f32 {
        self.z[row * self.cols + col]
    }

    /// Elevation at `p` by bilinear interpolation between cell centres (nearest cell at the
    /// outer half cell); `None` outside the grid or where the neighbouring cells have no data.
    pub fn elevation(&self, p: Coord<f64>) -> Option<f64> {
        let fx = (p.x - self.left) / self.cell_w_m;
        let fy = (self.top - p.y) / self.cell_h_m;
        if !(fx >= 0.0 && fy >= 0.0 && fx <= self.cols as f64 && fy <= self.rows as f64) {
            return None;
        }
        let cx = (fx - 0.5).clamp(0.0, (self.cols - 1) as f64);
        let cy = (fy - 0.5).clamp(0.0, (self.rows - 1) as f64);
        let (c0, r0) = (cx.floor() as usize, cy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (tx, ty) = (cx - c0 as f64, cy - r0 as f64);
        let v = [
            (self.at(r0, c0), (1.0 - tx) * (1.0 - ty)),
            (self.at(r0, c1), tx * (1.0 - ty)),
            (self.at(r1, c0), (1.0 - tx) * ty),
            (self.at(r1, c1), tx * ty),
        ];
        let (mut sum, mut wsum) = (0.0, 0.0);
        for (z, w) in v {
            if z.is_finite() && w > 0.0 {
                sum += f64::from(z) * w;
                wsum += w;
            }
        }
        if wsum > 0.0 {
            Some(sum / wsum)
        } else {
            // Exactly on a no-data cell centre with zero weight elsewhere.
            let z = self.at(cy.round() as usize, cx.round() as usize);
            z.is_finite().then_some(f64::from(z))
        }
    }
}

/// What the terrain does to one link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathTerrain {
    /// The ray between the antennas clears the terrain (with Earth curvature).
    pub los: bool,
    /// Knife-edge diffraction loss, dB (0 when the first Fresnel zone is clear enough).
    pub diffraction_db: f64,
    /// Edges that contributed loss (0 to 3).
    pub edges: u8,
}

/// Reusable buffers for [`analyse_path`].
#[derive(Debug, Default, Clone)]
pub struct ProfileScratch {
    d: Vec<f64>,
    z: Vec<f64>,
}

/// Single knife-edge loss `J(v)`, dB (ITU-R P.526-15 eq. (31)).
pub fn knife_edge_db(v: f64) -> f64 {
    if v <= -0.78 {
        0.0
    } else {
        6.9 + 20.0 * (((v - 0.1).powi(2) + 1.0).sqrt() + v - 0.1).log10()
    }
}

/// Earth bulge at `d1` and `d2` from the ends, metres.
#[inline]
pub fn earth_bulge_m(d1: f64, d2: f64) -> f64 {
    d1 * d2 / (2.0 * K_FACTOR * EARTH_RADIUS_M)
}

/// The terrain along the link from a mast at `tx` (antenna `tx_height_m` above ground) to a
/// terminal at `rx` (`rx_height_m` above ground). `None` when the DEM has no elevation at
/// either end; profile points without data are skipped.
pub fn analyse_path(
    dem: &Dem,
    tx: Coord<f64>,
    tx_height_m: f64,
    rx: Coord<f64>,
    rx_height_m: f64,
    frequency_mhz: f64,
    scratch: &mut ProfileScratch,
) -> Option<PathTerrain> {
    let tx_alt = dem.elevation(tx)? + tx_height_m;
    let rx_alt = dem.elevation(rx)? + rx_height_m;
    let (dx, dy) = (rx.x - tx.x, rx.y - tx.y);
    let d = dx.hypot(dy);
    let n = ((d / dem.step_m()).ceil() as usize).clamp(1, MAX_PROFILE_SAMPLES);
    scratch.d.clear();
    scratch.z.clear();
    scratch.d.push(0.0);
    scratch.z.push(tx_alt);
    let mut los = true;
    for i in 1..n {
        let t = i as f64 / n as f64;
        let s = t * d;
        let Some(z) = dem.elevation(Coord {
            x: tx.x + t * dx,
            y: tx.y + t * dy,
        }) else {
            continue;
        };
        let z = z + earth_bulge_m(s, d - s);
        if z >= tx_alt + (rx_alt - tx_alt) * t {
            los = false;
        }
        scratch.d.push(s);
        scratch.z.push(z);
    }
    scratch.d.push(d);
    scratch.z.push(rx_alt);
    let wavelength_m = SPEED_OF_LIGHT_M_S / (frequency_mhz * 1e6);
    let (diffraction_db, edges) = deygout(&scratch.d, &scratch.z, wavelength_m);
    Some(PathTerrain {
        los,
        diffraction_db,
        edges,
    })
}

/// Diffraction parameter `v` of interior point `i` relative to the line from `lo` to `hi`.
fn v_at(d: &[f64], z: &[f64], lo: usize, hi: usize, i: usize, wavelength_m: f64) -> f64 {
    let (a, b) = (d[i] - d[lo], d[hi] - d[i]);
    let h = z[i] - (z[lo] + (z[hi] - z[lo]) * a / (d[hi] - d[lo]));
    h * (2.0 * (a + b) / (wavelength_m * a * b)).sqrt()
}

/// The interior point of `lo..=hi`, outside `skip`, with the largest `v` relative to the line
/// from point `lo` to point `hi`.
fn main_edge(
    d: &[f64],
    z: &[f64],
    lo: usize,
    hi: usize,
    skip: std::ops::RangeInclusive<usize>,
    wavelength_m: f64,
) -> Option<(usize, f64)> {
    let span = d[hi] - d[lo];
    if hi <= lo + 1 || span <= 0.0 {
        return None;
    }
    let mut best: Option<(usize, f64)> = None;
    for i in lo + 1..hi {
        let (a, b) = (d[i] - d[lo], d[hi] - d[i]);
        if a <= 0.0 || b <= 0.0 || skip.contains(&i) {
            continue;
        }
        let v = v_at(d, z, lo, hi, i, wavelength_m);
        if best.is_none_or(|(_, bv)| v > bv) {
            best = Some((i, v));
        }
    }
    best
}

/// An empty range of points to skip.
#[allow(clippy::reversed_empty_ranges, reason = "an empty range is the point")]
const NO_SKIP: std::ops::RangeInclusive<usize> = 1..=0;

/// Deygout diffraction loss over a profile whose first and last points are the antennas;
/// returns the loss in dB and the number of edges that contributed.
///
/// A sampled DEM shows one broad hill (or the Earth's bulge) as many neighbouring points that
/// reach into the path's Fresnel zone; they are one obstacle. So the secondary edges are sought
/// outside the main edge's obstacle: the run of points around it whose `v` on the direct path
/// exceeds −0.78. Otherwise every further sample of a plateau would add a spurious edge of
/// about 6 dB; separate hills, with a valley between them, still count as separate edges.
pub fn deygout(d: &[f64], z: &[f64], wavelength_m: f64) -> (f64, u8) {
    let last = d.len() - 1;
    let Some((m, vm)) = main_edge(d, z, 0, last, NO_SKIP, wavelength_m) else {
        return (0.0, 0);
    };
    if vm <= -0.78 {
        return (0.0, 0);
    }
    let (mut a, mut b) = (m, m);
    while a > 1 && v_at(d, z, 0, last, a - 1, wavelength_m) > -0.78 {
        a -= 1;
    }
    while b + 1 < last && v_at(d, z, 0, last, b + 1, wavelength_m) > -0.78 {
        b += 1;
    }
    let mut loss = knife_edge_db(vm);
    let mut edges = 1;
    for (lo, hi) in [(0, m), (m, last)] {
        if let Some((_, v)) = main_edge(d, z, lo, hi, a..=b, wavelength_m) {
            if v > -0.78 {
                loss += knife_edge_db(v);
                edges += 1;
            }
        }
    }
    (loss, edges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    fn flat(z: f32, cols: usize, rows: usize, cell: f64) -> Dem {
        Dem {
            left: 0.0,
            top: rows as f64 * cell,
            cell_w_m: cell,
            cell_h_m: cell,
            cols,
            rows,
            z: vec![z; cols * rows],
        }
    }

    #[test]
    fn knife_edge_values() {
        // P.526 Figure 9: J(0) ≈ 6 dB; J(−0.78) = 0; large v: ≈ 13 + 20 log10(v).
        assert!((knife_edge_db(0.0) - 6.03).abs() < 0.01);
        assert_eq!(knife_edge_db(-0.78), 0.0);
        assert!(knife_edge_db(-0.77) < 0.1);
        assert!((knife_edge_db(10.0) - (12.953 + 20.0)).abs() < 0.1);
    }

    #[test]
    fn bilinear_elevation() {
        let mut dem = flat(0.0, 3, 2, 10.0);
        // Row 0 (north) = 10 m, row 1 = 20 m.
        for c in 0..3 {
            dem.z[c] = 10.0;
            dem.z[3 + c] = 20.0;
        }
        // Halfway between the row centres (y = 10, centres at 15 and 5).
        assert!((dem.elevation(coord! {x: 15.0, y: 10.0}).unwrap() - 15.0).abs() < 1e-9);
        assert_eq!(dem.elevation(coord! {x: 15.0, y: 19.0}), Some(10.0));
        assert_eq!(dem.elevation(coord! {x: 31.0, y: 10.0}), None);
        // No data: the valid neighbours carry the value; a no-data cell's own centre has none.
        dem.z[4] = f32::NAN;
        assert_eq!(dem.elevation(coord! {x: 12.0, y: 5.0}), Some(20.0));
        assert_eq!(dem.elevation(coord! {x: 15.0, y: 5.0}), None);
    }

    #[test]
    fn earth_curvature_sets_the_radio_horizon() {
        // Sea-level plain, 10 m antennas: the radio horizon is 2 · √(2 k R · 10 m) = 26.1 km.
        let dem = flat(0.0, 400, 1, 100.0);
        let y = 50.0;
        let mut s = ProfileScratch::default();
        let tx = coord! {x: 0.0, y: y};
        let near = analyse_path(
            &dem,
            tx,
            10.0,
            coord! {x: 25_000.0, y: y},
            10.0,
            800.0,
            &mut s,
        )
        .unwrap();
        let far = analyse_path(
            &dem,
            tx,
            10.0,
            coord! {x: 27_500.0, y: y},
            10.0,
            800.0,
            &mut s,
        )
        .unwrap();
        assert!(near.los && !far.los, "{near:?} {far:?}");
        assert!(far.diffraction_db > near.diffraction_db);
    }

    #[test]
    fn single_ridge_matches_one_knife_edge() {
        // A 1 km path over flat ground at 0 m with a wall at its middle, 30 m high; antennas
        // 10 m. Over 1 km the Earth bulge is 1.5 cm, so v follows from the wall alone.
        let mut dem = flat(0.0, 1000, 1, 1.0);
        for c in 499..=500 {
            dem.z[c] = 30.0;
        }
        let mut s = ProfileScratch::default();
        let t = analyse_path(
            &dem,
            coord! {x: 0.5, y: 0.5},
            10.0,
            coord! {x: 999.5, y: 0.5},
            10.0,
            900.0,
            &mut s,
        )
        .unwrap();
        let lambda = SPEED_OF_LIGHT_M_S / 900e6;
        let (d1, d2) = (499.5, 499.5);
        let v = 20.0 * (2.0 * (d1 + d2) / (lambda * d1 * d2)).sqrt();
        assert!(!t.los);
        assert_eq!(t.edges, 1, "{t:?}");
        // Interpolation and sampling put the peak within a metre of the middle.
        assert!(
            (t.diffraction_db - knife_edge_db(v)).abs() < 0.5,
            "{t:?} vs {}",
            knife_edge_db(v)
        );
    }

    #[test]
    fn deygout_adds_secondary_edges() {
        // Two walls: the main edge and one secondary edge.
        let d: Vec<f64> = (0..=100).map(|i| i as f64 * 10.0).collect();
        let mut z = vec![0.0; 101];
        z[0] = 10.0;
        z[100] = 10.0;
        z[30] = 25.0;
        z[70] = 40.0;
        let (loss, edges) = deygout(&d, &z, 0.333);
        assert_eq!(edges, 2);
        let (one, _) = deygout(&d, &[&z[..30], &[0.0], &z[31..]].concat(), 0.333);
        assert!(loss > one);
    }
}
