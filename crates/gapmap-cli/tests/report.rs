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
