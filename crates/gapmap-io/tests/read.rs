//! Reading inputs: every supported format, CRS handling, layer and field choice, and each kind
//! of bad input with the error it must give. Fixtures are written in the tests through GDAL.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use gapmap_core::geo::{coord, line_string, point, polygon, Coord, Geometry, MultiPolygon};
use gapmap_core::mobile::Tech;
use gapmap_io::read::*;
use gapmap_io::write::features::{FeatureTable, OutFeature};
use gapmap_io::write::gpkg::{write_vector, OutLayer, LINE_STRING, MULTI_POLYGON, POINT};
use gapmap_io::{write::tables, Crs, IoError, ReadContext};
use gdal::vector::LayerAccess;
use serde_json::{json, Map, Value};

fn ctx() -> ReadContext {
    ReadContext {
        target: Crs::parse("EPSG:3006", "test").unwrap(),
        assume_crs: None,
        strict: false,
        columnar: false,
    }
}

fn props(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn feat(g: Geometry<f64>, p: &[(&str, Value)]) -> OutFeature<'static> {
    OutFeature {
        properties: props(p),
        geometry: Cow::Owned(g),
    }
}

fn write(
    path: &Path,
    driver: &str,
    crs: Option<&str>,
    name: &str,
    ty: u32,
    features: &[OutFeature<'_>],
) {
    let crs = crs.map(|c| Crs::parse(c, "test").unwrap());
    write_vector(
        path,
        driver,
        crs.as_ref(),
        &[OutLayer {
            name,
            geometry_type: ty,
            table: &FeatureTable::from_json(features),
            qml: None,
        }],
    )
    .unwrap();
}

/// Four premises near Falun, in SWEREF 99 TM.
fn premise_points() -> Vec<Coord<f64>> {
    vec![
        coord! {x: 534_000.0, y: 6_721_000.0},
        coord! {x: 534_050.5, y: 6_721_020.25},
        coord! {x: 535_000.0, y: 6_722_000.0},
        coord! {x: 540_000.0, y: 6_700_000.0},
    ]
}

fn premise_features(points: &[Coord<f64>]) -> Vec<OutFeature<'static>> {
    points
        .iter()
        .enumerate()
        .map(|(i, c)| {
            feat(
                Geometry::Point((*c).into()),
                &[
                    ("id", json!(100 + i)),
                    ("households", json!(i + 1)),
                    ("workplaces", json!(i % 2)),
                ],
            )
        })
        .collect()
}

/// A file of `tests/fixtures`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The error of reading `p` as an analysis' `premises.parquet` (as `grid` and `prioritise`
/// read it).
fn read_as_analysis(p: &Path) -> IoError {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(p, dir.path().join("premises.parquet")).unwrap();
    gapmap_io::read::analysis::read_analysed_premises(dir.path()).unwrap_err()
}

fn popts(path: &Path) -> PremiseOptions {
    PremiseOptions {
        path: path.to_path_buf(),
        layer: None,
        id_field: FieldChoice::new(None, "id", "--premise-id-field"),
        households_field: FieldChoice::new(None, "households", "--households-field"),
        workplaces_field: FieldChoice::new(None, "workplaces", "--workplaces-field"),
        x_field: "x".into(),
        y_field: "y".into(),
        weighting: Weighting::None,
        filter: None,
    }
}

fn to_wgs84(points: &[Coord<f64>]) -> Vec<Coord<f64>> {
    let t = gapmap_io::crs::Transform::new(&Crs::parse("EPSG:3006", "t").unwrap(), &Crs::wgs84())
        .unwrap();
    let mut xs: Vec<f64> = points.iter().map(|c| c.x).collect();
    let mut ys: Vec<f64> = points.iter().map(|c| c.y).collect();
    t.coords(&mut xs, &mut ys).unwrap();
    xs.into_iter()
        .zip(ys)
        .map(|(x, y)| coord! {x: x, y: y})
        .collect()
}

fn assert_close(got: &[Coord<f64>], want: &[Coord<f64>], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.x - w.x).abs() < tol && (g.y - w.y).abs() < tol,
            "{g:?} != {w:?}"
        );
    }
}

#[test]
fn premises_in_every_format_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let pts = premise_points();
    let f3006 = premise_features(&pts);
    let f4326 = premise_features(&to_wgs84(&pts));
    let mut cases: Vec<(PathBuf, Option<&str>)> = Vec::new();
    for (name, driver, crs, feats) in [
        ("p.gpkg", "GPKG", "EPSG:3006", &f3006),
        ("p.shp", "ESRI Shapefile", "EPSG:3006", &f3006),
        ("p.fgb", "FlatGeobuf", "EPSG:3006", &f3006),
        ("p.geojson", "GeoJSON", "EPSG:4326", &f4326),
    ] {
        let p = dir.path().join(name);
        write(&p, driver, Some(crs), "premises", POINT, feats);
        cases.push((p, None));
    }
    // CSV with x/y (polars) and CSV with WKT (GDAL), both needing --assume-crs.
    let xy = dir.path().join("xy.csv");
    let mut s = String::from("id,x,y,households,workplaces\n");
    let wkt = dir.path().join("wkt.csv");
    let mut w = String::from("id,wkt,households,workplaces\n");
    for (i, c) in pts.iter().enumerate() {
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            100 + i,
            c.x,
            c.y,
            i + 1,
            i % 2
        ));
        w.push_str(&format!(
            "{},\"POINT ({} {})\",{},{}\n",
            100 + i,
            c.x,
            c.y,
            i + 1,
            i % 2
        ));
    }
    std::fs::write(&xy, s).unwrap();
    std::fs::write(&wkt, w).unwrap();
    cases.push((xy, Some("EPSG:3006")));
    cases.push((wkt, Some("EPSG:3006")));
    // Parquet with gapmap's CRS metadata.
    let pq = dir.path().join("p.parquet");
    let ids: Vec<i64> = (100..104).collect();
    let mut df = tables::premise_input_frame(&ids, &pts, &[1, 2, 3, 4], &[0, 1, 0, 1]).unwrap();
    tables::write_parquet(&mut df, &pq, Some("EPSG:3006")).unwrap();
    cases.push((pq, None));

    for (path, assume) in cases {
        let mut c = ctx();
        c.assume_crs = assume.map(|a| Crs::parse(a, "t").unwrap());
        let mut p =
            read_premises(&popts(&path), &c).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // FlatGeobuf stores features in spatial (Hilbert) order: compare in id order.
        let PremiseIds::Int(v) = &p.ids else {
            panic!("integer ids expected")
        };
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by_key(|&i| v[i]);
        p.ids = PremiseIds::Int(order.iter().map(|&i| v[i]).collect());
        p.xy = order.iter().map(|&i| p.xy[i]).collect();
        p.households = order.iter().map(|&i| p.households[i]).collect();
        p.workplaces = order.iter().map(|&i| p.workplaces[i]).collect();
        assert_close(&p.xy, &pts, 1e-3);
        assert_eq!(p.ids, PremiseIds::Int(ids.clone()), "{}", path.display());
        assert_eq!(p.households, vec![1, 2, 3, 4], "{}", path.display());
        assert_eq!(p.workplaces, vec![0, 1, 0, 1], "{}", path.display());
        assert_eq!(p.info.crs_assumed, assume.is_some());
        assert!(p.info.sha256.as_ref().is_some_and(|h| h.len() == 64));
    }
}

#[test]
fn geojson_without_crs_is_wgs84_and_central_meridian_maps_to_500000() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.geojson");
    // RFC 7946: no crs member. SWEREF 99 TM's central meridian is 15°E, false easting 500 km.
    std::fs::write(&p, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[15.0,60.0]}}]}"#).unwrap();
    let r = read_premises(&popts(&p), &ctx()).unwrap();
    assert_eq!(r.info.crs, "EPSG:4326");
    assert!((r.xy[0].x - 500_000.0).abs() < 1e-6, "{:?}", r.xy[0]);
    // On the central meridian, northing = k0 × meridian arc. GRS 80's meridian arc to 60°N is
    // 6,654,072.820 m (the e⁶ series, Snyder 1987 eq. 3-21); times k0 = 0.9996: 6,651,411.191 m.
    assert!((r.xy[0].y - 6_651_411.191).abs() < 0.01, "{:?}", r.xy[0]);
    // Defaults: 1 household, 0 workplaces, with notices.
    assert_eq!((r.households[0], r.workplaces[0]), (1, 0));
    assert!(r
        .notices
        .iter()
        .any(|n| n.contains("'households'") && n.contains("1 household")));
}

