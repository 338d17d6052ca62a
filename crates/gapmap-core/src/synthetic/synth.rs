//! Seeded synthetic premises, fibre and mobile layers on top of real settlements and population.
//!
//! Sweden publishes no fibre routes or operator coverage, so demos, tests and benchmarks model
//! them. Everything here is a pure function of its inputs and a seed: the same seed gives the
//! same layers, on any machine and at any thread count. The models are deliberately simple and
//! documented in `data/README.md`; they aim at plausible *shapes* (streets, holes, overbuild,
//! rural gaps), not at any real network.

use std::collections::HashMap;

use geo::{unary_union, BooleanOps, Coord, LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

use crate::gaps::single_linkage;
use crate::polygon_index::PolygonIndex;
use crate::prepared::PreparedArea;
use crate::rng::SplitMix64;

/// One populated cell of a square population grid.
#[derive(Debug, Clone, Copy)]
pub struct PopCell {
    /// Cell centre, in the working CRS.
    pub centre: Coord<f64>,
    /// People living in the cell.
    pub population: f64,
}

/// A synthetic premise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthPremise {
    /// Position, in the working CRS.
    pub xy: Coord<f64>,
    /// Households.
    pub households: u32,
    /// Workplaces.
    pub workplaces: u32,
}

/// Mixes a seed with an index into an independent stream.
fn stream(seed: u64, label: &str, index: u64) -> SplitMix64 {
    SplitMix64::derive(seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15), label)
}

/// Premises from a population grid: about one per `persons_per_premise` inhabitants per cell.
///
/// In a cell that a settlement partly covers, each premise lies inside the settlement with
/// probability `f^0.25`, where `f` is the covered fraction of the cell (measured on an 8×8
/// lattice); the rest cluster in one to a few hamlets (normal, σ = 120 m) within the cell.
/// 5 % of premises are workplaces only (no household; 1 + a geometric number of workplaces,
/// mean 4); the others have one household, and 8 % of those also one workplace.
pub fn premises_from_grid(
    cells: &[PopCell],
    cell_m: f64,
    persons_per_premise: f64,
    settlements: &PolygonIndex,
    seed: u64,
) -> Vec<SynthPremise> {
    let per_cell: Vec<Vec<SynthPremise>> = cells
        .par_iter()
        .enumerate()
        .map(|(ci, cell)| {
            let mut rng = stream(seed, "premises", ci as u64);
            let expected = (cell.population / persons_per_premise).max(0.0);
            let n = expected.floor() as usize + usize::from(rng.f64() < expected.fract());
            let half = cell_m / 2.0;
            let (x0, y0) = (cell.centre.x - half, cell.centre.y - half);
            let mut scratch = Vec::new();
            let inside =
                |p: Coord<f64>, s: &mut Vec<u32>| settlements.first_covering(p, s).is_some();
            let lattice: Vec<Coord<f64>> = (0..64)
                .map(|k| Coord {
                    x: x0 + (k % 8) as f64 * cell_m / 8.0 + cell_m / 16.0,
                    y: y0 + (k / 8) as f64 * cell_m / 8.0 + cell_m / 16.0,
                })
                .collect();
            let covered: Vec<Coord<f64>> = lattice
                .iter()
                .copied()
                .filter(|&p| inside(p, &mut scratch))
                .collect();
            let f = covered.len() as f64 / 64.0;
            let p_in = if f > 0.0 { f.powf(0.25) } else { 0.0 };
            let hamlets: Vec<Coord<f64>> = (0..1 + n / 15)
                .map(|_| Coord {
                    x: x0 + rng.range(0.1, 0.9) * cell_m,
                    y: y0 + rng.range(0.1, 0.9) * cell_m,
                })
                .collect();
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let xy = if rng.chance(p_in) {
                    let mut p = covered[rng.below(covered.len() as u64) as usize];
                    for _ in 0..50 {
                        let q = Coord {
                            x: x0 + rng.f64() * cell_m,
                            y: y0 + rng.f64() * cell_m,
                        };
                        if inside(q, &mut scratch) {
                            p = q;
                            break;
                        }
                    }
                    p
                } else {
                    let h = hamlets[rng.below(hamlets.len() as u64) as usize];
                    let mut p = h;
                    for _ in 0..20 {
                        let q = Coord {
                            x: h.x + rng.normal() * 120.0,
                            y: h.y + rng.normal() * 120.0,
                        };
                        if q.x >= x0 && q.x < x0 + cell_m && q.y >= y0 && q.y < y0 + cell_m {
                            p = q;
                            break;
                        }
                    }
                    p
                };
                // Centimetre precision, like surveyed address points.
                let xy = Coord {
                    x: (xy.x * 100.0).round() / 100.0,
                    y: (xy.y * 100.0).round() / 100.0,
                };
                let (households, workplaces) = if rng.chance(0.05) {
                    let mut w = 1;
                    while w < 200 && rng.chance(0.75) {
                        w += 1;
                    }
                    (0, w)
                } else {
                    (1, u32::from(rng.chance(0.08)))
                };
                out.push(SynthPremise {
                    xy,
                    households,
                    workplaces,
                });
            }
            out
        })
        .collect();
    per_cell.into_iter().flatten().collect()
}

/// One household or workplace mix, as in [`premises_from_grid`].
fn premise_at(xy: Coord<f64>, rng: &mut SplitMix64) -> SynthPremise {
    let xy = Coord {
        x: (xy.x * 100.0).round() / 100.0,
        y: (xy.y * 100.0).round() / 100.0,
    };
    let (households, workplaces) = if rng.chance(0.05) {
        let mut w = 1;
        while w < 200 && rng.chance(0.75) {
            w += 1;
        }
        (0, w)
    } else {
        (1, u32::from(rng.chance(0.08)))
    };
    SynthPremise {
        xy,
        households,
        workplaces,
    }
}

