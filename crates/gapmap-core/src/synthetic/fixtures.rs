//! Seeded test geometry for the oracle tests of every crate (as geo's `geo-test-fixtures`
//! and `sedona-testing` keep theirs).

use geo::{Coord, LineString, Polygon};

/// Seeded random polygons for testing validity checks: star-shaped rings, some with two
/// vertices swapped, some snapped to a coarse grid (touching and collinear cases), with holes
/// and extra parts placed at random. About one in five is valid.
pub fn random_polygons(seed: u64) -> Vec<Polygon<f64>> {
    let mut rng = crate::rng::SplitMix64::derive(seed, "validity");
    let snap = rng.chance(0.3);
    let star = |rng: &mut crate::rng::SplitMix64, cx: f64, cy: f64, r: f64| {
        let k = 3 + rng.below(30) as usize;
        let mut angles: Vec<f64> = (0..k)
            .map(|_| rng.range(0.0, std::f64::consts::TAU))
            .collect();
        angles.sort_by(f64::total_cmp);
        let mut pts: Vec<Coord<f64>> = angles
            .iter()
            .map(|a| {
                let rr = r * rng.range(0.4, 1.0);
                let c = Coord {
                    x: cx + rr * a.cos(),
                    y: cy + rr * a.sin(),
                };
                if snap {
                    Coord {
                        x: c.x.round(),
                        y: c.y.round(),
                    }
                } else {
                    c
                }
            })
            .collect();
        if rng.chance(0.15) {
            let (i, j) = (rng.below(k as u64) as usize, rng.below(k as u64) as usize);
            pts.swap(i, j);
        }
        LineString::new(pts)
    };
    let parts = 1 + rng.below(3);
    (0..parts)
        .map(|_| {
            let (cx, cy) = (rng.range(0.0, 60.0), rng.range(0.0, 60.0));
            let r = rng.range(5.0, 30.0);
            let shell = star(&mut rng, cx, cy, r);
            let holes = (0..rng.below(3))
                .map(|_| {
                    let (hx, hy) = (cx + rng.range(-r, r) * 0.5, cy + rng.range(-r, r) * 0.5);
                    let hr = r * rng.range(0.05, 0.3);
                    star(&mut rng, hx, hy, hr)
                })
                .collect();
            Polygon::new(shell, holes)
        })
        .collect()
}
