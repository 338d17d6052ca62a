//! The four per-premise kernels, each beside its baselines, over growing numbers of premises:
//!
//! | kernel | gapmap | baselines |
//! |---|---|---|
//! | settlement assignment | R-tree of prepared polygon parts | flat scan (every settlement: bbox, then an unindexed point-in-polygon) |
//! | fibre reach | R-tree of line pieces, window then nearest | flat scan (every segment) |
//! | mobile coverage | R-tree of prepared coverage parts | flat scan (every coverage feature) |
//! | gap clustering | grid single linkage | R-tree neighbour search with union-find |
//!
//! and each indexed kernel on one thread and on all threads. Run:
//! `cargo bench -p gapmap-benches --bench kernels`; add a filter to run one group, e.g.
//! `-- settlement`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::fibre::{self, segment_distance2, FibreFeature, FibreIndex};
use gapmap_core::gaps::{self, GapKind};
use gapmap_core::geo::coordinate_position::CoordPos;
use gapmap_core::geo::{
    Coord, CoordinatePosition, LineString, MultiLineString, MultiPoint, MultiPolygon, Polygon,
};
use gapmap_core::mobile::{self, CoverageFeature, MobileIndex, Tech};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::rng::SplitMix64;
use gapmap_core::settlement;
use gapmap_core::synth::disc_n;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// A 200 km square "region".
const SIDE: f64 = 200_000.0;

fn star(rng: &mut SplitMix64, c: Coord<f64>, r: f64, n: usize) -> Polygon<f64> {
    let pts: Vec<Coord<f64>> = (0..=n)
        .map(|i| {
            let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
            let rr = r * if (i % n).is_multiple_of(2) {
                1.0
            } else {
                rng.range(0.6, 0.95)
            };
            Coord {
                x: c.x + rr * a.cos(),
                y: c.y + rr * a.sin(),
            }
        })
        .collect();
    Polygon::new(LineString::new(pts), vec![])
}

/// 400 settlements with 24 to 4,000 vertices (about 300k in all), as real tätorter range.
fn settlements() -> Vec<MultiPolygon<f64>> {
    let mut rng = SplitMix64::derive(1, "bench-settlements");
    (0..400)
        .map(|i| {
            let n = if i % 50 == 0 {
                4000
            } else {
                24 + rng.below(1200) as usize
            };
            let c = Coord {
                x: rng.range(0.0, SIDE),
                y: rng.range(0.0, SIDE),
            };
            let r = rng.range(500.0, 4000.0);
            MultiPolygon::new(vec![star(&mut rng, c, r, n)])
        })
        .collect()
}

/// Premises: 80 % near settlements, 20 % anywhere.
fn premises(n: usize, areas: &[MultiPolygon<f64>]) -> Vec<Coord<f64>> {
    use gapmap_core::geo::BoundingRect;
    let mut rng = SplitMix64::derive(n as u64, "bench-premises");
    (0..n)
        .map(|_| {
            if rng.chance(0.8) {
                let r = areas[rng.below(areas.len() as u64) as usize]
                    .bounding_rect()
                    .unwrap();
                Coord {
                    x: rng.range(r.min().x, r.max().x),
                    y: rng.range(r.min().y, r.max().y),
                }
            } else {
                Coord {
                    x: rng.range(0.0, SIDE),
                    y: rng.range(0.0, SIDE),
                }
            }
        })
        .collect()
}

/// Street-like fibre: about 40,000 features of 2 to 12 segments.
fn fibre_features() -> Vec<FibreFeature> {
    let mut rng = SplitMix64::derive(2, "bench-fibre");
    (0..40_000)
        .map(|i| {
            let (mut x, mut y) = (rng.range(0.0, SIDE), rng.range(0.0, SIDE));
            let mut ls = vec![Coord { x, y }];
            for _ in 0..2 + rng.below(10) {
                if rng.chance(0.5) {
                    x += rng.range(-150.0, 150.0);
                } else {
                    y += rng.range(-150.0, 150.0);
                }
                ls.push(Coord { x, y });
            }
            FibreFeature {
                lines: MultiLineString::new(vec![LineString::new(ls)]),
                points: MultiPoint::new(vec![]),
                network: (i % 7) as u32,
                srlg: None,
            }
        })
        .collect()
}

