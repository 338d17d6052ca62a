//! Redundancy and resilience of the fibre network: disjoint paths from each settlement to the
//! backbone, and what each single failure (a link, or a shared-risk group) cuts off.
//!
//! All backbone junctions are one node, *the backbone*. A settlement's fibre is a set of
//! junctions (those inside it, and the ends of the links its premises hang on); a premise hangs
//! on one link (the nearest within the drop distance).
//!
//! - **Reachable**: some path joins the settlement's fibre (the premise's link) to the backbone.
//! - **A failure** of a risk group removes all its links. A settlement loses every path when
//!   none of its junctions reaches the backbone any more. A premise on link `L = (a, b)` loses
//!   it when neither `a` nor `b` reaches the backbone; if `L` itself fails, the cut may be
//!   anywhere along it, so the premise keeps service only if *both* `a` and `b` still reach it.
//! - **Critical units**: single-link groups are cut by bridges (Tarjan, one pass, linear time);
//!   their impact comes from the bridge tree (2-edge-connected components joined by bridges)
//!   by subtree sums. Groups of several links are each checked by one search of the graph
//!   without them.
//! - **Paths**: unit-capacity max-flow from the settlement's fibre to the backbone, where a
//!   group of several links is one unit of capacity shared by them (a gadget: its links' ends
//!   all meet in one capacity-1 arc), capped at [`MAX_PATHS`]. Node-disjoint paths split every
//!   junction into a capacity-1 arc (and ignore shared-risk groups).
//! - **Class**: `none` (no path), `single` (some single failure cuts every path) or
//!   `redundant`. It comes from the failure analysis, exactly; the edge-disjoint path count is
//!   made to agree (1 when single; when redundant the gadget's count is at least 2, and may
//!   overstate when a group's links join different places). Node-disjoint paths ignore groups,
//!   so they may exceed 1 for a settlement that one shared-risk group cuts off.

use rayon::prelude::*;

use crate::network::FibreGraph;

/// Path counts are capped here: 4 means 4 or more.
pub const MAX_PATHS: u32 = 4;

/// How a settlement or premise hangs on the backbone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RedundancyClass {
    /// No path to the backbone.
    None,
    /// A single failure cuts every path.
    Single,
    /// No single failure cuts it off.
    Redundant,
}

impl RedundancyClass {
    pub fn as_str(self) -> &'static str {
        match self {
            RedundancyClass::None => "none",
            RedundancyClass::Single => "single",
            RedundancyClass::Redundant => "redundant",
        }
    }
}

/// What the analysis needs besides the graph.
#[derive(Debug, Clone, Default)]
pub struct Demand {
    /// Junctions of each settlement's fibre (any order, duplicates allowed).
    pub settlement_sources: Vec<Vec<u32>>,
    /// The link each premise hangs on, if any.
    pub premise_link: Vec<Option<u32>>,
    /// Households of each premise.
    pub premise_households: Vec<u32>,
}

/// What one risk group's failure cuts off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalUnit {
    pub group: u32,
    /// Settlements that lose every path, ascending.
    pub settlements: Vec<u32>,
    pub premises: u64,
    pub households: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resilience {
    pub settlement_paths: Vec<u32>,
    pub settlement_node_paths: Vec<u32>,
    pub settlement_class: Vec<RedundancyClass>,
    /// `None` for premises on no link.
    pub premise_class: Vec<Option<RedundancyClass>>,
    /// Groups whose failure cuts off at least one premise or settlement, ranked by premises,
    /// then households, then settlements cut, then group id.
    pub critical: Vec<CriticalUnit>,
}

/// The graph with every backbone junction merged into one node, `root`.
struct Contracted {
    n: usize,
    root: u32,
    /// Junction → node.
    node: Vec<u32>,
    adj_start: Vec<u32>,
    adj: Vec<(u32, u32)>,
    /// Ends of each link, as nodes.
    ends: Vec<(u32, u32)>,
    has_backbone: bool,
}

