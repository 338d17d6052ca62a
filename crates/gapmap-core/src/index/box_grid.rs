//! Boxes bucketed on a uniform grid: "which boxes may contain this point" in one hash lookup.
//!
//! Every box is listed in each grid cell its closed rectangle meets; a point's candidates are
//! the boxes listed in its own cell, a superset of the boxes that contain it. Callers test each
//! candidate exactly (the two-phase query of an R-tree, with a cheaper first phase for point
//! queries: no tree descent, and queries in spatial order hit the same few cells).
//!
//! Cells are found by `floor((v - origin) * inv_cell)`, the same monotone expression for boxes
//! and points, so a point inside a closed box always lands in a cell the box is listed in, even
//! with rounding. Only non-empty cells are stored (in a hash map), so a national grid of 50 m
//! cells costs memory in proportion to the boxes, not to the country's area.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use geo::{Coord, Rect};
use rayon::prelude::*;

/// A fast hasher for grid cell keys: SipHash's resistance to crafted keys is not needed for
/// cell coordinates, and its cost showed in profiles. Each word is folded in by a 64×64→128-bit
/// multiply whose halves are XORed, so that high key bits (a packed row) reach the low hash
/// bits that pick a bucket.
#[derive(Default)]
pub(crate) struct CellHasher(u64);

impl Hasher for CellHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(u64::from(v));
    }
    fn write_u64(&mut self, v: u64) {
        let m = u128::from(self.0 ^ v) * 0x51_7c_c1_b7_27_22_0a_95u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A hash map keyed by grid cells (or any integers), with [`CellHasher`].
pub(crate) type CellMap<K, V> = HashMap<K, V, BuildHasherDefault<CellHasher>>;

/// A hash set of grid cells (or any integers), with [`CellHasher`].
pub(crate) type CellSet<K> = std::collections::HashSet<K, BuildHasherDefault<CellHasher>>;

/// At most this many cell entries per box on average (plus a constant): a cell size that
/// would list the boxes in more cells is doubled until it fits.
const MAX_ENTRIES_PER_BOX: usize = 16;

/// Grid columns and rows stay below this, so that a cell key packs into a `u64`.
const MAX_SIDE: f64 = (1u64 << 31) as f64;

/// Boxes on a uniform grid of square cells; box ids are their positions in the input.
#[derive(Debug, Clone, Default)]
pub struct BoxGrid {
    origin: Coord<f64>,
    inv_cell: f64,
    cell_m: f64,
    /// Cell key → range of `items`.
    cells: CellMap<u64, (u32, u32)>,
    items: Vec<u32>,
}

impl BoxGrid {
    /// Buckets `boxes` on cells of about `cell_m` metres (enlarged if the boxes would need more
    /// than [`MAX_ENTRIES_PER_BOX`] cell entries each on average). `None` and boxes with a
    /// non-finite corner are left out: no finite point lies in them.
    pub fn new(boxes: &[Option<Rect<f64>>], cell_m: f64) -> Self {
        let finite = |r: &&Rect<f64>| {
            r.min().x.is_finite()
                && r.min().y.is_finite()
                && r.max().x.is_finite()
                && r.max().y.is_finite()
        };
        let (lo, hi) = crate::par::finite_bounds(
            boxes
                .iter()
                .flatten()
                .filter(finite)
                .flat_map(|r| [r.min(), r.max()]),
        );
        if lo.x > hi.x {
            return BoxGrid::default();
        }
        let extent = (hi.x - lo.x).max(hi.y - lo.y);
        let mut cell = if cell_m.is_finite() && cell_m > 0.0 {
            cell_m
        } else {
            extent.max(1.0)
        };
        // Enough cells per side to fit in a key, and a bounded number of entries.
        cell = cell.max(extent / MAX_SIDE * 2.0).max(f64::MIN_POSITIVE);
        let budget = MAX_ENTRIES_PER_BOX * boxes.len() + 1024;
        let mut grid = loop {
            let g = BoxGrid {
                origin: lo,
                inv_cell: 1.0 / cell,
                cell_m: cell,
                cells: CellMap::default(),
                items: Vec::new(),
            };
            let entries: usize = boxes
                .par_iter()
                .flatten()
                .filter(finite)
                .map(|r| {
                    let (c0, r0) = g.col_row(r.min());
                    let (c1, r1) = g.col_row(r.max());
                    (c1 - c0 + 1) as usize * (r1 - r0 + 1) as usize
                })
                .sum();
            if entries <= budget || cell >= extent {
                break g;
            }
            cell *= 2.0;
        };
        // (cell key, box id), sorted by key and then id: each cell's boxes in input order.
        let mut entries: Vec<(u64, u32)> = boxes
            .par_iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i, r.as_ref().filter(finite)?)))
            .flat_map_iter(|(i, r)| {
                let (c0, r0) = grid.col_row(r.min());
                let (c1, r1) = grid.col_row(r.max());
                (r0..=r1).flat_map(move |row| (c0..=c1).map(move |col| (key(col, row), i as u32)))
            })
            .collect();
        entries.par_sort_unstable();
        let mut cells = CellMap::default();
        cells.reserve(entries.len() / 2);
        let mut start = 0;
        for i in 1..=entries.len() {
            if i == entries.len() || entries[i].0 != entries[start].0 {
                cells.insert(entries[start].0, (start as u32, i as u32));
                start = i;
            }
        }
        grid.items = entries.into_iter().map(|(_, id)| id).collect();
        grid.cells = cells;
        grid
    }

    /// The cell side in metres (at least the size asked for).
    pub fn cell_m(&self) -> f64 {
        self.cell_m
    }

    /// Column and row of the cell holding `p`, clamped to the key range.
    #[inline]
    fn col_row(&self, p: Coord<f64>) -> (i64, i64) {
        // Far outside the boxes' extent, or NaN: a cell no box is listed in (boxes are in
        // columns and rows `0..2^31`). The same as `v.floor().clamp(-1.0, MAX_SIDE)`, NaN to
        // -1, without a call to `floor`: truncation is the floor at or above 0.
        let cell = |v: f64| {
            if v >= 0.0 {
                if v < MAX_SIDE {
                    v as i64
                } else {
                    MAX_SIDE as i64
                }
            } else {
                -1
            }
        };
        (
            cell((p.x - self.origin.x) * self.inv_cell),
            cell((p.y - self.origin.y) * self.inv_cell),
        )
    }

    /// Ids of the boxes listed in `p`'s cell, ascending: every box that contains `p` (closed)
    /// is among them.
    #[inline]
    pub fn candidates(&self, p: Coord<f64>) -> &[u32] {
        let (c, r) = self.col_row(p);
        match self.cells.get(&key(c, r)) {
            Some(&(s, e)) => &self.items[s as usize..e as usize],
            None => &[],
        }
    }

    /// Number of (cell, box) entries stored.
    pub fn num_entries(&self) -> usize {
        self.items.len()
    }
}

