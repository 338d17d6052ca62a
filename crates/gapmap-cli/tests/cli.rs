//! End-to-end tests of the `gapmap` binary: a hand-computed scenario, the bundled region
//! against golden outputs (parsed, with a tolerance), determinism across thread counts, and
//! every bad-input case with its exit code and message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use gapmap_core::geo::{line_string, point, polygon, Geometry, MultiPolygon};
use gapmap_io::write::features::{FeatureTable, OutFeature};
use gapmap_io::write::gpkg::{write_vector, OutLayer, LINE_STRING, MULTI_POLYGON, POINT};
use gapmap_io::Crs;
mod common;

use common::{gapmap, read_csv, read_parquet, repo, run, stderr, strs, write_file};
use polars::prelude::*;
use serde_json::{json, Map, Value};

fn feat(g: Geometry<f64>, p: Value) -> OutFeature<'static> {
    let Value::Object(m) = p else { panic!() };
    OutFeature {
        properties: m,
        geometry: Cow::Owned(g),
    }
}

use common::{X0, Y0};

fn sq(x: f64, y: f64, s: f64) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![
        polygon![(x: X0 + x, y: Y0 + y), (x: X0 + x + s, y: Y0 + y), (x: X0 + x + s, y: Y0 + y + s), (x: X0 + x, y: Y0 + y + s)],
    ])
}

