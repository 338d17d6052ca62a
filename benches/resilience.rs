//! The fibre resilience analysis over growing networks, beside the obvious baseline: remove
//! each risk unit in turn and search the whole graph again (what the analysis must not do).
//!
//! | step | gapmap | baseline |
//! |---|---|---|
//! | N-1 (what each failure cuts off) + paths | bridges, bridge tree, local searches for groups; max-flow per settlement | one search of the whole graph per risk unit |
//!
//! The network is street-like: junctions on a jittered grid joined by a minimum spanning tree
//! (access networks are trees), plus 15 % extra links that close rings, 2 % of links doubled
//! by a cable 1 m beside them (one trench), and 8 backbone points. Run:
//! `cargo bench -p gapmap-benches --bench resilience`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gapmap_core::geo::Coord;
use gapmap_core::network::{FibreGraph, GraphOptions, NetworkLine};
use gapmap_core::resilience::{self, Demand};
use gapmap_core::rng::SplitMix64;

/// About `n` links on a jittered grid of 100 m cells.
fn network(n: usize) -> (Vec<NetworkLine>, Vec<Coord<f64>>) {
    let mut rng = SplitMix64::derive(11, "bench-resilience");
    let side = (n as f64).sqrt().ceil() as usize;
    let node = |i: usize, j: usize, rng: &mut SplitMix64| Coord {
        x: i as f64 * 100.0 + rng.range(-20.0, 20.0),
        y: j as f64 * 100.0 + rng.range(-20.0, 20.0),
    };
    let pts: Vec<Vec<Coord<f64>>> = (0..side)
        .map(|i| (0..side).map(|j| node(i, j, &mut rng)).collect())
        .collect();
    // A spanning tree: a random walk order over grid edges, Kruskal style.
    let mut parent: Vec<usize> = (0..side * side).collect();
    fn find(p: &mut [usize], mut a: usize) -> usize {
        while p[a] != a {
            p[a] = p[p[a]];
            a = p[a];
        }
        a
    }
    let mut edges: Vec<(u64, usize, usize)> = Vec::new();
    for i in 0..side {
        for j in 0..side {
            if i + 1 < side {
                edges.push((rng.next_u64(), i * side + j, (i + 1) * side + j));
            }
            if j + 1 < side {
                edges.push((rng.next_u64(), i * side + j, i * side + j + 1));
            }
        }
    }
    edges.sort_unstable();
    let at = |k: usize| pts[k / side][k % side];
    let mut lines = Vec::new();
    let push = |a: Coord<f64>, b: Coord<f64>, lines: &mut Vec<NetworkLine>| {
        let k = lines.len() as u32;
        lines.push(NetworkLine {
            coords: vec![a, b],
            feature: k,
            network: 0,
            srlg: None,
        });
    };
    for &(w, a, b) in &edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra] = rb;
            push(at(a), at(b), &mut lines);
        } else if w % 100 < 15 {
            push(at(a), at(b), &mut lines);
        }
    }
    let extra: Vec<NetworkLine> = lines
        .iter()
        .enumerate()
        .filter(|(k, _)| k % 50 == 0)
        .map(|(k, l)| NetworkLine {
            coords: l
                .coords
                .iter()
                .map(|c| Coord {
                    x: c.x,
                    y: c.y + 1.0,
                })
                .collect(),
            feature: (lines.len() + k) as u32,
            network: 1,
            srlg: None,
        })
        .collect();
    lines.extend(extra);
    let backbone = (0..8)
        .map(|_| at(rng.below((side * side) as u64) as usize))
        .collect();
    (lines, backbone)
}

/// 100 settlements of 1 to 20 junctions, and 5 premises per link.
fn demand(g: &FibreGraph) -> Demand {
    let mut rng = SplitMix64::derive(12, "bench-demand");
    let nj = g.num_junctions() as u64;
    let settlement_sources = (0..100)
        .map(|_| {
            let c = rng.below(nj) as u32;
            (0..1 + rng.below(20) as u32)
                .map(|k| (c + k).min(nj as u32 - 1))
                .collect()
        })
        .collect();
    let premise_link: Vec<Option<u32>> = (0..g.links.len() * 5)
        .map(|k| Some((k / 5) as u32))
        .collect();
    let premise_households = vec![1; premise_link.len()];
    Demand {
        settlement_sources,
        premise_link,
        premise_households,
        premise_settlement: Vec::new(),
        corridor_share: 0.9,
    }
}

/// The baseline: premises cut by each risk unit, by a search of the whole graph per unit.
fn brute_force(g: &FibreGraph, d: &Demand) -> u64 {
    let nj = g.num_junctions();
    let mut total = 0u64;
    let mut removed = vec![false; g.links.len()];
    for group in &g.groups {
        for &l in group {
            removed[l as usize] = true;
        }
        let mut seen = vec![false; nj];
        let mut stack: Vec<u32> = g.backbone.iter().flatten().copied().collect();
        for &b in &stack {
            seen[b as usize] = true;
        }
        while let Some(v) = stack.pop() {
            for &(w, l) in g.neighbours(v) {
                if !removed[l as usize] && !seen[w as usize] {
                    seen[w as usize] = true;
                    stack.push(w);
                }
            }
        }
        for l in d.premise_link.iter().flatten() {
            let link = &g.links[*l as usize];
            total += u64::from(!seen[link.a as usize] && !seen[link.b as usize]);
        }
        for &l in group {
            removed[l as usize] = false;
        }
    }
    total
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn resilience_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("resilience");
    g.sample_size(10);
    let all = std::thread::available_parallelism().map_or(1, |n| n.get());
    for n in [2_000, 20_000, 200_000] {
        let (lines, backbone) = network(n);
        let graph = FibreGraph::build(&lines, &backbone, GraphOptions::default());
        let d = demand(&graph);
        g.throughput(Throughput::Elements(graph.links.len() as u64));
        for threads in [1, all] {
            let p = pool(threads);
            g.bench_with_input(
                BenchmarkId::new(format!("build_graph/{threads}t"), n),
                &lines,
                |b, lines| {
                    b.iter(|| {
                        p.install(|| {
                            FibreGraph::build(black_box(lines), &backbone, GraphOptions::default())
                                .links
                                .len()
                        })
                    })
                },
            );
            g.bench_with_input(
                BenchmarkId::new(format!("n_minus_1_and_paths/{threads}t"), n),
                &graph,
                |b, graph| {
                    b.iter(|| {
                        p.install(|| resilience::analyze(black_box(graph), &d).critical.len())
                    })
                },
            );
        }
        if n <= 20_000 {
            g.bench_with_input(
                BenchmarkId::new("brute_force_n_minus_1/1t", n),
                &graph,
                |b, graph| b.iter(|| brute_force(black_box(graph), &d)),
            );
        }
    }
    g.finish();
}

criterion_group!(benches, resilience_bench);
criterion_main!(benches);
