//! `gapmap report` end to end on the bundled region, after `grid` and `prioritise`: the page
//! is self-contained, has its maps and tables, and renders in a real headless browser
//! (Debian's chromium) with a map that is not blank; map.png is drawn too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Pixels whose colour is within `tol` of one of `colours` (RGB).
fn count_colour(png: &Path, colours: &[(u8, u8, u8)], tol: i32) -> usize {
    let img = tiny_skia::Pixmap::load_png(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    img.pixels()
        .iter()
        .filter(|p| {
            let c = p.demultiply();
            colours.iter().any(|&(r, g, b)| {
                (i32::from(c.red()) - i32::from(r)).abs() <= tol
                    && (i32::from(c.green()) - i32::from(g)).abs() <= tol
                    && (i32::from(c.blue()) - i32::from(b)).abs() <= tol
            })
        })
        .count()
}

/// The HTML from the heading that contains `title` to the end of its table.
fn section<'a>(html: &'a str, title: &str) -> &'a str {
    let start = html
        .find(title)
        .unwrap_or_else(|| panic!("no section '{title}'"));
    let rest = &html[start..];
    let end = rest
        .find("</table>")
        .map_or(rest.len(), |e| e + "</table>".len());
    &rest[..end]
}

fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                return PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
            }
        }
    }
    panic!("no headless browser: install Debian's chromium (scripts/ensure-deps does)");
}

#[test]
fn report_renders_in_a_headless_browser_with_a_map() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--out", a.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    ok(&["grid", a.to_str().unwrap(), "--scb", "1000"]);
    ok(&[
        "prioritise",
        a.to_str().unwrap(),
        "--budget-sek",
        "50000000",
    ]);
    let o = ok(&["report", a.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("report.html"));
    let html_path = a.join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    // Self-contained: no scripts, no external resources.
    for bad in ["<script", "src=", "<link", "https://", "@import"] {
        assert!(!html.contains(bad), "report.html contains {bad}");
    }
    for want in [
        "Where the gaps are",
        "Fibre share per settlement",
        "National goals: the whole area",
        "National goals per kommun",
        "Top 20: settlements with the most households without fibre",
        "Projects chosen for a budget of 50.0 MSEK",
        "Falun",
    ] {
        assert!(html.contains(want), "report.html lacks '{want}'");
    }
    // With the bundled backbone, the corridors have a map of their own.
    assert_eq!(html.matches("<svg").count(), 3);
    for want in [
        "Fibre resilience: settlements by class",
        "Top 20: critical corridors",
        "The top 20 critical fibre corridors",
        "Top 20: settlements that depend on one operator for 4G",
        "Methods: inputs",
        "Methods: parameters",
        "Methods: definitions",
        "@media print",
    ] {
        assert!(html.contains(want), "report.html lacks '{want}'");
    }
    // The methods list every input with its SHA-256, as run.json records it.
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("run.json")).unwrap()).unwrap();
    for input in run["inputs"].as_array().unwrap() {
        let sha = input["sha256"].as_str().unwrap();
        assert!(
            html.contains(sha),
            "report.html lacks the SHA-256 of {}",
            input["path"]
        );
    }
    // Projects are named by settlement and kommun, not by SCB code: the first chosen project
    // of the bundled region is in Österå, Uggelviken och Hökviken (2080TB175), in Falun.
    let projects = section(&html, "Projects chosen for a budget");
    assert!(
        projects.contains("Österå, Uggelviken och Hökviken"),
        "{projects}"
    );
    assert!(projects.contains("<td>Falun</td>"), "{projects}");
    assert!(!projects.contains("2080TB175"));
    // The top list has no rows of zeros: every settlement in it lacks fibre somewhere.
    let top = section(
        &html,
        "Top 20: settlements with the most households without fibre",
    );
    assert!(
        !top.contains("<td class=\"n\">0</td><td class=\"n\">0</td>"),
        "{top}"
    );

    // A real browser renders it; the gap colours are on screen.
    let shot = dir.path().join("shot.png");
    let o = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,1400",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", html_path.display()),
        ])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Gap fills (#fdae61, #d7191c, #2c7bb6), drawn at 0.85 opacity over the map background.
    let gap_colours = [(253, 174, 97), (215, 25, 28), (44, 123, 182)];
    let on_screen = count_colour(&shot, &gap_colours, 40);
    assert!(
        on_screen > 300,
        "only {on_screen} gap-coloured pixels: the map looks blank"
    );
    // Not a blank page: the header's dark blue is there too.
    assert!(count_colour(&shot, &[(29, 53, 87)], 6) > 10_000);

    // map.png for slides: the same map, drawn without a browser.
    let png = a.join("map.png");
    let drawn = count_colour(&png, &gap_colours, 40);
    assert!(drawn > 1000, "only {drawn} gap-coloured pixels in map.png");

    // A new analysis in the same directory: grid/, priorities/ and the report were made from
    // the earlier one, so --overwrite removes them; the new report leaves them out.
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--out", a.to_str().unwrap(), "--overwrite"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for stale in ["grid", "priorities", "report.html", "map.html", "map.png"] {
        assert!(
            !a.join(stale).exists(),
            "{stale} left from the earlier analysis"
        );
    }
    ok(&["report", a.to_str().unwrap()]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(!html.contains("Projects chosen") && !html.contains("per kommun"));
}

