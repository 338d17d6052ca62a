//! Brute-force oracles for every indexed, parallel kernel, on seeded random data with awkward
//! geometry: holes, multipolygons, overlapping settlements, premises exactly on boundaries and
//! vertices, and premises exactly at the drop distance. Each kernel runs at 1 and at 4 threads
//! and must equal the oracle exactly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails by panicking"
)]

use std::collections::BTreeSet;

use gapmap_core::fibre::{self, segment_distance2, FibreFeature, FibreIndex, FibreReach};
use gapmap_core::gaps::{self, GapKind};
use gapmap_core::geo::coordinate_position::CoordPos;
use gapmap_core::geo::{
    Coord, CoordinatePosition, LineString, MultiLineString, MultiPoint, MultiPolygon, Point,
    Polygon,
};
use gapmap_core::mobile::{self, CoverageFeature, MobileCover, MobileIndex, Tech};
use gapmap_core::par::SpatialOrder;
use gapmap_core::polygon_index::PolygonIndex;
use gapmap_core::rng::SplitMix64;
use gapmap_core::settlement;
use gapmap_core::summary;

/// SWEREF 99 TM-like magnitudes, so that rounding behaves as on real data.
const OX: f64 = 500_000.0;
const OY: f64 = 6_700_000.0;

fn c(x: f64, y: f64) -> Coord<f64> {
    Coord {
        x: OX + x,
        y: OY + y,
    }
}

/// A star-shaped ring around (cx, cy) with radii in [rmin, rmax], vertices on a 1 m lattice.
fn star(rng: &mut SplitMix64, cx: f64, cy: f64, rmin: f64, rmax: f64, n: usize) -> LineString<f64> {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let r = rng.range(rmin, rmax);
            c((cx + r * a.cos()).round(), (cy + r * a.sin()).round())
        })
        .collect();
    pts.dedup();
    LineString::from(pts)
}

/// Random settlements: stars, stars with holes, multipolygons, some overlapping others, and
/// some axis-aligned rectangles sharing edges.
fn settlements(rng: &mut SplitMix64) -> Vec<MultiPolygon<f64>> {
    areas(rng, 1.0)
}

/// Like [`settlements`], with star radii scaled by `scale` (large ones overlap a lot).
fn areas(rng: &mut SplitMix64, scale: f64) -> Vec<MultiPolygon<f64>> {
    let mut out = Vec::new();
    for _ in 0..25 {
        let cx = rng.range(0.0, 20_000.0).round();
        let cy = rng.range(0.0, 20_000.0).round();
        let n = 3 + rng.below(300) as usize;
        let outer = star(rng, cx, cy, 600.0 * scale, 1500.0 * scale, n);
        let holes = if rng.chance(0.5) {
            let nh = 3 + rng.below(40) as usize;
            vec![star(rng, cx, cy, 100.0, 500.0, nh)]
        } else {
            vec![]
        };
        let mut polys = vec![Polygon::new(outer, holes)];
        if rng.chance(0.3) {
            // A second, disjoint part.
            let n2 = 3 + rng.below(60) as usize;
            polys.push(Polygon::new(
                star(rng, cx + 4000.0, cy, 200.0, 900.0, n2),
                vec![],
            ));
        }
        out.push(MultiPolygon::new(polys));
    }
    // Rectangles that share edges and corners with each other.
    for i in 0..4 {
        let x0 = 21_000.0 + 500.0 * i as f64;
        let rect = LineString::from(vec![
            c(x0, 0.0),
            c(x0 + 500.0, 0.0),
            c(x0 + 500.0, 500.0),
            c(x0, 500.0),
            c(x0, 0.0),
        ]);
        out.push(MultiPolygon::new(vec![Polygon::new(rect, vec![])]));
    }
    out
}

