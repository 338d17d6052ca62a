//! Point-in-polygon on coverage-like polygons (unions of site discs) of growing size:
//! gapmap's grid-prepared `PreparedArea` against two baselines, geo's interval-tree index
//! (the GEOS `IndexedPointInAreaLocator` approach: O(log n + k), k = edges crossing the
//! point's scanline) and an unindexed scan (`CoordinatePosition`, O(n)).
//!
//! Run: `cargo bench -p gapmap-benches --bench point_in_polygon`. The claim it checks: the
//! prepared cost per point stays flat as the polygon grows to 100k vertices.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::algorithm::indexed::IntervalTreeMultiPolygon;
use gapmap_core::geo::{
    unary_union, Contains, Coord, CoordinatePosition, CoordsIter, MultiPolygon,
};
use gapmap_core::prepared::PreparedArea;
use gapmap_core::rng::SplitMix64;
use gapmap_core::synth::disc;

/// The union of `n` discs of 2–6 km scattered over a square sized so that they overlap.
fn coverage(n: usize) -> MultiPolygon<f64> {
    let mut rng = SplitMix64::derive(n as u64, "coverage");
    let side = 9000.0 * (n as f64).sqrt();
    let discs: Vec<_> = (0..n)
        .map(|_| {
            disc(
                Coord {
                    x: 500_000.0 + rng.range(0.0, side),
                    y: 6_500_000.0 + rng.range(0.0, side),
                },
                rng.range(2000.0, 6000.0),
            )
        })
        .collect();
    unary_union(&discs)
}

fn queries(mp: &MultiPolygon<f64>, n: usize) -> Vec<Coord<f64>> {
    use gapmap_core::geo::BoundingRect;
    let r = mp.bounding_rect().expect("non-empty");
    let mut rng = SplitMix64::derive(7, "queries");
    (0..n)
        .map(|_| Coord {
            x: rng.range(r.min().x, r.max().x),
            y: rng.range(r.min().y, r.max().y),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("point_in_polygon");
    g.sample_size(20);
    for discs in [30, 300, 3000] {
        let mp = coverage(discs);
        let vertices = mp.coords_count();
        let pts = queries(&mp, 10_000);
        let prepared = PreparedArea::from_multi_polygon(&mp);
        let itree = IntervalTreeMultiPolygon::new(&mp);
        // All three agree (boundary hits are measure-zero for random points).
        for p in pts.iter().take(500) {
            let a = prepared.covers(*p);
            assert_eq!(a, itree.contains(p));
            assert_eq!(
                a,
                mp.coordinate_position(p)
                    != gapmap_core::geo::coordinate_position::CoordPos::Outside
            );
        }
        g.throughput(Throughput::Elements(pts.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("prepared_grid", vertices),
            &pts,
            |b, pts| {
                b.iter(|| {
                    pts.iter()
                        .filter(|p| prepared.covers(black_box(**p)))
                        .count()
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("interval_tree", vertices),
            &pts,
            |b, pts| b.iter(|| pts.iter().filter(|p| itree.contains(black_box(*p))).count()),
        );
        // The unindexed scan on a tenth of the points, to keep the run short.
        let few = &pts[..1000];
        g.throughput(Throughput::Elements(few.len() as u64));
        g.bench_with_input(
            BenchmarkId::new("unindexed_scan", vertices),
            few,
            |b, pts| {
                b.iter(|| {
                    pts.iter()
                        .filter(|p| {
                            mp.coordinate_position(black_box(*p))
                                != gapmap_core::geo::coordinate_position::CoordPos::Outside
                        })
                        .count()
                })
            },
        );
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("prepare");
    g.sample_size(10);
    for discs in [300, 3000] {
        let mp = coverage(discs);
        let vertices = mp.coords_count();
        g.bench_with_input(BenchmarkId::new("prepared_grid", vertices), &mp, |b, mp| {
            b.iter(|| PreparedArea::from_multi_polygon(mp))
        });
        g.bench_with_input(BenchmarkId::new("interval_tree", vertices), &mp, |b, mp| {
            b.iter(|| IntervalTreeMultiPolygon::new(mp))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, build);
criterion_main!(benches);
