//! Douglas–Peucker for the web maps (`gapmap_core::simplify`) against geo's `Simplify`, on
//! settlement-like rings: a wiggly boundary digitised every 2 m or so with 1 m of noise,
//! simplified at the default `--map-simplify-m` of 2 m, which keeps about half the vertices
//! as on SCB's tätorter. Run: `cargo bench -p gapmap-benches --bench simplify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::{Coord, LineString, Simplify};
use gapmap_core::rng::SplitMix64;
use gapmap_core::simplify::simplify_ring;

/// A closed ring of `n` vertices, about 2 m apart, with a slow wiggle and 1 m of noise.
fn boundary(n: usize) -> LineString {
    let mut rng = SplitMix64::new(n as u64);
    let r = 2.0 * n as f64 / std::f64::consts::TAU;
    let mut pts: Vec<Coord> = (0..n)
        .map(|k| {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            let rr = r * (1.0 + 0.1 * (7.0 * a).sin()) + rng.range(-0.5, 0.5);
            Coord {
                x: 600_000.0 + rr * a.cos(),
                y: 6_700_000.0 + rr * a.sin(),
            }
        })
        .collect();
    pts.push(pts[0]);
    LineString::new(pts)
}

fn simplify(c: &mut Criterion) {
    let mut g = c.benchmark_group("simplify_2m");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let ring = boundary(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("gapmap", n), &n, |b, _| {
            b.iter(|| black_box(simplify_ring(black_box(&ring), 2.0)))
        });
        g.bench_with_input(BenchmarkId::new("geo", n), &n, |b, _| {
            b.iter(|| black_box(black_box(&ring).simplify(2.0)))
        });
    }
    g.finish();
}

criterion_group!(benches, simplify);
criterion_main!(benches);