impl Contracted {
    fn new(g: &FibreGraph) -> Contracted {
        let nj = g.num_junctions();
        let root = nj as u32;
        let mut node: Vec<u32> = (0..nj as u32).collect();
        for b in g.backbone.iter().flatten() {
            node[*b as usize] = root;
        }
        let n = nj + 1;
        let ends: Vec<(u32, u32)> = g
            .links
            .iter()
            .map(|l| (node[l.a as usize], node[l.b as usize]))
            .collect();
        let mut count = vec![0u32; n + 1];
        for &(a, b) in &ends {
            if a != b {
                count[a as usize] += 1;
                count[b as usize] += 1;
            }
        }
        let mut adj_start = vec![0u32; n + 1];
        for v in 0..n {
            adj_start[v + 1] = adj_start[v] + count[v];
        }
        let mut fill = adj_start.clone();
        let mut adj = vec![(0u32, 0u32); adj_start[n] as usize];
        for (i, &(a, b)) in ends.iter().enumerate() {
            if a != b {
                adj[fill[a as usize] as usize] = (b, i as u32);
                fill[a as usize] += 1;
                adj[fill[b as usize] as usize] = (a, i as u32);
                fill[b as usize] += 1;
            }
        }
        let has_backbone = node.contains(&root);
        Contracted {
            n,
            root,
            node,
            adj_start,
            adj,
            ends,
            has_backbone,
        }
    }

    #[inline]
    fn neighbours(&self, v: u32) -> &[(u32, u32)] {
        &self.adj[self.adj_start[v as usize] as usize..self.adj_start[v as usize + 1] as usize]
    }

    /// Nodes reachable from the root without the links marked in `removed`.
    fn reachable(&self, removed: &[bool]) -> Vec<bool> {
        let mut seen = vec![false; self.n];
        if !self.has_backbone() {
            return seen;
        }
        let mut stack = vec![self.root];
        seen[self.root as usize] = true;
        while let Some(v) = stack.pop() {
            for &(w, l) in self.neighbours(v) {
                if !removed[l as usize] && !seen[w as usize] {
                    seen[w as usize] = true;
                    stack.push(w);
                }
            }
        }
        seen
    }

    fn has_backbone(&self) -> bool {
        self.has_backbone
    }
}

/// Bridges by Tarjan's lowpoint, iteratively, over the part reachable from the root; also the
/// DFS discovery order (0 = unvisited).
fn bridges(c: &Contracted) -> (Vec<bool>, Vec<u32>) {
    let nl = c.ends.len();
    let mut is_bridge = vec![false; nl];
    let mut disc = vec![0u32; c.n];
    let mut low = vec![0u32; c.n];
    if !c.has_backbone() {
        return (is_bridge, disc);
    }
    let mut time = 1u32;
    // Frames: (node, link it was entered by, next adjacency position).
    let mut stack: Vec<(u32, u32, u32)> = vec![(c.root, u32::MAX, c.adj_start[c.root as usize])];
    disc[c.root as usize] = time;
    low[c.root as usize] = time;
    while let Some(&mut (v, via, ref mut pos)) = stack.last_mut() {
        let end = c.adj_start[v as usize + 1];
        if *pos < end {
            let (w, l) = c.adj[*pos as usize];
            *pos += 1;
            if l == via {
                continue;
            }
            if disc[w as usize] == 0 {
                time += 1;
                disc[w as usize] = time;
                low[w as usize] = time;
                stack.push((w, l, c.adj_start[w as usize]));
            } else {
                low[v as usize] = low[v as usize].min(disc[w as usize]);
            }
        } else {
            stack.pop();
            if let Some(&(p, _, _)) = stack.last() {
                low[p as usize] = low[p as usize].min(low[v as usize]);
                if low[v as usize] > disc[p as usize] {
                    is_bridge[via as usize] = true;
                }
            }
        }
    }
    (is_bridge, disc)
}

/// The bridge tree: 2-edge-connected components of the reachable part, joined by bridges and
/// rooted at the backbone's component.
struct BridgeTree {
    /// Component of each node (`u32::MAX` when unreachable).
    comp: Vec<u32>,
    parent: Vec<u32>,
    /// The bridge joining a component to its parent.
    parent_link: Vec<u32>,
    depth: Vec<u32>,
    /// Components in BFS order from the root (parents before children).
    order: Vec<u32>,
}

