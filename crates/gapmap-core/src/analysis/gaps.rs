//! Gap clusters: premises of one gap kind in one settlement (or the rural area), grouped so that
//! two premises within `cluster_m` of each other are in the same cluster (single linkage), and
//! an outline polygon that encloses each cluster.

use crate::num::floor_i64;
use geo::{Area, Buffer, Coord, LineString, MultiPoint, MultiPolygon, Polygon};
use rayon::prelude::*;

use geo::algorithm::buffer::{BufferStyle, LineCap, LineJoin};

/// What a premise lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GapKind {
    /// No fibre and no 4G.
    Unserved,
    /// 4G but no fibre.
    NoFibre,
    /// Fibre but no 4G.
    No4g,
}

impl GapKind {
    /// All kinds, in output order.
    pub const ALL: [GapKind; 3] = [GapKind::Unserved, GapKind::NoFibre, GapKind::No4g];

    /// The gap kind of a premise, or `None` when it has both fibre and 4G.
    #[inline]
    pub fn of(fibre_passed: bool, has_4g: bool) -> Option<GapKind> {
        match (fibre_passed, has_4g) {
            (false, false) => Some(GapKind::Unserved),
            (false, true) => Some(GapKind::NoFibre),
            (true, false) => Some(GapKind::No4g),
            (true, true) => None,
        }
    }

    /// The name used in outputs: `unserved`, `no_fibre`, `no_4g`.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Unserved => "unserved",
            GapKind::NoFibre => "no_fibre",
            GapKind::No4g => "no_4g",
        }
    }
}

/// One cluster of gap premises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapCluster {
    /// What its premises lack.
    pub kind: GapKind,
    /// The settlement all its premises belong to; `None` for rural.
    pub settlement: Option<u32>,
    /// Premise indices, ascending.
    pub premises: Vec<u32>,
}

/// Clusters gap premises per (settlement, kind) by single linkage at `cluster_m` metres:
/// two premises at distance `<= cluster_m` are in one cluster.
///
/// Clusters come ordered by settlement (rural last), then kind, then smallest premise index,
/// so the output does not depend on the thread count.
pub fn cluster(
    points: &[Coord<f64>],
    kinds: &[Option<GapKind>],
    settlements: &[Option<u32>],
    cluster_m: f64,
) -> Vec<GapCluster> {
    let mut keyed: Vec<(u32, GapKind, u32)> = kinds
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.map(|k| (settlements[i].unwrap_or(u32::MAX), k, i as u32)))
        .collect();
    keyed.par_sort_unstable();
    let mut groups: Vec<&[(u32, GapKind, u32)]> = Vec::new();
    let mut start = 0;
    for i in 1..=keyed.len() {
        if i == keyed.len() || (keyed[i].0, keyed[i].1) != (keyed[start].0, keyed[start].1) {
            groups.push(&keyed[start..i]);
            start = i;
        }
    }
    // Largest groups first: the rural group of a kind holds a large share of the premises.
    let per_group: Vec<Vec<GapCluster>> = crate::par::map_largest_first(
        &groups,
        |g| g.len(),
        |g| {
            let members: Vec<u32> = g.iter().map(|e| e.2).collect();
            let settlement = (g[0].0 != u32::MAX).then_some(g[0].0);
            single_linkage(points, &members, cluster_m)
                .into_iter()
                .map(|premises| GapCluster {
                    kind: g[0].1,
                    settlement,
                    premises,
                })
                .collect()
        },
    );
    per_group.into_iter().flatten().collect()
}

/// Union-find with path halving and union by size.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` elements, each its own set.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }
    /// The representative of `a`'s set.
    pub fn find(&mut self, mut a: u32) -> u32 {
        while self.parent[a as usize] != a {
            let p = self.parent[a as usize];
            self.parent[a as usize] = self.parent[p as usize];
            a = p;
        }
        a
    }
    /// Joins the sets of `a` and `b`; false when they were one already.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }
}

/// The squared distance between two points.
#[inline]
pub(crate) fn dist2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (a.x - b.x, a.y - b.y);
    dx * dx + dy * dy
}