/// Splits `total` into integer parts proportional to `weights` (largest remainders), so the
/// parts sum to `total` exactly.
pub fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().map(|w| w.max(0.0)).sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| w.max(0.0) / sum * total as f64)
        .collect();
    let mut parts: Vec<u64> = quotas.iter().map(|q| q.floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (quotas[b] - quotas[b].floor())
            .total_cmp(&(quotas[a] - quotas[a].floor()))
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left == 0 {
            break;
        }
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// `n` premises across a country: `1 - rural_share` of them inside settlements, split in
/// proportion to `population` and placed uniformly in each settlement's polygons; the rest in
/// rural villages. A village has 1 + a geometric number of premises (mean 8), around a centre
/// 2–25 km (log-uniform) from a settlement picked with weight √population, not inside any
/// settlement and, when `land` is given, on land; its premises scatter normally around the
/// centre (σ = 150 m + 30 m·√size). Households and workplaces as in [`premises_from_grid`].
///
/// Deterministic for a seed, at any thread count; memory is linear in `n`.
pub fn premises_national(
    settlements: &PolygonIndex,
    areas: &[MultiPolygon<f64>],
    population: &[f64],
    n: u64,
    rural_share: f64,
    land: Option<&PolygonIndex>,
    seed: u64,
) -> Vec<SynthPremise> {
    use geo::BoundingRect;
    let rural_n = ((n as f64) * rural_share.clamp(0.0, 1.0)).round() as u64;
    let per_settlement = apportion(n - rural_n, population);
    let inside: Vec<Vec<SynthPremise>> = areas
        .par_iter()
        .enumerate()
        .map(|(s, area)| {
            let k = per_settlement[s] as usize;
            let Some(rect) = area.bounding_rect() else {
                return vec![];
            };
            if k == 0 {
                return vec![];
            }
            let mut rng = stream(seed, "national-in", s as u64);
            let prepared = PreparedArea::from_multi_polygon(area);
            let mut out = Vec::with_capacity(k);
            let mut tries = 0u64;
            while out.len() < k && tries < 1000 * k as u64 + 10_000 {
                tries += 1;
                let p = Coord {
                    x: rng.range(rect.min().x, rect.max().x),
                    y: rng.range(rect.min().y, rect.max().y),
                };
                if prepared.covers(p) {
                    out.push(premise_at(p, &mut rng));
                }
            }
            out
        })
        .collect();
    // Villages: sizes first (sequential, so the split does not depend on threads), then each
    // village from its own stream.
    let mut rng = stream(seed, "national-villages", 0);
    let mut sizes = Vec::new();
    let mut left = rural_n;
    while left > 0 {
        let mut size = 1;
        while rng.chance(7.0 / 8.0) && size < 400 {
            size += 1;
        }
        let size = size.min(left);
        sizes.push(size);
        left -= size;
    }
    let weights: Vec<f64> = population.iter().map(|p| p.max(0.0).sqrt()).collect();
    let cumulative: Vec<f64> = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    let total_w = cumulative.last().copied().unwrap_or(0.0);
    let anchors: Vec<Coord<f64>> = areas
        .iter()
        .map(|a| {
            a.bounding_rect()
                .map_or(Coord { x: 0.0, y: 0.0 }, |r| r.center())
        })
        .collect();
    let villages: Vec<Vec<SynthPremise>> = sizes
        .par_iter()
        .enumerate()
        .map(|(v, &size)| {
            let mut rng = stream(seed, "national-village", v as u64);
            let mut scratch = Vec::new();
            let mut centre = None;
            for _ in 0..50 {
                let s = if total_w > 0.0 {
                    cumulative
                        .partition_point(|&c| c <= rng.f64() * total_w)
                        .min(anchors.len() - 1)
                } else {
                    0
                };
                let a = rng.range(0.0, std::f64::consts::TAU);
                let d = (rng.range(2_000f64.ln(), 25_000f64.ln())).exp();
                let c = Coord {
                    x: anchors[s].x + d * a.cos(),
                    y: anchors[s].y + d * a.sin(),
                };
                let on_land = land.is_none_or(|l| l.first_covering(c, &mut scratch).is_some());
                if on_land && settlements.first_covering(c, &mut scratch).is_none() {
                    centre = Some(c);
                    break;
                }
            }
            let Some(c) = centre else { return vec![] };
            let sigma = 150.0 + 30.0 * (size as f64).sqrt();
            (0..size)
                .map(|_| {
                    let p = Coord {
                        x: c.x + rng.normal() * sigma,
                        y: c.y + rng.normal() * sigma,
                    };
                    premise_at(p, &mut rng)
                })
                .collect()
        })
        .collect();
    inside
        .into_iter()
        .flatten()
        .chain(villages.into_iter().flatten())
        .collect()
}

/// A synthetic fibre route.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRoute {
    /// The route.
    pub line: LineString<f64>,
    /// Its network (owner).
    pub network: String,
    /// `street`, `overbuild` or `feeder`.
    pub kind: &'static str,
}

/// A synthetic fibre node (a network's central office).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthNode {
    /// Position, in the working CRS.
    pub xy: Coord<f64>,
    /// Its network (owner).
    pub network: String,
}

