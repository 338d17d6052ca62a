//! Inverse Transverse Mercator (SWEREF 99 TM → longitude/latitude) over outline-like vertices:
//! the Krüger series per vertex (the baseline, and what PROJ's `tmerc` computes) against the
//! tile interpolants of `TmTiles` that the GeoJSON writers use. Run:
//! `cargo bench -p gapmap-benches --bench reproject`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::rng::SplitMix64;
use gapmap_core::tmerc::{TmInverse, TmTiles, TransverseMercator};

/// `n` vertices of rings of 200 vertices, 2 m apart, at random places over Sweden's extent.
fn outline_vertices(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SplitMix64::new(17);
    let (mut xs, mut ys) = (Vec::with_capacity(n), Vec::with_capacity(n));
    while xs.len() < n {
        let (cx, cy) = (
            rng.range(250_000.0, 950_000.0),
            rng.range(6_130_000.0, 7_680_000.0),
        );
        for k in 0..200 {
            let a = k as f64 / 200.0 * std::f64::consts::TAU;
            xs.push(cx + 64.0 * a.cos());
            ys.push(cy + 64.0 * a.sin());
        }
    }
    xs.truncate(n);
    ys.truncate(n);
    (xs, ys)
}

fn reproject(c: &mut Criterion) {
    let mut g = c.benchmark_group("inverse_tmerc");
    g.sample_size(10);
    let tm = TmInverse::new(TransverseMercator::SWEREF99_TM).expect("valid parameters");
    for n in [16_384usize, 262_144] {
        let (xs, ys) = outline_vertices(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("series", n), &n, |b, _| {
            b.iter(|| {
                let (mut x, mut y) = (xs.clone(), ys.clone());
                for (x, y) in x.iter_mut().zip(y.iter_mut()) {
                    (*x, *y) = tm.lon_lat_deg(*x, *y);
                }
                black_box((x, y))
            })
        });
        // One `TmTiles` per writer, as in the GeoJSON writers: tiles fitted once, reused.
        let mut tiles = TmTiles::new(tm.clone());
        g.bench_with_input(BenchmarkId::new("tiles", n), &n, |b, _| {
            b.iter(|| {
                let (mut x, mut y) = (xs.clone(), ys.clone());
                tiles.lon_lat_deg_in_place(&mut x, &mut y);
                black_box((x, y))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, reproject);
criterion_main!(benches);