/// Four operators' 4G and 5G: unions of site discs (96-gons), as coverage layers are.
fn coverage() -> Vec<CoverageFeature> {
    use gapmap_core::geo::unary_union;
    let mut rng = SplitMix64::derive(3, "bench-coverage");
    let mut out = Vec::new();
    for op in 0..4u32 {
        for (tech, sites, r) in [
            (Tech::G4, 300, (4000.0, 8000.0)),
            (Tech::G5, 150, (800.0, 2000.0)),
        ] {
            let discs: Vec<Polygon<f64>> = (0..sites)
                .map(|_| {
                    disc_n(
                        Coord {
                            x: rng.range(0.0, SIDE),
                            y: rng.range(0.0, SIDE),
                        },
                        rng.range(r.0, r.1),
                        96,
                    )
                })
                .collect();
            out.push(CoverageFeature {
                area: unary_union(&discs),
                operator: op,
                tech,
            });
        }
    }
    out
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn all_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn settlement_assignment(c: &mut Criterion) {
    let areas = settlements();
    let index = PolygonIndex::new(&areas);
    let mut g = c.benchmark_group("settlement");
    g.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let pts = premises(n, &areas);
        let order = SpatialOrder::new(&pts);
        g.throughput(Throughput::Elements(n as u64));
        for threads in [1, all_threads()] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(format!("rtree_prepared/{threads}t"), n),
                &pts,
                |b, pts| {
                    b.iter(|| p.install(|| settlement::assign(&index, black_box(pts), &order, &())))
                },
            );
        }
        if n <= 10_000 {
            g.bench_with_input(BenchmarkId::new("flat_scan/1t", n), &pts, |b, pts| {
                use gapmap_core::geo::BoundingRect;
                let boxes: Vec<_> = areas.iter().map(|a| a.bounding_rect().unwrap()).collect();
                b.iter(|| {
                    pts.iter()
                        .map(|p| {
                            (0..areas.len()).find(|&i| {
                                let r = boxes[i];
                                p.x >= r.min().x
                                    && p.x <= r.max().x
                                    && p.y >= r.min().y
                                    && p.y <= r.max().y
                                    && areas[i].coordinate_position(p) != CoordPos::Outside
                            })
                        })
                        .filter(Option::is_some)
                        .count()
                })
            });
        }
    }
    g.finish();
}

fn fibre_reach(c: &mut Criterion) {
    let areas = settlements();
    let features = fibre_features();
    let index = FibreIndex::new(&features);
    let mut g = c.benchmark_group("fibre");
    g.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let pts = premises(n, &areas);
        let order = SpatialOrder::new(&pts);
        g.throughput(Throughput::Elements(n as u64));
        for threads in [1, all_threads()] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(format!("rtree_pieces/{threads}t"), n),
                &pts,
                |b, pts| {
                    b.iter(|| {
                        p.install(|| fibre::reach_all(&index, black_box(pts), 50.0, &order, &()))
                    })
                },
            );
        }
        if n <= 10_000 {
            let few = &pts[..1_000];
            g.throughput(Throughput::Elements(few.len() as u64));
            g.bench_with_input(
                BenchmarkId::new("flat_scan/1t", few.len()),
                few,
                |b, pts| {
                    b.iter(|| {
                        pts.iter()
                            .map(|&p| {
                                let mut best = f64::INFINITY;
                                for f in &features {
                                    for ls in &f.lines.0 {
                                        for w in ls.0.windows(2) {
                                            best = best.min(segment_distance2(p, w[0], w[1]));
                                        }
                                    }
                                }
                                best
                            })
                            .filter(|d| d.sqrt() <= 50.0)
                            .count()
                    })
                },
            );
        }
    }
    g.finish();
}

fn mobile_coverage(c: &mut Criterion) {
    let areas = settlements();
    let features = coverage();
    let index = MobileIndex::new(&features).unwrap();
    let mut g = c.benchmark_group("mobile");
    g.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let pts = premises(n, &areas);
        let order = SpatialOrder::new(&pts);
        g.throughput(Throughput::Elements(n as u64));
        for threads in [1, all_threads()] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(format!("rtree_prepared/{threads}t"), n),
                &pts,
                |b, pts| {
                    b.iter(|| p.install(|| mobile::cover_all(&index, black_box(pts), &order, &())))
                },
            );
        }
        if n <= 10_000 {
            let few = &pts[..1_000];
            g.throughput(Throughput::Elements(few.len() as u64));
            g.bench_with_input(
                BenchmarkId::new("flat_scan/1t", few.len()),
                few,
                |b, pts| {
                    b.iter(|| {
                        pts.iter()
                            .map(|p| {
                                features
                                    .iter()
                                    .filter(|f| f.area.coordinate_position(p) != CoordPos::Outside)
                                    .count()
                            })
                            .sum::<usize>()
                    })
                },
            );
        }
    }
    g.finish();
}

