//! What the gapmap crate's integration tests share: the repository, the bundled region's plan,
//! and two analysis directories compared file by file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    reason = "test helpers: a test fails by panicking, and not every test uses every helper"
)]

use std::path::{Path, PathBuf};

use gapmap::AnalysisPlan;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bundled region named explicitly (so that tests need not run from the repository root).
pub fn bundled_plan() -> AnalysisPlan {
    let d = repo().join("data/dalarna");
    AnalysisPlan {
        premises: Some(d.join("premises.parquet")),
        settlements: Some(d.join("settlements.gpkg")),
        settlement_id_field: Some("tatortskod".into()),
        settlement_name_field: Some("tatort".into()),
        fibre: vec![d.join("fibre.gpkg")],
        fibre_layer: vec!["routes".into(), "nodes".into()],
        mobile: vec![d.join("mobile.geojson")],
        ..AnalysisPlan::default()
    }
}

/// Every file of two analysis directories, byte for byte, and their run.json but for what
/// measures the run (phases, start, out, read times, tiles).
pub fn assert_same_analysis(a: &Path, b: &Path) {
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(a), names(b));
    assert!(names(a).len() > 3, "{:?}", names(a));
    for n in names(a) {
        let (x, y) = (
            std::fs::read(a.join(&n)).unwrap(),
            std::fs::read(b.join(&n)).unwrap(),
        );
        if n.ends_with(".gpkg") {
            // GDAL stamps each table with when it last changed: compared row by row.
            assert!(
                gpkg_rows(&a.join(&n)) == gpkg_rows(&b.join(&n)),
                "{n} differs between {} and {}",
                a.display(),
                b.display()
            );
            continue;
        }
        if n != "run.json" {
            assert!(
                x == y,
                "{n} differs between {} and {}",
                a.display(),
                b.display()
            );
            continue;
        }
        let strip = |bytes: &[u8]| {
            let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            for k in ["timings_s", "started_utc", "peak_rss_mib", "tiles", "files"] {
                v.as_object_mut().unwrap().remove(k);
            }
            v["parameters"]["out"] = serde_json::Value::Null;
            v["plan"]["out"] = serde_json::Value::Null;
            for i in v["inputs"].as_array_mut().unwrap() {
                i.as_object_mut().unwrap().remove("read_seconds");
            }
            v
        };
        assert_eq!(strip(&x), strip(&y), "run.json differs");
    }
}

/// Every row of every table of a GeoPackage: its fields (but a style's `update_time`) and its
/// geometry as WKB.
pub fn gpkg_rows(path: &Path) -> Vec<(String, Vec<String>)> {
    use gdal::vector::LayerAccess;
    let ds = gdal::Dataset::open(path).unwrap();
    let mut rows = Vec::new();
    for mut layer in ds.layers() {
        let name = layer.name();
        for f in layer.features() {
            // When a style was stored is not a result.
            let mut row: Vec<String> = f
                .fields()
                .filter(|(k, _)| k != "update_time")
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect();
            if let Some(g) = f.geometry() {
                row.push(format!("{:?}", g.wkb().unwrap()));
            }
            rows.push((name.clone(), row));
        }
    }
    assert!(rows.len() > 10, "{}: {} rows", path.display(), rows.len());
    rows
}
