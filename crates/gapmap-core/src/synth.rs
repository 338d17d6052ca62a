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
use crate::rng::SplitMix64;

/// One populated cell of a square population grid.
#[derive(Debug, Clone, Copy)]
pub struct PopCell {
    /// Cell centre, in the working CRS.
    pub centre: Coord<f64>,
    pub population: f64,
}

/// A synthetic premise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthPremise {
    pub xy: Coord<f64>,
    pub households: u32,
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

/// A synthetic fibre route.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthRoute {
    pub line: LineString<f64>,
    pub network: String,
    /// `street`, `overbuild` or `feeder`.
    pub kind: &'static str,
}

/// A synthetic fibre node (a network's central office).
#[derive(Debug, Clone, PartialEq)]
pub struct SynthNode {
    pub xy: Coord<f64>,
    pub network: String,
}

/// Street-like routes connecting `points`: snapped to a rotated grid of `grid_m` after a
/// normal jitter of `jitter_m`, joined by a minimum spanning forest over 6-nearest-neighbour
/// candidates, each tree edge drawn as an L along the grid, and chained into polylines between
/// branch points. Returns the polylines and the node nearest the centre.
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
    // Chain tree edges into polylines between nodes whose degree is not 2.
    let l_path = |a: Coord<f64>, b: Coord<f64>, out: &mut Vec<Coord<f64>>| {
        if a.x != b.x && a.y != b.y {
            out.push(from_uv(Coord { x: b.x, y: a.y }));
        }
        out.push(from_uv(b));
    };
    let mut used: HashMap<(u32, u32), ()> = HashMap::new();
    let mut lines = Vec::new();
    let starts: Vec<u32> = (0..n as u32)
        .filter(|&i| adj[i as usize].len() != 2)
        .chain(0..n as u32)
        .collect();
    for &s in &starts {
        for k in 0..adj[s as usize].len() {
            let mut prev = s;
            let mut cur = adj[s as usize][k];
            if used.contains_key(&(prev.min(cur), prev.max(cur))) {
                continue;
            }
            let mut coords = vec![from_uv(uv[prev as usize])];
            loop {
                used.insert((prev.min(cur), prev.max(cur)), ());
                l_path(uv[prev as usize], uv[cur as usize], &mut coords);
                let a = &adj[cur as usize];
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

/// Synthetic fibre: a municipal network per settlement group, with fibre-free districts,
/// commercial overbuild in large settlements, and village networks with feeders in the
/// countryside. See `data/README.md` for the parameters.
///
/// `groups[s]` names the owner of settlement `s`'s network (e.g. its kommun code).
pub fn fibre(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    groups: &[String],
    seed: u64,
) -> (Vec<SynthRoute>, Vec<SynthNode>) {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    let mut rural: Vec<u32> = Vec::new();
    for (i, s) in settlement.iter().enumerate() {
        match s {
            Some(s) => members[*s as usize].push(i as u32),
            None => rural.push(i as u32),
        }
    }
    let mut routes = Vec::new();
    let mut nodes = Vec::new();
    for (s, m) in members.iter().enumerate() {
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
            continue;
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
            .filter(|p| hole.is_none_or(|(c, r)| (p.x - c.x).powi(2) + (p.y - c.y).powi(2) > r * r))
            .collect();
        let network = format!("stadsnat_{}", groups[s]);
        let (lines, hub) = street_network(&covered, 40.0, 18.0, &mut rng);
        routes.extend(lines.into_iter().map(|line| SynthRoute {
            line,
            network: network.clone(),
            kind: "street",
        }));
        if let Some(h) = hub {
            if !nodes.iter().any(|n: &SynthNode| n.network == network) {
                nodes.push(SynthNode {
                    xy: h,
                    network: network.clone(),
                });
            }
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
            let (lines, hub) = street_network(&part, 50.0, 22.0, &mut rng);
            routes.extend(lines.into_iter().map(|line| SynthRoute {
                line,
                network: name.clone(),
                kind: "overbuild",
            }));
            if let Some(h) = hub {
                nodes.push(SynthNode {
                    xy: h,
                    network: name,
                });
            }
        }
    }
    // Village networks, with a feeder to the nearest settlement network node within 15 km.
    let hubs: RTree<GeomWithData<[f64; 2], usize>> = RTree::bulk_load(
        nodes
            .iter()
            .enumerate()
            .map(|(i, n)| GeomWithData::new([n.xy.x, n.xy.y], i))
            .collect(),
    );
    let villages = single_linkage(premises, &rural, 300.0);
    let mut k = 0;
    for (vi, v) in villages.iter().enumerate() {
        let mut rng = stream(seed, "village", vi as u64);
        if v.len() < 8 || !rng.chance(0.5) {
            continue;
        }
        k += 1;
        let name = format!("village_{k}");
        let pts: Vec<Coord<f64>> = v.iter().map(|&i| premises[i as usize]).collect();
        let (lines, hub) = street_network(&pts, 60.0, 25.0, &mut rng);
        routes.extend(lines.into_iter().map(|line| SynthRoute {
            line,
            network: name.clone(),
            kind: "street",
        }));
        if let Some(h) = hub {
            if let Some(t) = hubs.nearest_neighbor(&[h.x, h.y]) {
                let d = ((t.geom()[0] - h.x).powi(2) + (t.geom()[1] - h.y).powi(2)).sqrt();
                if d <= 15_000.0 {
                    routes.push(SynthRoute {
                        line: LineString::new(vec![
                            h,
                            Coord {
                                x: t.geom()[0],
                                y: t.geom()[1],
                            },
                        ]),
                        network: name.clone(),
                        kind: "feeder",
                    });
                }
            }
            nodes.push(SynthNode {
                xy: h,
                network: name,
            });
        }
    }
    (routes, nodes)
}

/// A synthetic coverage area of one (operator, technology) pair.
#[derive(Debug, Clone)]
pub struct SynthCoverage {
    pub operator: String,
    pub tech: String,
    pub area: MultiPolygon<f64>,
}

/// A disc as a 48-gon.
pub fn disc(c: Coord<f64>, r: f64) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=48)
        .map(|k| {
            let a = (k % 48) as f64 / 48.0 * std::f64::consts::TAU;
            Coord {
                x: ((c.x + r * a.cos()) * 10.0).round() / 10.0,
                y: ((c.y + r * a.sin()) * 10.0).round() / 10.0,
            }
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

/// Synthetic mobile coverage for three operators: sites in settlements (one per 2,500
/// premises, scaled by the operator's density) and in the countryside (no two of one operator
/// closer than its spacing, 80 % of candidates built), 4G discs of 2.5–4 km in settlements and
/// 5–9 km outside, minus terrain shadows; 5G at urban sites and at a tenth of rural ones; and
/// a legacy `3G` layer for the third operator, which counts as neither 4G nor 5G.
pub fn mobile(
    premises: &[Coord<f64>],
    settlement: &[Option<u32>],
    num_settlements: usize,
    seed: u64,
) -> Vec<SynthCoverage> {
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); num_settlements];
    let mut rural: Vec<u32> = Vec::new();
    for (i, s) in settlement.iter().enumerate() {
        match s {
            Some(s) => members[*s as usize].push(i as u32),
            None => rural.push(i as u32),
        }
    }
    let operators = [
        ("op_a", 1.0, 8_000.0),
        ("op_b", 0.8, 11_000.0),
        ("op_c", 0.6, 14_000.0),
    ];
    let per_op: Vec<Vec<SynthCoverage>> = operators
        .par_iter()
        .enumerate()
        .map(|(oi, &(op, density, spacing))| {
            let mut rng = stream(seed, "mobile", oi as u64);
            let mut g4: Vec<Polygon<f64>> = Vec::new();
            let mut g5: Vec<Polygon<f64>> = Vec::new();
            let mut g3: Vec<Polygon<f64>> = Vec::new();
            let mut shadows: Vec<Polygon<f64>> = Vec::new();
            let mut sites: Vec<Coord<f64>> = Vec::new();
            for m in &members {
                if m.len() < 150 {
                    continue;
                }
                let k = ((m.len() as f64 / 2500.0 * density).round() as usize).max(1);
                for _ in 0..k {
                    let c = premises[m[rng.below(m.len() as u64) as usize] as usize];
                    sites.push(c);
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
                if sites
                    .iter()
                    .any(|s| (s.x - c.x).powi(2) + (s.y - c.y).powi(2) < spacing * spacing)
                {
                    continue;
                }
                sites.push(c);
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
        let (r1, n1) = fibre(&pts, &sett, &["2080".into()], 5);
        let (r2, _) = fibre(&pts, &sett, &["2080".into()], 5);
        assert_eq!(r1, r2);
        assert!(r1.iter().any(|r| r.network == "stadsnat_2080"));
        assert!(n1.iter().any(|n| n.network == "stadsnat_2080"));
        // Street routes are axis-parallel in their rotated frame: every segment is non-empty.
        assert!(r1.iter().all(|r| r.line.0.len() >= 2));
        let m = mobile(&pts, &sett, 1, 5);
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
        assert_eq!(m.len(), mobile(&pts, &sett, 1, 5).len());
    }
}