/// A small scenario whose every number is known:
/// - settlement A = [0,1000]², B = [2000,3000]²; the rural area elsewhere;
/// - p1 (100,100) in A, 50 m from fibre of network n1 (exactly the drop distance), no 4G;
/// - p2 (500,500) in A, 495 m from fibre (the end of n1's line), 4G of op X;
/// - p3 (2500,2500) in B: nothing;
/// - p4 (5000,5000) rural: fibre of n1 and n2 within 10 m, no 4G;
/// - p5 (1000,500) on A's boundary: 4G of op X and Y, 5G of Y; 919 m from fibre.
struct Scenario {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let crs = Crs::parse("EPSG:3006", "t").unwrap();
        let s = vec![
            feat(
                Geometry::MultiPolygon(sq(0.0, 0.0, 1000.0)),
                json!({"id": "A", "name": "Alby"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(2000.0, 2000.0, 1000.0)),
                json!({"id": "B", "name": "Berga"}),
            ),
        ];
        write_vector(
            &root.join("settlements.gpkg"),
            "GPKG",
            Some(&crs),
            &[OutLayer {
                name: "s",
                geometry_type: MULTI_POLYGON,
                table: &FeatureTable::from_json(&s),
                qml: None,
            }],
        )
        .unwrap();
        let pts = [
            (100.0, 100.0),
            (500.0, 500.0),
            (2500.0, 2500.0),
            (5000.0, 5000.0),
            (1000.0, 500.0),
        ];
        let mut csv = String::from("id,x,y,households,workplaces\n");
        for (i, (x, y)) in pts.iter().enumerate() {
            csv.push_str(&format!(
                "p{},{},{},{},{}\n",
                i + 1,
                X0 + x,
                Y0 + y,
                i + 1,
                1
            ));
        }
        std::fs::write(root.join("premises.csv"), csv).unwrap();
        let l = |x1: f64, y1: f64, x2: f64, y2: f64| {
            Geometry::LineString(line_string![(x: X0 + x1, y: Y0 + y1), (x: X0 + x2, y: Y0 + y2)])
        };
        let f = vec![
            feat(l(0.0, 150.0, 150.0, 150.0), json!({"network": "n1"})),
            feat(l(4900.0, 5010.0, 5100.0, 5010.0), json!({"network": "n1"})),
            feat(l(4990.0, 4900.0, 4990.0, 5100.0), json!({"network": "n2"})),
        ];
        write_vector(
            &root.join("fibre.gpkg"),
            "GPKG",
            Some(&crs),
            &[OutLayer {
                name: "f",
                geometry_type: LINE_STRING,
                table: &FeatureTable::from_json(&f),
                qml: None,
            }],
        )
        .unwrap();
        let m = vec![
            feat(
                Geometry::MultiPolygon(sq(400.0, 400.0, 600.0)),
                json!({"operator": "X", "tech": "LTE"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(1000.0, 0.0, 500.0)),
                json!({"operator": "Y", "tech": "4g"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(1000.0, 0.0, 500.0)),
                json!({"operator": "Y", "tech": "NR"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(0.0, 0.0, 3000.0)),
                json!({"operator": "Z", "tech": "2G"}),
            ),
        ];
        write_vector(
            &root.join("mobile.gpkg"),
            "GPKG",
            Some(&crs),
            &[OutLayer {
                name: "m",
                geometry_type: MULTI_POLYGON,
                table: &FeatureTable::from_json(&m),
                qml: None,
            }],
        )
        .unwrap();
        Scenario { _dir: dir, root }
    }

    fn p(&self, name: &str) -> String {
        self.root.join(name).display().to_string()
    }

    fn args(&self, out: &str) -> Vec<String> {
        vec![
            "analyze".into(),
            "--premises".into(),
            self.p("premises.csv"),
            "--assume-crs".into(),
            "EPSG:3006".into(),
            "--settlements".into(),
            self.p("settlements.gpkg"),
            "--fibre".into(),
            self.p("fibre.gpkg"),
            "--mobile".into(),
            self.p("mobile.gpkg"),
            "--out".into(),
            self.p(out),
            "--gpkg".into(),
        ]
    }
}

fn col_u64(df: &DataFrame, name: &str) -> Vec<u64> {
    df.column(name)
        .unwrap()
        .as_materialized_series()
        .cast(&DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

#[test]
fn scenario_has_the_hand_computed_answers() {
    let sc = Scenario::new();
    let o = gapmap().args(sc.args("out")).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = sc.root.join("out");
    for f in [
        "settlements.csv",
        "settlements.parquet",
        "premises.parquet",
        "gaps.geojson",
        "settlements.geojson",
        "run.json",
        "gapmap.gpkg",
        "gaps.qml",
        "settlements.qml",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let s = read_csv(&out.join("settlements.csv"));
    assert_eq!(strs(&s, "settlement_id"), vec!["A", "B", ""]);
    assert_eq!(
        strs(&s, "settlement_name"),
        vec!["Alby", "Berga", "(rural)"]
    );
    assert_eq!(col_u64(&s, "premises"), vec![3, 1, 1]);
    assert_eq!(col_u64(&s, "households"), vec![1 + 2 + 5, 3, 4]);
    assert_eq!(col_u64(&s, "fibre_passed"), vec![1, 0, 1]);
    assert_eq!(col_u64(&s, "fibre_2plus_networks"), vec![0, 0, 1]);
    assert_eq!(col_u64(&s, "mobile_4g"), vec![2, 0, 0]);
    assert_eq!(col_u64(&s, "mobile_4g_2plus_operators"), vec![1, 0, 0]);
    assert_eq!(col_u64(&s, "mobile_5g"), vec![1, 0, 0]);
    assert_eq!(col_u64(&s, "unserved"), vec![0, 1, 0]);
    let share: Vec<Option<f64>> = s
        .column("share_fibre_passed")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(share, vec![Some(1.0 / 3.0), Some(0.0), Some(1.0)]);
    // Parquet has the same table.
    let sp = read_parquet(&out.join("settlements.parquet"));
    assert_eq!(col_u64(&sp, "unserved"), col_u64(&s, "unserved"));

    let p = read_parquet(&out.join("premises.parquet"));
    let names: Vec<String> = p.get_column_names().iter().map(|s| s.to_string()).collect();
    assert_eq!(
        &names[..9],
        &[
            "premise_id",
            "x",
            "y",
            "settlement_id",
            "fibre_distance_m",
            "fibre_networks",
            "mobile_4g_operators",
            "mobile_5g_operators",
            "unserved"
        ]
    );
    assert_eq!(strs(&p, "premise_id"), vec!["p1", "p2", "p3", "p4", "p5"]);
    assert_eq!(strs(&p, "settlement_id"), vec!["A", "A", "B", "", "A"]);
    let d: Vec<f64> = p
        .column("fibre_distance_m")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(d[0], 50.0);
    assert!((d[1] - 350.0_f64.hypot(350.0)).abs() < 1e-9, "{d:?}");
    assert!(
        (d[3] - 10.0).abs() < 1e-9 && (d[4] - 850.0_f64.hypot(350.0)).abs() < 1e-9,
        "{d:?}"
    );
    assert_eq!(col_u64(&p, "fibre_networks"), vec![1, 0, 0, 2, 0]);
    assert_eq!(col_u64(&p, "mobile_4g_operators"), vec![0, 1, 0, 0, 2]);
    assert_eq!(col_u64(&p, "mobile_5g_operators"), vec![0, 0, 0, 0, 1]);
    let unserved: Vec<bool> = p
        .column("unserved")
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .collect();
    assert_eq!(unserved, vec![false, false, true, false, false]);
    assert_eq!(
        strs(&p, "gap_kind"),
        vec!["no_4g", "no_fibre", "unserved", "no_4g", "no_fibre"]
    );

    // Gap map: p2 and p5 are 500 m apart (> 200 m): separate no_fibre clusters in A.
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gaps.geojson")).unwrap()).unwrap();
    assert!(g.get("crs").is_none(), "RFC 7946 has no crs member");
    let feats = g["features"].as_array().unwrap();
    let kinds: Vec<(&str, &str, u64)> = feats
        .iter()
        .map(|f| {
            (
                f["properties"]["kind"].as_str().unwrap(),
                f["properties"]["settlement_id"].as_str().unwrap(),
                f["properties"]["premises"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("no_fibre", "A", 1),
            ("no_fibre", "A", 1),
            ("no_4g", "A", 1),
            ("unserved", "B", 1),
            ("no_4g", "", 1)
        ]
    );
    let nearest: Vec<f64> = feats
        .iter()
        .map(|f| f["properties"]["nearest_fibre_m"].as_f64().unwrap())
        .collect();
    assert_eq!(nearest[2], 50.0);
    for f in feats {
        let p = &f["properties"];
        for k in ["gap_id", "households", "workplaces", "fill", "stroke"] {
            assert!(p.get(k).is_some(), "{k}");
        }
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
    }
    // The run log.
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["parameters"]["drop_distance_m"], 50.0);
    assert_eq!(run["inputs"].as_array().unwrap().len(), 4);
    assert!(run["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["sha256"].as_str().is_some_and(|h| h.len() == 64)));
    assert_eq!(run["inputs"][1]["crs_assumed"], true);
    let techs: Vec<(&str, &str)> = run["mobile_technologies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["value"].as_str().unwrap(),
                t["counts_as"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        techs,
        vec![("2G", "other"), ("4g", "4G"), ("LTE", "4G"), ("NR", "5G")]
    );
    let phases: Vec<&str> = run["timings_s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(
        phases,
        vec![
            "read",
            "settlements",
            "fibre",
            "mobile",
            "aid",
            "gaps",
            "tally",
            "aid areas",
            "write",
            "total"
        ]
    );
    // Each phase's CPU time (Linux): never negative, and the whole run's is at least the sum
    // of its phases' less one 10 ms tick per phase.
    if cfg!(target_os = "linux") {
        let t = run["timings_s"].as_array().unwrap();
        let cpu: Vec<f64> = t.iter().map(|p| p["cpu_s"].as_f64().unwrap()).collect();
        assert!(cpu.iter().all(|&c| c >= 0.0), "{cpu:?}");
        let (phases, total) = cpu.split_at(cpu.len() - 1);
        assert!(
            total[0] + 0.01 * phases.len() as f64 >= phases.iter().sum::<f64>(),
            "{cpu:?}"
        );
    }
    // The terminal summary.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("5 premises") && stdout.contains("Berga"),
        "{stdout}"
    );
}

/// A resilience scenario whose every answer is known (coordinates relative to X0, Y0):
/// - settlements A = [0,1000]², B = [2000,3000]², C = [6000,7000]² (no fibre);
/// - a backbone point P at (-1000,500);
/// - a ring P–(100,500) (L1, trench T1) and P–(-1000,1500)–(100,1500) (L2),
///   (100,1500)–(100,500) (L3, trench T1): A's junction (100,500) has two routes;
/// - a spur (100,500)–(2500,2500) (L4, n1) with a second cable 1 m beside it (L5, n2):
///   one trench by geometry, so B hangs on one route;
/// - premises pA (50,530) in A on L1, pB (2480,2500) in B on L4, pC (6500,6500) in C, no
///   fibre; households 1, 2, 3.
fn resilience_scenario() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let crs = Crs::parse("EPSG:3006", "t").unwrap();
    let layer = |file: &str, ty: u32, f: Vec<OutFeature<'static>>| {
        write_vector(
            &root.join(file),
            "GPKG",
            Some(&crs),
            &[OutLayer {
                name: "l",
                geometry_type: ty,
                table: &FeatureTable::from_json(&f),
                qml: None,
            }],
        )
        .unwrap();
    };
    layer(
        "settlements.gpkg",
        MULTI_POLYGON,
        vec![
            feat(
                Geometry::MultiPolygon(sq(0.0, 0.0, 1000.0)),
                json!({"id": "A", "name": "Alby"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(2000.0, 2000.0, 1000.0)),
                json!({"id": "B", "name": "Berga"}),
            ),
            feat(
                Geometry::MultiPolygon(sq(6000.0, 6000.0, 1000.0)),
                json!({"id": "C", "name": "Cederby"}),
            ),
        ],
    );
    let l = |pts: &[(f64, f64)]| {
        Geometry::LineString(
            pts.iter()
                .map(|&(x, y)| (X0 + x, Y0 + y))
                .collect::<Vec<_>>()
                .into(),
        )
    };
    layer(
        "fibre.gpkg",
        LINE_STRING,
        vec![
            feat(
                l(&[(-1000.0, 500.0), (100.0, 500.0)]),
                json!({"network": "n1", "trench": "T1"}),
            ),
            feat(
                l(&[(-1000.0, 500.0), (-1000.0, 1500.0), (100.0, 1500.0)]),
                json!({"network": "n1", "trench": null}),
            ),
            feat(
                l(&[(100.0, 1500.0), (100.0, 500.0)]),
                json!({"network": "n1", "trench": "T1"}),
            ),
            feat(
                l(&[(100.0, 500.0), (2500.0, 2500.0)]),
                json!({"network": "n1", "trench": null}),
            ),
            feat(
                l(&[(100.0, 501.0), (2500.0, 2501.0)]),
                json!({"network": "n2", "trench": null}),
            ),
        ],
    );
    layer(
        "backbone.gpkg",
        POINT,
        vec![feat(
            Geometry::Point(point!(x: X0 - 1000.0, y: Y0 + 500.0)),
            json!({"name": "P"}),
        )],
    );
    let mut csv = String::from("id,x,y,households,workplaces\n");
    for (i, (x, y)) in [(50.0, 530.0), (2480.0, 2500.0), (6500.0, 6500.0)]
        .iter()
        .enumerate()
    {
        csv.push_str(&format!("p{},{},{},{},0\n", i + 1, X0 + x, Y0 + y, i + 1));
    }
    std::fs::write(root.join("premises.csv"), csv).unwrap();
    let p = |f: &str| root.join(f).display().to_string();
    let args = vec![
        "analyze".into(),
        "--premises".into(),
        p("premises.csv"),
        "--assume-crs".into(),
        "EPSG:3006".into(),
        "--settlements".into(),
        p("settlements.gpkg"),
        "--fibre".into(),
        p("fibre.gpkg"),
        "--backbone".into(),
        p("backbone.gpkg"),
    ];
    (dir, args)
}

/// Runs the resilience scenario with `extra` flags; returns the settlement table, the critical
/// links table and the premise table.
fn run_resilience(extra: &[&str]) -> (DataFrame, DataFrame, DataFrame, Value) {
    let (dir, mut args) = resilience_scenario();
    let out = dir.path().join("out");
    args.extend(["--out".to_string(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = gapmap().args(&args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let geo: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("critical_links.geojson")).unwrap())
            .unwrap();
    (
        read_csv(&out.join("settlements.csv")),
        read_csv(&out.join("critical_links.csv")),
        read_parquet(&out.join("premises.parquet")),
        geo,
    )
}

#[test]
fn resilience_has_the_hand_computed_answers() {
    // Default: L4 and L5 run 1 m apart, one risk; B hangs on it.
    let (s, c, p, geo) = run_resilience(&[]);
    assert_eq!(strs(&s, "settlement_id"), ["A", "B", "C", ""]);
    assert_eq!(
        strs(&s, "fibre_redundancy_class"),
        ["redundant", "single", "none", ""]
    );
    // With one premise each, the class by premises and by core junctions agree.
    assert_eq!(
        strs(&s, "core_redundancy_class"),
        ["redundant", "single", "none", ""]
    );
    assert_eq!(strs(&s, "core_paths_to_backbone"), ["2", "1", "0", ""]);
    assert_eq!(strs(&s, "core_node_paths_to_backbone"), ["2", "1", "0", ""]);
    assert_eq!(col_u64(&s, "premises_single_fibre_path"), [0, 1, 0, 0]);
    assert_eq!(col_u64(&s, "premises_redundant_fibre_path"), [1, 0, 0, 0]);
    assert_eq!(col_u64(&s, "premises_no_fibre_path"), [0, 0, 0, 0]);
    assert_eq!(c.height(), 1);
    assert_eq!(strs(&c, "kind"), ["parallel"]);
    assert_eq!(col_u64(&c, "links"), [2]);
    assert_eq!(strs(&c, "networks"), ["n1;n2"]);
    assert_eq!(strs(&c, "settlement_ids"), ["B"]);
    assert_eq!(col_u64(&c, "settlements_cut"), [1]);
    assert_eq!(col_u64(&c, "settlements_affected"), [1]);
    assert_eq!(col_u64(&c, "core_settlements_cut"), [1]);
    assert_eq!(col_u64(&c, "premises_cut"), [1]);
    assert_eq!(col_u64(&c, "households_cut"), [2]);
    let f = &geo["features"][0];
    assert_eq!(f["geometry"]["type"], "MultiLineString");
    assert_eq!(f["geometry"]["coordinates"].as_array().unwrap().len(), 2);
    assert_eq!(f["properties"]["premises_cut"], 1);
    assert_eq!(
        strs(&p, "fibre_redundancy_class"),
        ["redundant", "single", ""]
    );

    // One row per corridor in critical_links.*; with --critical-units, one per unit too.
    let (dir, mut args) = resilience_scenario();
    let out = dir.path().join("units");
    args.extend([
        "--critical-units".to_string(),
        "--out".into(),
        out.display().to_string(),
    ]);
    let o = gapmap().args(&args).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let units = read_csv(&out.join("critical_units.csv"));
    let corridors = read_csv(&out.join("critical_links.csv"));
    assert_eq!(
        units.height() as u64,
        run["resilience"]["critical_units"].as_u64().unwrap()
    );
    assert_eq!(
        corridors.height() as u64,
        run["resilience"]["corridors"].as_u64().unwrap()
    );
    assert_eq!(
        col_u64(&corridors, "units").iter().sum::<u64>(),
        units.height() as u64
    );
    assert!(out.join("critical_units.geojson").exists());
    assert_eq!(run["parameters"]["resilience"]["critical_units"], true);

    // The share of redundant premises that makes a settlement redundant: with 0, any fibre
    // premise with a path does; the core measure does not change.
    let (s, _, _, _) = run_resilience(&["--redundant-share", "0"]);
    assert_eq!(
        strs(&s, "fibre_redundancy_class"),
        ["redundant", "redundant", "none", ""]
    );
    assert_eq!(
        strs(&s, "core_redundancy_class"),
        ["redundant", "single", "none", ""]
    );
    let (_, mut args) = resilience_scenario();
    args.extend(["--redundant-share", "1.5", "--out", "/nonexistent/x"].map(String::from));
    expect_bad(&args, &["--redundant-share", "1.5"]);

    // Every cable its own risk: B has two edge-disjoint paths, through one junction.
    let (s, c, _, _) = run_resilience(&["--srlg-m", "0"]);
    assert_eq!(
        strs(&s, "fibre_redundancy_class"),
        ["redundant", "redundant", "none", ""]
    );
    assert_eq!(strs(&s, "core_paths_to_backbone"), ["2", "2", "0", ""]);
    assert_eq!(strs(&s, "core_node_paths_to_backbone"), ["2", "1", "0", ""]);
    assert_eq!(c.height(), 0, "no single failure cuts anything");

    // L1 and L3 share trench T1: cutting it isolates A, and B behind it.
    let (s, c, _, _) = run_resilience(&["--fibre-srlg-field", "trench"]);
    assert_eq!(
        strs(&s, "fibre_redundancy_class"),
        ["single", "single", "none", ""]
    );
    assert_eq!(strs(&c, "kind"), ["shared_risk_value", "parallel"]);
    assert_eq!(strs(&c, "shared_risk_value"), ["T1", ""]);
    assert_eq!(strs(&c, "settlement_ids"), ["A;B", "B"]);
    assert_eq!(col_u64(&c, "settlements_affected"), [2, 1]);
    assert_eq!(col_u64(&c, "premises_cut"), [2, 1]);
    assert_eq!(col_u64(&c, "households_cut"), [3, 2]);
}

#[test]
fn resilience_bad_input_exits_2() {
    let (dir, args) = resilience_scenario();
    let out = dir.path().join("out").display().to_string();
    let with_out = |mut a: Vec<String>| {
        a.extend(["--out".to_string(), out.clone()]);
        a
    };
    // --backbone without --fibre.
    let mut no_fibre = args.clone();
    let k = no_fibre.iter().position(|a| a == "--fibre").unwrap();
    no_fibre.drain(k..k + 2);
    expect_bad(&with_out(no_fibre), &["--backbone", "--fibre"]);
    // A shared-risk field that is not there.
    expect_bad(
        &with(with_out(args.clone()), "--fibre-srlg-field", "duct"),
        &["duct", "trench"],
    );
    // Lines as backbone points.
    let mut lines = args.clone();
    let k = lines.iter().position(|a| a == "--backbone").unwrap();
    lines[k + 1] = dir.path().join("fibre.gpkg").display().to_string();
    expect_bad(&with_out(lines), &["Point"]);
    expect_bad(&with(with_out(args), "--srlg-m", "nan"), &["--srlg-m"]);
}

#[test]
fn drop_distance_changes_the_answer() {
    let sc = Scenario::new();
    let mut a = sc.args("out");
    a.extend(["--drop-distance-m".into(), "49.99".into()]);
    let o = gapmap().args(&a).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = read_csv(&sc.root.join("out/settlements.csv"));
    assert_eq!(col_u64(&s, "fibre_passed"), vec![0, 0, 1]);
}

fn expect_bad(args: &[String], needles: &[&str]) -> String {
    let o = gapmap().args(args).output().unwrap();
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected exit 2 for {args:?}; stderr: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "stderr lacks '{n}': {err}");
    }
    err
}

fn with(mut base: Vec<String>, flag: &str, value: &str) -> Vec<String> {
    if let Some(i) = base.iter().position(|a| a == flag) {
        base[i + 1] = value.to_string();
    } else {
        base.push(flag.into());
        base.push(value.into());
    }
    base
}

#[test]
fn bad_inputs_exit_2_name_the_problem_and_write_nothing() {
    let sc = Scenario::new();
    let base = sc.args("out");
    let out = sc.root.join("out");
    let crs = Crs::parse("EPSG:3006", "t").unwrap();
    // Missing file.
    expect_bad(
        &with(base.clone(), "--premises", &sc.p("nope.gpkg")),
        &["nope.gpkg", "no such file"],
    );
    // Unreadable file.
    std::fs::write(sc.root.join("junk.gpkg"), "not a database").unwrap();
    expect_bad(
        &with(base.clone(), "--settlements", &sc.p("junk.gpkg")),
        &["junk.gpkg", "cannot be opened"],
    );
    // Unknown layer; several layers and none chosen.
    expect_bad(
        &with(base.clone(), "--settlements-layer", "towns"),
        &["no layer named 'towns'", "layers: s"],
    );
    let two = sc.root.join("two.gpkg");
    let f = vec![feat(
        Geometry::MultiPolygon(sq(0.0, 0.0, 10.0)),
        json!({"id": 1}),
    )];
    write_vector(
        &two,
        "GPKG",
        Some(&crs),
        &[
            OutLayer {
                name: "a",
                geometry_type: MULTI_POLYGON,
                table: &FeatureTable::from_json(&f),
                qml: None,
            },
            OutLayer {
                name: "b",
                geometry_type: MULTI_POLYGON,
                table: &FeatureTable::from_json(&f),
                qml: None,
            },
        ],
    )
    .unwrap();
    expect_bad(
        &with(base.clone(), "--settlements", &two.display().to_string()),
        &["two.gpkg", "choose one with --settlements-layer: a, b"],
    );
    // Missing field (explicit).
    expect_bad(
        &with(base.clone(), "--households-field", "hushall"),
        &[
            "'hushall'",
            "fields: id, x, y, households, workplaces",
            "--households-field",
        ],
    );
    expect_bad(
        &with(base.clone(), "--mobile-tech-field", "gen"),
        &["mobile.gpkg", "'gen'", "operator, tech"],
    );
    // Wrong geometry type.
    expect_bad(
        &with(base.clone(), "--settlements", &sc.p("fibre.gpkg")),
        &[
            "fibre.gpkg",
            "LineString",
            "expected Polygon or MultiPolygon",
        ],
    );
    // Empty premises and settlement layers.
    std::fs::write(sc.root.join("empty.csv"), "id,x,y\n").unwrap();
    expect_bad(
        &with(base.clone(), "--premises", &sc.p("empty.csv")),
        &["empty.csv", "no features"],
    );
    let empty = sc.root.join("empty.gpkg");
    write_vector(
        &empty,
        "GPKG",
        Some(&crs),
        &[OutLayer {
            name: "e",
            geometry_type: MULTI_POLYGON,
            table: &FeatureTable::from_json(&[]),
            qml: None,
        }],
    )
    .unwrap();
    expect_bad(
        &with(base.clone(), "--settlements", &empty.display().to_string()),
        &["empty.gpkg", "settlements layer has no features"],
    );
    // NaN and infinite coordinates.
    std::fs::write(
        sc.root.join("nan.csv"),
        "id,x,y\na,500000,6700000\nb,NaN,6700000\n",
    )
    .unwrap();
    expect_bad(
        &with(base.clone(), "--premises", &sc.p("nan.csv")),
        &["nan.csv", "row 1", "not a finite number"],
    );
    std::fs::write(sc.root.join("inf.csv"), "id,x,y\na,inf,6700000\n").unwrap();
    expect_bad(
        &with(base.clone(), "--premises", &sc.p("inf.csv")),
        &["inf.csv", "row 0"],
    );
    // No CRS for a CSV.
    let mut no_crs = base.clone();
    let i = no_crs.iter().position(|a| a == "--assume-crs").unwrap();
    no_crs.drain(i..i + 2);
    expect_bad(
        &no_crs,
        &[
            "premises.csv",
            "no coordinate reference system",
            "--assume-crs",
        ],
    );
    // Invalid polygons under --strict.
    let bow = sc.root.join("bow.gpkg");
    let bowtie = MultiPolygon::new(vec![
        polygon![(x: X0, y: Y0), (x: X0 + 100., y: Y0 + 100.), (x: X0 + 100., y: Y0), (x: X0, y: Y0 + 100.)],
    ]);
    write_vector(
        &bow,
        "GPKG",
        Some(&crs),
        &[OutLayer {
            name: "s",
            geometry_type: MULTI_POLYGON,
            table: &FeatureTable::from_json(&[feat(
                Geometry::MultiPolygon(bowtie),
                json!({"id": "BOW"}),
            )]),
            qml: None,
        }],
    )
    .unwrap();
    let mut strict = with(base.clone(), "--settlements", &bow.display().to_string());
    strict.push("--strict".into());
    expect_bad(
        &strict,
        &["bow.gpkg", "1 invalid polygon", "'BOW'", "--strict"],
    );
    // Usage errors.
    expect_bad(
        &with(base.clone(), "--drop-distance-m", "-5"),
        &["--drop-distance-m must be a finite number >= 0, got -5"],
    );
    expect_bad(
        &with(base.clone(), "--gap-cluster-m", "0"),
        &["--gap-cluster-m must be a finite number > 0"],
    );
    expect_bad(&with(base.clone(), "--threads", "0"), &["--threads"]);
    // Numbers beyond any real use are exit 2 naming the flag, not a failure later.
    expect_bad(
        &with(base.clone(), "--threads", "100000"),
        &["--threads must be at most"],
    );
    expect_bad(
        &with(base.clone(), "--gap-margin-m", "1e12"),
        &["--gap-margin-m must be at most 10000 metres"],
    );
    expect_bad(
        &with(base.clone(), "--drop-distance-m", "1e9"),
        &["--drop-distance-m must be at most"],
    );
    expect_bad(
        &with(base.clone(), "--map-simplify-m", "NaN"),
        &["--map-simplify-m must be a finite number"],
    );
    expect_bad(
        &with(base.clone(), "--crs", "EPSG:4326"),
        &["--crs", "not a projected CRS"],
    );
    expect_bad(
        &with(base.clone(), "--crs", "EPSG:999999"),
        &["--crs", "EPSG:999999"],
    );
    expect_bad(
        &["analyze".into(), "--premises".into(), sc.p("premises.csv")],
        &["--settlements"],
    );
    expect_bad(&["analyze".into(), "--bogus".into()], &["--bogus"]);
    assert!(
        !out.exists(),
        "a failed run must not create the output directory"
    );

    // Without --strict the bow-tie is repaired and reported.
    let o = gapmap()
        .args(with(
            base.clone(),
            "--settlements",
            &bow.display().to_string(),
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("repaired 1 invalid polygon"));
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["inputs"][0]["repaired"], json!(["'BOW'"]));

    // An existing, non-empty output directory needs --overwrite, and is left as it was.
    let before = std::fs::read(out.join("settlements.csv")).unwrap();
    expect_bad(&base, &["out", "--overwrite"]);
    // A failing run with --overwrite leaves the previous outputs whole.
    let mut failing = with(base.clone(), "--premises", &sc.p("nan.csv"));
    failing.push("--overwrite".into());
    expect_bad(&failing, &["nan.csv"]);
    assert_eq!(std::fs::read(out.join("settlements.csv")).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".gapmap"))
        .collect();
    assert!(leftovers.is_empty(), "staging directory left behind");
    // With --overwrite a good run replaces them.
    let mut ok = base.clone();
    ok.push("--overwrite".into());
    assert!(gapmap().args(&ok).output().unwrap().status.success());
    assert_ne!(std::fs::read(out.join("settlements.csv")).unwrap(), before);
}

#[test]
fn a_wrong_gapmap_data_is_an_error() {
    let o = gapmap()
        .env("GAPMAP_DATA", "/nonexistent/region")
        .args(["analyze", "--out", "/nonexistent/out"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("GAPMAP_DATA=/nonexistent/region"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn help_and_version_exit_0() {
    assert!(run(&["--help"]).status.success());
    assert!(run(&["analyze", "--help"]).status.success());
    let v = run(&["--version"]);
    assert!(
        v.status.success()
            && String::from_utf8_lossy(&v.stdout).contains(env!("CARGO_PKG_VERSION"))
    );
}

// ---- The bundled region ----------------------------------------------------------------

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/dalarna")
}

fn analyze_bundled(out: &Path, extra: &[&str]) {
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--out", out.to_str().unwrap()])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("Settlements with the most unserved premises"),
        "{stdout}"
    );
}

/// A compact, stable digest of the gap map, compared as golden JSON.
fn gap_digest(path: &Path) -> Value {
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut d: Map<String, Value> = Map::new();
    for f in g["features"].as_array().unwrap() {
        let p = &f["properties"];
        let k = p["kind"].as_str().unwrap().to_string();
        let e = d
            .entry(k)
            .or_insert(json!({"clusters": 0, "premises": 0, "households": 0, "workplaces": 0}));
        for (key, add) in [
            ("clusters", 1),
            ("premises", p["premises"].as_u64().unwrap()),
            ("households", p["households"].as_u64().unwrap()),
            ("workplaces", p["workplaces"].as_u64().unwrap()),
        ] {
            e[key] = json!(e[key].as_u64().unwrap() + add);
        }
    }
    Value::Object(d)
}

#[test]
fn bundled_region_matches_golden_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    analyze_bundled(&out, &[]);
    let got = read_csv(&out.join("settlements.csv"));
    let digest = gap_digest(&out.join("gaps.geojson"));
    let golden = golden_dir();
    if std::env::var_os("GAPMAP_BLESS").is_some() {
        std::fs::create_dir_all(&golden).unwrap();
        std::fs::copy(out.join("settlements.csv"), golden.join("settlements.csv")).unwrap();
        std::fs::write(
            golden.join("gaps-digest.json"),
            serde_json::to_string_pretty(&digest).unwrap() + "\n",
        )
        .unwrap();
    }
    // No area label contradicts its shares: each class is more than half of the premises,
    // and `mixed` is none more than half.
    let (w, g, b) = (
        col_u64(&got, "aid_white"),
        col_u64(&got, "aid_grey"),
        col_u64(&got, "aid_black"),
    );
    let classes = common::opt_strs(&got, "aid_class");
    for (i, c) in classes.iter().enumerate() {
        let (w, g, b) = (w[i], g[i], b[i]);
        let half = |n: u64| 2 * n > w + g + b;
        let expected = if half(w) {
            "white"
        } else if half(g) {
            "grey"
        } else if half(b) {
            "black"
        } else {
            "mixed"
        };
        assert_eq!(
            c.as_deref(),
            Some(expected),
            "row {i}: {w} white, {g} grey, {b} black"
        );
    }
    // Every settlement's resilience class follows from its fibre premises (0.9 redundant).
    let (single, redundant, none) = (
        col_u64(&got, "premises_single_fibre_path"),
        col_u64(&got, "premises_redundant_fibre_path"),
        col_u64(&got, "premises_no_fibre_path"),
    );
    let fclass = common::opt_strs(&got, "fibre_redundancy_class");
    for i in 0..got.height() - 1 {
        let total = single[i] + redundant[i] + none[i];
        let expected = if total > 0 && redundant[i] as f64 >= 0.9 * total as f64 {
            "redundant"
        } else if single[i] + redundant[i] > 0 {
            "single"
        } else {
            "none"
        };
        assert_eq!(fclass[i].as_deref(), Some(expected), "row {i}");
    }
    let want = read_csv(&golden.join("settlements.csv"));
    assert_eq!(got.height(), want.height(), "row count");
    assert_eq!(got.get_column_names(), want.get_column_names(), "columns");
    assert_eq!(got.height(), 114 + 1, "114 tätorter and the rural row");
    for name in want.get_column_names() {
        let (g, w) = (got.column(name).unwrap(), want.column(name).unwrap());
        if name.starts_with("share_") {
            let g: Vec<Option<f64>> = g.f64().unwrap().iter().collect();
            let w: Vec<Option<f64>> = w.f64().unwrap().iter().collect();
            for (i, (a, b)) in g.iter().zip(&w).enumerate() {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        assert!((a - b).abs() <= 1e-9, "{name} row {i}: {a} vs {b}")
                    }
                    _ => assert_eq!(a, b, "{name} row {i}"),
                }
            }
        } else {
            assert_eq!(strs(&got, name), strs(&want, name), "column {name}");
        }
    }
    let want_digest: Value =
        serde_json::from_str(&std::fs::read_to_string(golden.join("gaps-digest.json")).unwrap())
            .unwrap();
    assert_eq!(digest, want_digest);
}

#[test]
fn bundled_region_is_identical_at_1_and_3_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t3"));
    analyze_bundled(&a, &["--threads", "1"]);
    analyze_bundled(&b, &["--threads", "3"]);
    for f in [
        "settlements.csv",
        "settlements.parquet",
        "premises.parquet",
        "gaps.geojson",
        "settlements.geojson",
        "critical_links.csv",
        "critical_links.parquet",
        "critical_links.geojson",
    ] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 3 threads"
        );
    }
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["parameters"]["threads"], 3);
}

#[test]
fn every_gap_premise_lies_in_its_gap_polygon() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    analyze_bundled(&out, &[]);
    let p = read_parquet(&out.join("premises.parquet"));
    let xs: Vec<f64> = p
        .column("x")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let ys: Vec<f64> = p
        .column("y")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let gid: Vec<Option<u32>> = p.column("gap_id").unwrap().u32().unwrap().iter().collect();
    // Premises to WGS 84, like the GeoJSON.
    let t = gapmap_io::crs::Transform::new(&Crs::parse("EPSG:3006", "t").unwrap(), &Crs::wgs84())
        .unwrap();
    let (mut lon, mut lat) = (xs.clone(), ys.clone());
    t.coords(&mut lon, &mut lat).unwrap();
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gaps.geojson")).unwrap()).unwrap();
    let areas: Vec<gapmap_core::prepared::PreparedArea> = g["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let polys = f["geometry"]["coordinates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|poly| {
                    let rings: Vec<gapmap_core::geo::LineString<f64>> = poly
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| {
                            r.as_array()
                                .unwrap()
                                .iter()
                                .map(|c| (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()))
                                .collect::<Vec<_>>()
                                .into()
                        })
                        .collect();
                    let mut it = rings.into_iter();
                    gapmap_core::geo::Polygon::new(it.next().unwrap(), it.collect())
                });
            gapmap_core::prepared::PreparedArea::from_multi_polygon(&MultiPolygon::new(
                polys.collect(),
            ))
        })
        .collect();
    let mut checked = 0;
    for i in 0..xs.len() {
        if let Some(id) = gid[i] {
            let c = gapmap_core::geo::Coord {
                x: lon[i],
                y: lat[i],
            };
            assert!(
                areas[id as usize - 1].covers(c),
                "premise {i} outside gap {id}"
            );
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
}

/// Coordinate pairs in a GeoJSON FeatureCollection of (multi)polygons.
fn vertex_count(path: &Path) -> usize {
    let g: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    g["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            let polys = match f["geometry"]["type"].as_str().unwrap() {
                "MultiPolygon" => c.as_array().unwrap().clone(),
                _ => vec![c.clone()],
            };
            polys
                .iter()
                .flat_map(|p| p.as_array().unwrap().iter())
                .map(|r| r.as_array().unwrap().len())
                .sum::<usize>()
        })
        .sum()
}

