//! Subsidy priorities: what each candidate project would cost, and which projects to fund
//! under a budget so that the most households are connected.
//!
//! **Cost** (all in SEK): trenching per metre over the feeder (from the nearest fibre to the
//! project) and over the project's internal network (the Euclidean minimum spanning tree of
//! its premises), both times a detour factor, plus a fixed cost per premise connected. The
//! feeder is the straight distance times the detour factor, or, with a road network
//! ([`RoadGraph`]), the shortest path along the roads when that is shorter.
//!
//! **Choice** is a 0/1 knapsack. [`choose`] runs the greedy by households per krona (skipping
//! projects that no longer fit) and also takes the single best project that fits; whichever
//! connects more households wins. That is at least half the optimum in the worst case (the
//! greedy alone can be arbitrarily bad: one cheap, efficient project shutting out one large
//! one), and usually within a few per cent. [`exact_small`] solves small instances exactly,
//! for tests and for checking.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use geo::{Coord, LineString, MultiPoint, TriangulateDelaunayUnconstrained};
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::gaps::UnionFind;

/// Cost parameters, in SEK and metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    /// Trenching and cable per metre of route.
    pub trench_sek_per_m: f64,
    /// Route length over straight-line length (roads and property lines are not straight).
    pub detour_factor: f64,
    /// Fixed cost per premise connected (drop, termination, installation).
    pub per_premise_sek: f64,
}

impl CostModel {
    /// Cost of a project with `route_m` metres of route (already including any detour) and
    /// `premises` premises.
    pub fn cost_sek(&self, route_m: f64, premises: usize) -> f64 {
        route_m * self.trench_sek_per_m + premises as f64 * self.per_premise_sek
    }
}

/// Length of the Euclidean minimum spanning tree of `points`, in metres (0 for fewer than
/// two distinct points). Exact: the tree's edges are Delaunay edges, joined by Kruskal.
pub fn mst_length_m(points: &[Coord<f64>]) -> f64 {
    let mut pts: Vec<Coord<f64>> = points.to_vec();
    pts.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    match pts.len() {
        0 | 1 => return 0.0,
        2 => return dist(pts[0], pts[1]),
        _ => {}
    }
    let index: HashMap<(u64, u64), u32> = pts
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.x.to_bits(), c.y.to_bits()), i as u32))
        .collect();
    let mut edges: Vec<(f64, u32, u32)> = Vec::new();
    match MultiPoint::from(pts.clone()).unconstrained_triangulation() {
        Ok(tris) if !tris.is_empty() => {
            for t in tris {
                let v = [t.v1(), t.v2(), t.v3()];
                for k in 0..3 {
                    let (a, b) = (v[k], v[(k + 1) % 3]);
                    if let (Some(&i), Some(&j)) = (
                        index.get(&(a.x.to_bits(), a.y.to_bits())),
                        index.get(&(b.x.to_bits(), b.y.to_bits())),
                    ) {
                        edges.push((dist(a, b), i.min(j), i.max(j)));
                    }
                }
            }
        }
        // Collinear points have no triangles: the tree is the chain along the line.
        _ => {
            for w in pts.windows(2) {
                let (i, j) = (
                    index[&(w[0].x.to_bits(), w[0].y.to_bits())],
                    index[&(w[1].x.to_bits(), w[1].y.to_bits())],
                );
                edges.push((dist(w[0], w[1]), i, j));
            }
        }
    }
    edges.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    edges.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    let mut uf = UnionFind::new(pts.len());
    let mut total = 0.0;
    let mut joined = 0;
    for (d, i, j) in edges {
        if uf.union(i, j) {
            total += d;
            joined += 1;
            if joined == pts.len() - 1 {
                break;
            }
        }
    }
    total
}

#[inline]
fn dist(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x).hypot(a.y - b.y)
}

/// A road network as a graph: vertices where lines meet (snapped to `snap_m`), lines cut into
/// pieces of at most `densify_m`, so that every point of a road is near a vertex.
#[derive(Debug)]
pub struct RoadGraph {
    /// The graph's vertices, in the working CRS.
    pub vertices: Vec<Coord<f64>>,
    /// Adjacency in compressed rows: `offsets[v]..offsets[v + 1]` into `targets`/`lengths_m`.
    offsets: Vec<u32>,
    targets: Vec<u32>,
    lengths_m: Vec<f64>,
    tree: RTree<GeomWithData<[f64; 2], u32>>,
}

