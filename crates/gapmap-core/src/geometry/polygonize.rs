//! Raster cells to polygons, exactly.
//!
//! A [`RunRaster`] holds the covered cells of a square grid as runs per row. [`polygonize`]
//! returns their union as a valid `MultiPolygon`: the cell edges between covered and uncovered
//! cells, linked into rings with the covered side on the left (exteriors counter-clockwise,
//! holes clockwise), one polygon per 4-connected component. Where two covered cells touch only
//! at a corner the rings turn to keep them apart, so no ring crosses itself; a hole ring that
//! passes such a corner twice is split there into two holes (touching at a point, which OGC
//! allows). Collinear vertices are dropped. The cost is linear in the number of runs and
//! boundary edges, not in the number of cells.

use crate::box_grid::{CellMap, CellSet};

use geo::{Coord, LineString, MultiPolygon, Polygon};

use crate::gaps::UnionFind;

/// Covered cells of a grid with square cells of `cell_m` metres. Row `row0 + r` spans
/// `y ∈ [(row0 + r)·cell_m, (row0 + r + 1)·cell_m]`; a run `(c0, c1)` covers columns
/// `c0..c1`, i.e. `x ∈ [c0·cell_m, c1·cell_m]`. Runs in a row are sorted and disjoint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRaster {
    /// Cell size, in metres.
    pub cell_m: f64,
    /// The row of `rows[0]`.
    pub row0: i64,
    /// Per row: the covered runs of columns `(c0, c1)`, sorted and disjoint.
    pub rows: Vec<Vec<(i64, i64)>>,
}

impl RunRaster {
    /// Number of covered cells.
    pub fn cells(&self) -> u64 {
        self.rows
            .iter()
            .flatten()
            .map(|&(a, b)| (b - a) as u64)
            .sum()
    }

    /// True when the cell at column `col` of absolute row `row` is covered.
    pub fn covers(&self, row: i64, col: i64) -> bool {
        let r = row - self.row0;
        if r < 0 || r >= self.rows.len() as i64 {
            return false;
        }
        let runs = &self.rows[r as usize];
        let k = runs.partition_point(|&(_, c1)| c1 <= col);
        k < runs.len() && runs[k].0 <= col
    }
}

/// Turns a sorted list of covered columns into runs.
pub fn runs_of(covered: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for c in covered {
        match out.last_mut() {
            Some(last) if last.1 == c => last.1 = c + 1,
            _ => out.push((c, c + 1)),
        }
    }
    out
}

/// `a \ b` for sorted disjoint run lists.
fn difference(a: &[(i64, i64)], b: &[(i64, i64)], out: &mut Vec<(i64, i64)>) {
    out.clear();
    let mut j = 0;
    for &(mut s, e) in a {
        while j < b.len() && b[j].1 <= s {
            j += 1;
        }
        let mut k = j;
        while k < b.len() && b[k].0 < e {
            if b[k].0 > s {
                out.push((s, b[k].0));
            }
            s = s.max(b[k].1);
            k += 1;
        }
        if s < e {
            out.push((s, e));
        }
    }
}

/// A directed boundary edge in grid units, with the component on its left.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: (i64, i64),
    to: (i64, i64),
    component: u32,
}

fn direction(e: &Edge) -> (i64, i64) {
    ((e.to.0 - e.from.0).signum(), (e.to.1 - e.from.1).signum())
}

