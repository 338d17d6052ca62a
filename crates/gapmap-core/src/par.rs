//! The one place where rayon drives the per-premise kernels.
//!
//! Kernels are pure functions of one premise and shared read-only indexes. [`map_chunked`] runs
//! them over all premises in fixed-size chunks, in parallel within each chunk, and keeps input
//! order, so results are identical at any thread count. Progress is reported once per chunk.

use geo::Coord;
use rayon::prelude::*;

/// Premises per chunk: large enough to amortise scheduling, small enough for smooth progress.
pub const CHUNK: usize = 1 << 15;

/// Receives progress from long-running kernels. Implementations must be cheap and thread-safe.
pub trait Progress: Sync {
    /// `n` more items are done.
    fn advance(&self, n: u64);
}

/// No progress reporting.
impl Progress for () {
    fn advance(&self, _n: u64) {}
}

/// Maps `f` over `items` in parallel, in order. `init` makes per-task scratch state.
pub fn map_chunked<T, R, S, I, F>(items: &[T], progress: &dyn Progress, init: I, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, &T) -> R + Sync + Send,
{
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(CHUNK) {
        out.par_extend(chunk.par_iter().with_min_len(256).map_init(&init, &f));
        progress.advance(chunk.len() as u64);
    }
    out
}

/// Maps `f` over `items` in parallel, largest first by `size`, and returns the results in
/// input order. For items of very unequal cost (a country's rural gap cluster beside
/// thousands of small ones): started last, a large item would run alone at the end while the
/// other threads idle.
pub fn map_largest_first<T, R, W, F>(items: &[T], size: W, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    W: Fn(&T) -> usize,
    F: Fn(&T) -> R + Sync + Send,
{
    let mut order: Vec<(usize, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, t)| (size(t), i as u32))
        .collect();
    // Largest first; ties in input order, so that the schedule is deterministic too.
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Short sequential runs: a run of large items must not stay with one thread.
    let results: Vec<(u32, R)> = order
        .par_iter()
        .with_max_len(8)
        .map(|&(_, i)| (i, f(&items[i as usize])))
        .collect();
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, r) in results {
        slots[i as usize] = Some(r);
    }
    slots.into_iter().flatten().collect()
}

/// The smallest and largest x and y of the finite points of `points` (`lo > hi` when there
/// are none).
pub(crate) fn finite_bounds(points: impl Iterator<Item = Coord<f64>>) -> (Coord<f64>, Coord<f64>) {
    let (mut lo, mut hi) = (
        Coord {
            x: f64::INFINITY,
            y: f64::INFINITY,
        },
        Coord {
            x: f64::NEG_INFINITY,
            y: f64::NEG_INFINITY,
        },
    );
    for p in points.filter(|p| p.x.is_finite() && p.y.is_finite()) {
        lo.x = lo.x.min(p.x);
        lo.y = lo.y.min(p.y);
        hi.x = hi.x.max(p.x);
        hi.y = hi.y.max(p.y);
    }
    (lo, hi)
}

/// A spatial order of points: their positions sorted along a Hilbert curve over their bounding
/// box. Processing premises in this order keeps the index nodes a query touches in cache for
/// the next query; results still come back in input order.
#[derive(Debug, Clone)]
pub struct SpatialOrder {
    /// Point indices in visiting order.
    order: Vec<u32>,
    /// Each point's position in `order` (the inverse permutation).
    rank: Vec<u32>,
}

