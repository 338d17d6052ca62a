//! Predicted coverage from cell sites, beside the obvious baseline: every site evaluated for
//! every premise (no index, no link-budget radius).
//!
//! | group | what grows | gapmap | baseline |
//! |---|---|---|---|
//! | `predict` | premises (10k-1M), 5,000 sites, no terrain | R-tree of site discs, per-site radius, rayon over premises | all sites per premise |
//! | `predict_threads` | 1 vs all threads at 1M premises | | |
//! | `terrain` | 500 sites x 100k premises over a 25 m DEM | profile + LOS + Deygout per link in reach | |
//! | `coverage_grid` | 500 sites on a 50 m grid, polygons | rows in parallel, chords of the discs that cross them, exact polygonizer | |
//!
//! Sites are masts of three sectors (800 MHz Hata and 1800 MHz COST-231 for 4G, 3500 MHz
//! TR 38.901 UMa for 5G) spread uniformly over a square sized so that a premise sees about ten
//! sites' discs, as in a Swedish county; premises are uniform. Run:
//! `cargo bench -p gapmap-benches --bench radio`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::Coord;
use gapmap_core::mobile::Tech;
use gapmap_core::radio::antenna::Sector;
use gapmap_core::radio::grid::coverage_layers;
use gapmap_core::radio::predict::{predict_all, LosMode, RadioParams, Site, SiteIndex};
use gapmap_core::radio::terrain::{Dem, ProfileScratch};
use gapmap_core::radio::{Environment, Los, ModelChoice};
use gapmap_core::rng::SplitMix64;
use rayon::prelude::*;

fn params(los: LosMode) -> RadioParams {
    RadioParams {
        ue_height_m: 1.5,
        indoor_loss_db: 0.0,
        threshold_4g_dbm: -105.0,
        threshold_5g_dbm: -105.0,
        los,
        off_dem: Los::Probability,
    }
}

/// `n` sector carriers on masts in a square of `side_m`.
fn sites(n: usize, side_m: f64, seed: u64) -> Vec<Site> {
    let mut rng = SplitMix64::derive(seed, "bench-radio-sites");
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let xy = Coord {
            x: rng.range(0.0, side_m),
            y: rng.range(0.0, side_m),
        };
        let op = rng.below(3) as u32;
        let (tech, f, eirp) = match rng.below(3) {
            0 => (Tech::G4, 800.0, 62.0),
            1 => (Tech::G4, 1800.0, 61.0),
            _ => (Tech::G5, 3500.0, 72.0),
        };
        let base = rng.range(0.0, 120.0);
        for k in 0..3 {
            if out.len() == n {
                break;
            }
            out.push(Site {
                xy,
                operator: op,
                tech,
                height_m: rng.range(30.0, 50.0),
                frequency_mhz: f,
                eirp_dbm: eirp,
                bandwidth_mhz: if tech == Tech::G5 { 100.0 } else { 10.0 },
                sector: Sector {
                    azimuth_deg: Some(base + 120.0 * k as f64),
                    beamwidth_deg: 65.0,
                    tilt_deg: Some(4.0),
                },
                model: ModelChoice::Auto.resolve(f, Environment::Suburban),
            });
        }
    }
    out
}

fn premises(n: usize, side_m: f64) -> Vec<Coord<f64>> {
    let mut rng = SplitMix64::derive(3, "bench-radio-premises");
    (0..n)
        .map(|_| Coord {
            x: rng.range(0.0, side_m),
            y: rng.range(0.0, side_m),
        })
        .collect()
}

/// The baseline: every site for every premise (the budget without the radius cut-off).
fn flat_scan(index: &SiteIndex, pts: &[Coord<f64>]) -> u64 {
    pts.par_iter()
        .map_init(ProfileScratch::default, |s, &p| {
            let mut ops = 0u64;
            for (i, site) in index.sites.iter().enumerate() {
                if let Some(b) = index.budget(i as u32, p, s) {
                    if b.rsrp_dbm >= index.params().threshold_dbm(site.tech) {
                        ops |= 1 << site.operator;
                    }
                }
            }
            u64::from(ops.count_ones())
        })
        .sum()
}