/// Premises: uniform points, ring vertices, edge midpoints (exactly on the boundary), and points
/// on shared rectangle edges and corners.
fn premises(rng: &mut SplitMix64, areas: &[MultiPolygon<f64>]) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    for _ in 0..4000 {
        out.push(c(rng.range(-500.0, 23_500.0), rng.range(-500.0, 20_500.0)));
    }
    for mp in areas {
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for w in ring.0.windows(2) {
                    if rng.chance(0.1) {
                        out.push(w[0]);
                    }
                    if rng.chance(0.1) {
                        // Midpoint of lattice points: exact in binary.
                        out.push(Coord {
                            x: (w[0].x + w[1].x) / 2.0,
                            y: (w[0].y + w[1].y) / 2.0,
                        });
                    }
                }
            }
        }
    }
    for i in 0..=8 {
        out.push(c(21_000.0 + 250.0 * i as f64, 0.0));
        out.push(c(21_000.0 + 250.0 * i as f64, 250.0));
        out.push(c(21_000.0 + 250.0 * i as f64, 500.0));
    }
    out
}

fn oracle_settlement(areas: &[MultiPolygon<f64>], p: Coord<f64>) -> Option<u32> {
    areas
        .iter()
        .position(|a| a.coordinate_position(&p) != CoordPos::Outside)
        .map(|i| i as u32)
}

/// Input order at one thread, Hilbert order at several: results must not depend on either.
fn order_for(pts: &[Coord<f64>], threads: usize) -> SpatialOrder {
    if threads == 1 {
        SpatialOrder::identity(pts.len())
    } else {
        SpatialOrder::new(pts)
    }
}

fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
        .install(f)
}

#[test]
fn settlement_assignment_matches_oracle() {
    for seed in 0..6u64 {
        let mut rng = SplitMix64::derive(seed, "settlements");
        let areas = settlements(&mut rng);
        let pts = premises(&mut rng, &areas);
        let want: Vec<Option<u32>> = pts.iter().map(|&p| oracle_settlement(&areas, p)).collect();
        let on_boundary = pts
            .iter()
            .filter(|p| {
                areas
                    .iter()
                    .any(|a| a.coordinate_position(p) == CoordPos::OnBoundary)
            })
            .count();
        assert!(
            on_boundary > 100,
            "seed {seed}: only {on_boundary} boundary premises"
        );
        assert!(want.iter().any(|s| s.is_none()) && want.iter().any(|s| s.is_some()));
        for threads in [1, 4] {
            let got = with_threads(threads, || {
                let idx = PolygonIndex::new(&areas);
                settlement::assign(&idx, &pts, &order_for(&pts, threads), &())
            });
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g, w,
                    "seed {seed}, {threads} threads, premise {i} at {:?}",
                    pts[i]
                );
            }
        }
    }
}

fn fibre_features(rng: &mut SplitMix64) -> Vec<FibreFeature> {
    let mut out = Vec::new();
    for i in 0..60 {
        let network = rng.below(5) as u32;
        let mut lines = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let mut x = rng.range(0.0, 20_000.0).round();
            let mut y = rng.range(0.0, 20_000.0).round();
            let mut ls = vec![c(x, y)];
            for _ in 0..1 + rng.below(20) {
                // Axis-aligned and diagonal street pieces on the lattice.
                match rng.below(3) {
                    0 => x += rng.range(-300.0, 300.0).round(),
                    1 => y += rng.range(-300.0, 300.0).round(),
                    _ => {
                        let d = rng.range(-200.0, 200.0).round();
                        x += d;
                        y += d;
                    }
                }
                ls.push(c(x, y));
            }
            lines.push(LineString::from(ls));
        }
        let points = if i % 4 == 0 {
            (0..1 + rng.below(4))
                .map(|_| {
                    Point(c(
                        rng.range(0.0, 20_000.0).round(),
                        rng.range(0.0, 20_000.0).round(),
                    ))
                })
                .collect()
        } else {
            vec![]
        };
        out.push(FibreFeature {
            lines: MultiLineString::new(lines),
            points: MultiPoint::new(points),
            network,
            srlg: None,
        });
    }
    out
}