#[test]
fn map_simplify_thins_both_web_maps_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, thin) = (tmp.path().join("full"), tmp.path().join("thin"));
    analyze_bundled(&full, &["--map-simplify-m", "0"]);
    analyze_bundled(&thin, &["--map-simplify-m", "5"]);
    for f in ["gaps.geojson", "settlements.geojson"] {
        let (a, b) = (vertex_count(&full.join(f)), vertex_count(&thin.join(f)));
        assert!(b < a, "{f}: {b} vertices simplified, {a} in full");
    }
    assert_eq!(
        gap_digest(&full.join("gaps.geojson")),
        gap_digest(&thin.join("gaps.geojson"))
    );
    for f in ["settlements.csv", "premises.parquet"] {
        assert!(
            std::fs::read(full.join(f)).unwrap() == std::fs::read(thin.join(f)).unwrap(),
            "{f} depends on --map-simplify-m"
        );
    }
    // Without the GeoPackage the outlines are simplified in place as they are made; with it,
    // copies are simplified when the maps are written. The web maps are the same either way.
    let with_gpkg = tmp.path().join("with_gpkg");
    analyze_bundled(&with_gpkg, &["--map-simplify-m", "5", "--gpkg"]);
    for f in ["gaps.geojson", "settlements.geojson", "aid_areas.geojson"] {
        assert!(
            std::fs::read(thin.join(f)).unwrap() == std::fs::read(with_gpkg.join(f)).unwrap(),
            "{f} differs with --gpkg"
        );
    }
}

