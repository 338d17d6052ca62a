//! `gapmap settlements --from-premises` against the real SCB tätorter of the bundled region:
//! premises are sampled inside each tätort (one household per 2.2 inhabitants, SCB's `bef`),
//! settlements are derived from the premises alone, and each tätort counts as recovered when
//! one derived settlement holds at least 80 % of its premises and at least 80 % of that
//! settlement's premises are its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

mod common;

use std::collections::HashMap;
use std::io::Write;

use common::*;
use gapmap_core::geo::{Area, BoundingRect, Coord};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::prepared::PreparedArea;
use gapmap_core::rng::SplitMix64;
use gapmap_io::read::{read_settlements, FieldChoice, SettlementOptions};
use gapmap_io::{Crs, ReadContext};

fn ctx() -> ReadContext {
    ReadContext {
        target: Crs::parse("EPSG:3006", "test").unwrap(),
        assume_crs: None,
        strict: false,
        columnar: false,
    }
}

/// How premises are placed inside a tätort.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Sampling {
    /// Uniformly at random (a Poisson process): along narrow strips, chance gaps over 200 m.
    Random,
    /// On a grid of the tätort's mean spacing, randomly offset and jittered by a quarter of
    /// the spacing: regular lots, as houses usually stand.
    JitteredGrid,
}