#[test]
fn missing_crs_is_an_error_unless_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.shp");
    write(
        &p,
        "ESRI Shapefile",
        None,
        "p",
        POINT,
        &premise_features(&premise_points()),
    );
    let e = read_premises(&popts(&p), &ctx()).unwrap_err();
    assert!(matches!(e, IoError::NoCrs { .. }), "{e}");
    assert!(e.to_string().contains("--assume-crs") && e.to_string().contains("p.shp"));
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    let r = read_premises(&popts(&p), &c).unwrap();
    assert!(r.info.crs_assumed);
    // A CSV with x/y and no CRS, too.
    let csv = dir.path().join("p.csv");
    std::fs::write(&csv, "x,y\n534000,6721000\n").unwrap();
    assert!(matches!(
        read_premises(&popts(&csv), &ctx()),
        Err(IoError::NoCrs { .. })
    ));
}

#[test]
fn layer_choice() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("two.gpkg");
    let crs = Crs::parse("EPSG:3006", "t").unwrap();
    let f = premise_features(&premise_points());
    write_vector(
        &p,
        "GPKG",
        Some(&crs),
        &[
            OutLayer {
                name: "houses",
                geometry_type: POINT,
                table: &FeatureTable::from_json(&f),
                qml: None,
            },
            OutLayer {
                name: "offices",
                geometry_type: POINT,
                table: &FeatureTable::from_json(&f[..2]),
                qml: None,
            },
        ],
    )
    .unwrap();
    let e = read_premises(&popts(&p), &ctx()).unwrap_err();
    assert!(matches!(e, IoError::AmbiguousLayer { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("--premises-layer") && msg.contains("houses") && msg.contains("offices"),
        "{msg}"
    );
    let mut o = popts(&p);
    o.layer = Some("nope".into());
    let msg = read_premises(&o, &ctx()).unwrap_err().to_string();
    assert!(
        msg.contains("no layer named 'nope'") && msg.contains("houses, offices"),
        "{msg}"
    );
    o.layer = Some("offices".into());
    assert_eq!(read_premises(&o, &ctx()).unwrap().xy.len(), 2);
}

#[test]
fn fields_default_and_explicit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.gpkg");
    let f: Vec<_> = premise_points()
        .iter()
        .map(|c| {
            feat(
                Geometry::Point((*c).into()),
                &[("hh", json!(3)), ("name", json!("x"))],
            )
        })
        .collect();
    write(&p, "GPKG", Some("EPSG:3006"), "p", POINT, &f);
    // Default absent: fallback.
    let r = read_premises(&popts(&p), &ctx()).unwrap();
    assert_eq!(r.households, vec![1; 4]);
    assert_eq!(r.info.fields["households"], None);
    // Explicit present.
    let mut o = popts(&p);
    o.households_field = FieldChoice::new(Some("hh"), "households", "--households-field");
    assert_eq!(read_premises(&o, &ctx()).unwrap().households, vec![3; 4]);
    // Explicit absent: an error listing the fields.
    o.households_field = FieldChoice::new(Some("hushall"), "households", "--households-field");
    let e = read_premises(&o, &ctx()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, IoError::MissingField { .. }));
    assert!(
        msg.contains("'hushall'") && msg.contains("hh, name") && msg.contains("--households-field"),
        "{msg}"
    );
}

#[test]
fn bad_field_values_name_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("p.geojson");
    std::fs::write(
        &p,
        r#"{"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"id":"a","households":2},"geometry":{"type":"Point","coordinates":[15,60]}},
        {"type":"Feature","properties":{"id":"b","households":null},"geometry":{"type":"Point","coordinates":[15,60.1]}},
        {"type":"Feature","properties":{"id":"c","households":-1},"geometry":{"type":"Point","coordinates":[15,60.2]}}]}"#,
    )
    .unwrap();
    let msg = read_premises(&popts(&p), &ctx()).unwrap_err().to_string();
    assert!(
        msg.contains("feature 'c'") && msg.contains("'households'") && msg.contains("-1"),
        "{msg}"
    );
}

#[test]
fn wrong_geometry_types_empty_layers_and_non_finite_coordinates() {
    let dir = tempfile::tempdir().unwrap();
    // Lines as premises.
    let lines = dir.path().join("lines.gpkg");
    write(
        &lines,
        "GPKG",
        Some("EPSG:3006"),
        "l",
        LINE_STRING,
        &[feat(
            Geometry::LineString(line_string![(x: 0., y: 0.), (x: 1., y: 1.)]),
            &[("id", json!(7))],
        )],
    );
    let e = read_premises(&popts(&lines), &ctx()).unwrap_err();
    assert!(matches!(e, IoError::GeometryType { .. }));
    assert!(
        e.to_string().contains("feature '7'") && e.to_string().contains("LineString"),
        "{e}"
    );
    // Points as settlements.
    let so = SettlementOptions {
        path: dir.path().join("pts.gpkg"),
        layer: None,
        id_field: FieldChoice::new(None, "id", "--settlement-id-field"),
        name_field: FieldChoice::new(None, "name", "--settlement-name-field"),
        population_field: None,
        filter: None,
    };
    write(
        &so.path,
        "GPKG",
        Some("EPSG:3006"),
        "s",
        POINT,
        &premise_features(&premise_points()),
    );
    let e = read_settlements(&so, &ctx()).unwrap_err();
    assert!(
        e.to_string().contains("expected Polygon or MultiPolygon"),
        "{e}"
    );
    // An empty premises layer.
    let empty = dir.path().join("empty.gpkg");
    write(&empty, "GPKG", Some("EPSG:3006"), "e", POINT, &[]);
    assert!(matches!(
        read_premises(&popts(&empty), &ctx()),
        Err(IoError::Empty { .. })
    ));
    let mut so2 = so.clone();
    so2.path = empty.clone();
    assert!(matches!(
        read_settlements(&so2, &ctx()),
        Err(IoError::Empty { .. })
    ));
    // NaN coordinates (GeoPackage stores an all-NaN point as POINT EMPTY, so use a building).
    let nan = dir.path().join("nan.gpkg");
    let building =
        polygon![(x: 534000., y: 6721000.), (x: f64::NAN, y: 6721000.), (x: 534010., y: 6721010.)];
    write(
        &nan,
        "GPKG",
        Some("EPSG:3006"),
        "n",
        MULTI_POLYGON,
        &[feat(
            Geometry::MultiPolygon(MultiPolygon::new(vec![building])),
            &[("id", json!(9))],
        )],
    );
    let e = read_premises(&popts(&nan), &ctx()).unwrap_err();
    assert!(
        matches!(e, IoError::BadCoordinates { .. })
            && e.to_string().contains("'9'")
            && e.to_string().contains("not finite"),
        "{e}"
    );
    // A NaN in a CSV table.
    let csv = dir.path().join("nan.csv");
    std::fs::write(&csv, "x,y\n534000,6721000\nNaN,6721000\n").unwrap();
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    let e = read_premises(&popts(&csv), &c).unwrap_err();
    assert!(
        e.to_string().contains("row 1") && e.to_string().contains("not a finite"),
        "{e}"
    );
}

#[test]
fn missing_and_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_premises(&popts(&dir.path().join("nope.gpkg")), &ctx()).unwrap_err();
    assert!(matches!(e, IoError::NotFound { .. }) && e.to_string().contains("nope.gpkg"));
    let junk = dir.path().join("junk.gpkg");
    std::fs::write(&junk, b"this is not a geopackage").unwrap();
    let e = read_premises(&popts(&junk), &ctx()).unwrap_err();
    assert!(
        matches!(e, IoError::Open { .. }) && e.to_string().contains("junk.gpkg"),
        "{e}"
    );
    assert!(e.is_bad_input());
}

fn bowtie() -> MultiPolygon<f64> {
    MultiPolygon::new(vec![
        polygon![(x: 0., y: 0.), (x: 100., y: 100.), (x: 100., y: 0.), (x: 0., y: 100.)],
    ])
}

