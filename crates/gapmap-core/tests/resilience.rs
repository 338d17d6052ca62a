//! Resilience against reality (the OptoSUNET backbone) and against a brute-force oracle that
//! removes links one by one (and subsets of them, for path counts) on seeded random graphs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::collections::{BTreeMap, BTreeSet};

use gapmap_core::geo::Coord;
use gapmap_core::network::{FibreGraph, GraphOptions, NetworkLine};
use gapmap_core::resilience::{self, Demand, RedundancyClass, MAX_PATHS};
use gapmap_core::rng::SplitMix64;

// ---------------------------------------------------------------------------------------------
// The oracle: plain searches on the link list.

/// Junctions reachable from any backbone junction without the `removed` links.
fn reach_without(g: &FibreGraph, removed: &BTreeSet<usize>) -> Vec<bool> {
    reach_without_both(g, removed, &BTreeSet::new())
}

fn subsets(n: usize, k: usize, f: &mut dyn FnMut(&BTreeSet<usize>) -> bool) -> bool {
    fn go(
        start: usize,
        n: usize,
        k: usize,
        cur: &mut BTreeSet<usize>,
        f: &mut dyn FnMut(&BTreeSet<usize>) -> bool,
    ) -> bool {
        if cur.len() == k {
            return f(cur);
        }
        for i in start..n {
            cur.insert(i);
            if go(i + 1, n, k, cur, f) {
                return true;
            }
            cur.remove(&i);
        }
        false
    }
    go(0, n, k, &mut BTreeSet::new(), f)
}

struct Oracle {
    settlement_class: Vec<RedundancyClass>,
    premise_class: Vec<Option<RedundancyClass>>,
    /// group → (settlements cut, premises cut, households cut), only groups that cut anything.
    critical: BTreeMap<u32, (Vec<u32>, u64, u64)>,
    /// group → (settlements all of whose connected premises it cuts, settlements with at
    /// least one premise cut), for the same groups.
    by_premises: BTreeMap<u32, (Vec<u32>, u64)>,
}

fn oracle(g: &FibreGraph, d: &Demand) -> Oracle {
    let none = BTreeSet::new();
    let base = reach_without(g, &none);
    let sources_reach =
        |r: &[bool], s: usize| d.settlement_sources[s].iter().any(|&j| r[j as usize]);
    let mut settlement_single = vec![false; d.settlement_sources.len()];
    let mut premise_single = vec![false; d.premise_link.len()];
    let mut critical = BTreeMap::new();
    let mut by_premises = BTreeMap::new();
    let settlement_of = |i: usize| d.premise_settlement.get(i).copied().flatten();
    // Connected premises per settlement.
    let mut connected: BTreeMap<u32, u64> = BTreeMap::new();
    for (i, l) in d.premise_link.iter().enumerate() {
        let (Some(l), Some(s)) = (l, settlement_of(i)) else {
            continue;
        };
        let link = &g.links[*l as usize];
        if base[link.a as usize] && base[link.b as usize] {
            *connected.entry(s).or_default() += 1;
        }
    }
    for (gi, links) in g.groups.iter().enumerate() {
        let mut lost_in: BTreeMap<u32, u64> = BTreeMap::new();
        let removed: BTreeSet<usize> = links.iter().map(|&l| l as usize).collect();
        let after = reach_without(g, &removed);
        let mut cut_s = Vec::new();
        for (s, single) in settlement_single.iter_mut().enumerate() {
            if sources_reach(&base, s) && !sources_reach(&after, s) {
                cut_s.push(s as u32);
                *single = true;
            }
        }
        let (mut p, mut h) = (0u64, 0u64);
        for (i, l) in d.premise_link.iter().enumerate() {
            let Some(l) = l else { continue };
            let link = &g.links[*l as usize];
            let (a, b) = (link.a as usize, link.b as usize);
            if !(base[a] && base[b]) {
                continue;
            }
            let lost = if removed.contains(&(*l as usize)) {
                !(after[a] && after[b])
            } else {
                !(after[a] || after[b])
            };
            if lost {
                premise_single[i] = true;
                p += 1;
                h += u64::from(d.premise_households[i]);
                if let Some(s) = settlement_of(i) {
                    *lost_in.entry(s).or_default() += 1;
                }
            }
        }
        if p > 0 || !cut_s.is_empty() {
            critical.insert(gi as u32, (cut_s, p, h));
            let all: Vec<u32> = lost_in
                .iter()
                .filter(|(s, n)| connected.get(s) == Some(n))
                .map(|(s, _)| *s)
                .collect();
            by_premises.insert(gi as u32, (all, lost_in.len() as u64));
        }
    }
    let settlement_class = (0..d.settlement_sources.len())
        .map(|s| {
            if !sources_reach(&base, s) {
                RedundancyClass::None
            } else if settlement_single[s] {
                RedundancyClass::Single
            } else {
                RedundancyClass::Redundant
            }
        })
        .collect();
    let premise_class = d
        .premise_link
        .iter()
        .enumerate()
        .map(|(i, l)| {
            l.map(|l| {
                let link = &g.links[l as usize];
                if !(base[link.a as usize] && base[link.b as usize]) {
                    RedundancyClass::None
                } else if premise_single[i] {
                    RedundancyClass::Single
                } else {
                    RedundancyClass::Redundant
                }
            })
        })
        .collect();
    Oracle {
        settlement_class,
        premise_class,
        critical,
        by_premises,
    }
}