/// Hilbert index of (x, y) on a 2^16 × 2^16 grid (the classic `xy2d`), below 2^32.
fn hilbert(mut x: u32, mut y: u32) -> u32 {
    let mut d: u32 = 0;
    let mut s: u32 = 1 << 15;
    while s > 0 {
        let rx = u32::from(x & s > 0);
        let ry = u32::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = 0xffff - x;
                y = 0xffff - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    d
}

/// The positions of `keys` in ascending key order, equal keys in position order: a stable
/// radix sort, 16 bits a pass (two passes over the positions, no comparisons).
fn order_by_key(keys: &[u32]) -> Vec<u32> {
    let n = keys.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut next = vec![0u32; n];
    for shift in [0u32, 16] {
        let digit = |i: u32| ((keys[i as usize] >> shift) & 0xffff) as usize;
        let mut start = vec![0u32; 1 << 16];
        for &i in &order {
            start[digit(i)] += 1;
        }
        let mut sum = 0u32;
        for c in start.iter_mut() {
            let count = *c;
            *c = sum;
            sum += count;
        }
        for &i in &order {
            let d = digit(i);
            next[start[d] as usize] = i;
            start[d] += 1;
        }
        std::mem::swap(&mut order, &mut next);
    }
    order
}

impl SpatialOrder {
    /// Results listed in this order (`sorted[k]` belongs to point `order[k]`), put back in
    /// input order.
    fn to_input_order<R: Copy + Send + Sync>(&self, sorted: &[R]) -> Vec<R> {
        self.rank
            .par_iter()
            .with_min_len(1 << 12)
            .map(|&k| sorted[k as usize])
            .collect()
    }

    /// The order with its inverse.
    fn from_order(order: Vec<u32>) -> SpatialOrder {
        let mut rank = vec![0u32; order.len()];
        for (k, &i) in order.iter().enumerate() {
            rank[i as usize] = k as u32;
        }
        SpatialOrder { order, rank }
    }

    /// The Hilbert order of `points` (non-finite points sort first).
    pub fn new(points: &[Coord<f64>]) -> SpatialOrder {
        let (lo, hi) = finite_bounds(points.iter().copied());
        let span = (hi.x - lo.x).max(hi.y - lo.y).max(f64::MIN_POSITIVE);
        let scale = 65535.0 / span;
        let keys: Vec<u32> = points
            .par_iter()
            .map(|p| {
                let gx = ((p.x - lo.x) * scale).clamp(0.0, 65535.0) as u32;
                let gy = ((p.y - lo.y) * scale).clamp(0.0, 65535.0) as u32;
                if p.x.is_finite() && p.y.is_finite() {
                    hilbert(gx, gy)
                } else {
                    0
                }
            })
            .collect();
        SpatialOrder::from_order(order_by_key(&keys))
    }

    /// Input order.
    pub fn identity(n: usize) -> SpatialOrder {
        SpatialOrder::from_order((0..n as u32).collect())
    }

    /// The number of points ordered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when there are no points.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// Like [`map_chunked`] over `points`, but visiting them in `order`; the results are in input
/// order, and, since each depends only on its point, equal to [`map_chunked`]'s.
pub fn map_points<R, S, I, F>(
    points: &[Coord<f64>],
    order: &SpatialOrder,
    progress: &dyn Progress,
    init: I,
    f: F,
) -> Vec<R>
where
    R: Send + Sync + Copy,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, Coord<f64>) -> R + Sync + Send,
{
    assert_eq!(points.len(), order.len(), "one order position per point");
    let sorted: Vec<R> = map_chunked(&order.order, progress, init, |s, &i| {
        f(s, points[i as usize])
    });
    order.to_input_order(&sorted)
}

/// Like [`map_points`], but `f` is called on runs of up to `batch` consecutive points in
/// `order` (neighbours along the Hilbert curve), and pushes one result per point of the run, in
/// the run's order. A kernel can then share work between nearby points (one index query for a
/// run). Results are in input order and do not depend on the thread count.
pub fn map_point_runs<R, S, I, F>(
    points: &[Coord<f64>],
    order: &SpatialOrder,
    progress: &dyn Progress,
    batch: usize,
    init: I,
    f: F,
) -> Vec<R>
where
    R: Send + Sync + Copy,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, &[Coord<f64>], &mut Vec<R>) + Sync + Send,
{
    assert_eq!(points.len(), order.len(), "one order position per point");
    map_index_runs(
        order,
        progress,
        batch,
        || (init(), Vec::with_capacity(batch)),
        |(s, pts): &mut (S, Vec<Coord<f64>>), run, out| {
            pts.clear();
            pts.extend(run.iter().map(|&i| points[i as usize]));
            f(s, pts, out);
        },
    )
}

