//! Redundancy and resilience of the fibre network: disjoint paths from each settlement to the
//! backbone, and what each single failure (a link, or a shared-risk group) cuts off.
//!
//! All backbone junctions are one node, *the backbone*. A settlement's fibre is a set of
//! junctions (those inside it; for a settlement with none, the ends of the links its premises
//! hang on); a premise hangs on one link (the nearest within the drop distance).
//!
//! - **Reachable**: some path joins the settlement's fibre (the premise's link) to the backbone.
//! - **A failure** of a risk group removes all its links. A settlement loses every path when
//!   none of its junctions reaches the backbone any more. A premise on link `L = (a, b)` loses
//!   it when neither `a` nor `b` reaches the backbone; if `L` itself fails, the cut may be
//!   anywhere along it, so the premise keeps service only if *both* `a` and `b` still reach it.
//! - **Critical units**: single-link groups are cut by bridges (Tarjan, one pass, linear time);
//!   their impact comes from the bridge tree (2-edge-connected components joined by bridges)
//!   by subtree sums. A group of several links is checked by searching only the
//!   2-edge-connected components it removes two or more links from (see [`LocalCuts`]).
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

use crate::network::{csr, FibreGraph};

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
    /// The class of an area from its fibre premises' classes: `redundant` when at least
    /// `redundant_share` of them (0–1) have two paths no single failure cuts, else `single`
    /// when any has a path, else `none` (also for an area without fibre premises).
    pub fn of_premises(single: u64, redundant: u64, none: u64, redundant_share: f64) -> Self {
        let total = single + redundant + none;
        if total > 0 && redundant as f64 >= redundant_share * total as f64 {
            RedundancyClass::Redundant
        } else if single + redundant > 0 {
            RedundancyClass::Single
        } else {
            RedundancyClass::None
        }
    }

    /// The class as the tables write it: `none`, `single` or `redundant`.
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
    /// The settlement of each premise (empty: settlements affected and cut are not counted).
    pub premise_settlement: Vec<Option<u32>>,
    /// A bridge joins the corridor above it when it cuts at least this share (0–1) of what
    /// the corridor's first unit cuts (see [`Corridor`]).
    pub corridor_share: f64,
}

/// What one risk group's failure cuts off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriticalUnit {
    /// The risk group (unit) that fails.
    pub group: u32,
    /// Settlements whose core junctions lose every path, ascending.
    pub settlements: Vec<u32>,
    /// Settlements all of whose connected fibre premises it cuts off, ascending.
    pub settlements_cut: Vec<u32>,
    /// Settlements with at least one premise it cuts off.
    pub settlements_affected: u64,
    /// Premises it cuts off.
    pub premises: u64,
    /// Households it cuts off.
    pub households: u64,
}

/// What the analysis finds, per settlement, per premise and per failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Resilience {
    /// Per settlement: paths to the backbone that share no risk unit (at most 4).
    pub settlement_paths: Vec<u32>,
    /// Per settlement: paths that share no link and no junction (at most 4).
    pub settlement_node_paths: Vec<u32>,
    /// Per settlement: its redundancy class.
    pub settlement_class: Vec<RedundancyClass>,
    /// `None` for premises on no link.
    pub premise_class: Vec<Option<RedundancyClass>>,
    /// Groups whose failure cuts off at least one premise or settlement, ranked by premises,
    /// then households, then settlements cut, then group id.
    pub critical: Vec<CriticalUnit>,
    /// The critical units in corridors, ranked as their first unit.
    pub corridors: Vec<Corridor>,
}

/// A corridor: critical units in series, cut anywhere with nearly the same effect: bridges
/// down one path of the bridge tree, each into the branch its upper neighbour cuts the most
/// of, each cutting at least [`Demand::corridor_share`] of what the first cuts. Side
/// branches start corridors of their own, and every unit of several links is one. A trunk
/// cut into many links, losing a few premises to side streets at each, is one corridor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Corridor {
    /// Indices into [`Resilience::critical`], from the backbone side outwards: the first cuts
    /// the most, the last the least.
    pub units: Vec<u32>,
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
        let (adj_start, adj) = crate::network::adjacency(n, ends.iter().copied());
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

    fn has_backbone(&self) -> bool {
        self.has_backbone
    }
}