/// Menger: the most edge-disjoint paths = the fewest links whose removal cuts every source
/// from the backbone (capped). Valid when every group is one link.
fn min_link_cut(g: &FibreGraph, sources: &[u32]) -> u32 {
    let cut = |r: &[bool]| !sources.iter().any(|&j| r[j as usize]);
    for k in 0..MAX_PATHS as usize {
        if subsets(g.links.len(), k, &mut |rm| cut(&reach_without(g, rm))) {
            return k as u32;
        }
    }
    MAX_PATHS
}

/// The most paths sharing no link and no junction besides their ends = the fewest links and
/// other junctions (neither sources nor backbone) whose removal cuts every source (Menger).
fn min_node_cut(g: &FibreGraph, sources: &[u32]) -> u32 {
    let backbone: BTreeSet<usize> = g.backbone.iter().flatten().map(|&b| b as usize).collect();
    if sources.iter().any(|s| backbone.contains(&(*s as usize))) {
        return MAX_PATHS;
    }
    let src: BTreeSet<usize> = sources.iter().map(|&s| s as usize).collect();
    let nodes: Vec<usize> = (0..g.num_junctions())
        .filter(|v| !backbone.contains(v) && !src.contains(v))
        .collect();
    let nl = g.links.len();
    for k in 0..MAX_PATHS as usize {
        let found = subsets(nl + nodes.len(), k, &mut |rm| {
            let links: BTreeSet<usize> = rm.iter().copied().filter(|&i| i < nl).collect();
            let gone: BTreeSet<usize> = rm
                .iter()
                .filter(|&&i| i >= nl)
                .map(|&i| nodes[i - nl])
                .collect();
            let r = reach_without_both(g, &links, &gone);
            !sources.iter().any(|&j| r[j as usize])
        });
        if found {
            return k as u32;
        }
    }
    MAX_PATHS
}

/// Junctions reachable from the backbone without the `links` and the `nodes`.
fn reach_without_both(
    g: &FibreGraph,
    links: &BTreeSet<usize>,
    nodes: &BTreeSet<usize>,
) -> Vec<bool> {
    let n = g.num_junctions();
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = g.backbone.iter().flatten().map(|&b| b as usize).collect();
    for &b in &stack {
        seen[b] = true;
    }
    while let Some(v) = stack.pop() {
        for (i, l) in g.links.iter().enumerate() {
            if links.contains(&i) {
                continue;
            }
            let (a, b) = (l.a as usize, l.b as usize);
            for (x, y) in [(a, b), (b, a)] {
                if x == v && !seen[y] && !nodes.contains(&y) {
                    seen[y] = true;
                    stack.push(y);
                }
            }
        }
    }
    seen
}

// ---------------------------------------------------------------------------------------------
// Seeded random graphs.

