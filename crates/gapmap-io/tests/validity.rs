//! The fast validity screen in core against GEOS (through GDAL), on seeded random polygons:
//! whatever the screen proves valid, GEOS finds valid.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use gapmap_core::geo::{Geometry, MultiPolygon};
use gapmap_core::synthetic::fixtures::random_polygons;
use gapmap_core::validity::surely_valid;

#[test]
fn what_the_screen_proves_valid_geos_finds_valid() {
    let (mut proven, mut geos_valid, mut geos_invalid) = (0, 0, 0);
    for seed in 0..3000 {
        let polygons = random_polygons(seed);
        let wkb =
            gapmap_io::geom::to_wkb(&Geometry::MultiPolygon(MultiPolygon::new(polygons.clone())));
        let geos = gdal::vector::Geometry::from_wkb(&wkb)
            .expect("WKB made by gapmap")
            .is_valid();
        let screen = surely_valid(&polygons);
        assert!(
            !screen || geos,
            "seed {seed}: proven valid, but GEOS finds it invalid"
        );
        proven += usize::from(screen);
        if geos {
            geos_valid += 1;
        } else {
            geos_invalid += 1;
        }
    }
    eprintln!("{proven} proven; GEOS: {geos_valid} valid, {geos_invalid} invalid");
    // The screen proves most valid cases (it leaves rings that touch to GEOS), and the sample
    // has plenty of each kind.
    assert!(geos_invalid > 500 && geos_valid > 500);
    assert!(proven * 10 >= geos_valid * 8, "{proven} of {geos_valid}");
}