/// Street-like routes connecting `points`: snapped to a rotated grid of `grid_m` after a
/// normal jitter of `jitter_m`, joined by a minimum spanning forest over 6-nearest-neighbour
/// candidates, each tree edge drawn as an L along the grid (L's that overlap share one street),
/// and chained into polylines between the points where streets meet, each of which is a
/// vertex of every line through it. Returns the polylines and the node nearest the centre.
fn street_network(
    points: &[Coord<f64>],
    grid_m: f64,
    jitter_m: f64,
    rng: &mut SplitMix64,
) -> (Vec<LineString<f64>>, Option<Coord<f64>>) {
    if points.is_empty() {
        return (vec![], None);
    }
    let theta = rng.range(0.0, std::f64::consts::FRAC_PI_2);
    let (c, s) = (theta.cos(), theta.sin());
    let to_uv = |p: Coord<f64>| Coord {
        x: p.x * c + p.y * s,
        y: -p.x * s + p.y * c,
    };
    let from_uv = |q: Coord<f64>| Coord {
        x: q.x * c - q.y * s,
        y: q.x * s + q.y * c,
    };
    let mut nodes: Vec<(i64, i64)> = points
        .iter()
        .map(|&p| {
            let q = to_uv(p);
            (
                ((q.x + rng.normal() * jitter_m) / grid_m).round() as i64,
                ((q.y + rng.normal() * jitter_m) / grid_m).round() as i64,
            )
        })
        .collect();
    nodes.sort_unstable();
    nodes.dedup();
    let uv: Vec<Coord<f64>> = nodes
        .iter()
        .map(|&(a, b)| Coord {
            x: a as f64 * grid_m,
            y: b as f64 * grid_m,
        })
        .collect();
    let n = uv.len();
    // Candidate edges from k nearest neighbours, then Kruskal.
    let tree = RTree::bulk_load(
        uv.iter()
            .enumerate()
            .map(|(i, p)| GeomWithData::new([p.x, p.y], i as u32))
            .collect(),
    );
    let mut edges: Vec<(f64, u32, u32)> = Vec::new();
    for (i, p) in uv.iter().enumerate() {
        for nb in tree.nearest_neighbor_iter(&[p.x, p.y]).skip(1).take(6) {
            let j = nb.data as usize;
            if i < j {
                let d = ((p.x - uv[j].x).powi(2) + (p.y - uv[j].y).powi(2)).sqrt();
                edges.push((d, i as u32, j as u32));
            }
        }
    }
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    edges.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(p: &mut [u32], mut a: u32) -> u32 {
        while p[a as usize] != a {
            p[a as usize] = p[p[a as usize] as usize];
            a = p[a as usize];
        }
        a
    }
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(_, a, b) in &edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra as usize] = rb;
            adj[a as usize].push(b);
            adj[b as usize].push(a);
        }
    }
    // One network, not a forest: while the candidates left several trees, join every tree but
    // the largest to the nearest node of another tree (shortest joins first). Each round at
    // least halves the number of trees; a tree searches only from its own nodes.
    loop {
        let roots: Vec<u32> = (0..n as u32).map(|i| find(&mut parent, i)).collect();
        let mut size: HashMap<u32, usize> = HashMap::new();
        for r in &roots {
            *size.entry(*r).or_default() += 1;
        }
        if size.len() <= 1 {
            break;
        }
        let largest = size
            .iter()
            .map(|(r, k)| (*k, std::cmp::Reverse(*r)))
            .max()
            .map(|(_, r)| r.0);
        let mut joins: Vec<(f64, u32, u32)> = Vec::new();
        let mut best: HashMap<u32, (f64, u32, u32)> = HashMap::new();
        for (i, p) in uv.iter().enumerate() {
            if Some(roots[i]) == largest {
                continue;
            }
            let other = tree
                .nearest_neighbor_iter(&[p.x, p.y])
                .find(|nb| roots[nb.data as usize] != roots[i]);
            if let Some(nb) = other {
                let j = nb.data;
                let d =
                    ((p.x - uv[j as usize].x).powi(2) + (p.y - uv[j as usize].y).powi(2)).sqrt();
                let e = (d, (i as u32).min(j), (i as u32).max(j));
                let slot = best.entry(roots[i]).or_insert(e);
                if (e.0, e.1, e.2) < (slot.0, slot.1, slot.2) {
                    *slot = e;
                }
            }
        }
        joins.extend(best.into_values());
        joins.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, a, b) in joins {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra as usize] = rb;
                adj[a as usize].push(b);
                adj[b as usize].push(a);
            }
        }
    }
    // The street lattice: every tree edge as an L along the grid, in unit steps, so that L's
    // that overlap share one street and every point where streets meet (a branch, a crossing,
    // a T) is a vertex of each line through it, as in a spliced network.
    let mut lattice_id: HashMap<(i64, i64), u32> = HashMap::new();
    let mut lattice: Vec<(i64, i64)> = Vec::new();
    let mut id = |p: (i64, i64), lattice: &mut Vec<(i64, i64)>| -> u32 {
        *lattice_id.entry(p).or_insert_with(|| {
            lattice.push(p);
            lattice.len() as u32 - 1
        })
    };
    let mut steps: Vec<(u32, u32)> = Vec::new();
    for a in 0..n {
        for &b in &adj[a] {
            if (b as usize) < a {
                continue;
            }
            let (p, q) = (nodes[a], nodes[b as usize]);
            let corner = (q.0, p.1);
            let mut at = p;
            for target in [corner, q] {
                while at != target {
                    let next = (
                        at.0 + (target.0 - at.0).signum(),
                        at.1 + (target.1 - at.1).signum(),
                    );
                    let (i, j) = (id(at, &mut lattice), id(next, &mut lattice));
                    steps.push((i.min(j), i.max(j)));
                    at = next;
                }
            }
        }
    }
    steps.sort_unstable();
    steps.dedup();
    let nl = lattice.len();
    let mut ladj: Vec<Vec<u32>> = vec![Vec::new(); nl];
    for &(i, j) in &steps {
        ladj[i as usize].push(j);
        ladj[j as usize].push(i);
    }
    let at = |i: u32| {
        let (u, v) = lattice[i as usize];
        from_uv(Coord {
            x: u as f64 * grid_m,
            y: v as f64 * grid_m,
        })
    };
    // Chain the lattice into polylines between points whose degree is not 2 (then around
    // what is left: loops), keeping only the corners of each.
    let mut used: HashMap<(u32, u32), ()> = HashMap::new();
    let mut lines = Vec::new();
    let starts: Vec<u32> = (0..nl as u32)
        .filter(|&i| ladj[i as usize].len() != 2)
        .chain(0..nl as u32)
        .collect();
    for &s in &starts {
        for k in 0..ladj[s as usize].len() {
            let mut prev = s;
            let mut cur = ladj[s as usize][k];
            if used.contains_key(&(prev.min(cur), prev.max(cur))) {
                continue;
            }
            let mut path = vec![s];
            loop {
                used.insert((prev.min(cur), prev.max(cur)), ());
                path.push(cur);
                let a = &ladj[cur as usize];
                if a.len() != 2 || cur == s {
                    break;
                }
                let next = if a[0] == prev { a[1] } else { a[0] };
                if used.contains_key(&(cur.min(next), cur.max(next))) {
                    break;
                }
                prev = cur;
                cur = next;
            }
            let dir = |a: u32, b: u32| {
                let (p, q) = (lattice[a as usize], lattice[b as usize]);
                (q.0 - p.0, q.1 - p.1)
            };
            let coords: Vec<Coord<f64>> = (0..path.len())
                .filter(|&k| {
                    k == 0
                        || k + 1 == path.len()
                        || dir(path[k - 1], path[k]) != dir(path[k], path[k + 1])
                })
                .map(|k| at(path[k]))
                .collect();
            lines.push(LineString::new(
                coords
                    .into_iter()
                    .map(|c| Coord {
                        x: (c.x * 100.0).round() / 100.0,
                        y: (c.y * 100.0).round() / 100.0,
                    })
                    .collect(),
            ));
        }
    }
    let centre = uv.iter().fold(Coord { x: 0.0, y: 0.0 }, |a, p| Coord {
        x: a.x + p.x / n as f64,
        y: a.y + p.y / n as f64,
    });
    let hub = uv.iter().min_by(|a, b| {
        let da = (a.x - centre.x).powi(2) + (a.y - centre.y).powi(2);
        let db = (b.x - centre.x).powi(2) + (b.y - centre.y).powi(2);
        da.total_cmp(&db)
    });
    (lines, hub.map(|&h| from_uv(h)))
}