/// Junctions on a grid; links as two-vertex lines between random pairs of nearby junctions
/// (some parallel, some loops back, some dangling), a few as three-vertex lines.
fn random_case(seed: u64, srlg: bool) -> (Vec<NetworkLine>, Vec<Coord<f64>>, Demand) {
    let mut rng = SplitMix64::new(seed);
    let n = 5 + rng.below(6) as usize;
    let pts: Vec<Coord<f64>> = (0..n)
        .map(|i| Coord {
            x: (i % 4) as f64 * 1000.0 + rng.range(0.0, 300.0),
            y: (i / 4) as f64 * 1000.0 + rng.range(0.0, 300.0),
        })
        .collect();
    let m = n + rng.below(n as u64) as usize;
    let mut lines = Vec::new();
    for k in 0..m {
        let a = rng.below(n as u64) as usize;
        let mut b = rng.below(n as u64) as usize;
        if a == b {
            b = (a + 1) % n;
        }
        let mut coords = vec![pts[a]];
        if rng.chance(0.3) {
            // A bend that is no junction.
            coords.push(Coord {
                x: (pts[a].x + pts[b].x) / 2.0 + 37.0,
                y: (pts[a].y + pts[b].y) / 2.0 - 41.0,
            });
        }
        coords.push(pts[b]);
        lines.push(NetworkLine {
            coords,
            feature: k as u32,
            network: 0,
            srlg: (srlg && rng.chance(0.25)).then(|| rng.below(3) as u32),
        });
    }
    let backbone: Vec<Coord<f64>> = (0..1 + rng.below(2))
        .map(|_| pts[rng.below(n as u64) as usize])
        .collect();
    (
        lines,
        backbone,
        Demand {
            settlement_sources: Vec::new(),
            premise_link: Vec::new(),
            premise_households: Vec::new(),
            premise_settlement: Vec::new(),
            corridor_share: 0.9,
        },
    )
}

fn demand_for(g: &FibreGraph, seed: u64) -> Demand {
    let mut rng = SplitMix64::new(seed ^ 0xdead_beef);
    let nj = g.num_junctions() as u64;
    let settlement_sources: Vec<Vec<u32>> = (0..4)
        .map(|_| {
            (0..1 + rng.below(2))
                .map(|_| rng.below(nj.max(1)) as u32)
                .collect()
        })
        .collect();
    let np = 30;
    let nl = g.links.len() as u64;
    let premise_link: Vec<Option<u32>> = (0..np)
        .map(|_| (nl > 0 && rng.chance(0.9)).then(|| rng.below(nl) as u32))
        .collect();
    let premise_households = (0..np).map(|_| 1 + rng.below(3) as u32).collect();
    // Premises in one of the settlements or none, at random: settlements of several premises
    // spread over the graph.
    let premise_settlement = premise_link
        .iter()
        .map(|_| {
            let k = rng.below(6);
            (k < 4).then_some(k as u32)
        })
        .collect();
    Demand {
        settlement_sources,
        premise_link,
        premise_households,
        premise_settlement,
        corridor_share: 0.9,
    }
}