/// Premises exactly `d` metres from fibre: offset perpendicular from axis-aligned segments and
/// points, and straight off segment ends.
fn premises_at_distance(rng: &mut SplitMix64, f: &[FibreFeature], d: f64) -> Vec<Coord<f64>> {
    let mut out = Vec::new();
    for feat in f {
        for ls in &feat.lines.0 {
            for w in ls.0.windows(2) {
                let (a, b) = (w[0], w[1]);
                if a.y == b.y && a.x != b.x {
                    let x = (a.x + b.x) / 2.0;
                    out.push(Coord { x, y: a.y + d });
                    out.push(Coord { x, y: a.y - d });
                } else if a.x == b.x && a.y != b.y {
                    out.push(Coord {
                        x: a.x + d,
                        y: (a.y + b.y) / 2.0,
                    });
                }
                if rng.chance(0.2) {
                    out.push(Coord {
                        x: a.x + 0.6 * d,
                        y: a.y + 0.8 * d,
                    });
                }
            }
        }
        for p in &feat.points.0 {
            out.push(Coord {
                x: p.x() - d,
                y: p.y(),
            });
        }
    }
    out
}

fn oracle_reach(f: &[FibreFeature], p: Coord<f64>, drop: f64) -> FibreReach {
    let mut best = f64::INFINITY;
    let mut nets = BTreeSet::new();
    for feat in f {
        let mut fd = f64::INFINITY;
        for ls in &feat.lines.0 {
            for w in ls.0.windows(2) {
                fd = fd.min(segment_distance2(p, w[0], w[1]).sqrt());
            }
        }
        for q in &feat.points.0 {
            fd = fd.min(segment_distance2(p, q.0, q.0).sqrt());
        }
        best = best.min(fd);
        if fd <= drop {
            nets.insert(feat.network);
        }
    }
    FibreReach {
        distance_m: best,
        networks: nets.len() as u32,
    }
}

#[test]
fn fibre_reach_matches_oracle() {
    let drop = 50.0;
    for seed in 0..6u64 {
        let mut rng = SplitMix64::derive(seed, "fibre");
        let feats = fibre_features(&mut rng);
        let mut pts: Vec<Coord<f64>> = (0..3000)
            .map(|_| c(rng.range(-200.0, 20_200.0), rng.range(-200.0, 20_200.0)))
            .collect();
        let exact = premises_at_distance(&mut rng, &feats, drop);
        pts.extend(&exact);
        let want: Vec<FibreReach> = pts.iter().map(|&p| oracle_reach(&feats, p, drop)).collect();
        let at_drop = want.iter().filter(|r| r.distance_m == drop).count();
        assert!(
            at_drop > 50,
            "seed {seed}: only {at_drop} premises exactly at the drop distance"
        );
        assert!(
            want.iter().any(|r| r.networks >= 2),
            "seed {seed}: no multi-network premise"
        );
        for threads in [1, 4] {
            let got = with_threads(threads, || {
                let idx = FibreIndex::new(&feats);
                fibre::reach_all(&idx, &pts, drop, &order_for(&pts, threads), &())
            });
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g, w,
                    "seed {seed}, {threads} threads, premise {i} at {:?}",
                    pts[i]
                );
            }
        }
    }
}

