//! Concave hulls of gap clusters (`gapmap_core::hull`) against geo's `ConcaveHull`, with the
//! options the gap outlines use (concavity 2, edges over 200 m dig in), on village-like
//! clusters: premises scattered along a few bent roads, spaced as in rural Sweden, in
//! SWEREF 99 TM metres. The two give the same rings (the crate's tests compare them).
//! Run: `cargo bench -p gapmap-benches --bench hull`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::algorithm::concave_hull::ConcaveHullOptions;
use gapmap_core::geo::{ConcaveHull, Coord, MultiPoint};
use gapmap_core::hull::concave_hull_sorted;
use gapmap_core::rng::SplitMix64;

/// `n` premises along four bent roads out of a village centre, sorted and deduplicated.
fn village(n: usize) -> Vec<Coord> {
    let mut rng = SplitMix64::new(n as u64);
    let mut pts: Vec<Coord> = (0..n)
        .map(|k| {
            let road = (k % 4) as f64 * std::f64::consts::FRAC_PI_2 + 0.3;
            let t = rng.range(0.0, 1.0).sqrt() * 40.0 * (n as f64).sqrt();
            let bend = (t / 400.0).sin() * 150.0;
            let (s, c) = road.sin_cos();
            Coord {
                x: (600_000.0 + t * c - bend * s + rng.range(-60.0, 60.0)).round(),
                y: (6_700_000.0 + t * s + bend * c + rng.range(-60.0, 60.0)).round(),
            }
        })
        .collect();
    pts.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    pts
}

fn hull(c: &mut Criterion) {
    let mut g = c.benchmark_group("concave_hull");
    g.sample_size(10);
    for n in [30usize, 300, 3_000, 30_000] {
        let pts = village(n);
        let mp = MultiPoint::from(pts.clone());
        let opts = || ConcaveHullOptions {
            concavity: 2.0,
            length_threshold: 200.0,
        };
        // Like for like: both give this ring.
        assert_eq!(
            concave_hull_sorted(&pts, 2.0, 200.0),
            mp.concave_hull_with_options(opts()),
            "{n} premises"
        );
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_with_input(BenchmarkId::new("gapmap", n), &n, |b, _| {
            b.iter(|| black_box(concave_hull_sorted(black_box(&pts), 2.0, 200.0)))
        });
        g.bench_with_input(BenchmarkId::new("geo", n), &n, |b, _| {
            b.iter(|| black_box(black_box(&mp).concave_hull_with_options(opts())))
        });
    }
    g.finish();
}

criterion_group!(benches, hull);
criterion_main!(benches);
