//! Exact point-in-area tests in O(1) expected time per point, for polygons of any size.
//!
//! [`PreparedArea`] indexes the rings of one polygonal area on a uniform grid sized to the number
//! of edges (about two edges per cell). To locate a point it counts the crossings of a path that
//! leaves the point along its grid row to the cell's right border and then goes straight up to
//! infinity along that border:
//!
//! * the horizontal leg only meets edges stored in the point's own cell;
//! * the vertical leg runs along a grid line whose edge crossings were computed and sorted once,
//!   so its crossing count is a binary search.
//!
//! Both legs use robust orientation predicates. Degenerate cases (a vertex exactly on the path, an
//! edge along it) are resolved by the symbolic perturbation "shift the whole path by
//! (δx, δy), 0 < δy ≪ δx ≪ 1", which never moves a point across the boundary because points on
//! the boundary are detected exactly first. The result is therefore exact: a point is `Boundary`
//! iff it lies on an edge, and otherwise `Inside` iff the even-odd rule says so, which for a
//! valid (multi)polygon is the point-set interior.
//!
//! Cost per query: the edges of one cell plus `O(log m)` for `m` crossings on one grid line. A
//! 100k-vertex coverage polygon costs about the same per point as a square.

use crate::num::{hi, lo};
use geo::kernels::{Kernel, RobustKernel};
use geo::{Coord, LineString, MultiPolygon, Orientation, Polygon, Rect};

/// Where a point lies relative to an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the interior.
    Inside,
    /// On an edge or vertex of a ring.
    Boundary,
    /// In the exterior.
    Outside,
}

impl Location {
    /// Inside or on the boundary: the area *covers* the point.
    #[inline]
    pub fn is_covered(self) -> bool {
        !matches!(self, Location::Outside)
    }
}

/// Above this many edges an area is gridded; below it a single cell is as fast.
const SMALL_AREA_EDGES: usize = 16;
/// Target number of edges per grid cell.
const EDGES_PER_CELL: usize = 2;
/// Upper bound on grid columns and rows.
const MAX_GRID_SIDE: usize = 4096;

/// A polygonal area (the rings of a polygon or multipolygon) prepared for exact point location.
///
/// Build it once with [`PreparedArea::from_polygon`] or [`PreparedArea::from_multi_polygon`];
/// [`PreparedArea::locate`] is then `&self` and can be called from many threads.
#[derive(Debug, Clone)]
pub struct PreparedArea {
    /// Ring vertices, rings concatenated. Edge `i` runs from `pts[i]` to `pts[i + 1]`; indices
    /// of ring-closing vertices are never used as edge ids.
    pts: Vec<Coord<f64>>,
    min: Coord<f64>,
    max: Coord<f64>,
    nx: usize,
    ny: usize,
    /// Column borders, `nx + 1` values, `xs[0] = min.x`, `xs[nx] = max.x`.
    xs: Vec<f64>,
    /// Row borders, `ny + 1` values.
    ys: Vec<f64>,
    inv_dx: f64,
    inv_dy: f64,
    /// CSR offsets into `cell_edges`, `nx * ny + 1` values; cell `(r, c)` is `r * nx + c`.
    cell_start: Vec<u32>,
    cell_edges: Vec<u32>,
    /// CSR offsets per column border line `k` (`x = xs[k]`), `nx + 2` values.
    line_start: Vec<u32>,
    /// Approximate crossing height of each edge with its line, sorted within each line.
    line_y: Vec<f64>,
    line_edge: Vec<u32>,
    /// Heights within this distance of a query are re-decided with exact predicates.
    y_tol: f64,
    n_edges: usize,
    /// Horizontal slack used when assigning edges to cells (cells are assigned conservatively).
    x_slack: f64,
}

impl PreparedArea {
    /// Prepares one polygon (exterior and holes).
    pub fn from_polygon(polygon: &Polygon<f64>) -> Self {
        Self::from_rings(std::iter::once(polygon.exterior()).chain(polygon.interiors()))
    }