#[test]
fn invalid_polygons_are_repaired_or_strict_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.gpkg");
    let ok = MultiPolygon::new(vec![
        polygon![(x: 200., y: 0.), (x: 300., y: 0.), (x: 300., y: 100.), (x: 200., y: 100.)],
    ]);
    write(
        &p,
        "GPKG",
        Some("EPSG:3006"),
        "s",
        MULTI_POLYGON,
        &[
            feat(
                Geometry::MultiPolygon(bowtie()),
                &[("id", json!("T1")), ("name", json!("Bow"))],
            ),
            feat(
                Geometry::MultiPolygon(ok),
                &[("id", json!("T2")), ("name", json!("Ok"))],
            ),
        ],
    );
    let so = SettlementOptions {
        path: p.clone(),
        layer: None,
        id_field: FieldChoice::new(None, "id", "--settlement-id-field"),
        name_field: FieldChoice::new(None, "name", "--settlement-name-field"),
        population_field: None,
        filter: None,
    };
    let s = read_settlements(&so, &ctx()).unwrap();
    assert_eq!(s.info.repaired, vec!["'T1'".to_string()]);
    assert!(s
        .notices
        .iter()
        .any(|n| n.contains("repaired 1 invalid polygon") && n.contains("T1")));
    assert_eq!(s.names, vec!["Bow", "Ok"]);
    // The repaired bow-tie is two valid triangles covering the same area.
    use gapmap_core::geo::{Area, Validation};
    assert!(s.areas[0].is_valid());
    assert!((s.areas[0].unsigned_area() - 5000.0).abs() < 1e-6);
    let mut strict = ctx();
    strict.strict = true;
    let e = read_settlements(&so, &strict).unwrap_err();
    assert!(
        matches!(e, IoError::InvalidPolygons { count: 1, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("'T1'") && e.to_string().contains("--strict"));
}

#[test]
fn buildings_count_at_a_point_on_their_surface() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.gpkg");
    // An L-shaped building whose centroid is outside it.
    let l = polygon![(x: 534000., y: 6721000.), (x: 534030., y: 6721000.), (x: 534030., y: 6721005.), (x: 534005., y: 6721005.), (x: 534005., y: 6721030.), (x: 534000., y: 6721030.)];
    write(
        &p,
        "GPKG",
        Some("EPSG:3006"),
        "b",
        MULTI_POLYGON,
        &[feat(
            Geometry::MultiPolygon(MultiPolygon::new(vec![l.clone()])),
            &[("id", json!(1))],
        )],
    );
    let r = read_premises(&popts(&p), &ctx()).unwrap();
    let area = gapmap_core::prepared::PreparedArea::from_polygon(&l);
    assert!(
        area.locate(r.xy[0]) == gapmap_core::prepared::Location::Inside,
        "{:?}",
        r.xy[0]
    );
}

#[test]
fn building_footprints_and_weight_fields_are_population_weights() {
    use gapmap_core::geo::{Area, MapCoords};
    let dir = tempfile::tempdir().unwrap();
    // An L-shaped building (275 m²) and a 10 m square (100 m²), in SWEREF 99 TM.
    let l = polygon![(x: 534000., y: 6721000.), (x: 534030., y: 6721000.), (x: 534030., y: 6721005.), (x: 534005., y: 6721005.), (x: 534005., y: 6721030.), (x: 534000., y: 6721030.)];
    let sq = polygon![(x: 534100., y: 6721100.), (x: 534110., y: 6721100.), (x: 534110., y: 6721110.), (x: 534100., y: 6721110.)];
    let features = [
        feat(
            Geometry::MultiPolygon(MultiPolygon::new(vec![l.clone()])),
            &[("id", json!(1)), ("floors", json!(3))],
        ),
        feat(
            Geometry::MultiPolygon(MultiPolygon::new(vec![sq.clone()])),
            &[("id", json!(2)), ("floors", json!(0.5))],
        ),
    ];
    let p = dir.path().join("b.gpkg");
    write(&p, "GPKG", Some("EPSG:3006"), "b", MULTI_POLYGON, &features);
    let opts = |path: &Path, w: Weighting| PremiseOptions {
        weighting: w,
        ..popts(path)
    };
    let r = read_premises(&opts(&p, Weighting::Footprint), &ctx()).unwrap();
    assert_eq!(r.weighted_by, "footprint_m2");
    let w = r.weights.unwrap();
    assert!(
        (w[0] - 275.0).abs() < 1e-9 && (w[1] - 100.0).abs() < 1e-9,
        "{w:?}"
    );
    // Without a population, no weights are read.
    assert!(read_premises(&popts(&p), &ctx()).unwrap().weights.is_none());
    // A field's values.
    let floors = Weighting::Field(FieldChoice::new(
        Some("floors"),
        "floors",
        "--population-weight-field",
    ));
    let r = read_premises(&opts(&p, floors.clone()), &ctx()).unwrap();
    assert_eq!(
        (r.weights.unwrap(), r.weighted_by.as_str()),
        (vec![3.0, 0.5], "field floors")
    );

    // Footprints in square metres of the working CRS, from lon/lat buildings too.
    let to_lonlat = |poly: &gapmap_core::geo::Polygon<f64>| {
        let t = gapmap_io::crs::Transform::new(
            &Crs::parse("EPSG:3006", "test").unwrap(),
            &Crs::parse("EPSG:4326", "test").unwrap(),
        )
        .unwrap();
        poly.map_coords(|c| t.points(&[c]).unwrap()[0])
    };
    let g = dir.path().join("b.geojson");
    write(
        &g,
        "GeoJSON",
        None,
        "b",
        MULTI_POLYGON,
        &[
            feat(
                Geometry::MultiPolygon(MultiPolygon::new(vec![to_lonlat(&l)])),
                &[("id", json!(1))],
            ),
            feat(
                Geometry::MultiPolygon(MultiPolygon::new(vec![to_lonlat(&sq)])),
                &[("id", json!(2))],
            ),
        ],
    );
    let w = read_premises(&opts(&g, Weighting::Footprint), &ctx())
        .unwrap()
        .weights
        .unwrap();
    assert!((w[0] - l.unsigned_area()).abs() < 0.01, "{w:?}");
    assert!((w[1] - 100.0).abs() < 0.01, "{w:?}");

    // Points and buildings mixed: equal shares, and the user is told.
    let m = dir.path().join("m.gpkg");
    write(
        &m,
        "GPKG",
        Some("EPSG:3006"),
        "m",
        0,
        &[
            feat(Geometry::Polygon(sq.clone()), &[("id", json!(1))]),
            feat(
                Geometry::Point(point!(x: 534200., y: 6721200.)),
                &[("id", json!(2))],
            ),
        ],
    );
    let r = read_premises(&opts(&m, Weighting::Footprint), &ctx()).unwrap();
    assert!(r.weights.is_none());
    assert_eq!(r.weighted_by, "equal");
    assert!(
        r.notices
            .iter()
            .any(|n| n.contains("1 of 2 premises are points")),
        "{:?}",
        r.notices
    );

    // A weight that is no weight names the feature and the field.
    let bad = dir.path().join("bad.gpkg");
    write(
        &bad,
        "GPKG",
        Some("EPSG:3006"),
        "bad",
        MULTI_POLYGON,
        &[feat(
            Geometry::MultiPolygon(MultiPolygon::new(vec![sq.clone()])),
            &[("id", json!(7)), ("floors", json!(-2))],
        )],
    );
    let e = read_premises(&opts(&bad, floors), &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'7'") && e.contains("floors") && e.contains("-2"),
        "{e}"
    );
}

#[test]
fn geoparquet_wkb_points() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("g.parquet");
    let wkb = |x: f64, y: f64| {
        let mut v = vec![1u8];
        v.extend(1u32.to_le_bytes());
        v.extend(x.to_le_bytes());
        v.extend(y.to_le_bytes());
        v
    };
    let geoms: Vec<Vec<u8>> = vec![wkb(15.0, 60.0), wkb(15.5, 60.5)];
    let mut df = DataFrame::new(
        2,
        vec![
            Column::new("id".into(), &["a", "b"]),
            Column::new(
                "geometry".into(),
                geoms.iter().map(|v| v.as_slice()).collect::<Vec<&[u8]>>(),
            ),
        ],
    )
    .unwrap();
    let geo = r#"{"version":"1.1.0","primary_column":"geometry","columns":{"geometry":{"encoding":"WKB","geometry_types":["Point"]}}}"#;
    let write_geoparquet = |path: &Path, df: &mut DataFrame| {
        ParquetWriter::new(std::fs::File::create(path).unwrap())
            .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![(
                "geo".into(),
                geo.into(),
            )])))
            .finish(df)
            .unwrap();
    };
    write_geoparquet(&p, &mut df);
    let r = read_premises(&popts(&p), &ctx()).unwrap();
    assert_eq!(r.ids, PremiseIds::Str(vec!["a".into(), "b".into()]));
    assert!((r.xy[0].x - 500_000.0).abs() < 1e-6);
    assert_eq!(r.info.crs, "OGC:CRS84");

    // A row without geometry is skipped, named, and every column stays aligned.
    let q = dir.path().join("gaps.parquet");
    let mut df = DataFrame::new(
        3,
        vec![
            Column::new("id".into(), &[10i64, 11, 12]),
            Column::new(
                "geometry".into(),
                vec![Some(geoms[0].as_slice()), None, Some(geoms[1].as_slice())],
            ),
            Column::new("households".into(), &[1i64, 2, 3]),
            Column::new("workplaces".into(), &[4i64, 5, 6]),
        ],
    )
    .unwrap();
    write_geoparquet(&q, &mut df);
    let r = read_premises(&popts(&q), &ctx()).unwrap();
    assert_eq!(r.ids, PremiseIds::Int(vec![10, 12]));
    assert_eq!((r.households, r.workplaces), (vec![1, 3], vec![4, 6]));
    assert_eq!(r.xy.len(), 2);
    assert!((r.xy[0].x - 500_000.0).abs() < 1e-6 && r.xy[1].x > 500_000.0);
    assert_eq!(r.info.features, 2);
    assert_eq!(r.info.skipped.len(), 1);
    assert_eq!(r.info.skipped[0].feature, "row 1");
}