impl RoadGraph {
    /// Builds the graph. Line vertices closer than `snap_m` (on a grid of that size) are one
    /// vertex; segments longer than `densify_m` get intermediate vertices.
    pub fn new(lines: &[LineString<f64>], snap_m: f64, densify_m: f64) -> RoadGraph {
        let snap = snap_m.max(1e-6);
        let mut ids: HashMap<(i64, i64), u32> = HashMap::new();
        let mut vertices: Vec<Coord<f64>> = Vec::new();
        let mut vid = |c: Coord<f64>| -> u32 {
            let key = ((c.x / snap).round() as i64, (c.y / snap).round() as i64);
            *ids.entry(key).or_insert_with(|| {
                vertices.push(c);
                (vertices.len() - 1) as u32
            })
        };
        let mut pairs: Vec<(u32, u32, f64)> = Vec::new();
        for ls in lines {
            for w in ls.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                let len = dist(a, b);
                let pieces = ((len / densify_m.max(1.0)).ceil() as usize).max(1);
                let mut prev = vid(a);
                for k in 1..=pieces {
                    let t = k as f64 / pieces as f64;
                    let c = Coord {
                        x: a.x + (b.x - a.x) * t,
                        y: a.y + (b.y - a.y) * t,
                    };
                    let v = vid(c);
                    if v != prev {
                        pairs.push((prev, v, len / pieces as f64));
                    }
                    prev = v;
                }
            }
        }
        let n = vertices.len();
        let mut degree = vec![0u32; n + 1];
        for &(a, b, _) in &pairs {
            degree[a as usize] += 1;
            degree[b as usize] += 1;
        }
        let mut offsets = vec![0u32; n + 1];
        for v in 0..n {
            offsets[v + 1] = offsets[v] + degree[v];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; pairs.len() * 2];
        let mut lengths_m = vec![0.0; pairs.len() * 2];
        for &(a, b, l) in &pairs {
            for (x, y) in [(a, b), (b, a)] {
                let k = fill[x as usize] as usize;
                targets[k] = y;
                lengths_m[k] = l;
                fill[x as usize] += 1;
            }
        }
        let tree = RTree::bulk_load(
            vertices
                .iter()
                .enumerate()
                .map(|(i, c)| GeomWithData::new([c.x, c.y], i as u32))
                .collect(),
        );
        RoadGraph {
            vertices,
            offsets,
            targets,
            lengths_m,
            tree,
        }
    }

    /// The nearest vertex to `p` and its distance, if the graph has any.
    pub fn nearest(&self, p: Coord<f64>) -> Option<(u32, f64)> {
        self.tree
            .nearest_neighbor(&[p.x, p.y])
            .map(|v| (v.data, dist(p, self.vertices[v.data as usize])))
    }

    /// Shortest distances from a set of sources with start costs (multi-source Dijkstra):
    /// `start[v]` is the cost of reaching vertex `v` directly (infinite: not a source).
    pub fn distances(&self, start: &[f64]) -> Vec<f64> {
        #[derive(PartialEq)]
        struct Item(f64, u32);
        impl Eq for Item {}
        impl PartialOrd for Item {
            fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Item {
            fn cmp(&self, o: &Self) -> Ordering {
                o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
            }
        }
        let mut d = start.to_vec();
        let mut heap: BinaryHeap<Item> = d
            .iter()
            .enumerate()
            .filter(|(_, x)| x.is_finite())
            .map(|(v, &x)| Item(x, v as u32))
            .collect();
        while let Some(Item(dv, v)) = heap.pop() {
            if dv > d[v as usize] {
                continue;
            }
            let (a, b) = (
                self.offsets[v as usize] as usize,
                self.offsets[v as usize + 1] as usize,
            );
            for k in a..b {
                let (w, nd) = (self.targets[k], dv + self.lengths_m[k]);
                if nd < d[w as usize] {
                    d[w as usize] = nd;
                    heap.push(Item(nd, w));
                }
            }
        }
        d
    }
}

/// Feeder route lengths along roads: for each premise, the shorter of the straight route
/// (`fibre_distance_m × detour`) and the way along the roads: from the fibre to a road vertex
/// (straight, with detour), along the roads, then from the road to the premise (straight,
/// with detour). `vertex_fibre_m` is each road vertex's distance to the nearest fibre.
pub fn road_feeders_m(
    roads: &RoadGraph,
    vertex_fibre_m: &[f64],
    premises: &[Coord<f64>],
    premise_fibre_m: &[f64],
    detour_factor: f64,
) -> Vec<f64> {
    let start: Vec<f64> = vertex_fibre_m.iter().map(|d| d * detour_factor).collect();
    let along = roads.distances(&start);
    premises
        .iter()
        .zip(premise_fibre_m)
        .map(|(&p, &direct)| {
            let straight = direct * detour_factor;
            let by_road = roads.nearest(p).map_or(f64::INFINITY, |(v, d)| {
                along[v as usize] + d * detour_factor
            });
            straight.min(by_road)
        })
        .collect()
}