    /// Prepares all rings of a multipolygon as one area.
    pub fn from_multi_polygon(mp: &MultiPolygon<f64>) -> Self {
        Self::from_rings(
            mp.0.iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())),
        )
    }

    /// Prepares an area from closed rings (the last vertex may or may not repeat the first).
    pub fn from_rings<'a>(rings: impl IntoIterator<Item = &'a LineString<f64>>) -> Self {
        let mut pts: Vec<Coord<f64>> = Vec::new();
        let mut edge_ids: Vec<u32> = Vec::new();
        for ring in rings {
            let coords = &ring.0;
            if coords.is_empty() {
                continue;
            }
            let start = pts.len();
            pts.extend_from_slice(coords);
            if coords.first() != coords.last() {
                pts.push(coords[0]);
            }
            for i in start..pts.len() - 1 {
                if pts[i] != pts[i + 1] {
                    edge_ids.push(i as u32);
                }
            }
        }
        Self::build(pts, edge_ids)
    }

    fn build(pts: Vec<Coord<f64>>, edge_ids: Vec<u32>) -> Self {
        let mut min = Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        };
        let mut max = Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        };
        for &e in &edge_ids {
            for p in [pts[e as usize], pts[e as usize + 1]] {
                min.x = lo(min.x, p.x);
                min.y = lo(min.y, p.y);
                max.x = hi(max.x, p.x);
                max.y = hi(max.y, p.y);
            }
        }
        if edge_ids.is_empty() {
            // An empty area covers nothing; give it an empty box that no point is in.
            min = Coord { x: 1.0, y: 1.0 };
            max = Coord { x: 0.0, y: 0.0 };
        }
        let w = (max.x - min.x).max(0.0);
        let h = (max.y - min.y).max(0.0);
        let n = edge_ids.len();
        let (nx, ny) = if n <= SMALL_AREA_EDGES || w <= 0.0 || h <= 0.0 {
            (1, 1)
        } else {
            let cells = (n / EDGES_PER_CELL).max(1) as f64;
            let nx = (cells * w / h)
                .sqrt()
                .round()
                .clamp(1.0, MAX_GRID_SIDE as f64) as usize;
            let ny = (cells / nx as f64).round().clamp(1.0, MAX_GRID_SIDE as f64) as usize;
            (nx, ny)
        };
        let borders = |lo: f64, hi: f64, k: usize| -> Vec<f64> {
            let mut v: Vec<f64> = (0..=k)
                .map(|i| lo + (hi - lo) * i as f64 / k as f64)
                .collect();
            v[0] = lo;
            v[k] = hi;
            v
        };
        let xs = borders(min.x, max.x, nx);
        let ys = borders(min.y, max.y, ny);
        let inv_dx = if w > 0.0 { nx as f64 / w } else { 0.0 };
        let inv_dy = if h > 0.0 { ny as f64 / h } else { 0.0 };
        let max_abs_y = min.y.abs().max(max.y.abs());
        let max_abs_x = min.x.abs().max(max.x.abs());
        let mut area = PreparedArea {
            pts,
            min,
            max,
            nx,
            ny,
            xs,
            ys,
            inv_dx,
            inv_dy,
            cell_start: Vec::new(),
            cell_edges: Vec::new(),
            line_start: Vec::new(),
            line_y: Vec::new(),
            line_edge: Vec::new(),
            y_tol: 1e-9 * (max_abs_y + h + 1.0),
            n_edges: n,
            x_slack: 1e-9 * (max_abs_x + w + 1.0),
        };
        area.fill_cells(&edge_ids);
        area.fill_lines(&edge_ids);
        area
    }

    #[inline]
    fn edge(&self, e: u32) -> (Coord<f64>, Coord<f64>) {
        (self.pts[e as usize], self.pts[e as usize + 1])
    }

    /// Column `c` with `xs[c] <= x <= xs[c + 1]`, for `x` in the box.
    #[inline]
    fn col(&self, x: f64) -> usize {
        locate_band(&self.xs, self.nx, x, (x - self.min.x) * self.inv_dx)
    }

    #[inline]
    fn row(&self, y: f64) -> usize {
        locate_band(&self.ys, self.ny, y, (y - self.min.y) * self.inv_dy)
    }

    /// Calls `f(cell)` for every cell whose closed rectangle the edge may intersect
    /// (a conservative superset). Edges that [`PreparedArea::sole_cell`] places, most of
    /// them, need not come here; for those it calls `f` once, with that cell.
    fn for_each_cell_of_edge(&self, a: Coord<f64>, b: Coord<f64>, mut f: impl FnMut(usize)) {
        let (ylo, yhi) = (lo(a.y, b.y), hi(a.y, b.y));
        let (exlo, exhi) = (lo(a.x, b.x), hi(a.x, b.x));
        // Rows whose closed band meets [ylo, yhi].
        let mut r0 = self.row(ylo);
        while r0 > 0 && self.ys[r0] >= ylo {
            r0 -= 1;
        }
        let mut r1 = self.row(yhi);
        while r1 + 1 < self.ny && self.ys[r1 + 1] <= yhi {
            r1 += 1;
        }
        for r in r0..=r1 {
            let (mut xlo, mut xhi) = if a.y == b.y || self.ny == 1 {
                (exlo, exhi)
            } else {
                let yl = hi(self.ys[r], ylo);
                let yh = lo(self.ys[r + 1], yhi);
                let t = (b.x - a.x) / (b.y - a.y);
                let x1 = a.x + (yl - a.y) * t;
                let x2 = a.x + (yh - a.y) * t;
                (lo(x1, x2), hi(x1, x2))
            };
            xlo = hi(xlo - self.x_slack, exlo);
            xhi = lo(xhi + self.x_slack, exhi);
            if xlo > xhi {
                continue;
            }
            let mut c0 = self.col(hi(xlo, self.min.x));
            while c0 > 0 && self.xs[c0] >= xlo {
                c0 -= 1;
            }
            let mut c1 = self.col(lo(xhi, self.max.x));
            while c1 + 1 < self.nx && self.xs[c1 + 1] <= xhi {
                c1 += 1;
            }
            for c in c0..=c1 {
                f(r * self.nx + c);
            }
        }
    }

    /// The one cell whose open rectangle holds the whole edge, if there is one (most edges):
    /// then that is the only closed cell it meets.
    #[inline]
    fn sole_cell(&self, a: Coord<f64>, b: Coord<f64>) -> Option<usize> {
        let (ylo, yhi) = (lo(a.y, b.y), hi(a.y, b.y));
        let (exlo, exhi) = (lo(a.x, b.x), hi(a.x, b.x));
        let (c, r) = (self.col(exlo), self.row(ylo));
        (self.xs[c] < exlo && exhi < self.xs[c + 1] && self.ys[r] < ylo && yhi < self.ys[r + 1])
            .then_some(r * self.nx + c)
    }

    fn fill_cells(&mut self, edge_ids: &[u32]) {
        // Counting sort of (cell, edge) entries. The first pass remembers each edge's sole cell,
        // so the second places those edges without locating them again.
        const MANY: u32 = u32::MAX;
        let ncells = self.nx * self.ny;
        let mut counts = vec![0u32; ncells + 1];
        let mut sole: Vec<u32> = Vec::with_capacity(edge_ids.len());
        for &e in edge_ids {
            let (a, b) = self.edge(e);
            match self.sole_cell(a, b) {
                Some(cell) => {
                    counts[cell + 1] += 1;
                    sole.push(cell as u32);
                }
                None => {
                    self.for_each_cell_of_edge(a, b, |cell| counts[cell + 1] += 1);
                    sole.push(MANY);
                }
            }
        }
        for i in 0..ncells {
            counts[i + 1] += counts[i];
        }
        let mut fill = counts.clone();
        let mut cell_edges = vec![0u32; counts[ncells] as usize];
        for (&e, &cell) in edge_ids.iter().zip(&sole) {
            if cell != MANY {
                let cell = cell as usize;
                cell_edges[fill[cell] as usize] = e;
                fill[cell] += 1;
            } else {
                let (a, b) = self.edge(e);
                self.for_each_cell_of_edge(a, b, |cell| {
                    cell_edges[fill[cell] as usize] = e;
                    fill[cell] += 1;
                });
            }
        }
        self.cell_start = counts;
        self.cell_edges = cell_edges;
    }

    /// The grid lines an edge crosses: `k` with `l.x <= xs[k] < r.x`, interior lines only (line
    /// `nx` is the box's right side, and no edge has x > max.x).
    fn crossed_lines(&self, a: Coord<f64>, b: Coord<f64>) -> std::ops::Range<usize> {
        if a.x == b.x {
            return 0..0;
        }
        let (lx, rx) = (lo(a.x, b.x), hi(a.x, b.x));
        let mut k = self.col(lx);
        while k > 0 && self.xs[k] >= lx {
            k -= 1;
        }
        while k <= self.nx && self.xs[k] < lx {
            k += 1;
        }
        let mut end = k;
        while end < self.nx && self.xs[end] < rx {
            end += 1;
        }
        k..end
    }

    fn fill_lines(&mut self, edge_ids: &[u32]) {
        // Bucket the crossings by line (counting sort), then sort each line by height.
        let mut line_start = vec![0u32; self.nx + 2];
        // Each edge's crossed lines, from the first pass, for the second.
        let mut ranges: Vec<(u32, u32)> = Vec::with_capacity(edge_ids.len());
        for &e in edge_ids {
            let (a, b) = self.edge(e);
            let lines = self.crossed_lines(a, b);
            for k in lines.clone() {
                line_start[k + 1] += 1;
            }
            ranges.push((lines.start as u32, lines.end as u32));
        }
        for k in 0..=self.nx {
            line_start[k + 1] += line_start[k];
        }
        let total = line_start[self.nx + 1] as usize;
        let mut fill = line_start.clone();
        let mut entries: Vec<(f64, u32)> = vec![(0.0, 0); total];
        for (&e, &(k0, k1)) in edge_ids.iter().zip(&ranges) {
            if k0 == k1 {
                continue;
            }
            let (a, b) = self.edge(e);
            let (l, r) = if a.x < b.x { (a, b) } else { (b, a) };
            let slope = (r.y - l.y) / (r.x - l.x);
            for k in k0 as usize..k1 as usize {
                let x = self.xs[k];
                entries[fill[k] as usize] = (l.y + (x - l.x) * slope, e);
                fill[k] += 1;
            }
        }
        for k in 0..=self.nx {
            entries[line_start[k] as usize..line_start[k + 1] as usize]
                .sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        self.line_y = entries.iter().map(|e| e.0).collect();
        self.line_edge = entries.iter().map(|e| e.1).collect();
        self.line_start = line_start;
    }

    /// The bounding box of the area's boundary, or `None` for an empty area.
    pub fn bounding_rect(&self) -> Option<Rect<f64>> {
        (self.min.x <= self.max.x).then(|| Rect::new(self.min, self.max))
    }

    /// The number of ring edges indexed.
    pub fn num_edges(&self) -> usize {
        self.n_edges
    }

    /// True when the area covers `p` (inside or on the boundary).
    #[inline]
    pub fn covers(&self, p: Coord<f64>) -> bool {
        self.locate(p).is_covered()
    }

    /// Exact location of `p`. Non-finite coordinates are `Outside`.
    pub fn locate(&self, p: Coord<f64>) -> Location {
        if !(p.x >= self.min.x && p.x <= self.max.x && p.y >= self.min.y && p.y <= self.max.y) {
            return Location::Outside;
        }
        let c = self.col(p.x);
        let r = self.row(p.y);
        let x_right = self.xs[c + 1];
        let q = Coord { x: x_right, y: p.y };
        let cell = r * self.nx + c;
        let mut inside = false;

        // Horizontal leg: from p to q, shifted up by δy. Edge crosses the line y = p.y + δy iff
        // exactly one endpoint has y > p.y.
        for &e in
            &self.cell_edges[self.cell_start[cell] as usize..self.cell_start[cell + 1] as usize]
        {
            let (a, b) = self.edge(e);
            let o = RobustKernel::orient2d(a, b, p);
            if o == Orientation::Collinear && in_closed_box(p, a, b) {
                return Location::Boundary;
            }
            if (a.y > p.y) != (b.y > p.y) {
                // Orient the edge upward: lo below (or at) p.y, hi above.
                let (lo, hi, o_up) = if b.y > p.y {
                    (a, b, o)
                } else {
                    (b, a, reverse(o))
                };
                // Crossing strictly right of p iff p is left of the upward edge; collinear would
                // be a boundary point, handled above. Crossing at or left of q iff q is not
                // strictly left of it (at q exactly: counted, since δy ≪ δx).
                if o_up == Orientation::CounterClockwise
                    && RobustKernel::orient2d(lo, hi, q) != Orientation::CounterClockwise
                {
                    inside = !inside;
                }
            }
        }

        // Vertical leg: from q straight up along x = x_right + δx.
        let k = c + 1;
        let (s, t) = (self.line_start[k] as usize, self.line_start[k + 1] as usize);
        if s < t {
            let ys = &self.line_y[s..t];
            let lo_i = ys.partition_point(|&y| y < p.y - self.y_tol);
            let hi_i = ys.partition_point(|&y| y <= p.y + self.y_tol);
            let mut above = ys.len() - hi_i;
            for &e in &self.line_edge[s + lo_i..s + hi_i] {
                let (a, b) = self.edge(e);
                let (l, rr) = if a.x < b.x { (a, b) } else { (b, a) };
                match RobustKernel::orient2d(l, rr, q) {
                    // q below the rightward edge: the crossing is above.
                    Orientation::Clockwise => above += 1,
                    // Crossing exactly at q: above the shifted start iff the edge rises.
                    Orientation::Collinear if rr.y > l.y => above += 1,
                    _ => {}
                }
            }
            if above % 2 == 1 {
                inside = !inside;
            }
        }
        if inside {
            Location::Inside
        } else {
            Location::Outside
        }
    }
}

