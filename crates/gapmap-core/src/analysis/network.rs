//! The fibre network as a graph: snapped vertices, links between junctions, shared-risk groups
//! and backbone points.
//!
//! - **Nodes.** Every vertex of every fibre line; vertices closer than `snap_m` metres are one
//!   node (transitively, by single linkage). Lines cross only where they share a (snapped)
//!   vertex: a crossing without a common vertex is not a connection.
//! - **Junctions** are nodes where a line ends, where anything but exactly two segments meet,
//!   or where a backbone point attaches.
//! - **Links** are the runs of one line between junctions: the edges of the graph, and what a
//!   single cut breaks.
//! - **Shared-risk groups** are links that one event cuts together: links of features with the
//!   same shared-risk value (e.g. a duct or trench id), and links that run within `srlg_m`
//!   of another link for more than half of their length (two cables in one trench). Every
//!   other link is a group of its own.
//! - **Backbone points** attach to the nearest node within `backbone_snap_m`.

use geo::Coord;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

use crate::gaps::single_linkage;

/// One fibre line: its vertices, the feature it came from, its network (owner) and its
/// shared-risk value, if any.
#[derive(Debug, Clone)]
pub struct NetworkLine {
    /// The line's vertices.
    pub coords: Vec<Coord<f64>>,
    /// The fibre feature it belongs to.
    pub feature: u32,
    /// Its network (owner) id.
    pub network: u32,
    /// Interned shared-risk value (e.g. a trench id); lines with the same value fail together.
    pub srlg: Option<u32>,
}

/// How the graph is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphOptions {
    /// Vertices closer than this, in metres, are one node.
    pub snap_m: f64,
    /// Links within this distance, in metres, of another link for more than half their length
    /// share a risk group; 0 turns the geometric grouping off.
    pub srlg_m: f64,
    /// Backbone points attach to the nearest node within this distance, in metres.
    pub backbone_snap_m: f64,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            snap_m: 1.0,
            srlg_m: 2.0,
            backbone_snap_m: 100.0,
        }
    }
}

/// A link: the run of one line between two junctions.
#[derive(Debug, Clone)]
pub struct Link {
    /// Junction ids of its ends (equal for a closed loop).
    pub a: u32,
    /// The junction at the other end.
    pub b: u32,
    /// Index of the line in the input slice, and the vertex range `[start, end]` it covers.
    pub line: u32,
    /// First vertex of the line it covers.
    pub start: u32,
    /// Last vertex of the line it covers.
    pub end: u32,
    /// Its length along the line, in metres.
    pub length_m: f64,
}

/// The graph. Junction ids are `0..junctions.len()`.
#[derive(Debug, Clone)]
pub struct FibreGraph {
    /// Position of each junction (its first vertex).
    pub junctions: Vec<Coord<f64>>,
    /// The links between junctions.
    pub links: Vec<Link>,
    /// Risk group of each link; groups are numbered by their smallest link.
    pub link_group: Vec<u32>,
    /// Links of each group, ascending.
    pub groups: Vec<Vec<u32>>,
    /// Whether a group holds links of one shared-risk value, and whether geometry joined it.
    pub group_by_value: Vec<bool>,
    /// Whether parallel geometry (links in one trench) joined the group.
    pub group_by_geometry: Vec<bool>,
    /// For each backbone point: its junction, or `None` when no node is within reach.
    pub backbone: Vec<Option<u32>>,
    /// Adjacency in CSR form: for junction `v`, `adj[adj_start[v]..adj_start[v + 1]]` holds
    /// `(neighbour, link)` pairs.
    pub adj_start: Vec<u32>,
    /// `(neighbour, link)` pairs of every junction, in CSR order.
    pub adj: Vec<(u32, u32)>,
}

/// The connected pieces of a [`FibreGraph`] ([`FibreGraph::components`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// The piece of every junction.
    pub of_junction: Vec<u32>,
    /// Whether each piece holds a backbone point.
    pub reaches_backbone: Vec<bool>,
}

