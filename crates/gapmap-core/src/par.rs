//! The one place where rayon drives the per-premise kernels.
//!
//! Kernels are pure functions of one premise and shared read-only indexes. [`map_chunked`] runs
//! them over all premises in fixed-size chunks, in parallel within each chunk, and keeps input
//! order, so results are identical at any thread count. Progress is reported once per chunk.

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
