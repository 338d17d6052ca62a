//! End-to-end tests of `gapmap predict` and `gapmap analyze --sites`: a hand-computed link
//! budget, polygons and per-premise prediction agreeing, terrain from a real DEM, critical
//! sites, and bad input (exit 2, the site named, nothing written).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::path::{Path, PathBuf};

mod common;

use common::*;
use polars::prelude::*;
use serde_json::Value;

/// Free-space loss, written out here independently of the library: 20 log10(4π d f / c).
fn fspl_db(d_m: f64, f_mhz: f64) -> f64 {
    20.0 * (4.0 * std::f64::consts::PI * d_m * f_mhz * 1e6 / 299_792_458.0).log10()
}

const X0: f64 = 500_000.0;
const Y0: f64 = 6_700_000.0;

/// Two sites in SWEREF 99 TM: S1 (op A, 4G, omni, 30 m, 800 MHz, EIRP 40 dBm, 10 MHz) at the
/// origin, and S2 (op B, 4G, sector towards east, 30 m, 800 MHz, EIRP 40 dBm) 40 km east
/// (the sites' radii, about 21.6 km, do not meet).
/// Premises: P1 1 km north of S1, P2 30 km north (beyond every radius), P3 1 km east of S2
/// (boresight), P4 1 km west of S2 (the back: 20 dB less).
fn scenario(dir: &Path) -> (PathBuf, PathBuf) {
    let sites = dir.join("sites.csv");
    std::fs::write(
        &sites,
        format!(
            "site_id,operator,tech,x,y,height_m,frequency_mhz,eirp_dbm,bandwidth_mhz,azimuth_deg\n\
             S1,A,4G,{X0},{Y0},30,800,40,10,\n\
             S2,B,4G,{},{Y0},30,800,40,10,90\n",
            X0 + 40_000.0
        ),
    )
    .unwrap();
    let premises = dir.join("premises.csv");
    std::fs::write(
        &premises,
        format!(
            "id,x,y,households\n1,{X0},{}\n2,{X0},{}\n3,{},{Y0},2\n4,{},{Y0},1\n",
            Y0 + 1000.0,
            Y0 + 30_000.0,
            X0 + 41_000.0,
            X0 + 39_000.0
        )
        .replace(
            &format!("{}\n2", Y0 + 1000.0),
            &format!("{},1\n2", Y0 + 1000.0),
        )
        .replace(
            &format!("{}\n3", Y0 + 30_000.0),
            &format!("{},1\n3", Y0 + 30_000.0),
        ),
    )
    .unwrap();
    (sites, premises)
}

#[test]
fn predict_has_the_hand_computed_link_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, premises) = scenario(dir.path());
    let out = dir.path().join("out");
    ok(&[
        "predict",
        "--sites",
        sites.to_str().unwrap(),
        "--premises",
        premises.to_str().unwrap(),
        "--assume-crs",
        "EPSG:3006",
        "--model",
        "free-space",
        "--grid-m",
        "200",
        "--out",
        out.to_str().unwrap(),
    ]);
    // RSRP = EIRP − FSPL(d3D) − 10 log10(12 · 50 RB) [10 MHz LTE] − pattern.
    let offset = 10.0 * 600f64.log10();
    let d3 = 1000f64.hypot(28.5);
    let p1 = 40.0 - fspl_db(d3, 800.0) - offset;
    let p = read_csv(&out.join("premise_prediction.csv"));
    let best = floats(&p, "best_4g_rsrp_dbm");
    assert!((best[0].unwrap() - p1).abs() < 0.01, "{best:?} vs {p1}");
    assert_eq!(best[1], None, "30 km is beyond the radius");
    assert!((best[2].unwrap() - p1).abs() < 0.01);
    // The back of the sector: 20 dB below boresight, still above −105 dBm here.
    assert!((best[3].unwrap() - (p1 - 20.0)).abs() < 0.01);
    assert_eq!(
        opt_strs(&p, "best_4g_site"),
        [
            Some("S1".into()),
            None,
            Some("S2".into()),
            Some("S2".into())
        ]
    );
    assert_eq!(
        floats(&p, "mobile_4g_sites"),
        [Some(1.0), Some(0.0), Some(1.0), Some(1.0)]
    );
    let a = floats(&p, "rsrp_4g_dbm_A");
    assert!((a[0].unwrap() - p1).abs() < 0.01);
    // The radius: where free-space RSRP meets −105 dBm (3D distance, then 2D).
    let margin = 40.0 - offset + 105.0;
    let d3max = 10f64.powf((margin - fspl_db(1.0, 800.0)) / 20.0);
    let r2 = (d3max * d3max - 28.5 * 28.5).sqrt();
    let s = read_csv(&out.join("sites.csv"));
    let radius = floats(&s, "radius_m");
    assert!(
        (radius[0].unwrap() - r2).abs() <= 0.001 * r2 + 1.0,
        "{radius:?} vs {r2}"
    );
    // Critical sites: S2 carries two premises (three households), S1 one.
    let c = read_csv(&out.join("critical_sites.csv"));
    assert_eq!(
        opt_strs(&c, "site_id"),
        [Some("S2".into()), Some("S1".into())]
    );
    assert_eq!(floats(&c, "premises_cut"), [Some(2.0), Some(1.0)]);
    assert_eq!(floats(&c, "households_cut"), [Some(3.0), Some(1.0)]);
    // The coverage map: one feature per operator, a disc of about π r² for the omni site.
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("coverage.geojson")).unwrap())
            .unwrap();
    let feats = g["features"].as_array().unwrap();
    assert_eq!(feats.len(), 2);
    assert_eq!(feats[0]["properties"]["operator"], "A");
    let area = feats[0]["properties"]["area_km2"].as_f64().unwrap();
    let disc = std::f64::consts::PI * r2 * r2 / 1e6;
    assert!((area - disc).abs() < 0.02 * disc, "{area} vs {disc}");
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["command"], "predict");
    assert_eq!(run["prediction"]["premises_4g"], 3);
}