/// The union of the covered cells, one polygon per 4-connected component, ordered by the
/// component's first run (bottom row first, then by column).
pub fn polygonize(raster: &RunRaster) -> MultiPolygon<f64> {
    // Component labels per run (4-connectivity: runs in adjacent rows that share an edge).
    let offsets: Vec<usize> = raster
        .rows
        .iter()
        .scan(0usize, |acc, r| {
            let o = *acc;
            *acc += r.len();
            Some(o)
        })
        .collect();
    let total: usize = raster.rows.iter().map(Vec::len).sum();
    if total == 0 {
        return MultiPolygon::new(vec![]);
    }
    let mut uf = UnionFind::new(total);
    for r in 1..raster.rows.len() {
        let (below, above) = (&raster.rows[r - 1], &raster.rows[r]);
        let (mut i, mut j) = (0, 0);
        while i < below.len() && j < above.len() {
            let (a, b) = (below[i], above[j]);
            if a.0 < b.1 && b.0 < a.1 {
                uf.union((offsets[r - 1] + i) as u32, (offsets[r] + j) as u32);
            }
            if a.1 < b.1 {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    let label = |r: usize, k: usize, uf: &mut UnionFind| uf.find((offsets[r] + k) as u32);

    // Boundary edges. Row r's cells span y = row0 + r .. row0 + r + 1.
    let mut edges: Vec<Edge> = Vec::new();
    let mut diff = Vec::new();
    let empty: Vec<(i64, i64)> = Vec::new();
    for r in 0..=raster.rows.len() {
        let y = raster.row0 + r as i64;
        let above = raster.rows.get(r).unwrap_or(&empty);
        let below = if r == 0 { &empty } else { &raster.rows[r - 1] };
        // Covered above, not below: bottom edges of row r, running east.
        difference(above, below, &mut diff);
        for &(a, b) in &diff {
            let k = above.partition_point(|&(_, c1)| c1 <= a);
            edges.push(Edge {
                from: (a, y),
                to: (b, y),
                component: label(r, k, &mut uf),
            });
        }
        // Covered below, not above: top edges of row r - 1, running west.
        difference(below, above, &mut diff);
        for &(a, b) in &diff {
            let k = below.partition_point(|&(_, c1)| c1 <= a);
            edges.push(Edge {
                from: (b, y),
                to: (a, y),
                component: label(r - 1, k, &mut uf),
            });
        }
        // Sides of row r's runs: west sides run south, east sides run north.
        if r < raster.rows.len() {
            for (k, &(a, b)) in above.iter().enumerate() {
                let c = label(r, k, &mut uf);
                edges.push(Edge {
                    from: (a, y + 1),
                    to: (a, y),
                    component: c,
                });
                edges.push(Edge {
                    from: (b, y),
                    to: (b, y + 1),
                    component: c,
                });
            }
        }
    }

    // Outgoing edges per vertex: one, or two at a corner where covered cells touch diagonally.
    let mut out: CellMap<(i64, i64), [u32; 2]> = CellMap::default();
    out.reserve(edges.len());
    for (i, e) in edges.iter().enumerate() {
        out.entry(e.from)
            .and_modify(|v| v[1] = i as u32)
            .or_insert([i as u32, u32::MAX]);
    }
    let mut used = vec![false; edges.len()];
    // Rings per component: (ring in grid units, signed doubled area).
    let mut rings: Vec<(u32, Vec<(i64, i64)>)> = Vec::new();
    for start in 0..edges.len() {
        if used[start] {
            continue;
        }
        let component = edges[start].component;
        // Walk the ring, keeping corner vertices; split at repeated vertices.
        let mut path: Vec<(i64, i64)> = Vec::new();
        let mut seen: CellMap<(i64, i64), usize> = CellMap::default();
        let mut e = start;
        loop {
            used[e] = true;
            let edge = edges[e];
            path.push(edge.from);
            if let Some(&at) = seen.get(&edge.from) {
                // The vertex repeats: the loop since its first visit is a ring of its own.
                if at + 1 < path.len() - 1 {
                    let ring: Vec<_> = path.drain(at..path.len() - 1).collect();
                    for v in &ring {
                        seen.remove(v);
                    }
                    rings.push((component, ring));
                }
                path.truncate(at);
                path.push(edge.from);
            }
            seen.insert(edge.from, path.len() - 1);
            let choices = out[&edge.to];
            let next = if choices[1] == u32::MAX {
                choices[0] as usize
            } else {
                // Two ways on: turn left, hugging the cell on our left.
                let d = direction(&edge);
                let left = (-d.1, d.0);
                let (a, b) = (choices[0] as usize, choices[1] as usize);
                if direction(&edges[a]) == left {
                    a
                } else {
                    b
                }
            };
            if used[next] {
                break;
            }
            e = next;
        }
        rings.push((component, path));
    }

    // Assemble: per component one exterior (positive area) and its holes.
    let to_ring = |pts: &[(i64, i64)]| -> LineString<f64> {
        let n = pts.len();
        let mut coords: Vec<Coord<f64>> = Vec::with_capacity(n + 1);
        for i in 0..n {
            let (p, c, q) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            let collinear = (c.0 - p.0) * (q.1 - c.1) == (c.1 - p.1) * (q.0 - c.0);
            if !collinear {
                coords.push(Coord {
                    x: c.0 as f64 * raster.cell_m,
                    y: c.1 as f64 * raster.cell_m,
                });
            }
        }
        if let Some(&first) = coords.first() {
            coords.push(first);
        }
        LineString::new(coords)
    };
    let area2 = |pts: &[(i64, i64)]| -> i64 {
        let n = pts.len();
        (0..n)
            .map(|i| {
                let (a, b) = (pts[i], pts[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum()
    };
    let mut shells: CellMap<u32, (LineString<f64>, Vec<LineString<f64>>)> = CellMap::default();
    let mut holes: Vec<(u32, LineString<f64>)> = Vec::new();
    for (c, pts) in &rings {
        if area2(pts) > 0 {
            shells.insert(*c, (to_ring(pts), Vec::new()));
        } else {
            holes.push((*c, to_ring(pts)));
        }
    }
    for (c, h) in holes {
        if let Some(s) = shells.get_mut(&c) {
            s.1.push(h);
        }
    }
    // Order by the component's first run.
    let mut order: Vec<u32> = Vec::new();
    let mut taken: CellSet<u32> = CellSet::default();
    for (r, runs) in raster.rows.iter().enumerate() {
        for k in 0..runs.len() {
            let c = label(r, k, &mut uf);
            if taken.insert(c) {
                order.push(c);
            }
        }
    }
    let polygons = order
        .into_iter()
        .filter_map(|c| shells.remove(&c))
        .map(|(shell, mut hs)| {
            hs.sort_by(|a, b| {
                let (p, q) = (a.0[0], b.0[0]);
                (p.y, p.x)
                    .partial_cmp(&(q.y, q.x))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            Polygon::new(shell, hs)
        })
        .collect();
    MultiPolygon::new(polygons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use geo::{Area, Contains, Validation};

    fn raster_from(mask: &[&str], cell_m: f64) -> RunRaster {
        // First string is the top row.
        let rows = mask
            .iter()
            .rev()
            .map(|s| {
                runs_of(
                    s.chars()
                        .enumerate()
                        .filter(|(_, c)| *c == '#')
                        .map(|(i, _)| i as i64),
                )
            })
            .collect();
        RunRaster {
            cell_m,
            row0: 0,
            rows,
        }
    }

    fn check(r: &RunRaster) -> MultiPolygon<f64> {
        let mp = polygonize(r);
        assert!(mp.is_valid(), "invalid: {:?}", mp.validation_errors());
        let cell_area = r.cell_m * r.cell_m;
        assert!((mp.unsigned_area() - r.cells() as f64 * cell_area).abs() < 1e-6);
        let width = r.rows.iter().flatten().map(|x| x.1).max().unwrap_or(0) + 2;
        for row in r.row0 - 1..r.row0 + r.rows.len() as i64 + 1 {
            for col in -1..width {
                let centre = Coord {
                    x: (col as f64 + 0.5) * r.cell_m,
                    y: (row as f64 + 0.5) * r.cell_m,
                };
                assert_eq!(mp.contains(&centre), r.covers(row, col), "cell {row},{col}");
            }
        }
        mp
    }

    #[test]
    fn ring_with_hole_and_diagonal_touches() {
        let mp = check(&raster_from(
            &[
                "#####.", "#...#.", "#.#.#.", "#...##", "#####.", "......", "#.#..#", ".#....",
            ],
            50.0,
        ));
        // The frame with its hole and the island, plus four separate cells (the bottom-left
        // three touch at corners only).
        assert_eq!(mp.0.len(), 2 + 4);
        assert_eq!(mp.0[1].interiors().len(), 0);
        let framed = mp.0.iter().find(|p| !p.interiors().is_empty()).unwrap();
        assert_eq!(framed.interiors().len(), 1);
        // Rectangles keep only their corners.
        assert_eq!(
            polygonize(&raster_from(&["###", "###"], 1.0)).0[0]
                .exterior()
                .0
                .len(),
            5
        );
    }

    #[test]
    fn hole_pinched_at_a_corner() {
        // The uncovered cells form two holes that touch at one corner.
        check(&raster_from(&["####", "#.##", "##.#", "####"], 10.0));
        // A hole touching the outside at one corner.
        check(&raster_from(&["###.", "##.#", "####"], 10.0));
    }

    #[test]
    fn random_masks_match_cell_by_cell() {
        let mut rng = SplitMix64::new(42);
        for trial in 0..300 {
            let (w, h) = (1 + rng.below(14) as usize, 1 + rng.below(14) as usize);
            let p = [0.2, 0.5, 0.8][trial % 3];
            let rows: Vec<Vec<(i64, i64)>> = (0..h)
                .map(|_| runs_of((0..w as i64).filter(|_| rng.chance(p)).collect::<Vec<_>>()))
                .collect();
            let r = RunRaster {
                cell_m: 25.0,
                row0: rng.below(5) as i64 - 2,
                rows,
            };
            check(&r);
        }
    }

    #[test]
    fn empty_raster() {
        assert!(polygonize(&RunRaster::default()).0.is_empty());
    }
}