#[test]
fn report_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("run.json"));
    assert!(!dir.path().join("report.html").exists());
}

/// The English words of tests/english-words.txt in `text`, leaving out machine names (tokens
/// with a digit, `_`, `/`, `.`, `:`, `@` or `=`, and flags), as the browser test reads pages.
fn english_words(text: &str) -> Vec<String> {
    let list = std::fs::read_to_string(repo().join("tests/english-words.txt")).unwrap();
    let english: std::collections::HashSet<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut found: Vec<String> = text
        .split_whitespace()
        .filter(|t| {
            !t.starts_with("--")
                && !t.contains(|c: char| c.is_ascii_digit() || "_/.:@=".contains(c))
        })
        .flat_map(|t| t.split(|c: char| !c.is_alphabetic()))
        .map(str::to_lowercase)
        .filter(|w| english.contains(w.as_str()))
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn lang_sv_speaks_swedish_in_the_summary_the_styles_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let backbone = repo().join("data/dalarna/backbone.gpkg");
    let o = gapmap()
        .current_dir(repo())
        .args(["analyze", "--lang", "sv", "--out", a.to_str().unwrap()])
        .args(["--backbone", backbone.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    // The same run in English, to show that the check sees English.
    let en = gapmap()
        .current_dir(repo())
        .args(["analyze", "--out", dir.path().join("en").to_str().unwrap()])
        .args(["--backbone", backbone.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(english_words(&String::from_utf8_lossy(&en.stdout)).len() > 10);
    assert!(
        summary.contains("adresser (") && summary.contains("hushåll"),
        "{summary}"
    );
    assert!(summary.contains("Redundans i fibernätet"), "{summary}");
    assert_eq!(english_words(&summary), Vec::<String>::new(), "{summary}");
    // Every label of the QGIS styles.
    for qml in [
        "gaps.qml",
        "settlements.qml",
        "aid_areas.qml",
        "critical_links.qml",
    ] {
        let text = std::fs::read_to_string(a.join(qml)).unwrap();
        let labels: Vec<&str> = text
            .split("label=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        assert!(labels.len() >= 3, "{qml}: {labels:?}");
        let left = english_words(&labels.join("\n"));
        assert!(left.is_empty(), "{qml}: {left:?} in {labels:?}");
    }
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["parameters"]["lang"], "sv");
    // The report takes the analysis' language, and --lang overrides it.
    let o = ok(&["report", a.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("skrev "));
    for page in ["report.html", "map.html"] {
        let html = std::fs::read_to_string(a.join(page)).unwrap();
        assert!(html.contains("<html lang=\"sv\">"), "{page}");
    }
    let html = std::fs::read_to_string(a.join("report.html")).unwrap();
    assert!(html.contains("Nationella mål: hela området") && html.contains("Metod: definitioner"));
    let en_out = dir.path().join("en-report");
    ok(&[
        "report",
        a.to_str().unwrap(),
        "--lang",
        "en",
        "--out",
        en_out.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(en_out.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("National goals: the whole area"));
    // A language gapmap does not have is a usage error naming the ones it has.
    let o = run(&["analyze", "--lang", "de"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("en") && stderr(&o).contains("sv"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn map_html_draws_predicted_coverage_and_cell_sites() {
    let dir = tempfile::tempdir().unwrap();
    let (p, a) = (dir.path().join("pred"), dir.path().join("a"));
    let d = repo().join("data/dalarna");
    let path = |f: &str| d.join(f).to_str().unwrap().to_string();
    ok(&["predict", "--out", p.to_str().unwrap()]);
    ok(&[
        "analyze",
        "--premises",
        &path("premises.parquet"),
        "--settlements",
        &path("settlements.gpkg"),
        "--settlement-id-field",
        "tatortskod",
        "--settlement-name-field",
        "tatort",
        "--fibre",
        &path("fibre.gpkg"),
        "--fibre-layer",
        "routes",
        "--fibre-layer",
        "nodes",
        "--mobile",
        p.join("coverage.gpkg").to_str().unwrap(),
        "--out",
        a.to_str().unwrap(),
    ]);
    ok(&["report", a.to_str().unwrap()]);
    let layers = map_layers(&a.join("map.html"));
    let layer = |id: &str| {
        layers
            .iter()
            .find(|l| l["id"] == id)
            .unwrap_or_else(|| panic!("no layer {id}"))
    };
    // Predicted coverage: predict's polygons, each operator and technology in the legend.
    let coverage: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("coverage.geojson")).unwrap())
            .unwrap();
    let n = coverage["features"].as_array().unwrap().len();
    assert!(n > 0);
    assert_eq!(
        layer("coverage")["data"]["features"]
            .as_array()
            .unwrap()
            .len(),
        n
    );
    assert_eq!(layer("coverage")["legend"].as_array().unwrap().len(), n);
    // Cell sites: one point per row of predict's critical_sites.csv, with its figures.
    let sites = read_csv(&p.join("critical_sites.csv"));
    let features = layer("sites")["data"]["features"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(features.len(), sites.height());
    let first = &features[0]["properties"];
    assert_eq!(
        first["site_id"].as_str().unwrap(),
        sites
            .column("site_id")
            .unwrap()
            .str()
            .unwrap()
            .get(0)
            .unwrap()
    );
    assert_eq!(
        first["premises_cut"].as_i64().unwrap(),
        sites
            .column("premises_cut")
            .unwrap()
            .i64()
            .unwrap()
            .get(0)
            .unwrap()
    );
    // In WGS 84, inside Dalarna.
    let c = &features[0]["geometry"]["coordinates"];
    let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    assert!(
        (12.0..17.0).contains(&lon) && (59.5..62.5).contains(&lat),
        "{lon} {lat}"
    );
}

/// The headline's figures, `(value, label)`, from report.html.
fn headline(html: &str) -> Vec<(String, String)> {
    let h = html
        .split("<div class=\"headline\">")
        .nth(1)
        .and_then(|s| s.split("<div class=\"maps\">").next())
        .expect("a headline");
    h.split("<div class=\"figure\">")
        .skip(1)
        .map(|f| {
            let v = f.split("<div class=\"v\">").nth(1).unwrap();
            let l = f.split("<div class=\"l\">").nth(1).unwrap();
            (
                v.split("</div>").next().unwrap().to_string(),
                l.split("</div>").next().unwrap().to_string(),
            )
        })
        .collect()
}

/// Without a fibre layer, or without mobile coverage, the headline says that the share is not
/// known instead of showing 0 % as if it had been measured, and the unserved and white counts
/// say why every premise counts; SCB is named as a source only of SCB's own settlements.
#[test]
fn a_layer_not_given_is_named_in_the_headline_not_shown_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let w = |name: &str, text: String| write_file(dir.path(), name, text);
    let premises = w(
        "premises.geojson",
        geojson_3006(&[
            (r#""id":1,"households":2"#, pt(100.0, 100.0)),
            (r#""id":2,"households":1"#, pt(300.0, 100.0)),
            (r#""id":3,"households":1"#, pt(900.0, 900.0)),
        ]),
    );
    let settlements = w(
        "villages.geojson",
        geojson_3006(&[(r#""id":"S","name":"Sby""#, square(0.0, 0.0, 1000.0))]),
    );
    let fibre = w(
        "fibre.geojson",
        geojson_3006(&[(r#""network":"n1""#, line(&[(100.0, 110.0), (300.0, 110.0)]))]),
    );
    let analyze = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "analyze",
            "--premises",
            premises.to_str().unwrap(),
            "--settlements",
            settlements.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = ok(&args);
        (out, String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let report = |out: &Path, lang: &str| {
        ok(&["report", out.to_str().unwrap(), "--lang", lang]);
        std::fs::read_to_string(out.join("report.html")).unwrap()
    };

    // Neither fibre nor mobile coverage: the run's own summary says so too.
    let (bare, summary) = analyze("bare", &[]);
    for line in [
        "  fibre passed                  –  not known (no fibre layer)",
        "  4G                            –  not known (no mobile layer or sites)",
        "  households fibre passed       –  not known (no fibre layer)",
        "  unserved                      3  100.0 %",
    ] {
        assert!(summary.lines().any(|l| l == line), "{line}\n{summary}");
    }
    assert!(!summary.contains(" 0.0 %"), "{summary}");
    let html = report(&bare, "en");
    assert_eq!(
        headline(&html),
        [
            ("3", "premises"),
            ("4", "households"),
            (
                "–",
                "households + workplaces with fibre: not known, the analysis had no fibre layer"
            ),
            (
                "–",
                "premises with 4G: not known, the analysis had no mobile coverage or cell sites"
            ),
            (
                "3",
                "unserved premises (no fibre, no 4G; with no fibre or mobile layer, every premise counts)"
            ),
            (
                "3",
                "white premises (state aid; with no fibre or other network layer, every premise counts)"
            ),
        ]
        .map(|(v, l)| (v.to_string(), l.to_string()))
    );
    assert!(
        !html.contains("SCB"),
        "SCB named for settlements of one's own"
    );
    // The maps show no share that was not measured: the settlements are grey, in the
    // GeoJSON, the QGIS style, the report's share map (its legend says why) and the grid.
    let grey = gapmap_io::write::style::NO_DATA_FILL;
    let fills = |path: &Path| -> Vec<String> {
        json(path)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"]["fill"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fills(&bare.join("settlements.geojson")), [grey]);
    let qml = std::fs::read_to_string(bare.join("settlements.qml")).unwrap();
    assert!(qml.contains("singleSymbol") && !qml.contains("share_fibre_passed"));
    assert!(html.contains("fibre not known (no fibre layer)"), "{html}");
    assert!(html.contains("Not known: the analysis had no fibre layer"));
    // map.html's note names only the layers it has: no corridors, no projects here.
    let page = std::fs::read_to_string(bare.join("map.html")).unwrap();
    assert!(
        page.contains("(simplified by 2 m).") && !page.contains("corridors:"),
        "{}",
        &page[..2000]
    );
    ok(&["grid", bare.to_str().unwrap(), "--scb", "1000"]);
    let cells = fills(&bare.join("grid").join("scb_1km.geojson"));
    assert!(
        !cells.is_empty() && cells.iter().all(|f| f == grey),
        "{cells:?}"
    );
    let html = report(&bare, "sv");
    let h = headline(&html);
    assert_eq!(
        (h[2].0.as_str(), h[2].1.as_str()),
        (
            "–",
            "hushåll och arbetsställen med fiber i absoluta närheten: okänt, analysen hade inget fiberlager"
        )
    );
    assert_eq!(
        (h[3].0.as_str(), h[3].1.as_str()),
        (
            "–",
            "adresser med 4G: okänt, analysen hade ingen mobiltäckning och inga mobilmaster"
        )
    );
    assert!(!html.contains("SCB"));

    // Fibre without mobile coverage: the fibre share is measured (p1 and p2 are passed: 3 of
    // 4 households), 4G is not.
    let (fibre_only, summary) = analyze("fibre", &["--fibre", fibre.to_str().unwrap()]);
    assert!(
        summary
            .lines()
            .any(|l| l == "  fibre passed                  2   66.7 %"),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|l| l == "  5G                            –  not known (no mobile layer or sites)"),
        "{summary}"
    );
    let h = headline(&report(&fibre_only, "en"));
    assert_eq!(h[2].1, "households + workplaces with fibre");
    assert_eq!(h[2].0, "75.0 %");
    assert_eq!(
        h[3].1,
        "premises with 4G: not known, the analysis had no mobile coverage or cell sites"
    );
    assert_eq!(
        h[4],
        (
            "1".to_string(),
            "unserved premises (no fibre, no 4G; with no mobile layer, none counts as having 4G)"
                .to_string()
        )
    );
    assert_eq!(h[5].1, "white premises (state aid)");
    // With fibre the share is drawn: 2 of the 3 premises, the 60–80 % class's colour.
    let f = json(&fibre_only.join("settlements.geojson"));
    assert_eq!(
        f["features"][0]["properties"]["fill"],
        gapmap_io::write::style::share_fill(Some(2.0 / 3.0))
    );
    assert_ne!(gapmap_io::write::style::share_fill(Some(2.0 / 3.0)), grey);
    let qml = std::fs::read_to_string(fibre_only.join("settlements.qml")).unwrap();
    assert!(qml.contains("graduatedSymbol") && qml.contains("share_fibre_passed"));

    // The bundled region has every layer: the plain labels, and SCB named for its tätorter.
    let all = dir.path().join("all");
    let o = gapmap()
        .current_dir(repo())
        .args([
            "analyze",
            "--outputs",
            "tables,maps",
            "--out",
            all.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let html = report(&all, "en");
    let labels: Vec<String> = headline(&html).into_iter().map(|f| f.1).collect();
    assert_eq!(
        labels,
        [
            "premises",
            "households",
            "households + workplaces with fibre",
            "premises with 4G",
            "unserved premises (no fibre, no 4G)",
            "white premises (state aid)"
        ]
    );
    assert!(html.contains("Settlement and boundary data: SCB (CC0)."));
    let page = std::fs::read_to_string(all.join("map.html")).unwrap();
    assert!(page.contains("corridors: the 300 that cut the most premises"));
    assert!(!page.contains("projects: those chosen"));
}