impl BridgeTree {
    fn new(c: &Contracted, is_bridge: &[bool], disc: &[u32]) -> BridgeTree {
        let mut comp = vec![u32::MAX; c.n];
        let mut ncomp = 0u32;
        let mut parent = Vec::new();
        let mut parent_link = Vec::new();
        let mut depth = Vec::new();
        let mut order = Vec::new();
        if !c.has_backbone() {
            return BridgeTree {
                comp,
                parent,
                parent_link,
                depth,
                order,
            };
        }
        // Flood each component without crossing bridges; components are discovered through
        // bridges from the root, so each one's parent is known when it is found.
        let mut queue: std::collections::VecDeque<(u32, u32, u32)> = Default::default();
        queue.push_back((c.root, u32::MAX, u32::MAX));
        let mut stack = Vec::new();
        while let Some((start, par, via)) = queue.pop_front() {
            if comp[start as usize] != u32::MAX {
                continue;
            }
            let id = ncomp;
            ncomp += 1;
            parent.push(par);
            parent_link.push(via);
            depth.push(if par == u32::MAX {
                0
            } else {
                depth[par as usize] + 1
            });
            order.push(id);
            comp[start as usize] = id;
            stack.push(start);
            while let Some(v) = stack.pop() {
                for &(w, l) in c.neighbours(v) {
                    if disc[w as usize] == 0 {
                        continue;
                    }
                    if is_bridge[l as usize] {
                        if comp[w as usize] == u32::MAX {
                            queue.push_back((w, id, l));
                        }
                    } else if comp[w as usize] == u32::MAX {
                        comp[w as usize] = id;
                        stack.push(w);
                    }
                }
            }
        }
        BridgeTree {
            comp,
            parent,
            parent_link,
            depth,
            order,
        }
    }

    fn lca(&self, mut a: u32, mut b: u32) -> u32 {
        while self.depth[a as usize] > self.depth[b as usize] {
            a = self.parent[a as usize];
        }
        while self.depth[b as usize] > self.depth[a as usize] {
            b = self.parent[b as usize];
        }
        while a != b {
            a = self.parent[a as usize];
            b = self.parent[b as usize];
        }
        a
    }
}

/// Where one settlement or premise stands before any failure.
#[derive(Debug, Clone, Copy)]
enum Anchor {
    Unreachable,
    /// The lowest component of the bridge tree that all its reachable junctions lie in or
    /// below, and (for a premise) its own link when that link is a bridge.
    At(u32, Option<u32>),
}