#[test]
fn mobile_coverage_matches_oracle() {
    for seed in 0..4u64 {
        let mut rng = SplitMix64::derive(seed, "mobile");
        let areas = areas(&mut rng, 5.0);
        let feats: Vec<CoverageFeature> = areas
            .iter()
            .enumerate()
            .map(|(i, a)| CoverageFeature {
                area: a.clone(),
                operator: (i % 5) as u32,
                tech: [Tech::G4, Tech::G5, Tech::Other][rng.below(3) as usize],
            })
            .collect();
        let pts = premises(&mut rng, &areas);
        let want: Vec<MobileCover> = pts
            .iter()
            .map(|p| {
                let mut m = MobileCover::default();
                for f in &feats {
                    if f.area.coordinate_position(p) == CoordPos::Outside {
                        continue;
                    }
                    match f.tech {
                        Tech::G4 => m.operators_4g |= 1 << f.operator,
                        Tech::G5 => m.operators_5g |= 1 << f.operator,
                        Tech::Other => {}
                    }
                }
                m
            })
            .collect();
        assert!(want.iter().any(|m| m.count_4g() >= 2));
        for threads in [1, 4] {
            let got = with_threads(threads, || {
                let idx = MobileIndex::new(&feats).unwrap();
                mobile::cover_all(&idx, &pts, &order_for(&pts, threads), &())
            });
            assert_eq!(got, want, "seed {seed}, {threads} threads");
        }
    }
}