/// Scales of the synthetic networks: street grids and jitters in metres, and the number of
/// segments of a coverage disc.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detail {
    /// Street grid spacing in towns, metres.
    pub street_grid_m: f64,
    /// Random shift of town streets, metres.
    pub street_jitter_m: f64,
    /// Street grid spacing of overbuilders, metres.
    pub overbuild_grid_m: f64,
    /// Random shift of overbuilders' streets, metres.
    pub overbuild_jitter_m: f64,
    /// Street grid spacing in villages, metres.
    pub village_grid_m: f64,
    /// Random shift of village streets, metres.
    pub village_jitter_m: f64,
    /// Segments of a coverage disc.
    pub disc_segments: usize,
}

impl Detail {
    /// A region from a population grid (the bundled data).
    pub const REGION: Detail = Detail {
        street_grid_m: 40.0,
        street_jitter_m: 18.0,
        overbuild_grid_m: 50.0,
        overbuild_jitter_m: 22.0,
        village_grid_m: 60.0,
        village_jitter_m: 25.0,
        disc_segments: 48,
    };
    /// A whole country: coarser streets, smoother discs.
    pub const NATIONAL: Detail = Detail {
        street_grid_m: 100.0,
        street_jitter_m: 30.0,
        overbuild_grid_m: 120.0,
        overbuild_jitter_m: 35.0,
        village_grid_m: 100.0,
        village_jitter_m: 30.0,
        disc_segments: 96,
    };
}

/// Synthetic fibre: a municipal network per settlement group, with fibre-free districts,
/// commercial overbuild in large settlements, and village networks with feeders in the
/// countryside. See `data/README.md` for the parameters.
///
/// `groups[s]` names the owner of settlement `s`'s network (e.g. its kommun code). Settlements
/// and villages are built in parallel, each from its own random stream, and collected in order.
pub fn fibre(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    groups: &[String],
    detail: Detail,
    seed: u64,
) -> (Vec<SynthRoute>, Vec<SynthNode>) {
    let (routes, nodes, _) = fibre_with_hubs(premises, settlement, groups, detail, seed);
    (routes, nodes)
}

/// [`fibre`], and each settlement's central office (the hub of its street network, if it has
/// fibre), where [`trunks`] join it.
pub fn fibre_with_hubs(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    groups: &[String],
    detail: Detail,
    seed: u64,
) -> (Vec<SynthRoute>, Vec<SynthNode>, Vec<Option<Coord<f64>>>) {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    let mut rural: Vec<u32> = Vec::new();
    for (i, s) in settlement.iter().enumerate() {
        match s {
            Some(s) => members[*s as usize].push(i as u32),
            None => rural.push(i as u32),
        }
    }
    type Built = (Vec<SynthRoute>, Vec<SynthNode>);
    let per_settlement: Vec<(Built, Option<Coord<f64>>)> = members
        .par_iter()
        .enumerate()
        .map(|(s, m)| {
            let mut routes = Vec::new();
            let mut nodes = Vec::new();
            let mut rng = stream(seed, "fibre", s as u64);
            let size = m.len();
            let no_fibre = if size < 100 {
                0.3
            } else if size < 500 {
                0.12
            } else {
                0.0
            };
            if size == 0 || rng.chance(no_fibre) {
                return ((routes, nodes), None);
            }
            let pts: Vec<Coord<f64>> = m.iter().map(|&i| premises[i as usize]).collect();
            let (minx, maxx) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
                (a.0.min(p.x), a.1.max(p.x))
            });
            let (miny, maxy) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| {
                (a.0.min(p.y), a.1.max(p.y))
            });
            let extent = ((maxx - minx) * (maxy - miny) / std::f64::consts::PI)
                .sqrt()
                .max(100.0);
            // A fibre-free district.
            let hole = (size >= 30 && rng.chance(0.65)).then(|| {
                (
                    pts[rng.below(size as u64) as usize],
                    extent * rng.range(0.15, 0.45),
                )
            });
            let covered: Vec<Coord<f64>> = pts
                .iter()
                .copied()
                .filter(|p| {
                    hole.is_none_or(|(c, r)| (p.x - c.x).powi(2) + (p.y - c.y).powi(2) > r * r)
                })
                .collect();
            let network = format!("stadsnat_{}", groups[s]);
            let (lines, hub) = street_network(
                &covered,
                detail.street_grid_m,
                detail.street_jitter_m,
                &mut rng,
            );
            routes.extend(lines.into_iter().map(|line| SynthRoute {
                line,
                network: network.clone(),
                kind: "street",
            }));
            let office = hub;
            if let Some(h) = hub {
                nodes.push(SynthNode {
                    xy: h,
                    network: network.clone(),
                });
            }
            // Commercial overbuild of part of a large settlement.
            if size >= 1500 && rng.chance(0.7) {
                let name = ["national_a", "national_b"][rng.below(2) as usize].to_string();
                let c = pts[rng.below(size as u64) as usize];
                let r = extent * rng.range(0.3, 0.6);
                let part: Vec<Coord<f64>> = pts
                    .iter()
                    .copied()
                    .filter(|p| (p.x - c.x).powi(2) + (p.y - c.y).powi(2) <= r * r)
                    .collect();
                let (lines, hub) = street_network(
                    &part,
                    detail.overbuild_grid_m,
                    detail.overbuild_jitter_m,
                    &mut rng,
                );
                routes.extend(lines.into_iter().map(|line| SynthRoute {
                    line,
                    network: name.clone(),
                    kind: "overbuild",
                }));
                if let Some(h) = hub {
                    // Its backhaul: a feeder to the settlement's central office.
                    if let Some(o) = office.filter(|o| *o != h) {
                        routes.push(SynthRoute {
                            line: LineString::new(vec![h, o]),
                            network: name.clone(),
                            kind: "feeder",
                        });
                    }
                    nodes.push(SynthNode {
                        xy: h,
                        network: name,
                    });
                }
            }
            ((routes, nodes), office)
        })
        .collect();
    let mut routes = Vec::new();
    let mut nodes: Vec<SynthNode> = Vec::new();
    let mut offices = Vec::with_capacity(per_settlement.len());
    for ((r, ns), office) in per_settlement {
        offices.push(office);
        routes.extend(r);
        for n in ns {
            // One central office per municipal network (the first settlement's); every
            // overbuild keeps its own.
            if !(n.network.starts_with("stadsnat_") && nodes.iter().any(|m| m.network == n.network))
            {
                nodes.push(n);
            }
        }
    }
    // Village networks, with a feeder to the nearest settlement's central office within 15 km.
    let hubs: RTree<GeomWithData<[f64; 2], usize>> = RTree::bulk_load(
        offices
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, o)| GeomWithData::new([o.x, o.y], i))
            .collect(),
    );
    let villages = single_linkage(premises, &rural, 300.0);
    // Which villages get a network, and their numbers, in village order.
    let mut chosen: Vec<(usize, usize)> = Vec::new();
    for (vi, v) in villages.iter().enumerate() {
        let mut rng = stream(seed, "village", vi as u64);
        if v.len() >= 8 && rng.chance(0.5) {
            chosen.push((vi, chosen.len() + 1));
        }
    }
    let built: Vec<Built> = chosen
        .par_iter()
        .map(|&(vi, k)| {
            let mut rng = stream(seed, "village", vi as u64);
            rng.f64(); // the draw that chose this village
            let name = format!("village_{k}");
            let pts: Vec<Coord<f64>> = villages[vi].iter().map(|&i| premises[i as usize]).collect();
            let (lines, hub) = street_network(
                &pts,
                detail.village_grid_m,
                detail.village_jitter_m,
                &mut rng,
            );
            // A village network needs its feeder: with no central office within 15 km, the
            // village has no fibre.
            let feeder = hub.and_then(|h| {
                let t = hubs.nearest_neighbor(&[h.x, h.y])?;
                let to = Coord {
                    x: t.geom()[0],
                    y: t.geom()[1],
                };
                (((to.x - h.x).powi(2) + (to.y - h.y).powi(2)).sqrt() <= 15_000.0)
                    .then_some((h, to))
            });
            let Some((h, to)) = feeder else {
                return (Vec::new(), Vec::new());
            };
            let mut routes: Vec<SynthRoute> = lines
                .into_iter()
                .map(|line| SynthRoute {
                    line,
                    network: name.clone(),
                    kind: "street",
                })
                .collect();
            routes.push(SynthRoute {
                line: LineString::new(vec![h, to]),
                network: name.clone(),
                kind: "feeder",
            });
            (
                routes,
                vec![SynthNode {
                    xy: h,
                    network: name,
                }],
            )
        })
        .collect();
    for (r, n) in built {
        routes.extend(r);
        nodes.extend(n);
    }
    (routes, nodes, offices)
}