type CellMap<V> = crate::box_grid::CellMap<(i64, i64), V>;

/// Single-linkage components of `members` (indices into `points`) at distance `<= r` metres.
/// Each component is sorted; components are ordered by their smallest index.
///
/// A grid with cells of side `r / √2` makes every pair within one cell a link, so dense areas
/// cost O(n); pairs across cells are only tested between cells that are not yet joined.
pub fn single_linkage(points: &[Coord<f64>], members: &[u32], r: f64) -> Vec<Vec<u32>> {
    let n = members.len();
    if n <= 1 {
        return if n == 1 {
            vec![members.to_vec()]
        } else {
            vec![]
        };
    }
    let r2 = r * r;
    let side = (r / std::f64::consts::SQRT_2).max(f64::MIN_POSITIVE);
    let (ox, oy) = members
        .iter()
        .fold((f64::INFINITY, f64::INFINITY), |(x, y), &m| {
            let p = points[m as usize];
            (x.min(p.x), y.min(p.y))
        });
    let key = |p: Coord<f64>| -> (i64, i64) {
        (floor_i64((p.x - ox) / side), floor_i64((p.y - oy) / side))
    };
    // Local ids 0..n in cell order.
    let mut order: Vec<((i64, i64), u32)> = members
        .iter()
        .map(|&m| (key(points[m as usize]), m))
        .collect();
    order.sort_unstable();
    let pt = |local: usize| points[order[local].1 as usize];
    let mut cells: Vec<(usize, usize)> = Vec::new(); // [start, end) in `order`
    let mut cell_of: CellMap<usize> = CellMap::default();
    let mut s = 0;
    for i in 1..=n {
        if i == n || order[i].0 != order[s].0 {
            cell_of.insert(order[s].0, cells.len());
            cells.push((s, i));
            s = i;
        }
    }
    let mut uf = UnionFind::new(n);
    // Within a cell: link everything to the first point (always within r in exact arithmetic;
    // checked anyway), and fall back to all pairs for any point that fails the check.
    let mut uniform = vec![true; cells.len()];
    for (ci, &(a, b)) in cells.iter().enumerate() {
        let mut stragglers = Vec::new();
        for i in a + 1..b {
            if dist2(pt(a), pt(i)) <= r2 {
                uf.union(a as u32, i as u32);
            } else {
                stragglers.push(i);
            }
        }
        if !stragglers.is_empty() {
            uniform[ci] = false;
            for &i in &stragglers {
                for j in a..b {
                    if i != j && dist2(pt(i), pt(j)) <= r2 {
                        uf.union(i as u32, j as u32);
                    }
                }
            }
        }
    }
    // Across cells: immediate neighbours first, then the outer ring, so that most outer-ring
    // pairs are already joined and skipped.
    let near: Vec<(i64, i64)> = [(1, -1), (1, 0), (1, 1), (0, 1)].to_vec();
    let mut far: Vec<(i64, i64)> = Vec::new();
    for dx in -2i64..=2 {
        for dy in -2i64..=2 {
            if (dx, dy) > (0, 0) && (dx.abs() == 2 || dy.abs() == 2) {
                far.push((dx, dy));
            }
        }
    }
    for offsets in [&near, &far] {
        for ci in 0..cells.len() {
            let (kx, ky) = order[cells[ci].0].0;
            for &(dx, dy) in offsets.iter() {
                let Some(&di) = cell_of.get(&(kx + dx, ky + dy)) else {
                    continue;
                };
                let (ca, cb) = cells[ci];
                let (da, db) = cells[di];
                let both_uniform = uniform[ci] && uniform[di];
                if both_uniform && uf.find(ca as u32) == uf.find(da as u32) {
                    continue;
                }
                'pairs: for i in ca..cb {
                    for j in da..db {
                        if !both_uniform && uf.find(i as u32) == uf.find(j as u32) {
                            continue;
                        }
                        if dist2(pt(i), pt(j)) <= r2 {
                            uf.union(i as u32, j as u32);
                            if both_uniform {
                                break 'pairs;
                            }
                        }
                    }
                }
            }
        }
    }
    let mut comp_of_root = vec![u32::MAX; n];
    let mut comps: Vec<Vec<u32>> = Vec::new();
    for (local, &(_, premise)) in order.iter().enumerate() {
        let root = uf.find(local as u32) as usize;
        if comp_of_root[root] == u32::MAX {
            comp_of_root[root] = comps.len() as u32;
            comps.push(Vec::new());
        }
        comps[comp_of_root[root] as usize].push(premise);
    }
    for c in &mut comps {
        c.sort_unstable();
    }
    comps.sort_unstable_by_key(|c| c[0]);
    comps
}