/// How the chosen set was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Greedy by households per krona.
    Greedy,
    /// The single best project that fits beat the greedy.
    BestSingle,
}

impl Method {
    /// The method's name, as the tables write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Greedy => "greedy by households per unit of cost",
            Method::BestSingle => "single best project",
        }
    }
}

/// The projects chosen under a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Project indices in order of cost-effectiveness (households per krona, then cheaper
    /// first, then index): the rank of each project is its position here.
    pub ranking: Vec<usize>,
    /// Per project: chosen or not.
    pub chosen: Vec<bool>,
    /// Households the chosen projects connect.
    pub households: u64,
    /// What the chosen projects cost, in SEK.
    pub cost_sek: f64,
    /// Which method made the choice.
    pub method: Method,
    /// The fractional-knapsack bound: no choice within the budget connects more households.
    pub upper_bound_households: f64,
}

/// Ranks projects by households per krona (projects with no cost first, then by value).
pub fn rank(households: &[u64], costs_sek: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..households.len()).collect();
    let eff = |i: usize| {
        if costs_sek[i] <= 0.0 {
            f64::INFINITY
        } else {
            households[i] as f64 / costs_sek[i]
        }
    };
    order.sort_by(|&a, &b| {
        eff(b)
            .total_cmp(&eff(a))
            .then(households[b].cmp(&households[a]))
            .then(costs_sek[a].total_cmp(&costs_sek[b]))
            .then(a.cmp(&b))
    });
    order
}

/// Chooses projects within `budget_sek` to connect the most households: the greedy by
/// households per krona (a project that no longer fits is skipped, later ones may still fit),
/// or the single best project that fits, whichever connects more (ties: the greedy).
pub fn choose(households: &[u64], costs_sek: &[f64], budget_sek: f64) -> Choice {
    let ranking = rank(households, costs_sek);
    let mut chosen = vec![false; households.len()];
    let (mut hh, mut cost) = (0u64, 0.0f64);
    let mut bound = 0.0;
    let mut bound_open = true;
    let mut left = budget_sek;
    for &i in &ranking {
        if bound_open {
            if costs_sek[i] <= left {
                bound += households[i] as f64;
                left -= costs_sek[i];
            } else {
                bound += households[i] as f64 * (left / costs_sek[i]);
                bound_open = false;
            }
        }
        if cost + costs_sek[i] <= budget_sek {
            chosen[i] = true;
            hh += households[i];
            cost += costs_sek[i];
        }
    }
    let best_single = (0..households.len())
        .filter(|&i| costs_sek[i] <= budget_sek)
        .max_by(|&a, &b| {
            households[a]
                .cmp(&households[b])
                .then(costs_sek[b].total_cmp(&costs_sek[a]))
                .then(b.cmp(&a))
        });
    if let Some(b) = best_single {
        if households[b] > hh {
            let mut only = vec![false; households.len()];
            only[b] = true;
            return Choice {
                ranking,
                chosen: only,
                households: households[b],
                cost_sek: costs_sek[b],
                method: Method::BestSingle,
                upper_bound_households: bound,
            };
        }
    }
    Choice {
        ranking,
        chosen,
        households: hh,
        cost_sek: cost,
        method: Method::Greedy,
        upper_bound_households: bound,
    }
}

