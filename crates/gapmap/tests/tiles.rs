//! The oracle of the partitioned analysis (`analyze::tiles`): every file of a tiled run,
//! its tiles computed apart and passed as bytes, is the file of the whole run, on the bundled
//! region (with cell sites and resilience) and on seeded random workloads, at tile sizes from
//! the default down to below the gap cluster distance.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::io::Write;
use std::path::Path;

use gapmap::analyze::tiles::{TilePart, TiledRun};
use gapmap::analyze::{self, read_inputs, Output, RunMeta};
use gapmap::AnalysisPlan;
use gapmap_core::rng::SplitMix64;

mod common;
use common::{assert_same_analysis, bundled_plan, repo};

/// The tiled run of `plan` into `out`: each tile computed in an order other than its number
/// (the last first), its part passed through bytes, then merged and written. Returns the
/// number of tiles, and of gap clusters handed back that reach beyond their tile.
fn tiled(plan: &AnalysisPlan, tile_size_m: f64, out: &Path) -> (usize, usize) {
    let checked = plan.validate().expect("valid plan");
    let inputs = read_inputs(plan.clone(), checked, false, RunMeta::start()).expect("inputs read");
    let run = TiledRun::new(inputs, tile_size_m).expect("tiles");
    // The fibre network of the resilience analysis built beside the tiles, as the Ray lead
    // does; at the default size, by the merge itself.
    if tile_size_m != analyze::tiles::DEFAULT_TILE_SIZE_M {
        run.start_network().expect("network build started");
    }
    let n = run.tiling().len();
    let parts: Vec<TilePart> = (0..n)
        .rev()
        .map(|k| {
            let bytes = run.run_tile(k).expect("a tile").to_bytes();
            TilePart::from_bytes(&bytes).expect("a part read back")
        })
        .collect();
    let crossing = parts
        .iter()
        .map(|p| {
            p.clusters
                .iter()
                .filter(|c| c.iter().any(|i| p.own.binary_search(i).is_err()))
                .count()
        })
        .sum();
    let mut results = run.assemble(parts).expect("merged");
    results.write(out, false).expect("written");
    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        run_json["tiles"]["tiles"].as_array().map(Vec::len),
        Some(n),
        "run.json records every tile"
    );
    (n, crossing)
}

/// The whole run of `plan` into `out`.
fn whole(plan: &AnalysisPlan, out: &Path) {
    let mut p = plan.clone();
    p.out = out.to_path_buf();
    analyze::run(p).expect("whole run");
}

#[test]
fn tiles_of_the_bundled_region_make_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();

    let mut plan = bundled_plan();
    // Every output, with cell sites (predicted cover) and fibre resilience.
    plan.gpkg = true;
    plan.radio.sites = Some(repo().join("data/dalarna/sites.gpkg"));
    plan.resilience.backbone = Some(repo().join("data/dalarna/backbone.gpkg"));
    whole(&plan, &tmp.path().join("whole"));
    // 50 km (the default) and 4 km.
    for (tile_m, at_least) in [(50_000.0, 2), (4_000.0, 50)] {
        let out = tmp.path().join(format!("tiled-{tile_m}"));
        let (n, crossing) = tiled(&plan, tile_m, &out);
        assert!(n >= at_least, "{tile_m} m: only {n} tiles");
        assert!(
            crossing > 0,
            "{tile_m} m: no gap cluster crosses a tile's edge"
        );
        assert_same_analysis(&tmp.path().join("whole"), &out);
    }
    report_names_the_tiles(&tmp.path().join("tiled-4000"), &tmp.path().join("report"));
    // 150 m, below the gap cluster distance (200 m): a halo spans two rings of tiles, and
    // clusters cross many tiles. The cell sites' radii are found once for all of them.
    let out = tmp.path().join("tiled-150");
    let (n, crossing) = tiled(&plan, 150.0, &out);
    assert!(
        n > 5_000 && crossing > 1_000,
        "{n} tiles, {crossing} crossing"
    );
    assert_same_analysis(&tmp.path().join("whole"), &out);
}