/// Premises in a 20 km square with 30 random sectors: the coverage polygons, read back by
/// `analyze --mobile`, and `analyze --sites` agree exactly at cell centres, and elsewhere
/// up to the grid resolution.
#[test]
fn polygons_and_direct_prediction_agree() {
    let dir = tempfile::tempdir().unwrap();
    let mut sites = String::from(
        "site_id,operator,tech,x,y,height_m,frequency_mhz,eirp_dbm,azimuth_deg,tilt_deg\n",
    );
    let mut s: u64 = 12345;
    let mut rnd = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    for k in 0..30 {
        let az = if k % 3 == 0 {
            String::new()
        } else {
            format!("{:.1}", rnd() * 360.0)
        };
        sites.push_str(&format!(
            "s{k},{},{},{:.1},{:.1},{:.0},{},{:.0},{az},{}\n",
            ["A", "B", "C"][k % 3],
            if k % 5 == 0 { "5G" } else { "4G" },
            X0 + rnd() * 20_000.0,
            Y0 + rnd() * 20_000.0,
            30.0 + rnd() * 20.0,
            if k % 5 == 0 { 3500 } else { 800 },
            52.0 + rnd() * 10.0 + if k % 5 == 0 { 15.0 } else { 0.0 },
            if k % 2 == 0 { "4" } else { "" },
        ));
    }
    let mut premises = String::from("id,x,y\n");
    let cell = 100.0;
    for i in 0..1500 {
        // Cell centres of the 100 m grid (aligned to multiples of 100 m).
        let (cx, cy) = ((rnd() * 200.0).floor(), (rnd() * 200.0).floor());
        premises.push_str(&format!(
            "{i},{},{}\n",
            X0 + (cx + 0.5) * cell,
            Y0 + (cy + 0.5) * cell
        ));
    }
    for i in 1500..3000 {
        premises.push_str(&format!(
            "{i},{:.2},{:.2}\n",
            X0 + rnd() * 20_000.0,
            Y0 + rnd() * 20_000.0
        ));
    }
    let (sp, pp) = (
        dir.path().join("sites.csv"),
        dir.path().join("premises.csv"),
    );
    std::fs::write(&sp, sites).unwrap();
    std::fs::write(&pp, premises).unwrap();
    let settlements = dir.path().join("settlements.geojson");
    std::fs::write(&settlements, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"T","name":"Town"},"geometry":{"type":"Polygon","coordinates":[[[15.1,60.5],[15.11,60.5],[15.11,60.51],[15.1,60.5]]]}}]}"#).unwrap();
    let pred = dir.path().join("pred");
    let common = ["--assume-crs", "EPSG:3006", "--environment", "urban"];
    let mut a = vec![
        "predict",
        "--sites",
        sp.to_str().unwrap(),
        "--grid-m",
        "100",
        "--out",
        pred.to_str().unwrap(),
    ];
    a.extend(common);
    ok(&a);
    let analyze = |extra: &[&str], out: &Path| {
        let mut a = vec![
            "analyze",
            "--premises",
            pp.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(common);
        a.extend(extra);
        ok(&a);
        ParquetReader::new(std::fs::File::open(out.join("premises.parquet")).unwrap())
            .finish()
            .unwrap()
    };
    let gpkg = pred.join("coverage.gpkg");
    let by_polygons = analyze(
        &["--mobile", gpkg.to_str().unwrap()],
        &dir.path().join("a1"),
    );
    let by_sites = analyze(&["--sites", sp.to_str().unwrap()], &dir.path().join("a2"));
    for col in ["mobile_4g_operators", "mobile_5g_operators"] {
        let (x, y) = (floats(&by_polygons, col), floats(&by_sites, col));
        assert!(
            x.iter().filter(|v| v.unwrap() > 0.0).count() > 50,
            "{col}: too little coverage to test"
        );
        assert_eq!(x[..1500], y[..1500], "{col} at cell centres");
        let differ = (1500..3000).filter(|&i| x[i] != y[i]).count();
        assert!(
            differ <= 75,
            "{col}: {differ} of 1500 premises differ (more than 5 %)"
        );
    }
    // Sites' columns in the premise table, and the critical sites.
    assert!(floats(&by_sites, "mobile_4g_sites")
        .iter()
        .any(|v| v.unwrap() >= 2.0));
    let c = read_csv(&dir.path().join("a2/critical_sites.csv"));
    let cut = floats(&c, "premises_cut");
    assert!(
        cut.windows(2).all(|w| w[0] >= w[1]),
        "ranked by premises cut"
    );
    let single: f64 = floats(&by_sites, "mobile_4g_sites")
        .iter()
        .filter(|v| v.unwrap() == 1.0)
        .count() as f64;
    assert_eq!(cut.iter().map(|v| v.unwrap()).sum::<f64>(), single);
    let st = read_csv(&dir.path().join("a2/settlements.csv"));
    let per_settlement: f64 = floats(&st, "premises_single_4g_site")
        .iter()
        .map(|v| v.unwrap())
        .sum();
    assert_eq!(per_settlement, single);
}

