//! `gapmap grid` end to end on the bundled region: SCB cells match SCB's own ids, every count
//! matches a recount from premises.parquet, every settlement gets an H3 cell in covers mode,
//! regions add up, and bad input exits 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

fn analyse_bundled(out: &Path) {
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--out", out.to_str().unwrap(), "--threads", "2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn grid_cells_and_regions_match_a_recount_of_the_premises() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    analyse_bundled(&a);
    // From where the analysis ran, so that its settlement input is found as run.json names it.
    let o = gapmap()
        .current_dir(repo())
        .args(["grid", a.to_str().unwrap(), "--h3", "6,8"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = a.join("grid");
    // The H3 cover is made from the full-resolution input, not the simplified web map.
    let rec = json(&out.join("grid.json"));
    assert_eq!(
        rec["parameters"]["h3_settlements"],
        "data/dalarna/settlements.gpkg",
        "{}",
        stderr(&o)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("scb_1km"), "{stdout}");

    // Recount from the premises: per 1 km cell, premises, fibre passed and white premises.
    let p = read_parquet(&a.join("premises.parquet"));
    let (x, y) = (floats(&p, "x"), floats(&p, "y"));
    let passed = strs(&p, "fibre_passed");
    let class = strs(&p, "aid_class");
    let hh = ints(&p, "households");
    let mut want: BTreeMap<String, (i64, i64, i64, i64)> = BTreeMap::new();
    for i in 0..x.len() {
        let (e, n) = (
            (x[i].unwrap() / 1000.0).floor() as i64 * 1000,
            (y[i].unwrap() / 1000.0).floor() as i64 * 1000,
        );
        let w = want.entry(format!("{e:06}{n:07}")).or_default();
        w.0 += 1;
        w.1 += i64::from(passed[i] == "true");
        w.2 += i64::from(class[i] == "white");
        w.3 += hh[i];
    }
    let g = read_csv(&out.join("scb_1km.csv"));
    let ids = strs(&g, "cell_id");
    let (prem, fib, white, ghh) = (
        ints(&g, "premises"),
        ints(&g, "fibre_passed"),
        ints(&g, "aid_white"),
        ints(&g, "households"),
    );
    let got: BTreeMap<String, (i64, i64, i64, i64)> = (0..ids.len())
        .map(|i| (ids[i].clone(), (prem[i], fib[i], white[i], ghh[i])))
        .collect();
    assert_eq!(got, want);
    // The bundled premises come from SCB's 1 km population grid (4,004 populated cells in
    // Dalarna): the cells are SCB's cells, with SCB's ids.
    assert_eq!(ids.len(), 4004);
    let fixture = std::fs::read_to_string(
        repo().join("crates/gapmap-core/tests/fixtures/scb_1km_cells_dalarna_2025.csv"),
    )
    .unwrap();
    for line in fixture.lines().skip(1) {
        let rutid = line.split(',').next().unwrap();
        assert!(got.contains_key(rutid), "SCB cell {rutid} missing");
    }
    // 250 m cells add up to the same premises.
    let g250 = read_csv(&out.join("scb_250m.csv"));
    assert_eq!(ints(&g250, "premises").iter().sum::<i64>(), x.len() as i64);
    assert!(strs(&g250, "cell_id").iter().all(|id| {
        let e: i64 = id[..6].parse().unwrap();
        let n: i64 = id[6..].parse().unwrap();
        id.len() == 13 && e % 250 == 0 && n % 250 == 0
    }));

    // Elsewhere the input is not found as named: the web map's outlines, with a notice.
    let elsewhere = dir.path().join("b");
    analyse_bundled(&elsewhere);
    let o = ok(&[
        "grid",
        elsewhere.to_str().unwrap(),
        "--h3",
        "6",
        "--scb",
        "1000",
    ]);
    assert!(
        stderr(&o).contains("simplified for the web map"),
        "{}",
        stderr(&o)
    );
    let rec_b = json(&elsewhere.join("grid/grid.json"));
    assert!(rec_b["parameters"]["h3_settlements"]
        .as_str()
        .unwrap()
        .ends_with("settlements.geojson"));

    // H3 in covers mode: every settlement has a cell, even at resolution 6 (~36 km² cells).
    let settlements: BTreeSet<String> =
        strs(&read_csv(&a.join("settlements.csv")), "settlement_id")
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
    for r in [6, 8] {
        let h = read_csv(&out.join(format!("h3_r{r}.csv")));
        let covered: BTreeSet<String> = strs(&h, "settlements")
            .iter()
            .flat_map(|s| s.split(';').map(str::to_string).collect::<Vec<_>>())
            .filter(|s| !s.is_empty())
            .collect();
        assert_eq!(covered, settlements, "resolution {r}");
        assert_eq!(ints(&h, "premises").iter().sum::<i64>(), x.len() as i64);
    }

    // Regions: the kommuner of Dalarna; with the premises outside them, all premises.
    let k = read_csv(&out.join("region_kommun.csv"));
    assert_eq!(ints(&k, "premises").len(), 15);
    assert!(strs(&k, "region_name").contains(&"Falun".to_string()));
    let rec = json(&out.join("grid.json"));
    let layer = rec["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "region_kommun")
        .unwrap()
        .clone();
    assert_eq!(
        ints(&k, "premises").iter().sum::<i64>() + layer["premises_outside"].as_i64().unwrap(),
        x.len() as i64
    );
    // The goal columns are there, and the GeoJSON is styled and in WGS 84.
    assert!(k.column("goal_se2025_1gbps_missing_households").is_ok());
    let gj = json(&out.join("region_lan.geojson"));
    let f = &gj["features"][0];
    assert!(f["properties"]["fill"].as_str().unwrap().starts_with('#'));
    let c = &f["geometry"]["coordinates"][0][0][0];
    assert!((12.0..17.0).contains(&c[0].as_f64().unwrap()), "{c}");
    assert!(out.join("grid.gpkg").exists() && out.join("scb_1km.qml").exists());
}

#[test]
fn grid_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["grid", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("run.json"), "{}", stderr(&o));
    let o = run(&["grid", dir.path().to_str().unwrap(), "--scb", "33"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--scb"), "{}", stderr(&o));
    let o = run(&["grid", dir.path().to_str().unwrap(), "--h3", "16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path().join("grid").exists());
}

#[test]
fn squares_outside_sweref_are_named_by_size_and_crs_not_scb() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("utm");
    let o = gapmap()
        .current_dir(repo())
        .args([
            "analyze",
            "--out",
            a.to_str().unwrap(),
            "--crs",
            "EPSG:32633",
        ])
        .args(["--outputs", "tables,premises"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    ok(&["grid", a.to_str().unwrap(), "--scb", "1000"]);
    let out = a.join("grid");
    assert!(
        !out.join("scb_1km.csv").exists(),
        "SCB's names on a UTM grid"
    );
    let g = read_csv(&out.join("grid_1km_epsg32633.csv"));
    let ids = strs(&g, "cell_id");
    assert!(
        ids.iter().all(|i| i.starts_with('E') && i.contains('N')),
        "{:?}",
        &ids[..3]
    );
    // The same premises, all in some square.
    let total: i64 = ints(&g, "premises").iter().sum();
    let p = read_parquet(&a.join("premises.parquet"));
    assert_eq!(total, p.height() as i64);
}

/// A --regions layer without the id and name fields: the notices speak of regions and their
/// flags, not of settlements.
#[test]
fn region_notices_name_regions_and_their_flags() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    analyse_bundled(&a);
    let o = gapmap()
        .current_dir(repo())
        .args([
            "grid",
            a.to_str().unwrap(),
            "--regions",
            "data/dalarna/kommun.geojson",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("no field 'id', so region ids are feature ids (FIDs); choose a field with --region-id-field")
            && err.contains("no field 'name', so region names are empty; choose a field with --region-name-field")
            && !err.contains("settlement"),
        "{err}"
    );
}