/// The obvious alternative to the grid: an R-tree of the group's points, a radius query per
/// point, union-find over the links, and the same output as `gaps::single_linkage` (sorted
/// components, ordered by their smallest index).
fn rtree_linkage(points: &[Coord<f64>], members: &[u32], r: f64) -> Vec<Vec<u32>> {
    let tree = RTree::bulk_load(
        members
            .iter()
            .enumerate()
            .map(|(local, &m)| {
                let p = points[m as usize];
                GeomWithData::new([p.x, p.y], local)
            })
            .collect(),
    );
    let mut parent: Vec<usize> = (0..members.len()).collect();
    fn find(p: &mut [usize], mut a: usize) -> usize {
        while p[a] != a {
            p[a] = p[p[a]];
            a = p[a];
        }
        a
    }
    for (local, &m) in members.iter().enumerate() {
        let p = points[m as usize];
        for nb in tree.locate_within_distance([p.x, p.y], r * r) {
            let (a, b) = (find(&mut parent, local), find(&mut parent, nb.data));
            if a != b {
                parent[a] = b;
            }
        }
    }
    let mut comps: std::collections::BTreeMap<usize, Vec<u32>> = Default::default();
    for (local, &m) in members.iter().enumerate() {
        let root = find(&mut parent, local);
        comps.entry(root).or_default().push(m);
    }
    let mut comps: Vec<Vec<u32>> = comps.into_values().collect();
    for c in &mut comps {
        c.sort_unstable();
    }
    comps.sort_unstable_by_key(|c| c[0]);
    comps
}

/// `gaps::cluster` with the R-tree linkage: the same grouping by (settlement, kind) and the same
/// clusters, one thread.
fn rtree_cluster(
    points: &[Coord<f64>],
    kinds: &[Option<GapKind>],
    settlements: &[Option<u32>],
    r: f64,
) -> Vec<Vec<u32>> {
    let mut groups: std::collections::BTreeMap<(u32, GapKind), Vec<u32>> = Default::default();
    for (i, k) in kinds.iter().enumerate() {
        if let Some(k) = k {
            groups
                .entry((settlements[i].unwrap_or(u32::MAX), *k))
                .or_default()
                .push(i as u32);
        }
    }
    groups
        .values()
        .flat_map(|members| rtree_linkage(points, members, r))
        .collect()
}

fn gap_clustering(c: &mut Criterion) {
    let areas = settlements();
    let mut g = c.benchmark_group("gaps");
    g.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        // A third of the premises are gaps, in three kinds, split among the settlements.
        let pts = premises(n, &areas);
        let index = PolygonIndex::new(&areas);
        let sett = settlement::assign(&index, &pts, &SpatialOrder::identity(pts.len()), &());
        let kinds: Vec<Option<GapKind>> = (0..n)
            .map(|i| {
                [
                    None,
                    None,
                    None,
                    Some(GapKind::Unserved),
                    Some(GapKind::NoFibre),
                    Some(GapKind::No4g),
                ][i % 6]
            })
            .collect();
        g.throughput(Throughput::Elements(n as u64));
        for threads in [1, all_threads()] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(format!("grid_linkage/{threads}t"), n),
                &pts,
                |b, pts| {
                    b.iter(|| {
                        p.install(|| gaps::cluster(black_box(pts), &kinds, &sett, 200.0).len())
                    })
                },
            );
        }
        let want: Vec<Vec<u32>> = gaps::cluster(&pts, &kinds, &sett, 200.0)
            .into_iter()
            .map(|c| c.premises)
            .collect();
        assert_eq!(
            rtree_cluster(&pts, &kinds, &sett, 200.0),
            want,
            "the baseline finds the same clusters"
        );
        g.bench_with_input(BenchmarkId::new("rtree_linkage/1t", n), &pts, |b, pts| {
            b.iter(|| rtree_cluster(black_box(pts), &kinds, &sett, 200.0).len())
        });
    }
    g.finish();
}

criterion_group!(
    kernels,
    settlement_assignment,
    fibre_reach,
    mobile_coverage,
    gap_clustering
);
criterion_main!(kernels);