#[test]
fn batch_sweeps_scenarios_into_one_table_and_survives_failures() {
    let sc = Scenario::new();
    let toml = format!(
        r#"
[defaults]
assume_crs = "EPSG:3006"

[[workload]]
name = "small"
premises = "{p}"
settlements = "{s}"
fibre = ["{f}"]
mobile = ["{m}"]

[[workload]]
name = "broken"
premises = "{root}/nope.parquet"
settlements = "{s}"

[grid]
drop_distance_m = [49.99, 50]
"#,
        p = sc.p("premises.csv"),
        s = sc.p("settlements.gpkg"),
        f = sc.p("fibre.gpkg"),
        m = sc.p("mobile.gpkg"),
        root = sc.root.display()
    );
    let cfg = sc.root.join("batch.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = sc.root.join("batch-out");
    let o = gapmap()
        .args([
            "batch",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let t = read_parquet(&out.join("batch.parquet"));
    // Each scenario's run.json names where it was published (not where it was staged), and
    // its files still check against it.
    let scenarios: Vec<_> = std::fs::read_dir(out.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| d.join("run.json").exists())
        .collect();
    assert_eq!(scenarios.len(), 2);
    for d in &scenarios {
        let run: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("run.json")).unwrap()).unwrap();
        assert_eq!(run["parameters"]["out"], d.display().to_string());
        assert_eq!(run["plan"]["out"], d.display().to_string());
        gapmap::run_info::read_complete_analysis(d).unwrap();
    }
    // 2 scenarios × 3 rows (A, B, rural) + 2 failed scenarios × 1 row.
    assert_eq!(t.height(), 2 * 3 + 2);
    let status = strs(&t, "status");
    assert_eq!(status.iter().filter(|s| *s == "failed").count(), 2);
    let errors = strs(&t, "error");
    assert!(
        errors.iter().any(|e| e.contains("nope.parquet")),
        "{errors:?}"
    );
    // The drop distance decides p1 (exactly 50 m from fibre) in settlement A.
    let ok: Vec<usize> = (0..t.height()).filter(|&i| status[i] == "ok").collect();
    let ids = strs(&t, "settlement_id");
    let drop: Vec<f64> = t
        .column("drop_distance_m")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let passed: Vec<Option<i64>> = t
        .column("fibre_passed")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    let a = |d: f64| {
        ok.iter()
            .find(|&&i| ids[i] == "A" && drop[i] == d)
            .map(|&i| passed[i])
            .unwrap()
    };
    assert_eq!((a(49.99), a(50.0)), (Some(0), Some(1)));
    // Timings and memory per phase, and a run.json per scenario.
    // CPU time per phase is measured on Linux only.
    let timed: &[&str] = if cfg!(target_os = "linux") {
        &["fibre_s", "fibre_cpu_s"]
    } else {
        &["fibre_s"]
    };
    for name in timed {
        let col = t.column(name).unwrap().f64().unwrap();
        assert!(col.iter().flatten().all(|v| v >= 0.0), "{name}");
        assert!(col.iter().flatten().count() > 0, "{name}");
    }
    assert!(t.column("total_peak_rss_mib").is_ok());
    let scen = std::fs::read_dir(out.join("scenarios")).unwrap().count();
    assert_eq!(scen, 2, "successful scenarios keep a folder with run.json");
    let csv = read_csv(&out.join("batch.csv"));
    assert_eq!(csv.height(), t.height());
}

#[test]
fn batch_rejects_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("b.toml");
    std::fs::write(
        &cfg,
        "[[workload]]\nname = \"x\"\n[grid]\ndrop_distance_m = 5\n",
    )
    .unwrap();
    let o = gapmap()
        .args([
            "batch",
            cfg.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("drop_distance_m must be a non-empty array"),
        "{}",
        stderr(&o)
    );
    std::fs::write(
        &cfg,
        "[[workload]]\nname = \"x\"\nbogus_key_at_top = 1\n[typo]\n",
    )
    .unwrap();
    let o = gapmap()
        .args([
            "batch",
            cfg.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_recorded_plan_reruns_with_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, second) = (tmp.path().join("first"), tmp.path().join("second"));
    analyze_bundled(&first, &["--outputs", "tables", "--drop-distance-m", "80"]);
    let run_json = first.join("run.json");
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--plan", run_json.to_str().unwrap()])
        .args(["--out", second.to_str().unwrap(), "--threads", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(first.join("settlements.csv")).unwrap(),
        std::fs::read(second.join("settlements.csv")).unwrap()
    );
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(second.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["parameters"]["drop_distance_m"], json!(80.0));
    assert_eq!(run["parameters"]["threads"], json!(1));
    assert_eq!(run["plan"]["drop_distance_m"], json!(80.0));

    // Analysis flags beside --plan are refused; a missing or foreign file is named.
    let third = tmp.path().join("third");
    let base = |extra: &[&str]| -> Vec<String> {
        ["analyze", "--out", third.to_str().unwrap()]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let rj = run_json.to_str().unwrap();
    expect_bad(
        &base(&["--plan", rj, "--drop-distance-m", "10"]),
        &["--plan", "only --out, --overwrite and --threads"],
    );
    expect_bad(
        &base(&["--plan", "/nonexistent/run.json"]),
        &["/nonexistent/run.json", "no such file"],
    );
    let foreign = tmp.path().join("foreign.json");
    std::fs::write(&foreign, r#"{"drop_distance": 5}"#).unwrap();
    expect_bad(
        &base(&["--plan", foreign.to_str().unwrap()]),
        &["foreign.json", "not an analysis plan", "drop_distance"],
    );
    assert!(!third.exists(), "a refused plan writes nothing");
}

#[test]
fn overwrite_leaves_no_file_of_the_earlier_analysis_and_never_an_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    analyze_bundled(&out, &[]);
    let r = gapmap()
        .current_dir(repo())
        .args(["report", o])
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let g = gapmap()
        .current_dir(repo())
        .args(["grid", o, "--scb", "1000"])
        .output()
        .unwrap();
    assert!(g.status.success(), "{}", stderr(&g));
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    // A dead run's staging directory (its owner is no process) never blocks a rerun.
    let dead = out.join(".gapmap-staging-dead");
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join(".owner"), "4000000000 1").unwrap();
    for f in [
        "premises.parquet",
        "gaps.geojson",
        "report.html",
        "map.html",
        "grid/grid.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing before the rerun");
    }
    // The rerun writes only tables: everything else of the first run goes.
    analyze_bundled(&out, &["--overwrite", "--outputs", "tables"]);
    for f in [
        "premises.parquet",
        "gaps.geojson",
        "settlements.geojson",
        "gaps.qml",
        "critical_links.geojson",
        "report.html",
        "map.html",
        "map.png",
        "grid",
        ".gapmap-staging-dead",
    ] {
        assert!(!out.join(f).exists(), "{f} left from the earlier run");
    }
    for f in [
        "settlements.csv",
        "settlements.parquet",
        "run.json",
        "notes.txt",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["parameters"]["outputs"], json!(["tables"]));

    // An input among the files --overwrite would replace is refused, and nothing changes.
    std::fs::copy(
        repo().join("data/dalarna/premises.parquet"),
        out.join("premises.parquet"),
    )
    .unwrap();
    let before = std::fs::read(out.join("settlements.csv")).unwrap();
    let args: Vec<String> = [
        "analyze",
        "--premises",
        out.join("premises.parquet").to_str().unwrap(),
        "--settlements",
        repo()
            .join("data/dalarna/settlements.gpkg")
            .to_str()
            .unwrap(),
        "--out",
        o,
        "--overwrite",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expect_bad(&args, &["premises.parquet", "is an input", "--overwrite"]);
    assert_eq!(std::fs::read(out.join("settlements.csv")).unwrap(), before);
}

/// Premises as a CSV of longitude/latitude pairs (no CRS in the file).
fn lonlat_premises(dir: &Path, name: &str, rows: &[(f64, f64)]) -> PathBuf {
    let mut text = String::from("id,x,y\n");
    for (i, (x, y)) in rows.iter().enumerate() {
        text.push_str(&format!("{i},{x},{y}\n"));
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn inputs_that_do_not_fit_together_are_an_error_before_any_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    let d = repo().join("data/dalarna");
    let settlements = d.join("settlements.gpkg");
    let falun = [(15.63, 60.61), (15.64, 60.60), (14.55, 60.49)];
    let lonlat = lonlat_premises(tmp.path(), "lonlat.csv", &falun);
    let swapped: Vec<(f64, f64)> = falun.iter().map(|&(x, y)| (y, x)).collect();
    let swapped = lonlat_premises(tmp.path(), "swapped.csv", &swapped);
    let out = tmp.path().join("out");
    let args = |premises: &Path, crs: &str| -> Vec<String> {
        [
            "analyze",
            "--premises",
            premises.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
            "--settlement-id-field",
            "tatortskod",
            "--fibre",
            d.join("fibre.gpkg").to_str().unwrap(),
            "--fibre-layer",
            "routes",
            "--assume-crs",
            crs,
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    // The trap: longitude/latitude given as SWEREF 99 TM metres.
    expect_bad(
        &args(&lonlat, "EPSG:3006"),
        &[
            "lonlat.csv",
            "longitude and latitude read as metres",
            "--assume-crs",
        ],
    );
    // Latitude and longitude swapped: the premises land far from the settlements.
    expect_bad(
        &args(&swapped, "EPSG:4326"),
        &[
            "swapped.csv",
            "settlements.gpkg",
            "do not overlap",
            "swapped",
            "° E",
            "° N",
        ],
    );
    assert!(!out.exists(), "nothing is written");
    // The same premises, read right, run.
    let o = gapmap().args(args(&lonlat, "EPSG:4326")).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));

    // `gapmap check` shows where each layer lies, and exits 2 on the trap.
    let o = gapmap()
        .current_dir(repo())
        .args(["check"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "premises",
        "settlements",
        "fibre",
        "mobile",
        "backbone",
        "60.",
        "The inputs fit together",
    ] {
        assert!(table.contains(needle), "check lacks '{needle}': {table}");
    }
    let mut check = args(&lonlat, "EPSG:3006");
    check[0] = "check".into();
    let e = expect_bad(&check, &["do not fit together", "longitude and latitude"]);
    assert!(e.contains("premises") && e.contains("settlements"), "{e}");
}

#[test]
fn a_layer_that_misses_most_premises_is_a_notice_with_the_share() {
    let tmp = tempfile::tempdir().unwrap();
    let d = repo().join("data/dalarna");
    // One premise in Falun, three in Stockholm: the bundled fibre reaches a quarter of them.
    let p = lonlat_premises(
        tmp.path(),
        "p.csv",
        &[
            (15.63, 60.61),
            (18.06, 59.33),
            (18.07, 59.33),
            (18.08, 59.34),
        ],
    );
    let out = tmp.path().join("out");
    let o = gapmap()
        .args([
            "analyze",
            "--premises",
            p.to_str().unwrap(),
            "--settlements",
            d.join("settlements.gpkg").to_str().unwrap(),
            "--settlement-id-field",
            "tatortskod",
            "--fibre",
            d.join("fibre.gpkg").to_str().unwrap(),
            "--fibre-layer",
            "routes",
            "--assume-crs",
            "EPSG:4326",
            "--outputs",
            "tables",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("fibre layer reaches only 25.0 % of the premises"),
        "{err}"
    );
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n.as_str().unwrap().contains("25.0 %")));
}

#[test]
fn grid_prioritise_and_report_refuse_an_incomplete_analysis() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a");
    analyze_bundled(&out, &["--outputs", "tables,premises"]);
    std::fs::remove_file(out.join("premises.parquet")).unwrap();
    let o = out.to_str().unwrap();
    for args in [
        vec!["report", o],
        vec!["grid", o],
        vec!["prioritise", o, "--budget-sek", "1000000"],
    ] {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        expect_bad(
            &args,
            &["run.json", "not the one", "premises.parquet is missing"],
        );
    }
    assert!(!out.join("report.html").exists() && !out.join("grid").exists());

    // Files of two runs side by side (a copy half made, or a file replaced by hand) are not
    // read as one analysis: run.json records every file's size and SHA-256.
    let other = tmp.path().join("b");
    analyze_bundled(&other, &["--outputs", "tables", "--drop-distance-m", "20"]);
    let fresh = tmp.path().join("c");
    analyze_bundled(&fresh, &["--outputs", "tables"]);
    std::fs::copy(other.join("settlements.csv"), fresh.join("settlements.csv")).unwrap();
    let f = fresh.to_str().unwrap();
    let args: Vec<String> = ["grid", f].iter().map(|s| s.to_string()).collect();
    expect_bad(
        &args,
        &[
            "run.json",
            "settlements.csv",
            "bytes where run.json records",
        ],
    );
    // The same size, other bytes.
    let mut bytes = std::fs::read(fresh.join("settlements.parquet")).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 1;
    std::fs::write(fresh.join("settlements.parquet"), bytes).unwrap();
    expect_bad(
        &args,
        &["settlements.parquet is not the file run.json records"],
    );
    assert!(!fresh.join("grid").exists());
}

#[test]
fn gdal_and_proj_failures_are_told_in_words_without_raw_library_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    // PROJ's own reason, and no raw "ERROR 1: PROJ: ..." line before gapmap's message.
    let e = expect_bad(
        &["analyze", "--crs", "EPSG:999999", "--out", o].map(String::from),
        &["--crs", "EPSG:999999", "crs not found"],
    );
    assert!(!e.contains("ERROR 1"), "{e}");
    // A file GDAL opens as nothing: a reason, never an empty one.
    let empty = tmp.path().join("empty.gpkg");
    std::fs::write(&empty, "").unwrap();
    let settlements = repo().join("data/dalarna/settlements.gpkg");
    let e = expect_bad(
        &[
            "analyze",
            "--premises",
            empty.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
            "--out",
            o,
        ]
        .map(String::from),
        &["empty.gpkg", "GDAL recognises no vector format"],
    );
    assert!(!e.contains("''"), "{e}");
}

/// A settlement square and premises around (`lon`, `lat`), as RFC 7946 GeoJSON files in
/// `dir`; returns (premises, settlements).
fn lonlat_place(dir: &Path, name: &str, lon: f64, lat: f64) -> (PathBuf, PathBuf) {
    let d = 0.01;
    let settlements = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"id":"{name}","name":"{name}"}},"geometry":{{"type":"Polygon","coordinates":[[[{a},{b}],[{c},{b}],[{c},{e}],[{a},{e}],[{a},{b}]]]}}}}]}}"#,
        a = lon - d,
        b = lat - d,
        c = lon + d,
        e = lat + d
    );
    let premises: Vec<String> = (0..5)
        .map(|k| {
            format!(
                r#"{{"type":"Feature","properties":{{"id":{k}}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}"#,
                lon - 0.004 + 0.002 * k as f64,
                lat
            )
        })
        .collect();
    let p = write_file(
        dir,
        &format!("{name}-premises.geojson"),
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            premises.join(",")
        ),
    );
    let s = write_file(dir, &format!("{name}-settlements.geojson"), settlements);
    (p, s)
}

