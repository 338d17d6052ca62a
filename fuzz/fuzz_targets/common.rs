//! What the file-reading targets share: the bytes written to a file with the extension the
//! reader dispatches on, in one temporary directory per process (in memory, `/dev/shm`, where
//! there is one: each exec writes a file, and a disk would spend more on it than the reader),
//! and one read context per process (its CRS objects made once, not per exec).

use std::path::PathBuf;

use gapmap_io::read::{read_premises, PremiseOptions};
use gapmap_io::{Crs, ReadContext};

thread_local! {
    static DIR: tempfile::TempDir = {
        let shm = std::path::Path::new("/dev/shm");
        match shm.is_dir() {
            true => tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir()),
            false => tempfile::tempdir(),
        }
        .expect("a temporary directory")
    };
    static CONTEXT: ReadContext = {
        let mut c =
            ReadContext::new(Crs::parse("EPSG:3006", "SWEREF 99 TM").expect("EPSG:3006"));
        c.assume_crs = Some(Crs::parse("EPSG:3006", "SWEREF 99 TM").expect("EPSG:3006"));
        c
    };
}

/// `data` written as `input.EXT`; its path.
pub fn file(ext: &str, data: &[u8]) -> PathBuf {
    DIR.with(|d| {
        let p = d.path().join(format!("input.{ext}"));
        std::fs::write(&p, data).expect("writable temporary directory");
        p
    })
}

/// Calls `f` with the read context: SWEREF 99 TM, with inputs that carry no CRS read as
/// SWEREF 99 TM too.
pub fn with_context<T>(f: impl FnOnce(&ReadContext) -> T) -> T {
    CONTEXT.with(f)
}

/// Replaces libFuzzer's panic hook (which aborts at once) with a silent one, so that a panic
/// gapmap catches on purpose (polars on a corrupt table, see `read::table::guarded`) is not a
/// crash; a panic nobody catches still aborts the run through `fuzz_target!`.
pub fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

/// Premises from `data` written as `input.EXT`: premises or an error, never a crash.
pub fn premises(ext: &str, data: &[u8]) {
    quiet_caught_panics();
    let path = file(ext, data);
    let opts = PremiseOptions::from_flags(&path, None, None, None, None, "x", "y");
    let _ = with_context(|ctx| read_premises(&opts, ctx));
}