/// Finds band `i` in `0..n` with `borders[i] <= v <= borders[i + 1]`, starting from a guess.
#[inline]
fn locate_band(borders: &[f64], n: usize, v: f64, guess: f64) -> usize {
    let mut i = if guess.is_finite() && guess > 0.0 {
        (guess as usize).min(n - 1)
    } else {
        0
    };
    while i > 0 && v < borders[i] {
        i -= 1;
    }
    while i + 1 < n && v > borders[i + 1] {
        i += 1;
    }
    i
}

#[inline]
fn in_closed_box(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> bool {
    p.x >= lo(a.x, b.x) && p.x <= hi(a.x, b.x) && p.y >= lo(a.y, b.y) && p.y <= hi(a.y, b.y)
}

#[inline]
fn reverse(o: Orientation) -> Orientation {
    match o {
        Orientation::Clockwise => Orientation::CounterClockwise,
        Orientation::CounterClockwise => Orientation::Clockwise,
        Orientation::Collinear => Orientation::Collinear,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{coord, polygon, CoordinatePosition};

    fn square_with_hole() -> Polygon<f64> {
        polygon!(
            exterior: [(x: 0., y: 0.), (x: 10., y: 0.), (x: 10., y: 10.), (x: 0., y: 10.)],
            interiors: [[(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.)]],
        )
    }

    #[test]
    fn square_with_hole_locations() {
        let a = PreparedArea::from_polygon(&square_with_hole());
        assert_eq!(a.locate(coord! {x: 1., y: 1.}), Location::Inside);
        assert_eq!(a.locate(coord! {x: 5., y: 5.}), Location::Outside);
        assert_eq!(a.locate(coord! {x: 4., y: 5.}), Location::Boundary);
        assert_eq!(a.locate(coord! {x: 0., y: 0.}), Location::Boundary);
        assert_eq!(a.locate(coord! {x: 10., y: 3.}), Location::Boundary);
        assert_eq!(a.locate(coord! {x: 10.5, y: 3.}), Location::Outside);
        assert_eq!(a.locate(coord! {x: -1e-12, y: 3.}), Location::Outside);
        assert_eq!(a.locate(coord! {x: f64::NAN, y: 3.}), Location::Outside);
    }

    /// A star with many vertices, so the grid has many cells; checked against geo's exact
    /// (unindexed) algorithm on a lattice that hits vertices, edges and grid lines exactly.
    #[test]
    fn gridded_star_matches_geo() {
        let n = 400;
        let mut ring = Vec::new();
        for i in 0..n {
            let ang = i as f64 / n as f64 * std::f64::consts::TAU;
            let rad = if i % 2 == 0 {
                100.0
            } else {
                40.0 + (i % 7) as f64 * 5.0
            };
            // Round to a 0.5 lattice so that many query points fall on vertices.
            let x = (rad * ang.cos() * 2.0).round() / 2.0;
            let y = (rad * ang.sin() * 2.0).round() / 2.0;
            ring.push(coord! {x: x, y: y});
        }
        let poly = Polygon::new(LineString::from(ring), vec![]);
        let a = PreparedArea::from_polygon(&poly);
        assert!(a.nx > 1 && a.ny > 1, "expected a real grid");
        let mut checked = 0;
        for i in -210..=210 {
            for j in -210..=210 {
                let p = coord! {x: i as f64 * 0.5, y: j as f64 * 0.5};
                let want = match poly.coordinate_position(&p) {
                    geo::coordinate_position::CoordPos::Inside => Location::Inside,
                    geo::coordinate_position::CoordPos::OnBoundary => Location::Boundary,
                    geo::coordinate_position::CoordPos::Outside => Location::Outside,
                };
                assert_eq!(a.locate(p), want, "at {p:?}");
                checked += 1;
            }
        }
        assert_eq!(checked, 421 * 421);
    }

    #[test]
    fn empty_area_covers_nothing() {
        let a = PreparedArea::from_multi_polygon(&MultiPolygon::new(vec![]));
        assert_eq!(a.locate(coord! {x: 0., y: 0.}), Location::Outside);
        assert!(a.bounding_rect().is_none());
    }
}
