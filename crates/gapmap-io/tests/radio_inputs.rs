//! Cell sites and elevation rasters: fields, units, every bad value naming the site, and a real
//! DEM (City of Helsinki, 1 m, EPSG:4326) warped into a projected CRS.
#![allow(
    clippy::result_large_err,
    reason = "IoError carries its context by value, as the library does"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::path::{Path, PathBuf};

use gapmap_core::geo::coord;
use gapmap_core::mobile::Tech;
use gapmap_core::radio::terrain::{analyse_path, ProfileScratch};
use gapmap_core::radio::{Environment, ModelChoice, PathLoss};
use gapmap_io::read::raster::read_dem;
use gapmap_io::read::sites::{read_sites, SiteFields, SiteOptions, Sites};
use gapmap_io::{Crs, IoError, ReadContext};

fn ctx(target: &str) -> ReadContext {
    ReadContext {
        target: Crs::parse(target, "test").unwrap(),
        assume_crs: None,
        strict: false,
        columnar: false,
    }
}

fn fields() -> SiteFields {
    SiteFields::default()
}

fn opts(path: &Path) -> SiteOptions {
    SiteOptions {
        path: path.to_path_buf(),
        layer: None,
        fields: fields(),
        model: ModelChoice::Auto,
        environment: Environment::Suburban,
        ue_height_m: 1.5,
        extrapolate: false,
        known_operators: vec!["Telia".into()],
        filter: None,
    }
}

fn csv(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const HEADER: &str =
    "site_id,operator,tech,lon,lat,height_m,frequency_mhz,eirp_dbm,azimuth_deg,tilt_deg";

/// A CSV of lon/lat (CSV carries no CRS: WGS 84 is assumed, as with `--assume-crs EPSG:4326`).
fn read(text: &str) -> Result<Sites, IoError> {
    let dir = tempfile::tempdir().unwrap();
    let p = csv(dir.path(), "sites.csv", text);
    read_sites(&opts(&p), &wgs84_ctx())
}

fn wgs84_ctx() -> ReadContext {
    let mut c = ctx("EPSG:3006");
    c.assume_crs = Some(Crs::parse("EPSG:4326", "t").unwrap());
    c
}

#[test]
fn sites_from_csv() {
    let s = read(&format!(
        "{HEADER}\nF1,Tre,4G,15.63,60.60,45,800,62,120,4\nF2,Telia,LTE,15.64,60.61,35,1800,61,,\nF3,Tre,NR,15.62,60.59,30,3500,72,240,\n"
    ))
    .unwrap();
    assert_eq!(s.ids, ["F1", "F2", "F3"]);
    // Known operators keep their ids; new ones follow.
    assert_eq!(s.operators, ["Telia", "Tre"]);
    assert_eq!(s.sites[0].operator, 1);
    assert_eq!(s.sites[1].operator, 0);
    assert_eq!(s.sites[1].tech, Tech::G4);
    assert_eq!(s.sites[2].tech, Tech::G5);
    // Omni when the azimuth is empty; default beamwidth 65°; bandwidth defaults by technology.
    assert_eq!(s.sites[1].sector.azimuth_deg, None);
    assert_eq!(s.sites[0].sector.azimuth_deg, Some(120.0));
    assert_eq!(s.sites[0].sector.tilt_deg, Some(4.0));
    assert_eq!(s.sites[0].sector.beamwidth_deg, 65.0);
    assert_eq!(s.sites[0].bandwidth_mhz, 10.0);
    assert_eq!(s.sites[2].bandwidth_mhz, 100.0);
    // Auto model by frequency.
    let names: Vec<_> = s.sites.iter().map(|x| x.model.name()).collect();
    assert_eq!(names, ["hata", "cost231", "uma"]);
    // Reprojected into SWEREF 99 TM (Falun is near x 540 km, y 6720 km).
    assert!(
        (s.sites[0].xy.x - 535_000.0).abs() < 10_000.0,
        "{:?}",
        s.sites[0].xy
    );
    assert!(
        (s.sites[0].xy.y - 6_718_000.0).abs() < 10_000.0,
        "{:?}",
        s.sites[0].xy
    );
    assert_eq!(s.info.features, 3);
}

#[test]
fn eirp_from_power_and_gain() {
    let dir = tempfile::tempdir().unwrap();
    // A CSV carries no CRS: an error unless one is assumed.
    let p = csv(
        dir.path(),
        "n.csv",
        &format!("{HEADER}\nA,Tre,4G,15.6,60.6,40,800,60,,\n"),
    );
    let e = read_sites(&opts(&p), &ctx("EPSG:3006")).unwrap_err();
    assert!(e.to_string().contains("--assume-crs"), "{e}");
    let p = csv(dir.path(), "s.csv", "site_id,operator,tech,x,y,height_m,frequency_mhz,power_dbm,antenna_gain_dbi\nA,Telia,4G,540000,6720000,40,800,46,17\n");
    let mut c = ctx("EPSG:3006");
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    let s = read_sites(&opts(&p), &c).unwrap();
    assert_eq!(s.sites[0].eirp_dbm, 63.0);
    assert_eq!(s.sites[0].xy, coord! {x: 540_000.0, y: 6_720_000.0});
}

/// The template's columns (eirp_dbm, power_dbm, antenna_gain_dbi): a site whose EIRP is
/// empty takes power + gain, as the template and the README say; the EIRP wins where both
/// are given; a site with neither is an error naming it and what it lacks.
#[test]
fn an_empty_eirp_falls_back_to_power_and_gain_per_site() {
    const H: &str =
        "site_id,operator,tech,lon,lat,height_m,frequency_mhz,eirp_dbm,power_dbm,antenna_gain_dbi";
    let s = read(&format!(
        "{H}\nA,Tre,4G,15.6,60.6,40,800,61,,\nB,Tre,4G,15.6,60.7,40,800,,43,17\nC,Tre,4G,15.6,60.8,40,800,58,43,17\n"
    ))
    .unwrap();
    let eirp: Vec<f64> = s.sites.iter().map(|x| x.eirp_dbm).collect();
    assert_eq!(eirp, [61.0, 60.0, 58.0]);
    let e = read(&format!(
        "{H}\nA,Tre,4G,15.6,60.6,40,800,61,,\nB,Tre,4G,15.6,60.7,40,800,,43,\n"
    ))
    .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("'B'") && m.contains("antenna_gain_dbi") && m.contains("is empty"),
        "{m}"
    );
    assert!(e.is_bad_input());
    // An EIRP column, empty, and no power or gain columns: the error says what would do.
    let e = read("site_id,operator,tech,lon,lat,height_m,frequency_mhz,eirp_dbm\nA,Tre,4G,15.6,60.6,40,800,\n")
        .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("'A'")
            && m.contains("eirp_dbm")
            && m.contains("expected the EIRP in dBm, or 'power_dbm' + 'antenna_gain_dbi'")
            && m.contains("no field 'power_dbm' or 'antenna_gain_dbi'"),
        "{m}"
    );
}