/// Samples premises in every tätort, derives settlements, and returns (one-to-one recovered,
/// held whole, tätorter).
fn recovery(sampling: Sampling) -> (usize, usize, usize) {
    let tatorter = read_settlements(
        &SettlementOptions {
            path: repo().join("data/dalarna/settlements.gpkg"),
            layer: None,
            id_field: FieldChoice::new(Some("tatortskod"), "id", "--settlement-id-field"),
            name_field: FieldChoice::new(Some("tatort"), "name", "--settlement-name-field"),
            population_field: Some(FieldChoice::new(Some("bef"), "bef", "population")),
            filter: None,
        },
        &ctx(),
    )
    .unwrap();
    let n_t = tatorter.ids.len();
    assert_eq!(n_t, 114);
    // Sample premises uniformly inside each tätort.
    let mut rng = SplitMix64::derive(2023, "tatorter");
    let mut truth: Vec<u32> = Vec::new();
    let mut xy: Vec<Coord<f64>> = Vec::new();
    for (t, area) in tatorter.areas.iter().enumerate() {
        let want = (tatorter.population[t] / 2.2).ceil() as usize;
        let bb = area.bounding_rect().unwrap();
        let prepared = PreparedArea::from_multi_polygon(area);
        match sampling {
            Sampling::Random => {
                let mut got = 0;
                while got < want {
                    let p = Coord {
                        x: rng.range(bb.min().x, bb.max().x),
                        y: rng.range(bb.min().y, bb.max().y),
                    };
                    if prepared.covers(p) {
                        xy.push(p);
                        truth.push(t as u32);
                        got += 1;
                    }
                }
            }
            Sampling::JitteredGrid => {
                let s = (area.unsigned_area() / want as f64).sqrt();
                let (ox, oy) = (rng.range(0.0, s), rng.range(0.0, s));
                let mut y = bb.min().y + oy;
                while y < bb.max().y {
                    let mut x = bb.min().x + ox;
                    while x < bb.max().x {
                        let p = Coord {
                            x: x + rng.range(-0.25, 0.25) * s,
                            y: y + rng.range(-0.25, 0.25) * s,
                        };
                        if prepared.covers(p) {
                            xy.push(p);
                            truth.push(t as u32);
                        }
                        x += s;
                    }
                    y += s;
                }
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("premises.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "id,x,y,households").unwrap();
    for (i, p) in xy.iter().enumerate() {
        writeln!(f, "{i},{:.2},{:.2},1", p.x, p.y).unwrap();
    }
    drop(f);
    let out = dir.path().join("derived");
    ok(&[
        "settlements",
        "--from-premises",
        csv.to_str().unwrap(),
        "--assume-crs",
        "EPSG:3006",
        // The sampling's household size (the default is 2.1).
        "--persons-per-household",
        "2.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let derived = read_settlements(
        &SettlementOptions {
            path: out.join("settlements.gpkg"),
            layer: None,
            id_field: FieldChoice::new(Some("id"), "id", "--settlement-id-field"),
            name_field: FieldChoice::new(Some("name"), "name", "--settlement-name-field"),
            population_field: Some(FieldChoice::new(
                Some("population"),
                "population",
                "population",
            )),
            filter: None,
        },
        &ctx(),
    )
    .unwrap();
    // Every derived settlement has at least 200 people.
    assert!(derived.population.iter().all(|&p| p >= 200.0));
    // Which derived settlement holds each premise.
    let index = PolygonIndex::new(&derived.areas);
    let of = gapmap_core::settlement::assign(&index, &xy, &SpatialOrder::new(&xy), &());
    let mut per_t: Vec<HashMap<u32, usize>> = vec![HashMap::new(); n_t];
    let mut per_d: Vec<usize> = vec![0; derived.ids.len()];
    for (i, d) in of.iter().enumerate() {
        if let Some(d) = d {
            *per_t[truth[i] as usize].entry(*d).or_default() += 1;
            per_d[*d as usize] += 1;
        }
    }
    let total_t: Vec<usize> = (0..n_t)
        .map(|t| truth.iter().filter(|&&x| x as usize == t).count())
        .collect();
    // Recovered one to one; held whole (at least 80 % of its premises in one derived
    // settlement, which may also hold a neighbour within 200 m); split.
    let (mut recovered, mut whole) = (0, 0);
    let mut merged = Vec::new();
    let mut split = Vec::new();
    for t in 0..n_t {
        let best = per_t[t]
            .iter()
            .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)));
        let held = best.is_some_and(|(_, &n)| n * 5 >= total_t[t] * 4);
        let own = best.is_some_and(|(&d, &n)| n * 5 >= per_d[d as usize] * 4);
        whole += usize::from(held);
        recovered += usize::from(held && own);
        if held && !own {
            merged.push(tatorter.names[t].clone());
        } else if !held {
            let inside: usize = per_t[t].values().sum();
            split.push(format!(
                "{} ({} premises: {} outside every derived settlement, largest part {})",
                tatorter.names[t],
                total_t[t],
                total_t[t] - inside,
                per_t[t].values().max().copied().unwrap_or(0)
            ));
        }
    }
    eprintln!(
        "{sampling:?}: {} sampled premises, {} derived settlements; {n_t} tätorter: {recovered} recovered one to one, {whole} held whole; merged with a neighbour: {}; split: {}",
        xy.len(),
        derived.ids.len(),
        merged.join(", "),
        split.join(", ")
    );
    assert!(derived.ids.len() <= n_t + 5);
    (recovered, whole, n_t)
}

#[test]
fn derived_settlements_recover_the_real_tatorter() {
    // Measured (README): jittered grid 107 one to one and 110 whole; random 90 and 93. The floors
    // guard against regressions.
    let (r, w, n) = recovery(Sampling::JitteredGrid);
    assert_eq!(n, 114);
    eprintln!("jittered grid: {r} recovered one to one, {w} held whole of {n}");
    assert!(r >= 100, "jittered grid: recovered only {r} of {n}");
    assert!(w >= 105, "jittered grid: only {w} of {n} held whole");
    let (r, w, _) = recovery(Sampling::Random);
    assert!(r >= 88, "random: recovered only {r} of {n}");
    assert!(w >= 91, "random: only {w} of {n} held whole");
}

/// `--crs auto` locates a Parquet table by its coordinates: premises near Kongsberg, Norway,
/// in UTM 33N (EPSG:25833, in the file's metadata) get the UTM zone of their centre, 32N, not
/// Sweden's SWEREF 99 TM.
#[test]
fn a_parquet_table_outside_sweden_gets_its_own_utm_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cabins.parquet");
    let mut rng = SplitMix64::new(3);
    let xy: Vec<Coord<f64>> = (0..400)
        .map(|_| Coord {
            x: 203_000.0 + rng.range(0.0, 1_500.0),
            y: 6_622_000.0 + rng.range(0.0, 1_500.0),
        })
        .collect();
    let ids: Vec<i64> = (0..xy.len() as i64).collect();
    let mut df = gapmap_io::write::tables::premise_input_frame(
        &ids,
        &xy,
        &vec![1; xy.len()],
        &vec![0; xy.len()],
    )
    .unwrap();
    gapmap_io::write::tables::write_parquet(&mut df, &path, Some("EPSG:25833")).unwrap();
    let out = dir.path().join("out");
    let o = ok(&[
        "settlements",
        "--from-premises",
        path.to_str().unwrap(),
        "--min-population",
        "50",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(err.contains("working CRS EPSG:32632"), "{err}");
    assert_eq!(json(&out.join("run.json"))["working_crs"], "EPSG:32632");
}