/// `gapmap report` on the tiled analysis in `analysis` (into `out`): its methods say how the run
/// was split, and list the slowest tiles with the work and time run.json records for them.
fn report_names_the_tiles(analysis: &Path, out: &Path) {
    gapmap::report::run(gapmap::report::ReportPlan {
        analysis: analysis.to_path_buf(),
        out: Some(out.to_path_buf()),
        map_width_px: 400,
        png_width_px: 400,
        top: 5,
        title: None,
        lang: None,
    })
    .expect("report");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(analysis.join("run.json")).unwrap()).unwrap();
    let tiles = run["tiles"]["tiles"].as_array().unwrap();
    assert!(html.contains("Methods: tiles"), "no tiles table");
    assert!(
        html.contains(&format!(
            "split into {} tiles of 4.0 km (halos of 201 m) and computed apart",
            tiles.len()
        )),
        "the note does not say how the run was split"
    );
    // The slowest tile's row: its column, row, premises and seconds.
    let slowest = tiles
        .iter()
        .max_by(|a, b| {
            a["seconds"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["seconds"].as_f64().unwrap())
        })
        .unwrap();
    let row = format!(
        "<td class=\"n\">{}</td><td class=\"n\">{}</td>",
        slowest["col"], slowest["row"]
    );
    let at = html
        .find(&row)
        .unwrap_or_else(|| panic!("no row for the slowest tile {slowest}"));
    let seconds = format!("{:.2}", slowest["seconds"].as_f64().unwrap());
    let next_row = html[at..].find("</tr>").unwrap();
    assert!(
        html[at..at + next_row].contains(&seconds),
        "the slowest tile's row lacks its {seconds} s: {}",
        &html[at..at + next_row]
    );
    // Ten rows at most.
    let table = &html[html.find("Methods: tiles").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 1 + tiles.len().min(10));
}

/// Premises scattered over the bundled region in clumps (seeded), as a CSV in SWEREF 99 TM.
fn random_premises(path: &Path, seed: u64, n: usize) {
    let mut rng = SplitMix64::new(seed);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "id,x,y,households").unwrap();
    // Dalarna, roughly: E 400–560 km, N 6,660–6,900 km.
    let mut k = 0;
    while k < n {
        let (cx, cy) = (
            rng.range(400_000.0, 560_000.0),
            rng.range(6_660_000.0, 6_900_000.0),
        );
        let spread = rng.range(50.0, 3_000.0);
        for _ in 0..(1 + rng.below(400)).min((n - k) as u64) {
            let (x, y) = (cx + spread * rng.normal(), cy + spread * rng.normal());
            writeln!(f, "p{k},{x:.2},{y:.2},{}", 1 + rng.below(3)).unwrap();
            k += 1;
        }
    }
    f.flush().unwrap();
}

#[test]
fn tiles_of_seeded_random_workloads_make_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    for (seed, tile_m, cluster_m) in [(1, 10_000.0, 200.0), (2, 700.0, 500.0), (3, 90.0, 300.0)] {
        let csv = tmp.path().join(format!("premises-{seed}.csv"));
        random_premises(&csv, seed, 20_000);
        let mut plan = bundled_plan();
        plan.premises = Some(csv);
        plan.assume_crs = Some("EPSG:3006".into());
        plan.premise.premise_id_field = Some("id".into());
        plan.gap_cluster_m = cluster_m;
        plan.outputs = vec![Output::Tables, Output::Maps];
        let w = tmp.path().join(format!("whole-{seed}"));
        whole(&plan, &w);
        let t = tmp.path().join(format!("tiled-{seed}"));
        let (n, crossing) = tiled(&plan, tile_m, &t);
        assert!(
            n > 10 && crossing > 0,
            "seed {seed}: {n} tiles, {crossing} crossing"
        );
        assert_same_analysis(&w, &t);
    }
}

#[test]
fn a_missing_or_doubled_tile_is_an_error_naming_it() {
    let mut plan = bundled_plan();
    plan.outputs = vec![Output::Tables];
    let read = || {
        let checked = plan.validate().unwrap();
        let inputs = read_inputs(plan.clone(), checked, false, RunMeta::start()).unwrap();
        TiledRun::new(inputs, 20_000.0).unwrap()
    };
    let run = read();
    let n = run.tiling().len();
    assert!(n > 3);
    let mut parts: Vec<TilePart> = (1..n).map(|k| run.run_tile(k).unwrap()).collect();
    let missing = run.tiling().key(0);
    let e = run.assemble(parts.clone()).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains(&missing.to_string()), "{e}");
    assert!(e.to_string().contains("missing"), "{e}");

    let run = read();
    parts.push(parts[0].clone());
    parts.push(run.run_tile(0).unwrap());
    let e = run.assemble(parts).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");

    let e = read().run_tile(n).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    let checked = plan.validate().unwrap();
    let inputs = read_inputs(plan.clone(), checked, false, RunMeta::start()).unwrap();
    let e = TiledRun::new(inputs, 5.0).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("--tile-size-m"), "{e}");
}