#[test]
fn bad_sites_are_errors_naming_the_site() {
    let cases = [
        (
            "A,Tre,4G,15.6,60.6,-5,800,60,,",
            "'A'",
            "height_m",
            "above 0",
        ),
        (
            "B,Tre,4G,15.6,60.6,40,50,60,,",
            "'B'",
            "frequency_mhz",
            "outside every model's range",
        ),
        (
            "C,,4G,15.6,60.6,40,800,60,,",
            "'C'",
            "operator",
            "operator is missing",
        ),
        (
            "D,Tre,3G,15.6,60.6,40,800,60,,",
            "'D'",
            "tech",
            "4G/LTE or 5G/NR",
        ),
        // 6 m: below every model's published range (a 20 m rooftop mast gets TR 38.901).
        (
            "E,Tre,4G,15.6,60.6,6,800,60,,",
            "'E'",
            "height_m",
            "--extrapolate",
        ),
        (
            "F6,Tre,4G,15.6,60.6,40,800,abc,,",
            "'F6'",
            "eirp_dbm",
            "not a number",
        ),
        (
            "G,Tre,4G,15.6,60.6,40,800,60,400,",
            "'G'",
            "azimuth_deg",
            "0-360",
        ),
        (
            "H,Tre,4G,15.6,60.6,40,,60,,",
            "'H'",
            "frequency_mhz",
            "is empty",
        ),
    ];
    for (row, site, field, words) in cases {
        let e = read(&format!("{HEADER}\n{row}\n")).unwrap_err();
        let m = e.to_string();
        assert!(e.is_bad_input(), "{m}");
        assert!(
            m.contains(site) && m.contains(field) && m.contains(words),
            "{row}: {m}"
        );
    }
    let e = read(&format!(
        "{HEADER}\nA,Tre,4G,15.6,60.6,40,800,60,,\nA,Tre,4G,15.7,60.6,40,800,60,,\n"
    ))
    .unwrap_err();
    assert!(e.to_string().contains("used twice"), "{e}");
    // A missing required field names the flag.
    let e = read(
        "site_id,operator,lon,lat,height_m,frequency_mhz,eirp_dbm\nA,Tre,15.6,60.6,40,800,60\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("--site-tech-field"), "{e}");
    // Several missing fields: all named in one error, each with its flag.
    let e = read("site_id,operator,lon,lat\nA,Tre,15.6,60.6\n").unwrap_err();
    let m = e.to_string();
    for needle in [
        "lacks 5 fields",
        "--site-tech-field",
        "--site-height-field",
        "--site-frequency-field",
        "--site-power-field",
        "--site-gain-field",
    ] {
        assert!(m.contains(needle), "{needle}: {m}");
    }
    assert!(e.is_bad_input());
    // Neither EIRP nor power + gain.
    let e = read("site_id,operator,tech,lon,lat,height_m,frequency_mhz,power_dbm\nA,Tre,4G,15.6,60.6,40,800,46\n").unwrap_err();
    assert!(e.to_string().contains("antenna_gain_dbi"), "{e}");
}

#[test]
fn extrapolation_is_allowed_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let p = csv(
        dir.path(),
        "s.csv",
        &format!("{HEADER}\nE,Tre,4G,15.6,60.6,6,800,60,,\nR,Tre,4G,15.6,60.7,20,800,60,,\n"),
    );
    let mut o = opts(&p);
    o.extrapolate = true;
    let s = read_sites(&o, &wgs84_ctx()).unwrap();
    assert_eq!(s.out_of_range.len(), 1, "{:?}", s.out_of_range);
    assert!(s.out_of_range[0].contains("'E'") && s.out_of_range[0].contains("uma"));
    // The 20 m rooftop mast is in range: TR 38.901 UMa covers it, where Hata starts at 30 m.
    assert_eq!(s.sites[1].model.name(), "uma");
    assert!(s.notices.iter().any(|n| n.contains("extrapolated")));
}