/// Round joins and caps of outlines: 16 segments per full turn, so a buffered point is a
/// 16-gon, within 2 % of the margin from the true circle (0.5 m at a 25 m margin).
const OUTLINE_ARC_RAD: f64 = std::f64::consts::PI / 8.0;

/// Up to this many premises, a cluster's outline is the convex hull of its premises' margin
/// polygons, built directly; larger clusters follow their concave hull.
const CONVEX_OUTLINE_MAX: usize = 9;

/// The convex hull of `pts` each offset by the vertices of a regular polygon of `margin_m`
/// circumradius and `OUTLINE_ARC_RAD` steps: the same shape as buffering their convex hull with
/// round joins, without boolean operations.
fn rounded_convex_hull(pts: &[Coord<f64>], margin_m: f64) -> MultiPolygon<f64> {
    use geo::ConvexHull;
    let steps = (std::f64::consts::TAU / OUTLINE_ARC_RAD).round() as usize;
    let offsets: Vec<Coord<f64>> = (0..steps)
        .map(|k| {
            let a = k as f64 * std::f64::consts::TAU / steps as f64;
            Coord {
                x: margin_m * a.cos(),
                y: margin_m * a.sin(),
            }
        })
        .collect();
    if let [p] = pts {
        // One premise: its polygon is its own hull. In the order the hull of the general case
        // comes in (counter-clockwise from the vertex after the leftmost, closed), which the
        // tests check against it.
        let half = steps / 2;
        let ring: Vec<Coord<f64>> = (0..=steps)
            .map(|i| {
                let o = offsets[(half + 1 + i) % steps];
                Coord {
                    x: p.x + o.x,
                    y: p.y + o.y,
                }
            })
            .collect();
        return MultiPolygon::new(vec![Polygon::new(LineString::new(ring), vec![])]);
    }
    let mut cloud: Vec<Coord<f64>> = pts
        .iter()
        .flat_map(|p| {
            offsets.iter().map(move |o| Coord {
                x: p.x + o.x,
                y: p.y + o.y,
            })
        })
        .collect();
    // The convex hull as a monotone chain over the sorted cloud, in geo's vertex order; geo's
    // quickhull for a cloud without area (no margin).
    cloud.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    cloud.dedup();
    let ring = crate::hull::convex_ring(&cloud);
    if ring.len() < 3 {
        return MultiPolygon::new(vec![MultiPoint::from(cloud).convex_hull()]);
    }
    let mut shell: Vec<Coord<f64>> = ring.iter().map(|&i| cloud[i as usize]).collect();
    shell.push(shell[0]);
    MultiPolygon::new(vec![Polygon::new(LineString::new(shell), vec![])])
}