#[test]
fn fibre_lines_and_nodes_with_networks() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.gpkg");
    let crs = Crs::parse("EPSG:3006", "t").unwrap();
    let lines = vec![
        feat(
            Geometry::LineString(line_string![(x: 0., y: 0.), (x: 100., y: 0.)]),
            &[("owner", json!("A")), ("trench", json!(7))],
        ),
        feat(
            Geometry::LineString(line_string![(x: 0., y: 10.), (x: 100., y: 10.)]),
            &[("owner", Value::Null), ("trench", Value::Null)],
        ),
    ];
    let nodes = vec![feat(
        Geometry::Point(point!(x: 50., y: 50.)),
        &[("owner", json!("B")), ("trench", json!(7))],
    )];
    write_vector(
        &p,
        "GPKG",
        Some(&crs),
        &[
            OutLayer {
                name: "lines",
                geometry_type: LINE_STRING,
                table: &FeatureTable::from_json(&lines),
                qml: None,
            },
            OutLayer {
                name: "nodes",
                geometry_type: POINT,
                table: &FeatureTable::from_json(&nodes),
                qml: None,
            },
        ],
    )
    .unwrap();
    let mut o = FibreOptions::fibre(
        vec![p.clone()],
        vec!["lines".into(), "nodes".into()],
        FieldChoice::new(Some("owner"), "network", "--fibre-network-field"),
        None,
    );
    let f = read_fibre(&o, &ctx()).unwrap();
    assert_eq!(f.features.len(), 3);
    assert!(f.features.iter().all(|x| x.srlg.is_none()));
    // Both layers carry the file's hash (read once for the two).
    let file_hash = sha256_file(&p);
    assert!(file_hash.as_ref().is_some_and(|h| h.len() == 64));
    assert_eq!(f.infos.len(), 2);
    assert!(
        f.infos.iter().all(|i| i.sha256 == file_hash),
        "{:?}",
        f.infos
    );
    // A shared-risk field: equal values share an id, a null value has none; absent: error.
    o.srlg_field = Some(FieldChoice::new(
        Some("trench"),
        "trench",
        "--fibre-srlg-field",
    ));
    let f = read_fibre(&o, &ctx()).unwrap();
    assert_eq!(f.srlgs, vec!["7"]);
    assert_eq!(
        f.features.iter().map(|x| x.srlg).collect::<Vec<_>>(),
        vec![Some(0), None, Some(0)]
    );
    o.srlg_field = Some(FieldChoice::new(Some("duct"), "duct", "--fibre-srlg-field"));
    assert!(matches!(
        read_fibre(&o, &ctx()),
        Err(IoError::MissingField { .. })
    ));
    o.srlg_field = None;
    assert_eq!(f.networks, vec!["A", UNKNOWN_NETWORK, "B"]);
    assert_eq!(f.features[2].points.0.len(), 1);
    assert!(f
        .notices
        .iter()
        .any(|n| n.contains("1 fibre features have no 'owner' value")));
    // The default field absent: one unknown network, with a notice; explicit absent: error.
    o.network_field = FieldChoice::new(None, "network", "--fibre-network-field");
    let f = read_fibre(&o, &ctx()).unwrap();
    assert_eq!(f.networks, vec![UNKNOWN_NETWORK]);
    o.network_field = FieldChoice::new(Some("net"), "network", "--fibre-network-field");
    assert!(matches!(
        read_fibre(&o, &ctx()),
        Err(IoError::MissingField { .. })
    ));
    // Polygons are not fibre.
    let poly = dir.path().join("poly.gpkg");
    write(
        &poly,
        "GPKG",
        Some("EPSG:3006"),
        "p",
        MULTI_POLYGON,
        &[feat(Geometry::MultiPolygon(bowtie()), &[])],
    );
    let o = FibreOptions::fibre(
        vec![poly],
        vec![],
        FieldChoice::new(None, "network", "--fibre-network-field"),
        None,
    );
    assert!(matches!(
        read_fibre(&o, &ctx()),
        Err(IoError::GeometryType { .. })
    ));
}

#[test]
fn fixed_speeds_and_planned_years_are_read_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.geojson");
    let layer = |props: &[&str]| {
        let feats: Vec<String> = props
            .iter()
            .enumerate()
            .map(|(i, pr)| {
                format!(
                    r#"{{"type":"Feature","properties":{{{pr}}},"geometry":{{"type":"LineString","coordinates":[[{x},0],[{x},10]]}}}}"#,
                    x = 1000 + i * 10
                )
            })
            .collect();
        format!(
            r#"{{"type":"FeatureCollection","crs":{{"type":"name","properties":{{"name":"urn:ogc:def:crs:EPSG::3006"}}}},"features":[{}]}}"#,
            feats.join(",")
        )
    };
    std::fs::write(
        &p,
        layer(&[
            r#""network":"Copper AB","speed_mbps":60,"year":2027"#,
            r#""network":"Cable AB","speed_mbps":"1000","year":2031"#,
        ]),
    )
    .unwrap();
    let base = FibreOptions::fibre(
        vec![p.clone()],
        vec![],
        FieldChoice::new(None, "network", "--other-network-field"),
        None,
    );
    let fixed = FibreOptions {
        speed_field: Some(FieldChoice::new(
            Some("speed_mbps"),
            "speed_mbps",
            "--fixed-speed-field",
        )),
        role: "fixed",
        layer_flag: "--fixed-layer",
        filter: None,
        ..base.clone()
    };
    let f = read_fibre(&fixed, &ctx()).unwrap();
    assert_eq!(f.speeds_mbps, vec![60.0, 1000.0]);
    assert_eq!(f.networks, vec!["Copper AB", "Cable AB"]);
    assert_eq!(f.infos[0].role, "fixed");
    let planned = FibreOptions {
        year_field: Some(FieldChoice::new(
            Some("year"),
            "year",
            "--planned-year-field",
        )),
        role: "planned",
        layer_flag: "--planned-layer",
        filter: None,
        ..base.clone()
    };
    assert_eq!(
        read_fibre(&planned, &ctx()).unwrap().years,
        vec![2027, 2031]
    );
    // A missing or bad value names the feature and the field.
    std::fs::write(
        &p,
        layer(&[
            r#""network":"A","speed_mbps":60,"year":2027"#,
            r#""network":"B","speed_mbps":"fast","year":2027.5"#,
        ]),
    )
    .unwrap();
    let e = read_fibre(&fixed, &ctx()).unwrap_err().to_string();
    assert!(
        e.contains("speed_mbps") && e.contains("'fast' is not a number"),
        "{e}"
    );
    let e = read_fibre(&planned, &ctx()).unwrap_err().to_string();
    assert!(
        e.contains("year") && e.contains("2027.5 is not a year"),
        "{e}"
    );
    std::fs::write(&p, layer(&[r#""network":"A""#])).unwrap();
    assert!(matches!(
        read_fibre(&fixed, &ctx()),
        Err(IoError::MissingField { .. })
    ));
}

#[test]
fn backbone_points_with_names_and_bad_backbones() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.geojson");
    write(
        &p,
        "GeoJSON",
        None,
        "backbone",
        POINT,
        &[
            feat(
                Geometry::Point(point!(x: 15.0, y: 60.0)),
                &[("name", json!("Falun"))],
            ),
            feat(
                Geometry::Point(point!(x: 15.5, y: 60.5)),
                &[("name", Value::Null)],
            ),
        ],
    );
    let opts = |path: &Path, field: Option<&str>| BackboneOptions {
        path: path.to_path_buf(),
        layer: None,
        name_field: FieldChoice::new(field, "name", "--backbone-name-field"),
    };
    let b = read_backbone(&opts(&p, None), &ctx()).unwrap();
    assert_eq!(b.points.len(), 2);
    assert_eq!(b.points[0].0, "Falun");
    // GeoJSON is WGS 84; the point is reprojected to SWEREF 99 TM (15°E is its central meridian).
    assert!(
        (b.points[0].1.x - 500_000.0).abs() < 1e-3,
        "{:?}",
        b.points[0].1
    );
    assert!(b.info.as_ref().unwrap().sha256.is_some());
    assert!(matches!(
        read_backbone(&opts(&p, Some("pop")), &ctx()),
        Err(IoError::MissingField { .. })
    ));
    // Lines are no backbone points.
    let l = dir.path().join("l.geojson");
    write(
        &l,
        "GeoJSON",
        None,
        "l",
        LINE_STRING,
        &[feat(
            Geometry::LineString(line_string![(x: 15., y: 60.), (x: 16., y: 60.)]),
            &[],
        )],
    );
    assert!(matches!(
        read_backbone(&opts(&l, None), &ctx()),
        Err(IoError::GeometryType { .. })
    ));
}

#[test]
fn mobile_technologies_and_operators() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.geojson");
    let sq = |x: f64| {
        Geometry::MultiPolygon(MultiPolygon::new(vec![
            polygon![(x: x, y: 60.), (x: x + 0.1, y: 60.), (x: x + 0.1, y: 60.1), (x: x, y: 60.1)],
        ]))
    };
    let f = vec![
        feat(
            sq(15.0),
            &[("operator", json!("Tel")), ("tech", json!("LTE"))],
        ),
        feat(
            sq(15.2),
            &[("operator", json!("Tre")), ("tech", json!("nr"))],
        ),
        feat(
            sq(15.4),
            &[("operator", json!("Tel")), ("tech", json!("3G"))],
        ),
    ];
    write(&p, "GeoJSON", Some("EPSG:4326"), "m", MULTI_POLYGON, &f);
    let mut o = MobileOptions {
        paths: vec![p.clone()],
        layers: vec![],
        operator_field: FieldChoice::new(None, "operator", "--mobile-operator-field"),
        tech_field: FieldChoice::new(None, "tech", "--mobile-tech-field"),
        filter: None,
    };
    let m = read_mobile(&o, &ctx()).unwrap();
    assert_eq!(m.operators, vec!["Tel", "Tre"]);
    assert_eq!(
        m.features.iter().map(|f| f.tech).collect::<Vec<_>>(),
        vec![Tech::G4, Tech::G5, Tech::Other]
    );
    let other = m.tech_values.iter().find(|t| t.value == "3G").unwrap();
    assert_eq!((other.counts_as.as_str(), other.features), ("other", 1));
    assert!(m.notices.iter().any(|n| n.contains("'3G'")));
    o.tech_field = FieldChoice::new(Some("generation"), "tech", "--mobile-tech-field");
    let e = read_mobile(&o, &ctx()).unwrap_err();
    assert!(
        e.to_string().contains("'generation'") && e.to_string().contains("operator, tech"),
        "{e}"
    );
    // A missing operator value names the feature.
    let q = dir.path().join("q.geojson");
    write(
        &q,
        "GeoJSON",
        Some("EPSG:4326"),
        "q",
        MULTI_POLYGON,
        &[feat(
            sq(15.0),
            &[("operator", Value::Null), ("tech", json!("4G"))],
        )],
    );
    o.paths = vec![q];
    o.tech_field = FieldChoice::new(None, "tech", "--mobile-tech-field");
    let e = read_mobile(&o, &ctx()).unwrap_err();
    assert!(
        e.to_string().contains("missing operator") && e.to_string().contains("fid"),
        "{e}"
    );
}