fn helsinki_dem() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elevation_model_2021_lapinlahti.tif")
}

/// The real 1 m DEM of Lapinlahti, Helsinki (EPSG:4326, 274 x 210 cells, 0-11 m), warped
/// into ETRS-TM35FIN, and profiles across it.
#[test]
fn real_dem_is_warped_and_profiled() {
    let path = helsinki_dem();
    let target = Crs::parse("EPSG:3067", "test").unwrap();
    let d = read_dem(&path, &target, None).unwrap();
    let dem = &d.dem;
    assert_eq!(d.info.crs, "EPSG:4326");
    assert!(d.info.repaired[0].contains("warped"));
    // About 230 m x 350 m at about 1 m cells.
    let (w, h) = (
        dem.cols as f64 * dem.cell_w_m,
        dem.rows as f64 * dem.cell_h_m,
    );
    assert!(
        (200.0..260.0).contains(&w) && (320.0..380.0).contains(&h),
        "{w} x {h}"
    );
    let zs: Vec<f32> = dem.z.iter().copied().filter(|z| z.is_finite()).collect();
    let max = zs.iter().copied().fold(f32::MIN, f32::max);
    let min = zs.iter().copied().fold(f32::MAX, f32::min);
    assert!(
        min > -0.5 && min < 1.0 && (10.0..11.5).contains(&max),
        "{min}..{max}"
    );
    // Corners of the warped grid outside the source are no data.
    let centre = coord! {x: dem.left + w / 2.0, y: dem.top - h / 2.0};
    let z = dem.elevation(centre).unwrap();
    assert!((0.0..11.5).contains(&z));
    // A mast 30 m above the centre sees a terminal 100 m away; with both antennas 0.1 m above
    // ground across the whole crop the terrain blocks some paths.
    let mut s = ProfileScratch::default();
    let rx = coord! {x: centre.x + 70.0, y: centre.y + 70.0};
    let t = analyse_path(dem, centre, 30.0, rx, 1.5, 800.0, &mut s).unwrap();
    assert!(t.los && t.diffraction_db == 0.0, "{t:?}");
    let mut blocked = 0;
    for k in 0..20 {
        let a = k as f64 / 20.0 * std::f64::consts::TAU;
        let rx = coord! {x: centre.x + 100.0 * a.cos(), y: centre.y + 100.0 * a.sin()};
        if let Some(t) = analyse_path(dem, centre, 0.1, rx, 0.1, 3500.0, &mut s) {
            if !t.los {
                blocked += 1;
                assert!(t.diffraction_db > 0.0);
            }
        }
    }
    assert!(
        blocked > 0,
        "ground-level paths over 1 m terrain should meet obstacles"
    );
}

#[test]
fn bad_rasters() {
    let dir = tempfile::tempdir().unwrap();
    let target = Crs::parse("EPSG:3006", "t").unwrap();
    let e = read_dem(&dir.path().join("none.tif"), &target, None).unwrap_err();
    assert!(matches!(e, IoError::NotFound { .. }));
    let p = csv(dir.path(), "x.tif", "not a raster");
    let e = read_dem(&p, &target, None).unwrap_err();
    assert!(e.to_string().contains("not a raster"), "{e}");
    assert!(e.is_bad_input());
}