/// A polygon that encloses `points` with a margin of `margin_m` metres. Up to nine premises:
/// the convex hull of their margin polygons. More: the concave hull (digging in only along
/// edges longer than `detail_m`) buffered outward by the margin, or, when that hull has no
/// area, the union of the margin polygons.
pub fn outline(points: &[Coord<f64>], margin_m: f64, detail_m: f64) -> MultiPolygon<f64> {
    let style = || {
        BufferStyle::new(margin_m)
            .line_join(LineJoin::Round(OUTLINE_ARC_RAD))
            .line_cap(LineCap::Round(OUTLINE_ARC_RAD))
    };
    // `+ 0.0` turns -0 into 0, so that the order below is also the order of `<`.
    let mut pts: Vec<Coord<f64>> = points
        .iter()
        .map(|p| Coord {
            x: p.x + 0.0,
            y: p.y + 0.0,
        })
        .collect();
    pts.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
    pts.dedup();
    match pts.len() {
        0 => MultiPolygon::new(vec![]),
        n if n <= CONVEX_OUTLINE_MAX => rounded_convex_hull(&pts, margin_m),
        _ => {
            let hull: Polygon<f64> = crate::hull::concave_hull_sorted(&pts, 2.0, detail_m);
            if hull.unsigned_area() > 0.0 {
                // Mitred corners (bevelled below 45°): a hull has many corners, and arcs at
                // each would multiply its vertices for no visible gain.
                hull.buffer_with_style(
                    style().line_join(LineJoin::Miter(std::f64::consts::FRAC_PI_4)),
                )
            } else {
                MultiPoint::from(pts).buffer_with_style(style())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepared::PreparedArea;
    use geo::coord;

    #[test]
    fn kinds() {
        assert_eq!(GapKind::of(false, false), Some(GapKind::Unserved));
        assert_eq!(GapKind::of(false, true), Some(GapKind::NoFibre));
        assert_eq!(GapKind::of(true, false), Some(GapKind::No4g));
        assert_eq!(GapKind::of(true, true), None);
    }

    #[test]
    fn chain_links_at_exact_distance() {
        // 0 -- 200 m -- 1 -- 200 m -- 2 ; 3 is 200.001 m from 2.
        let pts = vec![
            coord! {x: 0., y: 0.},
            coord! {x: 200., y: 0.},
            coord! {x: 200., y: 200.},
            coord! {x: 400.001, y: 200.},
        ];
        let c = single_linkage(&pts, &[0, 1, 2, 3], 200.0);
        assert_eq!(c, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn clusters_split_by_settlement_and_kind() {
        let pts = vec![coord! {x: 0., y: 0.}; 4];
        let kinds = vec![
            Some(GapKind::Unserved),
            Some(GapKind::Unserved),
            Some(GapKind::NoFibre),
            None,
        ];
        let sett = vec![Some(0), None, Some(0), Some(0)];
        let c = cluster(&pts, &kinds, &sett, 100.0);
        assert_eq!(c.len(), 3);
        assert_eq!(
            (c[0].settlement, c[0].kind, c[0].premises.clone()),
            (Some(0), GapKind::Unserved, vec![0])
        );
        assert_eq!((c[1].settlement, c[1].kind), (Some(0), GapKind::NoFibre));
        assert_eq!((c[2].settlement, c[2].premises.clone()), (None, vec![1]));
    }

    #[test]
    fn small_cluster_outline_is_geos_hull_of_the_margin_polygons() {
        use geo::kernels::{Kernel, Orientation, RobustKernel};
        use geo::ConvexHull;
        let mut rng = crate::rng::SplitMix64::new(11);
        let steps = (std::f64::consts::TAU / OUTLINE_ARC_RAD).round() as usize;
        let mut collinear_cases = 0;
        for i in 0..20_000 {
            let n = 2 + rng.below(CONVEX_OUTLINE_MAX as u64 - 1) as usize;
            let (cx, cy) = (rng.range(2e5, 9e5), rng.range(6.1e6, 7.7e6));
            let spread = [1.0, 30.0, 300.0, rng.range(0.0, 2000.0)][i % 4];
            // Some clusters on a coarse grid: shared x or y, collinear premises.
            let snap = i % 3 == 0;
            let mut pts: Vec<Coord<f64>> = (0..n)
                .map(|_| {
                    let (mut x, mut y) = (rng.range(-spread, spread), rng.range(-spread, spread));
                    if snap {
                        (x, y) = ((x / 10.0).round() * 10.0, (y / 10.0).round() * 10.0);
                    }
                    coord! {x: cx + x, y: cy + y}
                })
                .collect();
            pts.sort_unstable_by(|a, b| a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y)));
            pts.dedup();
            let margin = [25.0, 10.0, 0.5, rng.range(0.01, 500.0)][i % 4];
            let got = rounded_convex_hull(&pts, margin);
            let cloud: Vec<Coord<f64>> = pts
                .iter()
                .flat_map(|p| {
                    (0..steps).map(move |k| {
                        let a = k as f64 * std::f64::consts::TAU / steps as f64;
                        coord! {x: p.x + margin * a.cos(), y: p.y + margin * a.sin()}
                    })
                })
                .collect();
            let want = MultiPoint::from(cloud).convex_hull();
            // geo's quickhull keeps a vertex that lies exactly on a hull edge when it ties as
            // the farthest point (premises sharing an x or y); the outline has no such vertex.
            // Otherwise the rings are the same, vertex for vertex, from the same start.
            let ring = &want.exterior().0;
            let n = ring.len() - 1;
            let corner = |k: usize| {
                RobustKernel::orient2d(ring[(k + n - 1) % n], ring[k], ring[(k + 1) % n])
                    != Orientation::Collinear
            };
            let corners: Vec<Coord<f64>> = (0..n).filter(|&k| corner(k)).map(|k| ring[k]).collect();
            let ours = &got.0[0].exterior().0;
            assert_eq!(got.0.len(), 1);
            if corners.len() == n {
                assert_eq!(
                    got,
                    MultiPolygon::new(vec![want]),
                    "{pts:?} margin {margin}"
                );
            } else {
                let start = corners
                    .iter()
                    .position(|c| *c == ours[0])
                    .expect("same vertices");
                let rotated: Vec<Coord<f64>> = corners[start..]
                    .iter()
                    .chain(&corners[..start])
                    .copied()
                    .collect();
                assert_eq!(
                    &ours[..ours.len() - 1],
                    &rotated[..],
                    "{pts:?} margin {margin}"
                );
                collinear_cases += 1;
            }
        }
        assert!(
            collinear_cases > 50,
            "{collinear_cases} cases with collinear vertices"
        );
    }

    #[test]
    fn one_premise_outline_is_the_general_hull() {
        use geo::ConvexHull;
        let mut rng = crate::rng::SplitMix64::new(5);
        for i in 0..20_000 {
            let p = coord! {x: rng.range(-1e6, 2e6), y: rng.range(-1e7, 1e7)};
            let margin = [25.0, 10.0, 0.5, 100.0, rng.range(0.01, 500.0)][i % 5];
            let got = rounded_convex_hull(&[p], margin);
            // The general case: the hull of the premise's polygon vertices.
            let steps = (std::f64::consts::TAU / OUTLINE_ARC_RAD).round() as usize;
            let cloud: Vec<Coord<f64>> = (0..steps)
                .map(|k| {
                    let a = k as f64 * std::f64::consts::TAU / steps as f64;
                    coord! {x: p.x + margin * a.cos(), y: p.y + margin * a.sin()}
                })
                .collect();
            let want = MultiPolygon::new(vec![MultiPoint::from(cloud).convex_hull()]);
            assert_eq!(got, want, "{p:?} margin {margin}");
        }
    }

    #[test]
    fn outline_encloses_points() {
        let cases: Vec<Vec<Coord<f64>>> = vec![
            vec![coord! {x: 5., y: 5.}],
            vec![coord! {x: 0., y: 0.}, coord! {x: 100., y: 0.}],
            (0..10).map(|i| coord! {x: i as f64 * 50., y: 0.}).collect(),
            (0..50)
                .map(|i| coord! {x: (i % 7) as f64 * 60., y: (i / 7) as f64 * 80. + (i % 3) as f64})
                .collect(),
        ];
        for pts in cases {
            let mp = outline(&pts, 20.0, 200.0);
            let area = PreparedArea::from_multi_polygon(&mp);
            for p in &pts {
                assert!(
                    area.covers(*p),
                    "{p:?} outside outline of {} points",
                    pts.len()
                );
            }
        }
    }
}