/// Compressed rows: `(start, values)` where the values of row `k` are
/// `values[start[k]..start[k + 1]]`, in the order `items` gives them.
pub(crate) fn csr<T: Copy + Default>(
    n: usize,
    items: impl Iterator<Item = (usize, T)> + Clone,
) -> (Vec<u32>, Vec<T>) {
    let mut start = vec![0u32; n + 1];
    for (k, _) in items.clone() {
        start[k + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut out = vec![T::default(); start[n] as usize];
    for (k, v) in items {
        out[fill[k] as usize] = v;
        fill[k] += 1;
    }
    (start, out)
}

/// Adjacency of `n` nodes joined by `edges` (by position): for node `v`, the `(neighbour,
/// edge)` pairs in `adj[start[v]..start[v + 1]]`, in edge order. Loops are left out.
pub(crate) fn adjacency(
    n: usize,
    edges: impl Iterator<Item = (u32, u32)> + Clone,
) -> (Vec<u32>, Vec<(u32, u32)>) {
    csr(
        n,
        edges
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .flat_map(|(i, (a, b))| [(a as usize, (b, i as u32)), (b as usize, (a, i as u32))]),
    )
}

/// Up to eight segments of a link, for nearest-link queries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LinkPiece {
    pts: [[f64; 2]; 9],
    len: u8,
    pub(crate) link: u32,
    env: AABB<[f64; 2]>,
}

impl LinkPiece {
    fn new(coords: &[Coord<f64>], link: u32) -> LinkPiece {
        let mut pts = [[0.0; 2]; 9];
        for (k, c) in coords.iter().enumerate() {
            pts[k] = [c.x, c.y];
        }
        LinkPiece {
            pts,
            len: coords.len() as u8,
            link,
            env: AABB::from_points(pts[..coords.len()].iter()),
        }
    }
}

impl RTreeObject for LinkPiece {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

impl PointDistance for LinkPiece {
    fn distance_2(&self, p: &[f64; 2]) -> f64 {
        crate::fibre::polyline_distance2(&self.pts[..self.len as usize], p)
    }
}

/// The pieces of every link (up to eight segments each), for an R-tree.
pub(crate) fn link_pieces(lines: &[NetworkLine], links: &[Link]) -> Vec<LinkPiece> {
    let mut out = Vec::new();
    for (li, l) in links.iter().enumerate() {
        let coords = &lines[l.line as usize].coords[l.start as usize..=l.end as usize];
        let mut s = 0;
        while s + 1 < coords.len() {
            let e = (s + 8).min(coords.len() - 1);
            out.push(LinkPiece::new(&coords[s..=e], li as u32));
            s = e;
        }
    }
    out
}

/// The links' pieces (up to eight segments each), by link, and an R-tree of their boxes (a
/// box and the piece's number, so that the tree is small and quick to bulk-load): what the
/// search for links in one trench and the premises' attachment query.
#[derive(Debug, Clone)]
pub struct LinkPieces {
    pieces: Vec<LinkPiece>,
    /// Per link, its first piece (and one past the last link's last).
    first: Vec<u32>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

impl LinkPieces {
    /// The pieces of `links` of `lines`, indexed.
    pub fn new(lines: &[NetworkLine], links: &[Link]) -> LinkPieces {
        let pieces = link_pieces(lines, links);
        // link_pieces emits them link by link.
        let mut first = vec![0u32; links.len() + 1];
        for p in &pieces {
            first[p.link as usize + 1] += 1;
        }
        for i in 0..links.len() {
            first[i + 1] += first[i];
        }
        let tree = RTree::bulk_load(
            pieces
                .iter()
                .enumerate()
                .map(|(i, p)| GeomWithData::new(Rectangle::from_aabb(p.env), i as u32))
                .collect(),
        );
        LinkPieces {
            pieces,
            first,
            tree,
        }
    }

    /// The pieces of link `l`, in order along it.
    pub(crate) fn of_link(&self, l: u32) -> &[LinkPiece] {
        &self.pieces[self.first[l as usize] as usize..self.first[l as usize + 1] as usize]
    }

    /// The pieces whose boxes meet `env` (closed boxes).
    pub(crate) fn meeting<'a>(
        &'a self,
        env: &AABB<[f64; 2]>,
    ) -> impl Iterator<Item = &'a LinkPiece> + 'a {
        self.tree
            .locate_in_envelope_intersecting(env)
            .map(|e| &self.pieces[e.data as usize])
    }
}

fn length(coords: &[Coord<f64>]) -> f64 {
    coords
        .windows(2)
        .map(|w| (w[1].x - w[0].x).hypot(w[1].y - w[0].y))
        .sum()
}

/// Up to this many backbone points find their nearest node by a scan of all nodes; more,
/// through an R-tree of the nodes.
const BACKBONE_SCAN: usize = 256;

impl FibreGraph {
    /// Builds the graph of `lines` with `backbone` points attached.
    pub fn build(lines: &[NetworkLine], backbone: &[Coord<f64>], opts: GraphOptions) -> FibreGraph {
        Self::build_with_pieces(lines, backbone, opts).0
    }

    /// Builds the graph, and hands back its links' pieces, indexed, for attaching premises
    /// ([`crate::resilience::attach_premises`]).
    pub fn build_with_pieces(
        lines: &[NetworkLine],
        backbone: &[Coord<f64>],
        opts: GraphOptions,
    ) -> (FibreGraph, LinkPieces) {
        // 1. Snap vertices into nodes.
        let mut vertex_xy: Vec<Coord<f64>> = Vec::new();
        let mut line_start: Vec<usize> = Vec::with_capacity(lines.len() + 1);
        for l in lines {
            line_start.push(vertex_xy.len());
            vertex_xy.extend_from_slice(&l.coords);
        }
        line_start.push(vertex_xy.len());
        let nv = vertex_xy.len();
        let mut node_of = vec![0u32; nv];
        let mut node_xy: Vec<Coord<f64>> = Vec::new();
        if opts.snap_m > 0.0 {
            let all: Vec<u32> = (0..nv as u32).collect();
            for comp in single_linkage(&vertex_xy, &all, opts.snap_m) {
                let id = node_xy.len() as u32;
                node_xy.push(vertex_xy[comp[0] as usize]);
                for v in comp {
                    node_of[v as usize] = id;
                }
            }
        } else {
            // Exact coincidence only.
            let mut order: Vec<u32> = (0..nv as u32).collect();
            order.sort_by(|&a, &b| {
                let (p, q) = (vertex_xy[a as usize], vertex_xy[b as usize]);
                p.x.total_cmp(&q.x)
                    .then(p.y.total_cmp(&q.y))
                    .then(a.cmp(&b))
            });
            let mut prev: Option<Coord<f64>> = None;
            for &v in &order {
                let p = vertex_xy[v as usize];
                if prev != Some(p) {
                    node_xy.push(p);
                    prev = Some(p);
                }
                node_of[v as usize] = node_xy.len() as u32 - 1;
            }
        }
        let nn = node_xy.len();

        // 2. Backbone points onto the nearest node (ties to the lower node): a scan of the
        // nodes for a few points, an R-tree for many.
        let within = |p: &Coord<f64>, n: (f64, u32)| {
            let q = node_xy[n.1 as usize];
            ((q.x - p.x).hypot(q.y - p.y) <= opts.backbone_snap_m).then_some(n.1)
        };
        let backbone_node: Vec<Option<u32>> = if backbone.len() <= BACKBONE_SCAN {
            // One pass over the nodes: each looks only at the points within the snap
            // distance in x (points sorted by x), and keeps per point the nearest (distance,
            // then node); the passes of the threads merge by the same order.
            use rayon::prelude::*;
            let r = opts.backbone_snap_m;
            let mut by_x: Vec<u32> = (0..backbone.len() as u32).collect();
            by_x.sort_by(|&a, &b| backbone[a as usize].x.total_cmp(&backbone[b as usize].x));
            let xs: Vec<f64> = by_x.iter().map(|&k| backbone[k as usize].x).collect();
            let none = || vec![(f64::INFINITY, u32::MAX); backbone.len()];
            let better = |a: (f64, u32), b: (f64, u32)| {
                if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) {
                    b
                } else {
                    a
                }
            };
            let best = node_xy
                .par_iter()
                .enumerate()
                .fold(none, |mut best, (i, q)| {
                    let from = xs.partition_point(|&x| x < q.x - r);
                    for (k, &x) in xs.iter().enumerate().skip(from) {
                        if x > q.x + r {
                            break;
                        }
                        let p = backbone[by_x[k] as usize];
                        let d2 = (q.x - p.x).powi(2) + (q.y - p.y).powi(2);
                        let b = &mut best[by_x[k] as usize];
                        *b = better(*b, (d2, i as u32));
                    }
                    best
                })
                .reduce(none, |a, b| {
                    a.into_iter().zip(b).map(|(x, y)| better(x, y)).collect()
                });
            backbone
                .iter()
                .zip(best)
                .map(|(p, n)| (n.1 != u32::MAX).then_some(n).and_then(|n| within(p, n)))
                .collect()
        } else {
            let node_tree: RTree<GeomWithData<[f64; 2], u32>> = RTree::bulk_load(
                node_xy
                    .iter()
                    .enumerate()
                    .map(|(i, c)| GeomWithData::new([c.x, c.y], i as u32))
                    .collect(),
            );
            backbone
                .iter()
                .map(|p| {
                    node_tree
                        .nearest_neighbor(&[p.x, p.y])
                        .and_then(|n| within(p, (0.0, n.data)))
                })
                .collect()
        };

        // 3. Junctions: line ends, degree other than two, backbone nodes.
        let mut degree = vec![0u32; nn];
        let mut junction = vec![false; nn];
        let mut seq: Vec<Vec<(u32, u32)>> = Vec::with_capacity(lines.len()); // (node, vertex index)
        for (li, l) in lines.iter().enumerate() {
            let mut s: Vec<(u32, u32)> = Vec::with_capacity(l.coords.len());
            for k in 0..l.coords.len() {
                let n = node_of[line_start[li] + k];
                if s.last().map(|x| x.0) != Some(n) {
                    s.push((n, k as u32));
                }
            }
            if s.len() >= 2 {
                for w in s.windows(2) {
                    degree[w[0].0 as usize] += 1;
                    degree[w[1].0 as usize] += 1;
                }
                junction[s[0].0 as usize] = true;
                junction[s[s.len() - 1].0 as usize] = true;
            }
            seq.push(s);
        }
        for v in 0..nn {
            if degree[v] != 2 {
                junction[v] = true;
            }
        }
        let mut is_backbone = vec![false; nn];
        for n in backbone_node.iter().flatten() {
            junction[*n as usize] = true;
            is_backbone[*n as usize] = true;
        }
        let mut junction_id = vec![u32::MAX; nn];
        let mut junctions = Vec::new();
        for v in 0..nn {
            if junction[v] && degree[v] > 0 || is_backbone[v] {
                junction_id[v] = junctions.len() as u32;
                junctions.push(node_xy[v]);
            }
        }

        // 4. Links: runs of a line between junctions.
        let mut links = Vec::new();
        for (li, s) in seq.iter().enumerate() {
            if s.len() < 2 {
                continue;
            }
            let mut from = 0usize;
            for k in 1..s.len() {
                if junction[s[k].0 as usize] {
                    let (start, end) = (s[from].1, s[k].1);
                    let coords = &lines[li].coords[start as usize..=end as usize];
                    links.push(Link {
                        a: junction_id[s[from].0 as usize],
                        b: junction_id[s[k].0 as usize],
                        line: li as u32,
                        start,
                        end,
                        length_m: length(coords),
                    });
                    from = k;
                }
            }
        }

        // 5. Shared-risk groups.
        let nl = links.len();
        let mut uf = crate::gaps::UnionFind::new(nl);
        let mut by_value: std::collections::HashMap<u32, u32> = Default::default();
        let mut valued = vec![false; nl];
        for (i, l) in links.iter().enumerate() {
            if let Some(v) = lines[l.line as usize].srlg {
                valued[i] = true;
                match by_value.get(&v) {
                    Some(&first) => {
                        uf.union(first, i as u32);
                    }
                    None => {
                        by_value.insert(v, i as u32);
                    }
                }
            }
        }
        let pieces = LinkPieces::new(lines, &links);
        let mut geometric = vec![false; nl];
        if opts.srlg_m > 0.0 && nl > 1 {
            for (a, b) in parallel_links(lines, &links, &pieces, opts.srlg_m) {
                uf.union(a, b);
                geometric[a as usize] = true;
                geometric[b as usize] = true;
            }
        }
        let mut link_group = vec![0u32; nl];
        let mut group_index = vec![u32::MAX; nl];
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let (mut group_by_value, mut group_by_geometry) = (Vec::new(), Vec::new());
        for i in 0..nl {
            let root = uf.find(i as u32) as usize;
            if group_index[root] == u32::MAX {
                group_index[root] = groups.len() as u32;
                groups.push(Vec::new());
                group_by_value.push(false);
                group_by_geometry.push(false);
            }
            let g = group_index[root];
            link_group[i] = g;
            groups[g as usize].push(i as u32);
            group_by_value[g as usize] |= valued[i];
            group_by_geometry[g as usize] |= geometric[i];
        }

        // 6. Adjacency.
        let (adj_start, adj) = adjacency(junctions.len(), links.iter().map(|l| (l.a, l.b)));
        let graph = FibreGraph {
            junctions,
            links,
            link_group,
            groups,
            group_by_value,
            group_by_geometry,
            backbone: backbone_node
                .iter()
                .map(|n| n.map(|n| junction_id[n as usize]))
                .collect(),
            adj_start,
            adj,
        };
        (graph, pieces)
    }

    /// `(neighbour, link)` pairs of junction `v`.
    #[inline]
    pub fn neighbours(&self, v: u32) -> &[(u32, u32)] {
        &self.adj[self.adj_start[v as usize] as usize..self.adj_start[v as usize + 1] as usize]
    }

    /// The number of junctions.
    pub fn num_junctions(&self) -> usize {
        self.junctions.len()
    }

    /// The connected pieces of the network: the piece of every junction (numbered in the
    /// order of their smallest junction), and for each piece whether a backbone point is in
    /// it. Premises on a piece without one have no path to the backbone whatever fails.
    pub fn components(&self) -> Components {
        let n = self.junctions.len();
        let mut uf = crate::gaps::UnionFind::new(n);
        for l in &self.links {
            uf.union(l.a, l.b);
        }
        let mut id_of_root = vec![u32::MAX; n];
        let mut of_junction = vec![0u32; n];
        let mut count = 0u32;
        for (v, piece) in of_junction.iter_mut().enumerate() {
            let root = uf.find(v as u32) as usize;
            if id_of_root[root] == u32::MAX {
                id_of_root[root] = count;
                count += 1;
            }
            *piece = id_of_root[root];
        }
        let mut reaches_backbone = vec![false; count as usize];
        for j in self.backbone.iter().flatten() {
            reaches_backbone[of_junction[*j as usize] as usize] = true;
        }
        Components {
            of_junction,
            reaches_backbone,
        }
    }

    /// The vertices of link `i`.
    pub fn link_coords<'a>(&self, lines: &'a [NetworkLine], i: usize) -> &'a [Coord<f64>] {
        let l = &self.links[i];
        &lines[l.line as usize].coords[l.start as usize..=l.end as usize]
    }
}