/// Regional trunks between settlement central offices, and backbone points.
///
/// The offices of the largest settlements (one in 25, at least one per connected part) are
/// backbone points. Trunks are straight lines, owned by `regional_trunk`: a minimum spanning
/// forest over each office's 8 nearest offices, and, for settlements of 300 premises or more,
/// a second trunk to the nearest office they are not yet joined to, so that towns sit on rings
/// and small places on spurs.
/// Backbone points come with their settlement's index.
pub fn trunks(
    offices: &[Option<Coord<f64>>],
    sizes: &[usize],
) -> (Vec<SynthRoute>, Vec<(usize, Coord<f64>)>) {
    let hubs: Vec<(usize, Coord<f64>)> = offices
        .iter()
        .enumerate()
        .filter_map(|(s, o)| o.map(|c| (s, c)))
        .collect();
    let n = hubs.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let tree = RTree::bulk_load(
        hubs.iter()
            .enumerate()
            .map(|(i, h)| GeomWithData::new([h.1.x, h.1.y], i as u32))
            .collect(),
    );
    let dist = |a: usize, b: usize| {
        let (p, q) = (hubs[a].1, hubs[b].1);
        ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt()
    };
    let mut cand: Vec<(f64, u32, u32)> = Vec::new();
    let mut near: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, h) in hubs.iter().enumerate() {
        for nb in tree.nearest_neighbor_iter(&[h.1.x, h.1.y]).skip(1).take(8) {
            let j = nb.data as usize;
            near[i].push(j as u32);
            let (a, b) = (i.min(j), i.max(j));
            cand.push((dist(a, b), a as u32, b as u32));
        }
    }
    cand.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    cand.dedup_by(|a, b| a.1 == b.1 && a.2 == b.2);
    let mut parts = crate::gaps::UnionFind::new(n);
    let mut joined: std::collections::BTreeSet<(u32, u32)> = Default::default();
    for &(_, a, b) in &cand {
        if parts.union(a, b) {
            joined.insert((a, b));
        }
    }
    // Rings for towns.
    for i in 0..n {
        if sizes[hubs[i].0] < 300 {
            continue;
        }
        let pair = |j: u32| ((i as u32).min(j), (i as u32).max(j));
        if let Some(&j) = near[i].iter().find(|&&j| !joined.contains(&pair(j))) {
            joined.insert(pair(j));
        }
    }
    // Backbone: the largest one in 25, and the largest of every part without one.
    let mut by_size: Vec<usize> = (0..n).collect();
    by_size.sort_by(|&a, &b| sizes[hubs[b].0].cmp(&sizes[hubs[a].0]).then(a.cmp(&b)));
    let k = n.div_ceil(25).max(1);
    let mut is_pop = vec![false; n];
    let mut part_has_pop: std::collections::HashSet<u32> = Default::default();
    for &i in by_size.iter().take(k) {
        is_pop[i] = true;
        part_has_pop.insert(parts.find(i as u32));
    }
    for &i in &by_size {
        if part_has_pop.insert(parts.find(i as u32)) {
            is_pop[i] = true;
        }
    }
    let routes = joined
        .iter()
        .map(|&(a, b)| SynthRoute {
            line: LineString::new(vec![hubs[a as usize].1, hubs[b as usize].1]),
            network: "regional_trunk".to_string(),
            kind: "trunk",
        })
        .collect();
    let backbone = (0..n).filter(|&i| is_pop[i]).map(|i| hubs[i]).collect();
    (routes, backbone)
}