/// One `u64` per cell; columns and rows are in `-1..=2^31` (see [`BoxGrid::col_row`]).
#[inline]
fn key(col: i64, row: i64) -> u64 {
    (((row + 1) as u64) << 32) | (col + 1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;
    use geo::coord;

    fn contains(r: &Rect<f64>, p: Coord<f64>) -> bool {
        p.x >= r.min().x && p.x <= r.max().x && p.y >= r.min().y && p.y <= r.max().y
    }

    /// Brute-force oracle: on seeded random boxes of mixed sizes and points (some exactly on box
    /// edges and corners), the candidates include every box that contains the point, are
    /// ascending and unique, and the grid stays within its entry budget.
    #[test]
    fn candidates_include_every_containing_box() {
        for seed in 0..40u64 {
            let mut rng = SplitMix64::new(seed);
            let n = 1 + (rng.next_u64() % 400) as usize;
            let boxes: Vec<Option<Rect<f64>>> = (0..n)
                .map(|_| {
                    let (x, y) = (rng.f64() * 10_000.0, rng.f64() * 10_000.0);
                    let s = if rng.below(10) == 0 { 3_000.0 } else { 80.0 };
                    let (w, h) = (rng.f64() * s, rng.f64() * s);
                    // Some parts are empty.
                    (rng.below(50) != 0)
                        .then(|| Rect::new(coord! {x: x, y: y}, coord! {x: x + w, y: y + h}))
                })
                .collect();
            let cell_m = [1.0, 25.0, 100.0, 5_000.0][(seed % 4) as usize];
            let grid = BoxGrid::new(&boxes, cell_m);
            assert!(grid.num_entries() <= MAX_ENTRIES_PER_BOX * n + 1024);
            assert!(grid.cell_m() >= cell_m);
            for k in 0..2_000 {
                let p = if k % 4 == 0 {
                    // A corner or edge point of some box.
                    let Some(b) = boxes[(rng.next_u64() % n as u64) as usize] else {
                        continue;
                    };
                    let t = rng.f64();
                    match k % 3 {
                        0 => b.min(),
                        1 => b.max(),
                        _ => coord! {x: b.min().x + t * b.width(), y: b.max().y},
                    }
                } else {
                    coord! {x: rng.f64() * 12_000.0 - 1_000.0, y: rng.f64() * 12_000.0 - 1_000.0}
                };
                let got = grid.candidates(p);
                assert!(got.windows(2).all(|w| w[0] < w[1]), "ascending, unique");
                for (i, b) in boxes.iter().enumerate() {
                    if b.is_some_and(|b| contains(&b, p)) {
                        assert!(
                            got.contains(&(i as u32)),
                            "seed {seed}: box {i} misses {p:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn empty_and_non_finite_inputs() {
        let g = BoxGrid::new(&[], 10.0);
        assert!(g.candidates(coord! {x: 0., y: 0.}).is_empty());
        let b = Rect::new(coord! {x: 0., y: 0.}, coord! {x: 10., y: 10.});
        let bad = Rect::new(coord! {x: f64::NAN, y: 0.}, coord! {x: 1., y: 1.});
        let g = BoxGrid::new(&[Some(bad), None, Some(b)], 4.0);
        assert_eq!(g.candidates(coord! {x: 5., y: 5.}), &[2]);
        assert!(g.candidates(coord! {x: f64::NAN, y: 5.}).is_empty());
        assert!(g.candidates(coord! {x: 1e300, y: -1e300}).is_empty());
    }
}