/// Analyses `g` for `demand`.
pub fn analyze(g: &FibreGraph, demand: &Demand) -> Resilience {
    let c = Contracted::new(g);
    let (is_bridge, disc) = bridges(&c);
    let tree = BridgeTree::new(&c, &is_bridge, &disc);
    let reach = |v: u32| disc[v as usize] != 0;
    let ns = demand.settlement_sources.len();
    let np = demand.premise_link.len();

    // Anchors.
    let settlement_anchor: Vec<Anchor> = demand
        .settlement_sources
        .iter()
        .map(|src| {
            let mut at: Option<u32> = None;
            for &j in src {
                let v = c.node[j as usize];
                if reach(v) {
                    let k = tree.comp[v as usize];
                    at = Some(at.map_or(k, |a| tree.lca(a, k)));
                }
            }
            at.map_or(Anchor::Unreachable, |a| Anchor::At(a, None))
        })
        .collect();
    let premise_anchor: Vec<Anchor> = demand
        .premise_link
        .iter()
        .map(|l| match l {
            Some(l) => {
                let (a, b) = c.ends[*l as usize];
                if reach(a) && reach(b) {
                    let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
                    let own = is_bridge[*l as usize].then_some(*l);
                    Anchor::At(tree.lca(ka, kb), own)
                } else {
                    Anchor::Unreachable
                }
            }
            None => Anchor::Unreachable,
        })
        .collect();

    // Single-link groups: bridges, by subtree sums over the bridge tree.
    let ncomp = tree.parent.len();
    let mut sub_prem = vec![0u64; ncomp];
    let mut sub_hh = vec![0u64; ncomp];
    let nl = g.links.len();
    let mut own_prem = vec![0u64; nl];
    let mut own_hh = vec![0u64; nl];
    for (i, a) in premise_anchor.iter().enumerate() {
        if let Anchor::At(k, own) = *a {
            let hh = u64::from(demand.premise_households.get(i).copied().unwrap_or(0));
            sub_prem[k as usize] += 1;
            sub_hh[k as usize] += hh;
            if let Some(l) = own {
                own_prem[l as usize] += 1;
                own_hh[l as usize] += hh;
            }
        }
    }
    for &k in tree.order.iter().rev() {
        let p = tree.parent[k as usize];
        if p != u32::MAX {
            sub_prem[p as usize] += sub_prem[k as usize];
            sub_hh[p as usize] += sub_hh[k as usize];
        }
    }
    let mut cut_settlements: Vec<Vec<u32>> = vec![Vec::new(); nl];
    for (s, a) in settlement_anchor.iter().enumerate() {
        if let Anchor::At(mut k, _) = *a {
            while tree.parent[k as usize] != u32::MAX {
                cut_settlements[tree.parent_link[k as usize] as usize].push(s as u32);
                k = tree.parent[k as usize];
            }
        }
    }
    let mut settlement_single = vec![false; ns];
    let mut premise_single = vec![false; np];
    for (s, a) in settlement_anchor.iter().enumerate() {
        if let Anchor::At(k, _) = *a {
            settlement_single[s] = tree.parent[k as usize] != u32::MAX;
        }
    }
    for (i, a) in premise_anchor.iter().enumerate() {
        if let Anchor::At(k, own) = *a {
            premise_single[i] = tree.parent[k as usize] != u32::MAX || own.is_some();
        }
    }
    let mut critical: Vec<CriticalUnit> = Vec::new();
    for (gi, links) in g.groups.iter().enumerate() {
        if links.len() != 1 {
            continue;
        }
        let l = links[0] as usize;
        if !is_bridge[l] {
            continue;
        }
        // The bridge's child component.
        let (a, b) = c.ends[l];
        let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
        let child = if tree.parent[ka as usize] == kb && tree.parent_link[ka as usize] == l as u32 {
            ka
        } else {
            kb
        };
        let unit = CriticalUnit {
            group: gi as u32,
            settlements: std::mem::take(&mut cut_settlements[l]),
            premises: sub_prem[child as usize] + own_prem[l],
            households: sub_hh[child as usize] + own_hh[l],
        };
        if unit.premises > 0 || !unit.settlements.is_empty() {
            critical.push(unit);
        }
    }

    // Groups of several links: one search each, without the group.
    let mut prem_by_link_start = vec![0u32; nl + 1];
    for l in demand.premise_link.iter().flatten() {
        prem_by_link_start[*l as usize + 1] += 1;
    }
    for i in 0..nl {
        prem_by_link_start[i + 1] += prem_by_link_start[i];
    }
    let multi: Vec<u32> = (0..g.groups.len() as u32)
        .filter(|&gi| g.groups[gi as usize].len() > 1)
        .collect();
    let base_reach: Vec<bool> = (0..c.n).map(|v| disc[v] != 0).collect();
    let group_results: Vec<(u32, CriticalUnit, Vec<u32>, Vec<u32>)> = multi
        .par_iter()
        .map(|&gi| {
            let mut removed = vec![false; nl];
            for &l in &g.groups[gi as usize] {
                removed[l as usize] = true;
            }
            let after = c.reachable(&removed);
            let cut = |v: u32| base_reach[v as usize] && !after[v as usize];
            let mut settlements = Vec::new();
            for (s, src) in demand.settlement_sources.iter().enumerate() {
                let mut any_reach = false;
                let mut all_cut = true;
                for &j in src {
                    let v = c.node[j as usize];
                    if base_reach[v as usize] {
                        any_reach = true;
                        if !cut(v) {
                            all_cut = false;
                            break;
                        }
                    }
                }
                if any_reach && all_cut {
                    settlements.push(s as u32);
                }
            }
            let (mut prem, mut hh) = (0u64, 0u64);
            let mut cut_premises = Vec::new();
            for (i, l) in demand.premise_link.iter().enumerate() {
                let Some(l) = l else { continue };
                let (a, b) = c.ends[*l as usize];
                if !(base_reach[a as usize] && base_reach[b as usize]) {
                    continue;
                }
                let lost = if removed[*l as usize] {
                    cut(a) || cut(b)
                } else {
                    cut(a) && cut(b)
                };
                if lost {
                    prem += 1;
                    hh += u64::from(demand.premise_households.get(i).copied().unwrap_or(0));
                    cut_premises.push(i as u32);
                }
            }
            (
                gi,
                CriticalUnit {
                    group: gi,
                    settlements: settlements.clone(),
                    premises: prem,
                    households: hh,
                },
                settlements,
                cut_premises,
            )
        })
        .collect();
    for (_, unit, settlements, premises) in group_results {
        for s in settlements {
            settlement_single[s as usize] = true;
        }
        for p in premises {
            premise_single[p as usize] = true;
        }
        if unit.premises > 0 || !unit.settlements.is_empty() {
            critical.push(unit);
        }
    }
    critical.sort_by(|a, b| {
        b.premises
            .cmp(&a.premises)
            .then(b.households.cmp(&a.households))
            .then(b.settlements.len().cmp(&a.settlements.len()))
            .then(a.group.cmp(&b.group))
    });

    let settlement_class: Vec<RedundancyClass> = (0..ns)
        .map(|s| match settlement_anchor[s] {
            Anchor::Unreachable => RedundancyClass::None,
            _ if settlement_single[s] => RedundancyClass::Single,
            _ => RedundancyClass::Redundant,
        })
        .collect();
    let premise_class: Vec<Option<RedundancyClass>> = (0..np)
        .map(|i| {
            demand.premise_link[i].map(|_| match premise_anchor[i] {
                Anchor::Unreachable => RedundancyClass::None,
                _ if premise_single[i] => RedundancyClass::Single,
                _ => RedundancyClass::Redundant,
            })
        })
        .collect();

    // Paths, per settlement, in parallel.
    let edge_net = FlowNet::edge_disjoint(g, &c);
    let node_net = FlowNet::node_disjoint(&c);
    let paths: Vec<(u32, u32)> = (0..ns)
        .into_par_iter()
        .map_init(
            || (FlowState::new(&edge_net), FlowState::new(&node_net)),
            |(es, nsf), s| {
                let class = settlement_class[s];
                if class == RedundancyClass::None {
                    return (0, 0);
                }
                let src: Vec<u32> = demand.settlement_sources[s]
                    .iter()
                    .map(|&j| c.node[j as usize])
                    .collect();
                if src.contains(&c.root) {
                    return (MAX_PATHS, MAX_PATHS);
                }
                let e = es.max_flow(&edge_net, &src, MAX_PATHS);
                let n = nsf.max_flow(&node_net, &src, MAX_PATHS);
                match class {
                    RedundancyClass::Single => (1, n),
                    _ => (e.max(2), n),
                }
            },
        )
        .collect();
    Resilience {
        settlement_paths: paths.iter().map(|p| p.0).collect(),
        settlement_node_paths: paths.iter().map(|p| p.1).collect(),
        settlement_class,
        premise_class,
        critical,
    }
}

