//! `gapmap prioritise` end to end: hand-computed project costs (straight and along roads),
//! the greedy's known worst case caught by the single best project, outputs and bad input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Fibre along y = 0 from x = 0 to 100. Cluster A: three premises of one household at
/// (0,100), (10,100), (20,100) in settlement S; B: one block of 10 households at (5000,5000),
/// rural. Costs (350 SEK/m, detour 1.3, 15,000 SEK per premise):
/// - A: feeder 100 m × 1.3 + internal tree 20 m × 1.3 = 156 m → 54,600 + 45,000 = 99,600;
/// - B: feeder √(4900² + 5000²) = 7000.714 m × 1.3 → 3,185,325 + 15,000 = 3,200,325.
fn scenario(dir: &Path) -> PathBuf {
    let w = |name: &str, text: String| write_file(dir, name, text);
    let premises = w(
        "premises.geojson",
        geojson_3006(&[
            (r#""id":1,"households":1"#, pt(0.0, 100.0)),
            (r#""id":2,"households":1"#, pt(10.0, 100.0)),
            (r#""id":3,"households":1"#, pt(20.0, 100.0)),
            (r#""id":4,"households":10"#, pt(5000.0, 5000.0)),
        ]),
    );
    let settlements = w(
        "settlements.geojson",
        geojson_3006(&[(r#""id":"S","name":"S""#, square(-500.0, -500.0, 1000.0))]),
    );
    let fibre = w(
        "fibre.geojson",
        geojson_3006(&[(r#""network":"n1""#, line(&[(0.0, 0.0), (100.0, 0.0)]))]),
    );
    w(
        "roads.geojson",
        geojson_3006(&[(r#""name":"road""#, line(&[(100.0, 0.0), (5000.0, 5000.0)]))]),
    );
    let out = dir.join("a");
    ok(&[
        "analyze",
        "--premises",
        premises.to_str().unwrap(),
        "--settlements",
        settlements.to_str().unwrap(),
        "--fibre",
        fibre.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    out
}

fn costs(p: &Path) -> Vec<(String, i64, f64, i64)> {
    let df = read_csv(&p.join("projects.csv"));
    let (set, hh, cost, chosen) = (
        strs(&df, "settlements"),
        ints(&df, "households"),
        floats(&df, "cost_sek"),
        ints(&df, "chosen"),
    );
    (0..set.len())
        .map(|i| (set[i].clone(), hh[i], cost[i].unwrap(), chosen[i]))
        .collect()
}

#[test]
fn projects_have_the_hand_computed_costs_and_the_best_single_project_wins() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path());
    let b_cost = (4900f64.hypot(5000.0) * 1.3 * 350.0 + 15_000.0).round();
    // 3.25 MSEK: the greedy takes A (best per krona) and then B no longer fits (3 households);
    // B alone connects 10.
    let o = ok(&["prioritise", a.to_str().unwrap(), "--budget-sek", "3250000"]);
    let p = a.join("priorities");
    assert_eq!(
        costs(&p),
        vec![("S".into(), 3, 99_600.0, 0), ("".into(), 10, b_cost, 1)]
    );
    let rec = json(&p.join("priorities.json"));
    assert_eq!(rec["households_connected"], 10);
    assert_eq!(rec["method"], "single best project");
    assert!(String::from_utf8_lossy(&o.stdout).contains("10 households"));
    // 5 MSEK: both.
    ok(&[
        "prioritise",
        a.to_str().unwrap(),
        "--budget-sek",
        "5000000",
        "--overwrite",
    ]);
    let rec = json(&p.join("priorities.json"));
    assert_eq!(rec["households_connected"], 13);
    assert_eq!(rec["method"], "greedy by households per unit of cost");
    // The running total is in whole kronor, as the costs beside it: the first row's total is
    // its cost, the second's the sum of both (b_cost has a fraction before rounding).
    let df = read_csv(&p.join("projects.csv"));
    let cost = floats(&df, "cost_sek");
    let total = floats(&df, "cumulative_cost_sek");
    assert_eq!(total[0], cost[0]);
    assert_eq!(total[1], Some(cost[0].unwrap() + cost[1].unwrap()));
    // The map: ranked, coloured, in WGS 84.
    let gj = json(&p.join("projects.geojson"));
    let f = gj["features"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(f[0]["properties"]["rank"], 1);
    assert_eq!(f[0]["properties"]["fill"], "#006d2c");
    assert!(p.join("projects.parquet").exists() && p.join("projects.qml").exists());
}

#[test]
fn costs_in_another_currency_are_named_so_and_nothing_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path());
    ok(&[
        "prioritise",
        a.to_str().unwrap(),
        "--currency",
        "NOK",
        "--budget",
        "5000000",
        "--trench-cost-per-m",
        "350",
        "--per-premise-cost",
        "15000",
    ]);
    let p = a.join("priorities");
    let df = read_csv(&p.join("projects.csv"));
    assert!(df.column("cost_sek").is_err());
    // The same amounts as in SEK above: a label, not a conversion.
    assert_eq!(floats(&df, "cost_nok")[0], Some(99_600.0));
    assert!(df.column("cost_per_household_nok").is_ok());
    let rec = json(&p.join("priorities.json"));
    assert_eq!(rec["parameters"]["currency"], "NOK");
    assert_eq!(rec["parameters"]["budget_nok"], 5_000_000.0);
    assert_eq!(rec["households_connected"], 13);
    // The report reads the costs in their currency.
    ok(&["report", a.to_str().unwrap()]);
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(html.contains("MNOK"), "the report names the currency");
    // A currency must be a code.
    let o = run(&[
        "prioritise",
        a.to_str().unwrap(),
        "--currency",
        "kronor",
        "--budget",
        "1",
        "--overwrite",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--currency"));
}

#[test]
fn scb_cell_candidates_group_the_premises_without_fibre_by_cell() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path());
    ok(&[
        "prioritise",
        a.to_str().unwrap(),
        "--budget-sek",
        "5000000",
        "--candidates",
        "scb-1km",
    ]);
    // A lies in the 1 km cell with corner (500000, 6700000), B in (505000, 6705000): the same
    // premises as the clusters, so the same costs.
    let p = a.join("priorities");
    let df = read_csv(&p.join("projects.csv"));
    assert_eq!(strs(&df, "project"), vec!["5000006700000", "5050006705000"]);
    assert_eq!(strs(&df, "kind"), vec!["scb cell", "scb cell"]);
    let b_cost = (4900f64.hypot(5000.0) * 1.3 * 350.0 + 15_000.0).round();
    assert_eq!(
        costs(&p),
        vec![("S".into(), 3, 99_600.0, 1), ("".into(), 10, b_cost, 1)]
    );
    // The map draws the cells as 1 km squares.
    let gj = json(&p.join("projects.geojson"));
    let ring = gj["features"][0]["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ring.len(), 5);
}

#[test]
fn roads_shorten_the_feeder_when_they_are_shorter() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path());
    let roads = dir.path().join("roads.geojson");
    ok(&[
        "prioritise",
        a.to_str().unwrap(),
        "--budget-sek",
        "5000000",
        "--roads",
        roads.to_str().unwrap(),
    ]);
    // B: along the road from the fibre's end, 7000.714 m with no detour: cheaper than the
    // straight route with detour. A: the road does not help (straight 130 m).
    let b_cost = (4900f64.hypot(5000.0) * 350.0 + 15_000.0).round();
    let c = costs(&a.join("priorities"));
    let b = c.iter().find(|r| r.0.is_empty()).unwrap();
    assert!((b.2 - b_cost).abs() <= 1.0, "{} vs {b_cost}", b.2);
    let s = c.iter().find(|r| r.0 == "S").unwrap();
    assert_eq!(s.2, 99_600.0);
    // map.html draws the roads the feeders may follow.
    ok(&["report", a.to_str().unwrap()]);
    let layers = map_layers(&a.join("map.html"));
    let roads = layers
        .iter()
        .find(|l| l["id"] == "roads")
        .expect("a roads layer");
    let line = &roads["data"]["features"][0]["geometry"];
    assert_eq!(line["type"], "LineString");
    assert_eq!(line["coordinates"].as_array().unwrap().len(), 2);
    assert_eq!(roads["data"]["features"].as_array().unwrap().len(), 1);
}

#[test]
fn prioritise_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let a = scenario(dir.path());
    for (args, needle) in [
        (vec!["--budget-sek", "-5"], "--budget-sek"),
        (
            vec!["--budget-sek", "1e6", "--detour-factor", "0.5"],
            "--detour-factor",
        ),
        (
            vec!["--budget-sek", "1e6", "--roads", "/nonexistent/roads.gpkg"],
            "roads.gpkg",
        ),
    ] {
        let mut full = vec!["prioritise", a.to_str().unwrap()];
        full.extend(args);
        let o = run(&full);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
        assert!(!a.join("priorities").exists());
    }
    let o = run(&["prioritise", "/nonexistent", "--budget-sek", "1"]);
    assert_eq!(o.status.code(), Some(2));
}
