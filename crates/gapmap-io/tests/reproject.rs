//! The native inverse Transverse Mercator against PROJ: every result must match PROJ's within
//! 1e-9°, whichever path each batch took.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use gapmap_core::rng::SplitMix64;
use gapmap_io::crs::Transform;
use gapmap_io::Crs;

/// `n` seeded points uniformly in the box.
fn points(seed: u64, n: usize, x: (f64, f64), y: (f64, f64)) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| (x.0 + rng.f64() * (x.1 - x.0), y.0 + rng.f64() * (y.1 - y.0)))
        .unzip()
}

/// Transforms with the default path and with PROJ only; returns the largest difference in
/// degrees.
fn worst_difference(from: &str, xs: &[f64], ys: &[f64]) -> (f64, usize) {
    let (src, dst) = (Crs::parse(from, "test").unwrap(), Crs::wgs84());
    let fast = Transform::new(&src, &dst).unwrap();
    let proj = Transform::new(&src, &dst).unwrap().proj_only();
    let (mut ax, mut ay) = (xs.to_vec(), ys.to_vec());
    let (mut bx, mut by) = (xs.to_vec(), ys.to_vec());
    fast.coords(&mut ax, &mut ay).unwrap();
    proj.coords(&mut bx, &mut by).unwrap();
    let worst = ax
        .iter()
        .zip(&ay)
        .zip(bx.iter().zip(&by))
        .map(|((a, b), (c, d))| (a - c).abs().max((b - d).abs()))
        .fold(0.0, f64::max);
    assert_eq!(proj.native_batches(), 0);
    (worst, fast.native_batches())
}

#[test]
fn sweref99_tm_and_its_zones_and_utm_take_the_native_path_and_match_proj() {
    // All of Sweden and beyond, in metres of each CRS.
    for (crs, x, y) in [
        (
            "EPSG:3006",
            (200_000.0, 1_000_000.0),
            (6_100_000.0, 7_700_000.0),
        ),
        ("EPSG:3011", (0.0, 300_000.0), (6_300_000.0, 6_900_000.0)), // SWEREF 99 18 00
        (
            "EPSG:25833",
            (200_000.0, 900_000.0),
            (6_000_000.0, 7_800_000.0),
        ), // ETRS89 / UTM 33N
        ("EPSG:32633", (200_000.0, 900_000.0), (0.0, 9_000_000.0)),  // WGS 84 / UTM 33N
    ] {
        let (xs, ys) = points(7, 200_000, x, y);
        let (worst, native) = worst_difference(crs, &xs, &ys);
        // 200,000 points are four batches of 65,536 or fewer.
        assert_eq!(native, 4, "{crs}: every batch should take the native path");
        assert!(worst <= 1e-9, "{crs}: {worst}° from PROJ");
    }
}

#[test]
fn a_datum_shift_falls_back_to_proj() {
    // RT 90 2.5 gon V is Transverse Mercator on Bessel 1841 with a Helmert shift to WGS 84:
    // the probes disagree and PROJ transforms every batch.
    let (xs, ys) = points(
        8,
        100_000,
        (1_200_000.0, 1_800_000.0),
        (6_200_000.0, 7_600_000.0),
    );
    let (worst, native) = worst_difference("EPSG:3021", &xs, &ys);
    assert!(worst <= 1e-9, "{worst}° from PROJ");
    assert_eq!(native, 0);
}

#[test]
fn other_projections_use_proj() {
    let src = Crs::parse("EPSG:3035", "test").unwrap(); // LAEA Europe
    assert!(!Transform::new(&src, &Crs::wgs84())
        .unwrap()
        .has_native_path());
}

#[test]
fn points_in_place_match_the_coordinate_slices_and_fail_alike() {
    use gapmap_core::geo::Coord;
    let (mut xs, mut ys) = points(
        9,
        200_000,
        (200_000.0, 1_000_000.0),
        (6_100_000.0, 7_700_000.0),
    );
    let t = Transform::new(&Crs::parse("EPSG:3006", "test").unwrap(), &Crs::wgs84()).unwrap();
    let mut pts: Vec<Coord<f64>> = xs.iter().zip(&ys).map(|(&x, &y)| Coord { x, y }).collect();
    t.coords_in_place(&mut pts).unwrap();
    t.coords(&mut xs, &mut ys).unwrap();
    // The same batches, so the same path and the same bits.
    assert!(pts
        .iter()
        .zip(xs.iter().zip(&ys))
        .all(|(p, (&x, &y))| p.x.to_bits() == x.to_bits() && p.y.to_bits() == y.to_bits()));

    // A non-finite point in the third batch fails the whole call, as with the slices.
    let (mut xs, mut ys) = points(
        10,
        200_000,
        (200_000.0, 1_000_000.0),
        (6_100_000.0, 7_700_000.0),
    );
    ys[150_000] = f64::INFINITY;
    let mut pts: Vec<Coord<f64>> = xs.iter().zip(&ys).map(|(&x, &y)| Coord { x, y }).collect();
    assert_eq!(
        t.coords_in_place(&mut pts).unwrap_err(),
        t.coords(&mut xs, &mut ys).unwrap_err()
    );

    // The identity checks too.
    let same = Crs::parse("EPSG:3006", "test").unwrap();
    let id = Transform::new(&same, &same).unwrap();
    let mut pts = vec![
        Coord { x: 1.0, y: 2.0 },
        Coord {
            x: f64::NAN,
            y: 0.0,
        },
    ];
    let e = id.coords_in_place(&mut pts).unwrap_err();
    assert!(e.contains("coordinate 1 "), "{e}");
}