#[test]
fn duplicate_premise_ids_are_an_error_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    let csv = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // Unique, in any order: fine (whole numbers and text alike).
    let ok = csv(
        "ok.csv",
        "id,x,y\n3,534000,6721000\n1,534010,6721000\n2,534020,6721000\n",
    );
    assert_eq!(read_premises(&popts(&ok), &c).unwrap().ids.len(), 3);
    let ok = csv("ok_s.csv", "id,x,y\nb,534000,6721000\na,534010,6721000\n");
    assert_eq!(read_premises(&popts(&ok), &c).unwrap().ids.len(), 2);
    // Repeated: an error that names the first few and the field.
    let bad = csv(
        "dup.csv",
        "id,x,y\n7,534000,6721000\n5,534010,6721000\n7,534020,6721000\n5,534030,6721000\n9,534040,6721000\n",
    );
    let e = read_premises(&popts(&bad), &c).unwrap_err();
    assert!(e.is_bad_input());
    let m = e.to_string();
    assert!(
        m.contains("dup.csv") && m.contains("'5', '7'") && m.contains("field 'id'"),
        "{m}"
    );
    let bad = csv(
        "dup_s.csv",
        "id,x,y\nhus,534000,6721000\nhus,534010,6721000\n",
    );
    let m = read_premises(&popts(&bad), &c).unwrap_err().to_string();
    assert!(
        m.contains("'hus'") && m.contains("--premise-id-field"),
        "{m}"
    );
}

#[test]
fn an_empty_mobile_layer_is_said_to_be_empty_not_to_lack_fields() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.geojson");
    std::fs::write(&p, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let o = MobileOptions {
        paths: vec![p],
        layers: vec![],
        operator_field: FieldChoice::new(None, "operator", "--mobile-operator-field"),
        tech_field: FieldChoice::new(None, "tech", "--mobile-tech-field"),
        filter: None,
    };
    let m = read_mobile(&o, &ctx()).unwrap();
    assert!(m.features.is_empty() && m.extent.is_none());
    assert!(
        m.notices.iter().any(|n| n.contains("has no features")),
        "{:?}",
        m.notices
    );
    assert_eq!(m.infos.len(), 1);
    assert_eq!(m.infos[0].features, 0);
}

#[test]
fn coordinates_that_cannot_be_in_their_crs_say_why() {
    let dir = tempfile::tempdir().unwrap();
    // Metres given as longitude/latitude: by a table (polars) and by a layer (GDAL).
    let csv = dir.path().join("m.csv");
    std::fs::write(&csv, "id,x,y\n1,534000,6721000\n").unwrap();
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:4326", "t").unwrap());
    let gj = dir.path().join("m.geojson");
    std::fs::write(
        &gj,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":1},"geometry":{"type":"Point","coordinates":[534000,6721000]}}]}"#,
    )
    .unwrap();
    for (p, c) in [(&csv, &c), (&gj, &ctx())] {
        let e = read_premises(&popts(p), c).unwrap_err();
        let m = e.to_string();
        assert!(e.is_bad_input(), "{m}");
        assert!(
            m.contains("x 534000, y 6721000")
                && m.contains("look like metres")
                && !m.contains("error: '6'"),
            "{m}"
        );
    }
}

#[test]
fn a_corrupt_parquet_footer_is_an_error_not_a_crash() {
    // Found by `scripts/fuzz` (premises_parquet): polars-parquet 0.55 panics on this footer.
    let p = fixture("corrupt_footer.parquet");
    let e = read_premises(&popts(&p), &ctx()).unwrap_err();
    assert!(e.is_bad_input());
    assert!(e.to_string().contains("corrupt_footer.parquet"), "{e}");
    // The same file as an analysis' premises.parquet (grid, prioritise).
    let e = read_as_analysis(&p);
    assert!(e.to_string().contains("premises.parquet"), "{e}");
}

#[test]
fn a_corrupt_parquet_page_is_an_error_not_an_abort() {
    // Found by `scripts/fuzz` (premises_parquet, RELIABILITY.md finding 3): a page header
    // claiming 2^64 - 5 values, which polars-parquet 0.55 allocates, aborting the process
    // (this test binary with it) unless the headers are checked first.
    let p = fixture("corrupt_page.parquet");
    let e = read_premises(&popts(&p), &ctx()).unwrap_err();
    assert!(e.is_bad_input());
    let m = e.to_string();
    assert!(m.contains("corrupt_page.parquet"), "{m}");
    assert!(m.contains("claims 18446744073709551611 values"), "{m}");
    let e = read_as_analysis(&p);
    assert!(e.to_string().contains("claims"), "{e}");
}

#[test]
fn a_footer_that_claims_a_huge_list_is_an_error() {
    // Found by `scripts/fuzz` (premises_parquet, RELIABILITY.md findings 4 and 8): footers
    // whose thrift lists claim so many row-group sorting columns, or schema elements, that
    // polars-parquet would reserve 17 GB or 100 GB for them. gapmap checks the footer first
    // (`read::parquet_footer`): an error naming the file, before polars reserves anything (the
    // CLI test `a_corrupt_parquet_footer_is_exit_2_under_a_memory_limit` shows it with a limit).
    // A third (finding 10) hides its list behind a list of booleans, which polars-parquet
    // skips in no bytes: the check must walk the footer as polars skips it.
    for name in [
        "corrupt_footer_list.parquet",
        "corrupt_footer_schema.parquet",
        "corrupt_footer_bool_list.parquet",
        // Finding 11: a row group claiming 117,964,732,029 rows in a file of 3 (1 KB); polars
        // took the height from it, and gapmap allocated a flag per row (118 GB).
        "corrupt_row_group_rows.parquet",
    ] {
        let p = fixture(name);
        let e = read_premises(&popts(&p), &ctx()).unwrap_err();
        assert!(e.is_bad_input());
        assert!(
            e.to_string().contains(name) && e.to_string().contains("corrupt"),
            "{e}"
        );
    }
}