/// A unit-capacity flow network in CSR form. Arcs come in pairs (`k`, `k ^ 1`), each the
/// other's reverse; an undirected edge is a pair with capacity 1 each way.
struct FlowNet {
    n: usize,
    sink: u32,
    /// Node where a settlement's junction `v` (contracted) enters.
    entry: Vec<u32>,
    head: Vec<u32>,
    cap: Vec<u8>,
    start: Vec<u32>,
    /// Arc ids by tail, CSR.
    arcs: Vec<u32>,
}

const INF_CAP: u8 = u8::MAX;

impl FlowNet {
    fn from_arcs(n: usize, sink: u32, entry: Vec<u32>, list: Vec<(u32, u32, u8, u8)>) -> FlowNet {
        let mut head = Vec::with_capacity(list.len() * 2);
        let mut cap = Vec::with_capacity(list.len() * 2);
        let mut tail = Vec::with_capacity(list.len() * 2);
        for (u, v, c_uv, c_vu) in list {
            head.push(v);
            cap.push(c_uv);
            tail.push(u);
            head.push(u);
            cap.push(c_vu);
            tail.push(v);
        }
        let mut start = vec![0u32; n + 1];
        for &t in &tail {
            start[t as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut arcs = vec![0u32; tail.len()];
        for (k, &t) in tail.iter().enumerate() {
            arcs[fill[t as usize] as usize] = k as u32;
            fill[t as usize] += 1;
        }
        FlowNet {
            n,
            sink,
            entry,
            head,
            cap,
            start,
            arcs,
        }
    }

    /// Links as undirected unit edges; a group of several links as a gadget: each of its
    /// links' ends joins the group's `in` node and leaves from its `out` node, with one unit
    /// from `in` to `out`.
    fn edge_disjoint(g: &FibreGraph, c: &Contracted) -> FlowNet {
        let mut n = c.n;
        let mut list = Vec::new();
        let mut gadget = vec![u32::MAX; g.groups.len()];
        for (l, &(a, b)) in c.ends.iter().enumerate() {
            if a == b {
                continue;
            }
            let gi = g.link_group[l] as usize;
            if g.groups[gi].len() == 1 {
                list.push((a, b, 1, 1));
            } else {
                if gadget[gi] == u32::MAX {
                    gadget[gi] = n as u32;
                    n += 2;
                    list.push((gadget[gi], gadget[gi] + 1, 1, 0));
                }
                let (gin, gout) = (gadget[gi], gadget[gi] + 1);
                for v in [a, b] {
                    list.push((v, gin, INF_CAP, 0));
                    list.push((gout, v, INF_CAP, 0));
                }
            }
        }
        FlowNet::from_arcs(n, c.root, (0..c.n as u32).collect(), list)
    }

    /// Node `v` split into `v` (in) and `c.n + v` (out) with one unit between; links join outs
    /// to ins. The root is not split.
    fn node_disjoint(c: &Contracted) -> FlowNet {
        let n = 2 * c.n;
        let out = |v: u32| if v == c.root { v } else { c.n as u32 + v };
        let mut list = Vec::new();
        for v in 0..c.n as u32 {
            if v != c.root {
                list.push((v, out(v), 1, 0));
            }
        }
        for &(a, b) in &c.ends {
            if a == b {
                continue;
            }
            list.push((out(a), b, 1, 0));
            list.push((out(b), a, 1, 0));
        }
        FlowNet::from_arcs(n, c.root, (0..c.n as u32).collect(), list)
    }
}

/// Per-thread flow on a [`FlowNet`]: only touched arcs are reset between settlements.
struct FlowState {
    flow: Vec<i8>,
    touched: Vec<u32>,
    pred: Vec<u32>,
    seen: Vec<u32>,
    stamp: u32,
    queue: Vec<u32>,
}

impl FlowState {
    fn new(net: &FlowNet) -> FlowState {
        FlowState {
            flow: vec![0; net.head.len()],
            touched: Vec::new(),
            pred: vec![u32::MAX; net.n],
            seen: vec![0; net.n],
            stamp: 0,
            queue: Vec::new(),
        }
    }

    #[inline]
    fn residual(net: &FlowNet, flow: &[i8], k: usize) -> bool {
        let cap = net.cap[k];
        cap == INF_CAP || (flow[k] as i16) < cap as i16
    }

    /// Unit augmenting paths (breadth first) from the `sources` to the sink, up to `cap`.
    fn max_flow(&mut self, net: &FlowNet, sources: &[u32], cap: u32) -> u32 {
        for &k in &self.touched {
            self.flow[k as usize] = 0;
            self.flow[k as usize ^ 1] = 0;
        }
        self.touched.clear();
        let mut total = 0;
        while total < cap {
            self.stamp += 1;
            let stamp = self.stamp;
            self.queue.clear();
            for &s in sources {
                let v = net.entry[s as usize];
                if self.seen[v as usize] != stamp {
                    self.seen[v as usize] = stamp;
                    self.pred[v as usize] = u32::MAX;
                    self.queue.push(v);
                }
            }
            let mut found = false;
            let mut qi = 0;
            while qi < self.queue.len() && !found {
                let v = self.queue[qi];
                qi += 1;
                for &k in
                    &net.arcs[net.start[v as usize] as usize..net.start[v as usize + 1] as usize]
                {
                    let w = net.head[k as usize];
                    if self.seen[w as usize] == stamp
                        || !Self::residual(net, &self.flow, k as usize)
                    {
                        continue;
                    }
                    self.seen[w as usize] = stamp;
                    self.pred[w as usize] = k;
                    if w == net.sink {
                        found = true;
                        break;
                    }
                    self.queue.push(w);
                }
            }
            if !found {
                break;
            }
            let mut v = net.sink;
            while self.pred[v as usize] != u32::MAX {
                let k = self.pred[v as usize] as usize;
                self.flow[k] += 1;
                self.flow[k ^ 1] -= 1;
                self.touched.push(k as u32);
                // The tail of arc k is the head of its reverse.
                v = net.head[k ^ 1];
            }
            total += 1;
        }
        total
    }
}