/// Like [`map_point_runs`], but `f` gets the run's indices (into the points `order` orders),
/// for kernels that read more than a point per item.
pub fn map_index_runs<R, S, I, F>(
    order: &SpatialOrder,
    progress: &dyn Progress,
    batch: usize,
    init: I,
    f: F,
) -> Vec<R>
where
    R: Send + Sync + Copy,
    I: Fn() -> S + Sync + Send,
    F: Fn(&mut S, &[u32], &mut Vec<R>) + Sync + Send,
{
    let batch = batch.max(1);
    let mut sorted: Vec<R> = Vec::with_capacity(order.len());
    for chunk in order.order.chunks(CHUNK) {
        let runs: Vec<Vec<R>> = chunk
            .par_chunks(batch)
            .map_init(&init, |s, run| {
                let mut out = Vec::with_capacity(run.len());
                f(s, run, &mut out);
                assert_eq!(out.len(), run.len(), "one result per point of a run");
                out
            })
            .collect();
        sorted.extend(runs.into_iter().flatten());
        progress.advance(chunk.len() as u64);
    }
    order.to_input_order(&sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hilbert_steps_to_a_neighbour() {
        // Consecutive Hilbert indices are adjacent cells: check on a 64 × 64 sub-grid.
        let mut cells: Vec<(u32, u32, u32)> = (0..64u32)
            .flat_map(|x| (0..64u32).map(move |y| (hilbert(x, y), x, y)))
            .collect();
        cells.sort_unstable();
        for w in cells.windows(2) {
            let (dx, dy) = (w[0].1.abs_diff(w[1].1), w[0].2.abs_diff(w[1].2));
            assert_eq!(dx + dy, 1, "{w:?}");
        }
    }

    #[test]
    fn hilbert_visits_every_cell_of_a_small_grid_once() {
        let mut keys: Vec<u32> = (0..4u32)
            .flat_map(|x| (0..4u32).map(move |y| hilbert(x << 14, y << 14)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), 16);
    }

    #[test]
    fn order_by_key_is_a_stable_sort() {
        // Keys with many ties, in both 16-bit halves, and the extremes; against a sort of
        // (key, position) pairs.
        let mut rng = crate::rng::SplitMix64::new(9);
        for n in [0usize, 1, 2, 1000, 70_000] {
            let keys: Vec<u32> = (0..n)
                .map(|i| match i % 4 {
                    0 => rng.below(50) as u32,
                    1 => (rng.below(50) as u32) << 16,
                    2 => rng.next_u64() as u32,
                    _ => [0, u32::MAX, 0xffff, 0x1_0000][rng.below(4) as usize],
                })
                .collect();
            let mut pairs: Vec<(u32, u32)> = keys.iter().copied().zip(0..n as u32).collect();
            pairs.sort_unstable();
            let want: Vec<u32> = pairs.into_iter().map(|(_, i)| i).collect();
            assert_eq!(order_by_key(&keys), want, "{n} keys");
        }
        // The largest index on the grid fits the key.
        assert_eq!(hilbert(0xffff, 0), u32::MAX);
    }

    #[test]
    fn largest_first_returns_input_order() {
        let items: Vec<usize> = (0..5000).map(|i| (i * 7919) % 613).collect();
        let out = map_largest_first(&items, |&n| n, |&n| n * 3 + 1);
        assert_eq!(out, items.iter().map(|n| n * 3 + 1).collect::<Vec<_>>());
        assert!(map_largest_first(&[] as &[usize], |&n| n, |&n| n).is_empty());
    }

    #[test]
    fn map_points_returns_input_order() {
        let pts: Vec<Coord<f64>> = (0..10_000)
            .map(|i| Coord {
                x: ((i * 7919) % 1000) as f64,
                y: (i / 10) as f64,
            })
            .collect();
        let order = SpatialOrder::new(&pts);
        let got = map_points(&pts, &order, &(), || (), |_, p| p.x * 1000.0 + p.y);
        let want: Vec<f64> = pts.iter().map(|p| p.x * 1000.0 + p.y).collect();
        assert_eq!(got, want);
        let mut o = order.order.clone();
        o.sort_unstable();
        assert_eq!(o, (0..10_000).collect::<Vec<u32>>());
    }
}