#[test]
fn a_field_name_that_is_not_utf8_is_read_not_a_panic() {
    // Found by `scripts/fuzz` (premises_fgb, RELIABILITY.md finding 5): a FlatGeobuf whose
    // field name is not UTF-8 made polars-arrow's import of GDAL's Arrow schema panic. Such
    // a layer is read feature by feature, as before the Arrow stream.
    let p = fixture("non_utf8_field.fgb");
    let a = read_premises(&popts(&p), &columnar()).map(|p| (p.xy, p.info.columnar));
    let b = read_premises(&popts(&p), &per_feature()).map(|p| (p.xy, p.info.columnar));
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

#[test]
fn a_corrupt_flatgeobuf_is_an_error_not_a_crash() {
    // Found by `scripts/fuzz` (premises_fgb, RELIABILITY.md finding 6): GDAL 3.6's FlatGeobuf
    // Arrow stream gave, for this corrupt file, a WKB array whose offsets point past its
    // buffer (a segfault reading it). FlatGeobuf is read feature by feature, where GDAL's
    // reader reports what it could not read.
    let p = fixture("corrupt_offsets.fgb");
    let a = read_premises(&popts(&p), &columnar()).map(|p| (p.xy, p.info.columnar));
    let b = read_premises(&popts(&p), &per_feature()).map(|p| (p.xy, p.info.columnar));
    assert!(a.is_err(), "{a:?}");
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

#[test]
fn a_csv_that_names_a_column_twice_is_an_error_not_a_crash() {
    // Found by `scripts/fuzz` (premises_csv): GDAL 3.6's CSV driver dereferences a null
    // pointer when two columns each match its x or y names (here behind a header that is not
    // UTF-8, so the table path does not take it first).
    let p = fixture("duplicate_xy_columns.csv");
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    let e = read_premises(&popts(&p), &c).unwrap_err();
    assert!(e.is_bad_input());
    assert!(e.to_string().contains("names the column 'x' twice"), "{e}");
}

#[test]
fn a_table_value_that_is_not_a_number_names_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = ctx();
    c.assume_crs = Some(Crs::parse("EPSG:3006", "t").unwrap());
    for (name, text, needle) in [
        (
            "h.csv",
            "id,x,y,households\n1,534000,6721000,2\n2,534010,6721000,abc\n",
            "column 'households' has values that are not numbers, e.g. row 1: 'abc'",
        ),
        (
            "x.csv",
            "id,x,y\n1,534000,6721000\n2,534010,6721000\n3,east,6721000\n",
            "column 'x' has values that are not numbers, e.g. row 2: 'east'",
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let e = read_premises(&popts(&p), &c).unwrap_err();
        assert!(e.is_bad_input() && e.to_string().contains(needle), "{e}");
    }
}

#[test]
fn a_nan_coordinate_in_geojson_is_an_error_and_a_null_geometry_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let gj = |name: &str, geometry: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":1}},"geometry":{{"type":"Point","coordinates":[15.6,60.6]}}}},{{"type":"Feature","properties":{{"id":2}},"geometry":{geometry}}}]}}"#
            ),
        )
        .unwrap();
        p
    };
    // GDAL reads [NaN, 60.5] as an empty point and says nothing: gapmap names the feature.
    let nan = gj(
        "nan.geojson",
        r#"{"type":"Point","coordinates":[NaN,60.5]}"#,
    );
    let e = read_premises(&popts(&nan), &ctx()).unwrap_err();
    let m = e.to_string();
    assert!(
        e.is_bad_input() && m.contains("feature '2'") && m.contains("NaN"),
        "{m}"
    );
    // A feature without a place is skipped and listed.
    let null = gj("null.geojson", "null");
    let r = read_premises(&popts(&null), &ctx()).unwrap();
    assert_eq!(r.xy.len(), 1);
    assert_eq!(r.info.skipped.len(), 1);
}

