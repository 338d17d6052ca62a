//! The validity screen that readers run on every polygon input
//! (`gapmap_core::validity::surely_valid`) against geo's full OGC validation
//! (`geo::Validation::is_valid`), on settlement-like outlines: one wiggly shell with a few
//! holes, of 1,000 to 100,000 vertices (geo's only up to 10,000: it is quadratic). Run:
//! `cargo bench -p gapmap-benches --bench validity`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::{Coord, LineString, Polygon, Validation};
use gapmap_core::rng::SplitMix64;
use gapmap_core::validity::surely_valid;

/// A closed star-shaped ring of `n` vertices around `(cx, cy)`: radius `r`, with a slow wiggle
/// of 20 % and noise of about one vertex spacing, so that neighbouring segments turn both
/// ways, as digitised boundaries do, on a 1 cm grid.
fn ring(rng: &mut SplitMix64, cx: f64, cy: f64, r: f64, n: usize, clockwise: bool) -> LineString {
    let mut pts: Vec<Coord> = (0..n)
        .map(|k| {
            let a = k as f64 / n as f64 * std::f64::consts::TAU;
            let a = if clockwise { -a } else { a };
            let spacing = std::f64::consts::TAU * r / n as f64;
            let rr = r * (1.0 + 0.2 * (5.0 * a).sin()) + spacing * (rng.f64() - 0.5);
            Coord {
                x: ((cx + rr * a.cos()) * 100.0).round() / 100.0,
                y: ((cy + rr * a.sin()) * 100.0).round() / 100.0,
            }
        })
        .collect();
    pts.push(pts[0]);
    LineString::new(pts)
}

/// A valid settlement-like polygon of about `n` vertices: a shell and four small holes.
fn outline(n: usize) -> Polygon {
    let mut rng = SplitMix64::new(n as u64);
    let (cx, cy, r) = (600_000.0, 6_700_000.0, 2_000.0);
    let hole_n = (n / 40).max(8);
    let holes = (0..4)
        .map(|k| {
            let a = k as f64 * std::f64::consts::FRAC_PI_2;
            ring(
                &mut rng,
                cx + 0.5 * r * a.cos(),
                cy + 0.5 * r * a.sin(),
                0.1 * r,
                hole_n,
                true,
            )
        })
        .collect();
    Polygon::new(ring(&mut rng, cx, cy, r, n - 4 * hole_n, false), holes)
}

fn validity(c: &mut Criterion) {
    let mut g = c.benchmark_group("polygon_validity");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let p = vec![outline(n)];
        assert!(surely_valid(&p), "the bench polygon is valid");
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("screen", n), &n, |b, _| {
            b.iter(|| black_box(surely_valid(black_box(&p))))
        });
        // geo's validation tests segment pairs all against all: 34 s a call at 100,000.
        if n <= 10_000 {
            g.bench_with_input(BenchmarkId::new("geo_is_valid", n), &n, |b, _| {
                b.iter(|| black_box(black_box(&p[0]).is_valid()))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, validity);
criterion_main!(benches);