/// The real 1 m DEM of Lapinlahti (Helsinki), spanning lon 24.9104-24.9145, lat
/// 60.1664-60.1695; and a site CSV with `rows` (lon/lat) in `dir`.
fn lapinlahti(dir: &Path, rows: &str) -> (PathBuf, PathBuf) {
    let dem = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../gapmap-io/tests/fixtures/elevation_model_2021_lapinlahti.tif");
    let sites = dir.join("sites.csv");
    std::fs::write(
        &sites,
        format!("site_id,operator,tech,lon,lat,height_m,frequency_mhz,eirp_dbm\n{rows}"),
    )
    .unwrap();
    (dem, sites)
}

/// The real 1 m DEM of Lapinlahti (Helsinki): a mast at ground level behind terrain loses
/// power against the same run without the DEM, and a tall mast keeps line of sight.
#[test]
fn terrain_from_a_real_dem() {
    let dir = tempfile::tempdir().unwrap();
    let (dem, sites) = lapinlahti(
        dir.path(),
        "low,A,4G,24.9110,60.1668,0.5,3500,60\ntall,B,4G,24.9110,60.1668,40,3500,60\n",
    );
    let premises = dir.path().join("premises.csv");
    let mut p = String::from("id,lon,lat\n");
    for i in 0..40 {
        let t = i as f64 / 39.0;
        p.push_str(&format!(
            "{i},{:.6},{:.6}\n",
            24.9112 + 0.0030 * t,
            60.1670 + 0.0022 * t
        ));
    }
    std::fs::write(&premises, p).unwrap();
    let go = |extra: &[&str], out: &str| {
        let out = dir.path().join(out);
        let mut a = vec![
            "predict",
            "--sites",
            sites.to_str().unwrap(),
            "--premises",
            premises.to_str().unwrap(),
            "--assume-crs",
            "EPSG:4326",
            "--crs",
            "EPSG:3067",
            "--model",
            "uma",
            "--extrapolate",
            "--ue-height-m",
            "1.5",
            "--grid-m",
            "5",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(extra);
        ok(&a);
        read_csv(&out.join("premise_prediction.csv"))
    };
    let flat = go(&["--los", "los"], "flat");
    let terrain = go(&["--dem", dem.to_str().unwrap()], "terrain");
    let (fa, ta) = (
        floats(&flat, "rsrp_4g_dbm_A"),
        floats(&terrain, "rsrp_4g_dbm_A"),
    );
    let (fb, tb) = (
        floats(&flat, "rsrp_4g_dbm_B"),
        floats(&terrain, "rsrp_4g_dbm_B"),
    );
    let mut lower = 0;
    for i in 0..40 {
        if let (Some(f), Some(t)) = (fa[i], ta[i]) {
            assert!(t <= f + 1e-6, "terrain never adds power: {t} > {f}");
            lower += usize::from(t < f - 1.0);
        }
        // The 40 m mast clears 11 m of terrain to every premise: LOS, equal power.
        if let (Some(f), Some(t)) = (fb[i], tb[i]) {
            assert!((f - t).abs() < 0.01, "tall mast at {i}: {f} vs {t}");
        }
    }
    assert!(lower > 0, "the ground-level mast is shadowed somewhere");
    // Every premise with a link says the terrain decided it; without a DEM, none says so.
    let used = opt_strs(&terrain, "terrain");
    assert!(used.iter().flatten().count() > 0);
    assert!(used.iter().flatten().all(|t| t == "dem"), "{used:?}");
    assert!(opt_strs(&flat, "terrain").iter().all(|t| t.is_none()));
    let run: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("terrain/run.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(run["parameters"]["los"], "terrain");
    assert!(run["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["role"] == "dem"));
}

#[test]
fn bad_input_exits_2_names_the_site_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (sites, premises) = scenario(dir.path());
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!("site_id,operator,tech,x,y,height_m,frequency_mhz,eirp_dbm\nok1,A,4G,{X0},{Y0},30,800,60\nmast7,A,4G,{X0},{Y0},-3,800,60\n"),
    )
    .unwrap();
    let notraster = dir.path().join("dem.tif");
    std::fs::write(&notraster, "text").unwrap();
    let out = dir.path().join("out");
    let (s, p, b, d, o) = (
        sites.to_str().unwrap(),
        premises.to_str().unwrap(),
        bad.to_str().unwrap(),
        notraster.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "predict",
                "--sites",
                b,
                "--assume-crs",
                "EPSG:3006",
                "--out",
                o,
            ],
            "'mast7'",
        ),
        (
            vec![
                "predict",
                "--sites",
                s,
                "--assume-crs",
                "EPSG:3006",
                "--grid-m",
                "0",
                "--out",
                o,
            ],
            "--grid-m",
        ),
        (
            vec![
                "predict",
                "--sites",
                s,
                "--assume-crs",
                "EPSG:3006",
                "--los",
                "terrain",
                "--out",
                o,
            ],
            "--dem",
        ),
        (
            vec![
                "predict",
                "--sites",
                s,
                "--assume-crs",
                "EPSG:3006",
                "--dem",
                d,
                "--out",
                o,
            ],
            "not a raster",
        ),
        (
            vec![
                "predict",
                "--sites",
                s,
                "--assume-crs",
                "EPSG:3006",
                "--rsrp-threshold-dbm",
                "5",
                "--out",
                o,
            ],
            "--rsrp-threshold-dbm",
        ),
        (
            vec![
                "predict",
                "--sites",
                s,
                "--assume-crs",
                "EPSG:3006",
                "--model",
                "cost231",
                "--out",
                o,
            ],
            "--extrapolate",
        ),
        (
            vec![
                "analyze",
                "--premises",
                p,
                "--settlements",
                s,
                "--dem",
                d,
                "--out",
                o,
            ],
            "--dem needs --sites",
        ),
        (vec!["predict", "--sites", s, "--out", o], "--assume-crs"),
    ];
    for (args, needle) in cases {
        let r = run(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote output");
    }
}

#[test]
fn a_dem_beside_the_area_is_an_error_unless_told_what_links_off_it_get() {
    let dir = tempfile::tempdir().unwrap();
    // The site is on the DEM, the premises 1 km east of it.
    let (dem, sites) = lapinlahti(dir.path(), "s,A,5G,24.9110,60.1668,25,3500,70\n");
    let premises = dir.path().join("premises.csv");
    let mut p = String::from("id,lon,lat\n");
    for i in 0..10 {
        p.push_str(&format!("{i},{:.6},60.1680\n", 24.930 + 0.001 * i as f64));
    }
    std::fs::write(&premises, p).unwrap();
    let args = |extra: &[&str], out: &str| -> Vec<String> {
        let out = dir.path().join(out);
        let mut a: Vec<String> = [
            "predict",
            "--sites",
            sites.to_str().unwrap(),
            "--premises",
            premises.to_str().unwrap(),
            "--assume-crs",
            "EPSG:4326",
            "--crs",
            "EPSG:3067",
            "--extrapolate",
            "--dem",
            dem.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let o = run(&args(&[], "plain"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    for needle in [
        "--dem",
        "0 of 1 sites",
        "10 of 10 premises (100.0 %)",
        "--dem-outside probability",
        "--dem-outside flat",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert!(!dir.path().join("plain").exists());
    // Told what links off the DEM get, it runs: flat ground is line of sight, which reaches
    // at least as far as the LOS probability.
    ok(&args(&["--dem-outside", "probability"], "prob"));
    ok(&args(&["--dem-outside", "flat"], "flat"));
    let col = |d: &str| {
        floats(
            &read_csv(&dir.path().join(d).join("premise_prediction.csv")),
            "best_5g_rsrp_dbm",
        )
    };
    let (prob, flat) = (col("prob"), col("flat"));
    let mut stronger = 0;
    for (p, f) in prob.iter().zip(&flat) {
        if let (Some(p), Some(f)) = (p, f) {
            assert!(f >= &(p - 1e-6), "line of sight is never weaker: {f} < {p}");
            stronger += usize::from(f > &(p + 0.5));
        }
    }
    assert!(stronger > 0, "flat ground changed nothing");
    // Every premise says whether terrain decided its links: here none is on the DEM.
    let terrain = opt_strs(
        &read_csv(&dir.path().join("flat").join("premise_prediction.csv")),
        "terrain",
    );
    assert!(terrain.iter().any(|t| t.is_some()), "{terrain:?}");
    assert!(
        terrain.iter().flatten().all(|t| t == "off_dem"),
        "{terrain:?}"
    );
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("flat/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["parameters"]["dem_outside"], "flat");
    // --dem-outside without --dem is a usage error.
    let o = run_plain(&sites, &premises, dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--dem-outside needs --dem"));
}

fn run_plain(sites: &Path, premises: &Path, dir: &Path) -> std::process::Output {
    run(&[
        "predict",
        "--sites",
        sites.to_str().unwrap(),
        "--premises",
        premises.to_str().unwrap(),
        "--assume-crs",
        "EPSG:4326",
        "--crs",
        "EPSG:3067",
        "--dem-outside",
        "flat",
        "--out",
        dir.join("x").to_str().unwrap(),
    ])
}

#[test]
fn the_sites_template_lists_every_field_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("sites.csv");
    let o = ok(&["predict", "--sites-template", t.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    for field in [
        "site_id",
        "height_m",
        "frequency_mhz",
        "eirp_dbm",
        "azimuth_deg",
    ] {
        assert!(out.contains(field), "{field}: {out}");
    }
    assert!(out.contains("MHz") && out.contains("dBm"), "{out}");
    // It is a sites file: the example carrier predicts coverage around central Falun.
    let premises = dir.path().join("premises.csv");
    // 400 m and 800 m down the sector's boresight (120°).
    std::fs::write(
        &premises,
        "id,lon,lat\n1,15.6386,60.6047\n2,15.6449,60.6029\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    ok(&[
        "predict",
        "--sites",
        t.to_str().unwrap(),
        "--premises",
        premises.to_str().unwrap(),
        "--assume-crs",
        "EPSG:4326",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let p = read_csv(&out_dir.join("premise_prediction.csv"));
    assert_eq!(p.height(), 2);
    assert_eq!(ints(&p, "mobile_4g_sites"), vec![1, 1]);
    // Not over a file that is there.
    let r = run(&["predict", "--sites-template", t.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--overwrite"));
}