/// CRC-32 (IEEE), for the archives written below.
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A zip archive of `files` (name, bytes), stored without compression.
fn zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let offset = out.len() as u32;
        let (crc, n) = (crc32(data), data.len() as u32);
        let header = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes()); // made by
            }
            h.extend(20u16.to_le_bytes()); // version needed
            h.extend([0u8; 4]); // flags, method: stored
            h.extend([0u8; 4]); // time, date
            h.extend(crc.to_le_bytes());
            h.extend(n.to_le_bytes());
            h.extend(n.to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra
            if central {
                h.extend([0u8; 6]); // comment length, disk, internal attributes
                h.extend(0u32.to_le_bytes()); // external attributes
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(data);
        central.extend(header(0x0201_4b50, true));
    }
    let (at, len) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend(len.to_le_bytes());
    out.extend(at.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A tar archive (ustar) of `files`.
fn tar(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, width: usize, v: usize| {
            let s = format!("{v:0w$o}", w = width - 1);
            h[at..at + width - 1].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, 0o644);
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, data.len());
        octal(&mut h, 136, 12, 0);
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: usize = h.iter().map(|&b| b as usize).sum();
        let c = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(c.as_bytes());
        out.extend(h);
        out.extend(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// A gzip member of `data` in one stored deflate block.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let n = data.len() as u16;
    out.push(1); // final block, stored
    out.extend(n.to_le_bytes());
    out.extend((!n).to_le_bytes());
    out.extend(data);
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

#[test]
fn archives_directories_and_data_source_names_open_like_files() {
    let dir = tempfile::tempdir().unwrap();
    let pts = premise_points();
    let plain = dir.path().join("p.geojson");
    write(
        &plain,
        "GeoJSON",
        None,
        "premises",
        POINT,
        &premise_features(&to_wgs84(&pts)),
    );
    let want = read_premises(&popts(&plain), &ctx()).unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    let same = |p: &Path| {
        let got =
            read_premises(&popts(p), &ctx()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(got.ids, want.ids, "{}", p.display());
        assert_close(&got.xy, &want.xy, 1e-6);
        assert_eq!(got.households, want.households);
    };
    // A .zip holding one GeoJSON, in a folder; the same through /vsizip/; a .geojson.gz.
    let z = dir.path().join("malmo.zip");
    std::fs::write(
        &z,
        zip(&[
            ("data/", Vec::new()),
            ("data/premises.geojson", bytes.clone()),
        ]),
    )
    .unwrap();
    same(&z);
    same(Path::new(&format!(
        "/vsizip/{}/data/premises.geojson",
        z.display()
    )));
    let gz = dir.path().join("p.geojson.gz");
    std::fs::write(&gz, gzip(&bytes)).unwrap();
    same(&gz);
    let t = dir.path().join("p.tar");
    std::fs::write(
        &t,
        tar(&[("notes.txt", b"x".to_vec()), ("p.geojson", bytes.clone())]),
    )
    .unwrap();
    same(&t);
    let tgz = dir.path().join("p.tar.gz");
    std::fs::write(&tgz, gzip(&std::fs::read(&t).unwrap())).unwrap();
    same(&tgz);

    // A shapefile: its files zipped, and its directory.
    let shp_dir = dir.path().join("shp");
    std::fs::create_dir(&shp_dir).unwrap();
    write(
        &shp_dir.join("premises.shp"),
        "ESRI Shapefile",
        Some("EPSG:4326"),
        "premises",
        POINT,
        &premise_features(&to_wgs84(&pts)),
    );
    let parts: Vec<(String, Vec<u8>)> = std::fs::read_dir(&shp_dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    assert!(parts.len() >= 3, "{parts:?}");
    let zs = dir.path().join("shp.zip");
    std::fs::write(
        &zs,
        zip(&parts
            .iter()
            .map(|(n, b)| (n.as_str(), b.clone()))
            .collect::<Vec<_>>()),
    )
    .unwrap();
    same(&zs);
    same(&shp_dir);

    // An archive with two vector files names them and says how to choose.
    let two = dir.path().join("two.zip");
    std::fs::write(
        &two,
        zip(&[("a.geojson", bytes.clone()), ("b.geojson", bytes.clone())]),
    )
    .unwrap();
    let e = read_premises(&popts(&two), &ctx()).unwrap_err().to_string();
    assert!(
        e.contains("2 vector files") && e.contains("a.geojson") && e.contains("/vsizip/"),
        "{e}"
    );
    // One with none.
    let none = dir.path().join("none.zip");
    std::fs::write(&none, zip(&[("readme.txt", b"hej".to_vec())])).unwrap();
    let e = read_premises(&popts(&none), &ctx())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no vector file") && e.contains("readme.txt"),
        "{e}"
    );

    // A plain path that does not exist is still "no such file"; a data source name that
    // GDAL cannot open says so with GDAL's reason, never an empty one.
    let e = read_premises(&popts(&dir.path().join("nope.gpkg")), &ctx()).unwrap_err();
    assert!(matches!(e, IoError::NotFound { .. }), "{e}");
    for dsn in [
        "PG:dbname=gapmap_nonexistent host=/nonexistent-socket-dir".to_string(),
        format!("/vsizip/{}/missing.geojson", z.display()),
    ] {
        let e = read_premises(&popts(Path::new(&dsn)), &ctx()).unwrap_err();
        let m = e.to_string();
        assert!(!matches!(e, IoError::NotFound { .. }), "{m}");
        assert!(
            m.starts_with(&dsn) && !m.trim_end().ends_with(':') && !m.ends_with("''"),
            "{m}"
        );
    }
    assert!(is_data_source_name("PG:dbname=gm"));
    assert!(is_data_source_name("/vsicurl/https://example.org/p.fgb"));
    assert!(!is_data_source_name("C:/data/p.gpkg"));
    assert!(!is_data_source_name("data/p.gpkg"));
}

#[test]
fn only_the_fields_read_are_fetched_and_a_filter_on_another_field_still_selects() {
    // Premises with fields gapmap does not read (an address table has dozens); a filter on
    // one of them must see it, in drivers that evaluate filters in SQL (GeoPackage) and in
    // those where OGR evaluates them on each feature (GeoJSON, Shapefile, FlatGeobuf).
    let dir = tempfile::tempdir().unwrap();
    let pts = premise_points();
    let feats: Vec<OutFeature<'static>> = pts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            feat(
                Geometry::Point((*c).into()),
                &[
                    ("street", json!(format!("Gata {i}"))),
                    ("id", json!(100 + i)),
                    ("kind", json!(if i % 2 == 0 { "house" } else { "barn" })),
                    ("households", json!(i + 1)),
                    ("floors", json!(2.5)),
                    ("workplaces", json!(i % 2)),
                ],
            )
        })
        .collect();
    for (name, driver) in [
        ("x.gpkg", "GPKG"),
        ("x.geojson", "GeoJSON"),
        ("x.shp", "ESRI Shapefile"),
        ("x.fgb", "FlatGeobuf"),
    ] {
        let p = dir.path().join(name);
        let crs = if driver == "GeoJSON" {
            "EPSG:4326"
        } else {
            "EPSG:3006"
        };
        let f = if driver == "GeoJSON" {
            feats
                .iter()
                .zip(to_wgs84(&pts))
                .map(|(f, c)| OutFeature {
                    properties: f.properties.clone(),
                    geometry: std::borrow::Cow::Owned(Geometry::Point(c.into())),
                })
                .collect()
        } else {
            feats.clone()
        };
        write(&p, driver, Some(crs), "premises", POINT, &f);
        // (id, households, workplaces), by id (FlatGeobuf stores features in its index's order).
        let rows = |o: &PremiseOptions| {
            let p = read_premises(o, &ctx()).unwrap();
            let mut r: Vec<(String, u32, u32)> = (0..p.xy.len())
                .map(|i| {
                    (
                        p.ids.display(i).to_string(),
                        p.households[i],
                        p.workplaces[i],
                    )
                })
                .collect();
            r.sort();
            r
        };
        let row = |id: &str, h: u32, w: u32| (id.to_string(), h, w);
        assert_eq!(
            rows(&popts(&p)),
            [
                row("100", 1, 0),
                row("101", 2, 1),
                row("102", 3, 0),
                row("103", 4, 1)
            ],
            "{name}"
        );
        let mut o = popts(&p);
        o.filter = Some("kind = 'house'".into());
        assert_eq!(rows(&o), [row("100", 1, 0), row("102", 3, 0)], "{name}");
    }
}

/// `ctx()`: every layer read feature by feature, as gapmap reads them (the Arrow stream is
/// off by default, RELIABILITY.md finding 7).
fn per_feature() -> ReadContext {
    ctx()
}

/// `ctx()` with the Arrow stream on, where the driver allows it.
fn columnar() -> ReadContext {
    ReadContext {
        columnar: true,
        ..ctx()
    }
}

/// A record of an input without its timing and read path, for comparing two reads.
fn same_info(mut a: InputInfo) -> String {
    a.read_seconds = 0.0;
    a.columnar = false;
    serde_json::to_string(&a).unwrap()
}

#[test]
fn the_arrow_stream_reads_what_the_per_feature_path_reads() {
    // The bundled region's layers (GeoPackage, SWEREF 99 TM): lines, multi-points, points;
    // its settlements (in WGS 84, so read feature by feature, then written in SWEREF 99 TM)
    // for polygons with holes and many parts.
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/dalarna");
    let dir = tempfile::tempdir().unwrap();
    let s = |path: &Path, c: &ReadContext| {
        read_settlements(
            &SettlementOptions {
                path: path.to_path_buf(),
                layer: None,
                id_field: FieldChoice::new(Some("tatortskod"), "id", "--settlement-id-field"),
                name_field: FieldChoice::new(Some("tatort"), "name", "--settlement-name-field"),
                population_field: None,
                filter: None,
            },
            c,
        )
        .unwrap()
    };
    let bundled = s(&d.join("settlements.gpkg"), &columnar());
    let per = s(&d.join("settlements.gpkg"), &per_feature());
    assert!(bundled.info.columnar && !per.info.columnar);
    // Reprojected from WGS 84 on both paths: the same numbers.
    assert_eq!(bundled.areas, per.areas);
    assert_eq!(same_info(bundled.info.clone()), same_info(per.info));
    let mut table = FeatureTable::of_areas(&bundled.areas);
    table.push(
        "tatortskod",
        gapmap_io::write::features::Column::Text(
            bundled
                .ids
                .iter()
                .map(|v| Some(Cow::Borrowed(v.as_str())))
                .collect(),
        ),
    );
    table.push(
        "tatort",
        gapmap_io::write::features::Column::Text(
            bundled
                .names
                .iter()
                .map(|v| Some(Cow::Borrowed(v.as_str())))
                .collect(),
        ),
    );
    let s3006 = dir.path().join("s.gpkg");
    write_vector(
        &s3006,
        "GPKG",
        Some(&Crs::parse("EPSG:3006", "t").unwrap()),
        &[OutLayer {
            name: "tatorter",
            geometry_type: MULTI_POLYGON,
            table: &table,
            qml: None,
        }],
    )
    .unwrap();
    let (a, b) = (s(&s3006, &columnar()), s(&s3006, &per_feature()));
    assert!(a.info.columnar && !b.info.columnar);
    assert_eq!((&a.ids, &a.names, &a.areas), (&b.ids, &b.names, &b.areas));
    assert_eq!(a.areas, bundled.areas);
    assert_eq!(same_info(a.info), same_info(b.info));
    for layer in ["routes", "nodes"] {
        let f = |c: &ReadContext| {
            read_fibre(
                &FibreOptions::fibre(
                    vec![d.join("fibre.gpkg")],
                    vec![layer.into()],
                    FieldChoice::new(None, "network", "--fibre-network-field"),
                    None,
                ),
                c,
            )
            .unwrap()
        };
        let (a, b) = (f(&columnar()), f(&per_feature()));
        assert!(a.infos[0].columnar, "{layer}");
        assert_eq!(
            format!("{:?}", a.features),
            format!("{:?}", b.features),
            "{layer}"
        );
        assert_eq!(a.networks, b.networks);
    }
    let bb = |c: &ReadContext| {
        read_backbone(
            &BackboneOptions {
                path: d.join("backbone.gpkg"),
                layer: None,
                name_field: FieldChoice::new(None, "name", "--backbone-name-field"),
            },
            c,
        )
        .unwrap()
    };
    let (a, b) = (bb(&columnar()), bb(&per_feature()));
    assert!(a.info.as_ref().unwrap().columnar);
    assert_eq!(a.points, b.points);

    // Premises in every format the stream reads, with what real files hold: nulls in fields,
    // a feature without geometry, an empty geometry, points and buildings mixed, a boolean,
    // text and real fields, and curved buildings (linearised by OGR on both paths).
    let pts = premise_points();
    let mut feats: Vec<OutFeature<'static>> = pts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            feat(
                Geometry::Point((*c).into()),
                &[
                    ("id", json!(100 + i)),
                    (
                        "households",
                        if i == 1 { Value::Null } else { json!(i + 2) },
                    ),
                    ("workplaces", json!(i % 2)),
                    ("name", json!(format!("Gård {i}"))),
                    ("floors", json!(1.5 + i as f64)),
                ],
            )
        })
        .collect();
    let c = pts[0];
    feats.push(feat(
        Geometry::Polygon(polygon![
            (x: c.x + 10.0, y: c.y), (x: c.x + 30.0, y: c.y), (x: c.x + 30.0, y: c.y + 12.0),
            (x: c.x + 10.0, y: c.y + 12.0), (x: c.x + 10.0, y: c.y)
        ]),
        &[
            ("id", json!(200)),
            ("households", json!(7)),
            ("workplaces", json!(0)),
            ("name", Value::Null),
            ("floors", json!(2.0)),
        ],
    ));
    for (name, driver) in [
        ("p.gpkg", "GPKG"),
        ("p.fgb", "FlatGeobuf"),
        ("p.shp", "ESRI Shapefile"),
    ] {
        let p = dir.path().join(name);
        let ty = if driver == "ESRI Shapefile" { POINT } else { 0 };
        let feats: Vec<OutFeature<'static>> = if driver == "ESRI Shapefile" {
            feats[..pts.len()].to_vec()
        } else {
            feats.clone()
        };
        write(&p, driver, Some("EPSG:3006"), "premises", ty, &feats);
        if driver == "GPKG" {
            // A feature without geometry, one with an empty point, and a curved building.
            let ds = gdal::Dataset::open_ex(
                &p,
                gdal::DatasetOptions {
                    open_flags: gdal::GdalOpenFlags::GDAL_OF_VECTOR
                        | gdal::GdalOpenFlags::GDAL_OF_UPDATE,
                    ..Default::default()
                },
            )
            .unwrap();
            let layer = ds.layer_by_name("premises").unwrap();
            let curve = format!(
                "CURVEPOLYGON(CIRCULARSTRING({x} {y}, {x2} {y}, {x} {y}))",
                x = c.x + 100.0,
                x2 = c.x + 120.0,
                y = c.y
            );
            for (id, wkt) in [
                (300, None),
                (301, Some("POINT EMPTY")),
                (302, Some(curve.as_str())),
            ] {
                let mut f = gdal::vector::Feature::new(layer.defn()).unwrap();
                f.set_field_integer64(layer.defn().field_index("id").unwrap(), id)
                    .unwrap();
                f.set_field_integer64(layer.defn().field_index("households").unwrap(), 3)
                    .unwrap();
                f.set_field_integer64(layer.defn().field_index("workplaces").unwrap(), 1)
                    .unwrap();
                f.set_field_double(layer.defn().field_index("floors").unwrap(), 2.0)
                    .unwrap();
                if let Some(w) = wkt {
                    f.set_geometry(gdal::vector::Geometry::from_wkt(w).unwrap())
                        .unwrap();
                }
                f.create(&layer).unwrap();
            }
        }
        for weighting in [
            Weighting::None,
            Weighting::Field(FieldChoice::new(
                Some("floors"),
                "floors",
                "--population-weight-field",
            )),
        ] {
            let mut o = popts(&p);
            o.weighting = weighting;
            let a = read_premises(&o, &columnar()).unwrap();
            let b = read_premises(&o, &per_feature()).unwrap();
            // FlatGeobuf stays feature by feature (RELIABILITY.md finding 6).
            assert_eq!(a.info.columnar, driver != "FlatGeobuf", "{name}");
            assert!(!b.info.columnar, "{name}");
            assert_eq!(
                (0..a.xy.len())
                    .map(|i| a.ids.display(i).to_string())
                    .collect::<Vec<_>>(),
                (0..b.xy.len())
                    .map(|i| b.ids.display(i).to_string())
                    .collect::<Vec<_>>(),
                "{name}"
            );
            assert_eq!(a.xy, b.xy, "{name}");
            assert_eq!(
                (&a.households, &a.workplaces, &a.weights),
                (&b.households, &b.workplaces, &b.weights),
                "{name}"
            );
            assert_eq!(a.notices, b.notices, "{name}");
            assert_eq!(same_info(a.info), same_info(b.info), "{name}");
        }
    }
    // The GeoPackage's extra features: skipped alike (no geometry, empty), and the curve
    // read as a building.
    let p = dir.path().join("p.gpkg");
    let a = read_premises(&popts(&p), &columnar()).unwrap();
    assert_eq!(a.info.skipped.len(), 2, "{:?}", a.info.skipped);
    assert_eq!(a.ids.display(a.xy.len() - 1).to_string(), "302");

    // An empty layer: the same error on both paths.
    let empty = dir.path().join("empty.gpkg");
    write(&empty, "GPKG", Some("EPSG:3006"), "premises", POINT, &[]);
    let ea = read_premises(&popts(&empty), &columnar()).map(|p| p.xy);
    let eb = read_premises(&popts(&empty), &per_feature()).map(|p| p.xy);
    assert!(matches!(ea, Err(IoError::Empty { .. })), "{ea:?}");
    assert_eq!(format!("{ea:?}"), format!("{eb:?}"));

    // Drivers the stream does not serve are read feature by feature; a reprojected layer
    // through the stream gives the per-feature path's numbers.
    let g = dir.path().join("p.geojson");
    let wgs84 = premise_features(&to_wgs84(&pts));
    write(&g, "GeoJSON", Some("EPSG:4326"), "premises", POINT, &wgs84);
    assert!(
        !read_premises(&popts(&g), &columnar())
            .unwrap()
            .info
            .columnar
    );
    let w = dir.path().join("w.gpkg");
    write(&w, "GPKG", Some("EPSG:4326"), "premises", POINT, &wgs84);
    let a = read_premises(&popts(&w), &columnar()).unwrap();
    let b = read_premises(&popts(&w), &per_feature()).unwrap();
    assert!(a.info.columnar && !b.info.columnar);
    assert_eq!(a.xy, b.xy);
    // Coordinates no projection can place: the same error on both paths.
    let far = dir.path().join("far.gpkg");
    let nowhere = premise_features(&[Coord { x: 1e30, y: 1e30 }]);
    write(&far, "GPKG", Some("EPSG:3006"), "premises", POINT, &nowhere);
    let mercator = ReadContext {
        target: Crs::parse("EPSG:3857", "t").unwrap(),
        ..columnar()
    };
    let mercator_per_feature = ReadContext {
        columnar: false,
        ..mercator.clone()
    };
    let ea = read_premises(&popts(&far), &mercator).map(|p| p.xy);
    let eb = read_premises(&popts(&far), &mercator_per_feature).map(|p| p.xy);
    assert!(ea.is_err(), "{ea:?}");
    assert_eq!(format!("{ea:?}"), format!("{eb:?}"));
}

