//! The worker pool: every parallel kernel, index build and writer runs on rayon's global pool.

use std::sync::OnceLock;

use crate::error::{check_threads, Error, Result};

/// Sizes rayon's global pool to `threads` (`None`: all cores). The pool is per process and is
/// sized by the first call: a later call keeps it (results do not depend on the thread count,
/// only the speed does). So does a pool that rayon already started on its own, with all
/// cores, for parallel work done before any analysis in this process (a Python session that
/// made a batch table first).
pub fn init_global(threads: Option<usize>) -> Result<()> {
    check_threads(threads)?;
    static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            match rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build_global()
            {
                Ok(()) => Ok(()),
                // rayon names no error kind; this is its only other failure than threads that
                // cannot be started.
                Err(e) if e.to_string().contains("already been initialized") => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
        .clone()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pool_rayon_started_on_its_own_is_kept() {
        // Parallel work before any analysis starts rayon's global pool.
        let n: u64 = rayon::iter::ParallelIterator::sum(
            rayon::iter::IntoParallelIterator::into_par_iter(0..1000u64),
        );
        assert_eq!(n, 499_500);
        assert!(super::init_global(None).is_ok());
        assert!(super::init_global(Some(1)).is_ok());
    }
}
