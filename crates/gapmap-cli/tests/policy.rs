//! State-aid classes, planned and other fixed networks, national goals and aid areas, end to
//! end on a scenario whose every number is worked out by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::path::{Path, PathBuf};

use common::*;

/// Settlement S = [0,1000]² (offsets from X0, Y0). Premises:
/// - p1 (100,100), 2 households: fibre of n1 10 m away; a planned n1 line too (one network)
///   → grey;
/// - p2 (300,100), 1 household: fibre of n1 and a 1 Gbit/s cable network → black;
/// - p3 (600,100), 1 household + 1 workplace: only 60 Mbit/s copper → white at eu-2023, grey
///   at eu-2013-nga;
/// - p6 (650,150), 1 household: nothing → white (one aid area with p3: the same 250 m cell);
/// - p4 (800,800), 3 households: a network planned for 2028 → grey with --aid-year 2026,
///   white with 2024;
/// - p5 (5000,5000), rural, 1 household: nothing → white.
fn scenario(dir: &Path) -> Vec<String> {
    let w = |name: &str, text: String| write_file(dir, name, text);
    let premises = w(
        "premises.geojson",
        geojson_3006(&[
            (r#""id":1,"households":2,"workplaces":0"#, pt(100.0, 100.0)),
            (r#""id":2,"households":1,"workplaces":0"#, pt(300.0, 100.0)),
            (r#""id":3,"households":1,"workplaces":1"#, pt(600.0, 100.0)),
            (r#""id":4,"households":3,"workplaces":0"#, pt(800.0, 800.0)),
            (
                r#""id":5,"households":1,"workplaces":0"#,
                pt(5000.0, 5000.0),
            ),
            (r#""id":6,"households":1,"workplaces":0"#, pt(650.0, 150.0)),
        ]),
    );
    let settlements = w(
        "settlements.geojson",
        geojson_3006(&[(r#""id":"S","name":"Sby""#, square(0.0, 0.0, 1000.0))]),
    );
    let fibre = w(
        "fibre.geojson",
        geojson_3006(&[(r#""network":"n1""#, line(&[(100.0, 110.0), (300.0, 110.0)]))]),
    );
    let fixed = w(
        "fixed.geojson",
        geojson_3006(&[
            (
                r#""network":"Cable","speed_mbps":1000"#,
                line(&[(300.0, 90.0), (310.0, 90.0)]),
            ),
            (
                r#""network":"Copper","speed_mbps":60"#,
                line(&[(600.0, 90.0), (610.0, 90.0)]),
            ),
        ]),
    );
    let planned = w(
        "planned.geojson",
        geojson_3006(&[
            (
                r#""network":"n1","year":2026"#,
                line(&[(100.0, 90.0), (110.0, 90.0)]),
            ),
            (
                r#""network":"P","year":2028"#,
                line(&[(800.0, 790.0), (810.0, 790.0)]),
            ),
        ]),
    );
    [
        "analyze",
        "--premises",
        premises.to_str().unwrap(),
        "--settlements",
        settlements.to_str().unwrap(),
        "--fibre",
        fibre.to_str().unwrap(),
        "--fixed",
        fixed.to_str().unwrap(),
        "--planned",
        planned.to_str().unwrap(),
        "--gpkg",
    ]
    .map(String::from)
    .to_vec()
}

fn analyze(dir: &Path, base: &[String], out: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(out);
    let mut args = base.to_vec();
    args.extend(["--out".to_string(), out.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    ok(&args);
    out
}

fn classes(out: &Path) -> Vec<String> {
    strs(&read_parquet(&out.join("premises.parquet")), "aid_class")
}

#[test]
fn aid_classes_goals_and_areas_have_the_hand_computed_answers() {
    let dir = tempfile::tempdir().unwrap();
    let base = scenario(dir.path());
    let out = analyze(
        dir.path(),
        &base,
        "a",
        &["--aid-year", "2026", "--goal", "half:fibre:50"],
    );
    // Premise order: p1, p2, p3, p4, p5, p6.
    assert_eq!(
        classes(&out),
        vec!["grey", "black", "white", "grey", "white", "white"]
    );
    let p = read_parquet(&out.join("premises.parquet"));
    assert_eq!(ints(&p, "aid_networks"), vec![1, 2, 0, 1, 0, 0]);
    // 100 Mbit/s: fibre only (60 Mbit/s copper is too slow; planned networks do not count).
    assert_eq!(
        strs(&p, "at_100_mbps"),
        vec!["true", "true", "false", "false", "false", "false"]
    );

    let s = read_csv(&out.join("settlements.csv"));
    assert_eq!(strs(&s, "settlement_id"), vec!["S", ""]);
    assert_eq!(ints(&s, "aid_white"), vec![2, 1]);
    assert_eq!(ints(&s, "aid_grey"), vec![2, 0]);
    assert_eq!(ints(&s, "aid_black"), vec![1, 0]);
    assert_eq!(ints(&s, "households_aid_grey"), vec![5, 0]);
    // 2 white, 2 grey, 1 black: no class holds more than half, so the settlement is mixed
    // (the earlier plurality rule called it grey, more than its 40 % grey share says).
    assert_eq!(strs(&s, "aid_class"), vec!["mixed", "white"]);
    let shares = |c: &str| floats(&s, c)[0].unwrap();
    assert!((shares("share_aid_white") - 0.4).abs() < 1e-12);
    assert!((shares("share_aid_grey") - 0.4).abs() < 1e-12);
    assert!((shares("share_aid_black") - 0.2).abs() < 1e-12);
    // Under any-white (tender areas) a white premise makes the area white.
    let tender = analyze(
        dir.path(),
        &base,
        "tender",
        &["--aid-year", "2026", "--area-class-rule", "any-white"],
    );
    let t = read_csv(&tender.join("settlements.csv"));
    assert_eq!(strs(&t, "aid_class"), vec!["white", "white"]);
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tender.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["parameters"]["policy"]["area_class_rule"], "any-white");
    // Fibre goal (98 % of households + workplaces): 3 of 9 passed.
    let share = floats(&s, "goal_se2025_1gbps_share")[0].unwrap();
    assert!((share - 3.0 / 9.0).abs() < 1e-12);
    assert_eq!(ints(&s, "goal_se2025_1gbps_met"), vec![0, 0]);
    // ceil(0.98 × 5 premises) − 2 = 3; ceil(0.98 × 8 households) − 3 = 5.
    assert_eq!(ints(&s, "goal_se2025_1gbps_missing_premises"), vec![3, 1]);
    assert_eq!(ints(&s, "goal_se2025_1gbps_missing_households"), vec![5, 1]);
    // 4G for every premise: none has 4G.
    assert_eq!(ints(&s, "goal_se2025_4g_missing_premises"), vec![5, 1]);
    // The custom goal, 50 %: ceil(2.5) − 2 = 1 premise, ceil(4) − 3 = 1 household.
    assert_eq!(ints(&s, "goal_half_missing_premises"), vec![1, 1]);
    assert_eq!(ints(&s, "goal_half_missing_households"), vec![1, 1]);
    assert_eq!(ints(&s, "goal_half_met"), vec![0, 0]);

    // Other goal sets: the EU's 2030 targets (every premise with gigabit fibre and with 5G),
    // or none but the --goal given.
    let eu = analyze(
        dir.path(),
        &base,
        "eu",
        &["--aid-year", "2026", "--goals", "eu2030"],
    );
    let e = read_csv(&eu.join("settlements.csv"));
    assert!(e.column("goal_se2025_1gbps_share").is_err());
    // 2 of 5 premises in S are fibre passed: 3 missing; none has 5G: 5 missing.
    assert_eq!(ints(&e, "goal_eu2030_gigabit_missing_premises"), vec![3, 1]);
    assert_eq!(ints(&e, "goal_eu2030_5g_missing_premises"), vec![5, 1]);
    // The report names the goals that were measured, not Sweden's.
    ok(&["report", eu.to_str().unwrap()]);
    let html = std::fs::read_to_string(eu.join("report.html")).unwrap();
    assert!(
        html.contains("eu2030_gigabit: 100 % of premises with fibre"),
        "{html}"
    );
    assert!(
        !html.contains("se2025") && !html.contains("Sweden's goals"),
        "Sweden's goals in an eu2030 report"
    );
    // Its titles and subtitle say whose goals they are: the EU's, not national ones.
    assert!(
        html.contains("EU goals for 2030: the whole area")
            && html.contains("state-aid classes and the EU's goals for 2030.")
            && !html.contains("National goals")
            && !html.contains("national goals"),
        "{html}"
    );
    let none = analyze(
        dir.path(),
        &base,
        "none",
        &[
            "--aid-year",
            "2026",
            "--goals",
            "none",
            "--goal",
            "half:fibre:50",
        ],
    );
    let n = read_csv(&none.join("settlements.csv"));
    let goal_columns: Vec<String> = n
        .get_column_names()
        .iter()
        .filter(|c| c.starts_with("goal_"))
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        goal_columns,
        [
            "goal_half_share",
            "goal_half_met",
            "goal_half_missing_premises",
            "goal_half_missing_households"
        ]
    );
    // A goal of the user's own under --goals none: "Goals", not national ones.
    ok(&["report", none.to_str().unwrap()]);
    let html = std::fs::read_to_string(none.join("report.html")).unwrap();
    assert!(
        html.contains("Goals: the whole area")
            && html.contains("state-aid classes and the goals measured.")
            && !html.contains("ational goals"),
        "{html}"
    );

    // Aid areas: {p3, p6} (one 250 m cell) and {p5}.
    let areas = json(&out.join("aid_areas.geojson"));
    let feats = areas["features"].as_array().unwrap();
    let mut got: Vec<(u64, u64, String)> = feats
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["premises"].as_u64().unwrap(),
                p["households"].as_u64().unwrap(),
                p["settlements"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(1, 1, "".into()), (2, 2, "S".into())]);
    for f in feats {
        assert_eq!(f["properties"]["cells"], 1);
        assert!((f["properties"]["area_km2"].as_f64().unwrap() - 0.0625).abs() < 1e-9);
    }
    assert!(out.join("aid_areas.qml").exists());
    let run = json(&out.join("run.json"));
    assert_eq!(run["parameters"]["policy"]["aid_year"], 2026);
    assert_eq!(run["parameters"]["policy"]["goals"][3]["name"], "half");
    let roles: Vec<&str> = run["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["role"].as_str().unwrap())
        .collect();
    assert!(roles.contains(&"fixed") && roles.contains(&"planned"));
}

#[test]
fn presets_and_the_planning_horizon_change_the_classes() {
    let dir = tempfile::tempdir().unwrap();
    let base = scenario(dir.path());
    // NGA (30 Mbit/s): the 60 Mbit/s copper counts, so p3 is grey.
    let nga = analyze(
        dir.path(),
        &base,
        "nga",
        &["--aid-year", "2026", "--aid-preset", "eu-2013-nga"],
    );
    assert_eq!(
        classes(&nga),
        vec!["grey", "black", "grey", "grey", "white", "white"]
    );
    // Assessed in 2024, the network planned for 2028 is beyond 2024 + 3: p4 is white.
    let early = analyze(dir.path(), &base, "early", &["--aid-year", "2024"]);
    assert_eq!(
        classes(&early),
        vec!["grey", "black", "white", "white", "white", "white"]
    );
    // The 4G-or-more stand-in has nothing to stand in for here; 100 Mbit/s by fibre only.
    let run = json(&early.join("run.json"));
    assert!(run["notices"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .contains("1 of 2 features are due by 2027")));
}

#[test]
fn bad_policy_input_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = scenario(dir.path());
    let check = |extra: &[&str], needles: &[&str]| {
        let out = dir.path().join("bad");
        let mut args = base.clone();
        args.extend(["--out".to_string(), out.display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let e = stderr(&o);
        for n in needles {
            assert!(e.contains(n), "'{n}' not in: {e}");
        }
        assert!(!out.exists());
    };
    check(&["--goal", "x:cable:90"], &["--goal", "cable"]);
    check(&["--goal", "se2025_4g:4g:90"], &["used twice"]);
    check(&["--aid-cell-m", "0"], &["--aid-cell-m"]);
    check(
        &["--planned-year-field", "ready"],
        &["planned.geojson", "ready"],
    );
    // A planned line without a year names the file, the feature and the field.
    let bad = dir.path().join("planned_bad.geojson");
    std::fs::write(
        &bad,
        geojson_3006(&[(
            r#""network":"P","year":null"#,
            line(&[(0.0, 0.0), (1.0, 1.0)]),
        )]),
    )
    .unwrap();
    check(
        &["--planned", bad.to_str().unwrap()],
        &["planned_bad.geojson", "year", "no value"],
    );
}