/// Hilly terrain: a sum of sines, 0-150 m, on `cell_m` cells.
fn dem(side_m: f64, cell_m: f64) -> Dem {
    let n = (side_m / cell_m).ceil() as usize + 1;
    let mut z = Vec::with_capacity(n * n);
    for r in 0..n {
        for c in 0..n {
            let (x, y) = (c as f64 * cell_m, side_m - r as f64 * cell_m);
            let h = 60.0
                + 40.0 * (x / 3100.0).sin() * (y / 2700.0).cos()
                + 25.0 * (x / 830.0 + 1.0).sin()
                + 20.0 * (y / 610.0 + 2.0).cos()
                + 5.0 * (x / 130.0).sin() * (y / 170.0).sin();
            z.push(h as f32);
        }
    }
    Dem {
        left: -cell_m / 2.0,
        top: side_m + cell_m / 2.0,
        cell_w_m: cell_m,
        cell_h_m: cell_m,
        cols: n,
        rows: n,
        z,
    }
}

/// Square side for `sites` carriers so that a premise is within about ten sites' discs.
fn side_for(sites: usize) -> f64 {
    (sites as f64 * 2.0e6).sqrt().max(20_000.0)
}

fn bench_predict(c: &mut Criterion) {
    let side = side_for(5000);
    let s = sites(5000, side, 1);
    let index = SiteIndex::new(&s, params(LosMode::Fixed(Los::Probability)), None);
    let mut g = c.benchmark_group("predict");
    g.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let pts = premises(n, side);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("indexed", n), &pts, |b, pts| {
            b.iter(|| black_box(predict_all(&index, pts, 0, &())))
        });
        if n <= 10_000 {
            let unbounded = SiteIndex::new(&s, params(LosMode::Fixed(Los::Probability)), None)
                .without_radius_cut();
            g.bench_with_input(BenchmarkId::new("flat_scan", n), &pts, |b, pts| {
                b.iter(|| black_box(flat_scan(&unbounded, pts)))
            });
        }
    }
    g.finish();
    let pts = premises(1_000_000, side);
    let mut g = c.benchmark_group("predict_threads");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pts.len() as u64));
    for threads in [1usize, rayon::current_num_threads()] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| pool.install(|| black_box(predict_all(&index, &pts, 0, &()))))
        });
    }
    g.finish();
}

fn bench_terrain(c: &mut Criterion) {
    let side = side_for(500);
    let s = sites(500, side, 2);
    let d = dem(side, 25.0);
    let index = SiteIndex::new(&s, params(LosMode::Terrain), Some(&d));
    let flat = SiteIndex::new(&s, params(LosMode::Fixed(Los::Probability)), None);
    let pts = premises(100_000, side);
    let mut g = c.benchmark_group("terrain");
    g.sample_size(10);
    g.throughput(Throughput::Elements(pts.len() as u64));
    g.bench_function("dem_25m", |b| {
        b.iter(|| black_box(predict_all(&index, &pts, 0, &())))
    });
    g.bench_function("no_dem", |b| {
        b.iter(|| black_box(predict_all(&flat, &pts, 0, &())))
    });
    g.finish();
}

fn bench_grid(c: &mut Criterion) {
    let side = side_for(500);
    let s = sites(500, side, 4);
    let index = SiteIndex::new(&s, params(LosMode::Fixed(Los::Probability)), None);
    let mut g = c.benchmark_group("coverage_grid");
    g.sample_size(10);
    g.bench_function("sites_500_grid_50m", |b| {
        b.iter(|| black_box(coverage_layers(&index, 50.0, &())))
    });
    g.finish();
}

criterion_group!(benches, bench_predict, bench_terrain, bench_grid);
criterion_main!(benches);