#[test]
fn the_working_crs_follows_the_data_and_an_explicit_one_must_be_meant_for_them() {
    let tmp = tempfile::tempdir().unwrap();
    let check = |premises: &Path, settlements: &Path, extra: &[&str]| {
        let mut args: Vec<String> = [
            "check",
            "--premises",
            premises.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    // Without --crs: SWEREF 99 TM in Sweden, the UTM zone elsewhere (Oslo lies inside
    // SWEREF 99 TM's box of use, but not in Sweden), printed and said why.
    for (name, lon, lat, expected) in [
        ("falun", 15.63, 60.61, "EPSG:3006"),
        ("oslo", 10.75, 59.91, "EPSG:32632"),
        ("helsinki", 24.94, 60.17, "EPSG:32635"),
    ] {
        let (p, s) = lonlat_place(tmp.path(), name, lon, lat);
        let o = run(&check(&p, &s, &[]));
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains(&format!("Working CRS: {expected}")),
            "{name}: {out}"
        );
        let err = stderr(&o);
        assert!(
            err.contains(&format!("working CRS {expected} (--crs auto)")),
            "{name}: {err}"
        );
    }
    // An explicit CRS meant for another place is an error naming it and where the data are.
    let (p, s) = lonlat_place(tmp.path(), "helsinki", 24.94, 60.17);
    expect_bad(
        &check(&p, &s, &["--crs", "EPSG:3006"]),
        &["--crs EPSG:3006", "meant for", "24.94° E", "--crs auto"],
    );
    expect_bad(
        &check(&p, &s, &["--crs", "EPSG:32633"]),
        &["--crs EPSG:32633", "meant for"],
    );
    // `gapmap settlements` chooses the same way, from its premises.
    let (oslo, _) = lonlat_place(tmp.path(), "oslo", 10.75, 59.91);
    let out = tmp.path().join("derived");
    let o = run(&[
        "settlements",
        "--from-premises",
        oslo.to_str().unwrap(),
        "--min-population",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("working CRS EPSG:32632 (--crs auto)"),
        "{}",
        stderr(&o)
    );
    // One meant for the place is taken as given.
    let o = run(&check(&p, &s, &["--crs", "EPSG:3067"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Working CRS: EPSG:3067"));
}

#[test]
fn population_spreads_onto_premises_and_every_table_counts_its_households() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let grid = repo().join("data/dalarna/population_1km.gpkg");
    analyze_bundled(
        &out,
        &[
            "--population",
            grid.to_str().unwrap(),
            "--population-field",
            "befolkning_2025",
            "--population-id-field",
            "rutid",
            "--persons-per-household",
            "2.5",
            "--outputs",
            "tables,premises",
        ],
    );
    let record = common::json(&out.join("run.json"));
    let pop = &record["population"];
    // SCB's published total for the grid, every person placed (the bundled premises were
    // made from this grid, so every square has premises).
    assert_eq!(pop["persons"], 285_587);
    assert_eq!(pop["placed_persons"], 285_587);
    assert_eq!(pop["unplaced_areas"], 0);
    assert_eq!(pop["persons_per_household"], 2.5);
    assert!(record["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["role"] == "population areas" && i["features"] == 4004));
    let premises = read_parquet(&out.join("premises.parquet"));
    let persons = common::ints(&premises, "persons");
    let households = common::ints(&premises, "households");
    assert_eq!(persons.iter().sum::<i64>(), 285_587);
    for (&p, &h) in persons.iter().zip(&households) {
        let want = if p == 0 {
            0
        } else {
            ((p as f64 / 2.5).round() as i64).max(1)
        };
        assert_eq!(h, want, "{p} persons");
    }
    // The households made from persons are what the tables count.
    let total: i64 = households.iter().sum();
    assert_eq!(pop["households"], total);
    assert_eq!(record["totals"]["households"], total);
    let settlements = read_csv(&out.join("settlements.csv"));
    assert_eq!(
        common::ints(&settlements, "households").iter().sum::<i64>(),
        total
    );

    // Without --population the premises keep their own households and have no persons column.
    let plain = tmp.path().join("plain");
    analyze_bundled(&plain, &["--outputs", "tables,premises"]);
    let p = read_parquet(&plain.join("premises.parquet"));
    assert!(p.column("persons").is_err());
    assert_ne!(common::ints(&p, "households").iter().sum::<i64>(), total);

    // Bad input: exit 2, naming the flag, field or feature; nothing written.
    let bad = tmp.path().join("bad");
    for (args, needle) in [
        (
            vec!["--population-weight-field", "floors"],
            "needs --population",
        ),
        (
            vec!["--population", grid.to_str().unwrap()],
            "--population-field",
        ),
        (
            vec![
                "--population",
                grid.to_str().unwrap(),
                "--population-field",
                "rutid_missing",
            ],
            "rutid_missing",
        ),
    ] {
        let mut a = vec!["analyze", "--out", bad.to_str().unwrap()];
        a.extend(args);
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{a:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{a:?}: {}", stderr(&o));
        assert!(!bad.exists());
    }
}

#[test]
fn where_filters_keep_only_what_they_select_and_name_themselves_when_they_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let d = repo().join("data/dalarna");
    let s = |p: &str| d.join(p).to_str().unwrap().to_string();
    let base = vec![
        "analyze".to_string(),
        "--premises".into(),
        s("premises.parquet"),
        "--settlements".into(),
        s("settlements.gpkg"),
        "--settlement-id-field".into(),
        "tatortskod".into(),
        "--fibre".into(),
        s("fibre.gpkg"),
        "--fibre-layer".into(),
        "routes".into(),
        "--fibre-layer".into(),
        "nodes".into(),
        "--outputs".into(),
        "tables".into(),
    ];
    let with = |extra: &[&str], out: &str| {
        let mut a = base.clone();
        a.extend(extra.iter().map(|x| x.to_string()));
        a.extend([
            "--out".to_string(),
            tmp.path().join(out).display().to_string(),
        ]);
        a
    };
    // Falun kommun's 16 tätorter, and the fibre without its regional trunks.
    common::ok(&with(
        &[
            "--settlements-where",
            "kommun = '2080'",
            "--fibre-where",
            "kind <> 'trunk'",
        ],
        "falun",
    ));
    let record = common::json(&tmp.path().join("falun/run.json"));
    let inputs = record["inputs"].as_array().unwrap();
    let input = |role: &str, layer: &str| {
        inputs
            .iter()
            .find(|i| i["role"] == role && i["layer"] == layer)
            .unwrap()
            .clone()
    };
    assert_eq!(
        input("settlements", "tatorter_2023_dalarna")["features"],
        16
    );
    assert_eq!(
        input("settlements", "tatorter_2023_dalarna")["filter"],
        "kommun = '2080'"
    );
    let routes = input("fibre", "routes");
    assert_eq!(routes["filter"], "kind <> 'trunk'");
    assert_eq!(
        routes["features"],
        35_031 - 144,
        "the bundled fibre has 144 trunks"
    );
    let table = read_csv(&tmp.path().join("falun/settlements.csv"));
    assert_eq!(table.height(), 17, "16 settlements and the rural row");
    assert_eq!(record["plan"]["settlements_where"], "kommun = '2080'");

    // A CSV of premises is filtered by GDAL.
    let csv = write_file(
        tmp.path(),
        "p.csv",
        "id,x,y,households,workplaces\n1,534000,6721000,1,0\n2,534100,6721000,0,3\n3,534200,6721000,2,0\n"
            .into(),
    );
    common::ok(&[
        "analyze",
        "--premises",
        csv.to_str().unwrap(),
        "--assume-crs",
        "EPSG:3006",
        "--settlements",
        &s("settlements.gpkg"),
        "--premises-where",
        "households > 0",
        "--outputs",
        "tables",
        "--out",
        tmp.path().join("csv").to_str().unwrap(),
    ]);
    let record = common::json(&tmp.path().join("csv/run.json"));
    assert_eq!(record["totals"]["premises"], 2);
    assert_eq!(record["totals"]["households"], 3);

    // Filters that select nothing, that GDAL cannot evaluate, or on a Parquet table: exit 2,
    // naming the flag and the filter, and nothing written.
    for (extra, needles) in [
        (
            vec!["--fibre-where", "network = 'nope'"],
            vec!["--fibre-where", "selects none of its 35031 features"],
        ),
        (
            vec!["--settlements-where", "kommun ==== 1"],
            vec!["--settlements-where", "syntax error"],
        ),
        (
            vec!["--fibre-where", "no_such_field = 1"],
            vec!["--fibre-where", "no_such_field"],
        ),
        (
            vec!["--premises-where", "households > 1"],
            vec!["--premises-where", "not Parquet"],
        ),
    ] {
        let a = with(&extra, "bad");
        let o = run(&a);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        for n in needles {
            assert!(stderr(&o).contains(n), "{extra:?}: {}", stderr(&o));
        }
        assert!(!tmp.path().join("bad").exists());
    }
}

#[test]
fn database_sources_fail_with_gdals_reason_and_never_show_a_password() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&[
        "analyze",
        "--premises",
        "PG:dbname=gapmap_test host=/nonexistent-socket-dir user=anna password=s3cr3t-pw",
        "--settlements",
        repo()
            .join("data/dalarna/settlements.gpkg")
            .to_str()
            .unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("s3cr3t"), "{err}");
    assert!(
        err.contains("password=***") && err.contains("cannot be opened"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_corrupt_parquet_footer_is_exit_2_under_a_memory_limit() {
    // RELIABILITY.md findings 4, 8 and 10: footers whose lists claim 17 GB and 100 GB of
    // elements (finding 10's behind a list of booleans that polars-parquet skips in no
    // bytes). Without the footer check, polars-parquet's reservation fails under a
    // memory limit (a container, `ulimit -v`, strict overcommit) and the process aborts (exit
    // 134).
    let fixtures = repo().join("crates/gapmap-io/tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "corrupt_footer_list.parquet",
        "corrupt_footer_schema.parquet",
        "corrupt_footer_bool_list.parquet",
        // Finding 11: a row group claiming 118 G rows (the CRS given, so that the read gets
        // past its CRS check to the allocation).
        "corrupt_row_group_rows.parquet",
    ] {
        let script = format!(
            "ulimit -v 8000000; exec '{}' analyze --premises '{}' --assume-crs EPSG:3006 --settlements '{}' --out '{}'",
            env!("CARGO_BIN_EXE_gapmap"),
            fixtures.join(name).display(),
            repo().join("data/dalarna/settlements.gpkg").display(),
            dir.path().join(name).display()
        );
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(name) && stderr(&o).contains("corrupt"),
            "{}",
            stderr(&o)
        );
    }
}