/// A synthetic coverage area of one (operator, technology) pair.
#[derive(Debug, Clone)]
pub struct SynthCoverage {
    /// The operator.
    pub operator: String,
    /// The technology (`4G`, `5G`).
    pub tech: String,
    /// The covered area.
    pub area: MultiPolygon<f64>,
}

/// A disc as a 48-gon.
pub fn disc(c: Coord<f64>, r: f64) -> Polygon<f64> {
    disc_n(c, r, 48)
}

/// A disc as an `n`-gon, coordinates rounded to 0.1 m.
pub fn disc_n(c: Coord<f64>, r: f64, n: usize) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=n)
        .map(|k| {
            let a = (k % n) as f64 / n as f64 * std::f64::consts::TAU;
            Coord {
                x: ((c.x + r * a.cos()) * 10.0).round() / 10.0,
                y: ((c.y + r * a.sin()) * 10.0).round() / 10.0,
            }
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

/// The operators of [`mobile`]: name, site density in settlements (sites per 2,500
/// premises), and the least distance between its rural sites in metres.
pub const OPERATORS: [(&str, f64, f64); 4] = [
    ("op_a", 1.0, 8_000.0),
    ("op_b", 0.8, 11_000.0),
    ("op_c", 0.6, 14_000.0),
    ("op_d", 0.5, 16_000.0),
];

/// Synthetic mobile coverage for the first `operators` of [`OPERATORS`] (at most 4): sites in
/// settlements (one per 2,500 premises, scaled by the operator's density) and in the
/// countryside (no two of one operator closer than its spacing, 80 % of candidates built), 4G
/// discs of 2.5–4 km in settlements and 5–9 km outside, minus terrain shadows; 5G at urban
/// sites (for the third and fourth operators only in settlements of 5,000+ premises) and at a
/// tenth of rural ones; and a legacy `3G` layer for the third operator, which counts as
/// neither 4G nor 5G. Operators are independent: adding one does not change the others.
pub fn mobile(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    num_settlements: usize,
    operators: usize,
    detail: Detail,
    seed: u64,
) -> Vec<SynthCoverage> {
    let disc = |c: Coord<f64>, r: f64| disc_n(c, r, detail.disc_segments);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); num_settlements];
    let mut rural: Vec<u32> = Vec::new();
    for (i, s) in settlement.iter().enumerate() {
        match s {
            Some(s) => members[*s as usize].push(i as u32),
            None => rural.push(i as u32),
        }
    }
    let per_op: Vec<Vec<SynthCoverage>> = OPERATORS[..operators.min(OPERATORS.len())]
        .par_iter()
        .enumerate()
        .map(|(oi, &(op, density, spacing))| {
            let mut rng = stream(seed, "mobile", oi as u64);
            let mut g4: Vec<Polygon<f64>> = Vec::new();
            let mut g5: Vec<Polygon<f64>> = Vec::new();
            let mut g3: Vec<Polygon<f64>> = Vec::new();
            let mut shadows: Vec<Polygon<f64>> = Vec::new();
            // Sites on a grid of `spacing` cells, to test the spacing in O(1).
            let mut sites: HashMap<(i64, i64), Vec<Coord<f64>>> = HashMap::new();
            let cell = |c: Coord<f64>| {
                (
                    (c.x / spacing).floor() as i64,
                    (c.y / spacing).floor() as i64,
                )
            };
            let near = |sites: &HashMap<(i64, i64), Vec<Coord<f64>>>, c: Coord<f64>| {
                let (cx, cy) = cell(c);
                (-1..=1).any(|dx| {
                    (-1..=1).any(|dy| {
                        sites.get(&(cx + dx, cy + dy)).is_some_and(|v| {
                            v.iter().any(|s| {
                                (s.x - c.x).powi(2) + (s.y - c.y).powi(2) < spacing * spacing
                            })
                        })
                    })
                })
            };
            for m in &members {
                if m.len() < 150 {
                    continue;
                }
                let k = ((m.len() as f64 / 2500.0 * density).round() as usize).max(1);
                for _ in 0..k {
                    let c = premises[m[rng.below(m.len() as u64) as usize] as usize];
                    sites.entry(cell(c)).or_default().push(c);
                    g4.push(disc(c, rng.range(2500.0, 4000.0)));
                    if m.len() >= 800 && (oi < 2 || m.len() >= 5000) {
                        g5.push(disc(c, rng.range(700.0, 1300.0)));
                    }
                }
            }
            let mut order = rural.clone();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i as u64 + 1) as usize);
            }
            for &i in &order {
                let c = premises[i as usize];
                if near(&sites, c) {
                    continue;
                }
                sites.entry(cell(c)).or_default().push(c);
                if !rng.chance(0.8) {
                    continue;
                }
                let r = rng.range(5000.0, 9000.0);
                g4.push(disc(c, r));
                if oi == 2 {
                    g3.push(disc(c, r * 1.1));
                }
                if rng.chance(0.1) {
                    g5.push(disc(c, rng.range(1500.0, 3000.0)));
                }
                if rng.chance(0.3) {
                    let a = rng.range(0.0, std::f64::consts::TAU);
                    let d = rng.range(0.3, 0.9) * r;
                    shadows.push(disc(
                        Coord {
                            x: c.x + d * a.cos(),
                            y: c.y + d * a.sin(),
                        },
                        rng.range(600.0, 2000.0),
                    ));
                }
            }
            let area4 = unary_union(&g4).difference(&unary_union(&shadows));
            let mut out = vec![SynthCoverage {
                operator: op.into(),
                tech: "4G".into(),
                area: area4,
            }];
            if !g5.is_empty() {
                out.push(SynthCoverage {
                    operator: op.into(),
                    tech: "5G".into(),
                    area: unary_union(&g5),
                });
            }
            if !g3.is_empty() {
                out.push(SynthCoverage {
                    operator: op.into(),
                    tech: "3G".into(),
                    area: unary_union(&g3),
                });
            }
            out
        })
        .collect();
    per_op.into_iter().flatten().collect()
}