#[test]
fn a_corrupt_geometry_in_a_geopackage_is_an_error_naming_the_feature() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.gpkg");
    write(
        &p,
        "GPKG",
        Some("EPSG:3006"),
        "premises",
        POINT,
        &premise_features(&premise_points()),
    );
    let ds = gdal::Dataset::open_ex(
        &p,
        gdal::DatasetOptions {
            open_flags: gdal::GdalOpenFlags::GDAL_OF_VECTOR | gdal::GdalOpenFlags::GDAL_OF_UPDATE,
            ..Default::default()
        },
    )
    .unwrap();
    // A GeoPackage header, then WKB cut short.
    ds.execute_sql(
        "UPDATE premises SET geom = X'4750000100000000010100000000' WHERE id = 101",
        None,
        gdal::vector::sql::Dialect::SQLITE,
    )
    .unwrap();
    drop(ds);
    // Through the Arrow stream (the path GeoPackages take), the WKB reaches gapmap's decoder,
    // which names the feature (exit 2).
    let e = read_premises(&popts(&p), &columnar()).unwrap_err();
    assert!(e.is_bad_input());
    assert!(
        e.to_string().contains("'101'") && e.to_string().contains("unreadable geometry"),
        "{e}"
    );
    // Feature by feature, GDAL itself drops the geometry it cannot parse: the feature is
    // left out as one without geometry, and run.json's `skipped` says so.
    let b = read_premises(&popts(&p), &per_feature()).unwrap();
    assert_eq!(b.info.skipped.len(), 1);
    assert_eq!(b.info.skipped[0].feature, "'101'");
}

#[test]
fn a_corrupt_geopackage_is_read_feature_by_feature_not_hung() {
    // Found by `scripts/fuzz` (premises_gpkg, RELIABILITY.md finding 7): a GeoPackage with a
    // malformed SQLite page on which GDAL 3.6's Arrow stream ran for half an hour (a memset in
    // OGRArrowArrayHelper) where its per-feature reader takes milliseconds. gapmap reads
    // feature by feature by default; this is that read.
    let p = fixture("huge_batch.gpkg");
    let t = std::time::Instant::now();
    let r = read_premises(&popts(&p), &ctx()).map(|p| p.xy.len());
    assert!(!r.as_ref().is_ok_and(|n| *n > 10), "{r:?}");
    assert!(t.elapsed().as_secs() < 30, "took {:?}", t.elapsed());
}