/// Checks everything; returns the settlement classes and paths seen, and the critical units.
fn check_against_oracle(
    g: &FibreGraph,
    d: &Demand,
    paths_too: bool,
    label: &str,
) -> (Vec<(RedundancyClass, u32)>, usize) {
    let r = resilience::analyze(g, d);
    let o = oracle(g, d);
    assert_eq!(
        r.settlement_class, o.settlement_class,
        "{label}: settlement classes"
    );
    assert_eq!(r.premise_class, o.premise_class, "{label}: premise classes");
    let got: BTreeMap<u32, (Vec<u32>, u64, u64)> = r
        .critical
        .iter()
        .map(|u| (u.group, (u.settlements.clone(), u.premises, u.households)))
        .collect();
    assert_eq!(got, o.critical, "{label}: critical units");
    let got: BTreeMap<u32, (Vec<u32>, u64)> = r
        .critical
        .iter()
        .map(|u| (u.group, (u.settlements_cut.clone(), u.settlements_affected)))
        .collect();
    assert_eq!(
        got, o.by_premises,
        "{label}: settlements cut and affected by premises"
    );
    // Corridors: every critical unit in exactly one, ranked by their first unit, each cutting
    // less (or as much) further from the backbone, and a superset of the premises' settlements.
    let mut seen = vec![0u32; r.critical.len()];
    let mut last_first = None;
    for c in &r.corridors {
        assert!(!c.units.is_empty());
        assert!(
            last_first < Some(c.units[0]),
            "{label}: corridors out of rank order"
        );
        last_first = Some(c.units[0]);
        for w in c.units.windows(2) {
            let (a, b) = (&r.critical[w[0] as usize], &r.critical[w[1] as usize]);
            assert!(
                a.premises >= b.premises,
                "{label}: a corridor cuts more further out"
            );
            let head = &r.critical[c.units[0] as usize];
            assert!(
                b.premises as f64 >= d.corridor_share * head.premises as f64,
                "{label}: a corridor's unit cuts much less than its first"
            );
            assert!(
                b.settlements_cut
                    .iter()
                    .all(|s| a.settlements_cut.contains(s)),
                "{label}: a corridor's inner unit cuts a settlement its outer one does not"
            );
        }
        for &u in &c.units {
            seen[u as usize] += 1;
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "{label}: a unit in no or two corridors"
    );
    // Property: no critical cut disconnects a settlement called redundant.
    for u in &r.critical {
        for &s in &u.settlements {
            assert_ne!(
                r.settlement_class[s as usize],
                RedundancyClass::Redundant,
                "{label}: group {} cuts settlement {s}, called redundant",
                u.group
            );
        }
    }
    for (s, src) in d.settlement_sources.iter().enumerate() {
        let class = r.settlement_class[s];
        let p = r.settlement_paths[s];
        match class {
            RedundancyClass::None => assert_eq!(p, 0, "{label}"),
            RedundancyClass::Single => assert_eq!(p, 1, "{label}"),
            RedundancyClass::Redundant => assert!(p >= 2, "{label}"),
        }
        if paths_too {
            assert_eq!(
                p,
                min_link_cut(g, src),
                "{label}: edge-disjoint paths of {s}"
            );
            assert_eq!(
                r.settlement_node_paths[s],
                min_node_cut(g, src),
                "{label}: node-disjoint paths of {s}"
            );
        }
    }
    (
        r.settlement_class
            .iter()
            .copied()
            .zip(r.settlement_paths.iter().copied())
            .collect(),
        r.critical.len(),
    )
}

/// Every class, and path counts from 0 to at least 3, occur in the random cases.
fn assert_varied(seen: &BTreeSet<(RedundancyClass, u32)>, critical: usize) {
    for c in [
        RedundancyClass::None,
        RedundancyClass::Single,
        RedundancyClass::Redundant,
    ] {
        assert!(
            seen.iter().any(|x| x.0 == c),
            "{c:?} never occurs: {seen:?}"
        );
    }
    assert!(seen.iter().any(|x| x.1 >= 3), "{seen:?}");
    assert!(critical > 200, "{critical} critical units in all");
}

#[test]
fn random_graphs_match_the_oracle_one_link_per_group() {
    let (mut seen, mut critical) = (BTreeSet::new(), 0);
    for seed in 0..300 {
        let (lines, backbone, _) = random_case(seed, false);
        let opts = GraphOptions {
            srlg_m: 0.0,
            ..Default::default()
        };
        let g = FibreGraph::build(&lines, &backbone, opts);
        assert!(g.groups.iter().all(|x| x.len() == 1));
        let d = demand_for(&g, seed);
        let (c, k) = check_against_oracle(&g, &d, true, &format!("seed {seed}"));
        seen.extend(c);
        critical += k;
    }
    assert_varied(&seen, critical);
}

#[test]
fn random_graphs_match_the_oracle_with_shared_risk_groups() {
    let mut multi = 0;
    let (mut seen, mut critical) = (BTreeSet::new(), 0);
    for seed in 0..300 {
        let (lines, backbone, _) = random_case(seed, true);
        let g = FibreGraph::build(&lines, &backbone, GraphOptions::default());
        multi += g.groups.iter().filter(|x| x.len() > 1).count();
        let d = demand_for(&g, seed);
        let (c, k) = check_against_oracle(&g, &d, false, &format!("seed {seed}"));
        seen.extend(c);
        critical += k;
    }
    assert!(
        multi > 100,
        "the cases exercise groups of several links ({multi})"
    );
    assert_varied(&seen, critical);
}

// ---------------------------------------------------------------------------------------------
// OptoSUNET.

struct Sunet {
    lines: Vec<NetworkLine>,
    pops: Vec<(String, Coord<f64>)>,
}

/// The fixture in metres (equirectangular at 60°N: fine for topology).
fn sunet() -> Sunet {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sunet.geojson"),
    )
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = |c: &serde_json::Value| Coord {
        x: c[0].as_f64().unwrap() * 111_320.0 * 0.5,
        y: c[1].as_f64().unwrap() * 110_540.0,
    };
    let mut lines = Vec::new();
    let mut pops = Vec::new();
    for (k, f) in v["features"].as_array().unwrap().iter().enumerate() {
        let geom = &f["geometry"];
        match geom["type"].as_str().unwrap() {
            "Point" => pops.push((
                f["properties"]["label"].as_str().unwrap().to_string(),
                m(&geom["coordinates"]),
            )),
            "LineString" => lines.push(NetworkLine {
                coords: geom["coordinates"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(m)
                    .collect(),
                feature: k as u32,
                network: 0,
                srlg: None,
            }),
            other => panic!("{other}"),
        }
    }
    Sunet { lines, pops }
}

fn sunet_classes(srlg_m: f64) -> (BTreeMap<String, (RedundancyClass, u32)>, FibreGraph, Demand) {
    let s = sunet();
    let stockholm = s.pops.iter().find(|p| p.0 == "Stockholm").unwrap().1;
    let g = FibreGraph::build(
        &s.lines,
        &[stockholm],
        GraphOptions {
            srlg_m,
            ..Default::default()
        },
    );
    // Each PoP is a "settlement" whose fibre is the PoP's junction.
    let junction_of = |c: Coord<f64>| {
        g.junctions
            .iter()
            .position(|j| (j.x - c.x).hypot(j.y - c.y) < 1.0)
            .unwrap() as u32
    };
    let d = Demand {
        settlement_sources: s.pops.iter().map(|p| vec![junction_of(p.1)]).collect(),
        premise_link: Vec::new(),
        premise_households: Vec::new(),
        premise_settlement: Vec::new(),
        corridor_share: 0.9,
    };
    let r = resilience::analyze(&g, &d);
    let out = s
        .pops
        .iter()
        .enumerate()
        .map(|(i, p)| (p.0.clone(), (r.settlement_class[i], r.settlement_paths[i])))
        .collect();
    (out, g, d)
}

#[test]
fn sunet_with_parallel_fibre_pairs_as_one_route() {
    // Red and green fibre pairs on one PoP-to-PoP route share its trench: one risk group.
    let (classes, g, d) = sunet_classes(2.0);
    assert_eq!(g.links.len(), 46);
    assert_eq!(g.groups.len(), 29, "46 links on 29 routes");
    let single: BTreeSet<&str> = classes
        .iter()
        .filter(|(_, c)| c.0 == RedundancyClass::Single)
        .map(|(n, _)| n.as_str())
        .collect();
    // Visby hangs on one route to Stockholm; the north coast on the chain from Gävle.
    let want: BTreeSet<&str> = ["Visby", "Sundsvall", "Umea", "Lulea", "Kiruna"].into();
    assert_eq!(single, want);
    assert_eq!(
        classes["Stockholm"],
        (RedundancyClass::Redundant, MAX_PATHS)
    );
    assert_eq!(classes["Goteborg"].0, RedundancyClass::Redundant);
    assert_eq!(classes["Visby"].1, 1);
    check_against_oracle(&g, &d, false, "sunet, routes");
    // Which route cut isolates which PoPs, ranked by how many.
    let r = resilience::analyze(&g, &d);
    let names: Vec<&str> = {
        let s = sunet();
        let v: Vec<String> = s.pops.iter().map(|p| p.0.clone()).collect();
        let leaked: &'static [String] = Box::leak(v.into_boxed_slice());
        leaked.iter().map(|x| x.as_str()).collect()
    };
    let cuts: Vec<BTreeSet<&str>> = r
        .critical
        .iter()
        .map(|u| u.settlements.iter().map(|&s| names[s as usize]).collect())
        .collect();
    let want: Vec<BTreeSet<&str>> = vec![
        ["Sundsvall", "Umea", "Lulea", "Kiruna"].into(),
        ["Umea", "Lulea", "Kiruna"].into(),
        ["Lulea", "Kiruna"].into(),
        ["Kiruna"].into(),
        ["Visby"].into(),
    ];
    let mut got_sorted = cuts.clone();
    got_sorted.sort_by_key(|c| std::cmp::Reverse(c.len()));
    assert_eq!(got_sorted.len(), want.len(), "{cuts:?}");
    for w in &want {
        assert!(got_sorted.contains(w), "missing cut {w:?} in {cuts:?}");
    }
}

#[test]
fn sunet_with_every_fibre_pair_its_own_risk() {
    // Counting fibre pairs separately: Visby and Sundsvall have two fibre pairs each way, but
    // Umeå–Sundsvall and Luleå–Umeå are one pair only.
    let (classes, g, d) = sunet_classes(0.0);
    assert_eq!(g.groups.len(), 46);
    let single: BTreeSet<&str> = classes
        .iter()
        .filter(|(_, c)| c.0 == RedundancyClass::Single)
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(single, ["Umea", "Lulea", "Kiruna"].into());
    assert_eq!(classes["Visby"], (RedundancyClass::Redundant, 2));
    assert_eq!(classes["Sundsvall"], (RedundancyClass::Redundant, 2));
    check_against_oracle(&g, &d, true, "sunet, fibre pairs");
}

/// Access-network-like cases: a random tree of streets, some streets doubled by a cable 1 m
/// beside them (one trench), a few links closing rings, settlements of several junctions.
fn tree_case(seed: u64) -> (Vec<NetworkLine>, Vec<Coord<f64>>) {
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    let n = 12 + rng.below(20) as usize;
    let pts: Vec<Coord<f64>> = (0..n)
        .map(|_| Coord {
            x: rng.range(0.0, 5000.0),
            y: rng.range(0.0, 5000.0),
        })
        .collect();
    let mut lines = Vec::new();
    let push = |a: Coord<f64>, b: Coord<f64>, net: u32, lines: &mut Vec<NetworkLine>| {
        let k = lines.len() as u32;
        lines.push(NetworkLine {
            coords: vec![a, b],
            feature: k,
            network: net,
            srlg: None,
        });
    };
    for i in 1..n {
        let j = rng.below(i as u64) as usize;
        push(pts[j], pts[i], 0, &mut lines);
        if rng.chance(0.3) {
            let off = |c: Coord<f64>| Coord {
                x: c.x,
                y: c.y + 0.5,
            };
            push(off(pts[j]), off(pts[i]), 1, &mut lines);
        }
    }
    for _ in 0..rng.below(3) {
        let (a, b) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
        if a != b {
            push(pts[a], pts[b], 2, &mut lines);
        }
    }
    (lines, vec![pts[0]])
}

#[test]
fn access_networks_with_doubled_cables_match_the_oracle() {
    let (mut seen, mut critical) = (BTreeSet::new(), 0);
    let mut same_pair_groups = 0;
    for seed in 0..400 {
        let (lines, backbone) = tree_case(seed);
        let g = FibreGraph::build(&lines, &backbone, GraphOptions::default());
        same_pair_groups += g.groups.iter().filter(|x| x.len() > 1).count();
        let mut d = demand_for(&g, seed);
        let mut rng = SplitMix64::new(seed);
        let nj = g.num_junctions() as u64;
        d.settlement_sources = (0..6)
            .map(|_| {
                (0..1 + rng.below(4))
                    .map(|_| rng.below(nj) as u32)
                    .collect()
            })
            .collect();
        let (c, k) = check_against_oracle(&g, &d, false, &format!("tree seed {seed}"));
        seen.extend(c);
        critical += k;
    }
    assert!(same_pair_groups > 500, "{same_pair_groups}");
    assert!(seen.iter().any(|x| x.0 == RedundancyClass::Single));
    assert!(seen.iter().any(|x| x.0 == RedundancyClass::Redundant));
    assert!(critical > 1000, "{critical}");
}

/// Premise attachment (runs of neighbours sharing one R-tree query, halved when spread out or
/// crowded) against a scan of every link: the nearest link within the drop distance, the lower
/// link on ties. Premises in tight clusters, spread over kilometres, exactly at the drop
/// distance from a horizontal segment, and exactly between two parallel links.
#[test]
fn premise_attachment_matches_a_scan_of_every_link() {
    use gapmap_core::fibre::segment_distance2;
    use gapmap_core::par::SpatialOrder;
    for seed in 0..4u64 {
        let mut rng = SplitMix64::derive(seed, "attach");
        let mut lines = Vec::new();
        for k in 0..300 {
            let (mut x, mut y) = (rng.range(0.0, 3_000.0), rng.range(0.0, 3_000.0));
            let mut coords = vec![Coord { x, y }];
            for _ in 0..1 + rng.below(14) {
                if rng.chance(0.5) {
                    x += rng.range(-120.0, 120.0);
                } else {
                    y += rng.range(-120.0, 120.0);
                }
                coords.push(Coord { x, y });
            }
            lines.push(NetworkLine {
                coords,
                feature: k,
                network: 0,
                srlg: None,
            });
        }
        // Two parallel horizontal links 40 m apart, for ties.
        for (k, y) in [(300, 5_000.0), (301, 5_040.0)] {
            lines.push(NetworkLine {
                coords: vec![Coord { x: 0.0, y }, Coord { x: 500.0, y }],
                feature: k,
                network: 0,
                srlg: None,
            });
        }
        let (g, pieces) = FibreGraph::build_with_pieces(&lines, &[], GraphOptions::default());
        let drop_m = 20.0;
        let mut premises = Vec::new();
        for _ in 0..40 {
            let (cx, cy) = (rng.range(-200.0, 3_200.0), rng.range(-200.0, 3_200.0));
            let spread = [5.0, 60.0, 900.0][rng.below(3) as usize];
            for _ in 0..rng.below(200) {
                premises.push(Coord {
                    x: cx + rng.range(-spread, spread),
                    y: cy + rng.range(-spread, spread),
                });
            }
        }
        for i in 0..50 {
            let x = 10.0 + 9.0 * i as f64;
            premises.push(Coord {
                x,
                y: 5_000.0 - drop_m,
            }); // exactly at the drop distance
            premises.push(Coord { x, y: 5_020.0 }); // equally far from both: the lower link
            premises.push(Coord {
                x,
                y: 5_040.0 + drop_m + 1e-9,
            }); // just beyond
        }
        let want: Vec<Option<u32>> = premises
            .iter()
            .map(|&p| {
                let mut best: Option<(f64, u32)> = None;
                for (li, l) in g.links.iter().enumerate() {
                    let c = &lines[l.line as usize].coords[l.start as usize..=l.end as usize];
                    let d = c
                        .windows(2)
                        .map(|w| segment_distance2(p, w[0], w[1]))
                        .fold(f64::INFINITY, f64::min);
                    if d <= drop_m * drop_m && best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, li as u32));
                    }
                }
                best.map(|b| b.1)
            })
            .collect();
        assert!(want.iter().filter(|w| w.is_some()).count() > premises.len() / 10);
        assert!(want.iter().filter(|w| w.is_none()).count() > premises.len() / 10);
        for threads in [1, 4] {
            let got = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let order = SpatialOrder::new(&premises);
                    resilience::attach_premises(&pieces, &premises, drop_m, &order, None, &())
                });
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g, w,
                    "seed {seed}, {threads} threads, premise {i} at {:?}",
                    premises[i]
                );
            }
        }
        // Premises proved out of reach (here: by the scan) are skipped and nothing changes;
        // a wrong proof shows.
        let out_of_reach: Vec<bool> = want.iter().map(|w| w.is_none()).collect();
        let order = SpatialOrder::new(&premises);
        let far = |i: usize| out_of_reach[i];
        let skipped =
            resilience::attach_premises(&pieces, &premises, drop_m, &order, Some(&far), &());
        assert_eq!(skipped, want, "seed {seed}: skipping premises out of reach");
        let wrong = |i: usize| i.is_multiple_of(2);
        let broken =
            resilience::attach_premises(&pieces, &premises, drop_m, &order, Some(&wrong), &());
        assert_ne!(
            broken, want,
            "a predicate that skips premises in reach changes results"
        );
    }
}