/// One synthetic cell-site carrier (one sector of one technology).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSite {
    /// Site id.
    pub id: String,
    /// The operator.
    pub operator: &'static str,
    /// The technology (`4G`, `5G`).
    pub tech: &'static str,
    /// Position, in the working CRS.
    pub xy: Coord<f64>,
    /// Antenna height above ground, metres.
    pub height_m: f64,
    /// Carrier frequency, MHz.
    pub frequency_mhz: f64,
    /// EIRP of the whole channel, dBm.
    pub eirp_dbm: f64,
    /// Channel bandwidth, MHz.
    pub bandwidth_mhz: f64,
    /// `None` for an omni antenna.
    pub azimuth_deg: Option<f64>,
    /// Horizontal half-power beamwidth, degrees.
    pub beamwidth_deg: f64,
    /// Downtilt, degrees (`None`: no vertical pattern).
    pub tilt_deg: Option<f64>,
}

/// Synthetic cell sites for the first `operators` of [`OPERATORS`], for `gapmap predict` and
/// `analyze --sites`: masts in settlements (one per 1,500 premises, scaled by the operator's
/// density; 30-40 m, three 4G sectors at 1800 MHz, 20 MHz, EIRP 61 dBm, tilt 3-6°; in
/// settlements of 800+ premises also three 5G sectors at 3500 MHz, 100 MHz, EIRP 72 dBm) and in
/// the countryside (no two of one operator closer than half its coverage spacing; 40-70 m,
/// three 4G sectors at 800 MHz, 10 MHz, EIRP 62 dBm, or an omni antenna at 59 dBm for a
/// fifth of them). Seeded on its own stream: the coverage polygons of [`mobile`] do not change.
pub fn sites(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    num_settlements: usize,
    operators: usize,
    seed: u64,
) -> Vec<SynthSite> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); num_settlements];
    let mut rural: Vec<u32> = Vec::new();
    for (i, s) in settlement.iter().enumerate() {
        match s {
            Some(s) => members[*s as usize].push(i as u32),
            None => rural.push(i as u32),
        }
    }
    let mut out = Vec::new();
    for (oi, &(op, density, spacing)) in OPERATORS[..operators.min(OPERATORS.len())]
        .iter()
        .enumerate()
    {
        let mut rng = stream(seed, "sites", oi as u64);
        let spacing = spacing * 0.5;
        let mut masts: HashMap<(i64, i64), Vec<Coord<f64>>> = HashMap::new();
        let cell = |c: Coord<f64>| {
            (
                (c.x / spacing).floor() as i64,
                (c.y / spacing).floor() as i64,
            )
        };
        let mut n = 0usize;
        let push_sectors = |rng: &mut SplitMix64,
                            out: &mut Vec<SynthSite>,
                            n: &mut usize,
                            c: Coord<f64>,
                            tech: &'static str,
                            height_m: f64,
                            frequency_mhz: f64,
                            bandwidth_mhz: f64,
                            eirp_dbm: f64,
                            omni: bool| {
            *n += 1;
            let mast = *n;
            let base = rng.range(0.0, 120.0);
            let tilt = rng.range(3.0, 6.0);
            let sectors: Vec<Option<f64>> = if omni {
                vec![None]
            } else {
                (0..3)
                    .map(|k| Some(((base + 120.0 * k as f64) * 10.0).round() / 10.0))
                    .collect()
            };
            for (k, az) in sectors.into_iter().enumerate() {
                out.push(SynthSite {
                    id: format!("{op}-{mast}-{}{}", tech.to_ascii_lowercase(), k + 1),
                    operator: op,
                    tech,
                    xy: Coord {
                        x: (c.x * 10.0).round() / 10.0,
                        y: (c.y * 10.0).round() / 10.0,
                    },
                    height_m,
                    frequency_mhz,
                    eirp_dbm,
                    bandwidth_mhz,
                    azimuth_deg: az,
                    beamwidth_deg: 65.0,
                    tilt_deg: az.map(|_| (tilt * 10.0).round() / 10.0),
                });
            }
        };
        for m in &members {
            if m.len() < 150 {
                continue;
            }
            let k = ((m.len() as f64 / 1500.0 * density).round() as usize).max(1);
            for _ in 0..k {
                let c = premises[m[rng.below(m.len() as u64) as usize] as usize];
                masts.entry(cell(c)).or_default().push(c);
                let h = (rng.range(30.0, 40.0) * 2.0).round() / 2.0;
                push_sectors(
                    &mut rng, &mut out, &mut n, c, "4G", h, 1800.0, 20.0, 61.0, false,
                );
                if m.len() >= 800 {
                    push_sectors(
                        &mut rng, &mut out, &mut n, c, "5G", h, 3500.0, 100.0, 72.0, false,
                    );
                }
            }
        }
        let mut order = rural.clone();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        for &i in &order {
            let c = premises[i as usize];
            let (cx, cy) = cell(c);
            let near = (-1..=1).any(|dx| {
                (-1..=1).any(|dy| {
                    masts.get(&(cx + dx, cy + dy)).is_some_and(|v| {
                        v.iter()
                            .any(|s| (s.x - c.x).powi(2) + (s.y - c.y).powi(2) < spacing * spacing)
                    })
                })
            });
            if near {
                continue;
            }
            masts.entry(cell(c)).or_default().push(c);
            let h = (rng.range(40.0, 70.0) * 2.0).round() / 2.0;
            let omni = rng.chance(0.2);
            push_sectors(
                &mut rng,
                &mut out,
                &mut n,
                c,
                "4G",
                h,
                800.0,
                10.0,
                if omni { 59.0 } else { 62.0 },
                omni,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepared::PreparedArea;
    use geo::polygon;

    fn town() -> PolygonIndex {
        PolygonIndex::new(&[MultiPolygon::new(vec![
            polygon![(x: 0., y: 0.), (x: 2000., y: 0.), (x: 2000., y: 2000.), (x: 0., y: 2000.)],
        ])])
    }

    #[test]
    fn premises_are_seeded_and_sized() {
        let cells: Vec<PopCell> = (0..20)
            .map(|i| PopCell {
                centre: Coord {
                    x: 500.0 + 1000.0 * (i % 5) as f64,
                    y: 500.0 + 1000.0 * (i / 5) as f64,
                },
                population: 220.0,
            })
            .collect();
        let a = premises_from_grid(&cells, 1000.0, 2.2, &town(), 7);
        let b = premises_from_grid(&cells, 1000.0, 2.2, &town(), 7);
        let c = premises_from_grid(&cells, 1000.0, 2.2, &town(), 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 20 * 100, "220 / 2.2 = 100 per cell exactly");
        // Premises stay in their cells.
        assert!(a
            .iter()
            .all(|p| p.xy.x >= 0.0 && p.xy.x <= 5000.0 && p.xy.y >= 0.0 && p.xy.y <= 4000.0));
        // Cells inside the town put every premise in it.
        let idx = town();
        let mut s = Vec::new();
        let first = &a[..100];
        assert!(first
            .iter()
            .all(|p| idx.first_covering(p.xy, &mut s).is_some()));
        let wp_only = a.iter().filter(|p| p.households == 0).count();
        assert!(wp_only > 40 && wp_only < 180, "{wp_only}");
    }

    #[test]
    fn apportion_is_exact() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 5.0, 2.0]).iter().sum::<u64>(), 7);
        assert_eq!(apportion(5, &[]), Vec::<u64>::new());
        let w: Vec<f64> = (1..=100).map(|i| i as f64).collect();
        let p = apportion(1_000_003, &w);
        assert_eq!(p.iter().sum::<u64>(), 1_000_003);
        assert!(p.windows(2).all(|x| x[0] <= x[1] + 1));
    }

    #[test]
    fn national_premises_follow_population() {
        let areas = vec![
            MultiPolygon::new(vec![
                polygon![(x: 0., y: 0.), (x: 1000., y: 0.), (x: 1000., y: 1000.), (x: 0., y: 1000.)],
            ]),
            MultiPolygon::new(vec![
                polygon![(x: 50000., y: 0.), (x: 51000., y: 0.), (x: 51000., y: 1000.), (x: 50000., y: 1000.)],
            ]),
        ];
        let idx = PolygonIndex::new(&areas);
        let a = premises_national(&idx, &areas, &[3000.0, 1000.0], 10_000, 0.15, None, 7);
        let b = premises_national(&idx, &areas, &[3000.0, 1000.0], 10_000, 0.15, None, 7);
        assert_eq!(a, b);
        assert_eq!(a.len(), 10_000);
        let mut s = Vec::new();
        let first = a
            .iter()
            .filter(|p| idx.first_covering(p.xy, &mut s) == Some(0))
            .count();
        let second = a
            .iter()
            .filter(|p| idx.first_covering(p.xy, &mut s) == Some(1))
            .count();
        // 8,500 inside, 3:1; villages may rarely scatter a premise into a settlement.
        assert!(
            (6375..6400).contains(&first) && (2125..2150).contains(&second),
            "{first} {second}"
        );
        // A land mask keeps village centres on land (here: the left half only).
        let land = PolygonIndex::new(&[MultiPolygon::new(vec![
            polygon![(x: -30000., y: -30000.), (x: 25000., y: -30000.), (x: 25000., y: 30000.), (x: -30000., y: 30000.)],
        ])]);
        let c = premises_national(
            &idx,
            &areas,
            &[3000.0, 1000.0],
            10_000,
            0.15,
            Some(&land),
            7,
        );
        let rural: Vec<_> = c
            .iter()
            .filter(|p| idx.first_covering(p.xy, &mut s).is_none())
            .collect();
        let on_land = rural.iter().filter(|p| p.xy.x < 26_000.0).count();
        assert!(
            on_land as f64 > 0.97 * rural.len() as f64,
            "{on_land} of {}",
            rural.len()
        );
    }

    #[test]
    fn fibre_and_mobile_are_seeded() {
        let mut rng = SplitMix64::new(3);
        let pts: Vec<Coord<f64>> = (0..3000)
            .map(|i| {
                if i < 2000 {
                    Coord {
                        x: rng.range(0.0, 2000.0),
                        y: rng.range(0.0, 2000.0),
                    }
                } else {
                    Coord {
                        x: rng.range(5000.0, 40000.0),
                        y: rng.range(0.0, 30000.0),
                    }
                }
            })
            .collect();
        let sett: Vec<Option<u32>> = (0..3000).map(|i| (i < 2000).then_some(0)).collect();
        let (r1, n1) = fibre(&pts, &sett, &["2080".into()], Detail::REGION, 5);
        let (r2, _) = fibre(&pts, &sett, &["2080".into()], Detail::REGION, 5);
        assert_eq!(r1, r2);
        assert!(r1.iter().any(|r| r.network == "stadsnat_2080"));
        assert!(n1.iter().any(|n| n.network == "stadsnat_2080"));
        // Street routes are axis-parallel in their rotated frame: every segment is non-empty.
        assert!(r1.iter().all(|r| r.line.0.len() >= 2));
        let m = mobile(&pts, &sett, 1, 3, Detail::REGION, 5);
        let ops: Vec<&str> = m.iter().map(|c| c.operator.as_str()).collect();
        assert!(ops.contains(&"op_a") && ops.contains(&"op_c"));
        // op_a always builds in a settlement of 2,000 premises, with a disc of 2.5 km or more.
        let a4 = PreparedArea::from_multi_polygon(
            &m.iter()
                .find(|c| c.operator == "op_a" && c.tech == "4G")
                .unwrap()
                .area,
        );
        let covered = pts[..2000].iter().filter(|p| a4.covers(**p)).count();
        assert!(covered >= 1000, "{covered}");
        assert_eq!(m.len(), mobile(&pts, &sett, 1, 3, Detail::REGION, 5).len());
        let m4 = mobile(&pts, &sett, 1, 4, Detail::REGION, 5);
        assert!(m4.iter().any(|c| c.operator == "op_d" && c.tech == "4G"));
        // The fourth operator does not change the first three.
        for (a, b) in m.iter().zip(&m4) {
            assert_eq!(
                (&a.operator, &a.tech, &a.area),
                (&b.operator, &b.tech, &b.area)
            );
        }
    }
}