/// O(n²) single linkage.
fn oracle_linkage(pts: &[Coord<f64>], members: &[u32], r: f64) -> Vec<Vec<u32>> {
    let n = members.len();
    let mut comp: Vec<usize> = (0..n).collect();
    fn root(c: &mut [usize], mut i: usize) -> usize {
        while c[i] != i {
            i = c[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (pts[members[i] as usize], pts[members[j] as usize]);
            let (dx, dy) = (a.x - b.x, a.y - b.y);
            if dx * dx + dy * dy <= r * r {
                let (ri, rj) = (root(&mut comp, i), root(&mut comp, j));
                comp[ri.max(rj)] = ri.min(rj);
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<u32>> = Default::default();
    for (i, &m) in members.iter().enumerate() {
        let r = root(&mut comp, i);
        groups.entry(r).or_default().push(m);
    }
    let mut v: Vec<Vec<u32>> = groups.into_values().collect();
    for g in &mut v {
        g.sort_unstable();
    }
    v.sort_unstable_by_key(|g| g[0]);
    v
}

#[test]
fn gap_clusters_match_oracle() {
    let r = 200.0;
    for seed in 0..8u64 {
        let mut rng = SplitMix64::derive(seed, "gaps");
        let mut pts = Vec::new();
        // Clumps of various density, chains at exactly r, and isolated points.
        for _ in 0..30 {
            let (cx, cy) = (rng.range(0.0, 30_000.0), rng.range(0.0, 30_000.0));
            let spread = rng.range(20.0, 600.0);
            for _ in 0..rng.below(150) {
                pts.push(c(cx + rng.normal() * spread, cy + rng.normal() * spread));
            }
        }
        for k in 0..20 {
            let (x0, y0) = (
                rng.range(0.0, 30_000.0).round(),
                rng.range(0.0, 30_000.0).round(),
            );
            for j in 0..5 {
                // Exactly r apart along x, and (120, 160) steps: also exactly r.
                if k % 2 == 0 {
                    pts.push(c(x0 + r * j as f64, y0));
                } else {
                    pts.push(c(x0 + 120.0 * j as f64, y0 + 160.0 * j as f64));
                }
            }
        }
        let n = pts.len();
        let kinds: Vec<Option<GapKind>> = (0..n)
            .map(|_| {
                [
                    None,
                    Some(GapKind::Unserved),
                    Some(GapKind::NoFibre),
                    Some(GapKind::No4g),
                ][rng.below(4) as usize]
            })
            .collect();
        let sett: Vec<Option<u32>> = (0..n)
            .map(|_| [None, Some(0), Some(1)][rng.below(3) as usize])
            .collect();
        // Oracle: group then O(n²) linkage, in the documented order.
        let mut want = Vec::new();
        for s in [Some(0u32), Some(1), None] {
            for kind in GapKind::ALL {
                let members: Vec<u32> = (0..n as u32)
                    .filter(|&i| sett[i as usize] == s && kinds[i as usize] == Some(kind))
                    .collect();
                for comp in oracle_linkage(&pts, &members, r) {
                    want.push((kind, s, comp));
                }
            }
        }
        assert!(
            want.iter().any(|w| w.2.len() >= 5),
            "seed {seed}: no large cluster"
        );
        for threads in [1, 4] {
            let got = with_threads(threads, || gaps::cluster(&pts, &kinds, &sett, r));
            let got: Vec<_> = got
                .into_iter()
                .map(|g| (g.kind, g.settlement, g.premises))
                .collect();
            assert_eq!(got, want, "seed {seed}, {threads} threads");
        }
    }
}

#[test]
fn tally_is_thread_independent_and_adds_up() {
    let mut rng = SplitMix64::derive(3, "tally");
    let n = 100_000;
    let sett: Vec<Option<u32>> = (0..n)
        .map(|_| rng.chance(0.8).then(|| rng.below(7) as u32))
        .collect();
    let hh: Vec<u32> = (0..n).map(|_| rng.below(3) as u32).collect();
    let wp: Vec<u32> = (0..n).map(|_| rng.below(2) as u32).collect();
    let fib: Vec<FibreReach> = (0..n)
        .map(|_| FibreReach {
            distance_m: rng.range(0.0, 100.0),
            networks: rng.below(3) as u32,
        })
        .collect();
    let mob: Vec<MobileCover> = (0..n)
        .map(|_| MobileCover {
            operators_4g: rng.below(8),
            operators_5g: rng.below(4),
        })
        .collect();
    let aid: Vec<u32> = (0..n).map(|_| rng.below(4) as u32).collect();
    let fast: Vec<bool> = (0..n).map(|_| rng.chance(0.1)).collect();
    let rules = summary::Rules {
        drop_distance_m: 50.0,
        stand_in: summary::MobileStandIn::Any5g,
    };
    let run = |threads| {
        with_threads(threads, || {
            let o = summary::outcomes(&hh, &wp, Some(&fib), &mob, Some(&aid), Some(&fast), &rules);
            summary::tally(7, &sett, &o)
        })
    };
    let (a, b) = (run(1), run(4));
    assert_eq!(a, b);
    // Brute force: every class and the 100 Mbit/s count, premise by premise.
    let (mut white, mut black, mut hh_grey, mut at100) = (0u64, 0u64, 0u64, 0u64);
    for i in 0..n {
        let passed = fib[i].distance_m <= 50.0;
        white += u64::from(aid[i] == 0);
        black += u64::from(aid[i] >= 2);
        hh_grey += if aid[i] == 1 { u64::from(hh[i]) } else { 0 };
        at100 += u64::from(passed || fast[i] || mob[i].operators_5g != 0);
    }
    assert_eq!(a.iter().map(|t| t.aid_white).sum::<u64>(), white);
    assert_eq!(a.iter().map(|t| t.aid_black).sum::<u64>(), black);
    assert_eq!(
        a.iter().map(|t| t.households_aid_grey).sum::<u64>(),
        hh_grey
    );
    assert_eq!(a.iter().map(|t| t.at_100_mbps).sum::<u64>(), at100);
    // Without other networks, the class is the fibre networks in reach.
    let o = summary::outcomes(&hh, &wp, Some(&fib), &mob, None, None, &rules);
    for i in 0..n {
        let passed = fib[i].distance_m <= 50.0;
        let want = if passed { fib[i].networks } else { 0 };
        assert_eq!(u32::from(o[i].aid_networks), want);
    }
    assert_eq!(a.len(), 8);
    assert_eq!(a.iter().map(|t| t.premises).sum::<u64>(), n as u64);
    let unserved = (0..n)
        .filter(|&i| fib[i].distance_m > 50.0 && mob[i].operators_4g == 0)
        .count() as u64;
    assert_eq!(a.iter().map(|t| t.unserved).sum::<u64>(), unserved);
    let rural = sett.iter().filter(|s| s.is_none()).count() as u64;
    assert_eq!(a[7].premises, rural);
}

/// Largest remainder by the book: quotas as exact fractions `total * w / sum`, compared by
/// cross-multiplication; whole parts first, then one each to the largest fractional parts
/// (ties to the lower index).
fn oracle_largest_remainder(total: u32, w: &[u64]) -> Option<Vec<u32>> {
    let sum: u128 = w.iter().map(|&v| u128::from(v)).sum();
    if sum == 0 {
        return (total == 0).then(|| vec![0; w.len()]);
    }
    let num: Vec<u128> = w
        .iter()
        .map(|&v| u128::from(total) * u128::from(v))
        .collect();
    let mut out: Vec<u32> = num.iter().map(|q| (q / sum) as u32).collect();
    let mut idx: Vec<usize> = (0..w.len()).collect();
    // Remainders share the denominator `sum`: compare numerators.
    idx.sort_by(|&a, &b| (num[b] % sum).cmp(&(num[a] % sum)).then(a.cmp(&b)));
    let left = total - out.iter().sum::<u32>();
    for &i in idx.iter().take(left as usize) {
        out[i] += 1;
    }
    Some(out)
}

#[test]
fn population_spread_matches_oracle() {
    use gapmap_core::population;
    for seed in 0..6u64 {
        let mut rng = SplitMix64::derive(seed, "population");
        let areas = settlements(&mut rng);
        let pts = premises(&mut rng, &areas);
        let persons: Vec<u32> = (0..areas.len())
            .map(|_| (rng.f64() * 3000.0) as u32)
            .collect();
        // Weights: some zero, some equal, some footprints with fractions.
        let weights: Vec<u64> = pts
            .iter()
            .map(|_| match (rng.f64() * 4.0) as u32 {
                0 => 0,
                1 => population::weight_units(1.0).unwrap(),
                _ => population::weight_units(rng.f64() * 400.0).unwrap(),
            })
            .collect();
        // The oracle: first covering area by brute force, then each area on its own.
        let area: Vec<Option<u32>> = pts.iter().map(|&p| oracle_settlement(&areas, p)).collect();
        let mut want = vec![0u32; pts.len()];
        let mut want_unplaced = Vec::new();
        for (k, &total) in persons.iter().enumerate() {
            let members: Vec<usize> = (0..pts.len())
                .filter(|&i| area[i] == Some(k as u32))
                .collect();
            let w: Vec<u64> = members.iter().map(|&i| weights[i]).collect();
            match oracle_largest_remainder(total, &w) {
                Some(parts) => {
                    for (&i, &p) in members.iter().zip(&parts) {
                        want[i] = p;
                    }
                }
                None => want_unplaced.push(k as u32),
            }
        }
        let placed: u64 = want.iter().map(|&p| u64::from(p)).sum();
        let unplaced: u64 = want_unplaced
            .iter()
            .map(|&k| u64::from(persons[k as usize]))
            .sum();
        assert_eq!(
            placed + unplaced,
            persons.iter().map(|&p| u64::from(p)).sum::<u64>(),
            "seed {seed}: every person is placed or reported"
        );
        for threads in [1, 4] {
            let got = with_threads(threads, || {
                population::spread(&PolygonIndex::new(&areas), &persons, &pts, &weights)
            });
            assert_eq!(got.area, area, "seed {seed}, {threads} threads");
            assert_eq!(got.persons, want, "seed {seed}, {threads} threads");
            assert_eq!(
                got.unplaced, want_unplaced,
                "seed {seed}, {threads} threads"
            );
            // Each area's total is exact.
            for (k, &total) in persons.iter().enumerate() {
                let sum: u32 = (0..pts.len())
                    .filter(|&i| got.area[i] == Some(k as u32))
                    .map(|i| got.persons[i])
                    .sum();
                if !got.unplaced.contains(&(k as u32)) {
                    assert_eq!(sum, total, "seed {seed}, area {k}");
                }
            }
        }
    }
}