/// Bridges by Tarjan's lowpoint, iteratively, over the part reachable from the root; also the
/// DFS discovery order (0 = unvisited).
///
/// Links with equal `edge_key` join the same two nodes and fail together: they count as one
/// edge (entering a node by one of them, the others do not lead back), and are bridges
/// together.
fn bridges(c: &Contracted, edge_key: &[u32]) -> (Vec<bool>, Vec<u32>) {
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
            if via != u32::MAX && edge_key[l as usize] == edge_key[via as usize] {
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
    // Every link of a bridge's key is a bridge.
    let mut key_bridge = vec![false; edge_key.iter().map(|&k| k as usize + 1).max().unwrap_or(0)];
    for l in 0..nl {
        if is_bridge[l] {
            key_bridge[edge_key[l] as usize] = true;
        }
    }
    for l in 0..nl {
        is_bridge[l] = key_bridge[edge_key[l] as usize];
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
    /// Euler tour entry time of each component, and the last entry time in its subtree
    /// ([`tour`]).
    tin: Vec<u32>,
    tout: Vec<u32>,
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
                tin: Vec::new(),
                tout: Vec::new(),
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
        let mut tree = BridgeTree {
            comp,
            parent,
            parent_link,
            depth,
            order,
            tin: Vec::new(),
            tout: Vec::new(),
        };
        (tree.tin, tree.tout) = tour(&tree);
        tree
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

/// The Euler tour of the bridge tree: each component's entry time, and the last entry time
/// in its subtree (a subtree is the entry times `tin[k]..=tout[k]`). Children are visited in
/// the order the tree found them.
fn tour(tree: &BridgeTree) -> (Vec<u32>, Vec<u32>) {
    let nc = tree.parent.len();
    let (child_start, children) = csr(
        nc,
        (0..nc)
            .filter(|&k| tree.parent[k] != u32::MAX)
            .map(|k| (tree.parent[k] as usize, k as u32)),
    );
    let (mut tin, mut tout) = (vec![0u32; nc], vec![0u32; nc]);
    if nc > 0 {
        let mut t = 0u32;
        let mut stack: Vec<(u32, u32)> = vec![(0, child_start[0])];
        while let Some(&mut (k, ref mut pos)) = stack.last_mut() {
            if *pos < child_start[k as usize + 1] {
                let ch = children[*pos as usize];
                *pos += 1;
                t += 1;
                tin[ch as usize] = t;
                stack.push((ch, child_start[ch as usize]));
            } else {
                tout[k as usize] = t;
                stack.pop();
            }
        }
    }
    (tin, tout)
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
    // Groups whose links all join the same two nodes (cables side by side between two
    // junctions) are one edge for the bridge search; other groups of several links are
    // searched locally below.
    let nl = g.links.len();
    let same_pair: Vec<bool> = g
        .groups
        .iter()
        .map(|links| {
            let key = |l: u32| {
                let (a, b) = c.ends[l as usize];
                (a.min(b), a.max(b))
            };
            let k0 = key(links[0]);
            links.len() == 1 || (k0.0 != k0.1 && links.iter().all(|&l| key(l) == k0))
        })
        .collect();
    let edge_key: Vec<u32> = (0..nl)
        .map(|l| {
            let gi = g.link_group[l] as usize;
            if g.groups[gi].len() > 1 && same_pair[gi] {
                (nl + gi) as u32
            } else {
                l as u32
            }
        })
        .collect();
    let (is_bridge, disc) = bridges(&c, &edge_key);
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
    // A premise stands where its link does: each link's anchor once, then one look-up per
    // premise.
    let link_anchor: Vec<Anchor> = (0..nl)
        .into_par_iter()
        .with_min_len(4096)
        .map(|l| {
            let (a, b) = c.ends[l];
            if reach(a) && reach(b) {
                let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
                let own = is_bridge[l].then_some(l as u32);
                Anchor::At(tree.lca(ka, kb), own)
            } else {
                Anchor::Unreachable
            }
        })
        .collect();
    // Premises and households per link: one pass over the premises, folded per thread.
    let (link_prem, link_hh) = premises_per_link(demand, nl);

    // Single-link groups: bridges, by subtree sums over the bridge tree.
    let ncomp = tree.parent.len();
    let mut sub_prem = vec![0u64; ncomp];
    let mut sub_hh = vec![0u64; ncomp];
    for (l, a) in link_anchor.iter().enumerate() {
        if let Anchor::At(k, _) = *a {
            sub_prem[k as usize] += u64::from(link_prem[l]);
            sub_hh[k as usize] += link_hh[l];
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
    // A premise is single when its link is: anchored below a bridge, on a bridge, or (below)
    // cut off by a group of several links.
    let mut link_single = vec![false; nl];
    for (s, a) in settlement_anchor.iter().enumerate() {
        if let Anchor::At(k, _) = *a {
            settlement_single[s] = tree.parent[k as usize] != u32::MAX;
        }
    }
    for (l, a) in link_anchor.iter().enumerate() {
        if let Anchor::At(k, own) = *a {
            link_single[l] = tree.parent[k as usize] != u32::MAX || own.is_some();
        }
    }
    // Settlements by their premises: per bridge, those with at least one premise in the
    // child's subtree (distinct settlements per subtree: +1 at each settlement's anchors, −1
    // at the meeting point of anchors next to each other in tour order), and those with all
    // of their connected premises there (the bridges above the meeting point of all of them).
    // A premise on a bridge is cut by that bridge and those above it: it counts at the
    // bridge's child.
    let tin = &tree.tin;
    let settlement_of = |i: usize| demand.premise_settlement.get(i).copied().flatten();
    let child_of = |l: u32| {
        let (a, b) = c.ends[l as usize];
        let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
        if tree.parent[ka as usize] == kb {
            ka
        } else {
            kb
        }
    };
    // Each link's place for this count (its own child component when it is a bridge), then
    // per settlement the distinct places of its premises' links in tour order: the links of
    // each settlement's premises gathered by a counting sort, the places deduplicated with
    // stamps, per settlement in parallel.
    let link_place: Vec<u32> = link_anchor
        .iter()
        .map(|a| match *a {
            Anchor::At(k, own) => own.map_or(k, child_of),
            Anchor::Unreachable => u32::MAX,
        })
        .collect();
    // Premises may name settlements beyond those with fibre sources.
    let ns_premises = demand
        .premise_settlement
        .iter()
        .flatten()
        .map(|&s| s as usize + 1)
        .max()
        .unwrap_or(0)
        .max(ns);
    let (links_start, links_of) = crate::network::csr(
        ns_premises,
        demand
            .premise_link
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match (l, settlement_of(i)) {
                (Some(l), Some(s)) if link_place[*l as usize] != u32::MAX => Some((s as usize, *l)),
                _ => None,
            }),
    );
    let places: Vec<Vec<u32>> = (0..ns_premises)
        .into_par_iter()
        .map_init(
            || vec![u32::MAX; ncomp],
            |seen, s| {
                let mut out: Vec<u32> = Vec::new();
                for &l in &links_of[links_start[s] as usize..links_start[s + 1] as usize] {
                    let e = link_place[l as usize];
                    if seen[e as usize] != s as u32 {
                        seen[e as usize] = s as u32;
                        out.push(e);
                    }
                }
                out.sort_unstable_by_key(|&e| tin[e as usize]);
                out
            },
        )
        .collect();
    let mut weight = vec![0i64; ncomp];
    let mut cut_by_premises: Vec<Vec<u32>> = vec![Vec::new(); nl];
    for (s, run) in places.iter().enumerate().filter(|(_, r)| !r.is_empty()) {
        let mut meet = run[0];
        for (j, &e) in run.iter().enumerate() {
            weight[e as usize] += 1;
            if j > 0 {
                weight[tree.lca(run[j - 1], e) as usize] -= 1;
            }
            meet = tree.lca(meet, e);
        }
        let s = s as u32;
        let mut k = meet;
        while tree.parent[k as usize] != u32::MAX {
            cut_by_premises[tree.parent_link[k as usize] as usize].push(s);
            k = tree.parent[k as usize];
        }
    }
    for &k in tree.order.iter().rev() {
        let p = tree.parent[k as usize];
        if p != u32::MAX {
            weight[p as usize] += weight[k as usize];
        }
    }
    // Connected premises per settlement, for groups of several links: those on an anchored
    // link, as gathered above.
    let connected: Vec<u64> = (0..ns)
        .map(|s| {
            links_start
                .get(s + 1)
                .map_or(0, |&e| u64::from(e - links_start[s]))
        })
        .collect();
    let mut critical: Vec<CriticalUnit> = Vec::new();
    // The bridge tree component below each bridge unit.
    let mut group_child = vec![u32::MAX; g.groups.len()];
    for (gi, links) in g.groups.iter().enumerate() {
        if !same_pair[gi] {
            continue;
        }
        let l = links[0] as usize;
        if !is_bridge[l] {
            continue;
        }
        // The bridge's child component (one bridge joins two components, whichever of the
        // group's links the search took).
        let (a, b) = c.ends[l];
        let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
        let child = if tree.parent[ka as usize] == kb {
            ka
        } else {
            kb
        };
        let taken = tree.parent_link[child as usize] as usize;
        // The premises on the group's own links (bridges), which its child's subtree lacks.
        let own: (u64, u64) = links
            .iter()
            .filter(|&&x| matches!(link_anchor[x as usize], Anchor::At(_, Some(_))))
            .map(|&x| (u64::from(link_prem[x as usize]), link_hh[x as usize]))
            .fold((0, 0), |acc, v| (acc.0 + v.0, acc.1 + v.1));
        let mut settlements_cut = std::mem::take(&mut cut_by_premises[taken]);
        settlements_cut.sort_unstable();
        let unit = CriticalUnit {
            group: gi as u32,
            settlements: std::mem::take(&mut cut_settlements[taken]),
            settlements_cut,
            settlements_affected: weight[child as usize].max(0) as u64,
            premises: sub_prem[child as usize] + own.0,
            households: sub_hh[child as usize] + own.1,
        };
        if unit.premises > 0 || !unit.settlements.is_empty() {
            group_child[gi] = child;
            critical.push(unit);
        }
    }

    // Groups of several links, each with a search of the parts it can cut, only.
    let local = LocalCuts::new(
        &c,
        &tree,
        &is_bridge,
        PerLink {
            anchor: &link_anchor,
            households: &link_hh,
        },
        &settlement_anchor,
        demand,
        &connected,
    );
    let multi: Vec<u32> = (0..g.groups.len() as u32)
        .filter(|&gi| !same_pair[gi as usize])
        .collect();
    // A few jobs per thread, each with its own scratch (one array per node and per link).
    let per_job = multi
        .len()
        .div_ceil(4 * rayon::current_num_threads())
        .max(1);
    let group_results: Vec<GroupCut> = multi
        .par_iter()
        .with_min_len(per_job)
        .map_init(
            || Scratch::new(c.n, nl),
            |scratch, &gi| local.cut(&g.groups[gi as usize], gi, scratch),
        )
        .collect();
    for r in group_results {
        for &s in &r.unit.settlements {
            settlement_single[s as usize] = true;
        }
        for &l in &r.links {
            link_single[l as usize] = true;
        }
        if r.unit.premises > 0 || !r.unit.settlements.is_empty() {
            critical.push(r.unit);
        }
    }
    critical.sort_by(|a, b| {
        b.premises
            .cmp(&a.premises)
            .then(b.households.cmp(&a.households))
            .then(b.settlements.len().cmp(&a.settlements.len()))
            .then(a.group.cmp(&b.group))
    });
    let corridors = corridors(&critical, &group_child, &tree, demand.corridor_share);

    let settlement_class: Vec<RedundancyClass> = (0..ns)
        .map(|s| match settlement_anchor[s] {
            Anchor::Unreachable => RedundancyClass::None,
            _ if settlement_single[s] => RedundancyClass::Single,
            _ => RedundancyClass::Redundant,
        })
        .collect();
    let premise_class: Vec<Option<RedundancyClass>> = (0..np)
        .into_par_iter()
        .with_min_len(1 << 14)
        .map(|i| {
            demand.premise_link[i].map(|l| match link_anchor[l as usize] {
                Anchor::Unreachable => RedundancyClass::None,
                _ if link_single[l as usize] => RedundancyClass::Single,
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
        corridors,
    }
}

/// The critical units in corridors (see [`Corridor`]), in the order of their first units.
/// Top down the bridge tree, a bridge continues the corridor of the bridge above it when it
/// leads to the branch that the upper one cuts the most of (its heaviest critical child) and
/// still cuts at least `share` of what the corridor's first unit cuts.
fn corridors(
    critical: &[CriticalUnit],
    group_child: &[u32],
    tree: &BridgeTree,
    share: f64,
) -> Vec<Corridor> {
    let nc = tree.parent.len();
    // The critical bridge above each component.
    let mut unit_at = vec![u32::MAX; nc];
    for (i, u) in critical.iter().enumerate() {
        let k = group_child[u.group as usize];
        if k != u32::MAX {
            unit_at[k as usize] = i as u32;
        }
    }
    // Each component's heaviest critical child (most premises, then the better ranked).
    let mut heaviest = vec![u32::MAX; nc];
    for k in 0..nc {
        let (p, u) = (tree.parent[k], unit_at[k]);
        if u == u32::MAX || p == u32::MAX {
            continue;
        }
        let h = &mut heaviest[p as usize];
        if *h == u32::MAX || u < unit_at[*h as usize] {
            *h = k as u32;
        }
    }
    // Corridor of each component's bridge, top down; corridors as (head, units).
    let mut corridor_of = vec![u32::MAX; nc];
    let mut found: Vec<Vec<u32>> = Vec::new();
    for &k in &tree.order {
        let u = unit_at[k as usize];
        if u == u32::MAX {
            continue;
        }
        let p = tree.parent[k as usize];
        let joins =
            p != u32::MAX && unit_at[p as usize] != u32::MAX && heaviest[p as usize] == k && {
                let c = corridor_of[p as usize];
                let head = &critical[found[c as usize][0] as usize];
                critical[u as usize].premises as f64 >= share * head.premises as f64
            };
        if joins {
            let c = corridor_of[p as usize];
            corridor_of[k as usize] = c;
            found[c as usize].push(u);
        } else {
            corridor_of[k as usize] = found.len() as u32;
            found.push(vec![u]);
        }
    }
    // Units of several links are corridors of their own; all in the order of their first unit.
    found.extend(
        (0..critical.len() as u32)
            .filter(|&i| group_child[critical[i as usize].group as usize] == u32::MAX)
            .map(|i| vec![i]),
    );
    found.sort_by_key(|units| units[0]);
    found.into_iter().map(|units| Corridor { units }).collect()
}

/// What one group of several links cuts off.
struct GroupCut {
    unit: CriticalUnit,
    /// The links whose premises it cuts one by one (outside whole subtrees).
    links: Vec<u32>,
}

/// What the local cuts need of each link: where its premises stand, and their households.
struct PerLink<'a> {
    anchor: &'a [Anchor],
    households: &'a [u64],
}

/// Premises and households on each of `nl` links, by a fold over the premises on the pool.
fn premises_per_link(demand: &Demand, nl: usize) -> (Vec<u32>, Vec<u64>) {
    let chunk =
        (demand.premise_link.len() / (4 * rayon::current_num_threads()).max(1)).max(1 << 16);
    demand
        .premise_link
        .par_chunks(chunk)
        .enumerate()
        .map(|(c, links)| {
            let (mut n, mut hh) = (vec![0u32; nl], vec![0u64; nl]);
            for (k, l) in links.iter().enumerate() {
                if let Some(l) = l {
                    n[*l as usize] += 1;
                    hh[*l as usize] += u64::from(
                        demand
                            .premise_households
                            .get(c * chunk + k)
                            .copied()
                            .unwrap_or(0),
                    );
                }
            }
            (n, hh)
        })
        .reduce(
            || (vec![0u32; nl], vec![0u64; nl]),
            |(mut n, mut hh), (n2, hh2)| {
                n.iter_mut().zip(&n2).for_each(|(a, b)| *a += b);
                hh.iter_mut().zip(&hh2).for_each(|(a, b)| *a += b);
                (n, hh)
            },
        )
}

/// Per-thread scratch of [`LocalCuts::cut`].
struct Scratch {
    stamp: u32,
    /// Nodes reached from their component's anchor (this stamp).
    reached: Vec<u32>,
    removed: Vec<u32>,
    stack: Vec<u32>,
}

impl Scratch {
    fn new(n: usize, nl: usize) -> Scratch {
        Scratch {
            stamp: 0,
            reached: vec![0; n],
            removed: vec![0; nl],
            stack: Vec::new(),
        }
    }
}

/// The bridge tree with what hangs where, for the failure of a group of several links.
///
/// Removing links only cuts (1) the subtrees below bridges among them, and (2) within a
/// 2-edge-connected component that loses two or more of them, the nodes no longer reached from
/// the component's anchor (where its parent bridge, or the backbone, is), with every subtree
/// hanging below those nodes. So a group costs a search of the components it touches twice,
/// plus binary searches over the bridge tree's Euler tour: never a search of the whole graph.
struct LocalCuts<'a> {
    c: &'a Contracted,
    tree: &'a BridgeTree,
    is_bridge: &'a [bool],
    demand: &'a Demand,
    /// Anchor node of each component.
    anchor: Vec<u32>,
    /// Child bridges of each component: (child component, endpoint in this component), CSR.
    child_start: Vec<u32>,
    children: Vec<(u32, u32)>,
    /// The components by tour entry time (`comp_tin`, ascending), and per position the first
    /// of its premises in `prem_order` and the households before it: a tour interval's
    /// premises and households are differences of these.
    comp_tin: Vec<u32>,
    comp_first: Vec<u32>,
    comp_hh_prefix: Vec<u64>,
    /// Every anchored premise, by the tour entry time of its component.
    prem_order: Vec<u32>,
    /// Connected premises per settlement.
    connected: &'a [u64],
    /// Links anchored at each component, CSR.
    links_at_start: Vec<u32>,
    links_at: Vec<u32>,
    /// Premises on each link, CSR, and their households.
    prem_on_start: Vec<u32>,
    prem_on: Vec<u32>,
    link_hh: &'a [u64],
    /// Reachable settlements sorted by anchor tour time, and those anchored at each component.
    sett_tin: Vec<u32>,
    sett_order: Vec<u32>,
    sett_at_start: Vec<u32>,
    sett_at: Vec<u32>,
    /// Where each link's premises stand (see [`Anchor`]).
    link_anchor: &'a [Anchor],
}

impl<'a> LocalCuts<'a> {
    fn new(
        c: &'a Contracted,
        tree: &'a BridgeTree,
        is_bridge: &'a [bool],
        per_link: PerLink<'a>,
        settlement_anchor: &[Anchor],
        demand: &'a Demand,
        connected: &'a [u64],
    ) -> LocalCuts<'a> {
        let nc = tree.parent.len();
        // Children and anchors.
        let mut anchor = vec![c.root; nc];
        let mut kids: Vec<(usize, (u32, u32))> = Vec::new();
        for (k, anchor_k) in anchor.iter_mut().enumerate() {
            let p = tree.parent[k];
            if p != u32::MAX {
                let l = tree.parent_link[k] as usize;
                let (a, b) = c.ends[l];
                let (inside, outside) = if tree.comp[a as usize] == k as u32 {
                    (a, b)
                } else {
                    (b, a)
                };
                *anchor_k = inside;
                kids.push((p as usize, (k as u32, outside)));
            }
        }
        let (child_start, children) = csr(nc, kids.into_iter());
        let tin = &tree.tin;
        let at = |a: &Anchor| match a {
            Anchor::At(k, _) => Some(*k),
            Anchor::Unreachable => None,
        };
        // Premises by link, then links by the component they are anchored at, then the
        // components in tour order: every anchored premise by its component's entry time
        // (each component has its own), with prefix sums per component.
        let (prem_on_start, prem_on) = csr(
            c.ends.len(),
            demand
                .premise_link
                .iter()
                .enumerate()
                .filter_map(|(i, l)| l.map(|l| (l as usize, i as u32))),
        );
        let PerLink {
            anchor: link_anchor,
            households: link_hh,
        } = per_link;
        let (links_at_start, links_at) = csr(
            nc,
            link_anchor
                .iter()
                .enumerate()
                .filter_map(|(l, a)| at(a).map(|k| (k as usize, l as u32))),
        );
        let mut by_tin: Vec<u32> = (0..nc as u32).collect();
        by_tin.sort_unstable_by_key(|&k| tin[k as usize]);
        let comp_tin: Vec<u32> = by_tin.iter().map(|&k| tin[k as usize]).collect();
        let mut prem_order: Vec<u32> = Vec::new();
        let mut comp_first: Vec<u32> = Vec::with_capacity(nc + 1);
        let mut comp_hh_prefix: Vec<u64> = Vec::with_capacity(nc + 1);
        let mut hh = 0u64;
        for &k in &by_tin {
            comp_first.push(prem_order.len() as u32);
            comp_hh_prefix.push(hh);
            for &l in &links_at
                [links_at_start[k as usize] as usize..links_at_start[k as usize + 1] as usize]
            {
                prem_order.extend_from_slice(
                    &prem_on[prem_on_start[l as usize] as usize
                        ..prem_on_start[l as usize + 1] as usize],
                );
                hh += link_hh[l as usize];
            }
        }
        comp_first.push(prem_order.len() as u32);
        comp_hh_prefix.push(hh);
        // (entry time, settlement) of every anchored settlement, in that order.
        let mut sett_by_tin: Vec<(u32, u32)> = (0..settlement_anchor.len() as u32)
            .filter_map(|s| at(&settlement_anchor[s as usize]).map(|k| (tin[k as usize], s)))
            .collect();
        sett_by_tin.sort_unstable();
        let sett_order: Vec<u32> = sett_by_tin.iter().map(|&(_, s)| s).collect();
        let sett_tin = sett_by_tin.iter().map(|&(t, _)| t).collect();
        let (sett_at_start, sett_at) = csr(
            nc,
            settlement_anchor
                .iter()
                .enumerate()
                .filter_map(|(s, a)| at(a).map(|k| (k as usize, s as u32))),
        );
        LocalCuts {
            c,
            tree,
            is_bridge,
            demand,
            anchor,
            child_start,
            children,
            comp_tin,
            comp_first,
            comp_hh_prefix,
            prem_order,
            connected,
            links_at_start,
            links_at,
            prem_on_start,
            prem_on,
            link_hh,
            sett_tin,
            sett_order,
            sett_at_start,
            sett_at,
            link_anchor,
        }
    }

    /// Index range of a sorted tour-time list within `[lo, hi]`.
    fn range(v: &[u32], lo: u32, hi: u32) -> std::ops::Range<usize> {
        v.partition_point(|&t| t < lo)..v.partition_point(|&t| t <= hi)
    }

    fn cut(&self, links: &[u32], group: u32, sc: &mut Scratch) -> GroupCut {
        let (c, tree) = (self.c, self.tree);
        sc.stamp += 1;
        let stamp = sc.stamp;
        for &l in links {
            sc.removed[l as usize] = stamp;
        }
        // Components whose whole subtree is cut, and components cut in part.
        let mut full: Vec<u32> = Vec::new();
        let mut touched: Vec<(u32, u32)> = Vec::new(); // (component, removed non-bridge links)
        for &l in links {
            let (a, b) = c.ends[l as usize];
            if a == b || self.tree.tin.is_empty() || tree.comp[a as usize] == u32::MAX {
                continue;
            }
            if self.is_bridge[l as usize] {
                let (ka, kb) = (tree.comp[a as usize], tree.comp[b as usize]);
                full.push(if tree.parent[ka as usize] == kb {
                    ka
                } else {
                    kb
                });
            } else {
                let k = tree.comp[a as usize];
                match touched.iter_mut().find(|t| t.0 == k) {
                    Some(t) => t.1 += 1,
                    None => touched.push((k, 1)),
                }
            }
        }
        let mut partial: Vec<u32> = Vec::new();
        for &(k, count) in &touched {
            if count < 2 {
                continue;
            }
            // Search the component from its anchor without the removed links.
            let start = self.anchor[k as usize];
            sc.reached[start as usize] = stamp;
            sc.stack.clear();
            sc.stack.push(start);
            while let Some(v) = sc.stack.pop() {
                for &(w, l) in c.neighbours(v) {
                    if sc.removed[l as usize] == stamp
                        || self.is_bridge[l as usize]
                        || sc.reached[w as usize] == stamp
                    {
                        continue;
                    }
                    sc.reached[w as usize] = stamp;
                    sc.stack.push(w);
                }
            }
            // Is any node of the component not reached? Its child bridges below cut nodes are
            // cut whole; the component is cut in part.
            let mut any = false;
            for &l in links {
                let (a, b) = c.ends[l as usize];
                if tree.comp[a as usize] == k
                    && !self.is_bridge[l as usize]
                    && (sc.reached[a as usize] != stamp || sc.reached[b as usize] != stamp)
                {
                    any = true;
                }
            }
            if any {
                partial.push(k);
                for &(ch, end) in &self.children[self.child_start[k as usize] as usize
                    ..self.child_start[k as usize + 1] as usize]
                {
                    if sc.reached[end as usize] != stamp {
                        full.push(ch);
                    }
                }
            }
        }
        // Maximal full-cut intervals of the tour.
        let mut iv: Vec<(u32, u32)> = full
            .iter()
            .map(|&k| (self.tree.tin[k as usize], self.tree.tout[k as usize]))
            .collect();
        iv.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for (lo, hi) in iv {
            match merged.last() {
                Some(&(_, h)) if lo <= h => {}
                _ => merged.push((lo, hi)),
            }
        }
        let in_full = |k: u32| {
            let t = self.tree.tin[k as usize];
            let i = merged.partition_point(|&(lo, _)| lo <= t);
            i > 0 && t <= merged[i - 1].1
        };
        let partial_set = |k: u32| partial.contains(&k);
        // A node is cut when its component is cut whole, or it is unreached in a component
        // cut in part.
        let in_x = |v: u32, sc: &Scratch| {
            let k = tree.comp[v as usize];
            k != u32::MAX && (in_full(k) || (partial_set(k) && sc.reached[v as usize] != stamp))
        };

        // Settlements.
        let mut settlements: Vec<u32> = Vec::new();
        for &(lo, hi) in &merged {
            for k in Self::range(&self.sett_tin, lo, hi) {
                settlements.push(self.sett_order[k]);
            }
        }
        for &k in &partial {
            if in_full(k) {
                continue;
            }
            for &s in &self.sett_at[self.sett_at_start[k as usize] as usize
                ..self.sett_at_start[k as usize + 1] as usize]
            {
                let all = self.demand.settlement_sources[s as usize].iter().all(|&j| {
                    let v = c.node[j as usize];
                    tree.comp[v as usize] == u32::MAX || in_x(v, sc)
                });
                if all {
                    settlements.push(s);
                }
            }
        }
        settlements.sort_unstable();
        settlements.dedup();

        // Premises: whole intervals by prefix sums; then those on the removed links and on
        // the links anchored in components cut in part, a link at a time (its premises stand
        // and fall together).
        let (mut prem, mut hh) = (0u64, 0u64);
        let mut interval_premises: Vec<std::ops::Range<usize>> = Vec::new();
        for &(lo, hi) in &merged {
            let r = Self::range(&self.comp_tin, lo, hi);
            let (first, last) = (self.comp_first[r.start], self.comp_first[r.end]);
            prem += u64::from(last - first);
            hh += self.comp_hh_prefix[r.end] - self.comp_hh_prefix[r.start];
            interval_premises.push(first as usize..last as usize);
        }
        let mut candidates: Vec<u32> = links.to_vec();
        for &k in &partial {
            candidates.extend_from_slice(
                &self.links_at[self.links_at_start[k as usize] as usize
                    ..self.links_at_start[k as usize + 1] as usize],
            );
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut listed: Vec<u32> = Vec::new();
        let mut lost_links: Vec<u32> = Vec::new();
        for &l in &candidates {
            let Anchor::At(k, _) = self.link_anchor[l as usize] else {
                continue;
            };
            if in_full(k) {
                continue; // counted with its interval
            }
            let (a, b) = c.ends[l as usize];
            let lost = if sc.removed[l as usize] == stamp {
                in_x(a, sc) || in_x(b, sc)
            } else {
                in_x(a, sc) && in_x(b, sc)
            };
            if lost {
                let on = &self.prem_on[self.prem_on_start[l as usize] as usize
                    ..self.prem_on_start[l as usize + 1] as usize];
                prem += on.len() as u64;
                hh += self.link_hh[l as usize];
                listed.extend_from_slice(on);
                lost_links.push(l);
            }
        }
        // Settlements by their premises: every premise cut, by settlement.
        let mut cut_of: Vec<u32> = interval_premises
            .iter()
            .flat_map(|r| &self.prem_order[r.clone()])
            .chain(&listed)
            .filter_map(|&i| {
                self.demand
                    .premise_settlement
                    .get(i as usize)
                    .copied()
                    .flatten()
            })
            .collect();
        cut_of.sort_unstable();
        let mut settlements_cut = Vec::new();
        let mut settlements_affected = 0;
        for run in cut_of.chunk_by(|a, b| a == b) {
            settlements_affected += 1;
            if self.connected.get(run[0] as usize) == Some(&(run.len() as u64)) {
                settlements_cut.push(run[0]);
            }
        }
        GroupCut {
            unit: CriticalUnit {
                group,
                settlements,
                settlements_cut,
                settlements_affected,
                premises: prem,
                households: hh,
            },
            links: lost_links,
        }
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
        let (start, arcs) = csr(
            n,
            tail.iter()
                .enumerate()
                .map(|(k, &t)| (t as usize, k as u32)),
        );
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
    /// to ins. The root is not split, and paths start at the outs of the sources: the count is
    /// of paths that share no link and no junction besides their ends.
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
        // Paths start at the settlement's junctions, so those are not limited themselves.
        FlowNet::from_arcs(n, c.root, (0..c.n as u32).map(out).collect(), list)
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

/// The link each premise hangs on: the nearest link within `drop_distance_m` (ties to the
/// lower link id), or `None` (fibre out of reach, or only fibre points in reach).
///
/// `far`, when given, says which premises (by index) are provably out of reach of every link:
/// they attach to nothing without a search. The caller proves it, e.g. from the distance to
/// the fibre before splicing, less the snap distance.
pub fn attach_premises(
    pieces: &crate::network::LinkPieces,
    premises: &[geo::Coord<f64>],
    drop_distance_m: f64,
    order: &crate::par::SpatialOrder,
    far: Option<&(dyn Fn(usize) -> bool + Sync)>,
    progress: &dyn crate::par::Progress,
) -> Vec<Option<u32>> {
    assert_eq!(
        premises.len(),
        order.len(),
        "one order position per premise"
    );
    let none = geo::Coord {
        x: f64::NAN,
        y: f64::NAN,
    };
    crate::par::map_index_runs(
        order,
        progress,
        ATTACH_RUN,
        || (Vec::new(), Vec::with_capacity(ATTACH_RUN)),
        |(candidates, pts), run, out| {
            // A premise beyond reach takes part as a point that meets nothing.
            pts.clear();
            pts.extend(run.iter().map(|&i| match far {
                Some(far) if far(i as usize) => none,
                _ => premises[i as usize],
            }));
            attach_run(pieces, pts, drop_distance_m, candidates, out)
        },
    )
}

/// Premises per run of [`attach_premises`].
const ATTACH_RUN: usize = 64;
/// The largest run (the side of the square around its premises, in metres) that shares one
/// R-tree query.
const ATTACH_SPAN_M: f64 = 2_000.0;
/// A shared query that finds more pieces than this per premise is redone in halves.
const ATTACH_CANDIDATES_PER_PREMISE: usize = 64;

/// The link of each premise of a run (neighbours along the Hilbert curve), pushed to `out` in
/// order: the link of the nearest piece whose box meets the premise's square of half-side
/// `drop_distance_m` and that lies within it, the lowest link on ties. One R-tree query for
/// the run's squares together gives the candidates; each premise takes those whose boxes meet
/// its own square, which are the pieces its own query would give, so the result is the single
/// query's. Spread-out or crowded runs are halved, down to single premises.
fn attach_run<'a>(
    tree: &'a crate::network::LinkPieces,
    pts: &[geo::Coord<f64>],
    drop_distance_m: f64,
    candidates: &mut Vec<&'a crate::network::LinkPiece>,
    out: &mut Vec<Option<u32>>,
) {
    use rstar::{Envelope, PointDistance, RTreeObject, AABB};
    let r = drop_distance_m;
    let square = |p: geo::Coord<f64>| AABB::from_corners([p.x - r, p.y - r], [p.x + r, p.y + r]);
    let nearest = |p: geo::Coord<f64>,
                   pieces: &mut dyn Iterator<Item = &crate::network::LinkPiece>| {
        let (q, r2) = ([p.x, p.y], r * r);
        let mut best: Option<(f64, u32)> = None;
        for piece in pieces {
            let d = piece.distance_2(&q);
            if d <= r2 && best.is_none_or(|(bd, bl)| d < bd || (d == bd && piece.link < bl)) {
                best = Some((d, piece.link));
            }
        }
        best.map(|b| b.1)
    };
    if pts.len() == 1 {
        out.push(nearest(pts[0], &mut tree.meeting(&square(pts[0]))));
        return;
    }
    // A non-finite premise's square meets nothing, in a run as alone.
    let (lo, hi) = crate::par::finite_bounds(pts.iter().copied());
    let compact = lo.x <= hi.x && (hi.x - lo.x).max(hi.y - lo.y) <= ATTACH_SPAN_M;
    candidates.clear();
    if compact {
        let union = AABB::from_corners([lo.x - r, lo.y - r], [hi.x + r, hi.y + r]);
        candidates.extend(tree.meeting(&union));
    }
    if !compact || candidates.len() > ATTACH_CANDIDATES_PER_PREMISE * pts.len() {
        let (a, b) = pts.split_at(pts.len() / 2);
        attach_run(tree, a, drop_distance_m, candidates, out);
        attach_run(tree, b, drop_distance_m, candidates, out);
        return;
    }
    // By their boxes' left edges: a premise scans only the pieces whose left edge lies within
    // its square widened by the widest piece (the margin covers rounding in the widths).
    candidates.sort_unstable_by(|a, b| a.envelope().lower()[0].total_cmp(&b.envelope().lower()[0]));
    let widest = candidates
        .iter()
        .map(|s| s.envelope().upper()[0] - s.envelope().lower()[0])
        .fold(0.0, f64::max);
    let widest = widest * (1.0 + 1e-9) + 1e-9;
    for &p in pts {
        let window = square(p);
        let (from_x, to_x) = (window.lower()[0] - widest, window.upper()[0]);
        let from = candidates.partition_point(|s| s.envelope().lower()[0] < from_x);
        let to = candidates.partition_point(|s| s.envelope().lower()[0] <= to_x);
        out.push(nearest(
            p,
            &mut candidates[from..to.max(from)]
                .iter()
                .copied()
                .filter(|s| s.envelope().intersects(&window)),
        ));
    }
}

/// Each settlement's fibre: the junctions inside it (first covering settlement, as for
/// premises); for a settlement with none, both ends of every link its premises hang on.
/// Sorted, without duplicates.
pub fn settlement_sources(
    g: &FibreGraph,
    settlements: &crate::polygon_index::PolygonIndex,
    premise_settlement: &[Option<u32>],
    premise_link: &[Option<u32>],
) -> Vec<Vec<u32>> {
    let ns = settlements.num_features();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); ns];
    let inside: Vec<Option<u32>> = g
        .junctions
        .par_iter()
        .map_init(Vec::new, |scratch, &c| {
            settlements.first_covering(c, scratch)
        })
        .collect();
    for (j, s) in inside.iter().enumerate() {
        if let Some(s) = s {
            out[*s as usize].push(j as u32);
        }
    }
    let has_inside: Vec<bool> = out.iter().map(|v| !v.is_empty()).collect();
    for (s, l) in premise_settlement.iter().zip(premise_link) {
        if let (Some(s), Some(l)) = (s, l) {
            if has_inside[*s as usize] {
                continue;
            }
            let link = &g.links[*l as usize];
            out[*s as usize].push(link.a);
            out[*s as usize].push(link.b);
        }
    }
    for v in &mut out {
        v.sort_unstable();
        v.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::RedundancyClass::{self, None as NoPath, Redundant, Single};
    use super::{analyze, Demand};
    use crate::network::{FibreGraph, GraphOptions, NetworkLine};
    use geo::Coord;

    #[test]
    fn bridges_in_series_are_one_corridor_until_the_route_branches() {
        // Backbone at (0, 0); a route of three links east to (300, 0), where it branches
        // east and north. One premise on each link.
        let line = |a: (f64, f64), b: (f64, f64), feature: u32| NetworkLine {
            coords: vec![Coord { x: a.0, y: a.1 }, Coord { x: b.0, y: b.1 }],
            feature,
            network: 0,
            srlg: None,
        };
        let lines = vec![
            line((0.0, 0.0), (100.0, 0.0), 0),
            line((100.0, 0.0), (200.0, 0.0), 1),
            line((200.0, 0.0), (300.0, 0.0), 2),
            line((300.0, 0.0), (400.0, 0.0), 3),
            line((300.0, 0.0), (300.0, 100.0), 4),
        ];
        let g = FibreGraph::build(&lines, &[Coord { x: 0.0, y: 0.0 }], GraphOptions::default());
        assert_eq!(g.links.len(), 5);
        let link_of_line = |li: u32| g.links.iter().position(|l| l.line == li).unwrap() as u32;
        let d = Demand {
            settlement_sources: vec![],
            premise_link: (0..5).map(|li| Some(link_of_line(li))).collect(),
            premise_households: vec![1; 5],
            premise_settlement: vec![Some(0), Some(0), Some(1), Some(1), Some(2)],
            corridor_share: 0.5,
        };
        let r = analyze(&g, &d);
        let cut: Vec<(u32, u64)> = r
            .critical
            .iter()
            .map(|u| {
                (
                    g.links[g.groups[u.group as usize][0] as usize].line,
                    u.premises,
                )
            })
            .collect();
        assert_eq!(cut, vec![(0, 5), (1, 4), (2, 3), (3, 1), (4, 1)]);
        let corridors: Vec<Vec<u32>> = r.corridors.iter().map(|c| c.units.clone()).collect();
        // Cutting 4 and 3 of the first's 5 (at least half), then the branch of 1: apart.
        assert_eq!(corridors, vec![vec![0, 1, 2], vec![3], vec![4]]);
        // Asking for 0.7 of the first unit's premises, the third link (3 of 5) starts anew,
        // and neither branch (1 of its 3) follows it.
        let r = analyze(
            &g,
            &Demand {
                corridor_share: 0.7,
                ..d.clone()
            },
        );
        let corridors: Vec<Vec<u32>> = r.corridors.iter().map(|c| c.units.clone()).collect();
        assert_eq!(corridors, vec![vec![0, 1], vec![2], vec![3], vec![4]]);
        // Asking for 0.2, the heavier branch (the better ranked of two equal ones) follows the
        // trunk; the other starts its own.
        let r = analyze(
            &g,
            &Demand {
                corridor_share: 0.2,
                ..d.clone()
            },
        );
        let corridors: Vec<Vec<u32>> = r.corridors.iter().map(|c| c.units.clone()).collect();
        assert_eq!(corridors, vec![vec![0, 1, 2, 3], vec![4]]);
        // By premises (settlement 0: the premises on links 0 and 1; 1: on 2 and 3; 2: on 4):
        // the first link cuts all three; the second all of 1 and 2 and one premise of 0; the
        // third all of 1 and 2; the branches one premise each.
        let by: Vec<(Vec<u32>, u64)> = r
            .critical
            .iter()
            .map(|u| (u.settlements_cut.clone(), u.settlements_affected))
            .collect();
        assert_eq!(
            by,
            vec![
                (vec![0, 1, 2], 3),
                (vec![1, 2], 3),
                (vec![1, 2], 2),
                (vec![], 1),
                (vec![2], 1),
            ]
        );
    }

    #[test]
    fn an_area_is_redundant_when_enough_of_its_premises_are() {
        let of = RedundancyClass::of_premises;
        // Falun in the first bundled release: 162 of 17,563 premises redundant.
        assert_eq!(of(17_401, 162, 0, 0.9), Single);
        assert_eq!(of(10, 90, 0, 0.9), Redundant);
        assert_eq!(of(11, 89, 0, 0.9), Single);
        assert_eq!(of(0, 0, 5, 0.9), NoPath, "fibre premises without a path");
        assert_eq!(of(0, 0, 0, 0.9), NoPath, "no fibre premises");
        assert_eq!(of(1, 0, 9, 0.9), Single, "any path makes it single");
        assert_eq!(of(0, 9, 1, 0.9), Redundant);
        assert_eq!(of(5, 5, 0, 0.5), Redundant);
        assert_eq!(of(5, 5, 0, 1.0), Single);
    }
}