/// The most households any set of projects within the budget connects, by trying every set
/// (for up to 24 projects; for tests and checks).
pub fn exact_small(households: &[u64], costs_sek: &[f64], budget_sek: f64) -> u64 {
    let n = households.len();
    assert!(n <= 24, "exact_small is for up to 24 projects");
    let mut best = 0;
    for mask in 0u32..(1 << n) {
        let (mut h, mut c) = (0u64, 0.0);
        for i in 0..n {
            if mask >> i & 1 == 1 {
                h += households[i];
                c += costs_sek[i];
            }
        }
        if c <= budget_sek && h > best {
            best = h;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    /// O(n²) Prim, the oracle for the Delaunay tree.
    fn prim(points: &[Coord<f64>]) -> f64 {
        let n = points.len();
        if n < 2 {
            return 0.0;
        }
        let mut inside = vec![false; n];
        let mut best = vec![f64::INFINITY; n];
        best[0] = 0.0;
        let mut total = 0.0;
        for _ in 0..n {
            let v = (0..n)
                .filter(|&i| !inside[i])
                .min_by(|&a, &b| best[a].total_cmp(&best[b]))
                .unwrap();
            inside[v] = true;
            total += best[v];
            for w in 0..n {
                if !inside[w] {
                    best[w] = best[w].min(dist(points[v], points[w]));
                }
            }
        }
        total
    }

    #[test]
    fn mst_matches_prim_on_random_points() {
        let mut rng = SplitMix64::derive(11, "mst");
        for case in 0..200 {
            let n = 1 + rng.below(60) as usize;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|_| c(rng.range(0.0, 500.0).round(), rng.range(0.0, 500.0).round()))
                .collect();
            if case % 7 == 0 {
                // Collinear and duplicate points.
                pts = (0..n).map(|i| c(i as f64 * 3.0, i as f64 * 3.0)).collect();
                pts.push(c(0.0, 0.0));
            }
            let mut unique = pts.clone();
            unique.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
            unique.dedup();
            let (got, want) = (mst_length_m(&pts), prim(&unique));
            assert!(
                (got - want).abs() < 1e-6 * want.max(1.0),
                "case {case}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn road_graph_shortest_paths() {
        // An L-shaped road: (0,0) → (1000,0) → (1000,1000).
        let roads = RoadGraph::new(
            &[LineString::from(vec![
                (0.0, 0.0),
                (1000.0, 0.0),
                (1000.0, 1000.0),
            ])],
            1.0,
            100.0,
        );
        assert_eq!(roads.vertices.len(), 21);
        // Fibre at the road's start: start cost 0 at (0,0), the rest far away.
        let start: Vec<f64> = roads
            .vertices
            .iter()
            .map(|v| {
                if v.x == 0.0 && v.y == 0.0 {
                    0.0
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let d = roads.distances(&start);
        let (v, _) = roads.nearest(c(1000.0, 1000.0)).unwrap();
        assert!((d[v as usize] - 2000.0).abs() < 1e-9);
        // A premise 10 m off the road's far end, 1414 m straight from the fibre: the straight
        // route with detour 1.3 (1852 m) beats the road (2000 + 13 m).
        let fibre_m: Vec<f64> = roads.vertices.iter().map(|v| v.x.hypot(v.y)).collect();
        let p = c(1010.0, 1000.0);
        let f = road_feeders_m(&roads, &fibre_m, &[p], &[p.x.hypot(p.y)], 1.3);
        assert!((f[0] - p.x.hypot(p.y) * 1.3).abs() < 1e-9);
        // With detour 2 the road wins: min over vertices of 2·|v| + path + 2·10; at (0,0):
        // 0 + 2000 + 20.
        let f = road_feeders_m(&roads, &fibre_m, &[p], &[p.x.hypot(p.y)], 2.0);
        assert!((f[0] - 2020.0).abs() < 1e-9, "{}", f[0]);
    }

    #[test]
    fn greedy_with_best_single_is_at_least_half_of_the_optimum() {
        let mut rng = SplitMix64::derive(5, "knapsack");
        let mut worst = 1.0f64;
        for _ in 0..400 {
            let n = 1 + rng.below(14) as usize;
            let hh: Vec<u64> = (0..n).map(|_| rng.below(200)).collect();
            let cost: Vec<f64> = (0..n).map(|_| rng.range(1e5, 5e6).round()).collect();
            let budget = rng.range(0.0, cost.iter().sum::<f64>());
            let ch = choose(&hh, &cost, budget);
            let best = exact_small(&hh, &cost, budget);
            assert!(ch.cost_sek <= budget + 1e-6);
            assert!(ch.households <= best);
            assert!(2 * ch.households >= best, "{} vs {best}", ch.households);
            assert!(ch.upper_bound_households + 1e-9 >= best as f64);
            let sum: u64 = (0..n).filter(|&i| ch.chosen[i]).map(|i| hh[i]).sum();
            assert_eq!(sum, ch.households);
            if best > 0 {
                worst = worst.min(ch.households as f64 / best as f64);
            }
        }
        assert!(worst >= 0.5);
    }

    #[test]
    fn the_known_worst_case_is_covered_by_the_best_single_project() {
        // A tiny efficient project (2 households for 1 SEK) and a large one (1000 households
        // for the whole budget): the greedy takes the tiny one and then nothing fits.
        let hh = [2, 1000];
        let cost = [1.0, 1000.0];
        let ch = choose(&hh, &cost, 1000.0);
        assert_eq!(ch.method, Method::BestSingle);
        assert_eq!(ch.households, 1000);
        assert_eq!(ch.chosen, vec![false, true]);
        assert_eq!(exact_small(&hh, &cost, 1000.0), 1000);
    }
}