/// Samples per link, at most, when looking for parallel links.
const SRLG_SAMPLES: usize = 24;

/// Pairs of links where one runs within `srlg_m` of the other for more than half of its
/// length. Each link is sampled every `srlg_m` (at most [`SRLG_SAMPLES`] points, evenly
/// spaced), away from its ends, where links that merely meet are close. Candidates are the
/// links with a piece near the link's bounding box; each candidate is measured against the
/// samples directly, stopping as soon as the majority is decided.
fn parallel_links(
    lines: &[NetworkLine],
    links: &[Link],
    pieces: &LinkPieces,
    srlg_m: f64,
) -> Vec<(u32, u32)> {
    use rayon::prelude::*;
    let r2 = srlg_m * srlg_m;
    let mut pairs: Vec<(u32, u32)> = (0..links.len())
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(samples, cands): &mut (Vec<[f64; 2]>, Vec<u32>), li| {
                let l = &links[li];
                let coords = &lines[l.line as usize].coords[l.start as usize..=l.end as usize];
                let len = l.length_m;
                if len <= 4.0 * srlg_m {
                    return Vec::new();
                }
                // Samples strictly inside [srlg_m, len - srlg_m].
                let usable = len - 2.0 * srlg_m;
                let n = ((usable / srlg_m).ceil() as usize).clamp(1, SRLG_SAMPLES);
                samples.clear();
                let mut seg = 0usize;
                let mut seg_start = 0.0;
                for k in 0..n {
                    let d = srlg_m + usable * (k as f64 + 0.5) / n as f64;
                    while seg + 2 < coords.len() {
                        let sl = (coords[seg + 1].x - coords[seg].x)
                            .hypot(coords[seg + 1].y - coords[seg].y);
                        if seg_start + sl >= d {
                            break;
                        }
                        seg_start += sl;
                        seg += 1;
                    }
                    let (p, q) = (coords[seg], coords[seg + 1]);
                    let sl = (q.x - p.x).hypot(q.y - p.y);
                    let t = if sl > 0.0 {
                        ((d - seg_start) / sl).clamp(0.0, 1.0)
                    } else {
                        0.0
                    };
                    samples.push([p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)]);
                }
                // Candidates: links with a piece within srlg_m of the samples' box.
                let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
                for s in samples.iter() {
                    lo = [lo[0].min(s[0]), lo[1].min(s[1])];
                    hi = [hi[0].max(s[0]), hi[1].max(s[1])];
                }
                let env = AABB::from_corners(
                    [lo[0] - srlg_m, lo[1] - srlg_m],
                    [hi[0] + srlg_m, hi[1] + srlg_m],
                );
                cands.clear();
                cands.extend(
                    pieces
                        .meeting(&env)
                        .map(|p| p.link)
                        .filter(|&o| o != li as u32),
                );
                cands.sort_unstable();
                cands.dedup();
                let need = n / 2 + 1; // more than half
                let mut out = Vec::new();
                for &o in cands.iter() {
                    let op = pieces.of_link(o);
                    let (mut hits, mut misses) = (0usize, 0usize);
                    for s in samples.iter() {
                        if op.iter().any(|p| p.distance_2(s) <= r2) {
                            hits += 1;
                            if hits >= need {
                                break;
                            }
                        } else {
                            misses += 1;
                            if misses > n - need {
                                break;
                            }
                        }
                    }
                    if hits >= need {
                        out.push((li as u32, o));
                    }
                }
                out
            },
        )
        .flatten()
        .collect();
    pairs.sort_unstable();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pts: &[(f64, f64)], feature: u32) -> NetworkLine {
        NetworkLine {
            coords: pts.iter().map(|&(x, y)| Coord { x, y }).collect(),
            feature,
            network: 0,
            srlg: None,
        }
    }

    #[test]
    fn links_split_at_junctions_and_snap_closes_gaps() {
        // A T: a horizontal line with a vertex at x = 10, and a vertical line ending 0.5 m
        // from that vertex.
        let lines = vec![
            line(&[(0.0, 0.0), (10.0, 0.0), (20.0, 0.0)], 0),
            line(&[(10.0, 10.0), (10.0, 0.5)], 1),
        ];
        let g = FibreGraph::build(&lines, &[], GraphOptions::default());
        assert_eq!(g.links.len(), 3, "{:?}", g.links);
        assert_eq!(g.num_junctions(), 4);
        // Without snapping the vertical line hangs free: two links, two components.
        let g0 = FibreGraph::build(
            &lines,
            &[],
            GraphOptions {
                snap_m: 0.0,
                ..Default::default()
            },
        );
        assert_eq!(g0.links.len(), 2);
    }

    #[test]
    fn pieces_without_a_backbone_point_are_told_apart() {
        let lines = vec![
            line(&[(0.0, 0.0), (100.0, 0.0)], 0),
            line(&[(100.0, 0.0), (100.0, 100.0)], 1),
            line(&[(500.0, 0.0), (600.0, 0.0)], 2), // apart
        ];
        let g = FibreGraph::build(&lines, &[Coord { x: 0.0, y: 0.0 }], GraphOptions::default());
        let c = g.components();
        assert_eq!(c.reaches_backbone, vec![true, false]);
        let piece = |l: usize| c.of_junction[g.links[l].a as usize];
        assert_eq!(piece(0), piece(1));
        assert_ne!(piece(0), piece(2));
    }

    #[test]
    fn crossing_without_a_shared_vertex_is_no_connection() {
        let lines = vec![
            line(&[(0.0, 5.0), (10.0, 5.0)], 0),
            line(&[(5.0, 0.0), (5.0, 10.0)], 1),
        ];
        let g = FibreGraph::build(&lines, &[], GraphOptions::default());
        assert_eq!(g.links.len(), 2);
        assert_eq!(g.num_junctions(), 4);
    }

    #[test]
    fn backbone_point_splits_a_link() {
        let lines = vec![line(&[(0.0, 0.0), (50.0, 0.0), (100.0, 0.0)], 0)];
        let g = FibreGraph::build(
            &lines,
            &[Coord { x: 49.0, y: 3.0 }],
            GraphOptions::default(),
        );
        assert_eq!(g.links.len(), 2);
        assert!(g.backbone[0].is_some());
        let far = FibreGraph::build(
            &lines,
            &[Coord { x: 50.0, y: 500.0 }],
            GraphOptions::default(),
        );
        assert_eq!(far.backbone[0], None);
        assert_eq!(far.links.len(), 1);
    }

    #[test]
    fn parallel_cables_share_a_group_and_a_value_joins_links() {
        let mut lines = vec![
            line(&[(0.0, 0.0), (1000.0, 0.0)], 0),
            line(&[(0.0, 1.0), (1000.0, 1.0)], 1), // 1 m away: one trench
            line(&[(0.0, 50.0), (1000.0, 50.0)], 2), // 50 m away: separate
            line(&[(0.0, 200.0), (100.0, 200.0)], 3),
            line(&[(0.0, 300.0), (100.0, 300.0)], 4),
        ];
        lines[3].srlg = Some(7);
        lines[4].srlg = Some(7);
        let g = FibreGraph::build(&lines, &[], GraphOptions::default());
        assert_eq!(g.links.len(), 5);
        assert_eq!(g.link_group[0], g.link_group[1]);
        assert_ne!(g.link_group[0], g.link_group[2]);
        assert_eq!(g.link_group[3], g.link_group[4]);
        assert_eq!(g.groups.len(), 3);
        assert!(g.group_by_geometry[g.link_group[0] as usize]);
        assert!(g.group_by_value[g.link_group[3] as usize]);
        // Links that only meet at a junction are not parallel.
        let meet = vec![
            line(&[(0.0, 0.0), (1000.0, 0.0)], 0),
            line(&[(1000.0, 0.0), (1000.0, 1000.0)], 1),
        ];
        let g = FibreGraph::build(&meet, &[], GraphOptions::default());
        assert_ne!(g.link_group[0], g.link_group[1]);
    }
}
