//! The worker pool: every parallel kernel, index build and writer runs on rayon's global pool.

use std::sync::OnceLock;

use crate::error::{check_threads, Error, Result};

/// Sizes rayon's global pool to `threads` (`None`: all cores). The pool is per process and is
/// sized by the first call: a later call keeps it (results do not depend on the thread count,
/// only the speed does).
pub fn init_global(threads: Option<usize>) -> Result<()> {
    check_threads(threads)?;
    static BUILT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads.unwrap_or(0))
                .build_global()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::Internal(format!("cannot start worker threads: {e}")))
}
